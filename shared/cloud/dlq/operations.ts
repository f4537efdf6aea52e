/**
 * Dead-letter operations: scan, list, replay and purge. Messages are pulled synchronously so each
 * is acknowledged exactly when its copy (republish, Chronicle import or archive line) is confirmed;
 * everything not acknowledged is held and released with a zero ack deadline at the end.
 */
import type { Archive } from './archive.js';
import { archiveRecord } from './archive.js';
import {
  type DlqMessage,
  type DlqSummary,
  describeFilter,
  digestOf,
  entryCountOf,
  type MessageDigest,
  type MessageFilter,
  matchesFilter,
  replayAttributes,
  replayCountOf,
  summarize,
} from './message.js';
import { RateLimiter } from './rate_limiter.js';
import type { DlqTransport } from './transport.js';

// ---------------------------------------------------------------------------------------------
// The pull loop: holds what it does not acknowledge, extends its deadlines, releases at the end.

export interface ScanOptions {
  /** Messages per pull. Default 25 (chunks can be up to 4 MB each). */
  readonly batchSize?: number;
  /** Ack deadline set on held messages and renewed every third of it. Default 60 s. */
  readonly leaseSeconds?: number;
  readonly signal?: AbortSignal;
  /** Called for warnings (a deadline extension that failed). */
  readonly onWarning?: (message: string) => void;
}

export type Disposition = 'hold' | 'acked';

/**
 * Pulls until the subscription answers empty or `handleBatch` asks to stop. `handleBatch` receives
 * the new messages of each pull (messages redelivered during this run with an id already handled
 * are acknowledged again if they were acknowledged, or have their ack id refreshed if held) and
 * returns, per message id, whether it acknowledged it; everything else stays held. At the end every
 * held message is released (ack deadline 0).
 */
export async function scanSubscription(
  transport: DlqTransport,
  options: ScanOptions,
  handleBatch: (messages: DlqMessage[]) => Promise<{ acked: ReadonlySet<string>; stop: boolean }>,
): Promise<{ pulls: number; redelivered: number }> {
  const batchSize = options.batchSize ?? 25;
  const leaseSeconds = options.leaseSeconds ?? 60;
  const held = new Map<string, string>(); // messageId -> ackId
  const acked = new Set<string>();
  let pulls = 0;
  let redelivered = 0;
  let extending: Promise<void> = Promise.resolve();
  const extend = (ids: string[]) => {
    if (ids.length === 0) return Promise.resolve();
    return transport.modifyAckDeadline(ids, leaseSeconds).catch((error: unknown) => {
      options.onWarning?.(
        `could not extend ack deadlines (they may be redelivered later): ${(error as Error).message}`,
      );
    });
  };
  const timer = setInterval(
    () => {
      extending = extending.then(() => extend([...held.values()]));
    },
    Math.max(1000, (leaseSeconds * 1000) / 3),
  );
  timer.unref();
  try {
    for (;;) {
      if (options.signal?.aborted) break;
      const pulled = await transport.pull(batchSize);
      pulls += 1;
      if (pulled.length === 0) break;
      const fresh: DlqMessage[] = [];
      const again: string[] = [];
      for (const m of pulled) {
        if (acked.has(m.messageId)) {
          again.push(m.ackId);
          redelivered += 1;
        } else if (held.has(m.messageId)) {
          held.set(m.messageId, m.ackId);
          redelivered += 1;
        } else {
          held.set(m.messageId, m.ackId);
          fresh.push(m);
        }
      }
      // The subscription's own deadline may be short (10 s by default): extend right away.
      await extend(pulled.filter((m) => !acked.has(m.messageId)).map((m) => m.ackId));
      if (again.length > 0) await transport.ack(again);
      if (fresh.length === 0) continue;
      const result = await handleBatch(fresh);
      for (const id of result.acked) {
        held.delete(id);
        acked.add(id);
      }
      if (result.stop) break;
    }
  } finally {
    clearInterval(timer);
    await extending;
    const release = [...held.values()];
    if (release.length > 0) {
      await transport.modifyAckDeadline(release, 0).catch((error: unknown) => {
        options.onWarning?.(
          `could not release ${release.length} held messages; they return after their ack deadline: ${(error as Error).message}`,
        );
      });
    }
  }
  return { pulls, redelivered };
}

// ---------------------------------------------------------------------------------------------
// list

export interface ListOptions extends ScanOptions {
  readonly filter: MessageFilter;
  readonly limit?: number;
  readonly maxReplays: number;
}

export interface ListResult {
  readonly subscription: string;
  readonly filter: string;
  /** True when --limit stopped the scan before the subscription was exhausted. */
  readonly limited: boolean;
  /** Messages seen that did not match the filter. */
  readonly unmatched: number;
  readonly summary: DlqSummary;
}

export async function listDeadLetters(transport: DlqTransport, options: ListOptions): Promise<ListResult> {
  const digests: MessageDigest[] = [];
  let unmatched = 0;
  let limited = false;
  await scanSubscription(transport, options, async (messages) => {
    for (const m of messages) {
      if (options.limit !== undefined && digests.length >= options.limit) {
        limited = true;
        break;
      }
      if (matchesFilter(m.attributes, options.filter)) digests.push(digestOf(m));
      else unmatched += 1;
    }
    if (options.limit !== undefined && digests.length >= options.limit) limited = true;
    return { acked: new Set(), stop: limited };
  });
  return {
    subscription: transport.subscription,
    filter: describeFilter(options.filter),
    limited,
    unmatched,
    summary: summarize(digests, options.maxReplays),
  };
}

// ---------------------------------------------------------------------------------------------
// replay

/** Where a replayed message goes: the chunks topic, or Chronicle directly. */
export interface ReplaySink {
  readonly description: string;
  /** Resolves only once the destination confirmed the message; throws otherwise. */
  send(message: DlqMessage, attributes: Record<string, string>): Promise<void>;
}

export function topicSink(transport: DlqTransport, topic: string): ReplaySink {
  return {
    description: `topic ${topic}`,
    send: async (message, attributes) => {
      await transport.publish(topic, message.data, attributes);
    },
  };
}

export interface ReplayProgress {
  scanned: number;
  matched: number;
  moved: number;
  entries: number;
  leftAtMaxReplays: number;
  leftInvalid: number;
  failed: number;
}

export interface ReplayOptions extends ScanOptions {
  readonly filter: MessageFilter;
  readonly limit?: number;
  readonly maxReplays: number;
  readonly dryRun: boolean;
  /** Messages per second; undefined = as fast as the destination confirms. */
  readonly rate?: number;
  /** Messages in flight at once. Default 4. */
  readonly concurrency?: number;
  /** Validates a message's data before sending (e.g. parseChunkData); throw to leave it in place. */
  readonly validate?: (message: DlqMessage) => void;
  readonly now?: () => Date;
  readonly onProgress?: (progress: Readonly<ReplayProgress>) => void;
}

export interface ReplayedRef {
  readonly messageId: string;
  readonly replayCount: number;
}

export interface ReplayResult extends ReplayProgress {
  readonly subscription: string;
  readonly destination: string;
  readonly filter: string;
  readonly dryRun: boolean;
  readonly limited: boolean;
  readonly seconds: number;
  /** Seconds from the start to the last confirmed move (the rate's denominator). */
  readonly movingSeconds: number;
  /** Messages left in place because they reached the replay limit (ids, for the report). */
  readonly atMaxReplays: readonly ReplayedRef[];
  /** The error that stopped the replay, if any (the message it concerned stays dead-lettered). */
  readonly error: string | undefined;
  /** The message ids that moved (or would move, with dryRun). */
  readonly movedIds: readonly string[];
}

const sleep = (ms: number, signal?: AbortSignal) =>
  new Promise<void>((resolve) => {
    if (ms <= 0 || signal?.aborted) return resolve();
    const t = setTimeout(done, ms);
    function done() {
      clearTimeout(t);
      signal?.removeEventListener('abort', done);
      resolve();
    }
    signal?.addEventListener('abort', done, { once: true });
  });

export async function replayDeadLetters(
  transport: DlqTransport,
  sink: ReplaySink,
  options: ReplayOptions,
): Promise<ReplayResult> {
  const started = performance.now();
  const now = options.now ?? (() => new Date());
  const limiter = options.rate === undefined ? undefined : new RateLimiter(options.rate);
  const concurrency = Math.max(1, options.concurrency ?? 4);
  const progress: ReplayProgress = {
    scanned: 0,
    matched: 0,
    moved: 0,
    entries: 0,
    leftAtMaxReplays: 0,
    leftInvalid: 0,
    failed: 0,
  };
  const atMax: ReplayedRef[] = [];
  const movedIds: string[] = [];
  let lastMoveAt = started;
  let claimed = 0; // messages taken for moving (limit accounting, including in flight)
  let failure: string | undefined;
  let limited = false;
  const limitReached = () => options.limit !== undefined && claimed >= options.limit;

  await scanSubscription(transport, options, async (messages) => {
    const acked = new Set<string>();
    const toMove: DlqMessage[] = [];
    for (const m of messages) {
      progress.scanned += 1;
      if (!matchesFilter(m.attributes, options.filter)) continue;
      if (limitReached()) {
        limited = true;
        continue;
      }
      progress.matched += 1;
      const replays = replayCountOf(m.attributes);
      if (replays >= options.maxReplays) {
        progress.leftAtMaxReplays += 1;
        atMax.push({ messageId: m.messageId, replayCount: replays });
        continue;
      }
      if (options.validate) {
        try {
          options.validate(m);
        } catch {
          progress.leftInvalid += 1;
          continue;
        }
      }
      claimed += 1;
      toMove.push(m);
    }
    if (options.dryRun) {
      for (const m of toMove) {
        progress.moved += 1;
        progress.entries += entryCountOf(m.attributes, m.data);
        movedIds.push(m.messageId);
      }
      options.onProgress?.(progress);
    } else {
      let next = 0;
      const worker = async () => {
        while (failure === undefined && !options.signal?.aborted) {
          const m = toMove[next];
          next += 1;
          if (m === undefined) return;
          if (limiter) await sleep(limiter.reserve(performance.now()), options.signal);
          if (options.signal?.aborted) return;
          try {
            await sink.send(m, replayAttributes(m.attributes, now()));
          } catch (error) {
            progress.failed += 1;
            failure ??= `message ${m.messageId}: ${(error as Error).message}`;
            return;
          }
          // Only now, with the copy confirmed, is the dead-lettered message acknowledged.
          try {
            await transport.ack([m.ackId]);
          } catch (error) {
            progress.failed += 1;
            failure ??= `message ${m.messageId} was replayed but could not be acknowledged (a rerun replays it again): ${(error as Error).message}`;
            return;
          }
          acked.add(m.messageId);
          progress.moved += 1;
          progress.entries += entryCountOf(m.attributes, m.data);
          movedIds.push(m.messageId);
          lastMoveAt = performance.now();
          options.onProgress?.(progress);
        }
      };
      await Promise.all(Array.from({ length: Math.min(concurrency, toMove.length) }, worker));
      options.onProgress?.(progress);
    }
    return { acked, stop: failure !== undefined || limitReached() };
  });
  if (limitReached()) limited = true;
  return {
    ...progress,
    subscription: transport.subscription,
    destination: sink.description,
    filter: describeFilter(options.filter),
    dryRun: options.dryRun,
    limited,
    seconds: (performance.now() - started) / 1000,
    movingSeconds: (lastMoveAt - started) / 1000,
    atMaxReplays: atMax,
    error: failure,
    movedIds,
  };
}

// ---------------------------------------------------------------------------------------------
// purge

export interface PurgeOptions extends ScanOptions {
  readonly filter: MessageFilter;
  readonly limit?: number;
  /** Without it nothing is acknowledged: the result says what would be purged. */
  readonly archive: Archive | undefined;
  readonly maxReplays: number;
}

export interface PurgeResult {
  readonly subscription: string;
  readonly filter: string;
  readonly purged: number;
  /** With no archive: what would be purged. */
  readonly summary: DlqSummary;
  readonly archivePath: string | undefined;
  readonly limited: boolean;
}

export async function purgeDeadLetters(transport: DlqTransport, options: PurgeOptions): Promise<PurgeResult> {
  const digests: MessageDigest[] = [];
  let purged = 0;
  let limited = false;
  await scanSubscription(transport, options, async (messages) => {
    const chosen: DlqMessage[] = [];
    for (const m of messages) {
      if (!matchesFilter(m.attributes, options.filter)) continue;
      if (options.limit !== undefined && digests.length >= options.limit) {
        limited = true;
        break;
      }
      chosen.push(m);
      digests.push(digestOf(m));
    }
    if (options.limit !== undefined && digests.length >= options.limit) limited = true;
    const acked = new Set<string>();
    if (options.archive !== undefined && chosen.length > 0) {
      // Written and fsynced before anything is acknowledged: a purge loses nothing.
      await options.archive.append(chosen.map(archiveRecord));
      await transport.ack(chosen.map((m) => m.ackId));
      for (const m of chosen) acked.add(m.messageId);
      purged += chosen.length;
    }
    return { acked, stop: limited };
  });
  return {
    subscription: transport.subscription,
    filter: describeFilter(options.filter),
    purged,
    summary: summarize(digests, options.maxReplays),
    archivePath: options.archive?.path,
    limited,
  };
}
