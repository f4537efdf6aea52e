/**
 * The Chronicle simulator with the deploy-path endpoints (log types, parsers, runParser:
 * sim/chronicle_parsers.ts) attached, for tests of `parser validate|install` and `doctor`.
 */
import {
  type ChronicleApiRequest,
  type ChronicleParsers,
  type ChronicleParsersOptions,
  createChronicleParsers,
} from '../../sim/chronicle_parsers.js';
import {
  type ChronicleSimulator,
  type ChronicleSimulatorOptions,
  startChronicleSimulator,
} from '../../sim/chronicle_simulator.js';

export interface ChronicleApi {
  /** Base URL for CHRONICLE_API_BASE_URL. */
  readonly baseUrl: string;
  readonly sim: ChronicleSimulator;
  readonly parsers: ChronicleParsers;
  /** The recorded requests whose path ends with `suffix` (e.g. ':runParser'). */
  requestsTo(suffix: string): ChronicleApiRequest[];
  close(): Promise<void>;
}

export async function startChronicleApi(
  options: ChronicleParsersOptions & { simulator?: Omit<ChronicleSimulatorOptions, 'route'> } = {},
): Promise<ChronicleApi> {
  const parsers = createChronicleParsers(options);
  const sim = await startChronicleSimulator({ ...options.simulator, route: parsers.route });
  return {
    baseUrl: sim.baseUrl,
    sim,
    parsers,
    requestsTo: (suffix) => parsers.requests.filter((r) => r.path.endsWith(suffix)),
    close: () => sim.close(),
  };
}
