/**
 * Cloud suite harness: real Pub/Sub and Firestore emulators (one pair per test file), both
 * functions under functions-framework as child processes, the GTI and Chronicle simulators and the
 * metadata server fake in the test process, wired by sim/local_cloud.ts exactly as `ioc-stream dev`
 * wires them.
 */

import { randomUUID } from 'node:crypto';
import { after, before } from 'node:test';
import { fileURLToPath } from 'node:url';
import type { Message } from '@google-cloud/pubsub';
import { type TriggerOverrides, triggerData } from '../../../shared/cloud/trigger_message.js';
import { gtiDate } from '../../../shared/gti/client.js';
import {
  type ChronicleSimulator,
  type ChronicleSimulatorOptions,
  startChronicleSimulator,
} from '../../../sim/chronicle_simulator.js';
import type { Dataset } from '../../../sim/dataset.js';
import {
  type GtiSimulator,
  type GtiSimulatorOptions,
  startGtiSimulator,
} from '../../../sim/gti_simulator.js';
import { type DeliverySettings, type LocalCloud, startLocalCloud } from '../../../sim/local_cloud.js';
import { type MetadataFake, startMetadataFake } from '../../../sim/metadata_server.js';
import {
  emulatorSkipReason,
  type RunningEmulator,
  startFirestoreEmulator,
  startPubsubEmulator,
} from '../../helpers/emulators.js';
import { waitFor } from '../../helpers/wait.js';

/** dist/test/integration/cloud/ → the repo root (package.json main = dist/functions/index.js). */
export const REPO_ROOT = fileURLToPath(new URL('../../../../', import.meta.url));
export const PROJECT_ID = 'ioc-stream-local';

export const TEST_DELIVERY: DeliverySettings = {
  minimumBackoffSeconds: 1,
  maximumBackoffSeconds: 2,
  maxDeliveryAttempts: 5,
  triggerAckDeadlineSeconds: 120,
  chunksAckDeadlineSeconds: 30,
};

export interface Emulators {
  readonly pubsub: RunningEmulator;
  readonly firestore: RunningEmulator;
  stop(): Promise<void>;
}

/** Undefined (with a loud message) when the SDK emulators are absent; throws under CI_REQUIRE_EMULATORS=1. */
export function skipReason(): string | undefined {
  const reason = emulatorSkipReason();
  if (reason) process.stderr.write(`\n*** ${reason} ***\n\n`);
  return reason;
}

export async function startEmulators(): Promise<Emulators> {
  const [pubsub, firestore] = await Promise.all([startPubsubEmulator(), startFirestoreEmulator()]);
  return {
    pubsub,
    firestore,
    stop: async () => {
      await Promise.all([pubsub.stop(), firestore.stop()]);
    },
  };
}

export interface ScenarioOptions {
  readonly dataset: Dataset;
  readonly gti?: Omit<GtiSimulatorOptions, 'dataset' | 'apiKey'>;
  readonly chronicle?: ChronicleSimulatorOptions;
  /** Extra configuration; each function takes the variables terraform would give it. */
  readonly env?: Record<string, string>;
  readonly delivery?: DeliverySettings;
  /** The access token the metadata server fake hands out (default: a short random one). */
  readonly metadataToken?: string;
}

export interface DeadLetter {
  readonly data: Buffer;
  readonly attributes: Record<string, string>;
}

export interface Scenario {
  readonly gti: GtiSimulator;
  readonly chronicle: ChronicleSimulator;
  readonly metadata: MetadataFake;
  readonly cloud: LocalCloud;
  readonly customerId: string;
  /** host:port of the Firestore emulator, and the stream's state document (USE_CASE_NAME). */
  readonly firestoreHost: string;
  readonly useCaseName: string;
  /** Publishes one trigger message. */
  trigger(overrides?: TriggerOverrides): Promise<string>;
  /** Publishes raw data to a topic of the topology. */
  publish(topic: string, data: Buffer, attributes?: Record<string, string>): Promise<string>;
  /** Fetch-run log lines so far. */
  fetchRuns(): Record<string, unknown>[];
  /** Chunk log lines so far. */
  chunkLines(): Record<string, unknown>[];
  /** Messages received on the dead-letter pull subscription so far (acknowledged). */
  readonly deadLetters: DeadLetter[];
  stop(): Promise<void>;
}

export async function startScenario(emulators: Emulators, options: ScenarioOptions): Promise<Scenario> {
  const apiKey = `test-key-${randomUUID()}`;
  const customerId = randomUUID();
  const gti = await startGtiSimulator({ ...options.gti, dataset: options.dataset, apiKey });
  const chronicle = await startChronicleSimulator(options.chronicle);
  const metadata = await startMetadataFake({
    token: options.metadataToken ?? `token-${randomUUID()}`,
    projectId: PROJECT_ID,
  });
  const prefix = `t${randomUUID().slice(0, 8)}`;
  const first = options.dataset.size > 0 ? options.dataset.dateOf(0) : 0;
  const cloud = await startLocalCloud({
    projectId: PROJECT_ID,
    pubsubHost: emulators.pubsub.host,
    firestoreHost: emulators.firestore.host,
    source: REPO_ROOT,
    prefix,
    delivery: options.delivery ?? TEST_DELIVERY,
    env: {
      PATH: process.env.PATH,
      VT_API_KEY: apiKey,
      VT_API_BASE_URL: gti.baseUrl,
      VT_DATE_FILTER: `${gtiDate(first - 1)}Z`,
      VT_LIMIT: '40',
      CHRONICLE_CUSTOMER_ID: customerId,
      CHRONICLE_API_BASE_URL: chronicle.baseUrl,
      CHUNK_MAX_BYTES: '500000',
      RETRY_MAX_ATTEMPTS: '3',
      GCE_METADATA_HOST: metadata.host,
      METADATA_SERVER_DETECTION: 'assume-present',
      FETCH_LEASE_SECONDS: '10',
      ...options.env,
    },
    ...(process.env.CLOUD_TEST_VERBOSE
      ? { onLine: (target: string, line: string) => process.stderr.write(`[${target}] ${line}\n`) }
      : {}),
  });
  const deadLetters: DeadLetter[] = [];
  const dlq = cloud.pubsub.subscription(cloud.names.deadLetterSubscription);
  dlq.on('message', (m: Message) => {
    deadLetters.push({ data: m.data, attributes: { ...m.attributes } });
    m.ack();
  });
  dlq.on('error', () => undefined);
  const publish = async (topic: string, data: Buffer, attributes: Record<string, string> = {}) =>
    cloud.pubsub.topic(topic).publishMessage({ data, attributes });
  return {
    gti,
    chronicle,
    metadata,
    cloud,
    customerId,
    firestoreHost: emulators.firestore.host,
    useCaseName: options.env?.USE_CASE_NAME ?? prefix,
    trigger: (overrides = {}) => publish(cloud.names.trigger, triggerData(overrides), { source: 'test' }),
    publish,
    fetchRuns: () => cloud.fetcher.logs.filter((l) => l.event === 'fetch_run'),
    chunkLines: () => cloud.sender.logs.filter((l) => l.event === 'chunk_processed'),
    deadLetters,
    stop: async () => {
      await dlq.close().catch(() => undefined);
      await cloud.stop();
      await Promise.all([gti.close(), chronicle.close(), metadata.close()]);
    },
  };
}

/** Waits until no new chunk line has appeared for `quietMs` (deliveries and retries settled). */
export async function settle(scenario: Scenario, quietMs: number, timeoutMs = 60_000): Promise<void> {
  const started = Date.now();
  let last = scenario.chunkLines().length;
  let since = Date.now();
  while (Date.now() - since < quietMs) {
    if (Date.now() - started > timeoutMs) throw new Error('sender never settled');
    await new Promise((r) => setTimeout(r, 100));
    const now = scenario.chunkLines().length;
    if (now !== last) {
      last = now;
      since = Date.now();
    }
  }
}

/** Dataset ids in order. */
export function datasetIds(dataset: Dataset): string[] {
  const ids: string[] = [];
  for (let i = 0; i < dataset.size; i++) ids.push(dataset.get(i).context_attributes.notification_id);
  return ids;
}

export function missingIds(expected: readonly string[], chronicle: ChronicleSimulator): string[] {
  return expected.filter((id) => !chronicle.acceptedIds.has(id));
}

/** Registers before/after hooks for one emulator pair per suite; scenarios are stopped afterwards. */
export function useCloud(): { start(options: ScenarioOptions): Promise<Scenario> } {
  let emulators: Emulators | undefined;
  const scenarios: Scenario[] = [];
  before(async () => {
    emulators = await startEmulators();
  });
  after(async () => {
    for (const s of scenarios) await s.stop().catch(() => undefined);
    await emulators?.stop();
  });
  return {
    async start(options) {
      if (emulators === undefined) throw new Error('emulators not started');
      const s = await startScenario(emulators, options);
      scenarios.push(s);
      return s;
    },
  };
}

/** Waits until every dataset notification reached Chronicle and deliveries settled. */
export async function allArrived(s: Scenario, dataset: Dataset, timeoutMs = 30_000): Promise<void> {
  await waitFor(
    'every notification in Chronicle',
    () => s.chronicle.acceptedIds.size === dataset.size,
    timeoutMs,
    () => `(${s.chronicle.acceptedIds.size} of ${dataset.size})`,
  );
  await settle(s, 1000);
}

/** Imports beyond the first of each notification. */
export function duplicateCount(chronicle: ChronicleSimulator): number {
  let duplicates = 0;
  for (const n of chronicle.acceptedIds.values()) duplicates += n - 1;
  return duplicates;
}
