import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createSendHandler } from '../../../functions/sender.js';
import { type ChronicleImporter, chronicleError } from '../../../shared/chronicle/client.js';
import { DEAD_LETTER_ATTRIBUTES as D, PUBSUB_ATTRIBUTE_LIMITS } from '../../../shared/cloud/chunk_message.js';
import type { Publisher } from '../../../shared/cloud/pubsub.js';
import { loadConfig } from '../../../shared/core/config.js';
import {
  type ChronicleError,
  ChroniclePermanentError,
  ChronicleRetryableError,
  ChronicleTooLargeError,
} from '../../../shared/core/errors.js';
import { createLogger } from '../../../shared/core/logger.js';
import { Secret } from '../../../shared/core/redact.js';
import { assertNoSecretFragment, fakeAccessToken } from '../../helpers/secrets.js';

const config = loadConfig({
  GCP_PROJECT_ID: 'unit-project',
  CHRONICLE_CUSTOMER_ID: '01234567-89ab-cdef-0123-456789abcdef',
  PUBSUB_CHUNKS_TOPIC: 'chunks',
  PUBSUB_DEAD_LETTER_TOPIC: 'dead-letter',
});

function body(entries: number): string {
  const logs = Array.from({ length: entries }, (_, i) => ({
    data: Buffer.from(JSON.stringify({ secret_payload: i })).toString('base64'),
    logEntryTime: '2026-01-01T00:00:00Z',
    collectionTime: '2026-01-01T00:00:01Z',
  }));
  return JSON.stringify({ inlineSource: { logs } });
}

function event(data: string, attributes: Record<string, string> = { run_id: 'r1', seq: '3' }) {
  return { data: { message: { data: Buffer.from(data).toString('base64'), attributes, messageId: 'm-1' } } };
}

function harness(failures: (ChronicleError | undefined)[]) {
  const published: { topic: string; data: Buffer; attributes: Record<string, string> }[] = [];
  const lines: Record<string, unknown>[] = [];
  const sent: string[] = [];
  /** The endpoint of each request made, in order. */
  const endpoints: ('logs' | 'entities')[] = [];
  let call = 0;
  const post = async (kind: 'logs' | 'entities', b: string | Buffer) => {
    endpoints.push(kind);
    const failure = failures[call++];
    if (failure) throw failure;
    sent.push(typeof b === 'string' ? b : b.toString('utf8'));
  };
  const importer: ChronicleImporter = {
    target: 'test',
    entitiesTarget: 'test-entities',
    importLogs: (b) => post('logs', b),
    importEntities: (b) => post('entities', b),
  };
  const publisher: Publisher = {
    async publish(topic, data, attributes = {}) {
      published.push({ topic, data, attributes });
      return `p-${published.length}`;
    },
    close: async () => undefined,
  };
  const logger = createLogger({
    format: 'json',
    sink: { write: (line: string) => lines.push(JSON.parse(line) as Record<string, unknown>) },
  });
  const handler = createSendHandler({ config, logger, importer, publisher });
  return { handler, published, lines, sent, endpoints };
}

describe('sendToChronicle handler', () => {
  it('sends a valid chunk and logs one line without payload', async () => {
    const h = harness([]);
    await h.handler(event(body(3)));
    assert.equal(h.sent.length, 1);
    assert.equal(h.lines.length, 1);
    assert.equal(h.lines[0]?.message, 'chunk processed');
    assert.equal(h.lines[0]?.outcome, 'sent');
    assert.equal(h.lines[0]?.entries, 3);
    assert.ok(!JSON.stringify(h.lines).includes('secret_payload'));
  });

  it('throws on a retryable error so Pub/Sub redelivers', async () => {
    const h = harness([new ChronicleRetryableError('boom', { status: 503 })]);
    await assert.rejects(h.handler(event(body(2))), ChronicleRetryableError);
    assert.equal(h.lines[0]?.outcome, 'retry');
    assert.equal(h.lines[0]?.http_status, 503);
    assert.equal(h.published.length, 0);
  });

  it('dead-letters a permanent error with its attributes and acknowledges', async () => {
    const h = harness([
      new ChroniclePermanentError('denied', { status: 403, rpcStatus: 'PERMISSION_DENIED' }),
    ]);
    await h.handler(event(body(2)));
    const [dl] = h.published;
    assert.equal(dl?.topic, 'dead-letter');
    assert.equal(dl?.attributes[D.reason], 'permanent_error');
    assert.equal(dl?.attributes[D.httpStatus], '403');
    assert.equal(dl?.attributes[D.rpcStatus], 'PERMISSION_DENIED');
    assert.equal(dl?.attributes[D.deliveryAttempt], '1');
    assert.equal(dl?.attributes[D.sourceMessageId], 'm-1');
    assert.ok(dl?.attributes[D.deadLetteredAt]);
    assert.equal(dl?.attributes.run_id, 'r1');
    assert.equal(h.lines[0]?.outcome, 'dead_lettered');
  });

  it('dead-letters a replayed message with only the new reason, keeping its replay count', async () => {
    const h = harness([
      new ChronicleRetryableError('x', {}),
      new ChroniclePermanentError('bad', { status: 400 }),
    ]);
    const replayed = {
      run_id: 'r1',
      seq: '3',
      [D.reason]: 'permanent_error',
      [D.httpStatus]: '403',
      [D.rpcStatus]: 'PERMISSION_DENIED',
      [D.errorMessage]: 'old',
      CloudPubSubDeadLetterSourceDeliveryCount: '5',
      [D.replayCount]: '1',
      [D.replayedAt]: '2026-01-01T00:00:00Z',
    };
    await assert.rejects(h.handler(event(body(2), replayed)));
    await h.handler(event(body(2), replayed));
    const [dl] = h.published;
    assert.equal(dl?.attributes[D.httpStatus], '400');
    assert.equal(dl?.attributes[D.rpcStatus], undefined);
    assert.equal(dl?.attributes.CloudPubSubDeadLetterSourceDeliveryCount, undefined);
    assert.equal(dl?.attributes[D.replayCount], '1');
    assert.equal(dl?.attributes[D.deliveryAttempt], '2');
  });

  it('splits a 413 into two halves published back to the chunks topic', async () => {
    const h = harness([new ChronicleTooLargeError('too big', { status: 413 })]);
    await h.handler(event(body(5)));
    assert.deepEqual(
      h.published.map((p) => [p.topic, p.attributes.entry_count, p.attributes.split_from]),
      [
        ['chunks', '3', 'm-1'],
        ['chunks', '2', 'm-1'],
      ],
    );
    assert.equal(h.published[0]?.attributes.byte_size, String(h.published[0]?.data.length));
    assert.equal(h.lines[0]?.outcome, 'split');
  });

  it('dead-letters a single entry that is still too large', async () => {
    const h = harness([new ChronicleTooLargeError('too big', { status: 413 })]);
    await h.handler(event(body(1)));
    assert.equal(h.published[0]?.topic, 'dead-letter');
    assert.equal(h.published[0]?.attributes[D.reason], 'too_large');
  });

  // What the client makes of Google's answer to an oversized body (shared/chronicle/client.ts).
  const oversize400 = () =>
    chronicleError(
      400,
      JSON.stringify({
        error: {
          code: 400,
          message: 'Request payload size exceeds the limit: 4000000 bytes.',
          status: 'INVALID_ARGUMENT',
        },
      }),
    );

  it('splits on 400 INVALID_ARGUMENT "Request payload size exceeds the limit" as on 413', async () => {
    const h = harness([oversize400()]);
    await h.handler(event(body(5)));
    assert.deepEqual(
      h.published.map((p) => [p.topic, p.attributes.entry_count, p.attributes.split_from]),
      [
        ['chunks', '3', 'm-1'],
        ['chunks', '2', 'm-1'],
      ],
    );
    assert.equal(h.lines[0]?.outcome, 'split');
    assert.equal(h.lines[0]?.http_status, 400);
    assert.equal(h.lines[0]?.rpc_status, 'INVALID_ARGUMENT');
  });

  it('dead-letters a single entry answered with the 400 payload-size error as too_large', async () => {
    const h = harness([oversize400()]);
    await h.handler(event(body(1)));
    const [dl] = h.published;
    assert.equal(dl?.topic, 'dead-letter');
    assert.equal(dl?.attributes[D.reason], 'too_large');
    assert.equal(dl?.attributes[D.httpStatus], '400');
    assert.equal(dl?.attributes[D.rpcStatus], 'INVALID_ARGUMENT');
    assert.match(dl?.attributes[D.errorMessage] ?? '', /Request payload size exceeds the limit/);
  });

  it('dead-letters any other 400 INVALID_ARGUMENT as a permanent error, without splitting', async () => {
    const other = chronicleError(
      400,
      JSON.stringify({ error: { code: 400, message: 'Invalid log entry', status: 'INVALID_ARGUMENT' } }),
    );
    const h = harness([other]);
    await h.handler(event(body(5)));
    assert.deepEqual(
      h.published.map((p) => [p.topic, p.attributes[D.reason]]),
      [['dead-letter', 'permanent_error']],
    );
  });

  it('dead-letters invalid messages, including one with no data (raw push body)', async () => {
    const h = harness([]);
    await h.handler(event('{"nope":1}'));
    await h.handler({
      message: { attributes: { a: 'b' }, messageId: 'm-2' },
      subscription: 's',
      deliveryAttempt: 4,
    });
    assert.deepEqual(
      h.published.map((p) => [p.topic, p.attributes[D.reason]]),
      [
        ['dead-letter', 'invalid_message'],
        ['dead-letter', 'invalid_message'],
      ],
    );
    assert.equal(h.published[1]?.attributes[D.deliveryAttempt], '4', 'raw push bodies keep deliveryAttempt');
    assert.equal(h.sent.length, 0);
  });

  it('counts redeliveries it has seen when Pub/Sub does not say', async () => {
    const h = harness([
      new ChronicleRetryableError('x', { status: 500 }),
      new ChroniclePermanentError('bad', { status: 400 }),
    ]);
    await assert.rejects(h.handler(event(body(2))));
    await h.handler(event(body(2)));
    assert.equal(h.published[0]?.attributes[D.deliveryAttempt], '2');
  });

  it('throws (keeps the message) when the dead letter cannot be published', async () => {
    const attempts: string[] = [];
    const failing = createSendHandler({
      config,
      logger: createLogger({ sink: { write: () => undefined } }),
      importer: {
        target: 't',
        entitiesTarget: 't',
        importLogs: async () => Promise.reject(new ChroniclePermanentError('bad', { status: 400 })),
        importEntities: async () => Promise.reject(new Error('not an entity chunk')),
      },
      publisher: {
        publish: async (topic: string) => {
          attempts.push(topic);
          throw new Error('pubsub down');
        },
        close: async () => undefined,
      },
    });
    await assert.rejects(failing(event(body(2))), /pubsub down/);
    assert.deepEqual(attempts, [config.pubsub.deadLetterTopic], 'tried the dead-letter topic once');
  });
});

describe('sendToChronicle handler under bad input', () => {
  const raw = (message: Record<string, unknown>) => ({ data: { message: { messageId: 'm-9', ...message } } });

  it('names data that is not base64 as such and dead-letters it as received', async () => {
    const h = harness([]);
    await h.handler(raw({ data: '%%% not base64 %%%', attributes: { run_id: 'r' } }));
    await h.handler(raw({ data: { an: 'object' }, attributes: { run_id: 'r' } }));
    await h.handler(raw({ data: 'abcde', attributes: { run_id: 'r' } })); // 5 characters: no base64 text has that length
    assert.deepEqual(
      h.published.map((p) => [p.attributes[D.reason], p.data.toString()]),
      [
        ['invalid_message', '%%% not base64 %%%'],
        ['invalid_message', '{"an":"object"}'],
        ['invalid_message', 'abcde'],
      ],
    );
    for (const p of h.published) {
      assert.match(p.attributes[D.errorMessage] ?? '', /base64/);
      assert.doesNotMatch(p.attributes[D.errorMessage] ?? '', /empty/);
    }
    assert.equal(h.sent.length, 0);
  });

  it('bounds what it echoes from a push into its log line and its dead letter', async () => {
    const h = harness([]);
    const huge = 'x'.repeat(400_000);
    const attributes: Record<string, string> = { run_id: huge, seq: huge };
    for (let i = 0; i < 130; i++) attributes[`a${i}`] = '日'.repeat(500);
    await h.handler({
      data: { message: { data: Buffer.from('not json').toString('base64'), attributes, messageId: huge } },
    });
    const line = JSON.stringify(h.lines[0]);
    assert.ok(line.length < 16_384, `${line.length}-character log line`);
    const dead = h.published[0]?.attributes ?? {};
    assert.equal(dead[D.reason], 'invalid_message');
    assert.ok(Object.keys(dead).length <= PUBSUB_ATTRIBUTE_LIMITS.count);
    for (const value of Object.values(dead))
      assert.ok(Buffer.byteLength(value) <= PUBSUB_ATTRIBUTE_LIMITS.valueBytes);
  });

  it('reports a single entry refused as too large with its notification id and size', async () => {
    const entry = {
      data: Buffer.from(JSON.stringify({ context_attributes: { notification_id: 'notif-600' } })).toString(
        'base64',
      ),
      logEntryTime: '2026-01-01T00:00:00Z',
    };
    const h = harness([
      chronicleError(
        413,
        JSON.stringify({ error: { code: 413, message: 'too big', status: 'INVALID_ARGUMENT' } }),
      ),
    ]);
    await h.handler(event(JSON.stringify({ inlineSource: { logs: [entry] } })));
    const message = h.published[0]?.attributes[D.errorMessage] ?? '';
    assert.equal(h.published[0]?.attributes[D.reason], 'too_large');
    assert.match(message, /notification notif-600 /);
    assert.match(message, new RegExp(`${Buffer.byteLength(JSON.stringify(entry))}-byte entry`));
    assert.doesNotMatch(message, /CHUNK_MAX_BYTES/);
    assert.equal(h.lines[0]?.notification_id, 'notif-600');
  });

  it('copies no piece of a token Chronicle echoed into the dead letter or the log line', async () => {
    const token = new Secret(fakeAccessToken()).reveal();
    for (const offset of [0, 250, 270, 290, 299, 460, 490]) {
      const answer = JSON.stringify({
        error: {
          code: 403,
          message: `${'w'.repeat(offset)}Bearer ${token}`,
          status: `PERMISSION_DENIED ${token}`,
        },
      });
      const h = harness([chronicleError(403, answer)]);
      await h.handler(event(body(1)));
      const dead = h.published[0]?.attributes ?? {};
      assert.equal(dead[D.reason], 'permanent_error');
      assert.equal(dead[D.rpcStatus], undefined);
      assertNoSecretFragment(dead, token, `dead letter, offset ${offset}`);
      assertNoSecretFragment(h.lines, token, `log line, offset ${offset}`);
    }
  });
});

/** An entities:import body of `count` entities, as the fetcher publishes it. */
function entityBody(count: number): string {
  const entities = Array.from({ length: count }, (_, i) => ({
    metadata: {
      productEntityId: `notif-e${i}`,
      entityType: 'FILE',
      interval: { startTime: '2026-01-01T00:00:00Z', endTime: '2026-01-31T00:00:00Z' },
    },
    entity: { file: { sha256: `${i}`.padStart(64, 'a') } },
  }));
  return JSON.stringify({ inlineSource: { entities, logType: 'GTI_IOC_STREAM' } });
}

const ENTITY_ATTRIBUTES = { run_id: 'r1', seq: '4', kind: 'entities' };

describe('sendToChronicle handler: entity chunks', () => {
  it('posts a chunk whose kind is entities to entities:import and logs its kind', async () => {
    const h = harness([]);
    await h.handler(event(entityBody(3), ENTITY_ATTRIBUTES));
    assert.deepEqual(h.endpoints, ['entities']);
    assert.equal(h.lines[0]?.outcome, 'sent');
    assert.equal(h.lines[0]?.kind, 'entities');
    assert.equal(h.lines[0]?.entries, 3);
  });

  it('treats a chunk without a kind attribute as logs (messages queued before entities existed)', async () => {
    const h = harness([]);
    await h.handler(event(body(2), { run_id: 'r1', seq: '1' }));
    assert.deepEqual(h.endpoints, ['logs']);
    assert.equal(h.lines[0]?.kind, 'logs');
  });

  it('dead-letters an entity chunk refused with 403, keeping its kind, naming the permission', async () => {
    const denied = chronicleError(
      403,
      JSON.stringify({ error: { code: 403, message: 'Permission denied', status: 'PERMISSION_DENIED' } }),
      undefined,
      'entities',
    );
    const h = harness([denied]);
    await h.handler(event(entityBody(2), ENTITY_ATTRIBUTES));
    const [dl] = h.published;
    assert.equal(dl?.topic, 'dead-letter');
    assert.equal(dl?.attributes.kind, 'entities');
    assert.equal(dl?.attributes[D.reason], 'permanent_error');
    assert.equal(dl?.attributes[D.httpStatus], '403');
    assert.match(dl?.attributes[D.errorMessage] ?? '', /chronicle\.entities\.import/);
    assert.equal(h.lines[0]?.kind, 'entities');
  });

  it('splits an entity chunk answered too large into two entity halves', async () => {
    const h = harness([new ChronicleTooLargeError('too big', { status: 413 })]);
    await h.handler(event(entityBody(5), ENTITY_ATTRIBUTES));
    assert.deepEqual(
      h.published.map((p) => [p.topic, p.attributes.kind, p.attributes.entry_count]),
      [
        ['chunks', 'entities', '3'],
        ['chunks', 'entities', '2'],
      ],
    );
    for (const half of h.published) {
      const parsed = JSON.parse(half.data.toString('utf8')) as { inlineSource: Record<string, unknown> };
      assert.equal(parsed.inlineSource.logType, 'GTI_IOC_STREAM');
      assert.ok(Array.isArray(parsed.inlineSource.entities));
    }
  });

  it('dead-letters a single entity refused as too large, naming its notification', async () => {
    const h = harness([new ChronicleTooLargeError('too big', { status: 413 })]);
    await h.handler(event(entityBody(1), ENTITY_ATTRIBUTES));
    assert.equal(h.published[0]?.attributes[D.reason], 'too_large');
    assert.match(
      h.published[0]?.attributes[D.errorMessage] ?? '',
      /entity of notification notif-e0 .*-byte entity/,
    );
    assert.equal(h.lines[0]?.notification_id, 'notif-e0');
  });

  it('dead-letters as invalid_message a kind that does not match the data, or an unknown kind', async () => {
    for (const [data, attributes, problem] of [
      [body(2), ENTITY_ATTRIBUTES, /is a logs body .*not an entities body/],
      [entityBody(2), { run_id: 'r1' }, /is an entities body .*not a logs body/],
      [entityBody(2), { kind: 'alerts' }, /attribute kind is "alerts"/],
    ] as const) {
      const h = harness([]);
      await h.handler(event(data, { ...attributes }));
      assert.equal(h.endpoints.length, 0, 'nothing sent');
      assert.equal(h.published[0]?.attributes[D.reason], 'invalid_message');
      assert.match(h.published[0]?.attributes[D.errorMessage] ?? '', problem);
    }
  });
});
