/**
 * Configuration: the only module that reads the environment.
 *
 * `loadConfig(env)` merges an optional YAML file (CONFIG_FILE / --config) under the environment,
 * reads every variable with the reader and default of its row in `SPECS` (config_table.ts, the one
 * place each variable, rule and default is written), checks the rules that join variables, and
 * returns a frozen, typed object, or throws one ConfigError listing every problem.
 */
import { readFileSync } from 'node:fs';
import { load as loadYaml } from 'js-yaml';
import {
  type ChronicleApiVersion,
  CONFIG_VARIABLES,
  type DefaultedSpec,
  parseStartSpec,
  SPECS,
  type Spec,
  type VariableName,
} from './config_table.js';
import { ConfigError } from './errors.js';
import type { LogFormat, LogLevel } from './logger.js';
import { Secret } from './redact.js';

export {
  CHRONICLE_API_VERSIONS,
  type ChronicleApiVersion,
  CONFIG_VARIABLES,
  type ConfigVariable,
  parseStartSpec,
  REQUEST_LIMIT_BYTES,
} from './config_table.js';

const KNOWN = new Set<string>(Object.keys(SPECS));
/** The env/ examples' placeholders (CHANGE_ME, CHANGE-ME, "CHANGE ME ..."): refused, never sent anywhere. */
const PLACEHOLDER = /^CHANGE[ _-]ME\b/i;

/** The typed value of a variable: its reader's type, `| undefined` unless it has a default. */
type ValueOf<S> = S extends DefaultedSpec<infer T> ? T : S extends Spec<infer T> ? T | undefined : never;

export interface Config {
  readonly gcpProjectId: string | undefined;
  readonly gti: {
    readonly apiKey: Secret | undefined;
    readonly secretName: string | undefined;
    readonly secretVersion: string;
    readonly secretManagerEndpoint: string | undefined;
    readonly baseUrl: string;
    readonly filters: string;
    readonly order: 'date+' | 'date-';
    readonly limit: number;
    /** Start of the very first run, in unix seconds, computed at load time. */
    readonly initialStartSeconds: number;
    readonly dateFilter: string;
    /** Pace GTI requests to this many per minute; undefined = no pacing. */
    readonly requestsPerMinute: number | undefined;
    readonly maxPagesWithoutNew: number;
  };
  readonly chronicle: {
    readonly projectId: string | undefined;
    readonly customerId: string | undefined;
    readonly region: string;
    readonly logType: string;
    readonly forwarderId: string | undefined;
    readonly baseUrl: string;
    readonly apiVersion: ChronicleApiVersion;
    readonly concurrency: number;
  };
  readonly entries: {
    readonly namespace: string | undefined;
    readonly useCaseName: string;
    readonly chunkMaxBytes: number;
  };
  /** Indicators as entity context (entities:import) beside the log entries. */
  readonly entityContext: { readonly enabled: boolean; readonly validityDays: number };
  readonly http: { readonly timeoutMs: number; readonly maxAttempts: number; readonly maxRetryMs: number };
  readonly checkpointFile: string;
  readonly outputDir: string;
  readonly pubsub: {
    readonly triggerTopic: string | undefined;
    readonly chunksTopic: string | undefined;
    readonly deadLetterTopic: string | undefined;
    readonly deadLetterSubscription: string | undefined;
    readonly emulatorHost: string | undefined;
  };
  readonly dlq: { readonly maxReplays: number };
  readonly firestore: { readonly database: string; readonly emulatorHost: string | undefined };
  readonly fetcher: { readonly timeBudgetSeconds: number; readonly leaseSeconds: number };
  readonly log: { readonly level: LogLevel; readonly format: LogFormat };
  readonly configFile: string | undefined;
}

export interface LoadConfigOptions {
  /** Path given by --config; CONFIG_FILE in the environment is used otherwise. */
  configFile?: string;
  /** Clock for relative VT_DATE_FILTER values (tests). */
  now?: Date;
}

function readYaml(path: string, problems: string[]): Record<string, string> {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    problems.push(`CONFIG_FILE: cannot read ${path} (${(error as NodeJS.ErrnoException).code ?? 'error'})`);
    return {};
  }
  let doc: unknown;
  try {
    doc = loadYaml(text);
  } catch (error) {
    problems.push(`CONFIG_FILE: ${path} is not valid YAML (${(error as Error).message.split('\n')[0]})`);
    return {};
  }
  if (doc === null || doc === undefined) return {};
  if (typeof doc !== 'object' || Array.isArray(doc)) {
    problems.push(`CONFIG_FILE: ${path} must be a mapping of VARIABLE: value`);
    return {};
  }
  const out: Record<string, string> = {};
  for (const [key, value] of Object.entries(doc as Record<string, unknown>)) {
    if (!KNOWN.has(key)) {
      problems.push(`${key}: unknown key in ${path}`);
      continue;
    }
    if (value === null || value === undefined) continue;
    if (typeof value === 'object') {
      problems.push(`${key}: must be a scalar in ${path}`);
      continue;
    }
    out[key] = String(value);
  }
  return out;
}

/**
 * The raw value of every set variable as loadConfig reads it (the environment over the YAML file),
 * for handing a configuration on as environment variables (`ioc-stream dev`). Throws ConfigError
 * when the file cannot be read or holds unknown keys.
 */
export function configValues(env: NodeJS.ProcessEnv, configFile?: string): Record<string, string> {
  const problems: string[] = [];
  const file = configFile ?? nonEmpty(env.CONFIG_FILE);
  const fromFile = file ? readYaml(file, problems) : {};
  if (problems.length > 0) throw new ConfigError(problems);
  const values: Record<string, string> = {};
  for (const { name } of CONFIG_VARIABLES) {
    const value = nonEmpty(env[name]) ?? nonEmpty(fromFile[name]);
    if (value !== undefined) values[name] = value;
  }
  return values;
}

export function loadConfig(env: NodeJS.ProcessEnv = process.env, options: LoadConfigOptions = {}): Config {
  const problems: string[] = [];
  const configFile = options.configFile ?? nonEmpty(env.CONFIG_FILE);
  const fromFile = configFile ? readYaml(configFile, problems) : {};
  const raw = (name: VariableName): string | undefined => nonEmpty(env[name]) ?? nonEmpty(fromFile[name]);
  /** Variables given a bad value: the rules that join variables skip them (one problem each). */
  const bad = new Set<VariableName>();
  const read = (name: VariableName, spec: Spec<unknown>): unknown => {
    const value = raw(name);
    if (value === undefined) return spec.default;
    if (PLACEHOLDER.test(value)) {
      bad.add(name);
      problems.push(`${name}: still the example placeholder; set a real value or remove it`);
      return spec.default;
    }
    const result = spec.reader.read(value);
    if ('value' in result) return result.value;
    bad.add(name);
    for (const problem of result.problems) problems.push(`${name}: ${problem}`);
    return spec.default;
  };
  const v = <K extends VariableName>(name: K) => read(name, SPECS[name]) as ValueOf<(typeof SPECS)[K]>;

  const gcpProjectId = v('GCP_PROJECT_ID');
  const secretName = v('VT_API_KEY_SECRET_NAME');
  if (
    secretName !== undefined &&
    !secretName.startsWith('projects/') &&
    gcpProjectId === undefined &&
    !bad.has('GCP_PROJECT_ID')
  ) {
    problems.push(
      'GCP_PROJECT_ID: required to read VT_API_KEY_SECRET_NAME (or give the full projects/P/secrets/S name)',
    );
  }
  const dateFilter = v('VT_DATE_FILTER');
  const customerId = v('CHRONICLE_CUSTOMER_ID');
  const chronicleProject = v('CHRONICLE_PROJECT_ID') ?? gcpProjectId;
  if (
    customerId !== undefined &&
    chronicleProject === undefined &&
    !bad.has('CHRONICLE_PROJECT_ID') &&
    !bad.has('GCP_PROJECT_ID')
  ) {
    problems.push('CHRONICLE_PROJECT_ID: required with CHRONICLE_CUSTOMER_ID (or set GCP_PROJECT_ID)');
  }
  const region = v('CHRONICLE_REGION');
  const endpoint = v('SECRET_MANAGER_API_ENDPOINT');

  const config: Config = {
    gcpProjectId,
    gti: {
      apiKey: v('VT_API_KEY'),
      secretName,
      secretVersion: v('VT_API_KEY_SECRET_VERSION'),
      secretManagerEndpoint: endpoint,
      baseUrl: v('VT_API_BASE_URL'),
      filters: v('VT_FILTERS'),
      order: v('VT_ORDER'),
      limit: v('VT_LIMIT'),
      initialStartSeconds: parseStartSpec(dateFilter, options.now ?? new Date()) ?? 0,
      dateFilter,
      requestsPerMinute: v('VT_REQUESTS_PER_MINUTE'),
      maxPagesWithoutNew: v('VT_MAX_PAGES_WITHOUT_NEW'),
    },
    chronicle: {
      projectId: chronicleProject,
      customerId,
      region,
      logType: v('CHRONICLE_LOG_TYPE'),
      forwarderId: v('CHRONICLE_FORWARDER_ID'),
      baseUrl: v('CHRONICLE_API_BASE_URL') ?? `https://${region}-chronicle.googleapis.com`,
      apiVersion: v('CHRONICLE_API_VERSION'),
      concurrency: v('CHRONICLE_CONCURRENCY'),
    },
    entries: {
      namespace: v('NAMESPACE'),
      useCaseName: v('USE_CASE_NAME'),
      chunkMaxBytes: v('CHUNK_MAX_BYTES'),
    },
    entityContext: { enabled: v('CHRONICLE_ENTITY_CONTEXT'), validityDays: v('ENTITY_VALIDITY_DAYS') },
    http: {
      timeoutMs: v('HTTP_TIMEOUT_SECONDS') * 1000,
      maxAttempts: v('RETRY_MAX_ATTEMPTS'),
      maxRetryMs: v('RETRY_MAX_SECONDS') * 1000,
    },
    checkpointFile: v('CHECKPOINT_FILE'),
    outputDir: v('OUTPUT_DIR'),
    pubsub: {
      triggerTopic: v('PUBSUB_TRIGGER_TOPIC'),
      chunksTopic: v('PUBSUB_CHUNKS_TOPIC'),
      deadLetterTopic: v('PUBSUB_DEAD_LETTER_TOPIC'),
      deadLetterSubscription: v('PUBSUB_DEAD_LETTER_SUBSCRIPTION'),
      emulatorHost: v('PUBSUB_EMULATOR_HOST'),
    },
    dlq: { maxReplays: v('DLQ_MAX_REPLAYS') },
    firestore: { database: v('FIRESTORE_DATABASE'), emulatorHost: v('FIRESTORE_EMULATOR_HOST') },
    fetcher: { timeBudgetSeconds: v('FETCH_TIME_BUDGET_SECONDS'), leaseSeconds: v('FETCH_LEASE_SECONDS') },
    log: {
      level: v('LOG_LEVEL'),
      format: v('LOG_FORMAT') ?? (env.K_SERVICE || env.FUNCTION_TARGET ? 'json' : 'text'),
    },
    configFile,
  };
  if (problems.length > 0) throw new ConfigError(problems);
  return deepFreeze(config);
}

/** Throws a ConfigError naming every variable missing for the given use. */
export function requireSettings(
  config: Config,
  use: 'gti' | 'chronicle' | 'cloud-fetcher' | 'cloud-sender',
): void {
  const missing: string[] = [];
  const need = (ok: boolean, message: string) => {
    if (!ok) missing.push(message);
  };
  if (use === 'gti' || use === 'cloud-fetcher') {
    need(
      config.gti.apiKey !== undefined || config.gti.secretName !== undefined,
      'VT_API_KEY or VT_API_KEY_SECRET_NAME: one is required to call GTI',
    );
  }
  if (use === 'chronicle' || use === 'cloud-sender') {
    need(config.chronicle.customerId !== undefined, 'CHRONICLE_CUSTOMER_ID: required to send to Chronicle');
    need(
      config.chronicle.projectId !== undefined,
      'CHRONICLE_PROJECT_ID or GCP_PROJECT_ID: required to send to Chronicle',
    );
  }
  if (use === 'cloud-fetcher' || use === 'cloud-sender') {
    need(config.gcpProjectId !== undefined, 'GCP_PROJECT_ID: required');
    need(config.pubsub.chunksTopic !== undefined, 'PUBSUB_CHUNKS_TOPIC: required');
  }
  if (use === 'cloud-fetcher') {
    need(config.pubsub.triggerTopic !== undefined, 'PUBSUB_TRIGGER_TOPIC: required');
    // The forwarder is sent as a resource name under the instance: never drop it silently.
    need(
      config.chronicle.forwarderId === undefined || config.chronicle.customerId !== undefined,
      'CHRONICLE_CUSTOMER_ID: required with CHRONICLE_FORWARDER_ID (the forwarder resource name is built from it)',
    );
  }
  if (use === 'cloud-sender')
    need(config.pubsub.deadLetterTopic !== undefined, 'PUBSUB_DEAD_LETTER_TOPIC: required');
  if (missing.length > 0) throw new ConfigError(missing);
}

function nonEmpty(value: string | undefined): string | undefined {
  if (value === undefined) return undefined;
  const trimmed = value.trim();
  return trimmed === '' ? undefined : trimmed;
}

function deepFreeze<T>(value: T): T {
  if (value && typeof value === 'object' && !(value instanceof Secret)) {
    for (const inner of Object.values(value)) deepFreeze(inner);
    Object.freeze(value);
  }
  return value;
}
