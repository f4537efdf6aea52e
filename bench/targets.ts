/**
 * The performance targets (issue 7, issue #17 and #15 item 7), evaluated against one bench run. A
 * target the run did not measure (section skipped, size too small) is reported as not evaluated
 * (`pass: undefined`). Every ratio compares runs of the same bench run.
 */
import type { BenchResults, TargetResult } from './results.js';

const pct = (x: number) => `${(100 * x).toFixed(1)}%`;
const s = (ms: number) => `${(ms / 1000).toFixed(2)} s`;
const mb = (bytes: number) => `${(bytes / 1e6).toFixed(1)} MB`;
const signed = (x: number, unit: (v: number) => string) => `${x < 0 ? '−' : '+'}${unit(Math.abs(x))}`;

/** The issue's targets, as numbers. */
export const LIMITS = {
  floorRatio: 1.3,
  entityRatio: 1.15,
  latencyRatio: 1.1,
  peakRssMB: 256,
  rssScaling: 1.3,
  ownCodeShare: 0.2,
} as const;

export function evaluateTargets(r: Omit<BenchResults, 'targets'>): TargetResult[] {
  const out: TargetResult[] = [];
  const add = (id: string, target: string, measured: string | undefined, pass: boolean | undefined) =>
    out.push({
      id,
      target,
      measured: measured ?? 'not measured in this run',
      pass: measured === undefined ? undefined : pass,
    });

  const core = r.core?.median;
  const indented = r.core?.indented;
  add(
    'core-throughput',
    'Core (clean + entries + chunking, from the GTI response bytes to the request bodies; with entity context on, also entity views, entities and entities:import bodies) ≥ 100 MB/s of notification JSON on one core, on compact and on indented bodies',
    core &&
      indented &&
      `${coreEntities(r)}compact bodies ${core.mbPerSecond} MB/s, ${core.notificationsPerSecond} notifications/s (${r.options.size}); 4-space-indented bodies ${indented.mbPerSecond} MB/s of their bytes, ${indented.notificationsPerSecond} notifications/s; reference on the same compact data: JSON.parse alone ${core.parseOnlyMBps} MB/s (core = ${(core.relativeToParse ?? Number.NaN).toFixed(2)} × parse), JSON.stringify alone ${core.stringifyOnlyMBps} MB/s; ${core.objectPath + indented.objectPath} items on the object path`,
    core && indented ? core.mbPerSecond >= 100 && indented.mbPerSecond >= 100 : undefined,
  );
  const sa = r.standalone?.median;
  const sa10k = sa && sa.count === 10_000 ? sa : undefined;
  const saRun = sa && (sa.count % 1000 === 0 ? `${sa.count / 1000}k` : String(sa.count));
  const onLabel =
    r.entities && 'skipped' in r.entities ? 'entity context not in this build' : 'entity context on';
  add(
    'standalone-10k',
    'Standalone sync of 10k notifications < 7 s (zero-latency loopback fakes sharing the 2 cores)',
    sa10k &&
      `${s(sa10k.wallMs)} median of ${sa10k.runs} (${onLabel}); CPU: sync ${s(sa10k.cpuMs)}, GTI fake ${s(sa10k.gtiCpuMs)}, Chronicle fake ${s(sa10k.chronicleCpuMs)}`,
    sa10k ? sa10k.wallMs < 7000 : undefined,
  );
  const fl = r.floor;
  add(
    'transport-floor',
    `Sync of 10k with entity context on ≤ ${LIMITS.floorRatio} × the transport floor (a client that pages GTI, base64s each page's bytes whole and posts them to Chronicle; same data, same run)`,
    sa &&
      fl &&
      `${fl.ratio.toFixed(2)}× at ${saRun} (median of ${fl.runs.length} back-to-back pairs; ${onLabel}): sync ${s(sa.wallMs)} vs floor ${s(fl.median.wallMs)}; CPU ${s(sa.cpuMs)} vs ${s(fl.median.cpuMs)}; ${sa.chronicleRequests + sa.entityRequests} vs ${fl.median.requests} requests, ${mb(sa.chronicleBytes + sa.entityBytes)} vs ${mb(fl.median.requestBytes)}${floorBoundText(r)}`,
    sa && fl ? fl.ratio <= LIMITS.floorRatio : undefined,
  );
  const ent = r.entities && 'off' in r.entities ? r.entities : undefined;
  const off = ent?.off.median;
  add(
    'entity-overhead',
    `Sync of 10k with entity context on ≤ ${LIMITS.entityRatio} × the same sync with it off (what entities add: time, CPU, bytes, requests)`,
    sa && off && ent
      ? `${ent.wallRatio.toFixed(2)}× at ${saRun} (median of ${ent.off.runs.length} back-to-back pairs): on ${s(sa.wallMs)} vs off ${s(off.wallMs)}; entities add ${signed(sa.wallMs - off.wallMs, s)} wall, ${signed(sa.cpuMs - off.cpuMs, s)} CPU (${ent.cpuRatio.toFixed(2)}×), ${sa.entityRequests} entities:import requests (${mb(sa.entityBytes)}), ${signed(sa.chronicleRequests - off.chronicleRequests, String)} logs:import requests (${signed(sa.chronicleBytes - off.chronicleBytes, mb)}), peak RSS ${sa.peakRssMB.toFixed(0)} vs ${off.peakRssMB.toFixed(0)} MB`
      : r.entities && 'skipped' in r.entities
        ? `not measured: ${r.entities.skipped}`
        : undefined,
    sa && off && ent ? ent.wallRatio <= LIMITS.entityRatio : undefined,
  );
  const lat = r.latency;
  add(
    'gti-latency-paging',
    `With GTI answering each page after ${lat?.gtiLatencyMs ?? 200} ms, sync of ${(lat?.count ?? 2000) / 1000}k notifications takes ≤ ${LIMITS.latencyRatio} × pages × latency (one cursor chain: the next request leaves as soon as its cursor is known)`,
    lat &&
      `${s(lat.wallMs)} for ${lat.pages} pages (spawn to exit, ${lat.wallsMs === undefined || lat.wallsMs.length === 1 ? 'one run' : `median of ${lat.wallsMs.length}: ${lat.wallsMs.map(s).join(', ')}`}): ${lat.ratio.toFixed(3)} × ${lat.pages} × ${lat.gtiLatencyMs} ms; of it ${s(lat.run.summary.seconds * 1000)} in the run itself (process start and module loading excluded): ${((lat.run.summary.seconds * 1000) / (lat.pages * lat.gtiLatencyMs)).toFixed(3)}×`,
    lat ? lat.ratio <= LIMITS.latencyRatio : undefined,
  );
  const sc = r.scaling;
  add(
    'memory-scaling',
    `Peak RSS of the 10k and 100k syncs with entity context on ≤ ${LIMITS.peakRssMB} MB, and 100k ≤ ${LIMITS.rssScaling} × 10k`,
    sc &&
      `${sc.large.peakRssMB.toFixed(0)} MB at ${sc.large.count / 1000}k vs ${sc.small.peakRssMB.toFixed(0)} MB at ${sc.small.count / 1000}k: ${sc.ratio.toFixed(2)}× (${entityState(sc.large.entityContext)})`,
    sc
      ? sc.ratio <= LIMITS.rssScaling &&
          sc.large.peakRssMB <= LIMITS.peakRssMB &&
          sc.small.peakRssMB <= LIMITS.peakRssMB
      : undefined,
  );
  add(
    'chunk-fill',
    'Average chunk fill ≥ 95% of CHUNK_MAX_BYTES (every request, the last partial one included)',
    sa && `${pct(sa.chunkFill)} over ${sa.chronicleRequests} requests`,
    sa ? sa.chunkFill >= 0.95 : undefined,
  );
  const prof = r.profile;
  add(
    'own-code-share',
    'Standalone sync spends < 20% of its wall time in our own code (CPU profile of one more sync: samples with a dist/shared/ frame on the stack / wall)',
    prof &&
      `${pct(prof.share)} (${s(prof.code.inclusiveMs)} of ${s(prof.wallMs)}, ${prof.count / 1000}k, ${entityState(prof.entityContext)}); innermost frame ours ${pct(prof.selfShare)}; GC ${s(prof.code.gcMs)}; sync process CPU / wall ${pct(prof.cpuMs / prof.wallMs)}`,
    prof ? prof.share < LIMITS.ownCodeShare : undefined,
  );
  const cloud = r.cloud && 'coldStarts' in r.cloud ? r.cloud : undefined;
  const slowest = cloud?.coldStarts.reduce((a, b) => Math.max(b.importMs, a), 0);
  add(
    'module-load',
    'Module load ≤ 300 ms per function (import of dist/functions/index.js in a fresh process)',
    cloud?.coldStarts
      .map(
        (c) => `${c.target} ${c.importMs.toFixed(0)} ms (first request +${c.firstRequestMs.toFixed(0)} ms)`,
      )
      .join('; '),
    slowest === undefined ? undefined : slowest <= 300 && cloud?.coldStarts.every((c) => c.status < 300),
  );
  const archive = r.archive && 'bytes' in r.archive ? r.archive : undefined;
  add(
    'deploy-archive',
    'Deploy archive ≤ 5 MB zipped',
    archive && `${(archive.bytes / 1e6).toFixed(3)} MB`,
    archive ? archive.bytes <= 5e6 : undefined,
  );
  const p = r.paging;
  add(
    'gti-paging',
    'GTI paging: limit 40 on every request, ≤ 1 request in flight per cursor chain',
    p &&
      `${p.requests} requests, limit ${p.limits.join('/')}, max in flight ${p.maxInFlight}, cursor chain ${p.chained ? 'intact' : 'broken'}`,
    p?.ok,
  );
  for (const c of r.concurrency ?? []) {
    add(
      `sender-overlap-${c.chronicleLatencyMs}ms`,
      `Sender overlaps independent chunks: CHRONICLE_CONCURRENCY 4 faster than 1 at ${c.chronicleLatencyMs} ms Chronicle latency`,
      `${s(c.c1.wallMs)} at 1 vs ${s(c.c4.wallMs)} at 4: ${c.speedup.toFixed(2)}×`,
      c.speedup > 1.1,
    );
  }
  if (r.concurrency === undefined)
    add(
      'sender-overlap',
      'Sender overlaps independent chunks (CHRONICLE_CONCURRENCY 1 vs 4)',
      undefined,
      undefined,
    );
  add(
    'cloud-topology',
    'Cloud topology (fetcher → Pub/Sub → sender) delivers every notification exactly once',
    cloud
      ? `${cloud.delivered}/${cloud.count} delivered, ${cloud.duplicates} duplicates, ${s(cloud.wallMs)}, ${cloud.chronicleRequests} requests`
      : r.cloud && 'skipped' in r.cloud
        ? `not run: ${r.cloud.skipped}`
        : undefined,
    cloud ? cloud.delivered === cloud.count && cloud.duplicates === 0 : r.cloud ? false : undefined,
  );
  if (r.options.size === '10k') {
    add('bench-duration', 'The 10k bench runs in < 5 minutes', s(r.durationMs), r.durationMs < 300_000);
  }
  return out;
}

/**
 * The least wall time, as a multiple of the floor's, that a client reading every notification could
 * reach on this machine (same run): the floor client's CPU, plus one pass over the notification JSON
 * at the speed of JSON.parse alone (the core section's reference on the same data), plus what the
 * fakes spent during the floor runs, spread perfectly over the cores they share. An optimistic
 * bound: the fakes do more for a sync (10k entries and entities, not one entry per page), and
 * cleaning is not free once the bytes are read. Undefined without the core and floor sections at
 * the same size.
 */
export function floorBound(
  r: Omit<BenchResults, 'targets'>,
): { parseMs: number; cpuMs: number; minWallMs: number; minRatio: number } | undefined {
  const fl = r.floor?.median;
  const core = r.core;
  const json = core?.runs[0];
  if (fl === undefined || core === undefined || json === undefined) return undefined;
  if (json.notifications !== r.standalone?.median.count) return undefined;
  if (!Number.isFinite(fl.gtiCpuMs) || !Number.isFinite(fl.chronicleCpuMs)) return undefined;
  const parseMs = json.jsonBytes / 1e6 / (core.median.parseOnlyMBps / 1000);
  const cpuMs = fl.cpuMs + fl.gtiCpuMs + fl.chronicleCpuMs + parseMs;
  const minWallMs = Math.max(fl.wallMs, cpuMs / r.machine.cores);
  return { parseMs, cpuMs, minWallMs, minRatio: minWallMs / fl.wallMs };
}

function floorBoundText(r: Omit<BenchResults, 'targets'>): string {
  const b = floorBound(r);
  const fl = r.floor?.median;
  if (b === undefined || fl === undefined) return '';
  return `; what this machine allows a client that reads every notification at JSON.parse's speed (the cleaner's speed, see the core row): floor CPU ${s(fl.cpuMs)} + its fakes ${s(fl.gtiCpuMs + fl.chronicleCpuMs)} + that pass ${s(b.parseMs)}, spread perfectly over ${r.machine.cores} cores, is ${b.minRatio.toFixed(2)}× the floor at best`;
}

function coreEntities(r: Omit<BenchResults, 'targets'>): string {
  const run = r.core?.runs[0];
  if (run?.entityContext === undefined) return '';
  return run.entityContext
    ? `entity context on (${run.entities} entities in ${run.entityChunks} entities:import bodies): `
    : 'entity context off: ';
}

function entityState(entityContext: boolean | undefined): string {
  return entityContext === undefined
    ? 'entity context not in this build'
    : `entity context ${entityContext ? 'on' : 'off'}`;
}

export function targetTable(r: BenchResults): string {
  const mark = (p: boolean | undefined) => (p === undefined ? '—' : p ? 'pass' : 'FAIL');
  const rows = r.targets.map((t) => `| ${t.target} | ${t.measured} | ${mark(t.pass)} |`);
  return ['| Target | Measured | Result |', '|---|---|---|', ...rows].join('\n');
}
