/**
 * The logs:import request body, in one place: its envelope around the entries, writing it from
 * prepared entry bytes, and reading it back (validate, count, split in two). REST reference:
 * projects.locations.instances.logTypes.logs/import —
 * `{"inlineSource":{"logs":[LogEntry, ...],"forwarder":"projects/…/forwarders/…"}}`.
 */
import { ValidationError } from '../core/errors.js';

/** The request body around the entries: prefix + entries.join(',') + suffix. */
export interface RequestEnvelope {
  readonly prefix: string;
  readonly suffix: string;
  readonly overheadBytes: number;
}

/** One entry's JSON text in three parts, so a body can be written without joining them first. */
export interface EntryParts {
  /** Text before the data (ASCII). */
  readonly head: string;
  /** The base64 data (ASCII). */
  readonly data: string;
  /** The text after the data: times, namespace, labels (UTF-8). */
  readonly tail: string;
  /** UTF-8 byte length of head + data + tail. */
  readonly bytes: number;
}

/** The logs:import envelope, with the forwarder's full resource name when one is configured. */
export function logsImportEnvelope(forwarder: string | undefined): RequestEnvelope {
  const prefix = '{"inlineSource":{"logs":[';
  const suffix = forwarder === undefined ? ']}}' : `],"forwarder":${JSON.stringify(forwarder)}}}`;
  return { prefix, suffix, overheadBytes: Buffer.byteLength(prefix) + Buffer.byteLength(suffix) };
}

/**
 * The entities:import envelope (REST reference: projects.locations.instances.entities/import):
 * `{"inlineSource":{"entities":[Entity, ...],"logType":"<log type>"}}`.
 */
export function entitiesImportEnvelope(logType: string): RequestEnvelope {
  if (logType === '') throw new RangeError('logType must not be empty');
  const prefix = '{"inlineSource":{"entities":[';
  const suffix = `],"logType":${JSON.stringify(logType)}}}`;
  return { prefix, suffix, overheadBytes: Buffer.byteLength(prefix) + Buffer.byteLength(suffix) };
}

/** Exact UTF-8 size of the body these entries make: the envelope, each entry, the commas. */
export function bodyBytes(entries: readonly EntryParts[], envelope: RequestEnvelope): number {
  let bytes = envelope.overheadBytes + Math.max(0, entries.length - 1);
  for (const entry of entries) bytes += entry.bytes;
  return bytes;
}

/**
 * Writes prefix + entries joined by ',' + suffix into one Buffer of the exact size: no 3.9 MB
 * intermediate string. Every entry's size is exact, so the bytes written must equal `bytes`; if
 * they do not, that is a bug in the sizing, and sending the body could break the size limit.
 */
export function writeBody(entries: readonly EntryParts[], envelope: RequestEnvelope, bytes: number): Buffer {
  const out = Buffer.allocUnsafe(bytes);
  let offset = out.write(envelope.prefix, 0, 'utf8');
  for (let i = 0; i < entries.length; i++) {
    const entry = entries[i] as EntryParts;
    if (i > 0) offset += out.write(',', offset, 'latin1');
    offset += out.write(entry.head, offset, 'latin1');
    offset += out.write(entry.data, offset, 'latin1');
    offset += out.write(entry.tail, offset, 'utf8');
  }
  offset += out.write(envelope.suffix, offset, 'utf8');
  if (offset !== bytes) throw new Error(`request body sizing bug: computed ${bytes} bytes, wrote ${offset}`);
  return out;
}

/** A logs:import body read back: its entries and the rest of `inlineSource` (the forwarder). */
export interface ImportBody {
  readonly logs: readonly Record<string, unknown>[];
  readonly inlineSource: Readonly<Record<string, unknown>>;
}

/**
 * Reads and checks a logs:import body; throws ValidationError saying what is wrong: not JSON, no
 * or an empty `inlineSource.logs`, an entry without base64 `data` or without `logEntryTime`.
 */
export function parseImportBody(text: string): ImportBody {
  if (text.trim() === '') throw new ValidationError('message data is empty');
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw new ValidationError('message data is not JSON');
  }
  const inlineSource = (parsed as { inlineSource?: unknown } | null)?.inlineSource;
  const logs = (inlineSource as { logs?: unknown } | null | undefined)?.logs;
  if (!Array.isArray(logs)) throw new ValidationError('message data has no inlineSource.logs array');
  if (logs.length === 0) throw new ValidationError('message data has an empty inlineSource.logs array');
  logs.forEach((entry, i) => {
    const e = entry as { data?: unknown; logEntryTime?: unknown } | null;
    if (typeof e?.data !== 'string' || e.data === '')
      throw new ValidationError(`inlineSource.logs[${i}].data is not a base64 string`);
    if (typeof e.logEntryTime !== 'string')
      throw new ValidationError(`inlineSource.logs[${i}].logEntryTime is missing`);
  });
  return { logs: logs as Record<string, unknown>[], inlineSource: inlineSource as Record<string, unknown> };
}

/** Entries in a body, or undefined when it is not a readable logs:import body. */
export function entryCount(text: string): number | undefined {
  try {
    return parseImportBody(text).logs.length;
  } catch {
    return undefined;
  }
}

/** Splits a body's entries into two bodies (too large), keeping the forwarder; undefined for one entry. */
export function splitBody(text: string): [string, string] | undefined {
  const { logs, inlineSource } = parseImportBody(text);
  if (logs.length < 2) return undefined;
  const half = Math.ceil(logs.length / 2);
  const make = (part: readonly unknown[]) =>
    JSON.stringify({ inlineSource: { ...inlineSource, logs: part } });
  return [make(logs.slice(0, half)), make(logs.slice(half))];
}
