/**
 * The fetcher's own guarantees on the emulators: one fetch at a time (Firestore lease), a backlog
 * drained across invocations by continuations (time budget), and a fetcher killed mid-run losing
 * nothing.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createFirestoreState } from '../../../shared/cloud/firestore_state.js';
import { generatedDataset } from '../../../sim/dataset.js';
import { waitFor } from '../../helpers/wait.js';
import {
  allArrived,
  datasetIds,
  duplicateCount,
  missingIds,
  PROJECT_ID,
  settle,
  skipReason,
  useCloud,
} from './harness.js';

const skip = skipReason();

describe('cloud fetcher', { skip }, () => {
  const cloud = useCloud();

  it('two concurrent triggers fetch once', { timeout: 60_000 }, async () => {
    const dataset = generatedDataset({ count: 300, seed: 21, oversizedEvery: 0 });
    const s = await cloud.start({ dataset, gti: { latencyMs: 100 }, env: { VT_LIMIT: '20' } });
    await Promise.all([s.trigger(), s.trigger()]);
    await waitFor('both fetch runs', () => s.fetchRuns().length >= 2, 30_000);
    await allArrived(s, dataset);
    const outcomes = s
      .fetchRuns()
      .map((r) => r.outcome)
      .sort();
    assert.deepEqual(outcomes, ['lease_held', 'ok']);
    const held = s.fetchRuns().find((r) => r.outcome === 'lease_held');
    assert.ok(held?.lease_holder && held.why, 'says why it did not fetch');
    assert.ok(
      [...s.gti.servedIds.values()].every((n) => n === 1),
      'GTI paged once',
    );
    assert.ok([...s.chronicle.acceptedIds.values()].every((n) => n === 1));
  });

  it('a backlog drains over several invocations through continuations, with no gap', {
    timeout: 90_000,
  }, async () => {
    const dataset = generatedDataset({ count: 400, seed: 22, oversizedEvery: 0 });
    const s = await cloud.start({
      dataset,
      gti: { latencyMs: 120 },
      env: { VT_LIMIT: '10', FETCH_TIME_BUDGET_SECONDS: '2' },
    });
    await s.trigger();
    await waitFor(
      'a run that finishes the backlog',
      () => s.fetchRuns().some((r) => r.outcome === 'ok'),
      60_000,
    );
    await waitFor(
      'every notification',
      () => s.chronicle.acceptedIds.size === dataset.size,
      30_000,
      () => `(${s.chronicle.acceptedIds.size})`,
    );
    await settle(s, 1000);
    const runs = s.fetchRuns();
    const continued = runs.filter((r) => r.outcome === 'continued');
    assert.ok(
      continued.length >= 2,
      `expected several invocations, got ${JSON.stringify(runs.map((r) => r.outcome))}`,
    );
    assert.ok(
      runs.slice(1).every((r) => r.continuation === true),
      'later runs were continuations',
    );
    assert.equal(
      runs.reduce((sum, r) => sum + Number(r.notifications), 0),
      dataset.size,
      'each notification fetched by exactly one invocation',
    );
    assert.deepEqual(missingIds(datasetIds(dataset), s.chronicle), []);
    assert.ok(
      [...s.chronicle.acceptedIds.values()].every((n) => n === 1),
      'no duplicates across invocations',
    );
  });

  it('a fetcher killed mid-run (SIGKILL) and triggered again loses nothing', {
    timeout: 90_000,
  }, async () => {
    const dataset = generatedDataset({ count: 600, seed: 23, oversizedEvery: 0 });
    const s = await cloud.start({
      dataset,
      gti: { latencyMs: 100 },
      env: { VT_LIMIT: '10', CHUNK_MAX_BYTES: '100000' },
    });
    await s.trigger();
    await waitFor('the run to be under way', () => s.chronicle.acceptedIds.size >= 60, 30_000);
    await s.cloud.fetcher.kill('SIGKILL');
    const before = s.chronicle.acceptedIds.size;
    assert.ok(before < dataset.size, 'killed before the end');
    assert.equal(s.fetchRuns().length, 0, 'the killed run never finished');
    await s.cloud.fetcher.restart();
    // Pub/Sub redelivers the interrupted trigger; while the dead run's lease has not expired the
    // redelivery is acknowledged as lease_held. Trigger again each time a run reports the lease
    // held, until one takes the expired lease and completes.
    let triggered = 0;
    await waitFor(
      'a completed run',
      async () => {
        const runs = s.fetchRuns();
        if (runs.some((r) => r.outcome === 'ok')) return true;
        const held = runs.filter((r) => r.outcome === 'lease_held').length;
        if (triggered <= held) {
          triggered += 1;
          await s.trigger();
        }
        return false;
      },
      30_000,
      () => JSON.stringify(s.fetchRuns().map((r) => r.outcome)),
      250,
    );
    await waitFor(
      'every notification',
      () => s.chronicle.acceptedIds.size === dataset.size,
      30_000,
      () => `(${s.chronicle.acceptedIds.size})`,
    );
    await settle(s, 1000);
    assert.deepEqual(missingIds(datasetIds(dataset), s.chronicle), []);
    // Duplicates are possible only for chunks published after the last checkpoint save.
    const duplicates = duplicateCount(s.chronicle);
    assert.ok(duplicates < 100, `${duplicates} duplicates`);
  });

  it('bad triggers and a used-up GTI quota are logged failed with their reason and acknowledged', {
    timeout: 60_000,
  }, async () => {
    const dataset = generatedDataset({ count: 20, seed: 24, oversizedEvery: 0 });
    const s = await cloud.start({ dataset, gti: { quotaRequests: 0 } });
    // Data that is not base64, pushed as Pub/Sub would push it (only a misconfigured pusher can).
    const push = await fetch(
      `${s.cloud.fetcher.url}/projects/${PROJECT_ID}/topics/${s.cloud.names.trigger}`,
      {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({
          message: { data: '%%%', messageId: 'not-base64' },
          subscription: `projects/${PROJECT_ID}/subscriptions/manual`,
        }),
      },
    );
    assert.ok(push.status >= 200 && push.status < 300, `acknowledged (${push.status})`);
    await waitFor('the bad push logged', () => s.fetchRuns().length === 1, 20_000);
    assert.equal(s.gti.requests.length, 0, 'a bad trigger fetches nothing');
    await s.trigger({ start: Math.floor(Date.now() / 1000) + 86_400 });
    await waitFor('the future start logged', () => s.fetchRuns().length === 2, 20_000);
    assert.equal(s.gti.requests.length, 0);
    await s.trigger();
    await waitFor('the quota run logged', () => s.fetchRuns().length === 3, 20_000);
    assert.equal(s.gti.requests.length, 1, 'the quota is not retried');
    // Acknowledged: no redelivery after the subscription's backoff (1-2 s here).
    await settle(s, 4000);
    const runs = s.fetchRuns();
    assert.deepEqual(
      runs.map((r) => [r.outcome, r.reason]),
      [
        ['failed', 'invalid_trigger'],
        ['failed', 'invalid_trigger'],
        ['failed', 'gti_quota_exceeded'],
      ],
    );
    assert.equal(runs[2]?.quota, 'daily');
    assert.match(String(runs[2]?.quota_resets_at), /T00:00:00\.000Z$/);
  });

  it('records in Firestore when the stream was read to its end; a run over 7 days later reports a possible gap', {
    timeout: 60_000,
  }, async () => {
    const dataset = generatedDataset({ count: 30, seed: 25, oversizedEvery: 0 });
    const s = await cloud.start({ dataset });
    await s.trigger();
    await waitFor('the first run', () => s.fetchRuns().some((r) => r.outcome === 'ok'), 30_000);
    const state = createFirestoreState({
      projectId: PROJECT_ID,
      databaseId: '(default)',
      emulatorHost: s.firestoreHost,
    });
    try {
      const take = async () => {
        let lease: Awaited<ReturnType<typeof state.acquireLease>> | undefined;
        await waitFor(
          'the lease',
          async () => {
            lease = await state.acquireLease(s.useCaseName, 'test', 10);
            return lease.acquired;
          },
          20_000,
        );
        if (!lease?.acquired) throw new Error('no lease');
        return lease.lease;
      };
      const first = await take();
      const now = Math.floor(Date.now() / 1000);
      assert.equal(first.checkpoint?.date, dataset.dateOf(dataset.size - 1));
      assert.ok(Math.abs((first.checkpoint?.readToEndAt ?? 0) - now) < 60, 'read to the end just now');
      // As if nothing had run for 8 days.
      await first.store.save({ date: now - 8 * 86_400, ids: [], readToEndAt: now - 8 * 86_400 });
      await first.release();
      await s.trigger();
      await waitFor('the late run', () => s.fetchRuns().length === 2, 30_000);
      const late = s.fetchRuns()[1];
      assert.equal(late?.outcome, 'ok');
      const gap = late?.retention_gap as { lastRead?: string; retainedFrom?: string } | undefined;
      assert.equal(gap?.lastRead, new Date((now - 8 * 86_400) * 1000).toISOString());
      assert.ok(Date.parse(gap?.retainedFrom ?? '') > Date.parse(gap?.lastRead ?? ''));
      assert.ok(s.cloud.fetcher.logs.some((l) => l.event === 'retention_gap' && l.severity === 'WARNING'));
    } finally {
      await state.close();
    }
  });
});
