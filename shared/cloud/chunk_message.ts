/**
 * The Pub/Sub message that carries one chunk: `data` is the exact logs:import request body, and
 * the attributes below describe it. Dead-lettered copies gain the DLQ_* attributes (or, when
 * Pub/Sub itself dead-lettered after max attempts, its CloudPubSubDeadLetter* attributes).
 */
import { parseImportBody } from '../chronicle/request_body.js';

export const CHUNK_ATTRIBUTES = {
  runId: 'run_id',
  seq: 'seq',
  entryCount: 'entry_count',
  newestNotificationDate: 'newest_notification_date',
  byteSize: 'byte_size',
  /** Set on halves republished after a 413: the message id they were split from. */
  splitFrom: 'split_from',
} as const;

export const DEAD_LETTER_ATTRIBUTES = {
  /** invalid_message | permanent_error | too_large */
  reason: 'dlq_reason',
  httpStatus: 'dlq_http_status',
  rpcStatus: 'dlq_rpc_status',
  errorMessage: 'dlq_error_message',
  deliveryAttempt: 'dlq_delivery_attempt',
  sourceMessageId: 'dlq_source_message_id',
  deadLetteredAt: 'dlq_time',
  replayCount: 'replay_count',
  replayedAt: 'replayed_at',
} as const;

/** Attributes Pub/Sub adds when it dead-letters after max_delivery_attempts. */
export const PUBSUB_DEAD_LETTER_ATTRIBUTES = {
  deliveryCount: 'CloudPubSubDeadLetterSourceDeliveryCount',
  sourceSubscription: 'CloudPubSubDeadLetterSourceSubscription',
  sourceTopicPublishTime: 'CloudPubSubDeadLetterSourceTopicPublishTime',
} as const;

const KEPT_ON_REDELIVERY: ReadonlySet<string> = new Set([
  DEAD_LETTER_ATTRIBUTES.replayCount,
  DEAD_LETTER_ATTRIBUTES.replayedAt,
]);
const DEAD_LETTER_KEYS: ReadonlySet<string> = new Set(
  [...Object.values(DEAD_LETTER_ATTRIBUTES), ...Object.values(PUBSUB_DEAD_LETTER_ATTRIBUTES)].filter(
    (key) => !KEPT_ON_REDELIVERY.has(key),
  ),
);

/**
 * A message's attributes without those of an earlier dead-lettering (a replayed message carries
 * them), so a new dead letter or a split half describes only what happened now. replay_count and
 * replayed_at stay: the replay limit depends on them.
 */
export function withoutDeadLetterAttributes(
  attributes: Readonly<Record<string, string>>,
): Record<string, string> {
  const kept: Record<string, string> = {};
  for (const [key, value] of Object.entries(attributes)) if (!DEAD_LETTER_KEYS.has(key)) kept[key] = value;
  return kept;
}

export type DeadLetterReason = 'invalid_message' | 'permanent_error' | 'too_large';

export interface ChunkPayload {
  /** The request body as text (for splitting on 413). */
  readonly body: string;
  /** The request body as the bytes to send: the message data itself, not re-encoded. */
  readonly payload: Buffer;
  readonly entryCount: number;
  readonly bytes: number;
}

/** Validates a chunk message's data (a logs:import body); throws ValidationError saying what is wrong. */
export function parseChunkData(data: Buffer | string | undefined): ChunkPayload {
  const text = data === undefined ? '' : typeof data === 'string' ? data : data.toString('utf8');
  const payload = Buffer.isBuffer(data) ? data : Buffer.from(text, 'utf8');
  const { logs } = parseImportBody(text);
  return { body: text, payload, entryCount: logs.length, bytes: payload.length };
}
