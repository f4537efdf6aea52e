/**
 * Configuration: the only module that reads the environment.
 *
 * `CONFIG_VARIABLES` is the source of truth for every variable (the README table, the env/ examples
 * and the terraform function environment are checked against it). `loadConfig(env)` merges an
 * optional YAML file (CONFIG_FILE / --config) under the environment, validates everything at once
 * and returns a frozen, typed object, or throws one ConfigError listing every problem.
 */
import { readFileSync } from 'node:fs';
import { load as loadYaml } from 'js-yaml';
import { ConfigError } from './errors.js';
import type { LogFormat, LogLevel } from './logger.js';
import { Secret } from './redact.js';

export interface ConfigVariable {
  readonly name: string;
  readonly description: string;
  /** Default as shown to users; undefined = no default (optional or required, see `required`). */
  readonly default?: string;
  /** Required for which use; `undefined` = optional everywhere. */
  readonly required?: 'cloud' | 'chronicle';
  readonly secret?: boolean;
  /** Set on the Cloud Functions by terraform (`fetcher`, `sender`, both) or local only. */
  readonly functions: readonly ('fetcher' | 'sender')[];
}

const BOTH = ['fetcher', 'sender'] as const;

export const CONFIG_VARIABLES: readonly ConfigVariable[] = [
  {
    name: 'GCP_PROJECT_ID',
    description:
      'Project that holds the secret, topics and Firestore checkpoint; also the default Chronicle project.',
    required: 'cloud',
    functions: BOTH,
  },
  {
    name: 'VT_API_KEY',
    description:
      'GTI / VirusTotal API key given directly (local runs, or a platform-injected secret). Takes precedence over the secret.',
    secret: true,
    functions: [],
  },
  {
    name: 'VT_API_KEY_SECRET_NAME',
    description:
      'Secret Manager secret id (or full resource name) holding the GTI API key, read when VT_API_KEY is unset.',
    functions: ['fetcher'],
  },
  {
    name: 'VT_API_KEY_SECRET_VERSION',
    description: 'Version of that secret.',
    default: 'latest',
    functions: ['fetcher'],
  },
  {
    name: 'SECRET_MANAGER_API_ENDPOINT',
    description:
      "Secret Manager API endpoint URL for reading the GTI key; unset = Google's. For tests and private endpoints.",
    functions: [],
  },
  {
    name: 'VT_API_BASE_URL',
    description: 'GTI API base URL.',
    default: 'https://www.virustotal.com/api/v3',
    functions: ['fetcher'],
  },
  {
    name: 'VT_FILTERS',
    description:
      'Extra ioc_stream filter terms, space separated (e.g. `origin:hunting entity_type:file`). The date term is managed by the checkpoint.',
    default: '',
    functions: ['fetcher'],
  },
  {
    name: 'VT_ORDER',
    description:
      '`date+` (oldest first; the checkpoint advances chunk by chunk) or `date-` (the checkpoint advances only when a run completes).',
    default: 'date+',
    functions: ['fetcher'],
  },
  {
    name: 'VT_LIMIT',
    description: 'Notifications per GTI page, 1..40.',
    default: '40',
    functions: ['fetcher'],
  },
  {
    name: 'VT_DATE_FILTER',
    description:
      'Where the very first run starts (no checkpoint yet): relative (`-1h`, `-30m`, `-7d`, `-2w`) or an ISO 8601 time.',
    default: '-1h',
    functions: ['fetcher'],
  },
  {
    name: 'CHRONICLE_PROJECT_ID',
    description: 'Google Cloud project bound to the SecOps instance.',
    default: 'GCP_PROJECT_ID',
    functions: ['sender'],
  },
  {
    name: 'CHRONICLE_CUSTOMER_ID',
    description:
      'SecOps instance (customer) id, a UUID. Unset in standalone mode = write to the local sink under out/.',
    required: 'chronicle',
    functions: ['sender'],
  },
  {
    name: 'CHRONICLE_REGION',
    description: 'SecOps region (`us`, `eu`, `europe-west2`, `asia-southeast1`, ...).',
    default: 'us',
    functions: ['sender'],
  },
  {
    name: 'CHRONICLE_LOG_TYPE',
    description: 'Custom log type the entries are imported as.',
    default: 'GTI_IOC_STREAM',
    functions: BOTH,
  },
  {
    name: 'CHRONICLE_FORWARDER_ID',
    description: 'Optional forwarder UUID attached to every import.',
    functions: BOTH,
  },
  {
    name: 'CHRONICLE_API_BASE_URL',
    description: 'logs:import base URL.',
    default: 'https://{region}-chronicle.googleapis.com',
    functions: ['sender'],
  },
  {
    name: 'CHRONICLE_API_VERSION',
    description: 'Chronicle API version.',
    default: 'v1alpha',
    functions: ['sender'],
  },
  {
    name: 'CHRONICLE_CONCURRENCY',
    description: 'Standalone: chunks sent to Chronicle at once (1..16).',
    default: '2',
    functions: [],
  },
  { name: 'NAMESPACE', description: 'Optional environment namespace set on every entry.', functions: BOTH },
  {
    name: 'USE_CASE_NAME',
    description: 'Label `use_case_name` on every entry; also names the checkpoint.',
    default: 'ioc_stream',
    functions: BOTH,
  },
  {
    name: 'CHUNK_MAX_BYTES',
    description: 'Maximum bytes of one serialized logs:import request (10000..4000000).',
    default: '3900000',
    functions: BOTH,
  },
  {
    name: 'CHECKPOINT_FILE',
    description: 'Standalone: checkpoint file path.',
    default: '.ioc-stream/checkpoint.json',
    functions: [],
  },
  {
    name: 'OUTPUT_DIR',
    description: 'Standalone without Chronicle: where the local sink writes.',
    default: 'out',
    functions: [],
  },
  {
    name: 'HTTP_TIMEOUT_SECONDS',
    description: 'Timeout of one HTTP request to GTI or Chronicle.',
    default: '60',
    functions: BOTH,
  },
  {
    name: 'RETRY_MAX_ATTEMPTS',
    description: 'Attempts per HTTP request before giving up (1..20).',
    default: '6',
    functions: BOTH,
  },
  {
    name: 'RETRY_MAX_SECONDS',
    description: 'Total time one HTTP request may spend retrying.',
    default: '120',
    functions: BOTH,
  },
  {
    name: 'PUBSUB_TRIGGER_TOPIC',
    description: 'Topic id the scheduler (and continuations) publish fetch triggers to.',
    required: 'cloud',
    functions: ['fetcher'],
  },
  {
    name: 'PUBSUB_CHUNKS_TOPIC',
    description: 'Topic id the fetcher publishes chunks to (the sender also republishes split halves there).',
    required: 'cloud',
    functions: BOTH,
  },
  {
    name: 'PUBSUB_DEAD_LETTER_TOPIC',
    description: 'Topic id for chunks that cannot be sent.',
    required: 'cloud',
    functions: ['sender'],
  },
  {
    name: 'PUBSUB_DEAD_LETTER_SUBSCRIPTION',
    description: 'Pull subscription on the dead-letter topic (the `dlq` commands).',
    functions: [],
  },
  {
    name: 'DLQ_MAX_REPLAYS',
    description: 'A dead-lettered message replayed this many times is left in place and reported.',
    default: '5',
    functions: [],
  },
  {
    name: 'FIRESTORE_DATABASE',
    description: 'Firestore database holding the checkpoint and lease.',
    default: '(default)',
    functions: ['fetcher'],
  },
  {
    name: 'FETCH_TIME_BUDGET_SECONDS',
    description:
      'Fetcher: stop at a page boundary and continue in a new invocation after this long (2..3600; keep below the function timeout).',
    default: '480',
    functions: ['fetcher'],
  },
  {
    name: 'FETCH_LEASE_SECONDS',
    description: 'Fetcher lease length; renewed while running, expires on its own if the holder dies.',
    default: '120',
    functions: ['fetcher'],
  },
  {
    name: 'PUBSUB_EMULATOR_HOST',
    description: 'Use the Pub/Sub emulator at host:port (honoured by the client library).',
    functions: [],
  },
  {
    name: 'FIRESTORE_EMULATOR_HOST',
    description: 'Use the Firestore emulator at host:port (honoured by the client library).',
    functions: [],
  },
  { name: 'LOG_LEVEL', description: '`debug`, `info`, `warn` or `error`.', default: 'info', functions: BOTH },
  {
    name: 'LOG_FORMAT',
    description: '`json` (Cloud Logging) or `text`. Default: json on Cloud Functions, text elsewhere.',
    functions: [],
  },
  {
    name: 'CONFIG_FILE',
    description: 'Optional YAML file with any of these keys; environment variables override it.',
    functions: [],
  },
];

const KNOWN = new Set(CONFIG_VARIABLES.map((v) => v.name));

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
  };
  readonly chronicle: {
    readonly projectId: string | undefined;
    readonly customerId: string | undefined;
    readonly region: string;
    readonly logType: string;
    readonly forwarderId: string | undefined;
    readonly baseUrl: string;
    readonly apiVersion: string;
    readonly concurrency: number;
  };
  readonly entries: {
    readonly namespace: string | undefined;
    readonly useCaseName: string;
    readonly chunkMaxBytes: number;
  };
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

const UUID = /^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$/;
const REGION = /^[a-z]{2,}(-[a-z]+[0-9]+)?$/;
const PROJECT_ID = /^[a-z][a-z0-9-]{4,28}[a-z0-9]$|^[a-z0-9.-]+:[a-z][a-z0-9-]{4,28}[a-z0-9]$/;
const TOPIC_ID = /^[A-Za-z][A-Za-z0-9\-_.~+%]{2,254}$/;
export const LOG_TYPE = /^[A-Z][A-Z0-9_]{1,63}$/;
const RELATIVE = /^-(\d+)([mhdw])$/;
const UNIT_SECONDS: Record<string, number> = { m: 60, h: 3600, d: 86400, w: 604800 };
export const REQUEST_LIMIT_BYTES = 4_000_000;

/** Parses VT_DATE_FILTER into unix seconds, or returns undefined when malformed. */
export function parseStartSpec(spec: string, now: Date): number | undefined {
  const rel = RELATIVE.exec(spec);
  if (rel) {
    const amount = Number(rel[1]);
    const unit = UNIT_SECONDS[rel[2] ?? ''];
    if (unit === undefined || amount <= 0) return undefined;
    return Math.floor(now.getTime() / 1000) - amount * unit;
  }
  if (/^\d{4}-\d{2}-\d{2}(T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})?)?$/.test(spec)) {
    const ms = Date.parse(spec);
    if (Number.isNaN(ms)) return undefined;
    return Math.floor(ms / 1000);
  }
  return undefined;
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

export function loadConfig(env: NodeJS.ProcessEnv = process.env, options: LoadConfigOptions = {}): Config {
  const problems: string[] = [];
  const configFile = options.configFile ?? nonEmpty(env.CONFIG_FILE);
  const fromFile = configFile ? readYaml(configFile, problems) : {};
  const get = (name: string): string | undefined => {
    const fromEnv = nonEmpty(env[name]);
    return fromEnv ?? nonEmpty(fromFile[name]);
  };
  const int = (name: string, fallback: number, min: number, max: number): number => {
    const raw = get(name);
    if (raw === undefined) return fallback;
    if (!/^\d+$/.test(raw)) {
      problems.push(`${name}: must be a whole number between ${min} and ${max}, got "${raw}"`);
      return fallback;
    }
    const value = Number(raw);
    if (value < min || value > max) problems.push(`${name}: must be between ${min} and ${max}, got ${value}`);
    return value;
  };
  const match = (name: string, pattern: RegExp, what: string): string | undefined => {
    const raw = get(name);
    if (raw !== undefined && !pattern.test(raw)) problems.push(`${name}: must be ${what}, got "${raw}"`);
    return raw;
  };
  const url = (name: string, fallback: string): string => {
    const raw = get(name) ?? fallback;
    try {
      const parsed = new URL(raw);
      if (parsed.protocol !== 'https:' && parsed.protocol !== 'http:') throw new Error('scheme');
    } catch {
      problems.push(`${name}: must be an http(s) URL, got "${raw}"`);
    }
    return raw.replace(/\/+$/, '');
  };
  const oneOf = <T extends string>(name: string, allowed: readonly T[], fallback: T): T => {
    const raw = get(name);
    if (raw === undefined) return fallback;
    if (!(allowed as readonly string[]).includes(raw)) {
      problems.push(`${name}: must be one of ${allowed.join(', ')}, got "${raw}"`);
      return fallback;
    }
    return raw as T;
  };

  const gcpProjectId = match(
    'GCP_PROJECT_ID',
    PROJECT_ID,
    'a Google Cloud project id (6-30 lowercase letters, digits, hyphens)',
  );
  const apiKeyRaw = get('VT_API_KEY');
  if (apiKeyRaw !== undefined && !/^\S+$/.test(apiKeyRaw))
    problems.push('VT_API_KEY: must not contain whitespace');
  const secretName = get('VT_API_KEY_SECRET_NAME');
  if (
    secretName !== undefined &&
    !/^([A-Za-z0-9_-]{1,255}|projects\/[^/]+\/secrets\/[A-Za-z0-9_-]{1,255})$/.test(secretName)
  ) {
    problems.push(`VT_API_KEY_SECRET_NAME: must be a secret id or projects/P/secrets/S, got "${secretName}"`);
  }
  if (secretName !== undefined && !secretName.startsWith('projects/') && gcpProjectId === undefined) {
    problems.push(
      'GCP_PROJECT_ID: required to read VT_API_KEY_SECRET_NAME (or give the full projects/P/secrets/S name)',
    );
  }
  const secretVersion =
    match('VT_API_KEY_SECRET_VERSION', /^(latest|[1-9]\d*)$/, '"latest" or a version number') ?? 'latest';
  const filters = get('VT_FILTERS') ?? '';
  for (const term of filters.split(/\s+/).filter(Boolean)) {
    if (/^date:/i.test(term))
      problems.push(
        'VT_FILTERS: must not contain a date: term (the checkpoint sets it; use VT_DATE_FILTER for the first start)',
      );
    else if (!/^[a-z_]+:\S+$/.test(term))
      problems.push(`VT_FILTERS: term "${term}" is not of the form name:value`);
  }
  const order = oneOf('VT_ORDER', ['date+', 'date-'] as const, 'date+');
  const limit = int('VT_LIMIT', 40, 1, 40);
  const dateFilter = get('VT_DATE_FILTER') ?? '-1h';
  const initialStartSeconds = parseStartSpec(dateFilter, options.now ?? new Date());
  if (initialStartSeconds === undefined) {
    problems.push(
      `VT_DATE_FILTER: must be like -1h, -30m, -7d, -2w or an ISO 8601 time, got "${dateFilter}"`,
    );
  }

  const region = match('CHRONICLE_REGION', REGION, 'a SecOps region such as us, eu, europe-west2') ?? 'us';
  const customerId = match('CHRONICLE_CUSTOMER_ID', UUID, 'a UUID (the SecOps instance id)');
  const forwarderId = match('CHRONICLE_FORWARDER_ID', UUID, 'a UUID');
  const chronicleProject =
    match('CHRONICLE_PROJECT_ID', PROJECT_ID, 'a Google Cloud project id') ?? gcpProjectId;
  if (customerId !== undefined && chronicleProject === undefined) {
    problems.push('CHRONICLE_PROJECT_ID: required with CHRONICLE_CUSTOMER_ID (or set GCP_PROJECT_ID)');
  }
  const logType =
    match('CHRONICLE_LOG_TYPE', LOG_TYPE, 'an upper-case log type like GTI_IOC_STREAM') ?? 'GTI_IOC_STREAM';
  const chronicleBase = url('CHRONICLE_API_BASE_URL', `https://${region}-chronicle.googleapis.com`);
  const apiVersion =
    match('CHRONICLE_API_VERSION', /^v1(alpha|beta)?$/, 'v1alpha, v1beta or v1') ?? 'v1alpha';

  const namespace = match('NAMESPACE', /^[A-Za-z0-9_.-]{1,64}$/, 'up to 64 letters, digits, _ . -');
  const useCaseName =
    match('USE_CASE_NAME', /^[A-Za-z0-9_.-]{1,63}$/, 'up to 63 letters, digits, _ . -') ?? 'ioc_stream';
  const chunkMaxBytes = int('CHUNK_MAX_BYTES', 3_900_000, 10_000, REQUEST_LIMIT_BYTES);

  const topic = (name: string) =>
    match(name, TOPIC_ID, 'a Pub/Sub topic id (3-255 characters, starting with a letter)');
  const emulator = (name: string) => match(name, /^[^\s/]+:\d+$/, 'host:port');

  const timeoutSeconds = int('HTTP_TIMEOUT_SECONDS', 60, 1, 600);
  const budget = int('FETCH_TIME_BUDGET_SECONDS', 480, 2, 3600);

  const logFormatDefault: LogFormat = env.K_SERVICE || env.FUNCTION_TARGET ? 'json' : 'text';

  const config: Config = {
    gcpProjectId,
    gti: {
      apiKey: apiKeyRaw === undefined ? undefined : new Secret(apiKeyRaw),
      secretName,
      secretVersion,
      secretManagerEndpoint:
        get('SECRET_MANAGER_API_ENDPOINT') === undefined ? undefined : url('SECRET_MANAGER_API_ENDPOINT', ''),
      baseUrl: url('VT_API_BASE_URL', 'https://www.virustotal.com/api/v3'),
      filters: filters.trim().split(/\s+/).filter(Boolean).join(' '),
      order,
      limit,
      initialStartSeconds: initialStartSeconds ?? 0,
      dateFilter,
    },
    chronicle: {
      projectId: chronicleProject,
      customerId,
      region,
      logType,
      forwarderId,
      baseUrl: chronicleBase,
      apiVersion,
      concurrency: int('CHRONICLE_CONCURRENCY', 2, 1, 16),
    },
    entries: { namespace, useCaseName, chunkMaxBytes },
    http: {
      timeoutMs: timeoutSeconds * 1000,
      maxAttempts: int('RETRY_MAX_ATTEMPTS', 6, 1, 20),
      maxRetryMs: int('RETRY_MAX_SECONDS', 120, 1, 3600) * 1000,
    },
    checkpointFile: get('CHECKPOINT_FILE') ?? '.ioc-stream/checkpoint.json',
    outputDir: get('OUTPUT_DIR') ?? 'out',
    pubsub: {
      triggerTopic: topic('PUBSUB_TRIGGER_TOPIC'),
      chunksTopic: topic('PUBSUB_CHUNKS_TOPIC'),
      deadLetterTopic: topic('PUBSUB_DEAD_LETTER_TOPIC'),
      deadLetterSubscription: match('PUBSUB_DEAD_LETTER_SUBSCRIPTION', TOPIC_ID, 'a Pub/Sub subscription id'),
      emulatorHost: emulator('PUBSUB_EMULATOR_HOST'),
    },
    dlq: { maxReplays: int('DLQ_MAX_REPLAYS', 5, 1, 1000) },
    firestore: {
      database:
        match('FIRESTORE_DATABASE', /^(\(default\)|[a-z][a-z0-9-]{2,62})$/, '(default) or a database id') ??
        '(default)',
      emulatorHost: emulator('FIRESTORE_EMULATOR_HOST'),
    },
    fetcher: { timeBudgetSeconds: budget, leaseSeconds: int('FETCH_LEASE_SECONDS', 120, 10, 3600) },
    log: {
      level: oneOf('LOG_LEVEL', ['debug', 'info', 'warn', 'error'] as const, 'info'),
      format: oneOf('LOG_FORMAT', ['json', 'text'] as const, logFormatDefault),
    },
    configFile,
  };
  if (problems.length > 0) throw new ConfigError(problems);
  return deepFreeze(config);
}

/** Throws a ConfigError naming every variable missing for the given use. */
export function requireSettings(
  config: Config,
  use: 'gti' | 'chronicle' | 'cloud-fetcher' | 'cloud-sender' | 'dlq',
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
  if (use === 'cloud-fetcher' || use === 'cloud-sender' || use === 'dlq') {
    need(config.gcpProjectId !== undefined, 'GCP_PROJECT_ID: required');
    need(config.pubsub.chunksTopic !== undefined, 'PUBSUB_CHUNKS_TOPIC: required');
  }
  if (use === 'cloud-fetcher')
    need(config.pubsub.triggerTopic !== undefined, 'PUBSUB_TRIGGER_TOPIC: required');
  if (use === 'cloud-sender')
    need(config.pubsub.deadLetterTopic !== undefined, 'PUBSUB_DEAD_LETTER_TOPIC: required');
  if (use === 'dlq')
    need(
      config.pubsub.deadLetterSubscription !== undefined,
      'PUBSUB_DEAD_LETTER_SUBSCRIPTION: required (or --subscription)',
    );
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
