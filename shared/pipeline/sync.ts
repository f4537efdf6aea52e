/**
 * Standalone sync: one inline run of the whole job — fetch, clean, chunk, send (log chunks to
 * logs:import, entity chunks to entities:import) — reusing exactly the shared modules, with the
 * checkpoint in a file. A run killed at any moment and run again loses nothing: the mark only moves
 * over notifications whose log entry and entity Chronicle accepted, so at most what was not yet
 * recorded as accepted is sent twice.
 */

import type { ChronicleImporter } from '../chronicle/client.js';
import { deliverBody } from '../chronicle/delivery.js';
import { settleWithin } from '../core/abort.js';
import type { Config } from '../core/config.js';
import type { Logger } from '../core/logger.js';
import type { RetryPolicy } from '../core/retry.js';
import type { GtiClient } from '../gti/client.js';
import { type CheckpointStore, checkRunStart, logStartReport, type RetentionGap } from './checkpoint.js';
import type { Chunk } from './chunker.js';
import { invalidItemLogger, logEntitySkipped, type RunStats, runFetch } from './fetch_run.js';
import { entryOptions } from './log_entries.js';

export interface SyncDeps {
  readonly config: Config;
  readonly logger: Logger;
  readonly gti: GtiClient;
  readonly importer: ChronicleImporter;
  readonly store: CheckpointStore;
  readonly retry: RetryPolicy;
  /** Overrides VT_DATE_FILTER's start (the demo starts at its dataset). */
  readonly initialStartSeconds?: number;
  /**
   * Default true: the source deletes notifications after 7 days (GTI), so a late run or an old
   * start is reported. False for the bundled simulator, which keeps its demo data for ever.
   */
  readonly sevenDayRetention?: boolean;
  readonly concurrency?: number;
  readonly signal?: AbortSignal;
  readonly stopRequested?: () => boolean;
  readonly onProgress?: (stats: Readonly<RunStats>) => void;
  readonly now?: () => Date;
}

export interface SyncSummary extends RunStats {
  readonly seconds: number;
  readonly requests: number;
  readonly retries: number;
  readonly splits: number;
  readonly stoppedEarly: boolean;
  readonly checkpointDate: string | undefined;
  /** Set when the stream was last read more than GTI's 7-day retention ago (notifications may be lost). */
  readonly retentionGap: RetentionGap | undefined;
}

/**
 * After a stop (signal), how long a Chronicle request already under way may still finish and be
 * checkpointed before the run gives up on it (it may then be imported again next run).
 */
export const STOP_GRACE_MS = 500;

export async function runSync(deps: SyncDeps): Promise<SyncSummary> {
  const { config, logger } = deps;
  const started = performance.now();
  const now = deps.now ?? (() => new Date());
  const checkpoint = await deps.store.load();
  const initialStartSeconds = deps.initialStartSeconds ?? config.gti.initialStartSeconds;
  const report = checkRunStart({
    checkpoint,
    checkpointName: `checkpoint ${deps.store.description}`,
    startSeconds: initialStartSeconds,
    startName: deps.initialStartSeconds === undefined ? 'VT_DATE_FILTER (the first-run start)' : 'The start',
    nowSeconds: Math.floor(now().getTime() / 1000),
  });
  const retention = deps.sevenDayRetention === false ? {} : report;
  logStartReport(logger, retention);
  logger.info(
    checkpoint ? 'resuming from checkpoint' : 'no checkpoint yet: starting from the first-run start',
    {
      checkpoint: checkpoint ? new Date(checkpoint.date * 1000).toISOString() : undefined,
      start: checkpoint ? undefined : new Date(initialStartSeconds * 1000).toISOString(),
      store: deps.store.description,
    },
  );

  let requests = 0;
  let retries = 0;
  let splits = 0;
  const result = await runFetch({
    gti: deps.gti,
    filters: config.gti.filters,
    order: config.gti.order,
    limit: config.gti.limit,
    checkpoint,
    initialStartSeconds,
    entryOptions: entryOptions(config, now()),
    concurrency: deps.concurrency ?? config.chronicle.concurrency,
    // A stop cuts retry waits at once; a request under way gets STOP_GRACE_MS to finish.
    deliver: (chunk) => settleWithin(deliverChunk(chunk), deps.signal, STOP_GRACE_MS),
    saveCheckpoint: (mark) => deps.store.save(mark),
    onEntitySkipped: (skip) => logEntitySkipped(logger, skip),
    ...(deps.stopRequested ? { shouldStop: deps.stopRequested } : {}),
    ...(deps.onProgress ? { onProgress: deps.onProgress } : {}),
    ...(deps.signal ? { signal: deps.signal } : {}),
    maxPagesWithoutNew: config.gti.maxPagesWithoutNew,
    onInvalidItem: invalidItemLogger(logger),
    now: () => now().getTime(),
    whileFirstPageLoads: () => deps.importer.prepare?.(),
  });
  function deliverChunk(chunk: Chunk): Promise<void> {
    return deliverBody(deps.importer, chunk.kind, chunk.payload, deps.retry, {
      onRequest: () => {
        requests += 1;
      },
      onRetry: ({ attempt, delayMs, status }) => {
        retries += 1;
        logger.warn('chronicle request failed; retrying', {
          chunk: chunk.seq,
          kind: chunk.kind,
          attempt,
          delayMs,
          status,
        });
      },
      onSplit: ({ entries: count, status }) => {
        splits += 1;
        logger.warn('chronicle answered request too large; splitting chunk', {
          chunk: chunk.seq,
          kind: chunk.kind,
          entries: count,
          status,
        });
      },
      ...(deps.signal ? { signal: deps.signal } : {}),
    });
  }
  const mark = result.checkpoint;
  return {
    ...result.stats,
    seconds: (performance.now() - started) / 1000,
    requests,
    retries,
    splits,
    stoppedEarly: result.stoppedEarly,
    checkpointDate: mark ? new Date(mark.date * 1000).toISOString() : undefined,
    retentionGap: retention.retentionGap,
  };
}
