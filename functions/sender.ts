/**
 * `sendToChronicle`: one chunk message → one import request: logs:import, or entities:import for a
 * chunk whose `kind` attribute is `entities` (chunk_message.ts). Both kinds are handled alike:
 *
 *   sent           Chronicle accepted it → acknowledge.
 *   retry          429 / 5xx / timeout / anything unexpected → throw: Pub/Sub redelivers with the
 *                  subscription's backoff and dead-letters after max_delivery_attempts.
 *   split          too large (413, or 400 INVALID_ARGUMENT "Request payload size exceeds the
 *                  limit", as the client classifies it) → the two halves (same kind) are published
 *                  back to the chunks topic (split_from = this message id), then this message is
 *                  acknowledged: never lost, never resent whole.
 *   dead_lettered  invalid message (reason invalid_message: data that is not an import body of the
 *                  message's kind, or a kind attribute other than logs or entities; data that is not
 *                  base64 is kept as received), too large on a single entry or entity (too_large,
 *                  naming the notification and its size), any other 400 (e.g. one invalid entity,
 *                  which rejects its whole request), 401/403/404 (permanent_error) → published to the
 *                  dead-letter topic with the DLQ attributes (the kind attribute kept), then
 *                  acknowledged: no pointless retries, never a crash loop.
 *
 * Values echoed from the pushed message into the log line are bounded, and secrets are redacted
 * before anything is cut, in the log line and in the dead letter's attributes.
 *
 * If publishing a half or a dead letter fails, the function throws and the whole message comes
 * back: at worst a half is published twice (a duplicate), never lost.
 */

import { type ChronicleImporter, importBody } from '../shared/chronicle/client.js';
import { type BodyKind, parseImportBody, splitBody } from '../shared/chronicle/request_body.js';
import { singleEntryOf, singleEntryTooLarge } from '../shared/chronicle/too_large.js';
import {
  CHUNK_ATTRIBUTES,
  chunkKindOf,
  type DeadLetterReason,
  deadLetterAttributes,
  parseChunkData,
  splitHalfAttributes,
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
import { excerpt } from '../shared/core/redact.js';
import { type PushedMessage, pushedMessage } from './pubsub_event.js';

export type ChunkOutcome = 'sent' | 'split' | 'dead_lettered' | 'retry';

export interface SenderDeps {
  readonly config: Config;
  readonly logger: Logger;
  readonly importer: ChronicleImporter;
  readonly publisher: Publisher;
  readonly now?: () => number;
}

/**
 * Longest value echoed from a pushed message into the log line (Cloud Logging keeps entries up to
 * 256 KB; a push that did not come from Pub/Sub can carry anything).
 */
const ECHO_CHARS = 200;
/** Longest error text in the log line. */
const ERROR_CHARS = 2000;
/** Longest message id the attempt counter keeps. */
const MAX_COUNTED_ID_CHARS = 256;

/**
 * Delivery attempts of a message as far as this instance can tell. Pub/Sub's own count
 * (deliveryAttempt) is dropped by functions-framework's push conversion, so this counts the
 * deliveries this instance has seen: exact with one instance, a lower bound with several.
 */
export class AttemptCounter {
  readonly #seen = new Map<string, number>();
  constructor(readonly capacity = 10_000) {}
  record(messageId: string | undefined): number {
    // Pub/Sub's ids are short digit strings; a push carrying a huge one is not remembered.
    if (messageId === undefined || messageId.length > MAX_COUNTED_ID_CHARS) return 1;
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
    const echo = (value: string | undefined) =>
      value === undefined ? undefined : excerpt(value, ECHO_CHARS);
    const fields: Record<string, unknown> = {
      event: 'chunk_processed',
      message_id: echo(message.messageId),
      run_id: echo(message.attributes[CHUNK_ATTRIBUTES.runId]),
      seq: echo(message.attributes[CHUNK_ATTRIBUTES.seq]),
      kind: kindField(message.attributes),
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
      data: Buffer = message.data,
    ): Promise<void> => {
      const errorText = excerpt(describeError(error), ERROR_CHARS);
      await publisher.publish(
        deadLetterTopic,
        data,
        deadLetterAttributes(message.attributes, reason, {
          error: errorText,
          attempt,
          time: new Date(now()),
          sourceMessageId: message.messageId,
          status,
          rpcStatus,
        }),
      );
      fields.dlq_reason = reason;
      fields.error = errorText;
      finish('dead_lettered', 'error');
    };

    try {
      if (message.undecodable !== undefined) {
        // Named as what it is (not "empty"), and dead-lettered as received: nothing is lost.
        const { problem, received } = message.undecodable;
        await deadLetter('invalid_message', new ValidationError(problem), undefined, undefined, received);
        return;
      }
      let payload: ReturnType<typeof parseChunkData>;
      try {
        payload = parseChunkData(message.data, message.attributes);
      } catch (error) {
        if (!(error instanceof ValidationError)) throw error;
        await deadLetter('invalid_message', error);
        return;
      }
      fields.entries = payload.entryCount;
      fields.bytes = payload.bytes;
      try {
        await importBody(importer, payload.kind, payload.payload);
        finish('sent');
        return;
      } catch (error) {
        if (error instanceof ChronicleError) {
          fields.http_status = error.status;
          if (error.rpcStatus !== undefined) fields.rpc_status = error.rpcStatus;
        }
        if (error instanceof ChronicleTooLargeError) {
          const halves = splitBody(payload.body, payload.kind);
          if (halves === undefined) {
            const single = singleEntryOf(payload.body);
            if (single?.notificationId !== undefined) fields.notification_id = single.notificationId;
            const refused = single === undefined ? error : singleEntryTooLarge(error, single);
            await deadLetter('too_large', refused, error.status, error.rpcStatus);
            return;
          }
          const ids = await Promise.all(
            halves.map((half) =>
              publisher.publish(chunksTopic, Buffer.from(half), halfAttributes(message, payload.kind, half)),
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
      fields.error = excerpt(describeError(error), ERROR_CHARS);
      fields.retryable = error instanceof ChronicleRetryableError || !(error instanceof ChronicleError);
      finish('retry', 'warn');
      throw error; // Pub/Sub redelivers; after max attempts it dead-letters the message
    }
  };
}

/** The log line's kind: the message's, or `invalid` when its kind attribute is unknown. */
function kindField(attributes: Readonly<Record<string, string>>): BodyKind | 'invalid' {
  try {
    return chunkKindOf(attributes);
  } catch {
    return 'invalid';
  }
}

function halfAttributes(message: PushedMessage, kind: BodyKind, half: string): MessageAttributes {
  return splitHalfAttributes(message.attributes, {
    entryCount: parseImportBody(half, kind).items.length,
    bytes: Buffer.byteLength(half),
    splitFrom: message.messageId,
  });
}
