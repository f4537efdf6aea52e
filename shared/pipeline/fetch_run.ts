/**
 * One fetch run: GTI pages (items cleaned from their bytes) → de-duplicate → entries → chunks → deliver, with the
 * checkpoint advanced over delivered chunks. The standalone `sync` delivers to Chronicle (or the
 * local sink); the cloud fetcher delivers by publishing to Pub/Sub. Same code path for both.
 */

import { logsImportEnvelope } from '../chronicle/request_body.js';
import { type GtiClient, gtiDate } from '../gti/client.js';
import { type PageItem, parseItem } from '../gti/page_item.js';
import { type Checkpoint, Deduplicator, queryStart, WatermarkTracker } from './checkpoint.js';
import { type Chunk, chunkEntries } from './chunker.js';
import {
  createEntryBuilder,
  type EntryBuilder,
  type EntryOptions,
  type PreparedEntry,
} from './log_entries.js';

export interface RunStats {
  pages: number;
  fetched: number;
  duplicates: number;
  notifications: number;
  chunks: number;
  chunksDelivered: number;
  bytes: number;
  trimmed: number;
  /** meta.count of the first page when GTI gives it (a hint for ETA). */
  expected: number | undefined;
}

export interface RunOptions {
  readonly gti: GtiClient;
  readonly filters: string;
  readonly order: 'date+' | 'date-';
  readonly limit: number;
  readonly checkpoint: Checkpoint | undefined;
  readonly initialStartSeconds: number;
  /** How entries and request bodies are built (the run makes its entry builder and envelope). */
  readonly entryOptions: EntryOptions;
  /** Delivers one chunk; resolves when it is safely handed over (imported, or published). */
  readonly deliver: (chunk: Chunk) => Promise<void>;
  /** Chunks delivered at once. */
  readonly concurrency: number;
  readonly saveCheckpoint: (checkpoint: Checkpoint) => Promise<void>;
  /** Checked at each page boundary: true = stop here, flush and save (time budget). */
  readonly shouldStop?: () => boolean;
  readonly onProgress?: (stats: Readonly<RunStats>) => void;
  readonly signal?: AbortSignal;
  /** Epoch ms; read when each GTI page arrives, for its entries' collectionTime. Default Date.now. */
  readonly clock?: () => number;
}

export interface RunResult {
  readonly stats: Readonly<RunStats>;
  /** True when the run stopped early at a page boundary with more pages left. */
  readonly stoppedEarly: boolean;
  readonly checkpoint: Checkpoint | undefined;
}

/**
 * The entry for one page item, or undefined when `accept` (de-duplication) drops it. An item left
 * to the object path is parsed and checked here, so its error surfaces at its place in the stream.
 * `receivedMs`: when the item's page was received (its collectionTime; default the builder's).
 */
export function prepareItem(
  item: PageItem,
  entries: EntryBuilder,
  accept: (id: string, date: number) => boolean,
  receivedMs?: number,
): PreparedEntry | undefined {
  if (item.kind === 'cleaned') {
    return accept(item.id, item.date)
      ? entries.buildCleaned(item.cleaned, item.id, item.date, receivedMs)
      : undefined;
  }
  const n = parseItem(item.raw);
  const { notification_id: id, notification_date: date } = n.context_attributes;
  return accept(id, date) ? entries.build(n, receivedMs) : undefined;
}

export function buildFilter(filters: string, startSeconds: number): string {
  return [`date:${gtiDate(startSeconds)}+`, filters].filter((t) => t !== '').join(' ');
}

export async function runFetch(options: RunOptions): Promise<RunResult> {
  const entries = createEntryBuilder(options.entryOptions);
  const stats: RunStats = {
    pages: 0,
    fetched: 0,
    duplicates: 0,
    notifications: 0,
    chunks: 0,
    chunksDelivered: 0,
    bytes: 0,
    trimmed: 0,
    expected: undefined,
  };
  const dedup = new Deduplicator(options.checkpoint);
  const tracker = new WatermarkTracker(options.checkpoint);
  const incremental = options.order === 'date+';
  let stoppedEarly = false;

  const query = {
    filter: buildFilter(options.filters, queryStart(options.checkpoint, options.initialStartSeconds)),
    order: options.order,
    limit: options.limit,
  };

  const accept = (id: string, date: number) => dedup.accept(id, date);
  const clock = options.clock ?? Date.now;
  async function* entriesFromPages(): AsyncGenerator<PreparedEntry> {
    for await (const page of options.gti.pages(query, options.signal)) {
      // The page's collection time: when it reached us (never earlier than it left GTI).
      const receivedMs = clock();
      stats.pages += 1;
      if (stats.pages === 1) stats.expected = page.count;
      const ready: PreparedEntry[] = [];
      for (const item of page.items) {
        stats.fetched += 1;
        const entry = prepareItem(item, entries, accept, receivedMs);
        if (entry === undefined) continue;
        stats.notifications += 1;
        if (entry.trimmed.length > 0) stats.trimmed += 1;
        ready.push(entry);
      }
      stats.duplicates = dedup.skipped;
      yield* ready;
      options.onProgress?.(stats);
      if (page.nextCursor !== undefined && options.shouldStop?.()) {
        stoppedEarly = true;
        return;
      }
    }
  }

  // Deliveries run concurrently; checkpoint saves run one at a time, newest wins.
  const inFlight = new Set<Promise<void>>();
  let failure: { error: unknown } | undefined;
  let saving: Promise<void> = Promise.resolve();
  let latest: Checkpoint | undefined;
  // A failed save fails the run like a failed delivery: nothing more is delivered past a mark that
  // could not be kept (the next run would only send it again).
  const save = (mark: Checkpoint): void => {
    latest = mark;
    saving = saving
      .then(async () => {
        if (latest === undefined || failure !== undefined) return;
        const toSave = latest;
        latest = undefined;
        await options.saveCheckpoint(toSave);
      })
      .catch((error: unknown) => {
        failure ??= { error };
      });
  };

  const start = (chunk: Chunk): void => {
    const task = options
      .deliver(chunk)
      .then(() => {
        stats.chunksDelivered += 1;
        const mark = tracker.delivered(chunk.seq, chunk.ids, chunk.dates);
        if (mark !== undefined && incremental) save(mark);
        options.onProgress?.(stats);
      })
      .catch((error: unknown) => {
        failure ??= { error };
      })
      .finally(() => inFlight.delete(task));
    inFlight.add(task);
  };

  try {
    for await (const chunk of chunkEntries(
      entriesFromPages(),
      logsImportEnvelope(options.entryOptions.forwarder),
      options.entryOptions.chunkMaxBytes,
    )) {
      stats.chunks += 1;
      stats.bytes += chunk.bytes;
      start(chunk);
      while (inFlight.size >= options.concurrency && failure === undefined) await Promise.race(inFlight);
      if (failure !== undefined) break;
    }
  } catch (error) {
    failure ??= { error };
  }
  await Promise.all(inFlight);
  await saving;
  if (failure === undefined && !incremental && !stoppedEarly && tracker.mark !== undefined) {
    // Newest first: only a complete run may move the mark (older pages may still be unfetched).
    await options.saveCheckpoint(tracker.mark);
  }
  if (failure !== undefined) throw failure.error;
  if (!stoppedEarly && tracker.mark === undefined) {
    // A first run that found nothing keeps where it started: otherwise the next run would start
    // from VT_DATE_FILTER again, which (relative to now) has moved on, leaving a gap.
    const start: Checkpoint = { date: options.initialStartSeconds, ids: [] };
    await options.saveCheckpoint(start);
    return { stats, stoppedEarly, checkpoint: start };
  }
  return {
    stats,
    stoppedEarly,
    checkpoint: incremental || !stoppedEarly ? tracker.mark : options.checkpoint,
  };
}
