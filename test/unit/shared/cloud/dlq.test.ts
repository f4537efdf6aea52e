import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  archiveRecord,
  type DlqMessage,
  type DlqTransport,
  defaultArchivePath,
  digestOf,
  entryCountOf,
  MATCH_ALL,
  matchesFilter,
  parseFilter,
  pubsubError,
  RateLimiter,
  reasonOf,
  replayAttributes,
  replayDeadLetters,
  summarize,
} from '../../../../shared/cloud/dlq.js';
import { fakeAccessToken } from '../../../helpers/secrets.js';

const body = (n: number) =>
  JSON.stringify({
    inlineSource: {
      logs: Array.from({ length: n }, (_, i) => ({
        data: Buffer.from(`{"i":${i}}`).toString('base64'),
        logEntryTime: '2026-01-01T00:00:00Z',
      })),
    },
  });

const ours = (status: string, rpc: string, extra: Record<string, string> = {}) => ({
  dlq_reason: 'permanent_error',
  dlq_http_status: status,
  dlq_rpc_status: rpc,
  dlq_error_message: `Chronicle answered ${status} ${rpc}`,
  dlq_delivery_attempt: '1',
  ...extra,
});
const pubsubs = {
  CloudPubSubDeadLetterSourceDeliveryCount: '5',
  CloudPubSubDeadLetterSourceSubscription: 'projects/p/subscriptions/chunks-push',
  CloudPubSubDeadLetterSourceTopicPublishTime: '2026-01-01T00:00:00Z',
};

function msg(
  id: string,
  attributes: Record<string, string>,
  data = body(2),
  publishMs = 1_800_000_000_000,
): DlqMessage {
  return {
    ackId: `ack-${id}`,
    messageId: id,
    publishTime: new Date(publishMs),
    attributes,
    data: Buffer.from(data),
    deliveryAttempt: 0,
  };
}

describe('reasonOf', () => {
  it('reads our dlq_* attributes', () => {
    const r = reasonOf(ours('403', 'PERMISSION_DENIED'));
    assert.equal(r.reason, 'permanent_error');
    assert.equal(r.httpStatus, '403');
    assert.equal(r.rpcStatus, 'PERMISSION_DENIED');
    assert.equal(r.deliveryCount, 1);
    assert.equal(r.sourceSubscription, undefined);
  });
  it('recognises a copy Pub/Sub dead-lettered after max delivery attempts', () => {
    const r = reasonOf(pubsubs);
    assert.equal(r.reason, 'max_delivery_attempts');
    assert.equal(r.deliveryCount, 5);
    assert.equal(r.sourceSubscription, 'projects/p/subscriptions/chunks-push');
  });
  it('after a replay, trusts the attributes written after replayed_at', () => {
    const before = { ...ours('403', 'PERMISSION_DENIED'), dlq_time: '2026-01-01T10:00:00Z' };
    // Replayed, then Pub/Sub dead-lettered it after five 503s: our 403 attributes are stale.
    const again = reasonOf({
      ...before,
      replay_count: '1',
      replayed_at: '2026-01-01T11:00:00Z',
      ...pubsubs,
      CloudPubSubDeadLetterSourceTopicPublishTime: '2026-01-01T11:00:01Z',
    });
    assert.equal(again.reason, 'max_delivery_attempts');
    assert.equal(again.httpStatus, undefined);
    assert.equal(again.deliveryCount, 5);
    // Pub/Sub dead-lettered it first, then after a replay the sender rejected it with a 400.
    const later = reasonOf({
      ...pubsubs,
      CloudPubSubDeadLetterSourceTopicPublishTime: '2026-01-01T09:00:00Z',
      replayed_at: '2026-01-01T11:00:00Z',
      ...ours('400', 'INVALID_ARGUMENT'),
      dlq_time: '2026-01-01T11:00:02Z',
    });
    assert.equal(later.reason, 'permanent_error');
    assert.equal(later.httpStatus, '400');
    assert.equal(later.sourceSubscription, undefined);
    assert.equal(later.deliveryCount, 1);
  });
  it('says unknown without any attribute and truncates long error messages', () => {
    assert.equal(reasonOf({}).reason, 'unknown');
    const long = reasonOf({ dlq_error_message: `x${'y'.repeat(500)}\n z` });
    assert.ok((long.errorMessage ?? '').length <= 200);
  });
});

describe('entryCountOf', () => {
  it('prefers entry_count, else counts inlineSource.logs, else 0', () => {
    assert.equal(entryCountOf({ entry_count: '7' }, Buffer.from(body(2))), 7);
    assert.equal(entryCountOf({}, Buffer.from(body(3))), 3);
    assert.equal(entryCountOf({ entry_count: 'x' }, Buffer.from('not json')), 0);
  });
});

describe('replayAttributes', () => {
  it('keeps every original attribute and increments replay_count', () => {
    const now = new Date('2026-02-01T10:00:00Z');
    const first = replayAttributes({ run_id: 'r', ...ours('403', 'PERMISSION_DENIED') }, now);
    assert.equal(first.replay_count, '1');
    assert.equal(first.replayed_at, '2026-02-01T10:00:00.000Z');
    assert.equal(first.run_id, 'r');
    assert.equal(first.dlq_http_status, '403');
    assert.equal(replayAttributes(first, now).replay_count, '2');
  });
});

describe('filters', () => {
  it('matches the reason, the HTTP status or the rpc status, case-insensitively', () => {
    const a = ours('403', 'PERMISSION_DENIED');
    for (const r of ['permanent_error', '403', 'permission_denied'])
      assert.ok(matchesFilter(a, parseFilter([r], [])), r);
    assert.ok(!matchesFilter(a, parseFilter(['400'], [])));
    assert.ok(matchesFilter(a, parseFilter(['400', '403'], [])));
    assert.ok(matchesFilter(pubsubs, parseFilter(['max_delivery_attempts'], [])));
  });
  it('ANDs attribute filters; * means present', () => {
    const a = { ...ours('400', 'INVALID_ARGUMENT'), run_id: 'r1' };
    assert.ok(matchesFilter(a, parseFilter([], ['run_id=r1', 'dlq_http_status=400'])));
    assert.ok(!matchesFilter(a, parseFilter([], ['run_id=r1', 'dlq_http_status=403'])));
    assert.ok(matchesFilter(a, parseFilter([], ['run_id=*'])));
    assert.ok(!matchesFilter(a, parseFilter([], ['split_from=*'])));
    assert.ok(matchesFilter(a, MATCH_ALL));
  });
  it('rejects a filter without =', () => {
    assert.throws(() => parseFilter([], ['run_id']), /KEY=VALUE/);
    assert.throws(() => parseFilter([], ['=x']), /KEY=VALUE/);
  });
});

describe('summarize', () => {
  it('groups by reason, statuses, message, source and delivery count with exact counts', () => {
    const messages = [
      ...Array.from({ length: 3 }, (_, i) =>
        msg(`a${i}`, ours('403', 'PERMISSION_DENIED'), body(2), 1_000 + i),
      ),
      ...Array.from({ length: 2 }, (_, i) =>
        msg(`b${i}`, { ...pubsubs, entry_count: '10' }, body(1), 500 + i),
      ),
      msg('c', ours('400', 'INVALID_ARGUMENT', { replay_count: '5' }), body(4), 2_000),
      msg('d', { ...ours('403', 'PERMISSION_DENIED'), replay_count: '1' }, body(1), 3_000),
    ];
    const s = summarize(messages.map(digestOf), 5);
    assert.equal(s.messages, 7);
    assert.equal(s.entries, 3 * 2 + 2 * 10 + 4 + 1);
    assert.equal(
      s.bytes,
      messages.reduce((n, m) => n + m.data.length, 0),
    );
    assert.equal(s.oldest, new Date(500).toISOString());
    assert.equal(s.newest, new Date(3_000).toISOString());
    assert.equal(s.replayed, 2);
    assert.equal(s.atMaxReplays, 1);
    assert.deepEqual(
      s.groups.map((g) => [g.reason, g.httpStatus, g.messages, g.entries]),
      [
        ['permanent_error', '403', 4, 7],
        ['max_delivery_attempts', undefined, 2, 20],
        ['permanent_error', '400', 1, 4],
      ],
    );
    assert.equal(s.groups[1]?.deliveryCount, 5);
    assert.equal(s.groups[1]?.sourceSubscription, 'projects/p/subscriptions/chunks-push');
  });
  it('is empty for no messages', () => {
    const s = summarize([], 5);
    assert.equal(s.messages, 0);
    assert.equal(s.oldest, undefined);
    assert.deepEqual(s.groups, []);
  });
});

describe('entity chunks in the dead-letter queue', () => {
  const entityBody = (n: number) =>
    JSON.stringify({
      inlineSource: {
        entities: Array.from({ length: n }, (_, i) => ({ metadata: { productEntityId: `n${i}` } })),
        logType: 'GTI_IOC_STREAM',
      },
    });

  it('list groups by kind as well as reason: a 403 on entities is its own group', () => {
    const messages = [
      msg('l1', { ...ours('403', 'PERMISSION_DENIED'), kind: 'logs' }, body(2)),
      msg('l2', ours('403', 'PERMISSION_DENIED'), body(3)), // before entities existed: logs
      msg('e1', { ...ours('403', 'PERMISSION_DENIED'), kind: 'entities' }, entityBody(4)),
      msg('e2', { ...ours('403', 'PERMISSION_DENIED'), kind: 'entities' }, entityBody(5)),
      msg('e3', { ...ours('403', 'PERMISSION_DENIED'), kind: 'entities' }, entityBody(1)),
      msg('x', { ...ours('400', 'INVALID_ARGUMENT'), kind: 'alerts' }, body(1)),
    ];
    const s = summarize(messages.map(digestOf), 5);
    assert.deepEqual(
      s.groups.map((g) => [g.kind, g.reason, g.httpStatus, g.messages, g.entries]),
      [
        ['entities', 'permanent_error', '403', 3, 10],
        ['logs', 'permanent_error', '403', 2, 5],
        ['invalid', 'permanent_error', '400', 1, 1],
      ],
    );
  });

  it('counts the entities of a chunk without entry_count', () => {
    assert.equal(entryCountOf({ kind: 'entities' }, Buffer.from(entityBody(4))), 4);
  });

  it('--filter kind=logs also matches chunks without a kind attribute; kind=entities only entity chunks', () => {
    const logs = parseFilter([], ['kind=logs']);
    const entities = parseFilter([], ['kind=entities']);
    assert.ok(matchesFilter({}, logs));
    assert.ok(matchesFilter({ kind: 'logs' }, logs));
    assert.ok(!matchesFilter({ kind: 'entities' }, logs));
    assert.ok(matchesFilter({ kind: 'entities' }, entities));
    assert.ok(!matchesFilter({}, entities));
    assert.ok(!matchesFilter({}, parseFilter([], ['kind=*'])), '* still means present');
  });

  it('replay keeps the kind attribute', () => {
    const again = replayAttributes({ kind: 'entities', ...ours('403', 'PERMISSION_DENIED') }, new Date());
    assert.equal(again.kind, 'entities');
  });
});

describe('RateLimiter', () => {
  it('spaces starts 1/rate apart and does not bank idle time', () => {
    const r = new RateLimiter(10);
    assert.equal(r.reserve(0), 0);
    assert.equal(r.reserve(0), 100);
    assert.equal(r.reserve(50), 150);
    assert.equal(r.reserve(10_000), 0);
    assert.equal(r.reserve(10_000), 100);
  });
  it('rejects a non-positive rate', () => {
    assert.throws(() => new RateLimiter(0), /--rate/);
    assert.throws(() => new RateLimiter(Number.NaN), /--rate/);
  });
});

describe('archive records and errors', () => {
  it('archives id, publish time, attributes and base64 data', () => {
    const m = msg('m1', { a: 'b' }, 'hello');
    assert.deepEqual(archiveRecord(m), {
      id: 'm1',
      publishTime: new Date(1_800_000_000_000).toISOString(),
      attributes: { a: 'b' },
      data: Buffer.from('hello').toString('base64'),
    });
    assert.equal(
      defaultArchivePath('out/', new Date('2026-01-02T03:04:05.678Z')),
      'out/dlq-archive-2026-01-02T03-04-05-678Z.ndjson',
    );
  });
  it('names the resource and the role', () => {
    const sub = { kind: 'subscription' as const, name: 'projects/p/subscriptions/s' };
    assert.match(
      pubsubError({ code: 5, details: 'x' }, sub, 'pull from').message,
      /subscription projects\/p\/subscriptions\/s does not exist/,
    );
    assert.match(
      pubsubError({ code: 7, details: 'x' }, sub, 'pull from').message,
      /roles\/pubsub\.subscriber/,
    );
    const topic = { kind: 'topic' as const, name: 'projects/p/topics/t' };
    assert.match(
      pubsubError({ code: 7, details: 'x' }, topic, 'publish to').message,
      /roles\/pubsub\.publisher on the topic/,
    );
    assert.equal(pubsubError({ code: 14, details: 'x' }, topic, 'publish to').retryable, true);
  });
});

/** In-memory subscription: pulls what is neither acked nor leased. */
function fakeTransport(messages: DlqMessage[]) {
  const acked = new Set<string>();
  const leased = new Set<string>();
  const log: string[] = [];
  const transport: DlqTransport = {
    subscription: 'projects/p/subscriptions/dlq',
    async pull(max) {
      const out = messages.filter((m) => !acked.has(m.ackId) && !leased.has(m.ackId)).slice(0, max);
      for (const m of out) leased.add(m.ackId);
      return out;
    },
    async ack(ids) {
      for (const id of ids) {
        acked.add(id);
        leased.delete(id);
        log.push(`ack ${id}`);
      }
    },
    async modifyAckDeadline(ids, seconds) {
      if (seconds === 0) for (const id of ids) leased.delete(id);
    },
    async publish() {
      return 'x';
    },
    async close() {},
  };
  return { transport, acked, leased, log };
}

describe('replayDeadLetters (in-memory subscription)', () => {
  const many = Array.from({ length: 30 }, (_, i) =>
    msg(
      `m${i}`,
      i % 3 === 0
        ? pubsubs
        : i === 4
          ? ours('403', 'PERMISSION_DENIED', { replay_count: '5' })
          : ours('403', 'PERMISSION_DENIED'),
    ),
  );

  it('acknowledges each message only after the sink confirmed it, and honours limit and max replays', async () => {
    const { transport, acked, leased, log } = fakeTransport(many);
    const sent: string[] = [];
    const result = await replayDeadLetters(
      transport,
      {
        description: 'test',
        send: async (m, attributes) => {
          assert.ok(!acked.has(m.ackId), 'acked before sent');
          assert.equal(attributes.replay_count, '1');
          await new Promise((r) => setTimeout(r, 1));
          sent.push(m.messageId);
          log.push(`sent ${m.ackId}`);
        },
      },
      { filter: parseFilter(['403'], []), limit: 10, maxReplays: 5, dryRun: false, batchSize: 7 },
    );
    assert.equal(result.moved, 10);
    assert.equal(sent.length, 10);
    assert.equal(acked.size, 10);
    assert.equal(result.leftAtMaxReplays, 1);
    assert.deepEqual(result.atMaxReplays, [{ messageId: 'm4', replayCount: 5 }]);
    for (const id of sent) assert.ok(log.indexOf(`sent ack-${id}`) < log.indexOf(`ack ack-${id}`));
    assert.equal(leased.size, 0, 'everything not acknowledged is released');
  });

  it('stops at the first failure, leaving that message and the rest in place', async () => {
    const { transport, acked, leased } = fakeTransport(many);
    let n = 0;
    const result = await replayDeadLetters(
      transport,
      {
        description: 'test',
        send: async () => {
          n += 1;
          if (n === 3) throw new Error('boom');
        },
      },
      { filter: MATCH_ALL, maxReplays: 5, dryRun: false, concurrency: 1 },
    );
    assert.equal(result.moved, 2);
    assert.equal(result.failed, 1);
    assert.match(result.error ?? '', /boom/);
    assert.equal(acked.size, 2);
    assert.equal(leased.size, 0);
  });

  it('dry run acknowledges nothing', async () => {
    const { transport, acked } = fakeTransport(many);
    const result = await replayDeadLetters(
      transport,
      { description: 'test', send: async () => assert.fail('sent in a dry run') },
      { filter: MATCH_ALL, maxReplays: 5, dryRun: true },
    );
    assert.equal(result.moved, 29);
    assert.equal(acked.size, 0);
  });
});

describe('dead letters written by an older sender', () => {
  it('show a google.rpc status only when it is a status name', () => {
    const leaked = fakeAccessToken();
    assert.equal(reasonOf(ours('403', `PERMISSION_DENIED ${leaked}`)).rpcStatus, undefined);
    assert.equal(reasonOf(ours('403', leaked)).rpcStatus, undefined);
    assert.equal(reasonOf(ours('403', 'PERMISSION_DENIED')).rpcStatus, 'PERMISSION_DENIED');
  });
});
