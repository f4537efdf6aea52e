/** The small Pub/Sub surface the dlq operations use (synchronous pull, ack, deadlines, publish). */
import type { PubSub, protos, v1 } from '@google-cloud/pubsub';
import { GRPC, grpcCode } from '../../core/errors.js';
import { createPublisher, createPubSubClient, type PubSubSettings } from '../pubsub.js';
import { type PubSubResource, pubsubError } from './errors.js';
import type { DlqMessage } from './message.js';

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
  /** Project and emulator host, as for every other Pub/Sub client (shared/cloud/pubsub.ts). */
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
  return grpcCode(error) === GRPC.DEADLINE_EXCEEDED;
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
        // shared/cloud/pubsub.ts wraps the library error; its gRPC code is on the cause.
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
