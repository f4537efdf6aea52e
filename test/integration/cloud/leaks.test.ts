/**
 * The sender under faults and bad input, on the Pub/Sub and Firestore emulators: a Chronicle that
 * echoes the bearer token, a 200 that is not a success, a single entry refused as too large, pushes
 * that did not come from Pub/Sub. Asserted on outcomes: what reached Chronicle, the dead letters
 * and their attributes, the log lines, and `ioc-stream dlq list` run as its own process.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { DEAD_LETTER_ATTRIBUTES as D, PUBSUB_ATTRIBUTE_LIMITS } from '../../../shared/cloud/chunk_message.js';
import { generatedDataset } from '../../../sim/dataset.js';
import { assertNoSecretFragment, fakeAccessToken } from '../../helpers/secrets.js';
import { waitFor } from '../../helpers/wait.js';
import {
  type DeadLetter,
  datasetIds,
  missingIds,
  PROJECT_ID,
  type Scenario,
  settle,
  skipReason,
  useCloud,
} from './harness.js';

const skip = skipReason();
const CLI = fileURLToPath(new URL('../../../cli/main.js', import.meta.url));

/** Fails unless Pub/Sub would accept these attributes (the emulator checks none of its limits). */
function assertPublishable(attributes: Record<string, string>, where: string): void {
  const entries = Object.entries(attributes);
  assert.ok(entries.length <= PUBSUB_ATTRIBUTE_LIMITS.count, `${where}: ${entries.length} attributes`);
  for (const [key, value] of entries) {
    assert.ok(
      Buffer.byteLength(key) <= PUBSUB_ATTRIBUTE_LIMITS.keyBytes,
      `${where}: key of ${Buffer.byteLength(key)} bytes`,
    );
    assert.ok(
      Buffer.byteLength(value) <= PUBSUB_ATTRIBUTE_LIMITS.valueBytes,
      `${where}: ${key.slice(0, 40)} is ${Buffer.byteLength(value)} bytes`,
    );
  }
}

/**
 * Notification ids inside a logs:import body, or an entities:import body (each entity's
 * productEntityId); test-side decoding only.
 */
function idsIn(body: Buffer): string[] {
  const parsed = JSON.parse(body.toString('utf8')) as {
    inlineSource: { logs?: { data: string }[]; entities?: { metadata: { productEntityId: string } }[] };
  };
  if (parsed.inlineSource.entities)
    return parsed.inlineSource.entities.map((e) => e.metadata.productEntityId);
  return (parsed.inlineSource.logs ?? []).map(
    (l) =>
      (
        JSON.parse(Buffer.from(l.data, 'base64').toString('utf8')) as {
          context_attributes: { notification_id: string };
        }
      ).context_attributes.notification_id,
  );
}

/** Pushes a raw Pub/Sub push body straight to the sender, as anything able to reach its URL could. */
async function push(s: Scenario, message: Record<string, unknown>): Promise<number> {
  const url = `${s.cloud.sender.url}/projects/${PROJECT_ID}/topics/${s.cloud.names.chunks}`;
  const response = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ message, subscription: `projects/${PROJECT_ID}/subscriptions/direct` }),
  });
  await response.arrayBuffer();
  return response.status;
}

/** `ioc-stream dlq list` (text and --json) as its own process, on a copy of the dead letters. */
async function dlqList(s: Scenario, letters: readonly DeadLetter[]): Promise<string> {
  const topic = `${s.cloud.names.deadLetter}-copy`;
  const [created] = await s.cloud.pubsub.createTopic(topic);
  await created.createSubscription(`${topic}-sub`, { ackDeadlineSeconds: 10 });
  for (const l of letters) await created.publishMessage({ data: l.data, attributes: l.attributes });
  const run = (json: boolean) =>
    new Promise<{ code: number | null; out: string }>((resolve) => {
      const args = [CLI, 'dlq', 'list', '--subscription', `${topic}-sub`, '--pull-wait-ms', '1500'];
      const child = spawn(process.execPath, json ? [...args, '--json'] : args, {
        env: {
          PATH: process.env.PATH ?? '',
          GCP_PROJECT_ID: PROJECT_ID,
          PUBSUB_EMULATOR_HOST: s.cloud.pubsub.options.apiEndpoint ?? '',
          METADATA_SERVER_DETECTION: 'none',
        },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let out = '';
      child.stdout.on('data', (d: Buffer) => {
        out += d.toString();
      });
      child.stderr.on('data', (d: Buffer) => {
        out += d.toString();
      });
      child.on('close', (code) => resolve({ code, out }));
    });
  const text = await run(false);
  const json = await run(true);
  assert.equal(text.code, 0, text.out);
  assert.equal(json.code, 0, json.out);
  assert.match(text.out, new RegExp(`${letters.length} dead-lettered messages`));
  return text.out + json.out;
}

describe('sender: nothing leaked, nothing lost, under faults and bad pushes', { skip }, () => {
  const cloud = useCloud();

  it('a Chronicle that echoes the bearer token: no piece of it in dead letters, logs or dlq list', {
    timeout: 120_000,
  }, async () => {
    const token = fakeAccessToken();
    const dataset = generatedDataset({ count: 40, seed: 31, oversizedEvery: 0 });
    const s = await cloud.start({
      dataset,
      metadataToken: token,
      chronicle: {
        acceptToken: (t) => t === token,
        // Straddling the 300-character cut of the message, in the status, the details and a header.
        fault: ({ n }) => ({
          status: 403,
          body: {
            error: {
              code: 403,
              message: `${'m'.repeat(270 + (n % 30))}Bearer ${token}`,
              status: `PERMISSION_DENIED ${token}`,
              details: [{ '@type': 'type.googleapis.com/google.rpc.ErrorInfo', metadata: { token } }],
            },
          },
          headers: { 'x-echo': token },
        }),
      },
    });
    await s.trigger();
    const deadOf = (kind: string) =>
      s.deadLetters.filter((d) => (d.attributes.kind ?? 'logs') === kind).flatMap((d) => idsIn(d.data));
    await waitFor(
      'every notification and its entity dead-lettered',
      () => deadOf('logs').length >= dataset.size && deadOf('entities').length >= dataset.size,
      60_000,
      () => `(${deadOf('logs').length} log entries, ${deadOf('entities').length} entities)`,
    );
    await settle(s, 1000);

    // Nothing lost: every notification is in a log dead letter, and its entity in an entity one.
    assert.deepEqual(deadOf('logs').sort(), datasetIds(dataset).sort());
    assert.deepEqual(deadOf('entities').sort(), datasetIds(dataset).sort());
    for (const d of s.deadLetters) {
      assert.equal(d.attributes[D.reason], 'permanent_error');
      assert.equal(d.attributes[D.httpStatus], '403');
      assert.equal(d.attributes[D.rpcStatus], undefined, 'a status that is not a status name is not copied');
      assertPublishable(d.attributes, 'dead letter');
    }
    assertNoSecretFragment(
      s.deadLetters.map((d) => d.attributes),
      token,
      'dead-letter attributes',
    );
    assertNoSecretFragment(s.cloud.sender.logs, token, 'sender log lines');
    assertNoSecretFragment(await dlqList(s, s.deadLetters), token, 'dlq list');
  });

  it('a 200 whose body is a google.rpc error is retried, and everything arrives', {
    timeout: 120_000,
  }, async () => {
    const dataset = generatedDataset({ count: 120, seed: 32, oversizedEvery: 0 });
    const s = await cloud.start({
      dataset,
      env: { CHUNK_MAX_BYTES: '60000' },
      chronicle: {
        fault: ({ n }) =>
          n <= 3
            ? {
                status: 200,
                body: { error: { code: 429, message: 'Quota exceeded', status: 'RESOURCE_EXHAUSTED' } },
              }
            : undefined,
      },
    });
    await s.trigger();
    await waitFor(
      'every notification in Chronicle',
      () => s.chronicle.acceptedIds.size === dataset.size,
      90_000,
      () => `(${s.chronicle.acceptedIds.size} of ${dataset.size})`,
    );
    await settle(s, 1500);
    assert.deepEqual(missingIds(datasetIds(dataset), s.chronicle), []);
    await waitFor(
      'every entity in Chronicle',
      () => s.chronicle.entityImports.acceptedIds.size === dataset.size,
      30_000,
    );
    const retried = s.chunkLines().filter((l) => l.outcome === 'retry');
    // The first three requests of each kind answered a false success.
    for (const kind of ['logs', 'entities'])
      assert.equal(
        retried.filter((l) => l.http_status === 200 && l.kind === kind).length,
        3,
        `each false success was logged and retried (${kind})`,
      );
    assert.equal(s.deadLetters.length, 0);
  });

  it('a single entry refused as too large is dead-lettered naming its notification and size', {
    timeout: 120_000,
  }, async () => {
    const dataset = generatedDataset({ count: 3, seed: 33, oversizedEvery: 0 });
    const s = await cloud.start({
      dataset,
      chronicle: {
        fault: () => ({
          status: 413,
          rpcStatus: 'INVALID_ARGUMENT',
          message: 'Request payload size exceeds the limit',
        }),
      },
    });
    await s.trigger();
    // Three log entries and three entities, each refused on its own.
    await waitFor(
      'six dead letters',
      () => s.deadLetters.length >= 6,
      60_000,
      () => `(${s.deadLetters.length})`,
    );
    await settle(s, 1000);
    assert.equal(s.deadLetters.length, 6);
    for (const d of s.deadLetters) {
      const [id, ...more] = idsIn(d.data);
      assert.equal(more.length, 0);
      assert.equal(d.attributes[D.reason], 'too_large');
      const inline = (
        JSON.parse(d.data.toString('utf8')) as { inlineSource: { logs?: unknown[]; entities?: unknown[] } }
      ).inlineSource;
      const item = (inline.entities ?? inline.logs ?? [])[0];
      const what = d.attributes.kind === 'entities' ? 'entity' : 'entry';
      const message = d.attributes[D.errorMessage] ?? '';
      assert.ok(message.includes(`notification ${id} `), message);
      assert.ok(message.includes(`${Buffer.byteLength(JSON.stringify(item))}-byte ${what}`), message);
      assert.doesNotMatch(message, /CHUNK_MAX_BYTES/);
    }
    assert.deepEqual(s.deadLetters.map((d) => d.attributes.kind).sort(), [
      'entities',
      'entities',
      'entities',
      'logs',
      'logs',
      'logs',
    ]);
    const logged = s
      .chunkLines()
      .filter((l) => l.outcome === 'dead_lettered')
      .map((l) => `${l.kind}:${l.notification_id}`);
    assert.deepEqual(
      logged.sort(),
      [
        ...datasetIds(dataset).map((id) => `entities:${id}`),
        ...datasetIds(dataset).map((id) => `logs:${id}`),
      ].sort(),
    );
  });

  it('bad pushes: undecodable data named and kept, echoes bounded, every dead letter publishable', {
    timeout: 120_000,
  }, async () => {
    const dataset = generatedDataset({ count: 1, seed: 34 });
    const s = await cloud.start({ dataset });
    const huge = 'r'.repeat(300_000);
    const manyAttributes: Record<string, string> = {};
    for (let i = 0; i < 150; i++) manyAttributes[`a${String(i).padStart(3, '0')}`] = 'é'.repeat(600 + i);
    manyAttributes['k'.repeat(300)] = 'long key';
    const pushes: { name: string; message: Record<string, unknown>; received: Buffer }[] = [
      {
        name: 'not base64',
        message: {
          data: '%%% this is not base64 %%%',
          attributes: { run_id: huge, seq: huge },
          messageId: 'b1',
        },
        received: Buffer.from('%%% this is not base64 %%%'),
      },
      {
        name: 'a number',
        message: { data: 12345, attributes: { run_id: 'n' }, messageId: 'b2' },
        received: Buffer.from('12345'),
      },
      {
        name: 'many long attributes',
        message: {
          data: Buffer.from('{"inlineSource":').toString('base64'),
          attributes: manyAttributes,
          messageId: huge,
        },
        received: Buffer.from('{"inlineSource":'),
      },
    ];
    for (const p of pushes) assert.equal(await push(s, p.message), 204, p.name);
    await waitFor('the dead letters', () => s.deadLetters.length >= pushes.length, 30_000);
    await settle(s, 500);
    assert.equal(s.deadLetters.length, pushes.length);
    for (const p of pushes) {
      const letter = s.deadLetters.find((d) => d.data.equals(p.received));
      assert.ok(letter, `${p.name}: dead-lettered with its data as received`);
      assert.equal(letter.attributes[D.reason], 'invalid_message');
      assertPublishable(letter.attributes, p.name);
      if (p.name !== 'many long attributes') {
        assert.match(letter.attributes[D.errorMessage] ?? '', /base64/, `${p.name}: named as undecodable`);
      }
    }
    // Every line of the sender bounded (Cloud Logging keeps 256 KB per entry): 16 KB is plenty.
    const lines = s.cloud.sender.logs.map((l) => JSON.stringify(l));
    assert.ok(lines.length >= pushes.length);
    for (const line of lines) assert.ok(line.length < 16_384, `a ${line.length}-character log line`);
  });
});
