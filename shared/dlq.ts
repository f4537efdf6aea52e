/**
 * Dead-letter operations: inspect, replay and purge the messages waiting on the dead-letter
 * subscription. Messages are pulled synchronously (Pub/Sub v1 `pull`) so this module decides
 * exactly when each one is acknowledged: a replayed message only after its republish is confirmed
 * (or Chronicle accepted it), a purged one only after it was written and fsynced to the archive.
 * Everything it does not acknowledge is held (ack deadline extended) until the end of the run and
 * then released with a zero ack deadline, so it is immediately available again.
 *
 * The grouping, filtering, attribute and rate logic are pure functions; Pub/Sub is reached through
 * the small `DlqTransport` interface, created lazily by `createPubSubTransport`.
 */
import { type FileHandle, mkdir, open } from 'node:fs/promises';
import { dirname } from 'node:path';
import type { PubSub, protos, v1 } from '@google-cloud/pubsub';
import { CHUNK_ATTRIBUTES, DEAD_LETTER_ATTRIBUTES, PUBSUB_DEAD_LETTER_ATTRIBUTES } from './chunk_message.js';
import { type ErrorOptions, IocStreamError } from './errors.js';
import { createPublisher, createPubSubClient, type PubSubSettings } from './pubsub.js';

// ---------------------------------------------------------------------------------------------
// Model

export interface DlqMessage {
  readonly ackId: string;
  readonly messageId: string;
  readonly publishTime: Date | undefined;
  readonly attributes: Readonly<Record<string, string>>;
  readonly data: Buffer;
  /** Delivery attempt on the dead-letter subscription (0 when it has no dead-letter policy). */
  readonly deliveryAttempt: number;
}

/** Why a message was dead-lettered, from our dlq_* attributes or Pub/Sub's CloudPubSubDeadLetter*. */
export interface DeadLetterReasonInfo {
  /** dlq_reason; `max_delivery_attempts` when Pub/Sub dead-lettered it; `unknown` otherwise. */
  readonly reason: string;
  readonly httpStatus: string | undefined;
  readonly rpcStatus: string | undefined;
  readonly errorMessage: string | undefined;
  readonly sourceSubscription: string | undefined;
  /** dlq_delivery_attempt, or CloudPubSubDeadLetterSourceDeliveryCount. */
  readonly deliveryCount: number | undefined;
}

export const MAX_DELIVERY_ATTEMPTS_REASON = 'max_delivery_attempts';
const ERROR_MESSAGE_MAX = 200;

function intAttr(value: string | undefined): number | undefined {
  if (value === undefined || !/^\d+$/.test(value.trim())) return undefined;
  return Number(value.trim());
}

function textAttr(value: string | undefined): string | undefined {
  if (value === undefined) return undefined;
  const trimmed = value.replace(/\s+/g, ' ').trim();
  if (trimmed === '') return undefined;
  return trimmed.length > ERROR_MESSAGE_MAX ? `${trimmed.slice(0, ERROR_MESSAGE_MAX - 1)}…` : trimmed;
}

/** An ISO 8601 time or unix seconds/milliseconds attribute, in ms; undefined when absent or malformed. */
function timeAttr(value: string | undefined): number | undefined {
  if (value === undefined || value.trim() === '') return undefined;
  const v = value.trim();
  if (/^\d+(\.\d+)?$/.test(v)) return Number(v) < 1e12 ? Number(v) * 1000 : Number(v);
  const ms = Date.parse(v);
  return Number.isNaN(ms) ? undefined : ms;
}

/**
 * Why a message was dead-lettered. A replayed copy keeps every attribute, so a message dead-lettered
 * again after a replay can carry both our dlq_* attributes and Pub/Sub's: the ones written after
 * `replayed_at` (dlq_time, CloudPubSubDeadLetterSourceTopicPublishTime) describe the current failure.
 */
export function reasonOf(attributes: Readonly<Record<string, string>>): DeadLetterReasonInfo {
  const D = DEAD_LETTER_ATTRIBUTES;
  const P = PUBSUB_DEAD_LETTER_ATTRIBUTES;
  const ours = textAttr(attributes[D.reason]);
  const byPubSub =
    attributes[P.deliveryCount] !== undefined || attributes[P.sourceSubscription] !== undefined;
  const replayedAt = timeAttr(attributes[D.replayedAt]);
  const current = (name: string) => {
    if (replayedAt === undefined) return true;
    const t = timeAttr(attributes[name]);
    return t !== undefined && t >= replayedAt;
  };
  const useOurs = ours !== undefined && (!byPubSub || current(D.deadLetteredAt));
  const pubsubCurrent = byPubSub && (!useOurs || current(P.sourceTopicPublishTime));
  const pubsubCount = pubsubCurrent ? intAttr(attributes[P.deliveryCount]) : undefined;
  const sourceSubscription = pubsubCurrent ? textAttr(attributes[P.sourceSubscription]) : undefined;
  if (!useOurs) {
    return {
      reason: byPubSub ? MAX_DELIVERY_ATTEMPTS_REASON : 'unknown',
      httpStatus: undefined,
      rpcStatus: undefined,
      errorMessage: undefined,
      sourceSubscription,
      deliveryCount: pubsubCount,
    };
  }
  return {
    reason: ours,
    httpStatus: textAttr(attributes[D.httpStatus]),
    rpcStatus: textAttr(attributes[D.rpcStatus]),
    errorMessage: textAttr(attributes[D.errorMessage]),
    sourceSubscription,
    deliveryCount: intAttr(attributes[D.deliveryAttempt]) ?? pubsubCount,
  };
}

/** Entries in a chunk: the entry_count attribute, else the length of inlineSource.logs, else 0. */
export function entryCountOf(attributes: Readonly<Record<string, string>>, data: Buffer): number {
  const fromAttr = intAttr(attributes[CHUNK_ATTRIBUTES.entryCount]);
  if (fromAttr !== undefined) return fromAttr;
  try {
    const logs = (JSON.parse(data.toString('utf8')) as { inlineSource?: { logs?: unknown } } | null)
      ?.inlineSource?.logs;
    return Array.isArray(logs) ? logs.length : 0;
  } catch {
    return 0;
  }
}

export function replayCountOf(attributes: Readonly<Record<string, string>>): number {
  return intAttr(attributes[DEAD_LETTER_ATTRIBUTES.replayCount]) ?? 0;
}

/** Attributes of the republished copy: every original attribute, replay_count + 1 and replayed_at. */
export function replayAttributes(
  attributes: Readonly<Record<string, string>>,
  now: Date,
): Record<string, string> {
  return {
    ...attributes,
    [DEAD_LETTER_ATTRIBUTES.replayCount]: String(replayCountOf(attributes) + 1),
    [DEAD_LETTER_ATTRIBUTES.replayedAt]: now.toISOString(),
  };
}

// ---------------------------------------------------------------------------------------------
// Filters

export interface MessageFilter {
  /** Matches the derived reason, the HTTP status or the google.rpc status (e.g. permanent_error, 403). */
  readonly reasons: readonly string[];
  /** Every attribute key must equal its value (`*` = present with any value). */
  readonly attributes: readonly { readonly key: string; readonly value: string }[];
}

export const MATCH_ALL: MessageFilter = { reasons: [], attributes: [] };

/** Parses `--reason` and `--filter key=value` options; throws DlqUsageError naming a bad one. */
export function parseFilter(reasons: readonly string[], filters: readonly string[]): MessageFilter {
  const attributes = filters.map((f) => {
    const at = f.indexOf('=');
    if (at <= 0)
      throw new DlqUsageError(`--filter "${f}" must be KEY=VALUE (an attribute name and its value)`);
    return { key: f.slice(0, at).trim(), value: f.slice(at + 1).trim() };
  });
  const cleaned = reasons.map((r) => r.trim()).filter((r) => r !== '');
  return { reasons: cleaned, attributes };
}

export function matchesFilter(attributes: Readonly<Record<string, string>>, filter: MessageFilter): boolean {
  if (filter.reasons.length > 0) {
    const info = reasonOf(attributes);
    const candidates = [info.reason, info.httpStatus, info.rpcStatus].filter((v) => v !== undefined);
    const wanted = filter.reasons.map((r) => r.toLowerCase());
    if (!candidates.some((c) => wanted.includes(c.toLowerCase()))) return false;
  }
  return filter.attributes.every(({ key, value }) =>
    value === '*' ? attributes[key] !== undefined : attributes[key] === value,
  );
}

export function describeFilter(filter: MessageFilter): string {
  const parts = [
    ...(filter.reasons.length > 0 ? [`reason in (${filter.reasons.join(', ')})`] : []),
    ...filter.attributes.map(({ key, value }) => `${key}=${value}`),
  ];
  return parts.length === 0 ? 'all messages' : parts.join(' and ');
}

// ---------------------------------------------------------------------------------------------
// Summary (dlq list)

export interface MessageDigest {
  readonly messageId: string;
  readonly publishTime: Date | undefined;
  readonly attributes: Readonly<Record<string, string>>;
  readonly entries: number;
  readonly bytes: number;
}

export function digestOf(message: DlqMessage): MessageDigest {
  return {
    messageId: message.messageId,
    publishTime: message.publishTime,
    attributes: message.attributes,
    entries: entryCountOf(message.attributes, message.data),
    bytes: message.data.length,
  };
}

export interface ReasonGroup extends DeadLetterReasonInfo {
  messages: number;
  entries: number;
  bytes: number;
  oldest: string | undefined;
  newest: string | undefined;
}

export interface DlqSummary {
  messages: number;
  entries: number;
  bytes: number;
  oldest: string | undefined;
  newest: string | undefined;
  /** Messages already replayed at least once. */
  replayed: number;
  /** Messages at or above the replay limit (a replay leaves them in place). */
  atMaxReplays: number;
  groups: ReasonGroup[];
}

function earlier(a: string | undefined, b: string | undefined): string | undefined {
  if (a === undefined) return b;
  if (b === undefined) return a;
  return a < b ? a : b;
}

function later(a: string | undefined, b: string | undefined): string | undefined {
  if (a === undefined) return b;
  if (b === undefined) return a;
  return a > b ? a : b;
}

/** Groups messages by reason (largest group first); oldest/newest by publish time (ISO 8601). */
export function summarize(digests: Iterable<MessageDigest>, maxReplays: number): DlqSummary {
  const groups = new Map<string, ReasonGroup>();
  const summary: DlqSummary = {
    messages: 0,
    entries: 0,
    bytes: 0,
    oldest: undefined,
    newest: undefined,
    replayed: 0,
    atMaxReplays: 0,
    groups: [],
  };
  for (const d of digests) {
    const info = reasonOf(d.attributes);
    const key = JSON.stringify([
      info.reason,
      info.httpStatus,
      info.rpcStatus,
      info.errorMessage,
      info.sourceSubscription,
      info.deliveryCount,
    ]);
    let group = groups.get(key);
    if (group === undefined) {
      group = { ...info, messages: 0, entries: 0, bytes: 0, oldest: undefined, newest: undefined };
      groups.set(key, group);
    }
    const time = d.publishTime?.toISOString();
    for (const target of [group, summary]) {
      target.messages += 1;
      target.entries += d.entries;
      target.bytes += d.bytes;
      target.oldest = earlier(target.oldest, time);
      target.newest = later(target.newest, time);
    }
    const replays = replayCountOf(d.attributes);
    if (replays > 0) summary.replayed += 1;
    if (replays >= maxReplays) summary.atMaxReplays += 1;
  }
  summary.groups = [...groups.values()].sort(
    (a, b) =>
      b.messages - a.messages ||
      a.reason.localeCompare(b.reason) ||
      (a.oldest ?? '').localeCompare(b.oldest ?? ''),
  );
  return summary;
}

// ---------------------------------------------------------------------------------------------
// Rate limiting (replay --rate)

/** Spaces operations `1/rate` seconds apart. `reserve(now)` returns how long to wait before starting. */
export class RateLimiter {
  private next = Number.NEGATIVE_INFINITY;
  private readonly intervalMs: number;

  constructor(ratePerSecond: number) {
    if (!(ratePerSecond > 0) || !Number.isFinite(ratePerSecond))
      throw new DlqUsageError(
        `--rate must be a positive number of messages per second, got ${ratePerSecond}`,
      );
    this.intervalMs = 1000 / ratePerSecond;
  }

  reserve(nowMs: number): number {
    const start = Math.max(nowMs, this.next);
    this.next = start + this.intervalMs;
    return start - nowMs;
  }
}

// ---------------------------------------------------------------------------------------------
// Archive (dlq purge)

export interface ArchiveRecord {
  id: string;
  publishTime: string | undefined;
  attributes: Record<string, string>;
  /** Base64 of the message data. */
  data: string;
}

export function archiveRecord(message: DlqMessage): ArchiveRecord {
  return {
    id: message.messageId,
    publishTime: message.publishTime?.toISOString(),
    attributes: { ...message.attributes },
    data: message.data.toString('base64'),
  };
}

export function defaultArchivePath(outputDir: string, now: Date): string {
  const stamp = now.toISOString().replace(/[:.]/g, '-');
  return `${outputDir.replace(/\/+$/, '')}/dlq-archive-${stamp}.ndjson`;
}

/** An append-only NDJSON file; `append` returns only after the lines are fsynced. */
export interface Archive {
  readonly path: string;
  append(records: readonly ArchiveRecord[]): Promise<void>;
  close(): Promise<void>;
}

export async function openArchive(path: string): Promise<Archive> {
  await mkdir(dirname(path), { recursive: true });
  const file: FileHandle = await open(path, 'a');
  // Make the new directory entry durable too, so a crash right after cannot lose the file.
  try {
    const dir = await open(dirname(path), 'r');
    await dir.sync().finally(() => dir.close());
  } catch {
    // Some filesystems refuse to fsync a directory; the file's own fsync still holds its lines.
  }
  return {
    path,
    async append(records) {
      if (records.length === 0) return;
      await file.writeFile(records.map((r) => `${JSON.stringify(r)}\n`).join(''));
      await file.sync();
    },
    close: () => file.close(),
  };
}

// ---------------------------------------------------------------------------------------------
// Errors

/** A bad option or argument of a dlq command. */
export class DlqUsageError extends IocStreamError {
  override name = 'DlqUsageError';
  constructor(message: string) {
    super('DLQ_USAGE', message, false);
  }
}

/** Pub/Sub refused or failed a call; the message names the resource and, for permissions, the role. */
export class PubSubOperationError extends IocStreamError {
  override name = 'PubSubOperationError';
  readonly grpcCode: number | undefined;
  constructor(
    code: string,
    message: string,
    retryable: boolean,
    grpcCode: number | undefined,
    options: ErrorOptions,
  ) {
    super(code, message, retryable, options);
    this.grpcCode = grpcCode;
  }
}

const GRPC = {
  DEADLINE_EXCEEDED: 4,
  NOT_FOUND: 5,
  PERMISSION_DENIED: 7,
  UNAVAILABLE: 14,
  UNAUTHENTICATED: 16,
};

export interface PubSubResource {
  readonly kind: 'subscription' | 'topic';
  /** Full resource name. */
  readonly name: string;
}

/** Maps a gRPC error to a PubSubOperationError that says what to do. */
export function pubsubError(error: unknown, resource: PubSubResource, action: string): PubSubOperationError {
  if (error instanceof PubSubOperationError) return error;
  const grpcCode = (error as { code?: unknown }).code;
  const code = typeof grpcCode === 'number' ? grpcCode : undefined;
  const details = String((error as { details?: unknown }).details ?? (error as Error).message ?? error);
  const flag =
    resource.kind === 'subscription'
      ? '--subscription / PUBSUB_DEAD_LETTER_SUBSCRIPTION'
      : '--topic / PUBSUB_CHUNKS_TOPIC';
  const role = resource.kind === 'subscription' ? 'roles/pubsub.subscriber' : 'roles/pubsub.publisher';
  const options = { cause: error };
  switch (code) {
    case GRPC.NOT_FOUND:
      return new PubSubOperationError(
        'PUBSUB_NOT_FOUND',
        `${resource.kind} ${resource.name} does not exist (check ${flag} and the project)`,
        false,
        code,
        options,
      );
    case GRPC.PERMISSION_DENIED:
      return new PubSubOperationError(
        'PUBSUB_PERMISSION_DENIED',
        `permission denied to ${action} ${resource.name}: the caller needs ${role} on the ${resource.kind} (${details})`,
        false,
        code,
        options,
      );
    case GRPC.UNAUTHENTICATED:
      return new PubSubOperationError(
        'PUBSUB_UNAUTHENTICATED',
        `not authenticated to Pub/Sub: run \`gcloud auth application-default login\` or use a service account (${details})`,
        false,
        code,
        options,
      );
    default:
      return new PubSubOperationError(
        'PUBSUB_ERROR',
        `could not ${action} ${resource.name}: ${details}`,
        code === GRPC.UNAVAILABLE || code === GRPC.DEADLINE_EXCEEDED,
        code,
        options,
      );
  }
}

// ---------------------------------------------------------------------------------------------
// Transport

export interface DlqTransport {
  readonly subscription: string;
  /** Pulls up to `max` messages; an empty array when none arrived within the wait. */
  pull(max: number): Promise<DlqMessage[]>;
  ack(ackIds: readonly string[]): Promise<void>;
  /** 0 releases the messages for immediate redelivery. */
  modifyAckDeadline(ackIds: readonly string[], seconds: number): Promise<void>;
  /** Publishes one message to a topic (full name) and resolves with its id once Pub/Sub confirmed it. */
  publish(topic: string, data: Buffer, attributes: Record<string, string>): Promise<string>;
  close(): Promise<void>;
}

export interface PubSubTransportOptions {
  /** Project and emulator host, as for every other Pub/Sub client (shared/pubsub.ts). */
  readonly settings: PubSubSettings;
  /** Subscription id or full name. */
  readonly subscription: string;
  /** How long one pull waits for messages before it counts as empty. Default 3000 ms. */
  readonly pullWaitMs?: number;
}

export function subscriptionName(projectId: string, subscription: string): string {
  return subscription.startsWith('projects/')
    ? subscription
    : `projects/${projectId}/subscriptions/${subscription}`;
}

export function topicName(projectId: string, topic: string): string {
  return topic.startsWith('projects/') ? topic : `projects/${projectId}/topics/${topic}`;
}

const ACK_BATCH = 500;
const CALL_TIMEOUT_MS = 30_000;

function toDate(ts: protos.google.protobuf.ITimestamp | null | undefined): Date | undefined {
  if (!ts || ts.seconds === null || ts.seconds === undefined) return undefined;
  return new Date(Number(ts.seconds) * 1000 + Math.floor((ts.nanos ?? 0) / 1e6));
}

function toMessage(received: protos.google.pubsub.v1.IReceivedMessage): DlqMessage | undefined {
  const m = received.message;
  if (!received.ackId || !m) return undefined;
  const raw = m.data;
  const data =
    raw === null || raw === undefined
      ? Buffer.alloc(0)
      : typeof raw === 'string'
        ? Buffer.from(raw, 'base64')
        : Buffer.from(raw);
  return {
    ackId: received.ackId,
    messageId: m.messageId ?? '',
    publishTime: toDate(m.publishTime),
    attributes: { ...(m.attributes ?? {}) },
    data,
    deliveryAttempt: received.deliveryAttempt ?? 0,
  };
}

function isDeadlineExceeded(error: unknown): boolean {
  return (error as { code?: unknown }).code === GRPC.DEADLINE_EXCEEDED;
}

/**
 * Pub/Sub through the v1 (GAPIC) SubscriberClient for synchronous pull / acknowledge /
 * modifyAckDeadline, created on first use from the shared PubSub client's configuration (so the
 * emulator host and credentials are resolved exactly as for the functions); publishing goes through
 * the shared publisher, which resolves only once Pub/Sub acknowledged the message.
 */
export function createPubSubTransport(options: PubSubTransportOptions): DlqTransport {
  const { projectId } = options.settings;
  const subscription = subscriptionName(projectId, options.subscription);
  const resource: PubSubResource = { kind: 'subscription', name: subscription };
  const pullWaitMs = options.pullWaitMs ?? 3000;
  let subscriberClient: Promise<{ pubsub: PubSub; subscriber: v1.SubscriberClient }> | undefined;
  const publisher = createPublisher(options.settings);
  const get = async () => {
    subscriberClient ??= (async () => {
      const [{ v1: gapic }, pubsub] = await Promise.all([
        import('@google-cloud/pubsub'),
        createPubSubClient(options.settings),
      ]);
      // Same options the library gives its own GAPIC clients (emulator endpoint, credentials).
      const config = (await pubsub.getClientConfig()) as ConstructorParameters<
        typeof gapic.SubscriberClient
      >[0];
      return { pubsub, subscriber: new gapic.SubscriberClient(config) };
    })();
    return (await subscriberClient).subscriber;
  };
  const chunked = async (ackIds: readonly string[], fn: (ids: string[]) => Promise<unknown>) => {
    for (let i = 0; i < ackIds.length; i += ACK_BATCH) await fn(ackIds.slice(i, i + ACK_BATCH));
  };
  return {
    subscription,
    async pull(max) {
      const subscriber = await get();
      try {
        const [response] = await subscriber.pull(
          { subscription, maxMessages: max, returnImmediately: false },
          { timeout: pullWaitMs },
        );
        return (response.receivedMessages ?? []).map(toMessage).filter((m) => m !== undefined);
      } catch (error) {
        if (isDeadlineExceeded(error)) return [];
        throw pubsubError(error, resource, 'pull from');
      }
    },
    async ack(ackIds) {
      const subscriber = await get();
      try {
        await chunked(ackIds, (ids) =>
          subscriber.acknowledge({ subscription, ackIds: ids }, { timeout: CALL_TIMEOUT_MS }),
        );
      } catch (error) {
        throw pubsubError(error, resource, 'acknowledge messages on');
      }
    },
    async modifyAckDeadline(ackIds, seconds) {
      const subscriber = await get();
      try {
        await chunked(ackIds, (ids) =>
          subscriber.modifyAckDeadline(
            { subscription, ackIds: ids, ackDeadlineSeconds: seconds },
            { timeout: CALL_TIMEOUT_MS },
          ),
        );
      } catch (error) {
        throw pubsubError(error, resource, 'modify ack deadlines on');
      }
    },
    async publish(topic, data, attributes) {
      try {
        return await publisher.publish(topic, data, attributes);
      } catch (error) {
        // shared/pubsub.ts wraps the library error; its gRPC code is on the cause.
        const cause = (error as { cause?: unknown }).cause ?? error;
        throw pubsubError(cause, { kind: 'topic', name: topic }, 'publish to');
      }
    },
    async close() {
      const closing: Promise<unknown>[] = [publisher.close()];
      if (subscriberClient !== undefined) {
        const { pubsub, subscriber } = await subscriberClient;
        closing.push(subscriber.close(), pubsub.close());
      }
      await Promise.allSettled(closing);
    },
  };
}

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
