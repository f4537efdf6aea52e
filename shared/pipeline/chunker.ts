/**
 * Streaming chunker: prepared entries in, logs:import request bodies out. Each chunk's size is the
 * exact UTF-8 byte length of the body that will be sent, and never exceeds the limit.
 */
import { bodyBytes, type RequestEnvelope, writeBody } from '../chronicle/request_body.js';
import type { PreparedEntry } from './log_entries.js';

export interface Chunk {
  /** 1-based position in this run. */
  readonly seq: number;
  /** The exact request body, as the UTF-8 bytes sent (built once, straight from the entries). */
  readonly payload: Buffer;
  /** The exact request body as text (decoded from `payload` on first use). */
  readonly body: string;
  readonly bytes: number;
  readonly ids: readonly string[];
  /** notification_date of each entry, same order as ids (undefined: none usable, see PreparedEntry). */
  readonly dates: readonly (number | undefined)[];
  /** The newest of `dates`; undefined when no entry has one. */
  readonly newestDate: number | undefined;
}

export function assembleChunk(
  seq: number,
  entries: readonly PreparedEntry[],
  envelope: RequestEnvelope,
): Chunk {
  let newest: number | undefined;
  for (const e of entries)
    if (e.date !== undefined && (newest === undefined || e.date > newest)) newest = e.date;
  // Exact UTF-8 size without a pass over the body: each entry's bytes are exact, plus the commas.
  const payload = writeBody(entries, envelope, bodyBytes(entries, envelope));
  let text: string | undefined;
  return {
    seq,
    payload,
    get body() {
      text ??= payload.toString('utf8');
      return text;
    },
    bytes: payload.length,
    ids: entries.map((e) => e.id),
    dates: entries.map((e) => e.date),
    newestDate: newest,
  };
}

/** Groups entries greedily, in order, into chunks of at most `maxBytes`. */
export async function* chunkEntries(
  entries: AsyncIterable<PreparedEntry> | Iterable<PreparedEntry>,
  envelope: RequestEnvelope,
  maxBytes: number,
): AsyncGenerator<Chunk> {
  let pending: PreparedEntry[] = [];
  let size = envelope.overheadBytes;
  let seq = 0;
  for await (const entry of entries) {
    const added = entry.bytes + (pending.length > 0 ? 1 : 0);
    if (pending.length > 0 && size + added > maxBytes) {
      seq += 1;
      yield assembleChunk(seq, pending, envelope);
      pending = [];
      size = envelope.overheadBytes;
    }
    if (envelope.overheadBytes + entry.bytes > maxBytes) {
      throw new RangeError(
        `entry ${entry.id} (${entry.bytes} bytes) cannot fit in a ${maxBytes}-byte request`,
      );
    }
    size += entry.bytes + (pending.length > 0 ? 1 : 0);
    pending.push(entry);
  }
  if (pending.length > 0) {
    seq += 1;
    yield assembleChunk(seq, pending, envelope);
  }
}
