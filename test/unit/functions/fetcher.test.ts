import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createFetchHandler } from '../../../functions/fetcher.js';
import type { FirestoreState, LeaseResult } from '../../../shared/cloud/firestore_state.js';
import type { Publisher } from '../../../shared/cloud/pubsub.js';
import { loadConfig } from '../../../shared/core/config.js';
import { GtiApiError } from '../../../shared/core/errors.js';
import { createLogger } from '../../../shared/core/logger.js';
import type { GtiClient } from '../../../shared/gti/client.js';
import type { Checkpoint } from '../../../shared/pipeline/checkpoint.js';

const config = loadConfig({
  GCP_PROJECT_ID: 'unit-project',
  VT_API_KEY: 'unit-key-123',
  PUBSUB_TRIGGER_TOPIC: 'trigger',
  PUBSUB_CHUNKS_TOPIC: 'chunks',
});

function fakeState(result: 'free' | 'held', checkpoint?: Checkpoint) {
  const events: string[] = [];
  const state: FirestoreState = {
    async acquireLease(name): Promise<LeaseResult> {
      events.push(`acquire ${name}`);
      if (result === 'held') return { acquired: false, holder: 'other-run', expiresAtMs: Date.now() + 5000 };
      return {
        acquired: true,
        lease: {
          checkpoint,
          expiresAtMs: Date.now() + 10_000,
          store: {
            description: 'fake',
            load: async () => undefined,
            save: async (c: Checkpoint) => {
              events.push(`save ${c.date}`);
            },
          },
          lost: new AbortController().signal,
          release: async () => {
            events.push('release');
          },
        },
      };
    },
    close: async () => undefined,
  };
  return { state, events };
}

function gtiFailing(error: Error): GtiClient {
  return {
    fetchPage: async () => Promise.reject(error),
    // biome-ignore lint/correctness/useYield: fails before the first page
    async *pages() {
      throw error;
    },
  };
}

function gtiEmpty(): GtiClient & { calls: number } {
  const client = {
    calls: 0,
    fetchPage: async () => Promise.reject(new Error('unused')),
    async *pages() {
      client.calls += 1;
      yield { items: [], nextCursor: undefined, count: 0, bytes: 2, elapsedMs: 1 };
    },
  };
  return client;
}

function run(stateKind: 'free' | 'held', gti: GtiClient, checkpoint?: Checkpoint) {
  const lines: Record<string, unknown>[] = [];
  const published: string[] = [];
  const publisher: Publisher = {
    publish: async (topic) => {
      published.push(topic);
      return '1';
    },
    close: async () => undefined,
  };
  const { state, events } = fakeState(stateKind, checkpoint);
  const handler = createFetchHandler({
    config,
    gti,
    state,
    publisher,
    logger: createLogger({ format: 'json', sink: { write: (l: string) => lines.push(JSON.parse(l)) } }),
  });
  const runLine = () => lines.find((l) => l.event === 'fetch_run');
  return { handler, lines, events, published, runLine };
}

const trigger = (body: string) => ({
  data: { message: { data: Buffer.from(body).toString('base64'), messageId: '9' } },
});

describe('fetchIocStream handler', () => {
  it('acknowledges (returns) when another run holds the lease, saying why', async () => {
    const r = run('held', gtiFailing(new Error('must not fetch')));
    await r.handler(trigger('{"reason":"schedule"}'));
    assert.equal(r.lines.length, 1);
    assert.equal(r.lines[0]?.message, 'fetch run finished');
    assert.equal(r.lines[0]?.outcome, 'lease_held');
    assert.equal(r.lines[0]?.lease_holder, 'other-run');
  });

  it('acknowledges a permanent GTI error (401) as failed, releasing the lease', async () => {
    const r = run('free', gtiFailing(new GtiApiError('GTI answered 401', { status: 401, retryable: false })));
    await r.handler(trigger(''));
    assert.equal(r.lines[0]?.outcome, 'failed');
    assert.equal(r.lines[0]?.retry, false);
    assert.ok(r.events.includes('release'));
    assert.ok(!JSON.stringify(r.lines).includes('unit-key-123'));
  });

  it('throws a retryable GTI error so Pub/Sub redelivers the trigger', async () => {
    const r = run('free', gtiFailing(new GtiApiError('GTI answered 503', { status: 503, retryable: true })));
    await assert.rejects(r.handler(trigger('')), GtiApiError);
    assert.equal(r.lines[0]?.outcome, 'failed');
    assert.equal(r.lines[0]?.retry, true);
    assert.ok(r.events.includes('release'));
  });

  it('acknowledges an invalid trigger without taking the lease', async () => {
    const r = run('free', gtiFailing(new Error('must not fetch')));
    await r.handler(trigger('{"start":"not a time"}'));
    assert.equal(r.lines[0]?.outcome, 'failed');
    assert.deepEqual(r.events, []);
  });

  it('acknowledges trigger data that is not base64 as failed (it used to run as a plain scheduled fetch)', async () => {
    const r = run('free', gtiEmpty());
    await r.handler({ data: { message: { data: '%%%{"start":"x"}', messageId: '9' } } });
    assert.equal(r.runLine()?.outcome, 'failed');
    assert.equal(r.runLine()?.reason, 'invalid_trigger');
    assert.deepEqual(r.events, [], 'no lease taken, nothing fetched');
  });

  it('acknowledges a backfill start ahead of now as failed, and keeps the log line small', async () => {
    const r = run('free', gtiEmpty());
    await r.handler(trigger('{"start":"2999-01-01T00:00:00Z"}'));
    assert.equal(r.runLine()?.outcome, 'failed');
    assert.equal(r.runLine()?.reason, 'invalid_trigger');
    assert.deepEqual(r.events, []);
    const lines: string[] = [];
    const handler = createFetchHandler({
      config,
      gti: gtiEmpty(),
      state: fakeState('free').state,
      publisher: { publish: async () => '1', close: async () => undefined },
      logger: createLogger({ format: 'json', sink: { write: (l: string) => lines.push(l) } }),
    });
    await handler(trigger(JSON.stringify({ start: 'x'.repeat(7_400_000) })));
    assert.equal(lines.length, 1);
    assert.ok((lines[0] ?? '').length < 4000, `${lines[0]?.length} characters`);
  });

  it('acknowledges a used-up GTI quota as failed with reason gti_quota_exceeded, the quota and when it resets', async () => {
    const quota = new GtiApiError('GTI answered 429 QuotaExceededError', {
      status: 429,
      vtCode: 'QuotaExceededError',
      retryable: false,
      quota: 'daily',
      resetsAtMs: Date.parse('2026-03-02T00:00:00Z'),
    });
    const r = run('free', gtiFailing(quota));
    await r.handler(trigger(''));
    const line = r.runLine();
    assert.equal(line?.outcome, 'failed');
    assert.equal(line?.reason, 'gti_quota_exceeded');
    assert.equal(line?.quota, 'daily');
    assert.equal(line?.quota_resets_at, '2026-03-02T00:00:00.000Z');
    assert.equal(line?.retry, false);
  });

  it('acknowledges a stored checkpoint ahead of now as failed (reason time_ahead) without fetching', async () => {
    const gti = gtiEmpty();
    const r = run('free', gti, { date: Math.floor(Date.now() / 1000) + 86_400, ids: [] });
    await r.handler(trigger(''));
    assert.equal(r.runLine()?.outcome, 'failed');
    assert.equal(r.runLine()?.reason, 'time_ahead');
    assert.equal(gti.calls, 0);
    assert.ok(r.events.includes('release'));
  });

  it('reports a possible retention gap in the run summary and a WARN line', async () => {
    const r = run('free', gtiEmpty(), { date: Math.floor(Date.now() / 1000) - 8 * 86_400, ids: [] });
    await r.handler(trigger(''));
    const line = r.runLine();
    assert.equal(line?.outcome, 'ok');
    assert.ok((line?.retention_gap as { lastRead?: string } | undefined)?.lastRead);
    assert.ok(r.lines.some((l) => l.event === 'retention_gap' && l.severity === 'WARNING'));
    // The run read to the end: the saved checkpoint records it.
    assert.ok(r.events.some((e) => e.startsWith('save ')));
  });
});
