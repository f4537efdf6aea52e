/**
 * `ioc-stream trigger`: publishes one fetch trigger to PUBSUB_TRIGGER_TOPIC (the real topic, or the
 * emulator's when PUBSUB_EMULATOR_HOST is set, e.g. the one `ioc-stream dev` prints).
 */
import { parseArgs } from 'node:util';
import { createPublisher, pubSubSettings } from '../shared/cloud/pubsub.js';
import { parseTriggerData, triggerData } from '../shared/cloud/trigger_message.js';
import { ConfigError } from '../shared/core/errors.js';
import type { CliCommand } from './context.js';
import { COMMON_OPTIONS, commandConfig } from './options.js';

const USAGE = `Usage: ioc-stream trigger [--filter TERMS] [--start ISO_TIME] [--config FILE]

Publishes one fetch trigger message to PUBSUB_TRIGGER_TOPIC in GCP_PROJECT_ID.
  --filter TERMS    extra ioc_stream filter terms for this run (own checkpoint per filter)
  --start ISO_TIME  backfill: reset the checkpoint to this time and fetch from there
  --config FILE     YAML file with configuration keys (environment variables override it)`;

export const triggerCommand: CliCommand = async (argv, ctx) => {
  const { values } = parseArgs({
    args: [...argv],
    options: {
      ...COMMON_OPTIONS,
      filter: { type: 'string' },
      start: { type: 'string' },
    },
    strict: true,
  });
  if (values.help) {
    ctx.stdout.write(`${USAGE}\n`);
    return 0;
  }
  const config = commandConfig(ctx.env, values.config);
  const topic = config.pubsub.triggerTopic;
  const missing = [
    ...(config.gcpProjectId === undefined ? ['GCP_PROJECT_ID: required'] : []),
    ...(topic === undefined ? ['PUBSUB_TRIGGER_TOPIC: required'] : []),
  ];
  if (missing.length > 0 || topic === undefined) throw new ConfigError(missing);
  // Validate exactly as the fetcher will.
  const overrides = parseTriggerData(
    JSON.stringify({
      ...(values.filter === undefined ? {} : { filter: values.filter }),
      ...(values.start === undefined ? {} : { start: values.start }),
      reason: 'cli',
    }),
  );
  const publisher = createPublisher(pubSubSettings(config));
  try {
    const id = await publisher.publish(topic, triggerData(overrides), { source: 'ioc-stream-trigger' });
    ctx.stdout.write(
      `published trigger ${id} to projects/${config.gcpProjectId}/topics/${topic}` +
        `${config.pubsub.emulatorHost ? ` (emulator ${config.pubsub.emulatorHost})` : ''}\n`,
    );
    return 0;
  } finally {
    await publisher.close();
  }
};
