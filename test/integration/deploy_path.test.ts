/**
 * The README's deploy path, end to end against the simulators: the GTI simulator, the Chronicle
 * simulator with its log type / parser / runParser endpoints (sim/chronicle_parsers.ts), the
 * metadata server fake for credentials (the real google-auth-library path) and, for the cloud
 * configuration, the Pub/Sub and Firestore emulators and the Secret Manager fake.
 *
 * Standalone: doctor fails naming the missing log type; an import before the log type exists is
 * refused and loses nothing; once the log type exists doctor names the missing parser; `parser
 * install` validates, creates and activates it; doctor passes; sync imports everything, every
 * request with the quota project header, none into a log type without an active parser.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { PubSub } from '@google-cloud/pubsub';
import type { DoctorReport } from '../../cli/doctor.js';
import { main } from '../../cli/main.js';
import { type Dataset, generatedDataset } from '../../sim/dataset.js';
import { type GtiSimulator, startGtiSimulator } from '../../sim/gti_simulator.js';
import { type ChronicleApi, startChronicleApi } from '../helpers/chronicle_api.js';
import { cliContext } from '../helpers/cli.js';
import {
  emulatorSkipReason,
  type RunningEmulator,
  startFirestoreEmulator,
  startPubsubEmulator,
} from '../helpers/emulators.js';
import { type MetadataFake, startMetadataFake } from '../helpers/metadata_fake.js';
import { type SecretManagerFake, startSecretManagerFake } from '../helpers/secret_manager_fake.js';
import { assertNoSecretFragment } from '../helpers/secrets.js';

const PARSER_DIR = fileURLToPath(new URL('../../../custom_parser/', import.meta.url));
const TOKEN = 'tok-7d41c9e0b2a85f36e1d09c4b7a';
const API_KEY = 'gti-5f2a9c7e1b3d4a6c8e0f2b4d';
const CUSTOMER = '6f1d2c3b-4a59-4687-9a0b-1c2d3e4f5a6b';
const QUOTA_PROJECT = 'my-quota-project';
const LOG_TYPE = 'GTI_IOC_STREAM';

const everything: string[] = [];

function capture(env: NodeJS.ProcessEnv) {
  const c = cliContext(env, undefined, everything);
  return { ctx: c.ctx, out: () => c.out().stdout, err: () => c.out().stderr };
}

async function run(env: NodeJS.ProcessEnv, ...argv: string[]) {
  const c = capture(env);
  const code = await main(argv, c.ctx);
  return { code, out: c.out(), err: c.err() };
}

async function doctor(env: NodeJS.ProcessEnv): Promise<{ code: number; report: DoctorReport }> {
  const r = await run(env, 'doctor', '--json', '--dir', PARSER_DIR, '--timeout', '20');
  return { code: r.code, report: JSON.parse(r.out) as DoctorReport };
}

function status(report: DoctorReport): Record<string, string> {
  return Object.fromEntries(report.checks.map((c) => [c.id, c.status]));
}

function check(report: DoctorReport, id: string) {
  const found = report.checks.find((c) => c.id === id);
  assert.ok(found, `no check ${id} in ${JSON.stringify(report)}`);
  return found;
}

/** Makes runParser answer each sample with its golden events, as a perfect parser would. */
function answerWithGoldens(api: ChronicleApi): void {
  for (const file of readdirSync(join(PARSER_DIR, 'logs')).filter((f) => f.endsWith('.log'))) {
    const name = file.slice(0, -4);
    const golden = JSON.parse(readFileSync(join(PARSER_DIR, 'events', `${name}.json`), 'utf8')) as {
      events: { event: unknown }[];
    };
    api.parsers.setEvents(readFileSync(join(PARSER_DIR, 'logs', file)), golden.events);
  }
}

let metadata: MetadataFake;
let scratch: string;
const saved: Record<string, string | undefined> = {};

before(async () => {
  metadata = await startMetadataFake({ token: TOKEN, projectId: 'fake-project' });
  scratch = mkdtempSync(join(tmpdir(), 'deploy-path-'));
  // google-auth-library reads process.env itself: the metadata fake gives the token, away from any
  // credentials on this machine; GOOGLE_CLOUD_QUOTA_PROJECT is the library's own quota project
  // setting (the value user credentials carry as quota_project_id).
  for (const key of [
    'METADATA_SERVER_DETECTION',
    'GCE_METADATA_HOST',
    'CLOUDSDK_CONFIG',
    'GOOGLE_APPLICATION_CREDENTIALS',
    'GOOGLE_CLOUD_QUOTA_PROJECT',
  ])
    saved[key] = process.env[key];
  process.env.METADATA_SERVER_DETECTION = 'assume-present';
  process.env.GCE_METADATA_HOST = metadata.host;
  process.env.CLOUDSDK_CONFIG = join(scratch, 'gcloud');
  process.env.GOOGLE_CLOUD_QUOTA_PROJECT = QUOTA_PROJECT;
  delete process.env.GOOGLE_APPLICATION_CREDENTIALS;
});

after(async () => {
  await metadata.close();
  rmSync(scratch, { recursive: true, force: true });
  for (const [key, value] of Object.entries(saved)) {
    if (value === undefined) delete process.env[key];
    else process.env[key] = value;
  }
  const printed = everything.join('');
  assertNoSecretFragment(printed, [TOKEN, API_KEY], 'deploy path output');
});

describe('deploy path, standalone: doctor → log type → parser install → doctor → sync', () => {
  let gti: GtiSimulator;
  let api: ChronicleApi;
  let dataset: Dataset;
  let env: NodeJS.ProcessEnv;

  before(async () => {
    const now = Math.floor(Date.now() / 1000);
    dataset = generatedDataset({ count: 30, startSeconds: now - 3 * 86_400, secondsPerNotification: 600 });
    gti = await startGtiSimulator({ dataset, apiKey: API_KEY });
    api = await startChronicleApi(); // no log type yet: it is created in SecOps by hand
    env = {
      VT_API_KEY: API_KEY,
      VT_API_BASE_URL: gti.baseUrl,
      VT_DATE_FILTER: '-7d',
      CHRONICLE_API_BASE_URL: api.baseUrl,
      CHRONICLE_PROJECT_ID: 'secops-project',
      CHRONICLE_CUSTOMER_ID: CUSTOMER,
      CHRONICLE_REGION: 'eu',
      CHECKPOINT_FILE: join(scratch, 'checkpoint.json'),
      OUTPUT_DIR: join(scratch, 'out'),
      HTTP_TIMEOUT_SECONDS: '10',
      RETRY_MAX_ATTEMPTS: '2',
      RETRY_MAX_SECONDS: '5',
      LOG_LEVEL: 'error',
    };
  });

  after(async () => {
    await gti.close();
    await api.close();
  });

  it('doctor fails naming the missing log type, with the fix, and skips the parser', async () => {
    const { code, report } = await doctor(env);
    assert.equal(code, 1);
    assert.equal(report.ok, false);
    assert.equal(report.mode, 'standalone');
    assert.deepEqual(status(report), {
      config: 'pass',
      gti: 'pass',
      log_type: 'fail',
      parser: 'skipped',
      import_permission: 'unchecked',
    });
    const logType = check(report, 'log_type');
    assert.match(
      logType.detail,
      new RegExp(
        `log type ${LOG_TYPE} not found in projects/secops-project/locations/eu/instances/${CUSTOMER}`,
      ),
    );
    assert.match(logType.fix ?? '', /Create the custom log type GTI_IOC_STREAM/);
    assert.match(logType.fix ?? '', /about 10 minutes/);
    assert.match(check(report, 'gti').detail, /ioc_stream \(limit=1\); newest notification/);
    assert.match(check(report, 'import_permission').detail, /chronicle\.logs\.import/);
    // Entity context is on by default: the importer needs chronicle.entities.import too.
    assert.match(check(report, 'import_permission').detail, /chronicle\.entities\.import/);
    const logTypeCall = api.parsers.requests.find(
      (r) => r.method === 'GET' && r.path.endsWith(`/logTypes/${LOG_TYPE}`),
    );
    assert.ok(logTypeCall, 'doctor asked logTypes.get');
    assert.equal(
      logTypeCall.path,
      `/v1alpha/projects/secops-project/locations/eu/instances/${CUSTOMER}/logTypes/${LOG_TYPE}`,
    );
    const gtiCall = gti.requests.find((r) => new URL(r.url, 'http://x').searchParams.get('limit') === '1');
    assert.ok(gtiCall, 'doctor asked GTI for one notification');
  });

  it('prints each check with ✅ / ❌ and the fix', async () => {
    const r = await run(env, 'doctor', '--dir', PARSER_DIR);
    assert.equal(r.code, 1);
    assert.match(r.out, /^✅ Configuration: standalone configuration/m);
    assert.match(r.out, /^✅ GTI API key: accepted/m);
    assert.match(r.out, /^❌ SecOps instance and log type: log type GTI_IOC_STREAM not found/m);
    assert.match(r.out, /^ {3}fix: Create the custom log type/m);
    assert.match(r.out, /^❔ Import permission: /m);
    assert.match(r.out, /1 check\(s\) failed/);
  });

  it('an import before the log type exists is refused and loses nothing: the checkpoint does not move', async () => {
    const r = await run(env, 'sync', '--quiet');
    assert.equal(r.code, 1);
    assert.match(r.err, /404 NOT_FOUND: Log type "GTI_IOC_STREAM" not found/);
    assert.equal(api.sim.entries.length, 0);
  });

  it('once the log type exists, doctor names the missing parser and the command that installs it', async () => {
    api.parsers.createLogType(LOG_TYPE);
    const { code, report } = await doctor(env);
    assert.equal(code, 1);
    assert.equal(check(report, 'log_type').status, 'pass');
    const parser = check(report, 'parser');
    assert.equal(parser.status, 'fail');
    assert.match(parser.detail, /no parser of log type GTI_IOC_STREAM is ACTIVE/);
    assert.match(parser.fix ?? '', /npx ioc-stream parser install/);
  });

  it('parser install --dry-run prints the requests and sends none', async () => {
    const before = api.parsers.requests.length;
    const r = await run(env, 'parser', 'install', '--dry-run', '--dir', PARSER_DIR);
    assert.equal(r.code, 0, r.err);
    const base = `${api.baseUrl}/v1alpha/projects/secops-project/locations/eu/instances/${CUSTOMER}/logTypes/${LOG_TYPE}`;
    assert.match(r.out, new RegExp(`1\\. POST ${base}:runParser`));
    assert.match(r.out, new RegExp(`3\\. POST ${base}/parsers\\n.*"validated_on_empty_logs":true`));
    assert.match(r.out, new RegExp(`4\\. POST ${base}/parsers/\\{id\\}:activate`));
    assert.equal(api.parsers.requests.length, before, 'nothing sent');
  });

  it('parser install refuses a parser that does not validate, and creates nothing', async () => {
    answerWithGoldens(api);
    api.parsers.forget(readFileSync(join(PARSER_DIR, 'logs', 'domain_hunting.log')));
    const r = await run(env, 'parser', 'install', '--dir', PARSER_DIR);
    assert.equal(r.code, 1);
    assert.match(r.out, /FAIL\s+domain_hunting/);
    assert.match(r.err, /does NOT validate, so it was not installed/);
    assert.equal(api.parsers.parsers.length, 0);
  });

  it('parser install validates, creates and activates the parser; run again it changes nothing', async () => {
    answerWithGoldens(api);
    const from = api.parsers.requests.length;
    const r = await run(env, 'parser', 'install', '--dir', PARSER_DIR);
    assert.equal(r.code, 0, r.out + r.err);
    const calls = api.parsers.requests
      .slice(from)
      .map((q) => `${q.method} ${q.path.replace(/^.*\/logTypes\//, '')}`);
    assert.deepEqual(
      calls.map((c) => c.replace(/parsers\/[0-9a-f-]+:activate/, 'parsers/ID:activate')),
      [
        `POST ${LOG_TYPE}:runParser`,
        `GET ${LOG_TYPE}/parsers`,
        `POST ${LOG_TYPE}/parsers`,
        `POST ${LOG_TYPE}/parsers/ID:activate`,
      ],
    );
    const create = api.parsers.requests
      .slice(from)
      .find((q) => q.method === 'POST' && q.path.endsWith('/parsers'));
    const body = create?.body as { cbn: string; validated_on_empty_logs: boolean };
    assert.equal(
      Buffer.from(body.cbn, 'base64').toString('utf8'),
      readFileSync(join(PARSER_DIR, 'ioc_stream.parser'), 'utf8'),
    );
    assert.equal(body.validated_on_empty_logs, true);
    const active = api.parsers.activeParser(LOG_TYPE);
    assert.ok(active, 'a parser is active');
    assert.match(r.out, new RegExp(`Activated: log type ${LOG_TYPE} is now parsed by ${active.name}`));

    const again = await run(env, 'parser', 'install', '--no-validate', '--dir', PARSER_DIR);
    assert.equal(again.code, 0);
    assert.match(again.out, /already active .*nothing to do/);
    assert.equal(api.parsers.parsers.length, 1, 'no second parser');
  });

  it('doctor passes; sync then imports every notification, none unparsed', async () => {
    const { code, report } = await doctor(env);
    assert.equal(code, 0, JSON.stringify(report));
    assert.equal(report.ok, true);
    assert.match(check(report, 'parser').detail, /is ACTIVE \(same as .*ioc_stream\.parser\)/);

    const r = await run(env, 'sync', '--quiet', '--json');
    assert.equal(r.code, 0, r.err);
    const summary = JSON.parse(r.out) as Record<string, unknown>;
    assert.equal(summary.notifications, dataset.size);
    assert.equal(
      api.sim.acceptedIds.size,
      dataset.size,
      'every notification, the refused attempt lost nothing',
    );
    assert.ok(api.sim.entries.every((e) => e.logType === LOG_TYPE));
    assert.equal(
      api.parsers.importsWithoutActiveParser,
      0,
      'no import reached a log type without its parser',
    );
  });

  it('every Chronicle call carried the token and the quota project header', () => {
    assert.ok(api.parsers.requests.length > 5);
    for (const request of api.parsers.requests) {
      assert.equal(request.authorization, `Bearer ${TOKEN}`, `${request.method} ${request.path}`);
      assert.equal(request.userProject, QUOTA_PROJECT, `${request.method} ${request.path}`);
    }
  });
});

describe('activation that fails: install again activates the parser it created', () => {
  it('reuses the inactive parser instead of creating a second one', async () => {
    const api = await startChronicleApi({ logTypes: [LOG_TYPE] });
    try {
      const env = {
        CHRONICLE_API_BASE_URL: api.baseUrl,
        CHRONICLE_PROJECT_ID: 'secops-project',
        CHRONICLE_CUSTOMER_ID: CUSTOMER,
        RETRY_MAX_ATTEMPTS: '1',
      };
      api.parsers.failWith({ status: 403, rpcStatus: 'PERMISSION_DENIED', message: 'denied' }, (q) =>
        q.path.endsWith(':activate'),
      );
      const first = await run(env, 'parser', 'install', '--no-validate', '--dir', PARSER_DIR);
      assert.equal(first.code, 1);
      assert.match(first.err, /exists but could not be activated; run the command again/);
      assert.match(
        first.err,
        /parsers\.activate failed: Chronicle answered 403 PERMISSION_DENIED: denied \(the caller needs chronicle\.parsers\.activate/,
      );
      assert.equal(api.parsers.parsers.length, 1);
      api.parsers.failWith(undefined);
      const second = await run(env, 'parser', 'install', '--no-validate', '--dir', PARSER_DIR);
      assert.equal(second.code, 0, second.err);
      assert.match(second.out, /Found the same parser, not active/);
      assert.equal(api.parsers.parsers.length, 1, 'still one parser');
      assert.equal(api.parsers.activeParser(LOG_TYPE)?.id, api.parsers.parsers[0]?.id);
    } finally {
      await api.close();
    }
  });

  it('names the missing log type when creating fails with 404', async () => {
    const api = await startChronicleApi();
    try {
      const env = {
        CHRONICLE_API_BASE_URL: api.baseUrl,
        CHRONICLE_PROJECT_ID: 'secops-project',
        CHRONICLE_CUSTOMER_ID: CUSTOMER,
        RETRY_MAX_ATTEMPTS: '1',
      };
      const r = await run(env, 'parser', 'install', '--no-validate', '--dir', PARSER_DIR);
      assert.equal(r.code, 1);
      assert.match(r.err, /Log type GTI_IOC_STREAM not found\? create the custom log type first/);
      const validating = await run(env, 'parser', 'install', '--dir', PARSER_DIR);
      assert.equal(validating.code, 1);
      assert.match(validating.err, /runParser failed: Chronicle answered 404 NOT_FOUND/);
      assert.match(validating.err, /could not be validated, so it was not installed/);
      assert.match(validating.err, /Log type GTI_IOC_STREAM not found\? create the custom log type first/);
      assert.equal(api.parsers.parsers.length, 0);
    } finally {
      await api.close();
    }
  });
});

const skip = emulatorSkipReason();
if (skip) console.warn(skip);

describe('deploy path, cloud configuration: doctor against the emulators', { skip: skip ?? false }, () => {
  const PROJECT = 'deploy-path-project';
  let pubsubEmulator: RunningEmulator;
  let firestoreEmulator: RunningEmulator;
  let secrets: SecretManagerFake;
  let gti: GtiSimulator;
  let api: ChronicleApi;
  let pubsub: PubSub;
  let env: NodeJS.ProcessEnv;

  before(async () => {
    [pubsubEmulator, firestoreEmulator] = await Promise.all([
      startPubsubEmulator(),
      startFirestoreEmulator(),
    ]);
    const now = Math.floor(Date.now() / 1000);
    gti = await startGtiSimulator({
      dataset: generatedDataset({ count: 5, startSeconds: now - 3600, secondsPerNotification: 60 }),
      apiKey: API_KEY,
    });
    secrets = await startSecretManagerFake({ [`projects/${PROJECT}/secrets/other/versions/latest`]: 'x' });
    api = await startChronicleApi({ logTypes: [LOG_TYPE] });
    pubsub = new PubSub({ projectId: PROJECT, apiEndpoint: pubsubEmulator.host, emulatorMode: true });
    env = {
      GCP_PROJECT_ID: PROJECT,
      VT_API_KEY_SECRET_NAME: 'ioc-stream-gti-api-key',
      SECRET_MANAGER_API_ENDPOINT: `http://${secrets.host}:${secrets.port}`,
      VT_API_BASE_URL: gti.baseUrl,
      VT_DATE_FILTER: '-7d',
      CHRONICLE_API_BASE_URL: api.baseUrl,
      CHRONICLE_CUSTOMER_ID: CUSTOMER,
      PUBSUB_EMULATOR_HOST: pubsubEmulator.host,
      FIRESTORE_EMULATOR_HOST: firestoreEmulator.host,
      PUBSUB_TRIGGER_TOPIC: 'ioc-stream-trigger',
      PUBSUB_CHUNKS_TOPIC: 'ioc-stream-chunks',
      PUBSUB_DEAD_LETTER_TOPIC: 'ioc-stream-dead-letter',
      PUBSUB_DEAD_LETTER_SUBSCRIPTION: 'ioc-stream-dead-letter',
      HTTP_TIMEOUT_SECONDS: '10',
      RETRY_MAX_ATTEMPTS: '1',
    };
    const install = await run(env, 'parser', 'install', '--no-validate', '--dir', PARSER_DIR);
    assert.equal(install.code, 0, install.err);
  });

  after(async () => {
    await pubsub?.close();
    await Promise.all([pubsubEmulator?.stop(), firestoreEmulator?.stop()]);
    await secrets?.close();
    await gti?.close();
    await api?.close();
  });

  it('fails naming the unreadable secret and each missing topic', async () => {
    const { code, report } = await doctor(env);
    assert.equal(code, 1);
    assert.equal(report.mode, 'cloud');
    const s = status(report);
    assert.equal(s.gti, 'fail');
    assert.match(check(report, 'gti').detail, /the key could not be read/);
    assert.equal(s.secret, 'fail');
    assert.match(
      check(report, 'secret').fix ?? '',
      /gcloud secrets versions add ioc-stream-gti-api-key --project=deploy-path-project/,
    );
    for (const id of ['trigger_topic', 'chunks_topic', 'dead_letter_topic', 'dead_letter_subscription']) {
      assert.equal(s[id], 'fail', id);
    }
    assert.match(
      check(report, 'chunks_topic').detail,
      /projects\/deploy-path-project\/topics\/ioc-stream-chunks does not exist/,
    );
    assert.equal(s.firestore, 'pass');
    assert.match(check(report, 'firestore').detail, /no checkpoint yet/);
    for (const id of ['import_permission', 'function_identities', 'schedule'])
      assert.equal(s[id], 'unchecked', id);
  });

  it('a topic without a subscription fails: what is published to it is lost', async () => {
    await pubsub.createTopic('ioc-stream-trigger');
    const { report } = await doctor(env);
    assert.equal(check(report, 'trigger_topic').status, 'fail');
    assert.match(
      check(report, 'trigger_topic').detail,
      /has no subscription: whatever is published to it is lost/,
    );
  });

  it('passes once the secret holds the key and the topics and subscriptions exist', async () => {
    await secrets.close();
    secrets = await startSecretManagerFake({
      [`projects/${PROJECT}/secrets/ioc-stream-gti-api-key/versions/latest`]: API_KEY,
    });
    env = { ...env, SECRET_MANAGER_API_ENDPOINT: `http://${secrets.host}:${secrets.port}` };
    await pubsub.topic('ioc-stream-trigger').createSubscription('ioc-stream-trigger-push');
    const [chunks] = await pubsub.createTopic('ioc-stream-chunks');
    await chunks.createSubscription('ioc-stream-chunks-push');
    const [dead] = await pubsub.createTopic('ioc-stream-dead-letter');
    await dead.createSubscription('ioc-stream-dead-letter');
    const { code, report } = await doctor(env);
    assert.equal(code, 0, JSON.stringify(report.checks.filter((c) => c.status === 'fail')));
    assert.match(check(report, 'secret').detail, /ioc-stream-gti-api-key\/versions\/latest holds a key/);
    assert.match(check(report, 'chunks_topic').detail, /subscriptions: ioc-stream-chunks-push/);
  });

  it('trigger --start -7d --project --topic publishes a backfill from seven days ago', async () => {
    const [sub] = await pubsub.topic('ioc-stream-trigger').createSubscription('trigger-observer');
    const before = Date.now();
    const r = await run(
      { PUBSUB_EMULATOR_HOST: pubsubEmulator.host },
      'trigger',
      '--start',
      '-7d',
      '--project',
      PROJECT,
      '--topic',
      'ioc-stream-trigger',
    );
    assert.equal(r.code, 0, r.err);
    assert.match(
      r.out,
      new RegExp(`published trigger \\S+ to projects/${PROJECT}/topics/ioc-stream-trigger \\(backfill from `),
    );
    const body = await new Promise<{ start: string; reason: string }>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('no trigger message arrived')), 15_000);
      sub.on('message', (message) => {
        message.ack();
        clearTimeout(timer);
        resolve(JSON.parse(message.data.toString('utf8')) as { start: string; reason: string });
      });
    });
    await sub.close();
    const start = Date.parse(body.start);
    assert.ok(Math.abs(before - 7 * 86_400_000 - start) < 60_000, `start ${body.start}`);
    assert.equal(body.reason, 'cli');
    assert.doesNotMatch(r.err, /GTI keeps notifications 7 days/, 'exactly -7d is within what GTI holds');
  });
});
