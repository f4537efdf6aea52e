/**
 * Wiring assertions on the parsed terraform module: least-privilege grants per identity, service
 * agents that exist before they are granted anything, the Pub/Sub service agent's dead-letter
 * grants, internal-only functions, push endpoints, the scheduler target, Chronicle API versions
 * that have logs:import, and function environments that match shared/core/config_table.ts CONFIG_VARIABLES
 * (with the values the fetcher needs to name the forwarder).
 */

import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { before, describe, it } from 'node:test';
import { configuredForwarder } from '../../../shared/chronicle/resources.js';
import { CHRONICLE_API_VERSIONS, CONFIG_VARIABLES, loadConfig } from '../../../shared/core/config.js';
import {
  asBodies,
  type Block,
  type Body,
  block,
  blocks,
  functionEnvironment,
  GOOGLE_BETA,
  isObject,
  type Json,
  locals,
  MODULE_DIR,
  parseDir,
  resource,
  resources,
  strings,
  type TfFile,
  unwrap,
} from './tf.js';

/** A terraform interpolation as hcl2json renders it: `${expr}`. */
const ref = (expr: string): string => `\${${expr}}`;

let files: TfFile[] = [];
let all: Block[] = [];

before(async () => {
  files = await parseDir(MODULE_DIR);
  all = blocks(files);
});

/**
 * `${google_service_account.fetcher.member}` → `sa:fetcher`; a service agent only as what its
 * google_project_service_identity returns: `${google_project_service_identity.pubsub.member}` →
 * `agent:pubsub`. Anything else (an email built by hand, a local) is `other:` and fails the tests.
 */
function memberIdentity(member: Json | undefined): string {
  const expr = unwrap(member) ?? String(member);
  const sa = /^google_service_account\.([a-z_]+)\.(member|email)$/.exec(expr);
  if (sa) return `sa:${sa[1]}`;
  const agent = /^google_project_service_identity\.([a-z_]+)\.member$/.exec(expr);
  if (agent) return `agent:${agent[1]}`;
  return `other:${expr}`;
}

/** The resource an IAM member grant is on, as `type.name` or `project:<expr>`. */
function grantTarget(type: string, body: Body): string {
  const key = {
    google_project_iam_member: 'project',
    google_pubsub_topic_iam_member: 'topic',
    google_pubsub_subscription_iam_member: 'subscription',
    google_secret_manager_secret_iam_member: 'secret_id',
    google_service_account_iam_member: 'service_account_id',
    google_cloud_run_v2_service_iam_member: 'name',
    google_storage_bucket_iam_member: 'bucket',
    google_artifact_registry_repository_iam_member: 'repository',
  }[type];
  assert.ok(key, `unexpected IAM resource type ${type}`);
  const expr = unwrap(body[key]) ?? String(body[key]);
  if (type === 'google_project_iam_member') return `project:${expr}`;
  const target = /^(google_[a-z0-9_]+\.[a-z_]+)\./.exec(expr);
  return target ? (target[1] as string) : expr;
}

function roleName(role: Json | undefined): string {
  const expr = unwrap(role);
  if (expr) return expr.replace(/\.name$/, '');
  return String(role);
}

interface Grant {
  identity: string;
  grant: string;
}

function grants(): Grant[] {
  const out: Grant[] = [];
  for (const b of all) {
    if (b.kind !== 'resource' || !b.type?.endsWith('_iam_member')) continue;
    out.push({
      identity: memberIdentity(b.body.member),
      grant: `${roleName(b.body.role)} on ${grantTarget(b.type, b.body)}`,
    });
  }
  return out;
}

const ALLOWED: Record<string, string[]> = {
  'sa:fetcher': [
    'roles/secretmanager.secretAccessor on google_secret_manager_secret.gti_api_key',
    'roles/pubsub.publisher on google_pubsub_topic.chunks',
    'roles/pubsub.publisher on google_pubsub_topic.trigger',
    // Firestore offers no narrower IAM level; the grant carries a database condition (tested below).
    'roles/datastore.user on project:var.project_id',
  ],
  'sa:sender': [
    'google_project_iam_custom_role.chronicle_importer on project:local.secops_project',
    'roles/pubsub.publisher on google_pubsub_topic.chunks',
    'roles/pubsub.publisher on google_pubsub_topic.dead_letter',
  ],
  'sa:push': [
    'roles/run.invoker on google_cloudfunctions2_function.fetcher',
    'roles/run.invoker on google_cloudfunctions2_function.sender',
  ],
  'sa:scheduler': ['roles/pubsub.publisher on google_pubsub_topic.trigger'],
  'sa:build': [
    'roles/storage.objectViewer on google_storage_bucket.source',
    'roles/artifactregistry.writer on google_artifact_registry_repository.functions',
    'roles/logging.logWriter on project:var.project_id',
  ],
  'agent:pubsub': [
    'roles/pubsub.publisher on google_pubsub_topic.dead_letter',
    'roles/pubsub.subscriber on google_pubsub_subscription.chunks',
    'roles/iam.serviceAccountTokenCreator on google_service_account.push',
  ],
  'agent:scheduler': ['roles/iam.serviceAccountTokenCreator on google_service_account.scheduler'],
};

function expectedEnv(fn: 'fetcher' | 'sender'): string[] {
  return CONFIG_VARIABLES.filter((v) => v.functions.includes(fn))
    .map((v) => v.name)
    .sort();
}

function envKeys(functionName: string): string[] {
  return Object.keys(functionEnvironment(files, functionName)).sort();
}

describe('terraform wiring', () => {
  it('every service account holds exactly its allow-listed grants', () => {
    const byIdentity = new Map<string, string[]>();
    for (const g of grants()) byIdentity.set(g.identity, [...(byIdentity.get(g.identity) ?? []), g.grant]);
    for (const identity of byIdentity.keys()) {
      assert.ok(identity in ALLOWED, `grant to an unexpected identity: ${identity}`);
    }
    for (const [identity, allowed] of Object.entries(ALLOWED)) {
      assert.deepEqual((byIdentity.get(identity) ?? []).sort(), [...allowed].sort(), identity);
    }
    const accounts = [...resources(files, 'google_service_account').keys()].sort();
    assert.deepEqual(accounts, ['build', 'fetcher', 'push', 'scheduler', 'sender']);
  });

  it('uses no primitive roles, no authoritative IAM resources and no public members', () => {
    const text = all.flatMap((b) => strings(b.body)).join('\n');
    assert.doesNotMatch(text, /roles\/(owner|editor|viewer)\b/);
    assert.doesNotMatch(text, /allUsers|allAuthenticatedUsers/);
    const authoritative = all.filter(
      (b) => b.kind === 'resource' && /_iam_(policy|binding)$/.test(b.type ?? ''),
    );
    assert.deepEqual(
      authoritative.map((b) => `${b.type}.${b.name}`),
      [],
    );
  });

  it('the fetcher Firestore grant is limited to the checkpoint database by a condition', () => {
    const grant = resource(files, 'google_project_iam_member', 'fetcher_uses_firestore');
    assert.match(String(block(grant, 'condition').expression), /databases\/\$\{local\.firestore_db\}/);
  });

  it('the custom role holds only chronicle.logs.import and chronicle.entities.import on the SecOps project', () => {
    const role = resource(files, 'google_project_iam_custom_role', 'chronicle_importer');
    assert.deepEqual(role.permissions, ['chronicle.logs.import', 'chronicle.entities.import']);
    assert.equal(role.project, ref('local.secops_project'));
  });

  it('every grant to a service agent uses what its google_project_service_identity returns (it exists by then)', () => {
    // Enabling an API does not always create its service agent at once; a grant to one that does
    // not exist yet fails the first apply. No grant may name an agent by an email built by hand.
    const text = all.flatMap((b) => strings(b.body)).join('\n');
    assert.doesNotMatch(
      text,
      /gcp-sa-[a-z-]+\.iam\.gserviceaccount\.com/,
      'a service agent email built by hand',
    );
    const members = grants().map((g) => g.identity);
    assert.deepEqual(
      members.filter((m) => !/^(sa|agent):/.test(m)),
      [],
      'IAM members must be module service accounts or service identities',
    );
    const identities = resources(files, 'google_project_service_identity');
    const services = Object.fromEntries([...identities].map(([name, body]) => [name, body.service]));
    assert.deepEqual(services, {
      pubsub: 'pubsub.googleapis.com',
      scheduler: 'cloudscheduler.googleapis.com',
    });
    const apis = String(locals(files).get('apis'));
    for (const [name, body] of identities) {
      assert.equal(body.provider, GOOGLE_BETA, `${name}: the resource exists only in google-beta`);
      assert.equal(body.project, ref('var.project_id'), name);
      assert.deepEqual(
        body.depends_on,
        [ref('google_project_service.enabled')],
        `${name}: after its API is enabled`,
      );
      assert.ok(
        apis.includes(`"${String(body.service)}"`),
        `${name}: ${String(body.service)} is enabled by the module`,
      );
    }
    for (const agent of new Set(members.filter((m) => m.startsWith('agent:')))) {
      assert.ok(identities.has(agent.slice('agent:'.length)), `${agent} has a service identity`);
    }
  });

  it('the google-beta provider is required and configured like google', () => {
    const terraform = all.find((b) => b.kind === 'terraform');
    const required = asBodies(terraform?.body.required_providers)[0] ?? {};
    const google = required.google;
    const beta = required['google-beta'];
    assert.ok(isObject(google) && isObject(beta), 'both providers in required_providers');
    assert.equal(beta.source, 'hashicorp/google-beta');
    assert.equal(beta.version, google.version, 'same version constraint as google');
    const config = (name: string) => all.find((b) => b.kind === 'provider' && b.name === name)?.body;
    assert.deepEqual(config('google-beta'), config('google'));
  });

  it('the Pub/Sub service agent gets the grants dead-lettering and authenticated push need', () => {
    const chunks = resource(files, 'google_pubsub_subscription', 'chunks');
    const dlTopic = unwrap(block(chunks, 'dead_letter_policy').dead_letter_topic);
    assert.equal(dlTopic, 'google_pubsub_topic.dead_letter.id');
    const agentGrants = grants()
      .filter((g) => g.identity === 'agent:pubsub')
      .map((g) => g.grant);
    assert.ok(agentGrants.includes('roles/pubsub.publisher on google_pubsub_topic.dead_letter'));
    assert.ok(agentGrants.includes('roles/pubsub.subscriber on google_pubsub_subscription.chunks'));
  });

  it('both functions: nodejs22, the contract entry points, internal ingress, bounded instances, timeouts from variables', () => {
    const fns = resources(files, 'google_cloudfunctions2_function');
    assert.deepEqual([...fns.keys()].sort(), ['fetcher', 'sender']);
    const entryPoints: Record<string, string> = { fetcher: 'fetchIocStream', sender: 'sendToChronicle' };
    for (const [name, fn] of fns) {
      const build = block(fn, 'build_config');
      const service = block(fn, 'service_config');
      assert.equal(build.runtime, 'nodejs22', name);
      assert.equal(build.entry_point, entryPoints[name], name);
      assert.equal(service.ingress_settings, 'ALLOW_INTERNAL_ONLY', name);
      assert.equal(service.max_instance_count, `\${var.${name}.max_instances}`, name);
      assert.equal(service.timeout_seconds, `\${var.${name}.timeout_seconds}`, name);
      assert.equal(service.service_account_email, `\${google_service_account.${name}.email}`, name);
      assert.equal(fn.event_trigger, undefined, `${name} is invoked by its push subscription, not Eventarc`);
      const source = block(build, 'source', 'storage_source');
      assert.equal(source.bucket, ref('google_storage_bucket.source.name'));
      assert.equal(source.object, ref('google_storage_bucket_object.source.name'));
    }
  });

  it('function timeouts are bounded by validation (fetcher <= 540 default 540, sender default 300)', () => {
    const vars = new Map(all.filter((b) => b.kind === 'variable').map((b) => [b.name, b.body]));
    const fetcherType = String(vars.get('fetcher')?.type);
    const senderType = String(vars.get('sender')?.type);
    assert.match(fetcherType, /timeout_seconds\s*=\s*optional\(number, 540\)/);
    assert.match(senderType, /timeout_seconds\s*=\s*optional\(number, 300\)/);
    for (const name of ['fetcher', 'sender']) {
      const conditions = strings(vars.get(name)?.validation).join('\n');
      assert.match(conditions, /timeout_seconds <= 540/, name);
      assert.match(conditions, /max_instances <= \d+/, name);
    }
  });

  it('function environments are exactly the CONFIG_VARIABLES each function reads', () => {
    assert.deepEqual(envKeys('fetcher'), expectedEnv('fetcher'));
    assert.deepEqual(envKeys('sender'), expectedEnv('sender'));
    const localOnly = CONFIG_VARIABLES.filter((v) => v.functions.length === 0).map((v) => v.name);
    for (const name of [...envKeys('fetcher'), ...envKeys('sender')])
      assert.ok(!localOnly.includes(name), name);
    const secrets = CONFIG_VARIABLES.filter((v) => v.secret).map((v) => v.name);
    for (const name of secrets)
      assert.ok(!envKeys('fetcher').includes(name), `${name} must come from Secret Manager`);
  });

  it('the fetcher gets what it builds the forwarder resource name from, naming the instance the sender imports into', () => {
    // The fetcher writes `forwarder` into every request body; without the instance it was dropped.
    const sample: Record<string, string> = {
      GCP_PROJECT_ID: 'pipeline-project',
      CHRONICLE_PROJECT_ID: 'secops-project',
      CHRONICLE_CUSTOMER_ID: '0b9d8f4e-3c2a-4d1e-9f8a-7b6c5d4e3f2a',
      CHRONICLE_REGION: 'europe-west2',
      CHRONICLE_FORWARDER_ID: '5e4d3c2b-1a09-4f8e-8d7c-6b5a49382716',
    };
    const deployed = Object.fromEntries(
      envKeys('fetcher').flatMap((k) => (k in sample ? [[k, sample[k]]] : [])),
    );
    assert.equal(
      configuredForwarder(loadConfig(deployed).chronicle),
      'projects/secops-project/locations/europe-west2/instances/0b9d8f4e-3c2a-4d1e-9f8a-7b6c5d4e3f2a/forwarders/5e4d3c2b-1a09-4f8e-8d7c-6b5a49382716',
    );
    const fetcher = locals(files).get('fetcher_env');
    const sender = locals(files).get('sender_env');
    assert.ok(isObject(fetcher) && isObject(sender));
    for (const name of ['CHRONICLE_PROJECT_ID', 'CHRONICLE_CUSTOMER_ID', 'CHRONICLE_REGION']) {
      assert.equal(fetcher[name], sender[name], name);
    }
    assert.equal(fetcher.CHRONICLE_FORWARDER_ID, ref('var.chronicle.forwarder_id'));
  });

  it('chronicle.api_version allows exactly the API versions that have logs:import (as the config does)', () => {
    const chronicle = all.find((b) => b.kind === 'variable' && b.name === 'chronicle');
    const checks = asBodies(chronicle?.body.validation).filter((v) =>
      String(v.condition).includes('var.chronicle.api_version'),
    );
    assert.equal(checks.length, 1, 'one validation of api_version');
    const condition = String(checks[0]?.condition);
    const allowed = /^\$\{contains\((\[[^\]]*\]), var\.chronicle\.api_version\)\}$/.exec(condition);
    assert.ok(allowed, `condition is contains([...], var.chronicle.api_version): ${condition}`);
    assert.deepEqual(JSON.parse(allowed[1] as string), ['v1alpha', 'v1beta']);
    assert.deepEqual(JSON.parse(allowed[1] as string), [...CHRONICLE_API_VERSIONS]);
    assert.match(String(checks[0]?.error_message), /^chronicle\.api_version must be v1alpha or v1beta/);
    assert.match(String(chronicle?.body.type), /api_version\s*=\s*optional\(string, "v1alpha"\)/);
  });

  it('the fetcher reads the GTI key from the module secret and stops before its timeout', () => {
    const env = locals(files).get('fetcher_env');
    assert.ok(isObject(env));
    assert.equal(env.VT_API_KEY_SECRET_NAME, ref('google_secret_manager_secret.gti_api_key.secret_id'));
    assert.equal(env.FETCH_TIME_BUDGET_SECONDS, ref('tostring(local.fetcher_budget)'));
    assert.match(String(locals(files).get('fetcher_budget')), /var\.fetcher\.timeout_seconds - 60/);
    const secret = resource(files, 'google_secret_manager_secret', 'gti_api_key');
    assert.ok(secret);
    assert.equal(
      resources(files, 'google_secret_manager_secret_version').size,
      0,
      'no secret version in state',
    );
  });

  it('push subscriptions target each function URL with /projects/P/topics/T and an OIDC token of the push identity', () => {
    const pairs: [string, string, string][] = [
      ['trigger', 'fetcher', 'trigger'],
      ['chunks', 'sender', 'chunks'],
    ];
    for (const [subName, fnName, topicName] of pairs) {
      const sub = resource(files, 'google_pubsub_subscription', subName);
      assert.equal(sub.topic, `\${google_pubsub_topic.${topicName}.id}`);
      const push = block(sub, 'push_config');
      const url = `\${google_cloudfunctions2_function.${fnName}.service_config[0].uri}`;
      assert.equal(
        push.push_endpoint,
        `${url}/projects/\${var.project_id}/topics/\${google_pubsub_topic.${topicName}.name}`,
      );
      const oidc = block(push, 'oidc_token');
      assert.equal(oidc.service_account_email, ref('google_service_account.push.email'));
      assert.equal(oidc.audience, url);
      const expiration = block(sub, 'expiration_policy');
      assert.equal(expiration.ttl, '', `${subName} never expires`);
      assert.ok(block(sub, 'retry_policy').minimum_backoff);
    }
  });

  it('the chunks subscription retries with backoff, then dead-letters after max_delivery_attempts (5..100)', () => {
    const chunks = resource(files, 'google_pubsub_subscription', 'chunks');
    const dl = block(chunks, 'dead_letter_policy');
    assert.equal(dl.max_delivery_attempts, ref('var.delivery.max_delivery_attempts'));
    assert.match(String(chunks.ack_deadline_seconds), /var\.sender\.timeout_seconds/);
    const retry = block(chunks, 'retry_policy');
    assert.equal(retry.minimum_backoff, ref('var.delivery.minimum_backoff'));
    assert.equal(retry.maximum_backoff, ref('var.delivery.maximum_backoff'));
    const delivery = all.find((b) => b.kind === 'variable' && b.name === 'delivery');
    assert.match(
      strings(delivery?.body.validation).join('\n'),
      /max_delivery_attempts >= 5 && var\.delivery\.max_delivery_attempts <= 100/,
    );
    const trigger = resource(files, 'google_pubsub_subscription', 'trigger');
    assert.match(String(trigger.ack_deadline_seconds), /var\.fetcher\.timeout_seconds/);
  });

  it('the dead-letter topic has a 7-day pull subscription that never expires', () => {
    const sub = resource(files, 'google_pubsub_subscription', 'dead_letter');
    assert.equal(sub.topic, ref('google_pubsub_topic.dead_letter.id'));
    assert.equal(sub.push_config, undefined);
    assert.equal(sub.message_retention_duration, '604800s');
    assert.equal(block(sub, 'expiration_policy').ttl, '');
  });

  it('the scheduler publishes to the trigger topic as its own service account on the cron variable', () => {
    const job = resource(files, 'google_cloud_scheduler_job', 'fetch');
    assert.equal(job.schedule, ref('var.schedule.cron'));
    assert.equal(job.time_zone, ref('var.schedule.time_zone'));
    const http = block(job, 'http_target');
    assert.equal(
      http.uri,
      `https://pubsub.googleapis.com/v1/${ref('google_pubsub_topic.trigger.id')}:publish`,
    );
    assert.equal(http.http_method, 'POST');
    assert.equal(
      block(http, 'oauth_token').service_account_email,
      ref('google_service_account.scheduler.email'),
    );
    const schedule = all.find((b) => b.kind === 'variable' && b.name === 'schedule');
    assert.match(String(schedule?.body.type), /cron\s*=\s*optional\(string, "5 \* \* \* \*"\)/);
  });

  it('the schedule is created paused by default, and an output gives the one command that resumes it', () => {
    const schedule = all.find((b) => b.kind === 'variable' && b.name === 'schedule');
    assert.match(String(schedule?.body.type), /paused\s*=\s*optional\(bool, true\)/);
    const job = resource(files, 'google_cloud_scheduler_job', 'fetch');
    assert.equal(job.paused, ref('var.schedule.paused'));
    const output = all.find((b) => b.kind === 'output' && b.name === 'resume_command');
    assert.equal(
      output?.body.value,
      `gcloud scheduler jobs resume ${ref('google_cloud_scheduler_job.fetch.name')} --location=${ref('var.region')} --project=${ref('var.project_id')}`,
    );
  });

  it('enables the required APIs without disabling them on destroy', () => {
    const apis = locals(files).get('apis');
    const text = String(apis);
    for (const api of [
      'cloudfunctions',
      'run',
      'cloudbuild',
      'artifactregistry',
      'pubsub',
      'cloudscheduler',
      'secretmanager',
      'firestore',
      'logging',
      'monitoring',
      'chronicle',
    ]) {
      assert.match(text, new RegExp(`"${api}\\.googleapis\\.com"`), api);
    }
    const svc = resource(files, 'google_project_service', 'enabled');
    assert.equal(svc.disable_on_destroy, false);
  });

  it('log-based metrics follow the documented log contract', () => {
    const metrics = resources(files, 'google_logging_metric');
    const l = locals(files);
    assert.match(String(l.get('fetch_run_filter')), /jsonPayload\.event="fetch_run"/);
    assert.match(String(l.get('chunk_processed_filter')), /jsonPayload\.event="chunk_processed"/);
    assert.equal(metrics.get('notifications_fetched')?.value_extractor, 'EXTRACT(jsonPayload.notifications)');
    assert.equal(metrics.get('entries_trimmed')?.value_extractor, 'EXTRACT(jsonPayload.trimmed)');
    assert.match(String(metrics.get('chunks_sent')?.filter), /jsonPayload\.outcome="sent"/);
    assert.match(String(metrics.get('chunks_dead_lettered')?.filter), /jsonPayload\.outcome="dead_lettered"/);
    for (const name of ['fetch_runs', 'chunks_processed']) {
      const m = metrics.get(name);
      assert.ok(isObject(m?.label_extractors));
      assert.equal(m.label_extractors.outcome, 'EXTRACT(jsonPayload.outcome)');
    }
    const failures = metrics.get('fetch_failures');
    assert.match(String(failures?.filter), /local\.fetch_run_filter.*jsonPayload\.outcome="failed"/);
    assert.ok(isObject(failures?.label_extractors));
    assert.equal(failures.label_extractors.reason, 'EXTRACT(jsonPayload.reason)');
    assert.match(String(metrics.get('retention_gaps')?.filter), /jsonPayload\.event="retention_gap"/);
    assert.match(String(metrics.get('retention_gaps')?.filter), /local\.fetcher_service/);
    // Entity imports: built per fetch run, and every sender metric by kind of chunk.
    assert.equal(metrics.get('entities_built')?.value_extractor, 'EXTRACT(jsonPayload.entities)');
    assert.equal(metrics.get('entities_built')?.filter, ref('local.fetch_run_filter'));
    for (const name of ['chunks_processed', 'chunks_sent', 'chunks_dead_lettered']) {
      const m = metrics.get(name);
      assert.ok(isObject(m?.label_extractors), name);
      assert.equal(m.label_extractors.kind, 'EXTRACT(jsonPayload.kind)', name);
      const labels = strings(block(m, 'metric_descriptor').labels);
      assert.ok(labels.includes('kind'), `${name} declares the kind label`);
    }
  });

  it('the log contract the metrics read is what the functions log (fields and kinds)', async () => {
    const { CHUNK_ATTRIBUTES } = await import('../../../shared/cloud/chunk_message.js');
    const { BODY_KINDS } = await import('../../../shared/chronicle/request_body.js');
    const text = readFileSync(join(MODULE_DIR, 'monitoring.tf'), 'utf8');
    for (const field of ['entities', 'entity_chunks', 'entities_skipped'])
      assert.match(text, new RegExp(`\\b${field}\\b`), `the contract names fetch_run field ${field}`);
    assert.equal(CHUNK_ATTRIBUTES.kind, 'kind');
    for (const kind of BODY_KINDS) assert.match(text, new RegExp(`kind = [^\\n]*\\b${kind}\\b`));
    const fetcher = readFileSync(join(MODULE_DIR, '..', 'functions', 'fetcher.ts'), 'utf8');
    for (const field of ['entities', 'entity_chunks', 'entities_skipped'])
      assert.match(fetcher, new RegExp(`\\b${field}: result\\.stats\\.`), `fetcher logs ${field}`);
    const sender = readFileSync(join(MODULE_DIR, '..', 'functions', 'sender.ts'), 'utf8');
    assert.match(sender, /\bkind: kindField\(message\.attributes\)/, 'sender logs kind');
  });

  it('alerts: dead-letter not empty, fetcher failing or absent for N periods, chunk backlog age', () => {
    const policies = resources(files, 'google_monitoring_alert_policy');
    assert.deepEqual([...policies.keys()].sort(), [
      'chunk_backlog_age',
      'dead_letter_not_empty',
      'fetcher_unhealthy',
      'gti_quota_exceeded',
      'retention_gap',
      'stream_not_read_to_end',
    ]);
    for (const p of policies.values())
      assert.equal(p.notification_channels, ref('var.notification_channels'));
    const dlq = block(policies.get('dead_letter_not_empty') as Body, 'conditions', 'condition_threshold');
    assert.match(String(dlq.filter), /num_undelivered_messages/);
    assert.match(String(dlq.filter), /local\.subscription_filter\.dead_letter/);
    assert.equal(dlq.threshold_value, 0);
    const fetcher = policies.get('fetcher_unhealthy') as Body;
    const text = strings(fetcher.conditions).join('\n');
    assert.match(text, /absent_window_seconds/);
    assert.match(text, /outcome="failed"/);
    assert.match(
      String(locals(files).get('absent_window_seconds')),
      /fetcher_missed_periods \* local\.schedule_period/,
    );
    const age = block(policies.get('chunk_backlog_age') as Body, 'conditions', 'condition_threshold');
    assert.match(String(age.filter), /oldest_unacked_message_age/);
    assert.equal(age.threshold_value, ref('var.alerts.chunk_backlog_age_seconds'));
  });

  it('alerts on a used-up GTI quota, a possible retention gap, and a stream not read to its end for N hours', () => {
    const policies = resources(files, 'google_monitoring_alert_policy');
    const quota = block(policies.get('gti_quota_exceeded') as Body, 'conditions', 'condition_threshold');
    assert.match(String(quota.filter), /local\.metric_type\.fetch_failures/);
    assert.match(String(quota.filter), /metric\.labels\.reason="gti_quota_exceeded"/);
    assert.equal(quota.threshold_value, 0);
    const gap = block(policies.get('retention_gap') as Body, 'conditions', 'condition_threshold');
    assert.match(String(gap.filter), /local\.metric_type\.retention_gaps/);
    const end = block(policies.get('stream_not_read_to_end') as Body, 'conditions', 'condition_absent');
    assert.match(String(end.filter), /local\.metric_type\.fetch_runs.*metric\.labels\.outcome="ok"/);
    assert.equal(end.duration, `${ref('local.stream_end_window_seconds')}s`);
    assert.match(
      String(locals(files).get('stream_end_window_seconds')),
      /var\.alerts\.stream_end_hours \* 3600/,
    );
    for (const p of policies.values()) assert.equal(p.count, ref('var.alerts.enabled ? 1 : 0'));
    const alerts = all.find((b) => b.kind === 'variable' && b.name === 'alerts');
    assert.match(String(alerts?.body.type), /stream_end_hours\s*=\s*optional\(number, 12\)/);
    assert.match(strings(alerts?.body.validation).join('\n'), /stream_end_hours <= 23/);
  });

  it('the fetcher gets the GTI pacing and paging limits', () => {
    const env = locals(files).get('fetcher_env');
    assert.ok(isObject(env));
    assert.match(String(env.VT_REQUESTS_PER_MINUTE), /var\.gti\.requests_per_minute == null \? "" :/);
    assert.equal(env.VT_MAX_PAGES_WITHOUT_NEW, ref('tostring(var.gti.max_pages_without_new)'));
  });

  it('every variable has a description and a type; all but booleans have a validation', () => {
    const problems: string[] = [];
    for (const b of all.filter((x) => x.kind === 'variable')) {
      if (typeof b.body.description !== 'string' || b.body.description.length < 10) {
        problems.push(`${b.name}: description`);
      }
      if (typeof b.body.type !== 'string') problems.push(`${b.name}: type`);
      if (b.body.type !== ref('bool') && !b.body.validation) problems.push(`${b.name}: validation`);
    }
    assert.deepEqual(problems, []);
  });

  it('every output has a description', () => {
    const outputs = all.filter((b) => b.kind === 'output');
    for (const name of [
      'fetcher_url',
      'sender_url',
      'topics',
      'subscriptions',
      'service_accounts',
      'dashboard_url',
    ]) {
      assert.ok(
        outputs.some((o) => o.name === name),
        name,
      );
    }
    for (const o of outputs) assert.equal(typeof o.body.description, 'string', o.name);
  });
});
