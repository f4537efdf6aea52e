/** Dead-lettered messages: their reasons, filters on attributes, replay attributes and summaries (pure). */

import { entryCount } from '../../chronicle/request_body.js';
import { canonicalRpcStatus } from '../../core/errors.js';
import {
  CHUNK_ATTRIBUTES,
  chunkKindOf,
  DEAD_LETTER_ATTRIBUTES,
  PUBSUB_DEAD_LETTER_ATTRIBUTES,
  replayCountOf,
} from '../chunk_message.js';
import { DlqUsageError } from './errors.js';

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
    // Only a status name: an older sender copied whatever the server put there (an echoed token).
    rpcStatus: canonicalRpcStatus(attributes[D.rpcStatus]?.trim()),
    errorMessage: textAttr(attributes[D.errorMessage]),
    sourceSubscription,
    deliveryCount: intAttr(attributes[D.deliveryAttempt]) ?? pubsubCount,
  };
}

/** What a dead-lettered chunk holds: logs, entities, or `invalid` (an unknown kind attribute). */
export function kindOf(attributes: Readonly<Record<string, string>>): string {
  try {
    return chunkKindOf(attributes);
  } catch {
    return 'invalid';
  }
}

/**
 * Entries in a chunk (log entries or entities): the entry_count attribute, else the length of
 * inlineSource.logs or inlineSource.entities, else 0.
 */
export function entryCountOf(attributes: Readonly<Record<string, string>>, data: Buffer): number {
  const fromAttr = intAttr(attributes[CHUNK_ATTRIBUTES.entryCount]);
  if (fromAttr !== undefined) return fromAttr;
  return entryCount(data.toString('utf8')) ?? 0;
}

// The replay attributes are built with every other attribute set, in ../chunk_message.ts.
export { replayAttributes, replayCountOf } from '../chunk_message.js';

// ---------------------------------------------------------------------------------------------
// Filters

export interface MessageFilter {
  /** Matches the derived reason, the HTTP status or the google.rpc status (e.g. permanent_error, 403). */
  readonly reasons: readonly string[];
  /**
   * Every attribute key must equal its value (`*` = present with any value); `kind=logs` also
   * matches chunks without a kind attribute.
   */
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
  return filter.attributes.every(({ key, value }) => {
    // A chunk without the kind attribute holds logs (published before entities existed).
    if (key === CHUNK_ATTRIBUTES.kind && value !== '*') return kindOf(attributes) === value;
    return value === '*' ? attributes[key] !== undefined : attributes[key] === value;
  });
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
  /** logs, entities or invalid (kindOf). */
  readonly kind: string;
  readonly publishTime: Date | undefined;
  readonly attributes: Readonly<Record<string, string>>;
  readonly entries: number;
  readonly bytes: number;
}

export function digestOf(message: DlqMessage): MessageDigest {
  return {
    messageId: message.messageId,
    kind: kindOf(message.attributes),
    publishTime: message.publishTime,
    attributes: message.attributes,
    entries: entryCountOf(message.attributes, message.data),
    bytes: message.data.length,
  };
}

export interface ReasonGroup extends DeadLetterReasonInfo {
  /** The kind of chunk of the group's messages (kindOf). */
  kind: string;
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

/**
 * Groups messages by kind and reason (largest group first); oldest/newest by publish time (ISO
 * 8601).
 */
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
      d.kind,
      info.reason,
      info.httpStatus,
      info.rpcStatus,
      info.errorMessage,
      info.sourceSubscription,
      info.deliveryCount,
    ]);
    let group = groups.get(key);
    if (group === undefined) {
      group = {
        ...info,
        kind: d.kind,
        messages: 0,
        entries: 0,
        bytes: 0,
        oldest: undefined,
        newest: undefined,
      };
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
      a.kind.localeCompare(b.kind) ||
      (a.oldest ?? '').localeCompare(b.oldest ?? ''),
  );
  return summary;
}
