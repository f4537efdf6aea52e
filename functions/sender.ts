/**
 * `sendToChronicle`: one chunk message → one logs:import request.
 *
 *   sent           Chronicle accepted it → acknowledge.
 *   retry          429 / 5xx / timeout / anything unexpected → throw: Pub/Sub redelivers with the
 *                  subscription's backoff and dead-letters after max_delivery_attempts.
 *   split          too large (413, or 400 INVALID_ARGUMENT "Request payload size exceeds the
 *                  limit", as the client classifies it) → the two halves are published back to the
 *                  chunks topic (split_from = this message id), then this message is acknowledged:
 *                  never lost, never resent whole.
 *   dead_lettered  invalid message (reason invalid_message), too large on a single entry
 *                  (too_large), any other 400, 401/403/404 (permanent_error) → published to the
 *                  dead-letter topic with the DLQ attributes, then acknowledged: no pointless
 *                  retries, never a crash loop.
 *
 * If publishing a half or a dead letter fails, the function throws and the whole message comes
 * back: at worst a half is published twice (a duplicate), never lost.
 */

import type { LogImporter } from '../shared/chronicle/client.js';
import { parseImportBody, splitBody } from '../shared/chronicle/request_body.js';
import {
  CHUNK_ATTRIBUTES,
  DEAD_LETTER_ATTRIBUTES,
  type DeadLetterReason,
  parseChunkData,
  withoutDeadLetterAttributes,
} from '../shared/cloud/chunk_message.js';
import type { MessageAttributes, Publisher } from '../shared/cloud/pubsub.js';
import type { Config } from '../shared/core/config.js';
import {
  ChronicleError,
  ChroniclePermanentError,
  ChronicleRetryableError,
  ChronicleTooLargeError,
  describeError,
  ValidationError,
} from '../shared/core/errors.js';
import type { Logger } from '../shared/core/logger.js';
import { type PushedMessage, pushedMessage } from './pubsub_event.js';

export type ChunkOutcome = 'sent' | 'split' | 'dead_lettered' | 'retry';

export interface SenderDeps {
  readonly config: Config;
  readonly logger: Logger;
  readonly importer: LogImporter;
  readonly publisher: Publisher;
  readonly now?: () => number;
}

/** Pub/Sub attribute values are limited to 1024 bytes; keep error messages well below. */
const MAX_ATTRIBUTE_CHARS = 500;

/**
 * Delivery attempts of a message as far as this instance can tell. Pub/Sub's own count
 * (deliveryAttempt) is dropped by functions-framework's push conversion, so this counts the
 * deliveries this instance has seen: exact with one instance, a lower bound with several.
 */
export class AttemptCounter {
  readonly #seen = new Map<string, number>();
  constructor(readonly capacity = 10_000) {}
  record(messageId: string | undefined): number {
    if (messageId === undefined) return 1;
    const n = (this.#seen.get(messageId) ?? 0) + 1;
    this.#seen.delete(messageId);
    this.#seen.set(messageId, n);
    if (this.#seen.size > this.capacity) {
      const oldest = this.#seen.keys().next().value;
      if (oldest !== undefined) this.#seen.delete(oldest);
    }
    return n;
  }
  forget(messageId: string | undefined): void {
    if (messageId !== undefined) this.#seen.delete(messageId);
  }
}

export function deadLetterAttributes(
  message: PushedMessage,
  reason: DeadLetterReason,
  detail: {
    error: string;
    attempt: number;
    time: Date;
    status?: number | undefined;
    rpcStatus?: string | undefined;
  },
): MessageAttributes {
  const a = DEAD_LETTER_ATTRIBUTES;
  return {
    ...withoutDeadLetterAttributes(message.attributes),
    [a.reason]: reason,
    [a.errorMessage]: detail.error.slice(0, MAX_ATTRIBUTE_CHARS),
    [a.deliveryAttempt]: String(detail.attempt),
    [a.deadLetteredAt]: detail.time.toISOString(),
    ...(message.messageId === undefined ? {} : { [a.sourceMessageId]: message.messageId }),
    ...(detail.status === undefined ? {} : { [a.httpStatus]: String(detail.status) }),
    ...(detail.rpcStatus === undefined ? {} : { [a.rpcStatus]: detail.rpcStatus }),
  };
}

export function createSendHandler(deps: SenderDeps): (event: unknown) => Promise<void> {
  const { config, logger, importer, publisher } = deps;
  const now = deps.now ?? Date.now;
  const chunksTopic = config.pubsub.chunksTopic ?? '';
  const deadLetterTopic = config.pubsub.deadLetterTopic ?? '';
  const attempts = new AttemptCounter();

  return async (event) => {
    const startedAt = now();
    const message = pushedMessage(event);
    const attempt = message.deliveryAttempt ?? attempts.record(message.messageId);
    const fields: Record<string, unknown> = {
      event: 'chunk_processed',
      message_id: message.messageId,
      run_id: message.attributes[CHUNK_ATTRIBUTES.runId],
      seq: message.attributes[CHUNK_ATTRIBUTES.seq],
      entries: 0,
      bytes: message.data.length,
      seconds: 0,
      outcome: 'retry' satisfies ChunkOutcome,
      attempt,
    };
    const finish = (outcome: ChunkOutcome, level: 'info' | 'warn' | 'error' = 'info'): void => {
      fields.outcome = outcome;
      fields.seconds = Math.round(now() - startedAt) / 1000;
      logger[level]('chunk processed', fields);
      if (outcome !== 'retry') attempts.forget(message.messageId);
    };
    const deadLetter = async (
      reason: DeadLetterReason,
      error: unknown,
      status?: number,
      rpcStatus?: string,
    ): Promise<void> => {
      const errorText = describeError(error);
      await publisher.publish(
        deadLetterTopic,
        message.data,
        deadLetterAttributes(message, reason, {
          error: errorText,
          attempt,
          time: new Date(now()),
          status,
          rpcStatus,
        }),
      );
      fields.dlq_reason = reason;
      fields.error = errorText;
      finish('dead_lettered', 'error');
    };

    try {
      let payload: ReturnType<typeof parseChunkData>;
      try {
        payload = parseChunkData(message.data);
      } catch (error) {
        if (!(error instanceof ValidationError)) throw error;
        await deadLetter('invalid_message', error);
        return;
      }
      fields.entries = payload.entryCount;
      fields.bytes = payload.bytes;
      try {
        await importer.importLogs(payload.payload);
        finish('sent');
        return;
      } catch (error) {
        if (error instanceof ChronicleError) {
          fields.http_status = error.status;
          if (error.rpcStatus !== undefined) fields.rpc_status = error.rpcStatus;
        }
        if (error instanceof ChronicleTooLargeError) {
          const halves = splitBody(payload.body);
          if (halves === undefined) {
            await deadLetter('too_large', error, error.status, error.rpcStatus);
            return;
          }
          const ids = await Promise.all(
            halves.map((half) =>
              publisher.publish(chunksTopic, Buffer.from(half), halfAttributes(message, half)),
            ),
          );
          fields.split_into = ids;
          finish('split', 'warn');
          return;
        }
        if (error instanceof ChroniclePermanentError) {
          await deadLetter('permanent_error', error, error.status, error.rpcStatus);
          return;
        }
        throw error;
      }
    } catch (error) {
      fields.error = describeError(error);
      fields.retryable = error instanceof ChronicleRetryableError || !(error instanceof ChronicleError);
      finish('retry', 'warn');
      throw error; // Pub/Sub redelivers; after max attempts it dead-letters the message
    }
  };
}

function halfAttributes(message: PushedMessage, half: string): MessageAttributes {
  const attributes = withoutDeadLetterAttributes(message.attributes);
  attributes[CHUNK_ATTRIBUTES.entryCount] = String(parseImportBody(half).logs.length);
  attributes[CHUNK_ATTRIBUTES.byteSize] = String(Buffer.byteLength(half));
  if (message.messageId !== undefined) attributes[CHUNK_ATTRIBUTES.splitFrom] = message.messageId;
  return attributes;
}
