/**
 * `ioc-stream dlq list|replay|purge` against the real Pub/Sub emulator (and, for --direct, the
 * Chronicle simulator with a metadata server fake). Each test uses its own topics and subscriptions.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { PubSub, type protos, v1 } from '@google-cloud/pubsub';
import { main } from '../../../cli/main.js';
import { createSendHandler } from '../../../functions/sender.js';
import { createChronicleClient } from '../../../shared/chronicle/client.js';
import { chronicleTarget } from '../../../shared/chronicle/resources.js';
import { chunkAttributes } from '../../../shared/cloud/chunk_message.js';
import { createPublisher, pubSubSettings } from '../../../shared/cloud/pubsub.js';
import { loadConfig } from '../../../shared/core/config.js';
import { createLogger } from '../../../shared/core/logger.js';
import { assembleChunk } from '../../../shared/pipeline/chunker.js';
import { createEntityBuilder } from '../../../shared/pipeline/entities.js';
import { startChronicleSimulator } from '../../../sim/chronicle_simulator.js';
import { generatedDataset } from '../../../sim/dataset.js';
import { runCli } from '../../helpers/cli.js';
import { emulatorSkipReason, type RunningEmulator, startPubsubEmulator } from '../../helpers/emulators.js';
import { startMetadataFake } from '../../helpers/metadata_fake.js';
import { waitFor } from '../../helpers/wait.js';

const PROJECT = 'dlq-test-project';
const CLI = fileURLToPath(new URL('../../../cli/main.js', import.meta.url));
const skip = emulatorSkipReason();
if (skip) console.warn(skip);

interface Published {
  data: Buffer;
  attributes: Record<string, string>;
}

interface Pulled {
  messageId: string;
  data: Buffer;
  attributes: Record<string, string>;
}

function chunkBody(key: string, entries: number): string {
  const t = '2026-03-01T10:00:00Z';
  return JSON.stringify({
    inlineSource: {
      logs: Array.from({ length: entries }, (_, i) => ({
        data: Buffer.from(
          JSON.stringify({
            type: 'file',
            id: `sha-${key}-${i}`,
            context_attributes: { notification_id: `${key}-${i}`, origin: 'hunting' },
          }),
        ).toString('base64'),
        logEntryTime: t,
        collectionTime: '2026-03-01T10:05:00Z',
        labels: { use_case_name: { value: 'ioc_stream' } },
      })),
    },
  });
}

const base = (seq: number, entries: number): Record<string, string> => ({
  run_id: 'run-1',
  seq: String(seq),
  entry_count: String(entries),
  newest_notification_date: '1772359200',
});

const ours = (status: string, rpc: string, message: string): Record<string, string> => ({
  dlq_reason: 'permanent_error',
  dlq_http_status: status,
  dlq_rpc_status: rpc,
  dlq_error_message: message,
  dlq_delivery_attempt: '1',
  dlq_source_message_id: 'src',
  dlq_time: '2026-03-01T10:06:00Z',
});

const FORBIDDEN =
  'Chronicle answered 403 PERMISSION_DENIED: Permission denied on resource (or it may not exist).';

describe('dlq commands against the Pub/Sub emulator', { skip: skip ?? false }, () => {
  let emulator: RunningEmulator;
  let pubsub: PubSub;
  let subscriber: v1.SubscriberClient;
  let n = 0;
  let tmp: string;

  before(async () => {
    emulator = await startPubsubEmulator();
    pubsub = new PubSub({ projectId: PROJECT, apiEndpoint: emulator.host, emulatorMode: true });
    subscriber = new v1.SubscriberClient(
      (await pubsub.getClientConfig()) as ConstructorParameters<typeof v1.SubscriberClient>[0],
    );
    tmp = await mkdtemp(join(tmpdir(), 'dlq-test-'));
  });

  after(async () => {
    await subscriber?.close();
    await pubsub?.close();
    await emulator?.stop();
    if (tmp) await rm(tmp, { recursive: true, force: true });
  });

  /** A dead-letter topic + its pull subscription, and a chunks topic + a pull subscription to observe it. */
  async function topology() {
    n += 1;
    const names = {
      dlqTopic: `dead-letter-${n}`,
      dlqSub: `dead-letter-sub-${n}`,
      chunksTopic: `chunks-${n}`,
      chunksSub: `chunks-observer-${n}`,
    };
    const [dlq] = await pubsub.createTopic(names.dlqTopic);
    await dlq.createSubscription(names.dlqSub, { ackDeadlineSeconds: 10 });
    const [chunks] = await pubsub.createTopic(names.chunksTopic);
    await chunks.createSubscription(names.chunksSub, { ackDeadlineSeconds: 60 });
    const env: NodeJS.ProcessEnv = {
      GCP_PROJECT_ID: PROJECT,
      PUBSUB_EMULATOR_HOST: emulator.host,
      PUBSUB_CHUNKS_TOPIC: names.chunksTopic,
      PUBSUB_DEAD_LETTER_SUBSCRIPTION: names.dlqSub,
      LOG_LEVEL: 'warn',
      OUTPUT_DIR: tmp,
      METADATA_SERVER_DETECTION: 'none',
    };
    const publish = async (messages: Published[]) => {
      const topic = pubsub.topic(names.dlqTopic, { batching: { maxMessages: 100, maxMilliseconds: 10 } });
      await Promise.all(messages.map((m) => topic.publishMessage(m)));
    };
    return { names, env, publish };
  }

  /** One pull (acknowledging what came); an empty array when nothing arrived within 1.5 s. */
  async function pullOnce(subscription: string): Promise<Pulled[]> {
    const name = `projects/${PROJECT}/subscriptions/${subscription}`;
    let received: protos.google.pubsub.v1.IReceivedMessage[];
    try {
      const [response] = await subscriber.pull({ subscription: name, maxMessages: 200 }, { timeout: 1500 });
      received = response.receivedMessages ?? [];
    } catch (error) {
      if ((error as { code?: number }).code === 4) return [];
      throw error;
    }
    if (received.length === 0) return [];
    await subscriber.acknowledge({ subscription: name, ackIds: received.map((r) => r.ackId ?? '') });
    return received.map((r) => ({
      messageId: r.message?.messageId ?? '',
      data: Buffer.from(r.message?.data ?? ''),
      attributes: { ...(r.message?.attributes ?? {}) },
    }));
  }

  /** Pulls and acknowledges everything on a subscription (until a pull comes back empty). */
  async function drain(subscription: string): Promise<Pulled[]> {
    const out: Pulled[] = [];
    for (;;) {
      const batch = await pullOnce(subscription);
      if (batch.length === 0) return out;
      out.push(...batch);
    }
  }

  async function run(args: string[], env: NodeJS.ProcessEnv) {
    let stdout = '';
    let stderr = '';
    const code = await main(['dlq', ...args, '--pull-wait-ms', '1500'], {
      env,
      stdout: { write: (s: string) => (stdout += s) },
      stderr: { write: (s: string) => (stderr += s) },
      signal: new AbortController().signal,
    });
    return { code, stdout, stderr };
  }

  async function listJson(env: NodeJS.ProcessEnv, extra: string[] = []) {
    const r = await run(['list', '--json', ...extra], env);
    assert.equal(r.code, 0, r.stderr);
    return JSON.parse(r.stdout) as {
      summary: {
        messages: number;
        entries: number;
        bytes: number;
        oldest?: string;
        newest?: string;
        atMaxReplays: number;
        groups: {
          kind: string;
          reason: string;
          httpStatus?: string;
          rpcStatus?: string;
          errorMessage?: string;
          sourceSubscription?: string;
          deliveryCount?: number;
          messages: number;
          entries: number;
        }[];
      };
    };
  }

  /** 500 dead-lettered chunks with mixed reasons; 5 of the 403s were already replayed 5 times. */
  function mixed500(): Published[] {
    const out: Published[] = [];
    for (let i = 0; i < 500; i += 1) {
      const entries = (i % 4) + 1;
      const data = Buffer.from(chunkBody(`m${i}`, entries));
      let attributes: Record<string, string>;
      if (i < 200) {
        attributes = { ...base(i, entries), ...ours('403', 'PERMISSION_DENIED', FORBIDDEN) };
        if (i < 5) attributes.replay_count = '5';
      } else if (i < 300) {
        attributes = {
          ...base(i, entries),
          ...ours('400', 'INVALID_ARGUMENT', 'Chronicle answered 400 INVALID_ARGUMENT: invalid log type'),
        };
      } else if (i < 350) {
        attributes = {
          dlq_reason: 'invalid_message',
          dlq_error_message: 'message data is not JSON',
          dlq_delivery_attempt: '1',
          seq: String(i),
        };
        out.push({ data: Buffer.from(`garbage ${i}`), attributes });
        continue;
      } else {
        attributes = {
          ...base(i, entries),
          CloudPubSubDeadLetterSourceDeliveryCount: '5',
          CloudPubSubDeadLetterSourceSubscription: `projects/${PROJECT}/subscriptions/chunks-push`,
          CloudPubSubDeadLetterSourceTopicPublishTime: '2026-03-01T10:00:01.000Z',
        };
      }
      out.push({ data, attributes });
    }
    return out;
  }

  it('lists 500 mixed dead-lettered chunks grouped by reason, acknowledging nothing; replays exactly --reason 403 --limit 100', async () => {
    const { names, env, publish } = await topology();
    const messages = mixed500();
    await publish(messages);
    const bySeq = new Map(messages.map((m) => [m.attributes.seq ?? '', m]));
    const entriesOf = (from: number, to: number) => {
      let sum = 0;
      for (let i = from; i < to; i += 1) sum += (i % 4) + 1;
      return sum;
    };

    const listed = await listJson(env);
    const s = listed.summary;
    assert.equal(s.messages, 500);
    assert.equal(s.entries, entriesOf(0, 300) + entriesOf(350, 500));
    assert.equal(
      s.bytes,
      messages.reduce((sum, m) => sum + m.data.length, 0),
    );
    assert.ok(s.oldest !== undefined && s.newest !== undefined && s.oldest <= s.newest);
    assert.equal(s.atMaxReplays, 5);
    const groups = s.groups.map((g) => ({
      reason: g.reason,
      http: g.httpStatus,
      rpc: g.rpcStatus,
      source: g.sourceSubscription,
      deliveries: g.deliveryCount,
      messages: g.messages,
      entries: g.entries,
    }));
    assert.deepEqual(groups, [
      {
        reason: 'permanent_error',
        http: '403',
        rpc: 'PERMISSION_DENIED',
        source: undefined,
        deliveries: 1,
        messages: 200,
        entries: entriesOf(0, 200),
      },
      {
        reason: 'max_delivery_attempts',
        http: undefined,
        rpc: undefined,
        source: `projects/${PROJECT}/subscriptions/chunks-push`,
        deliveries: 5,
        messages: 150,
        entries: entriesOf(350, 500),
      },
      {
        reason: 'permanent_error',
        http: '400',
        rpc: 'INVALID_ARGUMENT',
        source: undefined,
        deliveries: 1,
        messages: 100,
        entries: entriesOf(200, 300),
      },
      {
        reason: 'invalid_message',
        http: undefined,
        rpc: undefined,
        source: undefined,
        deliveries: 1,
        messages: 50,
        entries: 0,
      },
    ]);
    assert.equal(s.groups[0]?.errorMessage, FORBIDDEN);

    // Nothing was acknowledged, and released messages are available again at once.
    const text = await run(['list'], env);
    assert.equal(text.code, 0, text.stderr);
    assert.match(text.stdout, /^500 dead-lettered messages/);
    assert.match(text.stdout, /PERMISSION_DENIED/);
    assert.equal((await drain(names.chunksSub)).length, 0);

    // A dry run moves nothing.
    const dry = await run(['replay', '--reason', '403', '--limit', '100', '--dry-run', '--json'], env);
    assert.equal(dry.code, 0, dry.stderr);
    assert.equal((JSON.parse(dry.stdout) as { moved: number }).moved, 100);
    assert.equal((await drain(names.chunksSub)).length, 0);
    assert.equal((await listJson(env)).summary.messages, 500);

    const replay = await run(['replay', '--reason', '403', '--limit', '100', '--json'], env);
    assert.equal(replay.code, 0, replay.stderr);
    const result = JSON.parse(replay.stdout) as { moved: number; movedIds: string[]; limited: boolean };
    assert.equal(result.moved, 100);
    assert.equal(result.limited, true);

    const copies = await drain(names.chunksSub);
    assert.equal(copies.length, 100);
    assert.equal(new Set(copies.map((c) => c.attributes.seq)).size, 100);
    for (const copy of copies) {
      const original = bySeq.get(copy.attributes.seq ?? '');
      assert.ok(original, `unknown copy ${copy.attributes.seq}`);
      assert.equal(original.attributes.dlq_http_status, '403');
      assert.ok(Number(original.attributes.seq) >= 5, 'a message at the replay limit was replayed');
      assert.ok(copy.data.equals(original.data), 'data changed');
      const { replay_count, replayed_at, ...rest } = copy.attributes;
      assert.deepEqual(rest, original.attributes);
      assert.equal(replay_count, '1');
      assert.ok(replayed_at !== undefined && !Number.isNaN(Date.parse(replayed_at)));
    }
    const afterReplay = await listJson(env);
    assert.equal(afterReplay.summary.messages, 400);
    assert.equal(afterReplay.summary.groups.find((g) => g.httpStatus === '403')?.messages, 100);

    // The rest of the 403s: 95 move, the 5 at the replay limit stay and are reported.
    const rest = await run(['replay', '--reason', 'PERMISSION_DENIED'], env);
    assert.equal(rest.code, 0, rest.stderr);
    assert.match(rest.stdout, /Replayed 95 messages/);
    assert.match(rest.stdout, /Left in place: 5 messages already replayed 5 times/);
    assert.equal((await drain(names.chunksSub)).length, 95);
    const remaining = await listJson(env, ['--reason', '403']);
    assert.equal(remaining.summary.messages, 5);
    assert.equal(remaining.summary.atMaxReplays, 5);

    // --max-replays raises the limit for one run.
    const forced = await run(['replay', '--reason', '403', '--max-replays', '6', '--json'], env);
    assert.equal((JSON.parse(forced.stdout) as { moved: number }).moved, 5);
    const forcedCopies = await drain(names.chunksSub);
    assert.deepEqual(
      forcedCopies.map((c) => c.attributes.replay_count),
      ['6', '6', '6', '6', '6'],
    );

    // Invalid chunks are never replayed.
    const invalid = await run(['replay', '--reason', 'invalid_message'], env);
    assert.equal(invalid.code, 0, invalid.stderr);
    assert.match(invalid.stdout, /Left in place: 50 messages whose data is not a valid chunk/);
    assert.equal((await drain(names.chunksSub)).length, 0);
  });

  it('a replay killed halfway and run again loses nothing', async (t) => {
    const { names, env, publish } = await topology();
    const total = 300;
    await publish(
      Array.from({ length: total }, (_, i) => ({
        data: Buffer.from(chunkBody(`k${i}`, 2)),
        attributes: { ...base(i, 2), ...ours('403', 'PERMISSION_DENIED', FORBIDDEN) },
      })),
    );
    const child = spawn(
      process.execPath,
      [
        CLI,
        'dlq',
        'replay',
        '--rate',
        '60',
        '--lease-seconds',
        '10',
        '--batch-size',
        '20',
        '--pull-wait-ms',
        '1500',
      ],
      { env: { ...env, PATH: process.env.PATH }, stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let childErr = '';
    child.stderr.on('data', (d: Buffer) => {
      childErr += d.toString();
    });
    const exited = once(child, 'exit');
    const copies: Pulled[] = [];
    const deadline = Date.now() + 20_000;
    while (copies.length < 60 && Date.now() < deadline) copies.push(...(await pullOnce(names.chunksSub)));
    child.kill('SIGKILL');
    const atKill = copies.length;
    const [code, signal] = await exited;
    assert.equal(signal, 'SIGKILL', `the replay ended on its own (code ${code}): ${childErr}`);
    assert.ok(copies.length >= 60 && copies.length < total, `killed after ${copies.length} copies`);
    assert.match(childErr, /progress: moved \d+/);

    // The killed process held some messages: they come back when its lease (10 s) lapses. Run the
    // replay again until every message has been copied once.
    let rerunMoved = 0;
    const copiedSeqs = () => new Set(copies.map((c) => c.attributes.seq ?? '')).size;
    await waitFor(
      'every message copied after the rerun',
      async () => {
        const rerun = await run(['replay', '--json', '--pull-wait-ms', '500'], env);
        assert.equal(rerun.code, 0, rerun.stderr);
        rerunMoved += (JSON.parse(rerun.stdout) as { moved: number }).moved;
        copies.push(...(await drain(names.chunksSub)));
        return copiedSeqs() === total;
      },
      40_000,
      () => `(${copiedSeqs()} of ${total} copied)`,
      500,
    );
    const left = await listJson(env);

    const seqs = copies.map((c) => c.attributes.seq ?? '');
    const unique = new Set(seqs);
    const duplicates = seqs.length - unique.size;
    t.diagnostic(
      `killed after ${atKill} copies; rerun moved ${rerunMoved}; copies ${copies.length}, unique ${unique.size}, duplicates ${duplicates} (published but not yet acknowledged when killed), left ${left.summary.messages}`,
    );
    assert.equal(unique.size + left.summary.messages, total, 'a message was lost');
    assert.equal(left.summary.messages, 0);
    for (let i = 0; i < total; i += 1) assert.ok(unique.has(String(i)), `message ${i} lost`);
    assert.ok(duplicates <= 4, `at most the in-flight messages are duplicated, got ${duplicates}`);
    assert.ok(copies.every((c) => c.attributes.replay_count === '1'));
  });

  it('replay --direct delivers every entry to Chronicle with the sender client', async () => {
    const { names, env, publish } = await topology();
    const sim = await startChronicleSimulator();
    const metadata = await startMetadataFake({ projectId: PROJECT });
    try {
      const count = 20;
      await publish(
        Array.from({ length: count }, (_, i) => ({
          data: Buffer.from(chunkBody(`d${i}`, 5)),
          attributes: { ...base(i, 5), ...ours('403', 'PERMISSION_DENIED', FORBIDDEN) },
        })),
      );
      const { code, stdout, stderr } = await runCli(
        ['dlq', 'replay', '--direct', '--rate', '100', '--json', '--pull-wait-ms', '1500'],
        {
          ...env,
          PATH: process.env.PATH,
          CHRONICLE_CUSTOMER_ID: '01234567-89ab-cdef-0123-456789abcdef',
          CHRONICLE_REGION: 'us',
          CHRONICLE_API_BASE_URL: sim.baseUrl,
          GCE_METADATA_HOST: metadata.host,
          METADATA_SERVER_DETECTION: 'assume-present',
        },
      );
      assert.equal(code, 0, stderr);
      assert.ok(stdout.trim() !== '', stderr);
      const result = JSON.parse(stdout) as { moved: number; entries: number; destination: string };
      assert.equal(result.moved, count);
      assert.equal(result.entries, count * 5);
      assert.match(result.destination, /logs:import and .*entities:import$/);
      assert.equal(sim.acceptedEntryCount, count * 5);
      assert.equal(sim.acceptedIds.size, count * 5);
      for (let i = 0; i < count; i += 1)
        for (let j = 0; j < 5; j += 1) assert.equal(sim.acceptedIds.get(`d${i}-${j}`), 1);
      assert.equal((await listJson(env)).summary.messages, 0);
      assert.equal((await drain(names.chunksSub)).length, 0, 'nothing went to the chunks topic');
    } finally {
      await sim.close();
      await metadata.close();
    }
  });

  for (const oversizeStatus of [400, 413] as const) {
    it(`replay --direct splits a chunk Chronicle answers as too large (${oversizeStatus}) and delivers every entry once`, async () => {
      const { names, env, publish } = await topology();
      // A 5-entry chunk is ~1.5 kB: over this limit, while every single entry fits.
      const sim = await startChronicleSimulator({ maxRequestBytes: 700, oversizeStatus });
      const metadata = await startMetadataFake({ projectId: PROJECT });
      try {
        const count = 3;
        await publish(
          Array.from({ length: count }, (_, i) => ({
            data: Buffer.from(chunkBody(`s${oversizeStatus}-${i}`, 5)),
            attributes: { ...base(i, 5), ...ours('403', 'PERMISSION_DENIED', FORBIDDEN) },
          })),
        );
        const { code, stdout, stderr } = await runCli(
          ['dlq', 'replay', '--direct', '--rate', '100', '--json', '--pull-wait-ms', '1500'],
          {
            ...env,
            PATH: process.env.PATH,
            CHRONICLE_CUSTOMER_ID: '01234567-89ab-cdef-0123-456789abcdef',
            CHRONICLE_REGION: 'us',
            CHRONICLE_API_BASE_URL: sim.baseUrl,
            GCE_METADATA_HOST: metadata.host,
            METADATA_SERVER_DETECTION: 'assume-present',
          },
        );
        assert.equal(code, 0, stderr);
        const result = JSON.parse(stdout) as { moved: number; entries: number };
        assert.equal(result.moved, count);
        assert.equal(result.entries, count * 5);
        const refused = sim.requests.filter((r) => r.status !== 200);
        assert.ok(refused.length >= count, `${refused.length} refused requests`);
        assert.ok(refused.every((r) => r.status === oversizeStatus && r.bytes > 700));
        assert.equal(sim.acceptedIds.size, count * 5);
        for (let i = 0; i < count; i += 1)
          for (let j = 0; j < 5; j += 1) assert.equal(sim.acceptedIds.get(`s${oversizeStatus}-${i}-${j}`), 1);
        assert.equal((await listJson(env)).summary.messages, 0);
        assert.equal((await drain(names.chunksSub)).length, 0, 'nothing went to the chunks topic');
      } finally {
        await sim.close();
        await metadata.close();
      }
    });
  }

  it('an entity chunk refused with 403 is dead-lettered with its kind, listed as entities, and replayed to the topic and --direct', async () => {
    const { names, env } = await topology();
    // The importer lacks chronicle.entities.import: entities:import answers 403, logs:import works.
    let denyEntities = true;
    const sim = await startChronicleSimulator({
      fault: ({ kind }) =>
        kind === 'entities' && denyEntities
          ? {
              status: 403,
              rpcStatus: 'PERMISSION_DENIED',
              message: 'Permission denied on resource (or it may not exist).',
            }
          : undefined,
    });
    const metadata = await startMetadataFake({ projectId: PROJECT });
    const customerId = '01234567-89ab-cdef-0123-456789abcdef';
    // The real sender, in process, importing into the simulator and dead-lettering to the emulator.
    const config = loadConfig({
      GCP_PROJECT_ID: PROJECT,
      CHRONICLE_CUSTOMER_ID: customerId,
      CHRONICLE_API_BASE_URL: sim.baseUrl,
      PUBSUB_CHUNKS_TOPIC: names.chunksTopic,
      PUBSUB_DEAD_LETTER_TOPIC: names.dlqTopic,
      PUBSUB_EMULATOR_HOST: emulator.host,
    });
    const publisher = createPublisher(pubSubSettings(config));
    const sender = createSendHandler({
      config,
      logger: createLogger({ sink: { write: () => undefined } }),
      importer: createChronicleClient({
        target: chronicleTarget(config),
        getToken: async () => 'tok',
        timeoutMs: 5000,
      }),
      publisher,
    });
    const push = (data: Buffer, attributes: Record<string, string>, messageId: string) =>
      sender({ data: { message: { data: data.toString('base64'), attributes, messageId } } });
    try {
      const builder = createEntityBuilder({
        validityDays: 30,
        logType: 'GTI_IOC_STREAM',
        fetchTime: new Date(),
      });
      const dataset = generatedDataset({ count: 10, seed: 41, oversizedEvery: 0 });
      const ids = Array.from(
        { length: dataset.size },
        (_, i) => dataset.get(i).context_attributes.notification_id,
      );
      const entity = (i: number) => {
        const r = builder.buildFromNotification(dataset.get(i));
        assert.ok(r.kind === 'entity');
        return r.entity;
      };
      const chunks = [
        assembleChunk(1, [0, 1, 2, 3, 4].map(entity), builder.envelope),
        assembleChunk(2, [5, 6, 7, 8, 9].map(entity), builder.envelope),
      ];
      for (const chunk of chunks) await push(chunk.payload, chunkAttributes('run-e', chunk), `e${chunk.seq}`);

      // dlq list: one group of entity chunks, 403, ten entities.
      const listed = await listJson(env);
      const groups = listed.summary.groups;
      assert.deepEqual(
        groups.map((g) => [g.kind, g.reason, g.httpStatus, g.messages, g.entries]),
        [['entities', 'permanent_error', '403', 2, 10]],
      );
      assert.match(groups[0]?.errorMessage ?? '', /chronicle\.entities\.import/);
      const text = await run(['list'], env);
      assert.match(text.stdout, /KIND/);
      assert.match(text.stdout, /\bentities\s+permanent_error\s+403\b/);

      // replay to the chunks topic: the copies keep their kind; the sender then imports them.
      const replayed = await run(['replay', '--filter', 'kind=entities', '--json'], env);
      assert.equal(replayed.code, 0, replayed.stderr);
      assert.equal((JSON.parse(replayed.stdout) as { moved: number; entries: number }).moved, 2);
      const copies = await drain(names.chunksSub);
      assert.equal(copies.length, 2);
      for (const copy of copies) {
        assert.equal(copy.attributes.kind, 'entities');
        assert.equal(copy.attributes.replay_count, '1');
        assert.ok(
          chunks.some((c) => c.payload.equals(copy.data)),
          'the chunk data unchanged',
        );
      }
      denyEntities = false;
      for (const copy of copies) await push(copy.data, copy.attributes, `r-${copy.messageId}`);
      assert.deepEqual([...sim.entityImports.acceptedIds.keys()].sort(), [...ids].sort());
      assert.equal((await listJson(env)).summary.messages, 0);

      // Refused again, then replay --direct: straight to entities:import, nothing on the topic.
      denyEntities = true;
      for (const chunk of chunks) await push(chunk.payload, chunkAttributes('run-f', chunk), `f${chunk.seq}`);
      assert.equal((await listJson(env)).summary.messages, 2);
      denyEntities = false;
      const { code, stdout, stderr } = await runCli(
        ['dlq', 'replay', '--direct', '--json', '--pull-wait-ms', '1500'],
        {
          ...env,
          PATH: process.env.PATH,
          CHRONICLE_CUSTOMER_ID: customerId,
          CHRONICLE_REGION: 'us',
          CHRONICLE_API_BASE_URL: sim.baseUrl,
          GCE_METADATA_HOST: metadata.host,
          METADATA_SERVER_DETECTION: 'assume-present',
        },
      );
      assert.equal(code, 0, stderr);
      const direct = JSON.parse(stdout) as { moved: number; entries: number };
      assert.equal(direct.moved, 2);
      assert.equal(direct.entries, 10);
      assert.ok(
        [...sim.entityImports.acceptedIds.values()].every((times) => times === 2),
        'each entity once more',
      );
      assert.equal(sim.requests.length, 0, 'no entity chunk went to logs:import');
      assert.equal((await listJson(env)).summary.messages, 0);
      assert.equal((await drain(names.chunksSub)).length, 0, 'nothing went to the chunks topic');
    } finally {
      await publisher.close();
      await sim.close();
      await metadata.close();
    }
  });

  it('purge changes nothing without --yes, and archives before acknowledging with --yes', async () => {
    const { env, publish } = await topology();
    const messages = Array.from({ length: 30 }, (_, i) => ({
      data: Buffer.from(chunkBody(`p${i}`, 1)),
      attributes:
        i < 10
          ? { ...base(i, 1), ...ours('400', 'INVALID_ARGUMENT', 'bad') }
          : { ...base(i, 1), ...ours('403', 'PERMISSION_DENIED', FORBIDDEN) },
    }));
    await publish(messages);

    const preview = await run(['purge', '--reason', '400'], env);
    assert.equal(preview.code, 0, preview.stderr);
    assert.match(preview.stdout, /Would purge 10 messages/);
    assert.match(preview.stdout, /Nothing was changed/);
    assert.equal((await listJson(env)).summary.messages, 30);

    const archive = join(tmp, 'archive', 'purged.ndjson');
    const purge = await run(['purge', '--reason', '400', '--yes', '--archive', archive], env);
    assert.equal(purge.code, 0, purge.stderr);
    assert.match(purge.stdout, /Purged 10 messages/);
    const lines = (await readFile(archive, 'utf8')).trim().split('\n');
    assert.equal(lines.length, 10);
    const records = lines.map(
      (l) =>
        JSON.parse(l) as {
          id: string;
          publishTime: string;
          attributes: Record<string, string>;
          data: string;
        },
    );
    for (const r of records) {
      const original = messages[Number(r.attributes.seq)];
      assert.ok(original);
      assert.deepEqual(r.attributes, original.attributes);
      assert.ok(Buffer.from(r.data, 'base64').equals(original.data));
      assert.ok(r.id !== '' && !Number.isNaN(Date.parse(r.publishTime)));
    }
    const left = await listJson(env);
    assert.equal(left.summary.messages, 20);
    assert.deepEqual(
      left.summary.groups.map((g) => g.httpStatus),
      ['403'],
    );

    // Default archive path under OUTPUT_DIR; then the subscription is empty.
    const all = await run(['purge', '--yes'], env);
    assert.equal(all.code, 0, all.stderr);
    const path = /written to (\S+)$/m.exec(all.stdout)?.[1];
    assert.ok(path?.startsWith(`${tmp}/dlq-archive-`), all.stdout);
    assert.equal((await readFile(path ?? '', 'utf8')).trim().split('\n').length, 20);
    const empty = await run(['list'], env);
    assert.match(empty.stdout, /No dead-lettered messages on .*: nothing to do/);
    const nothing = await run(['replay'], env);
    assert.equal(nothing.code, 0);
    assert.match(nothing.stdout, /Nothing to replay/);
  });

  it('names an unknown subscription or topic, and changes nothing', async () => {
    const { env, publish } = await topology();
    const r = await run(['list', '--subscription', 'no-such-subscription'], env);
    assert.equal(r.code, 1);
    assert.match(
      r.stderr,
      new RegExp(`subscription projects/${PROJECT}/subscriptions/no-such-subscription does not exist`),
    );

    await publish([
      {
        data: Buffer.from(chunkBody('u', 1)),
        attributes: { ...base(0, 1), ...ours('403', 'PERMISSION_DENIED', FORBIDDEN) },
      },
    ]);
    const bad = await run(['replay', '--topic', 'no-such-topic'], env);
    assert.equal(bad.code, 1);
    assert.match(bad.stderr, new RegExp(`topic projects/${PROJECT}/topics/no-such-topic does not exist`));
    assert.equal((await listJson(env)).summary.messages, 1, 'the message stays dead-lettered');

    const missing = await run(['list'], { ...env, PUBSUB_DEAD_LETTER_SUBSCRIPTION: '' });
    assert.equal(missing.code, 2);
    assert.match(missing.stderr, /PUBSUB_DEAD_LETTER_SUBSCRIPTION: required \(or --subscription\)/);
  });
});
