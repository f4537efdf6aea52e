/**
 * Streaming chunker: prepared items in (log entries or entities, each with its exact size), import
 * request bodies out. Each chunk's size is the exact UTF-8 byte length of the body that will be
 * sent, and never exceeds the limit. A chunk holds one kind of item: its envelope says which
 * (logs:import or entities:import).
 */
import {
  type BodyItem,
  type BodyKind,
  bodyBytes,
  type RequestEnvelope,
  writeBody,
} from '../chronicle/request_body.js';

/** The import a chunk is for. */
export type ChunkKind = BodyKind;

/** An item a chunk can hold: a prepared log entry or entity, with its notification. */
export type ChunkItem = BodyItem & {
  /** notification_id. */
  readonly id: string;
  /** notification_date, unix seconds; undefined when it has none usable (it never moves the mark). */
  readonly date: number | undefined;
};

export interface Chunk {
  /** logs (a logs:import body) or entities (an entities:import body). */
  readonly kind: ChunkKind;
  /** 1-based position in this run (one sequence across both kinds). */
  readonly seq: number;
  /** The exact request body, as the UTF-8 bytes sent (built once, straight from the items). */
  readonly payload: Buffer;
  /** The exact request body as text (decoded from `payload` on first use). */
  readonly body: string;
  readonly bytes: number;
  /** The notification of each item. */
  readonly ids: readonly string[];
  /** notification_date of each item, same order as ids (undefined: none usable, see PreparedEntry). */
  readonly dates: readonly (number | undefined)[];
  /** The newest of `dates`; undefined when no item has one. */
  readonly newestDate: number | undefined;
}

export function assembleChunk(seq: number, items: readonly ChunkItem[], envelope: RequestEnvelope): Chunk {
  let newest: number | undefined;
  for (const e of items)
    if (e.date !== undefined && (newest === undefined || e.date > newest)) newest = e.date;
  // Exact UTF-8 size without a pass over the body: each item's bytes are exact, plus the commas.
  const payload = writeBody(items, envelope, bodyBytes(items, envelope));
  let text: string | undefined;
  return {
    kind: envelope.kind,
    seq,
    payload,
    get body() {
      text ??= payload.toString('utf8');
      return text;
    },
    bytes: payload.length,
    ids: items.map((e) => e.id),
    dates: items.map((e) => e.date),
    newestDate: newest,
  };
}

/**
 * Groups items of one kind greedily, in order, into chunks of at most `maxBytes`. `nextSeq` numbers
 * the chunks (shared when several assemblers feed one run).
 */
export class ChunkAssembler<T extends ChunkItem = ChunkItem> {
  #pending: T[] = [];
  #size: number;

  constructor(
    readonly envelope: RequestEnvelope,
    readonly maxBytes: number,
    private readonly nextSeq: () => number,
  ) {
    this.#size = envelope.overheadBytes;
  }

  /** Items waiting for the next chunk. */
  get pending(): number {
    return this.#pending.length;
  }

  /**
   * Adds an item; returns the chunk that had to be closed to make room for it, if any. Throws a
   * RangeError when the item cannot fit in a request on its own.
   */
  add(item: T): Chunk | undefined {
    const { envelope, maxBytes } = this;
    if (envelope.overheadBytes + item.bytes > maxBytes) {
      throw new RangeError(`entry ${item.id} (${item.bytes} bytes) cannot fit in a ${maxBytes}-byte request`);
    }
    let closed: Chunk | undefined;
    if (this.#pending.length > 0 && this.#size + 1 + item.bytes > maxBytes) closed = this.flush();
    this.#size += item.bytes + (this.#pending.length > 0 ? 1 : 0);
    this.#pending.push(item);
    return closed;
  }

  /** The chunk of the items waiting, if any. */
  flush(): Chunk | undefined {
    if (this.#pending.length === 0) return undefined;
    const chunk = assembleChunk(this.nextSeq(), this.#pending, this.envelope);
    this.#pending = [];
    this.#size = this.envelope.overheadBytes;
    return chunk;
  }
}

/** Groups items greedily, in order, into chunks of at most `maxBytes`, numbered from 1. */
export async function* chunkEntries(
  entries: AsyncIterable<ChunkItem> | Iterable<ChunkItem>,
  envelope: RequestEnvelope,
  maxBytes: number,
): AsyncGenerator<Chunk> {
  let seq = 0;
  const assembler = new ChunkAssembler(envelope, maxBytes, () => ++seq);
  for await (const entry of entries) {
    const closed = assembler.add(entry);
    if (closed !== undefined) yield closed;
  }
  const last = assembler.flush();
  if (last !== undefined) yield last;
}
