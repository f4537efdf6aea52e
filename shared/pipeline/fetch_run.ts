/**
 * One fetch run: GTI pages (items cleaned from their bytes) → de-duplicate → a log entry and (with
 * entity context) an entity per notification → chunks of each kind → deliver, with the checkpoint
 * advanced over notifications whose log entry and entity were both delivered. The standalone `sync`
 * delivers to Chronicle (or the local sink); the cloud fetcher delivers by publishing to Pub/Sub.
 * Same code path for both.
 */

import { OversizeError, PagingError, ValidationError } from '../core/errors.js';
import type { Logger } from '../core/logger.js';
import { excerpt } from '../core/redact.js';
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
import { type Chunk, ChunkAssembler, type ChunkKind } from './chunker.js';
import { createEntityBuilder, type EntityBuilder, type EntityResult } from './entities.js';
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
  /** Log chunks (logs:import bodies): made, delivered, their bytes. */
  chunks: number;
  chunksDelivered: number;
  bytes: number;
  /** Log entries trimmed to fit a request. */
  trimmed: number;
  /** Entities built (one per notification about a file, URL, domain or IP address). */
  entities: number;
  /** Entity chunks (entities:import bodies): made, delivered, their bytes. */
  entityChunks: number;
  entityChunksDelivered: number;
  entityBytes: number;
  /** Notifications without an entity (an item type without one, a URL without its URL, too large). */
  entitiesSkipped: number;
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
  /**
   * How entries, entities and request bodies are built (the run makes its entry and entity builders
   * and their envelopes; entityContext undefined = log entries only).
   */
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
  /** A notification got no entity (counted in entitiesSkipped): what and why, without payload. */
  readonly onEntitySkipped?: (skip: EntitySkip) => void;
  /** Consecutive pages that bring nothing new, with more to come, before the run fails (default 100). */
  readonly maxPagesWithoutNew?: number;
  /** Told of each notification imported with a missing or malformed id or date, with its position. */
  readonly onInvalidItem?: (report: InvalidItemReport) => void;
  /**
   * Clock (epoch ms, default Date.now): read when each GTI page arrives, for its entries'
   * collectionTime; notification dates beyond it plus the tolerance never move the checkpoint.
   */
  readonly now?: () => number;
  /**
   * Called once, when the first page's request has been sent: the run then has nothing to do but
   * wait for GTI, the moment to load what delivery will need (sync: the auth library and its first
   * token), rather than stalling the paging later by loading it on the first delivery. Must not
   * throw.
   */
  readonly whileFirstPageLoads?: () => void;
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

/** A notification that got no entity. */
export type EntitySkip = Extract<EntityResult, { kind: 'skipped' }>;

/** One notification made ready: its log entry and, with entity context, its entity (or why none). */
export interface PreparedNotification {
  readonly entry: PreparedEntry;
  /** Undefined when the run builds no entities. */
  readonly entity: EntityResult | undefined;
}

export interface RunResult {
  readonly stats: Readonly<RunStats>;
  /** True when the run stopped early at a page boundary with more pages left. */
  readonly stoppedEarly: boolean;
  readonly checkpoint: Checkpoint | undefined;
}

/**
 * The log entry and the entity for one page item, or undefined when `accept` (de-duplication) drops
 * it. An item left to the object path is parsed and checked here, so its error surfaces at its
 * place in the stream. The entity comes from the item's entity view when the page reader took one
 * from the cleaner, else from the cleaned bytes (or the parsed object): never a second parse of the
 * whole notification. `receivedMs`: when the item's page was received (its collectionTime; default
 * the builder's).
 */
export function prepareNotification(
  item: PageItem,
  entries: EntryBuilder,
  entities: EntityBuilder | undefined,
  accept: (id: string, date: number | undefined) => boolean,
  horizonSeconds = Number.POSITIVE_INFINITY,
  receivedMs?: number,
): PreparedNotification | undefined {
  if (item.kind === 'cleaned') {
    // A date far ahead of the clock is imported, labelled, but never moves the checkpoint.
    const ahead = item.date > horizonSeconds;
    const date = ahead ? undefined : item.date;
    if (!accept(item.id, date)) return undefined;
    const entry = entries.buildCleaned(
      item.cleaned,
      item.id,
      date,
      ahead ? [NOTIFICATION_DATE_FIELD] : [],
      receivedMs,
    );
    if (entities === undefined) return { entry, entity: undefined };
    const view = item.view;
    return {
      entry,
      entity: entityOf(item.id, () =>
        view === undefined ? entities.buildFromCleaned(item.cleaned) : entities.build(view),
      ),
    };
  }
  const read = readItem(item.raw);
  const ahead = read.date !== undefined && read.date > horizonSeconds;
  const date = ahead ? undefined : read.date;
  const invalid = ahead ? [...read.invalid, NOTIFICATION_DATE_FIELD] : read.invalid;
  if (!accept(read.id, date)) return undefined;
  const entry = entries.build(read.object, {
    id: read.id,
    date,
    invalid,
    ...(receivedMs === undefined ? {} : { receivedMs }),
  });
  return {
    entry,
    entity:
      entities === undefined
        ? undefined
        : entityOf(read.id, () => entities.buildFromNotification(read.object as never)),
  };
}

/**
 * An entity that cannot fit in one request even trimmed is skipped, named, rather than failing the
 * run: its notification still goes in as a log entry (trimmed as needed), which keeps the data.
 */
function entityOf(id: string, build: () => EntityResult): EntityResult {
  try {
    return build();
  } catch (error) {
    // An item imported despite missing or malformed fields may have nothing an entity is built from.
    if (error instanceof ValidationError)
      return { kind: 'skipped', id, reason: 'no_indicator', detail: error.message };
    if (!(error instanceof OversizeError)) throw error;
    return {
      kind: 'skipped',
      id,
      reason: 'too_large',
      detail: `its entity does not fit in one request even trimmed: ${error.message}`,
    };
  }
}

/**
 * Logs a notification without an entity: expected for item types without one and URLs without
 * their URL (debug; counted in entitiesSkipped), a warning when its entity could not fit in a
 * request. Values from the notification are bounded.
 */
export function logEntitySkipped(logger: Logger, skip: EntitySkip): void {
  const fields = {
    notification_id: excerpt(skip.id, 200),
    reason: skip.reason,
    detail: excerpt(skip.detail, 500),
  };
  if (skip.reason === 'too_large') logger.warn('no entity for a notification: too large', fields);
  else logger.debug('no entity for a notification', fields);
}

/** The log entry for one page item (prepareNotification without entities). */
export function prepareItem(
  item: PageItem,
  entries: EntryBuilder,
  accept: (id: string, date: number | undefined) => boolean,
  horizonSeconds = Number.POSITIVE_INFINITY,
  receivedMs?: number,
): PreparedEntry | undefined {
  return prepareNotification(item, entries, undefined, accept, horizonSeconds, receivedMs)?.entry;
}

/**
 * Log chunks that may close while entities wait in their assembler before the entity chunk closes
 * too, however small: bounds how far the checkpoint lags behind the delivered log entries (a run
 * killed then sends again at most what came after the mark).
 */
export const ENTITY_CHUNK_MAX_LAG = 4;

export function buildFilter(filters: string, startSeconds: number): string {
  return [`date:${gtiDate(startSeconds)}+`, filters].filter((t) => t !== '').join(' ');
}

export async function runFetch(options: RunOptions): Promise<RunResult> {
  const entries = createEntryBuilder(options.entryOptions);
  const { entityContext, fetchTime, chunkMaxBytes } = options.entryOptions;
  const entities =
    entityContext === undefined
      ? undefined
      : createEntityBuilder({ ...entityContext, fetchTime, chunkMaxBytes });
  const stats: RunStats = {
    pages: 0,
    fetched: 0,
    duplicates: 0,
    notifications: 0,
    chunks: 0,
    chunksDelivered: 0,
    bytes: 0,
    trimmed: 0,
    entities: 0,
    entityChunks: 0,
    entityChunksDelivered: 0,
    entityBytes: 0,
    entitiesSkipped: 0,
    invalid: 0,
    expected: undefined,
  };
  const now = options.now ?? Date.now;
  const horizon = Math.floor(now() / 1000) + TIME_AHEAD_TOLERANCE_SECONDS;
  const maxPagesWithoutNew = options.maxPagesWithoutNew ?? DEFAULT_MAX_PAGES_WITHOUT_NEW;
  const dedup = new Deduplicator(options.checkpoint);
  const tracker = new WatermarkTracker(options.checkpoint);
  const incremental = options.order === 'date+';
  let stoppedEarly = false;

  let whileFirstPageLoads = options.whileFirstPageLoads;
  const firstPageLoads =
    whileFirstPageLoads === undefined
      ? undefined
      : () => {
          const once = whileFirstPageLoads;
          whileFirstPageLoads = undefined;
          once?.();
        };
  const query = {
    filter: buildFilter(options.filters, queryStart(options.checkpoint, options.initialStartSeconds)),
    order: options.order,
    limit: options.limit,
    // The page reader takes each item's entity view from the cleaner (the fast path).
    ...(entities === undefined ? {} : { entityViews: true }),
    ...(firstPageLoads === undefined ? {} : { onRequestSent: firstPageLoads }),
  };

  const accept = (id: string, date: number | undefined) => dedup.accept(id, date);
  let pagesWithoutNew = 0;
  // A failure while reading (GTI, paging, an entry) ends the reading early but normally, so what
  // was read is still chunked and delivered before the run fails: the next run starts after it.
  // A stop (signal) ends at once instead.
  let readFailure: { error: unknown } | undefined;

  // One assembler per kind, one chunk sequence. Each kind's items arrive in stream order, so the
  // notifications (tracker ordinals) of a closed chunk are the first ones waiting for its kind.
  let seq = 0;
  const nextSeq = () => ++seq;
  const logChunks = new ChunkAssembler<PreparedEntry>(entries.envelope, chunkMaxBytes, nextSeq);
  const entityChunks =
    entities === undefined ? undefined : new ChunkAssembler(entities.envelope, chunkMaxBytes, nextSeq);
  const waiting: Record<ChunkKind, number[]> = { logs: [], entities: [] };
  const ordinalsOf = new Map<number, number[]>();
  let logChunksWhileEntitiesWait = 0;
  const closed = (chunk: Chunk | undefined, ready: Chunk[]): void => {
    if (chunk === undefined) return;
    const queue = waiting[chunk.kind];
    ordinalsOf.set(chunk.seq, queue.splice(0, chunk.ids.length));
    ready.push(chunk);
    if (chunk.kind === 'entities') {
      stats.entityChunks += 1;
      stats.entityBytes += chunk.bytes;
      logChunksWhileEntitiesWait = 0;
      return;
    }
    stats.chunks += 1;
    stats.bytes += chunk.bytes;
    // Entities are small: left alone, an entity chunk would gather a whole run's entities and hold
    // the checkpoint back until the end. It closes once this many log chunks went ahead of it.
    if (entityChunks !== undefined && entityChunks.pending > 0) {
      logChunksWhileEntitiesWait += 1;
      if (logChunksWhileEntitiesWait >= ENTITY_CHUNK_MAX_LAG) closed(entityChunks.flush(), ready);
    }
  };
  const flush = (): Chunk[] => {
    const ready: Chunk[] = [];
    closed(logChunks.flush(), ready);
    closed(entityChunks?.flush(), ready);
    return ready;
  };

  async function* chunksFromPages(): AsyncGenerator<Chunk> {
    try {
      yield* readPages();
    } catch (error) {
      if (options.signal?.aborted) throw error;
      readFailure = { error };
    }
    yield* flush();
  }
  async function* readPages(): AsyncGenerator<Chunk> {
    for await (const page of options.gti.pages(query, options.signal)) {
      // The page's collection time: when it reached us (never earlier than it left GTI).
      const receivedMs = now();
      stats.pages += 1;
      if (stats.pages === 1) stats.expected = page.count;
      const ready: Chunk[] = [];
      let fresh = 0;
      for (const [index, item] of page.items.entries()) {
        stats.fetched += 1;
        const prepared = prepareNotification(item, entries, entities, accept, horizon, receivedMs);
        if (prepared === undefined) continue;
        const { entry, entity } = prepared;
        fresh += 1;
        stats.notifications += 1;
        if (entry.trimmed.length > 0) stats.trimmed += 1;
        if (entry.invalid.length > 0) {
          stats.invalid += 1;
          options.onInvalidItem?.({ page: stats.pages, index, id: entry.id, invalid: entry.invalid });
        }
        const withEntity = entity?.kind === 'entity';
        const ordinal = tracker.expect(entry.id, entry.date, withEntity ? 2 : 1);
        waiting.logs.push(ordinal);
        closed(logChunks.add(entry), ready);
        if (entity === undefined) continue;
        if (entity.kind === 'entity') {
          stats.entities += 1;
          waiting.entities.push(ordinal);
          closed(entityChunks?.add(entity.entity), ready);
        } else {
          stats.entitiesSkipped += 1;
          options.onEntitySkipped?.(entity);
        }
      }
      stats.duplicates = dedup.skipped;
      yield* ready;
      options.onProgress?.(stats);
      pagesWithoutNew = fresh === 0 ? pagesWithoutNew + 1 : 0;
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
        if (chunk.kind === 'logs') stats.chunksDelivered += 1;
        else stats.entityChunksDelivered += 1;
        const ordinals = ordinalsOf.get(chunk.seq) ?? [];
        ordinalsOf.delete(chunk.seq);
        const mark = tracker.delivered(ordinals);
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
    for await (const chunk of chunksFromPages()) {
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
