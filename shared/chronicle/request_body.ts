/**
 * The two import request bodies, in one place: their envelopes around the items, writing a body
 * from prepared items, and reading one back (validate, count, split in two).
 * - logs:import (REST reference: projects.locations.instances.logTypes.logs/import):
 *   `{"inlineSource":{"logs":[LogEntry, ...],"forwarder":"projects/…/forwarders/…"}}`;
 * - entities:import (projects.locations.instances.entities/import):
 *   `{"inlineSource":{"entities":[Entity, ...],"logType":"<log type>"}}`.
 */
import { ValidationError } from '../core/errors.js';

/**
 * Which import a body is for: `logs` (logs:import) or `entities` (entities:import); also the name
 * of the `inlineSource` member that holds its items.
 */
export type BodyKind = 'logs' | 'entities';
export const BODY_KINDS: readonly BodyKind[] = ['logs', 'entities'];

/** The request body around the items: prefix + items.join(',') + suffix. */
export interface RequestEnvelope {
  /** The import the body is for. */
  readonly kind: BodyKind;
  readonly prefix: string;
  readonly suffix: string;
  readonly overheadBytes: number;
}

/** One log entry's JSON text in three parts, so a body can be written without joining them first. */
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

/** One item already serialised to its exact bytes (an entity's compact JSON). */
export interface JsonBytes {
  /** The item's JSON, as it goes into the body. */
  readonly json: Buffer;
  /** json.length. */
  readonly bytes: number;
}

/** What a body is written from: log entries in parts, or items as bytes. */
export type BodyItem = EntryParts | JsonBytes;

/** The logs:import envelope, with the forwarder's full resource name when one is configured. */
export function logsImportEnvelope(forwarder: string | undefined): RequestEnvelope {
  const prefix = '{"inlineSource":{"logs":[';
  const suffix = forwarder === undefined ? ']}}' : `],"forwarder":${JSON.stringify(forwarder)}}}`;
  return {
    kind: 'logs',
    prefix,
    suffix,
    overheadBytes: Buffer.byteLength(prefix) + Buffer.byteLength(suffix),
  };
}

/**
 * The entities:import envelope (REST reference: projects.locations.instances.entities/import):
 * `{"inlineSource":{"entities":[Entity, ...],"logType":"<log type>"}}`.
 */
export function entitiesImportEnvelope(logType: string): RequestEnvelope {
  if (logType === '') throw new RangeError('logType must not be empty');
  const prefix = '{"inlineSource":{"entities":[';
  const suffix = `],"logType":${JSON.stringify(logType)}}}`;
  return {
    kind: 'entities',
    prefix,
    suffix,
    overheadBytes: Buffer.byteLength(prefix) + Buffer.byteLength(suffix),
  };
}

/** Exact UTF-8 size of the body these items make: the envelope, each item, the commas. */
export function bodyBytes(items: readonly BodyItem[], envelope: RequestEnvelope): number {
  let bytes = envelope.overheadBytes + Math.max(0, items.length - 1);
  for (const item of items) bytes += item.bytes;
  return bytes;
}

/**
 * Writes prefix + items joined by ',' + suffix into one Buffer of the exact size: no 3.9 MB
 * intermediate string. Every item's size is exact, so the bytes written must equal `bytes`; if
 * they do not, that is a bug in the sizing, and sending the body could break the size limit.
 */
export function writeBody(items: readonly BodyItem[], envelope: RequestEnvelope, bytes: number): Buffer {
  const out = Buffer.allocUnsafe(bytes);
  let offset = out.write(envelope.prefix, 0, 'utf8');
  for (let i = 0; i < items.length; i++) {
    const item = items[i] as BodyItem;
    if (i > 0) offset += out.write(',', offset, 'latin1');
    if ('head' in item) {
      offset += out.write(item.head, offset, 'latin1');
      offset += out.write(item.data, offset, 'latin1');
      offset += out.write(item.tail, offset, 'utf8');
    } else {
      offset += item.json.copy(out, offset);
    }
  }
  offset += out.write(envelope.suffix, offset, 'utf8');
  if (offset !== bytes) throw new Error(`request body sizing bug: computed ${bytes} bytes, wrote ${offset}`);
  return out;
}

/** An import body read back: its kind, its items and the rest of `inlineSource` (forwarder, logType). */
export interface ImportBody {
  readonly kind: BodyKind;
  readonly items: readonly Record<string, unknown>[];
  readonly inlineSource: Readonly<Record<string, unknown>>;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

/**
 * Reads and checks an import body; throws ValidationError saying what is wrong: not JSON, neither
 * or both of `inlineSource.logs` and `inlineSource.entities`, an empty list, a log entry without
 * base64 `data` or `logEntryTime`, an entity that is not an object with `metadata`, an entities
 * body without `logType`. `expected`, when given, is the kind the body must be.
 */
export function parseImportBody(text: string, expected?: BodyKind): ImportBody {
  if (text.trim() === '') throw new ValidationError('message data is empty');
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw new ValidationError('message data is not JSON');
  }
  const inlineSource = (parsed as { inlineSource?: unknown } | null)?.inlineSource;
  if (!isObject(inlineSource)) throw new ValidationError('message data has no inlineSource object');
  const present = BODY_KINDS.filter((k) => inlineSource[k] !== undefined);
  if (present.length !== 1) {
    throw new ValidationError(
      present.length === 0
        ? 'message data has neither an inlineSource.logs nor an inlineSource.entities array'
        : 'message data has both inlineSource.logs and inlineSource.entities',
    );
  }
  const kind = present[0] as BodyKind;
  if (expected !== undefined && kind !== expected) {
    const a = (k: BodyKind) => (k === 'entities' ? 'an entities' : 'a logs');
    throw new ValidationError(
      `message data is ${a(kind)} body (inlineSource.${kind}), not ${a(expected)} body`,
    );
  }
  const items = inlineSource[kind];
  if (!Array.isArray(items)) throw new ValidationError(`message data has no inlineSource.${kind} array`);
  if (items.length === 0) throw new ValidationError(`message data has an empty inlineSource.${kind} array`);
  if (kind === 'logs') {
    items.forEach((entry, i) => {
      const e = entry as { data?: unknown; logEntryTime?: unknown } | null;
      if (typeof e?.data !== 'string' || e.data === '')
        throw new ValidationError(`inlineSource.logs[${i}].data is not a base64 string`);
      if (typeof e.logEntryTime !== 'string')
        throw new ValidationError(`inlineSource.logs[${i}].logEntryTime is missing`);
    });
  } else {
    items.forEach((entity, i) => {
      if (!isObject(entity) || !isObject(entity.metadata))
        throw new ValidationError(`inlineSource.entities[${i}] is not an entity with metadata`);
    });
    if (typeof inlineSource.logType !== 'string' || inlineSource.logType === '')
      throw new ValidationError('inlineSource.logType is missing');
  }
  return { kind, items: items as Record<string, unknown>[], inlineSource };
}

/** Items in a body (log entries or entities), or undefined when it is not a readable import body. */
export function entryCount(text: string): number | undefined {
  try {
    return parseImportBody(text).items.length;
  } catch {
    return undefined;
  }
}

/**
 * Splits a body's items into two bodies of the same kind (too large), keeping the rest of
 * inlineSource (forwarder, logType); undefined for a single item. `expected`: as parseImportBody.
 */
export function splitBody(text: string, expected?: BodyKind): [string, string] | undefined {
  const { kind, items, inlineSource } = parseImportBody(text, expected);
  if (items.length < 2) return undefined;
  const half = Math.ceil(items.length / 2);
  const make = (part: readonly unknown[]) =>
    JSON.stringify({ inlineSource: { ...inlineSource, [kind]: part } });
  return [make(items.slice(0, half)), make(items.slice(half))];
}
