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

function fakeState(result: 'free' | 'held') {
  const events: string[] = [];
  const state: FirestoreState = {
    async acquireLease(name): Promise<LeaseResult> {
      events.push(`acquire ${name}`);
      if (result === 'held') return { acquired: false, holder: 'other-run', expiresAtMs: Date.now() + 5000 };
      return {
        acquired: true,
        lease: {
          checkpoint: undefined,
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

function run(stateKind: 'free' | 'held', gti: GtiClient) {
  const lines: Record<string, unknown>[] = [];
  const published: string[] = [];
  const publisher: Publisher = {
    publish: async (topic) => {
      published.push(topic);
      return '1';
    },
    close: async () => undefined,
  };
  const { state, events } = fakeState(stateKind);
  const handler = createFetchHandler({
    config,
    gti,
    state,
    publisher,
    logger: createLogger({ format: 'json', sink: { write: (l: string) => lines.push(JSON.parse(l)) } }),
  });
  return { handler, lines, events, published };
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
});
