/**
 * `ioc-stream trigger`: publishes one fetch trigger to PUBSUB_TRIGGER_TOPIC (the deployed topic, or
 * the emulator's when PUBSUB_EMULATOR_HOST is set, e.g. the one `ioc-stream dev` prints).
 */
import { parseArgs } from 'node:util';
import { createPublisher, pubSubSettings } from '../shared/cloud/pubsub.js';
import { parseTriggerData, triggerData } from '../shared/cloud/trigger_message.js';
import { ConfigError } from '../shared/core/errors.js';
import type { CliCommand } from './context.js';
import { COMMON_OPTIONS, commandConfig } from './options.js';

const USAGE = `Usage: ioc-stream trigger [--filter TERMS] [--start TIME] [--project ID] [--topic TOPIC] [--config FILE]

Publishes one fetch trigger message to PUBSUB_TRIGGER_TOPIC in GCP_PROJECT_ID. The deployed fetcher
runs at once; the caller needs roles/pubsub.publisher on the trigger topic.
  --filter TERMS    extra ioc_stream filter terms for this run (own checkpoint per filter)
  --start TIME      backfill: reset the checkpoint to TIME and fetch from there; an ISO 8601 time
                    or relative to now: -7d, -12h, -30m, -1w (GTI keeps notifications 7 days)
  --project ID      project of the topic (GCP_PROJECT_ID)
  --topic TOPIC     trigger topic id (PUBSUB_TRIGGER_TOPIC)
  --config FILE     YAML file with configuration keys (environment variables override it)`;

/** GTI deletes notifications after 7 days: a start further back fetches nothing more. */
const GTI_RETENTION_SECONDS = 7 * 86_400;

/**
 * `--start -7d` as `--start=-7d`: parseArgs takes a value starting with a dash for another option,
 * and a relative start always starts with one.
 */
export function joinRelativeStart(argv: readonly string[]): string[] {
  const out: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] ?? '';
    const next = argv[i + 1];
    if (arg === '--start' && next !== undefined && /^-\d+[mhdw]$/.test(next)) {
      out.push(`--start=${next}`);
      i += 1;
    } else {
      out.push(arg);
    }
  }
  return out;
}

export const triggerCommand: CliCommand = async (argv, ctx) => {
  const { values } = parseArgs({
    args: joinRelativeStart(argv),
    options: {
      ...COMMON_OPTIONS,
      filter: { type: 'string' },
      start: { type: 'string' },
      project: { type: 'string' },
      topic: { type: 'string' },
    },
    strict: true,
  });
  if (values.help) {
    ctx.stdout.write(`${USAGE}\n`);
    return 0;
  }
  const env = { ...ctx.env };
  if (values.project !== undefined) env.GCP_PROJECT_ID = values.project;
  if (values.topic !== undefined) env.PUBSUB_TRIGGER_TOPIC = values.topic;
  const config = commandConfig(env, values.config);
  const topic = config.pubsub.triggerTopic;
  const missing = [
    ...(config.gcpProjectId === undefined ? ['GCP_PROJECT_ID: required (or --project)'] : []),
    ...(topic === undefined ? ['PUBSUB_TRIGGER_TOPIC: required (or --topic)'] : []),
  ];
  if (missing.length > 0 || topic === undefined) throw new ConfigError(missing);
  // Validate exactly as the fetcher will; a relative start is resolved now, here.
  const now = new Date();
  const overrides = parseTriggerData(
    JSON.stringify({
      ...(values.filter === undefined ? {} : { filter: values.filter }),
      ...(values.start === undefined ? {} : { start: values.start }),
      reason: 'cli',
    }),
    now,
  );
  if (
    overrides.start !== undefined &&
    overrides.start < Math.floor(now.getTime() / 1000) - GTI_RETENTION_SECONDS
  ) {
    ctx.stderr.write(
      'ioc-stream trigger: note: GTI keeps notifications 7 days; the run fetches what it still holds.\n',
    );
  }
  const name = `projects/${config.gcpProjectId}/topics/${topic}`;
  const publisher = createPublisher(pubSubSettings(config));
  try {
    const id = await publisher.publish(topic, triggerData(overrides), { source: 'ioc-stream-trigger' });
    ctx.stdout.write(
      `published trigger ${id} to ${name}` +
        `${overrides.start === undefined ? '' : ` (backfill from ${new Date(overrides.start * 1000).toISOString()})`}` +
        `${config.pubsub.emulatorHost ? ` (emulator ${config.pubsub.emulatorHost})` : ''}\n`,
    );
    return 0;
  } finally {
    // Closing a client that never connected fails the same way as the publish: keep the first error.
    await publisher.close().catch(() => undefined);
  }
};
