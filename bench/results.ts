/** The shape of a bench run's results (bench/results/<size>.json), shared by the runner, the targets and the report. */
import type { CloudResult } from './cloud.js';
import type { CoreResult } from './core_worker.js';
import type { FloorResult } from './floor.js';
import type { machineInfo } from './machine.js';
import type { PagingResult } from './paging.js';
import type { ProfileResult } from './profile.js';
import type { StandaloneResult } from './standalone.js';

export interface BenchResults {
  readonly version: 1;
  readonly startedAt: string;
  readonly durationMs: number;
  readonly machine: ReturnType<typeof machineInfo> & { loadAverageEnd: readonly number[] };
  readonly options: {
    size: string;
    count: number;
    runs: number;
    latencyMs: number;
    pagingLatencyMs: number;
    skipped: string[];
  };
  readonly core?: {
    runs: CoreResult[];
    median: CoreMedian;
    /** The same on bodies indented by INDENT spaces (the VT API documentation's examples are indented). */
    indentedRuns: CoreResult[];
    indented: CoreMedian;
  };
  /** The sync with entity context on (CHRONICLE_ENTITY_CONTEXT=true) when the build knows it. */
  readonly standalone?: { runs: StandaloneResult[]; median: StandaloneMedian };
  /** The same sync with entity context off, run alternately with the one above. */
  readonly entities?: EntityComparison | { skipped: string };
  /** The transport floor, run alternately with the syncs above on the same data. */
  readonly floor?: FloorComparison;
  /** Sync with GTI latency: is paging latency-bound (one cursor chain)? */
  readonly latency?: LatencyResult;
  /** Our code's share of the wall time, from a CPU profile of one more sync. */
  readonly profile?: ProfileResult;
  readonly scaling?: { small: StandaloneMedian; large: StandaloneResult; ratio: number };
  readonly concurrency?: ConcurrencyResult[];
  readonly paging?: PagingResult;
  readonly cloud?: CloudResult | { skipped: string };
  readonly archive?: { path: string; bytes: number } | { skipped: string };
  readonly targets: readonly TargetResult[];
}

export interface ConcurrencyResult {
  readonly chronicleLatencyMs: number;
  readonly c1: StandaloneResult;
  readonly c4: StandaloneResult;
  /** wall(concurrency 1) / wall(concurrency 4), same run. */
  readonly speedup: number;
}

export interface StandaloneMedian {
  readonly count: number;
  readonly runs: number;
  readonly wallMs: number;
  readonly cpuMs: number;
  readonly gtiCpuMs: number;
  readonly chronicleCpuMs: number;
  readonly peakRssMB: number;
  readonly cpuShare: number;
  readonly chunkFill: number;
  /** logs:import requests and their body bytes. */
  readonly chronicleRequests: number;
  readonly chronicleBytes: number;
  /** entities:import requests and their body bytes (0 when entity context is off). */
  readonly entityRequests: number;
  readonly entityBytes: number;
  readonly deliveredMBps: number;
}

export interface EntityComparison {
  /** Medians of the entity-off runs (the entity-on ones are `standalone`). */
  readonly off: { runs: StandaloneResult[]; median: StandaloneMedian };
  /** Median over rounds of wall(on) / wall(off), each round's two runs back to back. */
  readonly wallRatio: number;
  /** Median over rounds of CPU(on) / CPU(off). */
  readonly cpuRatio: number;
}

export interface FloorComparison {
  readonly runs: FloorResult[];
  readonly median: {
    wallMs: number;
    cpuMs: number;
    peakRssMB: number;
    requests: number;
    requestBytes: number;
    /** The simulators' CPU while the floor client ran (NaN when not measured). */
    gtiCpuMs: number;
    chronicleCpuMs: number;
  };
  /** Median over rounds of wall(sync, entity context on) / wall(floor), each round back to back. */
  readonly ratio: number;
}

export interface LatencyResult {
  readonly count: number;
  readonly gtiLatencyMs: number;
  readonly pages: number;
  /** The median run's wall time (spawn to exit). */
  readonly wallMs: number;
  /** Every run's wall time, in order (absent in results written before runs were repeated). */
  readonly wallsMs?: readonly number[];
  /** median wall / (pages × GTI latency): 1.0 = nothing but the waits of one cursor chain. */
  readonly ratio: number;
  /** The median run. */
  readonly run: StandaloneResult;
}

export interface CoreMedian {
  mbPerSecond: number;
  notificationsPerSecond: number;
  stringifyOnlyMBps: number;
  parseOnlyMBps: number;
  /** Median of core MB/s ÷ stringify-only MB/s per run: less sensitive to the machine and its load. */
  relativeToStringify: number;
  /** Median of core MB/s ÷ parse-only MB/s per run. */
  relativeToParse: number;
  /** Items left to the object path, summed over the runs. */
  objectPath: number;
}

export interface TargetResult {
  readonly id: string;
  readonly target: string;
  readonly measured: string;
  readonly pass: boolean | undefined;
}
