/**
 * Pub/Sub publishing for the cloud functions and the CLI. The client is imported and created on
 * first use and memoised; `publish` resolves only when Pub/Sub has acknowledged the message (it
 * owns the message from then on). PUBSUB_EMULATOR_HOST (config.pubsub.emulatorHost) points the
 * library at the emulator, exactly as the library itself would from the environment.
 */
import type { PubSub, Topic } from '@google-cloud/pubsub';
import type { Config } from '../core/config.js';
import { ConfigError, IocStreamError } from '../core/errors.js';

export type MessageAttributes = Record<string, string>;

export interface Publisher {
  /** Publishes to a topic id of GCP_PROJECT_ID; resolves with the message id once acknowledged. */
  publish(topicId: string, data: Buffer, attributes?: MessageAttributes): Promise<string>;
  close(): Promise<void>;
}

/** Publishing failed: the message may or may not exist; the caller retries (duplicates, never loss). */
export class PublishError extends IocStreamError {
  override name = 'PublishError';
  constructor(message: string, options: { cause?: unknown } = {}) {
    super('PUBLISH_FAILED', message, true, options);
  }
}

export interface PubSubSettings {
  readonly projectId: string;
  /** host:port of the emulator, or undefined for the real service. */
  readonly emulatorHost: string | undefined;
}

export function pubSubSettings(config: Config): PubSubSettings {
  if (config.gcpProjectId === undefined) throw new ConfigError(['GCP_PROJECT_ID: required for Pub/Sub']);
  return { projectId: config.gcpProjectId, emulatorHost: config.pubsub.emulatorHost };
}

/** Creates the library client (lazily imported so nothing loads it before it is needed). */
export async function createPubSubClient(settings: PubSubSettings): Promise<PubSub> {
  const { PubSub } = await import('@google-cloud/pubsub');
  return new PubSub({
    projectId: settings.projectId,
    ...(settings.emulatorHost === undefined
      ? {}
      : { apiEndpoint: settings.emulatorHost, emulatorMode: true }),
  });
}

export function createPublisher(settings: PubSubSettings): Publisher {
  let client: Promise<PubSub> | undefined;
  const topics = new Map<string, Topic>();
  const topic = async (id: string): Promise<Topic> => {
    client ??= createPubSubClient(settings);
    const pubsub = await client;
    let t = topics.get(id);
    if (t === undefined) {
      // Small batches: a chunk is up to 4 MB and the caller awaits each acknowledgement anyway.
      t = pubsub.topic(id, { batching: { maxMessages: 10, maxMilliseconds: 5 } });
      topics.set(id, t);
    }
    return t;
  };
  return {
    async publish(topicId, data, attributes = {}) {
      const t = await topic(topicId);
      try {
        return await t.publishMessage({ data, attributes });
      } catch (error) {
        const where = settings.emulatorHost === undefined ? '' : ` (emulator ${settings.emulatorHost})`;
        throw new PublishError(
          `Publishing to topic ${topicId}${where} failed: ${describePubSubError(error)}`,
          {
            cause: error,
          },
        );
      }
    },
    async close() {
      if (client === undefined) return;
      const pubsub = await client;
      client = undefined;
      topics.clear();
      await pubsub.close();
    },
  };
}

const PUBSUB_ERROR_MAX = 300;

/**
 * One bounded line for a Pub/Sub client error. google-gax reports an exhausted retry as "Total
 * timeout of API … exceeded N milliseconds retrying error Error: 14 UNAVAILABLE: … : Previous
 * errors : [every attempt again]": that becomes "no answer within N s (14 UNAVAILABLE: …)".
 */
export function describePubSubError(error: unknown): string {
  const text = (error instanceof Error ? error.message : String(error)).split('\n')[0] ?? '';
  if (/Could not load the default credentials/i.test(text)) {
    return 'no Google credentials found: run `gcloud auth application-default login`, or use a service account';
  }
  const retried =
    /^Total timeout of API \S+ exceeded (\d+) milliseconds retrying error (?:Error: )?(.*?)(?: : Previous errors.*)?$/.exec(
      text,
    );
  const line = retried
    ? `no answer within ${Number(retried[1]) / 1000} s (${(retried[2] ?? '').replace(/\.? *Resolution note:.*$/, '')})`
    : text;
  return line.length > PUBSUB_ERROR_MAX ? `${line.slice(0, PUBSUB_ERROR_MAX)}…` : line;
}

/** Standard or URL-safe base64, padded or not (proto3 JSON `bytes`; Pub/Sub push sends standard, padded). */
const BASE64 = /^[A-Za-z0-9+/_-]*={0,2}$/;

/**
 * Why a pushed message's `data` cannot be read as base64, with the bytes as received (so a dead
 * letter keeps them); undefined when it can, or is absent. Push bodies carry data as proto3 JSON
 * `bytes` (https://protobuf.dev/programming-guides/json/); Node's decoder skips any other
 * character silently, so `%%%` would read as empty data: checked here first.
 */
export function undecodableData(
  data: unknown,
): { readonly problem: string; readonly received: Buffer } | undefined {
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
  return {
    problem: `message data is not valid base64 (${data.length} characters)`,
    received: Buffer.from(data, 'utf8'),
  };
}

/** Reads a Pub/Sub message's data, given as base64 (push / CloudEvent), a Buffer or absent. */
export function decodeMessageData(data: unknown): Buffer {
  if (typeof data === 'string') return Buffer.from(data, 'base64');
  if (Buffer.isBuffer(data)) return data;
  return Buffer.alloc(0);
}
