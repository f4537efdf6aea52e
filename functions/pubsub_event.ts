/**
 * The Pub/Sub message inside a function's CloudEvent. functions-framework converts a push request
 * whose path is /projects/P/topics/T into `{data: {message: {data, attributes, messageId}}}` (and
 * drops `deliveryAttempt`); a push whose message has no data is left as the raw push body
 * `{message, subscription, deliveryAttempt?}`. Both shapes are accepted here.
 */
import { decodeMessageData, type MessageAttributes } from '../shared/cloud/pubsub.js';

export interface PushedMessage {
  /** The decoded data (empty when absent or undecodable). */
  readonly data: Buffer;
  /**
   * Set when the message has data that is not base64 text (a push that did not come from Pub/Sub):
   * what is wrong, and the data as received, so a dead letter keeps it.
   */
  readonly undecodable: { readonly problem: string; readonly received: Buffer } | undefined;
  readonly attributes: MessageAttributes;
  readonly messageId: string | undefined;
  /** Only present when the raw push body reached the function (see above). */
  readonly deliveryAttempt: number | undefined;
}

interface RawMessage {
  data?: unknown;
  attributes?: unknown;
  messageId?: unknown;
  message_id?: unknown;
}

export function pushedMessage(event: unknown): PushedMessage {
  const e = (event ?? {}) as {
    data?: { message?: RawMessage };
    message?: RawMessage;
    deliveryAttempt?: unknown;
  };
  const message = e.data?.message ?? e.message ?? {};
  const attributes: MessageAttributes = {};
  if (message.attributes !== null && typeof message.attributes === 'object') {
    for (const [k, v] of Object.entries(message.attributes as Record<string, unknown>)) {
      if (typeof v === 'string') attributes[k] = v;
    }
  }
  const id = message.messageId ?? message.message_id;
  return {
    data: decodeMessageData(message.data),
    undecodable: undecodableData(message.data),
    attributes,
    messageId: typeof id === 'string' ? id : undefined,
    deliveryAttempt:
      typeof e.deliveryAttempt === 'number' && Number.isInteger(e.deliveryAttempt)
        ? e.deliveryAttempt
        : undefined,
  };
}

/** Standard or URL-safe base64, padded or not (Pub/Sub push sends standard, padded). */
const BASE64 = /^[A-Za-z0-9+/_-]*={0,2}$/;

/** Why `data` cannot be decoded as base64, with the bytes as received; undefined when it can (or is absent). */
function undecodableData(data: unknown): PushedMessage['undecodable'] {
  if (data === undefined || data === null || Buffer.isBuffer(data)) return undefined;
  if (typeof data !== 'string') {
    const kind = Array.isArray(data) ? 'an array' : `a ${typeof data}`;
    return {
      problem: `message data is ${kind}, not base64 text`,
      received: Buffer.from(JSON.stringify(data) ?? String(data), 'utf8'),
    };
  }
  const unpadded = data.replace(/=+$/, '');
  if (BASE64.test(data) && unpadded.length % 4 !== 1 && (data === unpadded || data.length % 4 === 0)) {
    return undefined;
  }
  return { problem: 'message data is not valid base64', received: Buffer.from(data, 'utf8') };
}
