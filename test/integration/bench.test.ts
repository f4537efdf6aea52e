/**
 * The bench itself, at 2k: proves `npm run bench` works end to end and that what it measured was
 * correct — every notification delivered exactly once, counts consistent — without asserting any
 * timing (CI machines vary).
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { BenchResults } from '../../bench/results.js';
import { ENTITY_CONTEXT_SUPPORTED, runBench } from '../../bench/run.js';
import { BENCH_SEED } from '../../bench/sizes.js';
import { runStandalone } from '../../bench/standalone.js';
import { targetTable } from '../../bench/targets.js';
import { generatedDataset } from '../../sim/dataset.js';

const COUNT = 2000;

describe('bench (quick 2k variant)', () => {
  it('standalone sync delivers every notification id of the dataset exactly once', {
    timeout: 120_000,
  }, async () => {
    const dataset = generatedDataset({ count: COUNT, seed: BENCH_SEED });
    const expected = Array.from(
      { length: COUNT },
      (_, i) => dataset.get(i).context_attributes.notification_id,
    );
    let accepted: ReadonlyMap<string, number> | undefined;
    const run = await runStandalone({
      count: COUNT,
      seed: BENCH_SEED,
      gtiLatencyMs: 0,
      chronicleLatencyMs: 0,
      concurrency: 2,
      mode: 'inline',
      inspect: (services) => {
        accepted = new Map(services.acceptedIds ?? []);
      },
    });
    assert.ok(accepted, 'inline services expose the accepted ids');
    assert.deepEqual(
      expected.filter((id) => accepted?.get(id) !== 1),
      [],
      'every id accepted exactly once',
    );
    assert.equal(accepted.size, COUNT, 'no id outside the dataset');
    assert.equal(run.summary.notifications, COUNT);
    assert.equal(run.summary.duplicates, 0);
    assert.equal(run.chronicle.entries, COUNT);
    assert.equal(run.chronicle.requests, run.summary.chunks, 'one Chronicle request per chunk');
    assert.equal(run.chronicle.bytes, run.summary.bytes, 'Chronicle received the bytes sync sent');
    assert.equal(run.gti.uniqueIds, COUNT);
    assert.equal(run.summary.pages, Math.ceil(COUNT / 40), 'pages of 40');
    assert.equal(run.gti.duplicates, 0, 'no page fetched twice');
    assert.ok(run.chunkFill > 0 && run.chunkFill <= 1);
    assert.ok(run.peakRssMB > 0 && run.cpuMs > 0 && run.wallMs > 0);
  });

  it('runs the suite (core, standalone with entities and the floor, latency, profile, paging, package) and evaluates the targets', {
    timeout: 240_000,
  }, async () => {
    const lines: string[] = [];
    const results: BenchResults = await runBench({
      count: COUNT,
      runs: 1,
      latencyMs: 0,
      // Shorter than the bench's 200 ms: CI proves the section works, not the ratio.
      pagingLatencyMs: 50,
      skip: new Set(['cloud', 'concurrency']),
      log: (line) => lines.push(line),
    });
    const core = results.core?.runs[0];
    assert.ok(core, 'core measured');
    assert.equal(core.notifications, COUNT);
    assert.equal(core.trimmed, 0);
    assert.equal(core.entityContext, ENTITY_CONTEXT_SUPPORTED);
    if (ENTITY_CONTEXT_SUPPORTED) assert.ok(core.entities > 0 && core.entityRequestBytes > 0);
    assert.ok(core.requestBytes > core.jsonBytes * 0.9, 'request bytes include base64 growth');
    assert.ok(core.mbPerSecond > 0 && core.fullChunkFill > 0.9 && core.fullChunkFill <= 1);
    // Indented bodies clean to the same entries: same requests, byte for byte in size.
    const indented = results.core?.indentedRuns[0];
    assert.ok(indented && indented.jsonBytes > core.jsonBytes * 1.3, 'indented bodies are larger');
    assert.equal(indented.requestBytes, core.requestBytes);
    assert.equal(indented.chunks, core.chunks);

    const sync = results.standalone?.runs[0];
    assert.ok(sync, 'standalone measured');
    assert.equal(sync.chronicle.uniqueIds, COUNT);
    assert.equal(sync.chronicle.duplicates, 0);
    assert.equal(sync.chronicle.requests, core.chunks, 'sync chunks like the core bench');
    assert.equal(sync.chronicle.bytes, core.requestBytes, 'same request bytes as the core bench');

    // The transport floor moved the same GTI pages (runFloor checks every byte arrived).
    const floor = results.floor?.runs[0];
    assert.ok(floor, 'transport floor measured');
    assert.equal(floor.pages, COUNT / 40);
    assert.ok(floor.requests > 0 && floor.gtiBytes > core.jsonBytes * 0.9);
    assert.ok(results.floor && results.floor.ratio > 0);

    // Entity context on and off, when this build has it.
    if (ENTITY_CONTEXT_SUPPORTED) {
      const e = results.entities;
      assert.ok(e && 'off' in e, 'entity context compared');
      assert.equal(sync.entityContext, true);
      assert.equal(e.off.runs[0]?.entityContext, false);
      assert.equal(e.off.runs[0]?.entityRequests, 0, 'no entities:import with entity context off');
      assert.ok(sync.entityRequests > 0, 'entities:import requests with entity context on');
    } else {
      assert.ok(results.entities && 'skipped' in results.entities);
    }

    // GTI latency: 50 pages, and no run can beat pages × latency.
    assert.equal(results.latency?.pages, COUNT / 40);
    assert.equal(results.latency?.gtiLatencyMs, 50);
    assert.ok((results.latency?.ratio ?? 0) >= 1, JSON.stringify(results.latency?.ratio));

    // The CPU profile found our code (cleaning runs for every item), within the sampled time.
    const profile = results.profile;
    assert.ok(profile, 'profile measured');
    assert.ok(profile.code.inclusiveMs > 0 && profile.code.inclusiveMs <= profile.code.profiledMs);
    assert.ok(profile.code.selfMs <= profile.code.inclusiveMs);
    assert.ok(
      profile.code.topSelf.some((f) => f.frame.includes('shared/gti/')),
      JSON.stringify(profile.code),
    );

    assert.ok(results.paging?.ok, JSON.stringify(results.paging));
    assert.equal(results.paging?.requests, Math.ceil(COUNT / 40));
    assert.ok(results.archive && 'bytes' in results.archive && results.archive.bytes > 0);

    const ids = results.targets.map((t) => t.id);
    for (const id of [
      'core-throughput',
      'chunk-fill',
      'own-code-share',
      'gti-paging',
      'deploy-archive',
      'transport-floor',
      'gti-latency-paging',
    ])
      assert.ok(ids.includes(id), `target ${id} evaluated`);
    assert.equal(results.targets.find((t) => t.id === 'gti-paging')?.pass, true);
    assert.equal(results.targets.find((t) => t.id === 'chunk-fill')?.pass, true);
    assert.match(targetTable(results), /\| Target \| Measured \| Result \|/);
    assert.equal(results.machine.cores > 0, true);
  });
});
