/**
 * The loopback world a bench sync runs against: GTI simulator, Chronicle simulator and metadata
 * fake. `process` mode runs each simulator in its own process (they share the cores with the sync,
 * as the targets require); `inline` mode runs them in this process, for the CI test, which checks
 * every accepted notification id.
 */
import { randomBytes } from 'node:crypto';
import {
  type ChronicleSimulator,
  type ChronicleStats,
  startChronicleSimulator,
} from '../sim/chronicle_simulator.js';
import { generatedDataset } from '../sim/dataset.js';
import { type GtiSimulator, startGtiSimulator } from '../sim/gti_simulator.js';
import { startMetadataFake } from '../sim/metadata_server.js';
import { distPath, startServerProcess } from './processes.js';

export interface ServiceOptions {
  readonly mode: 'process' | 'inline';
  readonly count: number;
  readonly seed: number;
  readonly gtiLatencyMs: number;
  readonly chronicleLatencyMs: number;
}

export interface Services {
  readonly gtiBaseUrl: string;
  readonly apiKey: string;
  readonly chronicleBaseUrl: string;
  readonly metadataHost: string;
  readonly pids: { gti: number | undefined; chronicle: number | undefined };
  chronicleStats(): Promise<ChronicleStats>;
  gtiStats(): Promise<{ requests: number; uniqueIds: number; duplicates: number }>;
  /** Only in inline mode: notification_id -> times accepted. */
  readonly acceptedIds: ReadonlyMap<string, number> | undefined;
  /** Only in inline mode. */
  readonly gtiRequests: GtiSimulator['requests'] | undefined;
  close(): Promise<void>;
}

async function getJson<T>(url: string, headers: Record<string, string> = {}): Promise<T> {
  const response = await fetch(url, { headers });
  if (!response.ok) throw new Error(`GET ${url} answered ${response.status}`);
  return (await response.json()) as T;
}

export async function startServices(options: ServiceOptions): Promise<Services> {
  const apiKey = `bench-${randomBytes(8).toString('hex')}`;
  const metadata = await startMetadataFake({ projectId: 'bench-project' });
  const closers: (() => Promise<void>)[] = [() => metadata.close()];
  const close = async () => {
    for (const c of closers.reverse()) await c().catch(() => undefined);
  };
  try {
    if (options.mode === 'inline') {
      const gti: GtiSimulator = await startGtiSimulator({
        dataset: generatedDataset({ count: options.count, seed: options.seed }),
        apiKey,
        latencyMs: options.gtiLatencyMs,
        cacheItems: true,
      });
      closers.push(() => gti.close());
      const chronicle: ChronicleSimulator = await startChronicleSimulator({
        latencyMs: options.chronicleLatencyMs,
        keepEntries: false,
      });
      closers.push(() => chronicle.close());
      return {
        gtiBaseUrl: gti.baseUrl,
        apiKey,
        chronicleBaseUrl: chronicle.baseUrl,
        metadataHost: metadata.host,
        pids: { gti: undefined, chronicle: undefined },
        chronicleStats: () => getJson<ChronicleStats>(`${chronicle.baseUrl}/_stats`),
        gtiStats: () => getJson(new URL('/_stats', gti.baseUrl).href),
        acceptedIds: chronicle.acceptedIds,
        gtiRequests: gti.requests,
        close,
      };
    }
    const gti = await startServerProcess(
      distPath('sim', 'gti_simulator_main.js'),
      [
        '--port',
        '0',
        '--count',
        String(options.count),
        '--seed',
        String(options.seed),
        '--latency-ms',
        String(options.gtiLatencyMs),
        '--api-key',
        apiKey,
        '--cache',
      ],
      { timeoutMs: 20_000 + options.count * 2 },
    );
    closers.push(() => gti.stop());
    const chronicle = await startServerProcess(distPath('sim', 'chronicle_simulator_main.js'), [
      '--port',
      '0',
      '--latency-ms',
      String(options.chronicleLatencyMs),
      '--count-only',
      // Entities: the required metadata is checked, not every field (the CI test's inline
      // simulator checks every field of every entity the bench sends).
      '--unchecked-entity-fields',
    ]);
    closers.push(() => chronicle.stop());
    return {
      gtiBaseUrl: gti.baseUrl,
      apiKey,
      chronicleBaseUrl: chronicle.baseUrl,
      metadataHost: metadata.host,
      pids: { gti: gti.pid, chronicle: chronicle.pid },
      chronicleStats: () => getJson<ChronicleStats>(`${chronicle.baseUrl}/_stats`),
      gtiStats: () => getJson(new URL('/_stats', gti.baseUrl).href),
      acceptedIds: undefined,
      gtiRequests: undefined,
      close,
    };
  } catch (error) {
    await close();
    throw error;
  }
}
