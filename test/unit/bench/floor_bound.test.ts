import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { BenchResults } from '../../../bench/results.js';
import { evaluateTargets, floorBound } from '../../../bench/targets.js';

type Run = Omit<BenchResults, 'targets'>;

/** The parts of a bench run the floor row reads: 10k notifications, 150 MB of JSON parsed at 75 MB/s. */
function run(floor: { wallMs: number; cpuMs: number; gtiCpuMs: number; chronicleCpuMs: number }): Run {
  const partial = {
    machine: { cores: 2, loadAverageEnd: [] },
    options: { size: '10k', count: 10_000 },
    core: { runs: [{ notifications: 10_000, jsonBytes: 150e6 }], median: { parseOnlyMBps: 75 } },
    standalone: {
      runs: [],
      median: { count: 10_000, wallMs: 6000, cpuMs: 5000, chronicleRequests: 59, entityRequests: 15 },
    },
    floor: { runs: [{}], median: { ...floor, requests: 68, requestBytes: 2e8, peakRssMB: 140 }, ratio: 3 },
  };
  return partial as unknown as Run;
}

describe('floorBound (what the transport-floor target allows on the machine that ran it)', () => {
  it('adds one JSON.parse-speed pass over the notifications to the floor run and spreads it over the cores', () => {
    // 1 s floor client + 0.5 + 1.5 s fakes + 150 MB / 75 MB/s = 2 s parse → 5 s of CPU on 2 cores.
    const bound = floorBound(run({ wallMs: 1600, cpuMs: 1000, gtiCpuMs: 500, chronicleCpuMs: 1500 }));
    assert.ok(bound);
    assert.equal(Math.round(bound.parseMs), 2000);
    assert.equal(Math.round(bound.cpuMs), 5000);
    assert.equal(Math.round(bound.minWallMs), 2500);
    assert.equal(bound.minRatio.toFixed(4), (2500 / 1600).toFixed(4));
  });

  it('never goes below the floor itself', () => {
    const bound = floorBound(run({ wallMs: 4000, cpuMs: 100, gtiCpuMs: 100, chronicleCpuMs: 100 }));
    assert.equal(bound?.minRatio, 1);
  });

  it('is not computed when the fakes were not measured or the core ran another size', () => {
    assert.equal(
      floorBound(run({ wallMs: 1600, cpuMs: 1000, gtiCpuMs: Number.NaN, chronicleCpuMs: 1 })),
      undefined,
    );
    const other = run({ wallMs: 1600, cpuMs: 1000, gtiCpuMs: 500, chronicleCpuMs: 1500 });
    (other.core?.runs[0] as { notifications: number }).notifications = 2000;
    assert.equal(floorBound(other), undefined);
  });

  it('is stated in the transport-floor row', () => {
    const row = evaluateTargets(run({ wallMs: 1600, cpuMs: 1000, gtiCpuMs: 500, chronicleCpuMs: 1500 })).find(
      (t) => t.id === 'transport-floor',
    );
    assert.match(row?.measured ?? '', /is 1\.56× the floor at best/);
    assert.equal(row?.pass, false);
  });
});
