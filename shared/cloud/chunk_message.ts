/**
 * The Pub/Sub message that carries one chunk: `data` is the exact request body — logs:import or
 * entities:import, as its `kind` attribute says (absent: logs, as on messages published before
 * entities existed) — and the attributes below describe it. Dead-lettered copies gain the DLQ_* attributes (or, when
 * Pub/Sub itself dead-lettered after max attempts, its CloudPubSubDeadLetter* attributes).
 *
 * Every attribute set this project publishes is built here (chunkAttributes, splitHalfAttributes,
 * deadLetterAttributes, replayAttributes) and passes through publishableAttributes, the one place
 * Pub/Sub's attribute limits are applied: a dead letter never fails to publish because of what it
 * copies from the message it describes.
 */
import { BODY_KINDS, type BodyKind, parseImportBody } from '../chronicle/request_body.js';
import { canonicalRpcStatus, ValidationError } from '../core/errors.js';
import { excerpt } from '../core/redact.js';
import type { Chunk } from '../pipeline/chunker.js';
import type { MessageAttributes } from './pubsub.js';

export const CHUNK_ATTRIBUTES = {
  /** logs | entities: which import the data is for (absent = logs). */
  kind: 'kind',
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

/**
 * Pub/Sub's limits on a message's attributes (https://cloud.google.com/pubsub/quotas#resource_limits:
 * 100 attributes per message, keys up to 256 bytes, values up to 1,024 bytes; a longer value is
 * refused with INVALID_ARGUMENT, googleapis/google-cloud-python#7906). The emulator enforces none of
 * them (checked with 0.8.20), so tests assert the sizes themselves.
 */
export const PUBSUB_ATTRIBUTE_LIMITS = { count: 100, keyBytes: 256, valueBytes: 1024 } as const;

/** Longest dlq_error_message, in characters, before the byte limit applies. */
const ERROR_MESSAGE_CHARS = 500;

/** The longest start of `value` within `maxBytes` UTF-8 bytes, cut on a character and ending in `…`. */
export function utf8Prefix(value: string, maxBytes: number): string {
  if (Buffer.byteLength(value) <= maxBytes) return value;
  const bytes = Buffer.from(value, 'utf8');
  let end = Math.max(0, maxBytes - 3); // room for the 3-byte ellipsis
  while (end > 0 && ((bytes[end] ?? 0) & 0xc0) === 0x80) end -= 1; // not inside a character
  return `${bytes.subarray(0, end).toString('utf8')}…`;
}

/**
 * Attributes Pub/Sub accepts: `own` (what this project sets) wins over `copied` (what a message
 * already carried), values are cut to the byte limit, keys over their limit are dropped, and at
 * most the allowed number are kept, own ones first.
 */
export function publishableAttributes(
  own: Readonly<Record<string, string>>,
  copied: Readonly<Record<string, string>> = {},
): MessageAttributes {
  const out: MessageAttributes = {};
  let count = 0;
  for (const [key, value] of [...Object.entries(own), ...Object.entries(copied)]) {
    if (key in out || count >= PUBSUB_ATTRIBUTE_LIMITS.count) continue;
    if (Buffer.byteLength(key) > PUBSUB_ATTRIBUTE_LIMITS.keyBytes) continue;
    out[key] = utf8Prefix(value, PUBSUB_ATTRIBUTE_LIMITS.valueBytes);
    count += 1;
  }
  return out;
}

/** The attributes of a chunk the fetcher publishes. */
export function chunkAttributes(runId: string, chunk: Chunk): MessageAttributes {
  return publishableAttributes({
    [CHUNK_ATTRIBUTES.kind]: chunk.kind,
    [CHUNK_ATTRIBUTES.runId]: runId,
    [CHUNK_ATTRIBUTES.seq]: String(chunk.seq),
    [CHUNK_ATTRIBUTES.entryCount]: String(chunk.ids.length),
    // Absent when no notification in the chunk has a usable date.
    ...(chunk.newestDate === undefined
      ? {}
      : { [CHUNK_ATTRIBUTES.newestNotificationDate]: new Date(chunk.newestDate * 1000).toISOString() }),
    [CHUNK_ATTRIBUTES.byteSize]: String(chunk.bytes),
  });
}

/** The attributes of one half of a chunk split after a 413: the original's, with its own counts. */
export function splitHalfAttributes(
  original: Readonly<Record<string, string>>,
  half: { readonly entryCount: number; readonly bytes: number; readonly splitFrom: string | undefined },
): MessageAttributes {
  return publishableAttributes(
    {
      [CHUNK_ATTRIBUTES.entryCount]: String(half.entryCount),
      [CHUNK_ATTRIBUTES.byteSize]: String(half.bytes),
      ...(half.splitFrom === undefined ? {} : { [CHUNK_ATTRIBUTES.splitFrom]: half.splitFrom }),
    },
    withoutDeadLetterAttributes(original),
  );
}

export interface DeadLetterDetail {
  /** What went wrong; redacted and cut here. */
  readonly error: string;
  readonly attempt: number;
  readonly time: Date;
  readonly sourceMessageId?: string | undefined;
  readonly status?: number | undefined;
  /** Copied only when it is a google.rpc status name (canonicalRpcStatus). */
  readonly rpcStatus?: string | undefined;
}

/**
 * The attributes of a dead letter the sender publishes: the original's (without an earlier
 * dead-lettering's), then the DLQ_* ones. Secrets are redacted before anything is cut.
 */
export function deadLetterAttributes(
  original: Readonly<Record<string, string>>,
  reason: DeadLetterReason,
  detail: DeadLetterDetail,
): MessageAttributes {
  const a = DEAD_LETTER_ATTRIBUTES;
  const rpcStatus = canonicalRpcStatus(detail.rpcStatus);
  return publishableAttributes(
    {
      [a.reason]: reason,
      [a.errorMessage]: excerpt(detail.error, ERROR_MESSAGE_CHARS),
      [a.deliveryAttempt]: String(detail.attempt),
      [a.deadLetteredAt]: detail.time.toISOString(),
      ...(detail.sourceMessageId === undefined ? {} : { [a.sourceMessageId]: detail.sourceMessageId }),
      ...(detail.status === undefined ? {} : { [a.httpStatus]: String(detail.status) }),
      ...(rpcStatus === undefined ? {} : { [a.rpcStatus]: rpcStatus }),
    },
    withoutDeadLetterAttributes(original),
  );
}

/** A dead letter's replay_count attribute (0 when absent or malformed). */
export function replayCountOf(attributes: Readonly<Record<string, string>>): number {
  const raw = attributes[DEAD_LETTER_ATTRIBUTES.replayCount]?.trim();
  return raw !== undefined && /^\d+$/.test(raw) ? Number(raw) : 0;
}

/** Attributes of a replayed copy: every original attribute, replay_count + 1 and replayed_at. */
export function replayAttributes(attributes: Readonly<Record<string, string>>, now: Date): MessageAttributes {
  return publishableAttributes(
    {
      [DEAD_LETTER_ATTRIBUTES.replayCount]: String(replayCountOf(attributes) + 1),
      [DEAD_LETTER_ATTRIBUTES.replayedAt]: now.toISOString(),
    },
    attributes,
  );
}

/**
 * The kind of chunk a message carries, from its `kind` attribute: absent means logs (messages
 * published before entities existed); any other value than logs or entities is a ValidationError.
 */
export function chunkKindOf(attributes: Readonly<Record<string, string>>): BodyKind {
  const raw = attributes[CHUNK_ATTRIBUTES.kind];
  if (raw === undefined) return 'logs';
  if ((BODY_KINDS as readonly string[]).includes(raw)) return raw as BodyKind;
  throw new ValidationError(
    `attribute ${CHUNK_ATTRIBUTES.kind} is ${JSON.stringify(excerpt(raw, 40))}: expected ${BODY_KINDS.join(' or ')}`,
  );
}

export interface ChunkPayload {
  /** Which import the body is for (the kind attribute, checked against the body). */
  readonly kind: BodyKind;
  /** The request body as text (for splitting on 413). */
  readonly body: string;
  /** The request body as the bytes to send: the message data itself, not re-encoded. */
  readonly payload: Buffer;
  readonly entryCount: number;
  readonly bytes: number;
}

/**
 * Validates a chunk message: its kind attribute and its data (an import body of that kind); throws
 * ValidationError saying what is wrong.
 */
export function parseChunkData(
  data: Buffer | string | undefined,
  attributes: Readonly<Record<string, string>>,
): ChunkPayload {
  const kind = chunkKindOf(attributes);
  const text = data === undefined ? '' : typeof data === 'string' ? data : data.toString('utf8');
  const payload = Buffer.isBuffer(data) ? data : Buffer.from(text, 'utf8');
  const { items } = parseImportBody(text, kind);
  return { kind, body: text, payload, entryCount: items.length, bytes: payload.length };
}
