/**
 * One fetch run: GTI pages (items cleaned from their bytes) → de-duplicate → entries → chunks → deliver, with the
 * checkpoint advanced over delivered chunks. The standalone `sync` delivers to Chronicle (or the
 * local sink); the cloud fetcher delivers by publishing to Pub/Sub. Same code path for both.
 */

import { logsImportEnvelope } from '../chronicle/request_body.js';
import { PagingError } from '../core/errors.js';
import type { Logger } from '../core/logger.js';
import { type GtiClient, gtiDate } from '../gti/client.js';
import { NOTIFICATION_DATE_FIELD } from '../gti/notification.js';
import { type PageItem, readItem } from '../gti/page_item.js';
import {
  type Checkpoint,
  Deduplicator,
  queryStart,
  TIME_AHEAD_TOLERANCE_SECONDS,
  WatermarkTracker,
} from './checkpoint.js';
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
  /** Notifications imported with a missing or malformed id or date (labelled, see log_entries.ts). */
  invalid: number;
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
  /** Consecutive pages that bring nothing new, with more to come, before the run fails (default 100). */
  readonly maxPagesWithoutNew?: number;
  /** Told of each notification imported with a missing or malformed id or date, with its position. */
  readonly onInvalidItem?: (report: InvalidItemReport) => void;
  /**
   * Clock (epoch ms, default Date.now): read when each GTI page arrives, for its entries'
   * collectionTime; notification dates beyond it plus the tolerance never move the checkpoint.
   */
  readonly now?: () => number;
}

/** Where an item that was not a well-formed notification sat in the stream, and what was wrong. */
export interface InvalidItemReport {
  /** 1-based page of this run, and the item's 0-based index in it. */
  readonly page: number;
  readonly index: number;
  readonly id: string;
  readonly invalid: readonly string[];
}

export const DEFAULT_MAX_PAGES_WITHOUT_NEW = 100;
/** Invalid items get one WARN line each, up to this many per run (the run summary counts them all). */
const INVALID_LINES_PER_RUN = 20;

/** An onInvalidItem that logs WARN lines with event `invalid_notification` and the item's position. */
export function invalidItemLogger(logger: Logger): (report: InvalidItemReport) => void {
  let seen = 0;
  return (report) => {
    seen += 1;
    if (seen > INVALID_LINES_PER_RUN) return;
    logger.warn('notification imported with a missing or malformed field', {
      event: 'invalid_notification',
      page: report.page,
      index: report.index,
      notification_id: report.id,
      invalid_fields: report.invalid,
    });
  };
}

export interface RunResult {
  readonly stats: Readonly<RunStats>;
  /** True when the run stopped early at a page boundary with more pages left. */
  readonly stoppedEarly: boolean;
  readonly checkpoint: Checkpoint | undefined;
}

/**
 * The entry for one page item, or undefined when `accept` (de-duplication) drops it. An item left
 * to the object path is parsed here; one without a usable id or date is imported labelled (its
 * `invalid` fields say what was wrong). A notification_date after `horizonSeconds` (far ahead of
 * the clock) counts as malformed: it is imported, but never moves the checkpoint ahead of now.
 */
export function prepareItem(
  item: PageItem,
  entries: EntryBuilder,
  accept: (id: string, date: number | undefined) => boolean,
  horizonSeconds = Number.POSITIVE_INFINITY,
  receivedMs?: number,
): PreparedEntry | undefined {
  if (item.kind === 'cleaned') {
    if (item.date <= horizonSeconds)
      return accept(item.id, item.date)
        ? entries.buildCleaned(item.cleaned, item.id, item.date, [], receivedMs)
        : undefined;
    return accept(item.id, undefined)
      ? entries.buildCleaned(item.cleaned, item.id, undefined, [NOTIFICATION_DATE_FIELD], receivedMs)
      : undefined;
  }
  const read = readItem(item.raw);
  const ahead = read.date !== undefined && read.date > horizonSeconds;
  const date = ahead ? undefined : read.date;
  const invalid = ahead ? [...read.invalid, NOTIFICATION_DATE_FIELD] : read.invalid;
  return accept(read.id, date)
    ? entries.build(read.object, {
        id: read.id,
        date,
        invalid,
        ...(receivedMs === undefined ? {} : { receivedMs }),
      })
    : undefined;
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
    invalid: 0,
    expected: undefined,
  };
  const dedup = new Deduplicator(options.checkpoint);
  const tracker = new WatermarkTracker(options.checkpoint);
  const incremental = options.order === 'date+';
  const now = options.now ?? Date.now;
  const horizon = Math.floor(now() / 1000) + TIME_AHEAD_TOLERANCE_SECONDS;
  const maxPagesWithoutNew = options.maxPagesWithoutNew ?? DEFAULT_MAX_PAGES_WITHOUT_NEW;
  let stoppedEarly = false;

  const query = {
    filter: buildFilter(options.filters, queryStart(options.checkpoint, options.initialStartSeconds)),
    order: options.order,
    limit: options.limit,
  };

  const accept = (id: string, date: number | undefined) => dedup.accept(id, date);
  let pagesWithoutNew = 0;
  // A failure while reading (GTI, paging, an entry) ends the entries early but normally, so what
  // was read is still chunked and delivered before the run fails: the next run starts after it.
  // A stop (signal) ends at once instead.
  let readFailure: { error: unknown } | undefined;
  async function* entriesFromPages(): AsyncGenerator<PreparedEntry> {
    try {
      yield* readPages();
    } catch (error) {
      if (options.signal?.aborted) throw error;
      readFailure = { error };
    }
  }
  async function* readPages(): AsyncGenerator<PreparedEntry> {
    for await (const page of options.gti.pages(query, options.signal)) {
      stats.pages += 1;
      if (stats.pages === 1) stats.expected = page.count;
      // The page's collection time: when it reached us (never earlier than it left GTI).
      const receivedMs = now();
      const ready: PreparedEntry[] = [];
      page.items.forEach((item, index) => {
        stats.fetched += 1;
        const entry = prepareItem(item, entries, accept, horizon, receivedMs);
        if (entry === undefined) return;
        stats.notifications += 1;
        if (entry.trimmed.length > 0) stats.trimmed += 1;
        if (entry.invalid.length > 0) {
          stats.invalid += 1;
          options.onInvalidItem?.({ page: stats.pages, index, id: entry.id, invalid: entry.invalid });
        }
        ready.push(entry);
      });
      stats.duplicates = dedup.skipped;
      yield* ready;
      options.onProgress?.(stats);
      pagesWithoutNew = ready.length === 0 ? pagesWithoutNew + 1 : 0;
      if (page.nextCursor !== undefined && pagesWithoutNew >= maxPagesWithoutNew) throw noProgress();
      if (page.nextCursor !== undefined && options.shouldStop?.()) {
        stoppedEarly = true;
        return;
      }
    }
  }
  const noProgress = () =>
    new PagingError(
      `${pagesWithoutNew} GTI pages in a row brought nothing new and GTI still offers more ` +
        `(page ${stats.pages}); stopping rather than paging on forever (VT_MAX_PAGES_WITHOUT_NEW; ` +
        'what was imported stays imported)',
    );

  // Deliveries run concurrently; checkpoint saves run one at a time, newest wins.
  const inFlight = new Set<Promise<void>>();
  let failure: { error: unknown } | undefined;
  let saving: Promise<void> = Promise.resolve();
  let latest: Checkpoint | undefined;
  let saveFailed = false;
  // A failed save fails the run like a failed delivery: nothing more is delivered past a mark that
  // could not be kept (the next run would only send it again). Any other failure (GTI, a stop)
  // still lets the chunks already delivered be recorded.
  const save = (mark: Checkpoint): void => {
    latest = mark;
    saving = saving
      .then(async () => {
        if (latest === undefined || saveFailed) return;
        const toSave = latest;
        latest = undefined;
        await options.saveCheckpoint(toSave);
      })
      .catch((error: unknown) => {
        saveFailed = true;
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
  if (readFailure !== undefined) failure ??= readFailure;
  await Promise.all(inFlight);
  await saving;
  if (failure !== undefined) throw failure.error;
  if (stoppedEarly)
    return { stats, stoppedEarly, checkpoint: incremental ? tracker.mark : options.checkpoint };
  // Complete: the stream was read to its end. The mark records when (GTI's 7-day retention is
  // measured from it); newest first, this is also the only time the mark may move (older pages
  // were still unfetched before). A first run that found nothing keeps where it started: otherwise
  // the next run would start from VT_DATE_FILTER again, which (relative to now) has moved on,
  // leaving a gap.
  const readToEnd: Checkpoint = {
    ...(tracker.mark ?? { date: options.initialStartSeconds, ids: [] }),
    readToEndAt: Math.floor(now() / 1000),
  };
  await options.saveCheckpoint(readToEnd);
  return { stats, stoppedEarly, checkpoint: readToEnd };
}
