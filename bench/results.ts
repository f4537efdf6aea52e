/** The shape of a bench run's results (bench/results/<size>.json), shared by the runner, the targets and the report. */
import type { CloudResult } from './cloud.js';
import type { CoreResult } from './core_worker.js';
import type { machineInfo } from './machine.js';
import type { PagingResult } from './paging.js';
import type { StandaloneResult } from './standalone.js';

export interface BenchResults {
  readonly version: 1;
  readonly startedAt: string;
  readonly durationMs: number;
  readonly machine: ReturnType<typeof machineInfo> & { loadAverageEnd: readonly number[] };
  readonly options: { size: string; count: number; runs: number; latencyMs: number; skipped: string[] };
  readonly core?: {
    runs: CoreResult[];
    median: CoreMedian;
    /** The same on bodies indented by INDENT spaces (the VT API documentation's examples are indented). */
    indentedRuns: CoreResult[];
    indented: CoreMedian;
  };
  readonly standalone?: { runs: StandaloneResult[]; median: StandaloneMedian };
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
  readonly processingMs: number;
  readonly processingShare: number;
  readonly cpuShare: number;
  readonly chunkFill: number;
  readonly chronicleRequests: number;
  readonly deliveredMBps: number;
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
