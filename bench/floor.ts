/**
 * The transport floor run: bench/floor_client.ts as a child process against the same loopback
 * simulators and dataset as a standalone sync (started the same way, GTI cache pre-warmed before
 * the clock), measured the same way (spawn to exit, the process's own rusage, the simulators' CPU
 * while it ran). Checks that it moved every GTI byte: Chronicle received one entry per page and
 * decoded sizes that add up to the GTI bodies.
 */

import { logTypeUrl } from '../shared/chronicle/resources.js';
import { SPECS } from '../shared/core/config_table.js';
import { buildFilter } from '../shared/pipeline/fetch_run.js';
import type { ChronicleStats } from '../sim/chronicle_simulator.js';
import { DEFAULT_START_SECONDS } from '../sim/dataset.js';
import { cpuTimeOf } from './machine.js';
import { distPath, runMeasured } from './processes.js';
import { startServices } from './services.js';
import { BENCH_CUSTOMER_ID, CHUNK_MAX_BYTES } from './standalone.js';

export interface FloorResult {
  readonly count: number;
  readonly wallMs: number;
  readonly cpuMs: number;
  readonly peakRssMB: number;
  readonly pages: number;
  readonly gtiBytes: number;
  readonly requests: number;
  readonly requestBytes: number;
  readonly gtiCpuMs: number | undefined;
  readonly chronicleCpuMs: number | undefined;
  readonly chronicle: ChronicleStats;
}

export async function runFloor(options: {
  count: number;
  seed: number;
  concurrency: number;
}): Promise<FloorResult> {
  const services = await startServices({
    mode: 'process',
    count: options.count,
    seed: options.seed,
    gtiLatencyMs: 0,
    chronicleLatencyMs: 0,
  });
  const cpu = (pid: number | undefined) => (pid === undefined ? undefined : cpuTimeOf(pid));
  const since = (now: number | undefined, before: number | undefined) =>
    now === undefined ? undefined : now - (before ?? 0);
  try {
    const chronicleUrl = logTypeUrl(
      {
        baseUrl: services.chronicleBaseUrl,
        apiVersion: SPECS.CHRONICLE_API_VERSION.default,
        projectId: 'bench-project',
        region: SPECS.CHRONICLE_REGION.default,
        customerId: BENCH_CUSTOMER_ID,
        logType: SPECS.CHRONICLE_LOG_TYPE.default,
      },
      '/logs:import',
    );
    const gtiBefore = cpu(services.pids.gti);
    const chronicleBefore = cpu(services.pids.chronicle);
    const run = await runMeasured(
      distPath('bench', 'floor_client.js'),
      [
        '--gti-url',
        services.gtiBaseUrl,
        '--api-key',
        services.apiKey,
        '--chronicle-url',
        chronicleUrl,
        '--metadata-host',
        services.metadataHost,
        // The filter sync sends for the bench's VT_DATE_FILTER (bench/standalone.ts syncEnv).
        '--filter',
        buildFilter('', DEFAULT_START_SECONDS - 1),
        '--concurrency',
        String(options.concurrency),
        '--chunk-max-bytes',
        String(CHUNK_MAX_BYTES),
      ],
      { PATH: process.env.PATH ?? '' },
    );
    if (run.code !== 0) throw new Error(`floor client exited with ${run.code}: ${run.stderr.slice(-2000)}`);
    const gtiCpuMs = since(cpu(services.pids.gti), gtiBefore);
    const chronicleCpuMs = since(cpu(services.pids.chronicle), chronicleBefore);
    const out = JSON.parse(run.stdout.trim()) as {
      pages: number;
      gtiBytes: number;
      requests: number;
      requestBytes: number;
    };
    const chronicle = await services.chronicleStats();
    if (
      chronicle.entries !== out.pages ||
      chronicle.dataBytes !== out.gtiBytes ||
      chronicle.bytes !== out.requestBytes ||
      chronicle.acceptedRequests !== out.requests ||
      out.pages !== Math.ceil(options.count / 40)
    )
      throw new Error(
        `floor run incomplete: ${JSON.stringify(out)} against Chronicle ${JSON.stringify(chronicle)}`,
      );
    return {
      count: options.count,
      wallMs: run.wallMs,
      cpuMs: run.userMs + run.systemMs,
      peakRssMB: run.maxRssBytes / 2 ** 20,
      ...out,
      gtiCpuMs,
      chronicleCpuMs,
      chronicle,
    };
  } finally {
    await services.close();
  }
}
