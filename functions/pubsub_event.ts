/**
 * The Pub/Sub message inside a function's CloudEvent. functions-framework converts a push request
 * whose path is /projects/P/topics/T into `{data: {message: {data, attributes, messageId}}}` (and
 * drops `deliveryAttempt`); a push whose message has no data is left as the raw push body
 * `{message, subscription, deliveryAttempt?}`. Both shapes are accepted here.
 */
import { decodeMessageData, type MessageAttributes, undecodableData } from '../shared/cloud/pubsub.js';

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
