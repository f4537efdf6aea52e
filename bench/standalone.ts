/**
 * End to end, standalone: `ioc-stream sync --json --quiet` as a child process against the loopback
 * GTI and Chronicle simulators. Records wall and CPU time and peak RSS of the sync process, the
 * simulators' CPU while it ran, Chronicle requests and bytes and chunk fill. Entity context is
 * switched with CHRONICLE_ENTITY_CONTEXT in the sync's environment; extra node flags (a CPU
 * profile) can be passed to the sync process.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SPECS } from '../shared/core/config_table.js';
import type { ChronicleStats } from '../sim/chronicle_simulator.js';
import { DEFAULT_START_SECONDS } from '../sim/dataset.js';
import { cpuTimeOf } from './machine.js';
import { distPath, runMeasured } from './processes.js';
import { type Services, startServices } from './services.js';

export const BENCH_CUSTOMER_ID = '7e0f9d0a-3c1b-4f5e-9a2d-6b8c1d2e3f40';
/** The configured default, as sync uses it. */
export const CHUNK_MAX_BYTES = SPECS.CHUNK_MAX_BYTES.default;

export interface StandaloneOptions {
  readonly count: number;
  readonly seed: number;
  readonly gtiLatencyMs: number;
  readonly chronicleLatencyMs: number;
  readonly concurrency: number;
  readonly mode: 'process' | 'inline';
  /**
   * CHRONICLE_ENTITY_CONTEXT for the sync ('true' / 'false'); undefined leaves it unset (the
   * configured default).
   */
  readonly entityContext?: boolean | undefined;
  /** Extra node flags for the sync process (e.g. --cpu-prof). */
  readonly nodeArgs?: readonly string[];
  /** Called with the live services after the sync exits (the CI test checks accepted ids). */
  readonly inspect?: (services: Services) => Promise<void> | void;
}

/** The fields of the sync --json summary the bench uses. */
export interface SyncSummaryFields {
  notifications: number;
  chunks: number;
  bytes: number;
  requests: number;
  retries: number;
  splits: number;
  pages: number;
  duplicates: number;
  trimmed: number;
  /** Entities built and entities:import chunks sent (0 with entity context off). */
  entities: number;
  entityChunks: number;
  entityBytes: number;
  seconds: number;
}

export interface StandaloneResult {
  readonly count: number;
  readonly concurrency: number;
  readonly gtiLatencyMs: number;
  readonly chronicleLatencyMs: number;
  /** CHRONICLE_ENTITY_CONTEXT as set for the run (undefined: not set). */
  readonly entityContext: boolean | undefined;
  readonly wallMs: number;
  readonly cpuMs: number;
  readonly userMs: number;
  readonly systemMs: number;
  readonly peakRssMB: number;
  readonly polledPeakRssMB: number | undefined;
  readonly summary: SyncSummaryFields;
  readonly chronicle: ChronicleStats;
  readonly gti: { requests: number; uniqueIds: number; duplicates: number };
  /**
   * CPU time the simulators used while sync ran (process mode only; start-up and the GTI fake's
   * pre-warmed cache excluded), ms: what shares the cores with sync.
   */
  readonly gtiCpuMs: number | undefined;
  readonly chronicleCpuMs: number | undefined;
  /** entities:import requests and body bytes the Chronicle simulator accepted (0 and 0 without). */
  readonly entityRequests: number;
  readonly entityBytes: number;
  /** Mean request bytes / CHUNK_MAX_BYTES over all Chronicle requests. */
  readonly chunkFill: number;
  /** CPU time of the sync process / wall (everything the process did, HTTP included). */
  readonly cpuShare: number;
  /** MB of request bodies delivered per second of wall time. */
  readonly deliveredMBps: number;
}

/** The entities:import requests and bytes the Chronicle simulator accepted. */
export function entityTraffic(stats: ChronicleStats): { entityRequests: number; entityBytes: number } {
  return { entityRequests: stats.acceptedEntityRequests, entityBytes: stats.entityBytes };
}

export function syncEnv(services: Services, options: StandaloneOptions, dir: string): NodeJS.ProcessEnv {
  return {
    PATH: process.env.PATH ?? '',
    HOME: dir,
    VT_API_KEY: services.apiKey,
    VT_API_BASE_URL: services.gtiBaseUrl,
    VT_DATE_FILTER: new Date((DEFAULT_START_SECONDS - 1) * 1000).toISOString(),
    VT_LIMIT: '40',
    VT_ORDER: 'date+',
    CHECKPOINT_FILE: join(dir, 'checkpoint.json'),
    OUTPUT_DIR: join(dir, 'out'),
    GCP_PROJECT_ID: 'bench-project',
    CHRONICLE_CUSTOMER_ID: BENCH_CUSTOMER_ID,
    CHRONICLE_API_BASE_URL: services.chronicleBaseUrl,
    CHRONICLE_CONCURRENCY: String(options.concurrency),
    CHUNK_MAX_BYTES: String(CHUNK_MAX_BYTES),
    GCE_METADATA_HOST: services.metadataHost,
    METADATA_SERVER_DETECTION: 'assume-present',
    LOG_FORMAT: 'json',
    ...(options.entityContext === undefined
      ? {}
      : { CHRONICLE_ENTITY_CONTEXT: String(options.entityContext) }),
  };
}

export async function runStandalone(options: StandaloneOptions): Promise<StandaloneResult> {
  const services = await startServices(options);
  const dir = mkdtempSync(join(tmpdir(), 'ioc-bench-sync-'));
  const cpu = (pid: number | undefined) => (pid === undefined ? undefined : cpuTimeOf(pid));
  const gtiCpuBefore = cpu(services.pids.gti);
  const chronicleCpuBefore = cpu(services.pids.chronicle);
  const since = (now: number | undefined, before: number | undefined) =>
    now === undefined ? undefined : now - (before ?? 0);
  try {
    const run = await runMeasured(
      distPath('cli', 'main.js'),
      ['sync', '--json', '--quiet'],
      syncEnv(services, options, dir),
      options.nodeArgs,
    );
    if (run.code !== 0) throw new Error(`sync exited with ${run.code}: ${run.stderr.slice(-2000)}`);
    const lastLine = run.stdout.trim().split('\n').at(-1) ?? '';
    const summary = JSON.parse(lastLine) as SyncSummaryFields;
    const chronicle = await services.chronicleStats();
    const gti = await services.gtiStats();
    await options.inspect?.(services);
    const cpuMs = run.userMs + run.systemMs;
    return {
      count: options.count,
      concurrency: options.concurrency,
      gtiLatencyMs: options.gtiLatencyMs,
      chronicleLatencyMs: options.chronicleLatencyMs,
      entityContext: options.entityContext,
      wallMs: run.wallMs,
      cpuMs,
      userMs: run.userMs,
      systemMs: run.systemMs,
      peakRssMB: run.maxRssBytes / 2 ** 20,
      polledPeakRssMB: run.polledPeakRssBytes === undefined ? undefined : run.polledPeakRssBytes / 2 ** 20,
      summary,
      chronicle,
      gti,
      gtiCpuMs: since(cpu(services.pids.gti), gtiCpuBefore),
      chronicleCpuMs: since(cpu(services.pids.chronicle), chronicleCpuBefore),
      ...entityTraffic(chronicle),
      chunkFill: chronicle.requests === 0 ? 0 : chronicle.bytes / chronicle.requests / CHUNK_MAX_BYTES,
      cpuShare: cpuMs / run.wallMs,
      deliveredMBps: chronicle.bytes / 1e6 / (run.wallMs / 1000),
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
    await services.close();
  }
}
