/**
 * Every configuration variable, once: its meaning, who needs it, which Cloud Function terraform
 * gives it to, how its value is read and its typed default. `loadConfig` (config.ts) is driven by
 * this table; the README table, the env/ examples, terraform's function environments and the
 * local topology are generated from it or checked against it.
 */
import { Secret } from './redact.js';

/** One way of reading a raw value: the typed value, or what is wrong with it (without the name). */
export interface Reader<T> {
  read(raw: string): { readonly value: T } | { readonly problems: readonly string[] };
}

export type FunctionName = 'fetcher' | 'sender';

interface SpecBase {
  readonly description: string;
  /** Required for which use; `undefined` = optional everywhere. */
  readonly required?: 'cloud' | 'chronicle';
  /** The value is never echoed in messages. */
  readonly secret?: boolean;
  /**
   * The functions terraform sets it on: exactly those whose code reads it (functions/fetcher.ts,
   * functions/sender.ts, functions/index.ts and what they call). `[]` = never deployed: local runs,
   * tests, or a value the platform provides another way (the GTI key comes from Secret Manager).
   * terraform/functions.tf and the local topology (sim/local_cloud.ts) both follow this list.
   */
  readonly functions: readonly FunctionName[];
  /** Shown instead of the typed default where the default is derived at load time. */
  readonly shownDefault?: string;
}

export interface Spec<T> extends SpecBase {
  readonly reader: Reader<T>;
  readonly default?: T;
}

export interface DefaultedSpec<T> extends Spec<T> {
  readonly default: T;
}

const ok = <T>(value: T) => ({ value });
const bad = (...problems: string[]) => ({ problems });

export function int(min: number, max: number): Reader<number> {
  return {
    read(raw) {
      if (!/^\d+$/.test(raw)) return bad(`must be a whole number between ${min} and ${max}, got "${raw}"`);
      const value = Number(raw);
      if (value < min || value > max) return bad(`must be between ${min} and ${max}, got ${value}`);
      return ok(value);
    },
  };
}

export function pattern(re: RegExp, what: string): Reader<string> {
  return { read: (raw) => (re.test(raw) ? ok(raw) : bad(`must be ${what}, got "${raw}"`)) };
}

export function oneOf<T extends string>(values: readonly T[]): Reader<T> {
  return {
    read: (raw) =>
      (values as readonly string[]).includes(raw)
        ? ok(raw as T)
        : bad(`must be one of ${values.join(', ')}, got "${raw}"`),
  };
}

/** An http(s) URL; trailing slashes are dropped. */
export function url(): Reader<string> {
  return {
    read(raw) {
      try {
        const parsed = new URL(raw);
        if (parsed.protocol === 'https:' || parsed.protocol === 'http:') return ok(raw.replace(/\/+$/, ''));
      } catch {
        // reported below
      }
      return bad(`must be an http(s) URL, got "${raw}"`);
    },
  };
}

/** `true` or `false` (any case). */
export function bool(): Reader<boolean> {
  return {
    read(raw) {
      const lower = raw.toLowerCase();
      if (lower === 'true') return ok(true);
      if (lower === 'false') return ok(false);
      return bad(`must be true or false, got "${raw}"`);
    },
  };
}

export function text(): Reader<string> {
  return { read: (raw) => ok(raw) };
}

/** Space-separated `name:value` ioc_stream filter terms, without a date term; normalised spacing. */
export function filterTerms(): Reader<string> {
  return {
    read(raw) {
      const terms = raw.split(/\s+/).filter(Boolean);
      const problems = terms.flatMap((term) => {
        if (/^date:/i.test(term))
          return [
            'must not contain a date: term (the checkpoint sets it; use VT_DATE_FILTER for the first start)',
          ];
        return /^[a-z_]+:\S+$/.test(term) ? [] : [`term "${term}" is not of the form name:value`];
      });
      return problems.length > 0 ? bad(...problems) : ok(terms.join(' '));
    },
  };
}

const RELATIVE = /^-(\d+)([mhdw])$/;
const UNIT_SECONDS: Record<string, number> = { m: 60, h: 3600, d: 86400, w: 604800 };

/** Parses a start (`-1h`, `-30m`, `-7d`, `-2w` or ISO 8601) into unix seconds, or undefined when malformed. */
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

/** A start spec, kept as written (it is resolved against the clock when the config is loaded). */
export function startSpec(): Reader<string> {
  return {
    read: (raw) =>
      parseStartSpec(raw, new Date(0)) === undefined
        ? bad(`must be like -1h, -30m, -7d, -2w or an ISO 8601 time, got "${raw}"`)
        : ok(raw),
  };
}

/** A credential: any value without white space, wrapped so that it never prints. */
export function secretValue(): Reader<Secret> {
  return { read: (raw) => (/^\S+$/.test(raw) ? ok(new Secret(raw)) : bad('must not contain whitespace')) };
}

const optional = <T>(spec: Spec<T>): Spec<T> => spec;
const defaulted = <T>(spec: DefaultedSpec<T>): DefaultedSpec<T> => spec;

const BOTH = ['fetcher', 'sender'] as const;
const UUID = /^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$/;
const PROJECT_ID = /^[a-z][a-z0-9-]{4,28}[a-z0-9]$|^[a-z0-9.-]+:[a-z][a-z0-9-]{4,28}[a-z0-9]$/;
const TOPIC_ID = /^[A-Za-z][A-Za-z0-9\-_.~+%]{2,254}$/;
const HOST_PORT = /^[^\s/]+:\d+$/;
/** logs:import's request limit (4 MB: the original script's and fluent-bit's figure; no Google page states it). */
export const REQUEST_LIMIT_BYTES = 4_000_000;
/** The SecOps log type pattern (upper case, digits, underscores). */
export const LOG_TYPE_PATTERN = /^[A-Z][A-Z0-9_]{1,63}$/;
/** API versions that serve logs:import (REST reference: v1alpha and v1beta only). */
export const CHRONICLE_API_VERSIONS = ['v1alpha', 'v1beta'] as const;
export type ChronicleApiVersion = (typeof CHRONICLE_API_VERSIONS)[number];

const topic = (description: string, functions: readonly FunctionName[], required?: 'cloud') =>
  optional({
    description,
    functions,
    ...(required ? { required } : {}),
    reader: pattern(TOPIC_ID, 'a Pub/Sub topic id (3-255 characters, starting with a letter)'),
  });

export const SPECS = {
  GCP_PROJECT_ID: optional({
    description:
      'Project that holds the secret, topics and Firestore checkpoint; also the default Chronicle project.',
    required: 'cloud',
    functions: BOTH,
    reader: pattern(PROJECT_ID, 'a Google Cloud project id (6-30 lowercase letters, digits, hyphens)'),
  }),
  VT_API_KEY: optional({
    description:
      'GTI / VirusTotal API key given directly (local runs, or a platform-injected secret). Takes precedence over the secret.',
    secret: true,
    functions: [],
    reader: secretValue(),
  }),
  VT_API_KEY_SECRET_NAME: optional({
    description:
      'Secret Manager secret id (or full resource name) holding the GTI API key, read when VT_API_KEY is unset.',
    functions: ['fetcher'],
    reader: pattern(
      /^([A-Za-z0-9_-]{1,255}|projects\/[^/]+\/secrets\/[A-Za-z0-9_-]{1,255})$/,
      'a secret id or projects/P/secrets/S',
    ),
  }),
  VT_API_KEY_SECRET_VERSION: defaulted({
    description: 'Version of that secret.',
    functions: ['fetcher'],
    reader: pattern(/^(latest|[1-9]\d*)$/, '"latest" or a version number'),
    default: 'latest',
  }),
  SECRET_MANAGER_API_ENDPOINT: optional({
    description:
      "Secret Manager API endpoint URL for reading the GTI key; unset = Google's. For tests and private endpoints.",
    functions: [],
    reader: url(),
  }),
  VT_API_BASE_URL: defaulted({
    description: 'GTI API base URL.',
    functions: ['fetcher'],
    reader: url(),
    default: 'https://www.virustotal.com/api/v3',
  }),
  VT_FILTERS: defaulted({
    description:
      'Extra ioc_stream filter terms, space separated (e.g. `origin:hunting entity_type:file`). The date term is managed by the checkpoint.',
    functions: ['fetcher'],
    reader: filterTerms(),
    default: '',
  }),
  VT_ORDER: defaulted({
    description:
      '`date+` (oldest first; the checkpoint advances chunk by chunk) or `date-` (the checkpoint advances only when a run completes).',
    functions: ['fetcher'],
    reader: oneOf(['date+', 'date-'] as const),
    default: 'date+' as const,
  }),
  VT_LIMIT: defaulted({
    description: 'Notifications per GTI page, 1..40.',
    functions: ['fetcher'],
    reader: int(1, 40),
    default: 40,
  }),
  VT_REQUESTS_PER_MINUTE: optional({
    description:
      'Paces GTI requests (retries included) to at most this many in any minute, for keys with a per-minute quota (the public API allows 4). Unset: no pacing.',
    functions: ['fetcher'],
    reader: int(1, 100_000),
  }),
  VT_MAX_PAGES_WITHOUT_NEW: defaulted({
    description:
      'A run fails after this many consecutive GTI pages that bring nothing new while GTI still offers more (a paging loop); keep it above the notifications one second can hold divided by VT_LIMIT.',
    functions: ['fetcher'],
    reader: int(1, 100_000),
    default: 100,
  }),
  VT_DATE_FILTER: defaulted({
    description:
      'Where the very first run starts (no checkpoint yet): relative (`-1h`, `-30m`, `-7d`, `-2w`) or an ISO 8601 time. The default reaches back as far as GTI keeps notifications (7 days).',
    functions: ['fetcher'],
    reader: startSpec(),
    default: '-7d',
  }),
  CHRONICLE_PROJECT_ID: optional({
    description: 'Google Cloud project bound to the SecOps instance.',
    // The fetcher builds the forwarder resource name from the instance; the sender the import URL.
    functions: BOTH,
    reader: pattern(PROJECT_ID, 'a Google Cloud project id'),
    shownDefault: 'GCP_PROJECT_ID',
  }),
  CHRONICLE_CUSTOMER_ID: optional({
    description:
      'SecOps instance (customer) id, a UUID. Unset in standalone mode = write to the local sink under out/.',
    required: 'chronicle',
    functions: BOTH,
    reader: pattern(UUID, 'a UUID (the SecOps instance id)'),
  }),
  CHRONICLE_REGION: defaulted({
    description: 'SecOps region (`us`, `eu`, `europe-west2`, `asia-southeast1`, ...).',
    functions: BOTH,
    reader: pattern(/^[a-z]{2,}(-[a-z]+[0-9]+)?$/, 'a SecOps region such as us, eu, europe-west2'),
    default: 'us',
  }),
  CHRONICLE_LOG_TYPE: defaulted({
    description: 'Custom log type the entries are imported as (and the entities are imported from).',
    // The sender imports logs under it; the fetcher writes it into every entities:import body.
    functions: BOTH,
    reader: pattern(LOG_TYPE_PATTERN, 'an upper-case log type like GTI_IOC_STREAM'),
    default: 'GTI_IOC_STREAM',
  }),
  CHRONICLE_FORWARDER_ID: optional({
    description:
      'Optional forwarder UUID attached to every import (as projects/{p}/locations/{r}/instances/{c}/forwarders/{id}).',
    functions: ['fetcher'],
    reader: pattern(UUID, 'a UUID'),
  }),
  CHRONICLE_ENTITY_CONTEXT: defaulted({
    description:
      'Also import each indicator as threat-intelligence entity context (entities:import; needs chronicle.entities.import): `true` or `false`.',
    functions: ['fetcher'],
    reader: bool(),
    default: true,
  }),
  ENTITY_VALIDITY_DAYS: defaulted({
    description:
      'Days an indicator applies in the entity graph from its notification date (1..365): rules match activity inside that window.',
    functions: ['fetcher'],
    reader: int(1, 365),
    default: 30,
  }),
  CHRONICLE_API_BASE_URL: optional({
    description:
      'SecOps API base URL (logs:import, entities:import, runParser, log types, parsers, dashboards).',
    functions: ['sender'],
    reader: url(),
    shownDefault: 'https://{region}-chronicle.googleapis.com',
  }),
  CHRONICLE_API_VERSION: defaulted({
    description:
      'Chronicle API version: `v1alpha` or `v1beta` (logs:import and entities:import exist only under these).',
    functions: ['sender'],
    reader: oneOf(CHRONICLE_API_VERSIONS),
    default: 'v1alpha' as const,
  }),
  CHRONICLE_CONCURRENCY: defaulted({
    description: 'Standalone: chunks sent to Chronicle at once (1..16).',
    functions: [],
    reader: int(1, 16),
    default: 2,
  }),
  NAMESPACE: optional({
    description: 'Optional environment namespace set on every entry.',
    functions: ['fetcher'],
    reader: pattern(/^[A-Za-z0-9_.-]{1,64}$/, 'up to 64 letters, digits, _ . -'),
  }),
  USE_CASE_NAME: defaulted({
    description: 'Label `use_case_name` on every entry; also names the checkpoint.',
    functions: ['fetcher'],
    reader: pattern(/^[A-Za-z0-9_.-]{1,63}$/, 'up to 63 letters, digits, _ . -'),
    default: 'ioc_stream',
  }),
  CHUNK_MAX_BYTES: defaulted({
    description: `Maximum bytes of one serialized logs:import or entities:import request (10000..${REQUEST_LIMIT_BYTES}).`,
    functions: ['fetcher'],
    reader: int(10_000, REQUEST_LIMIT_BYTES),
    default: 3_900_000,
  }),
  CHECKPOINT_FILE: defaulted({
    description: 'Standalone: checkpoint file path.',
    functions: [],
    reader: text(),
    default: '.ioc-stream/checkpoint.json',
  }),
  OUTPUT_DIR: defaulted({
    description: 'Standalone without Chronicle: where the local sink writes.',
    functions: [],
    reader: text(),
    default: 'out',
  }),
  HTTP_TIMEOUT_SECONDS: defaulted({
    description: 'Timeout of one HTTP request to GTI or Chronicle.',
    functions: BOTH,
    reader: int(1, 600),
    default: 60,
  }),
  RETRY_MAX_ATTEMPTS: defaulted({
    description:
      'Attempts per HTTP request before giving up (1..20). The cloud sender does not retry in-process (Pub/Sub redelivers).',
    functions: ['fetcher'],
    reader: int(1, 20),
    default: 6,
  }),
  RETRY_MAX_SECONDS: defaulted({
    description:
      'Total time one HTTP request may spend retrying (the cloud sender does not retry in-process).',
    functions: ['fetcher'],
    reader: int(1, 3600),
    default: 120,
  }),
  PUBSUB_TRIGGER_TOPIC: topic(
    'Topic id the scheduler (and continuations) publish fetch triggers to.',
    ['fetcher'],
    'cloud',
  ),
  PUBSUB_CHUNKS_TOPIC: topic(
    'Topic id the fetcher publishes chunks to (the sender also republishes split halves there).',
    BOTH,
    'cloud',
  ),
  PUBSUB_DEAD_LETTER_TOPIC: topic('Topic id for chunks that cannot be sent.', ['sender'], 'cloud'),
  PUBSUB_DEAD_LETTER_SUBSCRIPTION: optional({
    description: 'Pull subscription on the dead-letter topic (the `dlq` commands).',
    functions: [],
    reader: pattern(TOPIC_ID, 'a Pub/Sub subscription id'),
  }),
  DLQ_MAX_REPLAYS: defaulted({
    description: 'A dead-lettered message replayed this many times is left in place and reported.',
    functions: [],
    reader: int(1, 1000),
    default: 5,
  }),
  FIRESTORE_DATABASE: defaulted({
    description: 'Firestore database holding the checkpoint and lease.',
    functions: ['fetcher'],
    reader: pattern(/^(\(default\)|[a-z][a-z0-9-]{2,62})$/, '(default) or a database id'),
    default: '(default)',
  }),
  FETCH_TIME_BUDGET_SECONDS: defaulted({
    description:
      'Fetcher: stop at a page boundary and continue in a new invocation after this long (2..3600; keep below the function timeout).',
    functions: ['fetcher'],
    reader: int(2, 3600),
    default: 480,
  }),
  FETCH_LEASE_SECONDS: defaulted({
    description: 'Fetcher lease length; renewed while running, expires on its own if the holder dies.',
    functions: ['fetcher'],
    reader: int(10, 3600),
    default: 120,
  }),
  PUBSUB_EMULATOR_HOST: optional({
    description: 'Use the Pub/Sub emulator at host:port (honoured by the client library).',
    functions: [],
    reader: pattern(HOST_PORT, 'host:port'),
  }),
  FIRESTORE_EMULATOR_HOST: optional({
    description: 'Use the Firestore emulator at host:port (honoured by the client library).',
    functions: [],
    reader: pattern(HOST_PORT, 'host:port'),
  }),
  LOG_LEVEL: defaulted({
    description: '`debug`, `info`, `warn` or `error`.',
    functions: BOTH,
    reader: oneOf(['debug', 'info', 'warn', 'error'] as const),
    default: 'info' as const,
  }),
  LOG_FORMAT: optional({
    description: '`json` (Cloud Logging) or `text`. Default: json on Cloud Functions, text elsewhere.',
    functions: [],
    reader: oneOf(['json', 'text'] as const),
  }),
  CONFIG_FILE: optional({
    description: 'Optional YAML file with any of these keys; environment variables override it.',
    functions: [],
    reader: text(),
  }),
} as const;

export type VariableName = keyof typeof SPECS;

/** A variable as documented (README table, env examples, terraform). */
export interface ConfigVariable {
  readonly name: string;
  readonly description: string;
  /** Default as shown to users; undefined = no default (optional or required, see `required`). */
  readonly default?: string;
  readonly required?: 'cloud' | 'chronicle';
  readonly secret?: boolean;
  readonly functions: readonly FunctionName[];
}

export const CONFIG_VARIABLES: readonly ConfigVariable[] = (
  Object.entries(SPECS) as [VariableName, Spec<unknown>][]
).map(([name, spec]) => {
  const shown = spec.shownDefault ?? (spec.default === undefined ? undefined : String(spec.default));
  return {
    name,
    description: spec.description,
    functions: spec.functions,
    ...(shown === undefined ? {} : { default: shown }),
    ...(spec.required ? { required: spec.required } : {}),
    ...(spec.secret ? { secret: true } : {}),
  };
});
