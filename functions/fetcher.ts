/**
 * `fetchIocStream`: one fetch run per trigger message. Takes the lease, reads the Firestore
 * checkpoint, runs the shared pipeline with `deliver` = publish the chunk (log entries or
 * entities, as its `kind` attribute says) to the chunks topic (awaiting Pub/Sub's acknowledgement,
 * after which Pub/Sub owns its delivery), saves the checkpoint over notifications whose log entry
 * and entity are both published, and stops at a page boundary before its time budget runs out,
 * handing the rest to a continuation message on its own trigger topic.
 *
 * Errors: retryable ones (GTI 5xx/429 after in-process retries, Pub/Sub, Firestore unavailable)
 * throw, so Pub/Sub redelivers the trigger with backoff; permanent ones (bad configuration, bad
 * trigger message, GTI 400/401/403, a used-up GTI quota, a start or checkpoint ahead of the clock,
 * paging that would never end, unreadable secret) are logged with outcome "failed" (with a stable
 * `reason` for those alerts select on, see failureFields) and the trigger is acknowledged:
 * redelivering cannot fix them, the next scheduled trigger tries again anyway and the "fetcher
 * failing" alert reports them. Nothing is lost either way: the checkpoint only covers published
 * chunks.
 */

import { createHash, randomUUID } from 'node:crypto';
import { CHUNK_ATTRIBUTES, chunkAttributes } from '../shared/cloud/chunk_message.js';
import type { FirestoreState, HeldLease } from '../shared/cloud/firestore_state.js';
import type { Publisher } from '../shared/cloud/pubsub.js';
import { parseTriggerData, type TriggerOverrides, triggerData } from '../shared/cloud/trigger_message.js';
import type { Config } from '../shared/core/config.js';
import {
  describeError,
  isRetryable,
  PagingError,
  TimeAheadError,
  ValidationError,
} from '../shared/core/errors.js';
import type { Logger } from '../shared/core/logger.js';
import { type GtiClient, isGtiQuotaExceeded } from '../shared/gti/client.js';
import { checkRunStart, logStartReport } from '../shared/pipeline/checkpoint.js';
import { invalidItemLogger, logEntitySkipped, runFetch } from '../shared/pipeline/fetch_run.js';
import { entryOptions } from '../shared/pipeline/log_entries.js';
import { pushedMessage } from './pubsub_event.js';

export type FetchOutcome = 'ok' | 'continued' | 'lease_held' | 'failed';

export interface FetcherDeps {
  readonly config: Config;
  readonly logger: Logger;
  readonly gti: GtiClient;
  readonly state: FirestoreState;
  readonly publisher: Publisher;
  /** Chunks published at once (the checkpoint still advances in order). */
  readonly publishConcurrency?: number;
  readonly now?: () => number;
}

/**
 * When to stop fetching, in ms after the start: the budget less a reserve (10%, at most 30 s) for
 * the last page, the final chunks and the save.
 */
export function stopAfterMs(budgetSeconds: number): number {
  const margin = Math.min(30, budgetSeconds * 0.1);
  return (budgetSeconds - margin) * 1000;
}

/** The checkpoint document of a run: the main stream, or one per ad-hoc filter. */
export function checkpointName(useCaseName: string, filter: string | undefined): string {
  if (!filter) return useCaseName;
  return `${useCaseName}--filter-${createHash('sha256').update(filter).digest('hex').slice(0, 16)}`;
}

/**
 * The stable `reason` of a failed run, for alerts and log queries: gti_quota_exceeded,
 * time_ahead (a start or checkpoint ahead of the clock), paging_loop (GTI's paging would not
 * end); undefined for other failures (the `error` field says what happened).
 */
export function failureFields(error: unknown): Record<string, unknown> {
  if (isGtiQuotaExceeded(error)) {
    return {
      reason: 'gti_quota_exceeded',
      ...(error.quota ? { quota: error.quota } : {}),
      ...(error.resetsAtMs !== undefined
        ? { quota_resets_at: new Date(error.resetsAtMs).toISOString() }
        : {}),
    };
  }
  if (error instanceof TimeAheadError) return { reason: 'time_ahead' };
  if (error instanceof PagingError) return { reason: 'paging_loop' };
  return {};
}

export function createFetchHandler(deps: FetcherDeps): (event: unknown) => Promise<void> {
  const { config, logger } = deps;
  const now = deps.now ?? Date.now;
  const chunksTopic = config.pubsub.chunksTopic ?? '';
  const triggerTopic = config.pubsub.triggerTopic ?? '';
  const useCase = config.entries.useCaseName;
  const leaseSeconds = config.fetcher.leaseSeconds;

  return async (event) => {
    const startedAt = now();
    const runId = randomUUID();
    const fields: Record<string, unknown> = {
      event: 'fetch_run',
      run_id: runId,
      notifications: 0,
      chunks: 0,
      trimmed: 0,
      entities: 0,
      entity_chunks: 0,
      entities_skipped: 0,
      pages: 0,
      duplicates: 0,
      seconds: 0,
      outcome: 'failed' satisfies FetchOutcome,
    };
    const finish = (outcome: FetchOutcome, level: 'info' | 'warn' | 'error' = 'info'): void => {
      fields.outcome = outcome;
      fields.seconds = Math.round(now() - startedAt) / 1000;
      logger[level]('fetch run finished', fields);
    };

    let overrides: TriggerOverrides;
    const message = pushedMessage(event);
    fields.trigger_message_id = message.messageId;
    try {
      if (message.undecodable !== undefined)
        throw new ValidationError(`trigger ${message.undecodable.problem}`);
      overrides = parseTriggerData(message.data, new Date(startedAt));
    } catch (error) {
      fields.error = describeError(error);
      fields.reason = 'invalid_trigger';
      finish('failed', 'error');
      return; // a malformed trigger can never succeed: acknowledge it
    }
    if (overrides.continuation) fields.continuation = true;
    if (overrides.filter) fields.filter = overrides.filter;
    if (overrides.start !== undefined) fields.backfill_start = new Date(overrides.start * 1000).toISOString();
    if (overrides.reason) fields.trigger_reason = overrides.reason;

    let held: HeldLease | undefined;
    try {
      // One document per stream holds its checkpoint and its lease (filtered runs have their own).
      const stream = checkpointName(useCase, overrides.filter);
      fields.stream = stream;
      const lease = await deps.state.acquireLease(stream, runId, leaseSeconds);
      if (!lease.acquired) {
        fields.lease_holder = lease.holder;
        fields.lease_expires = new Date(lease.expiresAtMs).toISOString();
        fields.why = 'another fetch run holds the lease; this trigger is acknowledged without fetching';
        finish('lease_held');
        return;
      }
      const ours = lease.lease;
      held = ours;

      // A backfill start resets this run's checkpoint (see trigger_message.ts).
      const checkpoint = overrides.start === undefined ? ours.checkpoint : undefined;
      fields.checkpoint = checkpoint ? new Date(checkpoint.date * 1000).toISOString() : undefined;
      const initialStartSeconds = overrides.start ?? config.gti.initialStartSeconds;
      const report = checkRunStart({
        checkpoint,
        checkpointName: `checkpoint ${ours.store.description}`,
        startSeconds: initialStartSeconds,
        startName:
          overrides.start === undefined ? 'VT_DATE_FILTER (the first-run start)' : 'The trigger "start"',
        nowSeconds: Math.floor(startedAt / 1000),
      });
      logStartReport(logger.child({ run_id: runId }), report);
      if (report.retentionGap) fields.retention_gap = report.retentionGap;

      const stopAt = startedAt + stopAfterMs(config.fetcher.timeBudgetSeconds);
      const incremental = config.gti.order === 'date+';
      const result = await runFetch({
        gti: deps.gti,
        filters: [config.gti.filters, overrides.filter ?? ''].filter(Boolean).join(' '),
        order: config.gti.order,
        limit: config.gti.limit,
        checkpoint,
        initialStartSeconds,
        entryOptions: entryOptions(config, new Date(startedAt)),
        concurrency: deps.publishConcurrency ?? 4,
        deliver: async (chunk) => {
          await deps.publisher.publish(chunksTopic, chunk.payload, chunkAttributes(runId, chunk));
        },
        saveCheckpoint: (mark) => ours.store.save(mark),
        // Newest-first runs only move the checkpoint when complete, so they never stop early.
        ...(incremental ? { shouldStop: () => now() >= stopAt } : {}),
        signal: ours.lost,
        maxPagesWithoutNew: config.gti.maxPagesWithoutNew,
        onInvalidItem: invalidItemLogger(logger.child({ run_id: runId })),
        now,
        onEntitySkipped: (skip) => logEntitySkipped(logger, skip),
      });
      Object.assign(fields, {
        notifications: result.stats.notifications,
        chunks: result.stats.chunks,
        trimmed: result.stats.trimmed,
        entities: result.stats.entities,
        entity_chunks: result.stats.entityChunks,
        entities_skipped: result.stats.entitiesSkipped,
        pages: result.stats.pages,
        duplicates: result.stats.duplicates,
        invalid: result.stats.invalid,
        bytes: result.stats.bytes,
        checkpoint: result.checkpoint ? new Date(result.checkpoint.date * 1000).toISOString() : undefined,
      });
      if (ours.lost.aborted) throw ours.lost.reason;
      if (!result.stoppedEarly) {
        finish('ok');
        return;
      }
      // Release first: a continuation that arrived while we still held the lease would be dropped.
      held = undefined;
      await ours.release();
      const next: TriggerOverrides = {
        continuation: true,
        ...(overrides.filter ? { filter: overrides.filter } : {}),
      };
      fields.continuation_message_id = await deps.publisher.publish(triggerTopic, triggerData(next), {
        source: 'continuation',
        [CHUNK_ATTRIBUTES.runId]: runId,
      });
      finish('continued');
    } catch (error) {
      const cause = held?.lost.aborted ? held.lost.reason : error;
      fields.error = describeError(cause);
      Object.assign(fields, failureFields(cause));
      const retry = isRetryable(cause);
      fields.retry = retry;
      finish('failed', 'error');
      if (retry) throw cause; // Pub/Sub redelivers the trigger
    } finally {
      if (held !== undefined) await held.release().catch(() => undefined);
    }
  };
}
