/**
 * `ioc-stream dev` (`npm run dev`): the cloud topology on this machine — Pub/Sub and Firestore
 * emulators, both functions under functions-framework, topics and subscriptions wired as terraform
 * wires them (sim/local_cloud.ts). GTI and Chronicle are the configured ones, or the bundled
 * simulators (demo data; a metadata-server fake gives the sender its token). Ctrl-C stops every
 * process it started.
 */
import { randomUUID } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { triggerData } from '../shared/cloud/trigger_message.js';
import { configValues } from '../shared/core/config.js';
import { gtiDate } from '../shared/gti/client.js';
import type { CliCommand } from './context.js';
import { COMMON_OPTIONS, commandConfig } from './options.js';

const USAGE = `Usage: ioc-stream dev [--config FILE] [--trigger] [--quiet]

Runs the cloud pipeline locally: Pub/Sub + Firestore emulators, fetchIocStream and sendToChronicle
under functions-framework, push subscriptions, retry and dead-letter policies as in terraform.
Without a GTI key it serves the bundled demo dataset; without CHRONICLE_CUSTOMER_ID it imports into
the bundled Chronicle simulator (log entries and, with CHRONICLE_ENTITY_CONTEXT, entities). Stop with
Ctrl-C.
  --config FILE   YAML file with configuration keys (environment variables override it)
  --trigger       publish one trigger as soon as everything runs
  --quiet         do not echo the functions' log lines`;

/** dist/cli/ → the repo root, whose package.json `main` is the compiled functions. */
const REPO_ROOT = fileURLToPath(new URL('../../', import.meta.url));

type Closer = { name: string; close: () => Promise<void> };

export const devCommand: CliCommand = async (argv, ctx) => {
  const { values } = parseArgs({
    args: [...argv],
    options: {
      ...COMMON_OPTIONS,
      trigger: { type: 'boolean', default: false },
      quiet: { type: 'boolean', default: false },
    },
    strict: true,
  });
  if (values.help) {
    ctx.stdout.write(`${USAGE}\n`);
    return 0;
  }
  const config = commandConfig(ctx.env, values.config);
  const out = (line: string) => ctx.stdout.write(`${line}\n`);
  const { missingEmulatorParts, EMULATOR_INSTALL_HINT, startPubsubEmulator, startFirestoreEmulator } =
    await import('../sim/emulators.js');
  const missing = missingEmulatorParts();
  if (missing.length > 0) {
    ctx.stderr.write(`ioc-stream dev: missing ${missing.join(', ')}. ${EMULATOR_INSTALL_HINT}\n`);
    return 1;
  }

  const closers: Closer[] = [];
  const stopAll = async () => {
    for (const c of closers.reverse()) {
      await c.close().catch((error: unknown) => ctx.stderr.write(`stopping ${c.name}: ${String(error)}\n`));
    }
    closers.length = 0;
  };
  // The functions get their configuration as environment variables, as deployed (the file's values
  // under the environment's); the local cloud hands each only the variables terraform gives it.
  const env: NodeJS.ProcessEnv = {
    ...ctx.env,
    ...configValues(ctx.env, values.config),
  };
  delete env.PUBSUB_EMULATOR_HOST;
  delete env.FIRESTORE_EMULATOR_HOST;
  const lines: string[] = [];

  try {
    const [pubsub, firestore] = await Promise.all([startPubsubEmulator(), startFirestoreEmulator()]);
    closers.push({ name: 'Pub/Sub emulator', close: () => pubsub.stop() });
    closers.push({ name: 'Firestore emulator', close: () => firestore.stop() });
    lines.push(`Pub/Sub emulator     ${pubsub.host} (pid ${pubsub.pid})`);
    lines.push(`Firestore emulator   ${firestore.host} (pid ${firestore.pid})`);

    if (config.gti.apiKey === undefined && config.gti.secretName === undefined) {
      const { startGtiSimulator } = await import('../sim/gti_simulator.js');
      const { demoDataset } = await import('../sim/dataset.js');
      const dataset = demoDataset();
      const apiKey = `dev-${randomUUID()}`;
      const gti = await startGtiSimulator({ dataset, apiKey });
      closers.push({ name: 'GTI simulator', close: () => gti.close() });
      env.VT_API_KEY = apiKey;
      env.VT_API_BASE_URL = gti.baseUrl;
      if (dataset.size > 0) env.VT_DATE_FILTER = `${gtiDate(dataset.dateOf(0) - 1)}Z`;
      lines.push(`GTI                  simulator ${gti.baseUrl} (${dataset.size} demo notifications)`);
    } else {
      lines.push(`GTI                  ${config.gti.baseUrl}`);
    }

    let chronicleStats: (() => string) | undefined;
    if (config.chronicle.customerId === undefined) {
      const { startChronicleSimulator } = await import('../sim/chronicle_simulator.js');
      const { startMetadataFake } = await import('../sim/metadata_server.js');
      const { createChronicleParsers } = await import('../sim/chronicle_parsers.js');
      // The log type exists, as after the README's first deploy step; `parser install` and
      // `doctor` work against it like against a real instance.
      const parsers = createChronicleParsers({ logTypes: [config.chronicle.logType] });
      const chronicle = await startChronicleSimulator({ route: parsers.route });
      const metadata = await startMetadataFake({ token: `dev-token-${randomUUID()}` });
      closers.push({ name: 'Chronicle simulator', close: () => chronicle.close() });
      closers.push({ name: 'metadata server fake', close: () => metadata.close() });
      env.CHRONICLE_CUSTOMER_ID = randomUUID();
      env.CHRONICLE_API_BASE_URL = chronicle.baseUrl;
      env.GCE_METADATA_HOST = metadata.host;
      env.METADATA_SERVER_DETECTION = 'assume-present';
      const entities = chronicle.entityImports;
      chronicleStats = () =>
        `${chronicle.acceptedEntryCount} entries (${chronicle.acceptedIds.size} distinct) in ${chronicle.requests.length} requests, ` +
        `${entities.acceptedEntityCount} entities (${entities.acceptedIds.size} distinct) in ${entities.requests.length} entities:import requests`;
      lines.push(
        `Chronicle            simulator ${chronicle.baseUrl} (token from metadata fake ${metadata.host})`,
      );
    } else {
      lines.push(`Chronicle            ${config.chronicle.baseUrl} (Application Default Credentials)`);
    }

    const projectId = config.gcpProjectId ?? 'ioc-stream-local';
    const { startLocalCloud, LOCAL_DELIVERY } = await import('../sim/local_cloud.js');
    const cloud = await startLocalCloud({
      projectId,
      pubsubHost: pubsub.host,
      firestoreHost: firestore.host,
      source: REPO_ROOT,
      prefix: 'ioc-stream',
      env: { USE_CASE_NAME: config.entries.useCaseName, ...env },
      ...(values.quiet ? {} : { onLine: (target, line) => ctx.stderr.write(`[${target}] ${line}\n`) }),
    });
    // Stopped before the emulators (closers run in reverse).
    closers.push({ name: 'functions', close: () => cloud.stop() });
    const n = cloud.names;
    lines.push(`fetchIocStream       ${cloud.fetcher.url} (pid ${cloud.fetcher.pid})`);
    lines.push(`sendToChronicle      ${cloud.sender.url} (pid ${cloud.sender.pid})`);
    lines.push(`topics               ${n.trigger}, ${n.chunks}, ${n.deadLetter} in project ${projectId}`);
    lines.push(
      `subscriptions        ${n.triggerSubscription} (push), ${n.chunksSubscription} (push, retry ` +
        `${LOCAL_DELIVERY.minimumBackoffSeconds}-${LOCAL_DELIVERY.maximumBackoffSeconds}s, dead-letter after ` +
        `${LOCAL_DELIVERY.maxDeliveryAttempts}), ${n.deadLetterSubscription} (pull)`,
    );
    out('ioc-stream dev: the cloud pipeline runs locally');
    for (const line of lines) out(`  ${line}`);
    out('');
    out('Trigger a fetch from another shell:');
    out(
      `  PUBSUB_EMULATOR_HOST=${pubsub.host} GCP_PROJECT_ID=${projectId} PUBSUB_TRIGGER_TOPIC=${n.trigger} npx ioc-stream trigger`,
    );
    out('Inspect dead letters:');
    out(
      `  PUBSUB_EMULATOR_HOST=${pubsub.host} GCP_PROJECT_ID=${projectId} PUBSUB_CHUNKS_TOPIC=${n.chunks} PUBSUB_DEAD_LETTER_SUBSCRIPTION=${n.deadLetterSubscription} npx ioc-stream dlq list`,
    );
    out('Ctrl-C stops everything.');

    if (values.trigger) {
      const id = await cloud.pubsub
        .topic(n.trigger)
        .publishMessage({ data: triggerData({ reason: 'dev' }), attributes: { source: 'ioc-stream-dev' } });
      out(`published trigger ${id}`);
    }

    if (!ctx.signal.aborted) {
      await new Promise<void>((resolve) =>
        ctx.signal.addEventListener('abort', () => resolve(), { once: true }),
      );
    }
    out('stopping...');
    if (chronicleStats) out(`Chronicle simulator received ${chronicleStats()}`);
    return 0;
  } finally {
    await stopAll();
  }
};
