/**
 * `npm run bench`: the benchmark suite. Measures core throughput; standalone sync end to end with
 * entity context on and off and the transport floor, alternating on the same data; sync with GTI
 * latency (is paging latency-bound?); our code's share of the wall time from a CPU profile; sender
 * concurrency under latency; GTI paging discipline; the cloud topology on the emulators, cold
 * start and the deploy archive. Evaluates every target; writes bench/results/<size>.json.
 *
 *   node dist/bench/run.js [--size 2k|10k|100k] [--quick] [--runs N] [--latency-ms N]
 *                          [--paging-latency-ms N] [--skip <sections>] [--out FILE]
 *
 * Sections: core, standalone, entities, floor, latency, profile, concurrency, paging, cloud,
 * package (entities and floor run inside standalone's rounds, so they need it).
 * --size 100k also runs sync at 10k (--runs times) and at 100k (once) in the same run, for the
 * memory-scaling ratio. --quick = --size 2k --runs 1 (proves the bench works; timings indicative).
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, realpathSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { SPECS } from '../shared/core/config_table.js';
import { cloudSkipReason, runCloud } from './cloud.js';
import type { CoreResult } from './core_worker.js';
import { type FloorResult, runFloor } from './floor.js';
import { loadAverage, machineInfo } from './machine.js';
import { runPagingCheck } from './paging.js';
import { distPath, REPO_ROOT, runMeasured } from './processes.js';
import { runProfiled } from './profile.js';
import type {
  BenchResults,
  ConcurrencyResult,
  CoreMedian,
  EntityComparison,
  FloorComparison,
  StandaloneMedian,
} from './results.js';
import { BENCH_SEED, parseSize, sizeLabel } from './sizes.js';
import { runStandalone, type StandaloneResult } from './standalone.js';
import { median, round } from './stats.js';
import { evaluateTargets, targetTable } from './targets.js';

export const SECTIONS = [
  'core',
  'standalone',
  'entities',
  'floor',
  'latency',
  'profile',
  'concurrency',
  'paging',
  'cloud',
  'package',
] as const;
export type Section = (typeof SECTIONS)[number];

export interface BenchOptions {
  readonly count: number;
  readonly runs: number;
  /** GTI and Chronicle latency of the standalone runs. */
  readonly latencyMs: number;
  /** GTI latency of the latency section (default 200 ms, as in issue #17). */
  readonly pagingLatencyMs?: number;
  readonly skip: ReadonlySet<Section>;
  readonly log: (line: string) => void;
}

/** Notifications in the latency section: 50 pages of 40. */
export const LATENCY_COUNT = 2000;
export const DEFAULT_PAGING_LATENCY_MS = 200;

/**
 * Whether this build knows CHRONICLE_ENTITY_CONTEXT. Until it does, the sync has no entity
 * context to switch, and the bench says so instead of comparing two identical runs.
 */
export const ENTITY_CONTEXT_SUPPORTED = Object.hasOwn(SPECS, 'CHRONICLE_ENTITY_CONTEXT');

function summarise(runs: readonly StandaloneResult[]): StandaloneMedian {
  const m = (f: (r: StandaloneResult) => number, digits = 3) => round(median(runs.map(f)), digits);
  return {
    count: runs[0]?.count ?? 0,
    runs: runs.length,
    wallMs: m((r) => r.wallMs, 0),
    cpuMs: m((r) => r.cpuMs, 0),
    gtiCpuMs: m((r) => r.gtiCpuMs ?? Number.NaN, 0),
    chronicleCpuMs: m((r) => r.chronicleCpuMs ?? Number.NaN, 0),
    peakRssMB: m((r) => r.peakRssMB, 1),
    cpuShare: m((r) => r.cpuShare),
    chunkFill: m((r) => r.chunkFill, 4),
    chronicleRequests: m((r) => r.chronicle.requests, 0),
    chronicleBytes: m((r) => r.chronicle.bytes, 0),
    entityRequests: m((r) => r.entityRequests, 0),
    entityBytes: m((r) => r.entityBytes, 0),
    deliveredMBps: m((r) => r.deliveredMBps, 1),
  };
}

function floorMedian(runs: readonly FloorResult[]): FloorComparison['median'] {
  const m = (f: (r: FloorResult) => number, digits = 0) => round(median(runs.map(f)), digits);
  return {
    wallMs: m((r) => r.wallMs),
    cpuMs: m((r) => r.cpuMs),
    peakRssMB: m((r) => r.peakRssMB, 1),
    requests: m((r) => r.requests),
    requestBytes: m((r) => r.requestBytes),
    gtiCpuMs: m((r) => r.gtiCpuMs ?? Number.NaN),
    chronicleCpuMs: m((r) => r.chronicleCpuMs ?? Number.NaN),
  };
}

/** Median over rounds of a(i) / b(i). */
function pairedRatio<A, B>(a: readonly A[], b: readonly B[], fa: (x: A) => number, fb: (x: B) => number) {
  const ratios = a.slice(0, b.length).map((x, i) => fa(x) / fb(b[i] as B));
  return round(median(ratios), 3);
}

/**
 * Checks that a sync run delivered every notification exactly once, and every entity it built
 * exactly once (none with entity context off).
 */
export function assertComplete(run: StandaloneResult): void {
  const c = run.chronicle;
  if (
    c.uniqueIds !== run.count ||
    c.duplicates !== 0 ||
    c.entries !== run.count ||
    run.summary.notifications !== run.count
  )
    throw new Error(
      `sync of ${run.count} delivered ${c.uniqueIds} unique ids (${c.duplicates} duplicates, ${c.entries} entries)`,
    );
  const built = run.summary.entities ?? 0;
  if (
    c.entities !== built ||
    c.entityUniqueIds !== built ||
    c.entityDuplicates !== 0 ||
    c.entityBytes !== (run.summary.entityBytes ?? 0) ||
    (run.entityContext === false && built !== 0)
  )
    throw new Error(
      `sync of ${run.count} (${run.entityContext === false ? 'entity context off' : 'entity context on'}) built ${built} entities, Chronicle accepted ${c.entities} (${c.entityUniqueIds} unique, ${c.entityDuplicates} duplicates)`,
    );
}

/** Spaces per level in the indented core variant. */
const INDENT = 4;

function coreMedian(runs: readonly CoreResult[]): CoreMedian {
  return {
    mbPerSecond: round(median(runs.map((r) => r.mbPerSecond)), 1),
    notificationsPerSecond: round(median(runs.map((r) => r.notificationsPerSecond)), 0),
    stringifyOnlyMBps: round(median(runs.map((r) => r.stringifyOnlyMBps)), 1),
    relativeToStringify: round(median(runs.map((r) => r.mbPerSecond / r.stringifyOnlyMBps)), 3),
    parseOnlyMBps: round(median(runs.map((r) => r.parseOnlyMBps)), 1),
    relativeToParse: round(median(runs.map((r) => r.mbPerSecond / r.parseOnlyMBps)), 3),
    objectPath: runs.reduce((sum, r) => sum + r.objectPath, 0),
  };
}

/** Core runs on compact bodies and on 4-space-indented ones, alternating (same machine phase). */
async function core(
  count: number,
  runs: number,
  log: BenchOptions['log'],
): Promise<{ compact: CoreResult[]; indented: CoreResult[] }> {
  const results = { compact: [] as CoreResult[], indented: [] as CoreResult[] };
  for (let i = 0; i < runs; i++) {
    for (const indent of [0, INDENT] as const) {
      const run = await runMeasured(
        distPath('bench', 'core_worker.js'),
        [
          '--count',
          String(count),
          '--indent',
          String(indent),
          '--entities',
          String(ENTITY_CONTEXT_SUPPORTED),
        ],
        process.env,
      );
      if (run.code !== 0) throw new Error(`core worker failed: ${run.stderr}`);
      const r = JSON.parse(run.stdout.trim()) as CoreResult;
      log(
        `  core ${sizeLabel(count)} ${indent === 0 ? 'compact' : 'indented'} (${entityLabel(r.entityContext)}) run ${i + 1}: ${r.mbPerSecond.toFixed(1)} MB/s, ${r.notificationsPerSecond.toFixed(0)} notifications/s`,
      );
      (indent === 0 ? results.compact : results.indented).push(r);
    }
  }
  return results;
}

/** The entity context setting of the main runs: on when the build knows it, else left unset. */
const ENTITIES_ON = ENTITY_CONTEXT_SUPPORTED ? true : undefined;

function entityLabel(entityContext: boolean | undefined): string {
  return entityContext === undefined
    ? 'entity context n/a'
    : `entity context ${entityContext ? 'on' : 'off'}`;
}

async function syncOnce(
  count: number,
  latencyMs: { gti: number; chronicle: number },
  concurrency: number,
  entityContext: boolean | undefined,
  label: string,
  log: BenchOptions['log'],
): Promise<StandaloneResult> {
  const r = await runStandalone({
    count,
    seed: BENCH_SEED,
    gtiLatencyMs: latencyMs.gti,
    chronicleLatencyMs: latencyMs.chronicle,
    concurrency,
    mode: 'process',
    entityContext,
  });
  assertComplete(r);
  log(
    `  sync ${sizeLabel(count)} (${entityLabel(entityContext)}, latency ${latencyMs.gti}/${latencyMs.chronicle} ms, concurrency ${concurrency}) ${label}: ` +
      `${(r.wallMs / 1000).toFixed(2)} s wall, ${(r.cpuMs / 1000).toFixed(2)} s CPU, ${r.peakRssMB.toFixed(0)} MB RSS, ` +
      `${r.chronicle.requests} log requests (${(r.chronicle.bytes / 1e6).toFixed(1)} MB), ${r.entityRequests} entity requests (${(r.entityBytes / 1e6).toFixed(1)} MB)`,
  );
  return r;
}

/**
 * `runs` rounds, each: the sync with entity context on, the same with it off, the transport floor,
 * back to back on the same data (so each ratio compares runs made in the same phase of the machine).
 */
async function standaloneRounds(
  count: number,
  runs: number,
  latencyMs: number,
  options: { entities: boolean; floor: boolean },
  log: BenchOptions['log'],
): Promise<{ on: StandaloneResult[]; off: StandaloneResult[]; floor: FloorResult[] }> {
  const out = { on: [] as StandaloneResult[], off: [] as StandaloneResult[], floor: [] as FloorResult[] };
  const latency = { gti: latencyMs, chronicle: latencyMs };
  for (let i = 0; i < runs; i++) {
    out.on.push(await syncOnce(count, latency, 2, ENTITIES_ON, `run ${i + 1}`, log));
    if (options.entities) out.off.push(await syncOnce(count, latency, 2, false, `run ${i + 1}`, log));
    if (options.floor) {
      const f = await runFloor({ count, seed: BENCH_SEED, concurrency: 2 });
      log(
        `  transport floor ${sizeLabel(count)} run ${i + 1}: ${(f.wallMs / 1000).toFixed(2)} s wall, ${(f.cpuMs / 1000).toFixed(2)} s CPU, ` +
          `${f.peakRssMB.toFixed(0)} MB RSS, ${f.pages} pages in ${f.requests} requests (${(f.requestBytes / 1e6).toFixed(1)} MB)`,
      );
      out.floor.push(f);
    }
  }
  return out;
}

function packageArchive(): { path: string; bytes: number } {
  const result = spawnSync(process.execPath, [join(REPO_ROOT, 'scripts', 'package.js')], {
    cwd: REPO_ROOT,
    encoding: 'utf8',
  });
  if (result.status !== 0) throw new Error(`scripts/package.js failed: ${result.stderr}`);
  const path = join(REPO_ROOT, 'terraform', 'build', 'function-source.zip');
  return { path: 'terraform/build/function-source.zip', bytes: statSync(path).size };
}

export async function runBench(options: BenchOptions): Promise<BenchResults> {
  const started = performance.now();
  const startedAt = new Date().toISOString();
  const machine = machineInfo();
  const { count, runs, latencyMs, skip, log } = options;
  const large = count >= 100_000;
  const mainCount = large ? 10_000 : count;
  log(
    `machine: ${machine.cores} cores, ${machine.cpuModel}, Node ${machine.node}, load ${machine.loadAverageStart.join(' ')}`,
  );
  const out: { -readonly [K in keyof BenchResults]?: BenchResults[K] } = {};

  if (!skip.has('core')) {
    log(
      'core throughput (GTI body bytes → cleaned items → entries and entities → request bodies, one core, fresh process)',
    );
    const coreRuns = await core(count, large ? 1 : runs, log);
    out.core = {
      runs: coreRuns.compact,
      median: coreMedian(coreRuns.compact),
      indentedRuns: coreRuns.indented,
      indented: coreMedian(coreRuns.indented),
    };
  }
  if (!skip.has('standalone')) {
    const entities = !skip.has('entities') && ENTITY_CONTEXT_SUPPORTED;
    const floor = !skip.has('floor');
    log(
      `standalone sync end to end (GTI and Chronicle simulators in their own processes)${entities ? ', entity context on and off' : ''}${floor ? ', and the transport floor' : ''}, alternating`,
    );
    const rounds = await standaloneRounds(mainCount, runs, latencyMs, { entities, floor }, log);
    out.standalone = { runs: rounds.on, median: summarise(rounds.on) };
    if (entities) {
      const comparison: EntityComparison = {
        off: { runs: rounds.off, median: summarise(rounds.off) },
        wallRatio: pairedRatio(
          rounds.on,
          rounds.off,
          (r) => r.wallMs,
          (r) => r.wallMs,
        ),
        cpuRatio: pairedRatio(
          rounds.on,
          rounds.off,
          (r) => r.cpuMs,
          (r) => r.cpuMs,
        ),
      };
      out.entities = comparison;
    } else if (!skip.has('entities')) {
      out.entities = { skipped: 'this build has no CHRONICLE_ENTITY_CONTEXT (entity context not wired yet)' };
    }
    if (floor) {
      out.floor = {
        runs: rounds.floor,
        median: floorMedian(rounds.floor),
        ratio: pairedRatio(
          rounds.on,
          rounds.floor,
          (r) => r.wallMs,
          (r) => r.wallMs,
        ),
      };
    }
    if (large) {
      log('memory scaling: one sync of the large dataset');
      const big = await syncOnce(
        count,
        { gti: latencyMs, chronicle: latencyMs },
        2,
        ENTITIES_ON,
        'once',
        log,
      );
      const small = summarise(rounds.on);
      out.scaling = { small, large: big, ratio: round(big.peakRssMB / small.peakRssMB, 3) };
    }
  }
  if (!skip.has('latency')) {
    const gtiLatencyMs = options.pagingLatencyMs ?? DEFAULT_PAGING_LATENCY_MS;
    log(
      `GTI latency: ${LATENCY_COUNT / 1000}k notifications, GTI answering each page after ${gtiLatencyMs} ms`,
    );
    // Like every other timed row, a median of `runs` runs: one run of ~11 s moves by ±0.1 s.
    const latencyRuns: StandaloneResult[] = [];
    for (let i = 0; i < runs; i++) {
      latencyRuns.push(
        await syncOnce(
          LATENCY_COUNT,
          { gti: gtiLatencyMs, chronicle: 0 },
          2,
          ENTITIES_ON,
          runs === 1 ? 'once' : `run ${i + 1}`,
          log,
        ),
      );
    }
    const byWall = [...latencyRuns].sort((a, b) => a.wallMs - b.wallMs);
    const run = byWall[Math.floor((byWall.length - 1) / 2)] as StandaloneResult;
    const pages = run.summary.pages;
    out.latency = {
      count: LATENCY_COUNT,
      gtiLatencyMs,
      pages,
      wallMs: round(run.wallMs, 0),
      wallsMs: latencyRuns.map((r) => round(r.wallMs, 0)),
      ratio: round(run.wallMs / (pages * gtiLatencyMs), 3),
      run,
    };
    log(
      `  ${pages} pages in ${(run.wallMs / 1000).toFixed(2)} s (median of ${runs}): ${out.latency.ratio.toFixed(3)} × pages × latency`,
    );
  }
  if (!skip.has('profile')) {
    log(`own code share: one more sync of ${sizeLabel(mainCount)} under node --cpu-prof`);
    const p = await runProfiled({
      count: mainCount,
      seed: BENCH_SEED,
      concurrency: 2,
      entityContext: ENTITIES_ON,
      check: assertComplete,
    });
    out.profile = p;
    log(
      `  ${(p.wallMs / 1000).toFixed(2)} s wall; dist/shared/ on the stack ${(p.code.inclusiveMs / 1000).toFixed(2)} s (${(100 * p.share).toFixed(1)}%), ` +
        `innermost ${(p.code.selfMs / 1000).toFixed(2)} s (${(100 * p.selfShare).toFixed(1)}%), GC ${(p.code.gcMs / 1000).toFixed(2)} s`,
    );
  }
  if (!skip.has('concurrency')) {
    const concurrency: ConcurrencyResult[] = [];
    out.concurrency = concurrency;
    for (const chronicleLatencyMs of [50, 250]) {
      log(`sender overlap: Chronicle latency ${chronicleLatencyMs} ms, CHRONICLE_CONCURRENCY 1 vs 4`);
      const run = async (concurrency: number) => {
        const r = await runStandalone({
          count: mainCount,
          seed: BENCH_SEED,
          gtiLatencyMs: 0,
          chronicleLatencyMs,
          concurrency,
          mode: 'process',
          entityContext: ENTITIES_ON,
        });
        assertComplete(r);
        log(`  concurrency ${concurrency}: ${(r.wallMs / 1000).toFixed(2)} s wall`);
        return r;
      };
      const c1 = await run(1);
      const c4 = await run(4);
      concurrency.push({ chronicleLatencyMs, c1, c4, speedup: round(c1.wallMs / c4.wallMs, 3) });
    }
  }
  if (!skip.has('paging')) {
    log('GTI paging discipline (recording proxy, 2k notifications, GTI latency 20 ms)');
    out.paging = await runPagingCheck({ count: 2000, seed: BENCH_SEED, gtiLatencyMs: 20, mode: 'process' });
    log(
      `  ${out.paging.requests} requests, limits ${out.paging.limits.join(',')}, max in flight ${out.paging.maxInFlight}, chained ${out.paging.chained}`,
    );
  }
  if (!skip.has('cloud')) {
    const reason = cloudSkipReason();
    if (reason !== undefined) {
      out.cloud = { skipped: reason };
      log(`cloud topology skipped: ${reason}`);
    } else {
      log(`cloud topology on the emulators (${sizeLabel(mainCount)}), then cold starts`);
      try {
        const cloud = await runCloud({ count: mainCount, seed: BENCH_SEED });
        out.cloud = cloud;
        log(
          `  ${(cloud.wallMs / 1000).toFixed(2)} s to deliver ${cloud.delivered}, ${cloud.chronicleRequests} requests`,
        );
        for (const c of cloud.coldStarts)
          log(
            `  cold start ${c.target}: import ${c.importMs.toFixed(0)} ms, first request ${c.firstRequestMs.toFixed(0)} ms (status ${c.status})`,
          );
      } catch (error) {
        out.cloud = {
          skipped: `failed: ${error instanceof Error ? error.message : String(error)}`.slice(0, 500),
        };
        log(`  cloud topology failed: ${(out.cloud as { skipped: string }).skipped}`);
      }
    }
  }
  if (!skip.has('package')) {
    log('deploy archive (scripts/package.js)');
    try {
      out.archive = packageArchive();
      log(`  ${out.archive.path}: ${(out.archive.bytes / 1e6).toFixed(2)} MB`);
    } catch (error) {
      out.archive = { skipped: error instanceof Error ? error.message.slice(0, 300) : String(error) };
    }
  }
  const durationMs = performance.now() - started;
  const partial = {
    version: 1 as const,
    startedAt,
    durationMs: round(durationMs, 0),
    machine: { ...machine, loadAverageEnd: loadAverage() },
    options: {
      size: sizeLabel(count),
      count,
      runs,
      latencyMs,
      pagingLatencyMs: options.pagingLatencyMs ?? DEFAULT_PAGING_LATENCY_MS,
      skipped: [...skip],
    },
    ...out,
  };
  return { ...partial, targets: evaluateTargets(partial) };
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      size: { type: 'string' },
      quick: { type: 'boolean', default: false },
      runs: { type: 'string' },
      'latency-ms': { type: 'string' },
      'paging-latency-ms': { type: 'string' },
      skip: { type: 'string' },
      out: { type: 'string' },
      help: { type: 'boolean', short: 'h', default: false },
    },
    strict: true,
  });
  if (values.help) {
    process.stdout.write(
      'Usage: npm run bench -- [--size 2k|10k|100k] [--quick] [--runs N] [--latency-ms N] [--paging-latency-ms N] [--skip a,b] [--out FILE]\n' +
        `Sections: ${SECTIONS.join(', ')}\n`,
    );
    return;
  }
  // The harness's own Google clients (Pub/Sub admin on the emulator) must not probe for a GCE metadata server.
  process.env.METADATA_SERVER_DETECTION ??= 'none';
  const count = parseSize(values.size ?? (values.quick ? '2k' : '10k'));
  const runs = Number(values.runs ?? (values.quick ? '1' : '3'));
  if (!Number.isInteger(runs) || runs < 1) throw new RangeError('--runs must be a positive integer');
  const skip = new Set<Section>();
  for (const s of (values.skip ?? '').split(',').filter((x) => x !== '')) {
    if (!(SECTIONS as readonly string[]).includes(s)) throw new RangeError(`unknown section "${s}"`);
    skip.add(s as Section);
  }
  const results = await runBench({
    count,
    runs,
    latencyMs: Number(values['latency-ms'] ?? '0'),
    pagingLatencyMs: Number(values['paging-latency-ms'] ?? String(DEFAULT_PAGING_LATENCY_MS)),
    skip,
    log: (line) => process.stderr.write(`${line}\n`),
  });
  const outFile = values.out ?? join(REPO_ROOT, 'bench', 'results', `${sizeLabel(count)}.json`);
  const dir = join(outFile, '..');
  if (!existsSync(dir)) mkdirSync(dir, { recursive: true });
  writeFileSync(outFile, `${JSON.stringify(results, null, 2)}\n`);
  process.stdout.write(
    `${targetTable(results)}\n\nresults: ${outFile} (${(results.durationMs / 1000).toFixed(0)} s)\n`,
  );
}

const invoked = process.argv[1];
if (invoked !== undefined && import.meta.url === pathToFileURL(realpathSync(invoked)).href) {
  await main();
}
