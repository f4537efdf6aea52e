/**
 * The fetcher's own guarantees on the emulators: one fetch at a time (Firestore lease), a backlog
 * drained across invocations by continuations (time budget), and a fetcher killed mid-run losing
 * nothing.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { generatedDataset } from '../../../sim/dataset.js';
import { waitFor } from '../../helpers/wait.js';
import {
  allArrived,
  datasetIds,
  duplicateCount,
  missingIds,
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
});
