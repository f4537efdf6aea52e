/**
 * `ioc-stream doctor`'s checks: the setup the pipeline needs, in the order it needs it, each with
 * what it found and how to fix it. Read-only: nothing is written anywhere (which is why the import
 * permission is reported as unchecked). The calls are the ones the pipeline itself makes (the same
 * clients, base URLs, API version and credentials), so a pass means the pipeline's call works.
 *
 *   config     the configuration loads and names a GTI key and a SecOps instance (and, for the
 *              cloud configuration, the topics)
 *   gti        one `GET /ioc_stream?limit=1` with the key
 *   log_type   `GET …/logTypes/{CHRONICLE_LOG_TYPE}` on the SecOps instance
 *   parser     `GET …/logTypes/{CHRONICLE_LOG_TYPE}/parsers`: one in state ACTIVE
 *   cloud only: secret (read with your credentials), each topic (exists, has a subscription), the
 *              dead-letter subscription, Firestore (the stream's checkpoint document is readable)
 */
import { readFileSync } from 'node:fs';
import {
  createChronicleAdmin,
  isNotFound,
  PARSER_STATE_ACTIVE,
  type ParserResource,
} from '../shared/chronicle/api.js';
import { type AccessTokenProvider, createAccessTokenProvider } from '../shared/chronicle/auth.js';
import { type ChronicleTarget, chronicleTarget, instanceName } from '../shared/chronicle/resources.js';
import { readStreamCheckpoint, STATE_COLLECTION } from '../shared/cloud/firestore_state.js';
import { createPubSubClient, pubSubSettings } from '../shared/cloud/pubsub.js';
import { type Config, requireSettings } from '../shared/core/config.js';
import {
  ChronicleError,
  ConfigError,
  GRPC,
  GtiApiError,
  grpcCode,
  SecretError,
} from '../shared/core/errors.js';
import { redact } from '../shared/core/redact.js';
import type { RetryPolicy } from '../shared/core/retry.js';
import { createApiKeyProvider, secretResourceName } from '../shared/gti/api_key.js';
import { createGtiClient, gtiDate } from '../shared/gti/client.js';
import { readItem } from '../shared/gti/page_item.js';
import { commandConfig } from './options.js';

export type CheckStatus = 'pass' | 'fail' | 'warn' | 'skipped' | 'unchecked';

export interface CheckResult {
  readonly id: string;
  readonly title: string;
  readonly status: CheckStatus;
  readonly detail: string;
  readonly fix?: string;
}

export type DoctorMode = 'standalone' | 'cloud';

export interface DoctorReport {
  /** False when any check failed. */
  readonly ok: boolean;
  readonly mode: DoctorMode | undefined;
  readonly checks: readonly CheckResult[];
}

export interface DoctorOptions {
  readonly env: NodeJS.ProcessEnv;
  readonly configFile: string | undefined;
  /** The parser the active one is compared with (when readable). */
  readonly parserFile: string;
  /** Bound on each check. */
  readonly timeoutMs: number;
  /** Called as each check finishes (the command prints as it goes). */
  readonly onCheck?: (check: CheckResult) => void;
}

export const CUSTOM_LOG_TYPE_DOC =
  'https://cloud.google.com/chronicle/docs/ingestion/default-parsers/custom-application-access';

/** The cloud configuration is the one naming any of the pipeline's topics. */
export function doctorMode(config: Config): DoctorMode {
  const { triggerTopic, chunksTopic, deadLetterTopic } = config.pubsub;
  return (triggerTopic ?? chunksTopic ?? deadLetterTopic) ? 'cloud' : 'standalone';
}

class CheckTimeout extends Error {
  override name = 'CheckTimeout';
}

async function bounded<T>(work: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new CheckTimeout(`${what}: no answer within ${ms / 1000} s`)), ms);
  });
  work.catch(() => undefined); // a late failure after the timeout must not go unhandled
  try {
    return await Promise.race([work, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/** One line, no secrets, bounded: for an error detail. */
function say(error: unknown): string {
  const text = error instanceof Error ? error.message : String(error);
  const line = redact(text.split('\n')[0] ?? '');
  return line.length > 300 ? `${line.slice(0, 300)}…` : line;
}

const CREDENTIALS_FIX =
  'Run `gcloud auth application-default login` (and `gcloud auth application-default set-quota-project PROJECT`), or run where a service account is available.';

function chronicleFix(error: unknown, target: ChronicleTarget, notFound: string): string {
  if (isNotFound(error)) return notFound;
  if (error instanceof ChronicleError && error.status === 401) return CREDENTIALS_FIX;
  if (error instanceof ChronicleError && error.status === 403) {
    return `Your credentials may not read the SecOps instance ${instanceName(target)}: grant your account a Chronicle API role on project ${target.projectId} (e.g. Chronicle API Viewer, roles/chronicle.viewer), or check CHRONICLE_PROJECT_ID.`;
  }
  if (error instanceof ChronicleError && error.code === 'CHRONICLE_PERMANENT' && error.status === undefined) {
    return CREDENTIALS_FIX; // no credentials at all
  }
  return `Check CHRONICLE_REGION (${target.region}), CHRONICLE_API_BASE_URL (${target.baseUrl}) and the network, then run doctor again.`;
}

export async function runDoctor(options: DoctorOptions): Promise<DoctorReport> {
  const checks: CheckResult[] = [];
  const add = (check: CheckResult): CheckResult => {
    checks.push(check);
    options.onCheck?.(check);
    return check;
  };
  const report = (mode: DoctorMode | undefined): DoctorReport => ({
    ok: !checks.some((c) => c.status === 'fail'),
    mode,
    checks,
  });

  // 1. Configuration.
  let config: Config;
  let mode: DoctorMode;
  try {
    config = commandConfig(options.env, options.configFile);
    mode = doctorMode(config);
    requireSettings(config, 'gti');
    requireSettings(config, 'chronicle');
    if (mode === 'cloud') {
      requireSettings(config, 'cloud-fetcher');
      requireSettings(config, 'cloud-sender');
    }
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    add({
      id: 'config',
      title: 'Configuration',
      status: 'fail',
      detail: error.problems.join('; '),
      fix: 'Set the variables named above (environment or --config FILE; README "Configuration"). The customer id, region and project of your SecOps instance: README "Prerequisites".',
    });
    return report(undefined);
  }
  const target = chronicleTarget(config);
  const keySource = config.gti.apiKey !== undefined ? 'VT_API_KEY' : `secret ${secretResourceName(config)}`;
  add({
    id: 'config',
    title: 'Configuration',
    status: 'pass',
    detail:
      `${mode} configuration${config.configFile ? ` (${config.configFile})` : ''}; GTI key from ${keySource}; ` +
      `SecOps instance ${instanceName(target)}, log type ${target.logType}; first run (no checkpoint yet) ` +
      `starts at ${new Date(config.gti.initialStartSeconds * 1000).toISOString()} (VT_DATE_FILTER=${config.gti.dateFilter})`,
  });
  const getToken = createAccessTokenProvider(target.projectId);

  // 2. GTI key: one ioc_stream request, limit=1.
  add(await checkGti(config, options.timeoutMs));

  // 3, 4. SecOps instance and log type; an active parser.
  const logType = await checkLogType(config, target, getToken, options.timeoutMs);
  add(logType);
  if (logType.status === 'pass') {
    add(await checkParser(config, target, getToken, options.parserFile, options.timeoutMs));
  } else {
    add({
      id: 'parser',
      title: 'Active parser',
      status: 'skipped',
      detail: `needs the log type ${target.logType}`,
    });
  }

  // 5. The cloud resources.
  if (mode === 'cloud') {
    add(await checkSecret(config, options.timeoutMs));
    for (const check of await checkPubSub(config, options.timeoutMs)) add(check);
    add(await checkFirestore(config, options.timeoutMs));
  }

  // What cannot be checked without writing, or with the operator's credentials.
  add({
    id: 'import_permission',
    title: 'Import permission',
    status: 'unchecked',
    detail:
      `${config.entityContext.enabled ? 'chronicle.logs.import and chronicle.entities.import (CHRONICLE_ENTITY_CONTEXT)' : 'chronicle.logs.import'} ` +
      `on project ${target.projectId} for the identity that imports ` +
      `(${mode === 'cloud' ? "the sender's service account" : 'your credentials'}): only an import can test it, and doctor writes nothing.`,
    fix: 'After the first run, verify the first data (README "Verify the first data").',
  });
  if (mode === 'cloud') {
    add({
      id: 'function_identities',
      title: "Functions' own permissions",
      status: 'unchecked',
      detail:
        "doctor ran with your credentials; the functions' service accounts (secret accessor, publisher, Firestore, import) are granted by terraform and show in the functions' logs.",
    });
    add({
      id: 'schedule',
      title: 'Schedule',
      status: 'unchecked',
      detail: 'doctor does not read Cloud Scheduler; the deployed schedule starts paused.',
      fix: 'When every check above passes, resume it with the command `terraform output` printed (README "Deploy").',
    });
  }
  return report(mode);
}

async function checkGti(config: Config, timeoutMs: number): Promise<CheckResult> {
  const base = { id: 'gti', title: 'GTI API key' } as const;
  // One request: the doctor reports the first answer rather than retrying for minutes.
  const retry: RetryPolicy = { maxAttempts: 1, maxTotalMs: timeoutMs, baseDelayMs: 0, maxDelayMs: 0 };
  const gti = createGtiClient({
    baseUrl: config.gti.baseUrl,
    apiKey: createApiKeyProvider(config),
    timeoutMs: Math.min(timeoutMs, config.http.timeoutMs),
    retry,
  });
  const filter = config.gti.filters;
  let page: Awaited<ReturnType<typeof gti.fetchPage>>;
  try {
    page = await bounded(gti.fetchPage({ filter, order: 'date-', limit: 1 }), timeoutMs, 'GTI');
  } catch (error) {
    if (error instanceof SecretError) {
      return {
        ...base,
        status: 'fail',
        detail: `the key could not be read: ${say(error)}`,
        fix: secretFix(config, error),
      };
    }
    const status = error instanceof GtiApiError ? error.status : undefined;
    const fix =
      status === 401
        ? 'The key is wrong or revoked: copy it from your GTI / VirusTotal profile (API key) into VT_API_KEY, or add it as a new version of the secret.'
        : status === 403
          ? 'The key is valid but may not read the IOC Stream: it needs a Google Threat Intelligence (or VirusTotal Enterprise) entitlement with IOC Stream access; ask your GTI account team.'
          : status === 429
            ? "The key's quota is used up for now (daily quotas reset at 00:00 UTC); run doctor again later."
            : `Check VT_API_BASE_URL (${config.gti.baseUrl}) and the network, then run doctor again.`;
    return { ...base, status: 'fail', detail: say(error), fix };
  }
  const [item] = page.items;
  const where = `${config.gti.baseUrl}/ioc_stream (limit=1${filter ? `, filter "${filter}"` : ''})`;
  if (item === undefined) {
    return {
      ...base,
      status: 'warn',
      detail: `accepted by ${where}, but GTI holds no notification${filter ? ' matching VT_FILTERS' : ''} (it keeps 7 days): the first run will import nothing.`,
      fix: 'Check that your Livehunt rulesets are enabled with notifications on (or that you follow collections / threat actors), and VT_FILTERS; notifications appear as they match.',
    };
  }
  let date: number;
  try {
    const itemDate = item.kind === 'cleaned' ? item.date : readItem(item.raw).date;
    if (itemDate === undefined) throw new Error('its notification_date is missing or malformed');
    date = itemDate;
  } catch (error) {
    return {
      ...base,
      status: 'pass',
      detail: `accepted by ${where} (its newest item is unusable: ${say(error)})`,
    };
  }
  const newest = `${gtiDate(date)}Z`;
  if (date < config.gti.initialStartSeconds) {
    return {
      ...base,
      status: 'warn',
      detail: `accepted by ${where}; its newest notification (${newest}) is older than where a first run starts (VT_DATE_FILTER=${config.gti.dateFilter}), so a first run imports nothing until a new one arrives.`,
      fix: 'Set VT_DATE_FILTER=-7d to start with everything GTI still holds (it keeps 7 days).',
    };
  }
  return { ...base, status: 'pass', detail: `accepted by ${where}; newest notification ${newest}` };
}

function secretFix(config: Config, error: unknown): string {
  const name = config.gti.secretName ?? '';
  const project = name.startsWith('projects/') ? name.split('/')[1] : config.gcpProjectId;
  const secret = name.split('/').pop() ?? name;
  if (/PERMISSION_DENIED|permission/i.test(say(error))) {
    return `Your account needs roles/secretmanager.secretAccessor on secret ${secret} to check it (the fetcher has its own grant).`;
  }
  return `Add the key as a version of the secret: printf %s "$GTI_API_KEY" | gcloud secrets versions add ${secret} --project=${project} --data-file=-`;
}

async function checkLogType(
  config: Config,
  target: ChronicleTarget,
  getToken: AccessTokenProvider,
  timeoutMs: number,
): Promise<CheckResult> {
  const base = { id: 'log_type', title: 'SecOps instance and log type' } as const;
  const admin = createChronicleAdmin({
    target,
    getToken,
    http: { timeoutMs: Math.min(timeoutMs, config.http.timeoutMs), maxAttempts: 1 },
  });
  try {
    const logType = await bounded(admin.getLogType(), timeoutMs, 'logTypes.get');
    return { ...base, status: 'pass', detail: `${logType.name} exists` };
  } catch (error) {
    return {
      ...base,
      status: 'fail',
      detail: isNotFound(error)
        ? `log type ${target.logType} not found in ${instanceName(target)} (or the instance itself was not found): ${say(error)}`
        : say(error),
      fix: chronicleFix(
        error,
        target,
        `Create the custom log type ${target.logType} in SecOps (SIEM Settings → Available Log Types → Request a Log Type → create a custom log type; ${CUSTOM_LOG_TYPE_DOC}) and wait about 10 minutes before it is usable; check CHRONICLE_PROJECT_ID, CHRONICLE_REGION and CHRONICLE_CUSTOMER_ID if it exists.${
          target.apiVersion === 'v1beta'
            ? ' (logTypes.get is documented under v1alpha and v1, not v1beta: with CHRONICLE_API_VERSION=v1beta this 404 may be the method, not the log type.)'
            : ''
        }`,
      ),
    };
  }
}

async function checkParser(
  config: Config,
  target: ChronicleTarget,
  getToken: AccessTokenProvider,
  parserFile: string,
  timeoutMs: number,
): Promise<CheckResult> {
  const base = { id: 'parser', title: 'Active parser' } as const;
  const admin = createChronicleAdmin({
    target,
    getToken,
    http: { timeoutMs: Math.min(timeoutMs, config.http.timeoutMs), maxAttempts: 1 },
  });
  let parsers: ParserResource[];
  try {
    parsers = await bounded(admin.listParsers(), timeoutMs, 'parsers.list');
  } catch (error) {
    return {
      ...base,
      status: 'fail',
      detail: say(error),
      fix: chronicleFix(error, target, 'Run `npx ioc-stream parser install`.'),
    };
  }
  const active = parsers.find((p) => p.state === PARSER_STATE_ACTIVE);
  if (active === undefined) {
    return {
      ...base,
      status: 'fail',
      detail: `no parser of log type ${target.logType} is ACTIVE (${parsers.length} found): imports would be stored unparsed.`,
      fix: 'Run `npx ioc-stream parser install` (validates custom_parser/ioc_stream.parser, creates and activates it).',
    };
  }
  let local: string | undefined;
  try {
    local = readFileSync(parserFile, 'utf8');
  } catch {
    local = undefined;
  }
  if (local !== undefined && active.text !== undefined && active.text !== local) {
    return {
      ...base,
      status: 'warn',
      detail: `${active.name} is ACTIVE but differs from ${parserFile}.`,
      fix: 'If that is not on purpose, run `npx ioc-stream parser install` to replace it.',
    };
  }
  const same = local !== undefined && active.text === local ? ` (same as ${parserFile})` : '';
  return { ...base, status: 'pass', detail: `${active.name} is ACTIVE${same}` };
}

async function checkSecret(config: Config, timeoutMs: number): Promise<CheckResult> {
  const base = { id: 'secret', title: 'GTI key secret' } as const;
  if (config.gti.secretName === undefined) {
    return {
      ...base,
      status: 'warn',
      detail: 'VT_API_KEY_SECRET_NAME is unset: the deployed fetcher reads its key from the secret.',
      fix: 'Set VT_API_KEY_SECRET_NAME (terraform output) to check the secret the fetcher reads.',
    };
  }
  const name = secretResourceName(config);
  // The secret itself, even when VT_API_KEY is also set here.
  const fromSecret: Config = { ...config, gti: { ...config.gti, apiKey: undefined } };
  try {
    await bounded(createApiKeyProvider(fromSecret)(), timeoutMs, 'Secret Manager');
    return { ...base, status: 'pass', detail: `${name} holds a key (read with your credentials)` };
  } catch (error) {
    return { ...base, status: 'fail', detail: say(error), fix: secretFix(config, error) };
  }
}

async function checkPubSub(config: Config, timeoutMs: number): Promise<CheckResult[]> {
  const results: CheckResult[] = [];
  const pubsub = await createPubSubClient(pubSubSettings(config));
  const project = config.gcpProjectId ?? '';
  const fixRole = 'Your account needs roles/pubsub.viewer on the project to check this.';
  try {
    const topics: [string, string, string | undefined][] = [
      ['trigger_topic', 'Trigger topic', config.pubsub.triggerTopic],
      ['chunks_topic', 'Chunks topic', config.pubsub.chunksTopic],
      ['dead_letter_topic', 'Dead-letter topic', config.pubsub.deadLetterTopic],
    ];
    for (const [id, title, topicId] of topics) {
      if (topicId === undefined) continue;
      const name = `projects/${project}/topics/${topicId}`;
      try {
        const topic = pubsub.topic(topicId);
        const [exists] = await bounded(topic.exists(), timeoutMs, name);
        if (!exists) {
          results.push({
            id,
            title,
            status: 'fail',
            detail: `${name} does not exist`,
            fix: '`terraform apply` creates it; check GCP_PROJECT_ID and the topic variables.',
          });
          continue;
        }
        const [subscriptions] = await bounded(topic.getSubscriptions(), timeoutMs, name);
        results.push(
          subscriptions.length === 0
            ? {
                id,
                title,
                status: 'fail',
                detail: `${name} has no subscription: whatever is published to it is lost`,
                fix: '`terraform apply` creates its subscription.',
              }
            : {
                id,
                title,
                status: 'pass',
                detail: `${name} exists, subscriptions: ${subscriptions.map((s) => s.name.split('/').pop()).join(', ')}`,
              },
        );
      } catch (error) {
        results.push({ id, title, status: 'fail', detail: say(error), fix: pubsubFix(error, fixRole) });
      }
    }
    const subscriptionId = config.pubsub.deadLetterSubscription;
    const base = { id: 'dead_letter_subscription', title: 'Dead-letter subscription' } as const;
    if (subscriptionId === undefined) {
      results.push({
        ...base,
        status: 'warn',
        detail: 'PUBSUB_DEAD_LETTER_SUBSCRIPTION is unset: `ioc-stream dlq` needs it.',
        fix: 'Set it to the dead-letter subscription (terraform output).',
      });
    } else {
      const name = `projects/${project}/subscriptions/${subscriptionId}`;
      try {
        const [exists] = await bounded(pubsub.subscription(subscriptionId).exists(), timeoutMs, name);
        results.push(
          exists
            ? { ...base, status: 'pass', detail: `${name} exists` }
            : {
                ...base,
                status: 'fail',
                detail: `${name} does not exist: dead-lettered chunks would be lost`,
                fix: '`terraform apply` creates it; check PUBSUB_DEAD_LETTER_SUBSCRIPTION.',
              },
        );
      } catch (error) {
        results.push({ ...base, status: 'fail', detail: say(error), fix: pubsubFix(error, fixRole) });
      }
    }
  } finally {
    await pubsub.close().catch(() => undefined);
  }
  return results;
}

function pubsubFix(error: unknown, fixRole: string): string {
  const code = grpcCode(error);
  if (code === GRPC.PERMISSION_DENIED) return fixRole;
  if (code === GRPC.UNAUTHENTICATED) return CREDENTIALS_FIX;
  return 'Check GCP_PROJECT_ID, PUBSUB_EMULATOR_HOST (if set) and the network, then run doctor again.';
}

async function checkFirestore(config: Config, timeoutMs: number): Promise<CheckResult> {
  const base = { id: 'firestore', title: 'Firestore' } as const;
  const document = `${STATE_COLLECTION}/${config.entries.useCaseName}`;
  const settings = {
    projectId: config.gcpProjectId ?? '',
    databaseId: config.firestore.database,
    emulatorHost: config.firestore.emulatorHost,
  };
  try {
    const checkpoint = await bounded(
      readStreamCheckpoint(settings, config.entries.useCaseName),
      timeoutMs,
      'Firestore',
    );
    return {
      ...base,
      status: 'pass',
      detail:
        `database ${settings.databaseId} readable; ${document}: ` +
        (checkpoint === undefined
          ? `no checkpoint yet (the first run starts at VT_DATE_FILTER=${config.gti.dateFilter})`
          : `checkpoint at ${gtiDate(checkpoint.date)}Z`),
    };
  } catch (error) {
    const code = grpcCode((error as { cause?: unknown }).cause);
    const fix =
      code === GRPC.NOT_FOUND
        ? `The database ${settings.databaseId} does not exist: terraform creates it (create_firestore_database), or set FIRESTORE_DATABASE.`
        : code === GRPC.PERMISSION_DENIED
          ? 'Your account needs roles/datastore.viewer on the project to check this.'
          : 'Check GCP_PROJECT_ID, FIRESTORE_DATABASE, FIRESTORE_EMULATOR_HOST (if set) and the network.';
    return { ...base, status: 'fail', detail: say(error), fix };
  }
}
