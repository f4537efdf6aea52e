/**
 * The performance targets of issue 7, evaluated against one bench run. A target the run did not
 * measure (section skipped, size too small) is reported as not evaluated (`pass: undefined`).
 */
import type { BenchResults, TargetResult } from './results.js';

const pct = (x: number) => `${(100 * x).toFixed(1)}%`;
const s = (ms: number) => `${(ms / 1000).toFixed(2)} s`;

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
    'Core (clean + entries + chunking, from the GTI response bytes to the request bodies) ≥ 100 MB/s of notification JSON on one core, on compact and on indented bodies',
    core &&
      indented &&
      `compact bodies ${core.mbPerSecond} MB/s, ${core.notificationsPerSecond} notifications/s (${r.options.size}); 4-space-indented bodies ${indented.mbPerSecond} MB/s of their bytes, ${indented.notificationsPerSecond} notifications/s; reference on the same compact data: JSON.parse alone ${core.parseOnlyMBps} MB/s (core = ${(core.relativeToParse ?? Number.NaN).toFixed(2)} × parse), JSON.stringify alone ${core.stringifyOnlyMBps} MB/s; ${core.objectPath + indented.objectPath} items on the object path`,
    core && indented ? core.mbPerSecond >= 100 && indented.mbPerSecond >= 100 : undefined,
  );
  const sa = r.standalone?.median;
  const sa10k = sa && sa.count === 10_000 ? sa : undefined;
  add(
    'standalone-10k',
    'Standalone sync of 10k notifications < 7 s (zero-latency loopback fakes sharing the 2 cores)',
    sa10k &&
      `${s(sa10k.wallMs)} median of ${sa10k.runs}; CPU: sync ${s(sa10k.cpuMs)}, GTI fake ${s(sa10k.gtiCpuMs)}, Chronicle fake ${s(sa10k.chronicleCpuMs)}`,
    sa10k ? sa10k.wallMs < 7000 : undefined,
  );
  const sc = r.scaling;
  add(
    'memory-scaling',
    'Peak RSS at 100k ≤ 1.3 × peak at 10k, and < 256 MB',
    sc &&
      `${sc.large.peakRssMB.toFixed(0)} MB at ${sc.large.count / 1000}k vs ${sc.small.peakRssMB.toFixed(0)} MB at ${sc.small.count / 1000}k: ${sc.ratio.toFixed(2)}×`,
    sc ? sc.ratio <= 1.3 && sc.large.peakRssMB < 256 : undefined,
  );
  add(
    'chunk-fill',
    'Average chunk fill ≥ 95% of CHUNK_MAX_BYTES (every request, the last partial one included)',
    sa && `${pct(sa.chunkFill)} over ${sa.chronicleRequests} requests`,
    sa ? sa.chunkFill >= 0.95 : undefined,
  );
  add(
    'own-code-share',
    'Standalone sync spends < 20% of its wall time in our own code (processingMs / wall)',
    sa &&
      `${pct(sa.processingShare)} (${s(sa.processingMs)} of ${s(sa.wallMs)}); whole sync process CPU / wall ${pct(sa.cpuShare)}`,
    sa ? sa.processingShare < 0.2 : undefined,
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
      `${s(c.c1.wallMs)} at 1 vs ${s(c.c4.wallMs)} at 4: ${c.speedup.toFixed(2)}× (own code ${pct(c.c4.processingShare)} of wall at 4)`,
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

export function targetTable(r: BenchResults): string {
  const mark = (p: boolean | undefined) => (p === undefined ? '—' : p ? 'pass' : 'FAIL');
  const rows = r.targets.map((t) => `| ${t.target} | ${t.measured} | ${mark(t.pass)} |`);
  return ['| Target | Measured | Result |', '|---|---|---|', ...rows].join('\n');
}
