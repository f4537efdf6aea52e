/**
 * `ioc-stream dlq list|replay|purge`: inspect, replay and purge the chunks waiting on the
 * dead-letter subscription. The logic lives in shared/cloud/dlq.ts; this module parses options, wires
 * the Pub/Sub transport (and, for `replay --direct`, the same Chronicle client and error handling as
 * the sender), shows progress on stderr and prints the result on stdout.
 */

import { parseArgs } from 'node:util';
import { createAccessTokenProvider } from '../shared/chronicle/auth.js';
import { createChronicleClient } from '../shared/chronicle/client.js';
import { deliverBody } from '../shared/chronicle/delivery.js';
import { chronicleTarget } from '../shared/chronicle/resources.js';
import { parseChunkData } from '../shared/cloud/chunk_message.js';
import {
  createPubSubTransport,
  type DlqSummary,
  type DlqTransport,
  DlqUsageError,
  defaultArchivePath,
  listDeadLetters,
  type MessageFilter,
  openArchive,
  PubSubOperationError,
  parseFilter,
  purgeDeadLetters,
  type ReplaySink,
  replayDeadLetters,
  topicName,
  topicSink,
} from '../shared/cloud/dlq.js';
import { pubSubSettings } from '../shared/cloud/pubsub.js';
import { type Config, requireSettings } from '../shared/core/config.js';
import { ConfigError, describeError } from '../shared/core/errors.js';
import { createLogger, type Logger } from '../shared/core/logger.js';
import { redact } from '../shared/core/redact.js';
import { retryPolicy } from '../shared/core/retry_config.js';
import type { CliCommand, CliContext } from './context.js';
import { COMMON_OPTIONS, commandConfig } from './options.js';
import { createProgressBar } from './progress_bar.js';

const USAGE = `Usage: ioc-stream dlq <list|replay|purge> [options]

  list     show what waits on the dead-letter subscription, grouped by kind (logs or entities chunks)
           and reason (nothing is acknowledged)
  replay   move messages back to the chunks topic (or --direct to Chronicle: logs:import or
           entities:import by the chunk's kind); each one is acknowledged on the dead-letter
           subscription only after its copy was confirmed
  purge    discard messages, only with --yes, after writing each one to a local NDJSON archive

Options (all subcommands):
  --subscription SUB   dead-letter subscription id or full name (PUBSUB_DEAD_LETTER_SUBSCRIPTION)
  --project ID         project of the subscription and topic (GCP_PROJECT_ID)
  --config FILE        YAML file with configuration keys (environment variables override it)
  --reason R           only messages whose reason, HTTP status or google.rpc status is R
                       (e.g. permanent_error, max_delivery_attempts, invalid_message, 403,
                       PERMISSION_DENIED); repeatable, any may match
  --filter KEY=VALUE   only messages whose attribute KEY equals VALUE (* = present); repeatable, all must match
                       (e.g. kind=entities)
  --limit N            at most N messages (list: inspected; replay: moved; purge: purged)
  --json               the result as one JSON object on stdout

replay:
  --topic TOPIC        chunks topic to republish to (PUBSUB_CHUNKS_TOPIC)
  --direct             send straight to Chronicle instead (CHRONICLE_* settings and Google credentials)
  --max-replays N      leave messages already replayed N times in place and report them (DLQ_MAX_REPLAYS)
  --dry-run            show what would move; acknowledge nothing
  --rate N             at most N messages per second (stay under the Chronicle quota)
  --concurrency N      messages in flight at once (default 4)
  --quiet              no progress bar

purge:
  --yes                really purge (without it nothing changes: it prints what would be purged)
  --archive PATH       NDJSON archive (default OUTPUT_DIR/dlq-archive-<time>.ndjson)

Exit codes: 0 done (also when there was nothing to do), 1 failed or stopped on an error, 2 bad usage.`;

const SUBCOMMANDS = ['list', 'replay', 'purge'] as const;
type Subcommand = (typeof SUBCOMMANDS)[number];

function positiveInt(name: string, raw: string | undefined, max = 1_000_000): number | undefined {
  if (raw === undefined) return undefined;
  if (!/^\d+$/.test(raw) || Number(raw) < 1 || Number(raw) > max)
    throw new DlqUsageError(`--${name} must be a whole number between 1 and ${max}, got "${raw}"`);
  return Number(raw);
}

function positiveNumber(name: string, raw: string | undefined): number | undefined {
  if (raw === undefined) return undefined;
  const value = Number(raw);
  if (!/^\d*\.?\d+$/.test(raw) || !(value > 0))
    throw new DlqUsageError(`--${name} must be a positive number, got "${raw}"`);
  return value;
}

const mb = (bytes: number) =>
  bytes >= 1e6
    ? `${(bytes / 1e6).toFixed(1)} MB`
    : bytes >= 1e3
      ? `${(bytes / 1e3).toFixed(1)} kB`
      : `${bytes} B`;

function shortSubscription(name: string | undefined): string {
  return name === undefined ? '' : (name.split('/').pop() ?? name);
}

/** The reason table of `dlq list` (and of a purge/dry run preview). */
export function formatSummaryTable(summary: DlqSummary): string {
  const rows = summary.groups.map((g) => [
    String(g.messages),
    String(g.entries),
    mb(g.bytes),
    g.kind,
    g.reason,
    g.httpStatus ?? '-',
    g.rpcStatus ?? '-',
    g.deliveryCount === undefined ? '-' : String(g.deliveryCount),
    shortSubscription(g.sourceSubscription) || '-',
    g.oldest ?? '-',
    g.errorMessage ?? '-',
  ]);
  const header = [
    'MESSAGES',
    'ENTRIES',
    'BYTES',
    'KIND',
    'REASON',
    'HTTP',
    'RPC STATUS',
    'DELIVERIES',
    'SOURCE SUB',
    'OLDEST',
    'ERROR',
  ];
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: string[]) =>
    cells
      .map((c, i) =>
        i === cells.length - 1 ? c : i < 3 ? c.padStart(widths[i] ?? 0) : c.padEnd(widths[i] ?? 0),
      )
      .join('  ');
  return [line(header), ...rows.map(line)].join('\n');
}

interface Resolved {
  config: Config;
  subscription: string;
  projectId: string;
}

function resolveConfig(
  sub: Subcommand,
  values: {
    config?: string;
    project?: string;
    subscription?: string;
    topic?: string;
    'max-replays'?: string;
    direct?: boolean;
  },
  ctx: CliContext,
): Resolved {
  const env = { ...ctx.env };
  if (values.project !== undefined) env.GCP_PROJECT_ID = values.project;
  // Full resource names are passed as they are; short ids go through the config's validation.
  if (values.subscription !== undefined && !values.subscription.startsWith('projects/'))
    env.PUBSUB_DEAD_LETTER_SUBSCRIPTION = values.subscription;
  if (values.topic !== undefined && !values.topic.startsWith('projects/'))
    env.PUBSUB_CHUNKS_TOPIC = values.topic;
  if (values['max-replays'] !== undefined) env.DLQ_MAX_REPLAYS = values['max-replays'];
  const config = commandConfig(env, values.config);
  const subscription = values.subscription?.startsWith('projects/')
    ? values.subscription
    : config.pubsub.deadLetterSubscription;
  const missing: string[] = [];
  if (config.gcpProjectId === undefined) missing.push('GCP_PROJECT_ID: required (or --project)');
  if (subscription === undefined)
    missing.push('PUBSUB_DEAD_LETTER_SUBSCRIPTION: required (or --subscription)');
  if (
    sub === 'replay' &&
    !values.direct &&
    values.topic === undefined &&
    config.pubsub.chunksTopic === undefined
  )
    missing.push('PUBSUB_CHUNKS_TOPIC: required to replay to the chunks topic (or --topic, or --direct)');
  if (missing.length > 0) throw new ConfigError(missing);
  if (sub === 'replay' && values.direct) requireSettings(config, 'chronicle');
  return { config, subscription: subscription ?? '', projectId: config.gcpProjectId ?? '' };
}

function directSink(config: Config, logger: Logger, signal: AbortSignal): ReplaySink {
  const target = chronicleTarget(config);
  const importer = createChronicleClient({
    target,
    getToken: createAccessTokenProvider(target.projectId),
    timeoutMs: config.http.timeoutMs,
  });
  const policy = retryPolicy(config);
  return {
    description: `Chronicle ${importer.target} and ${importer.entitiesTarget}`,
    send: (message) => {
      // The endpoint follows the chunk's kind; too large splits it like the sender does.
      const chunk = parseChunkData(message.data, message.attributes);
      return deliverBody(importer, chunk.kind, chunk.payload, policy, {
        signal,
        onRetry: (info) =>
          logger.warn('Chronicle request failed; retrying', { messageId: message.messageId, ...info }),
        onSplit: (info) =>
          logger.info('Chronicle answered request too large; sending the chunk in two halves', {
            kind: chunk.kind,
            ...info,
          }),
      });
    },
  };
}

export const dlqCommand: CliCommand = async (argv, ctx) => {
  const [first, ...rest] = argv;
  if (first === undefined || first === '--help' || first === '-h' || first === 'help') {
    ctx.stdout.write(`${USAGE}\n`);
    return first === undefined ? 2 : 0;
  }
  if (!(SUBCOMMANDS as readonly string[]).includes(first)) {
    ctx.stderr.write(`ioc-stream dlq: unknown subcommand "${first}"\n${USAGE}\n`);
    return 2;
  }
  const sub = first as Subcommand;
  const { values } = parseArgs({
    args: [...rest],
    options: {
      ...COMMON_OPTIONS,
      subscription: { type: 'string' },
      topic: { type: 'string' },
      project: { type: 'string' },
      reason: { type: 'string', multiple: true, default: [] },
      filter: { type: 'string', multiple: true, default: [] },
      limit: { type: 'string' },
      json: { type: 'boolean', default: false },
      direct: { type: 'boolean', default: false },
      'max-replays': { type: 'string' },
      'dry-run': { type: 'boolean', default: false },
      rate: { type: 'string' },
      concurrency: { type: 'string' },
      quiet: { type: 'boolean', default: false },
      yes: { type: 'boolean', default: false },
      archive: { type: 'string' },
      // Tuning, mainly for tests: held messages' ack deadline, messages per pull, empty-pull wait.
      'lease-seconds': { type: 'string' },
      'batch-size': { type: 'string' },
      'pull-wait-ms': { type: 'string' },
    },
    strict: true,
  });
  if (values.help) {
    ctx.stdout.write(`${USAGE}\n`);
    return 0;
  }
  let filter: MessageFilter;
  let limit: number | undefined;
  let rate: number | undefined;
  let concurrency: number | undefined;
  let leaseSeconds: number | undefined;
  let batchSize: number | undefined;
  let pullWaitMs: number | undefined;
  try {
    filter = parseFilter(values.reason, values.filter);
    limit = positiveInt('limit', values.limit);
    rate = positiveNumber('rate', values.rate);
    concurrency = positiveInt('concurrency', values.concurrency, 64);
    leaseSeconds = positiveInt('lease-seconds', values['lease-seconds'], 600);
    batchSize = positiveInt('batch-size', values['batch-size'], 1000);
    pullWaitMs = positiveInt('pull-wait-ms', values['pull-wait-ms'], 60_000);
    if (sub !== 'replay') {
      for (const flag of ['direct', 'dry-run'] as const)
        if (values[flag]) throw new DlqUsageError(`--${flag} applies to replay only`);
      for (const flag of ['topic', 'rate', 'concurrency', 'max-replays'] as const)
        if (values[flag] !== undefined && sub === 'purge')
          throw new DlqUsageError(`--${flag} applies to replay only`);
    }
    if (sub !== 'purge' && (values.yes || values.archive !== undefined))
      throw new DlqUsageError('--yes and --archive apply to purge only');
    if (values.direct && values.topic !== undefined)
      throw new DlqUsageError('--direct sends to Chronicle; it cannot be combined with --topic');
  } catch (error) {
    if (!(error instanceof DlqUsageError)) throw error;
    ctx.stderr.write(`ioc-stream dlq ${sub}: ${error.message}\n`);
    return 2;
  }

  const { config, subscription, projectId } = resolveConfig(sub, values, ctx);
  const logger = createLogger({
    level: config.log.level,
    format: config.log.format,
    sink: ctx.stderr,
    fields: { command: `dlq ${sub}` },
  });
  const transport: DlqTransport = createPubSubTransport({
    settings: pubSubSettings(config),
    subscription,
    ...(pullWaitMs === undefined ? {} : { pullWaitMs }),
  });
  const scan = {
    signal: ctx.signal,
    onWarning: (message: string) => logger.warn(message),
    ...(leaseSeconds === undefined ? {} : { leaseSeconds }),
    ...(batchSize === undefined ? {} : { batchSize }),
  };
  const out = (text: string) => ctx.stdout.write(`${text}\n`);
  const maxReplays = config.dlq.maxReplays;
  try {
    if (sub === 'list') {
      const result = await listDeadLetters(transport, {
        ...scan,
        filter,
        maxReplays,
        ...(limit === undefined ? {} : { limit }),
      });
      if (values.json) {
        out(JSON.stringify({ ...result, maxReplays }));
        return 0;
      }
      const s = result.summary;
      if (s.messages === 0) {
        out(
          result.unmatched > 0
            ? `No dead-lettered messages match ${result.filter} on ${result.subscription} (${result.unmatched} others waiting): nothing to do.`
            : `No dead-lettered messages on ${result.subscription}: nothing to do.`,
        );
        return 0;
      }
      out(
        `${s.messages} dead-lettered messages${result.limited ? ' (stopped at --limit; there may be more)' : ''} on ${result.subscription}` +
          `${filter.reasons.length + filter.attributes.length > 0 ? ` matching ${result.filter}` : ''}: ` +
          `${s.entries} entries, ${mb(s.bytes)}; oldest ${s.oldest ?? '-'}, newest ${s.newest ?? '-'}`,
      );
      out(
        `${s.replayed} already replayed at least once; ${s.atMaxReplays} at the replay limit (${maxReplays}), which replay leaves in place` +
          (result.unmatched > 0 ? `; ${result.unmatched} other messages did not match the filter` : ''),
      );
      out('');
      out(formatSummaryTable(s));
      out('');
      out('Fix the cause, then: ioc-stream dlq replay [--reason R] [--dry-run]');
      return 0;
    }

    if (sub === 'purge') {
      const archive = values.yes
        ? await openArchive(values.archive ?? defaultArchivePath(config.outputDir, new Date()))
        : undefined;
      const result = await purgeDeadLetters(transport, {
        ...scan,
        filter,
        maxReplays,
        archive,
        ...(limit === undefined ? {} : { limit }),
      }).finally(() => archive?.close());
      if (values.json) {
        out(JSON.stringify({ ...result, dryRun: archive === undefined }));
        return 0;
      }
      const s = result.summary;
      if (s.messages === 0) {
        out(`Nothing to purge: no dead-lettered messages match ${result.filter} on ${result.subscription}.`);
        return 0;
      }
      if (archive === undefined) {
        out(
          `Would purge ${s.messages} messages (${s.entries} entries, ${mb(s.bytes)}) matching ${result.filter} on ${result.subscription}:`,
        );
        out('');
        out(formatSummaryTable(s));
        out('');
        out('Nothing was changed. Run again with --yes to archive them locally and then discard them.');
        return 0;
      }
      out(
        `Purged ${result.purged} messages (${s.entries} entries, ${mb(s.bytes)}) from ${result.subscription}; ` +
          `each was first written to ${result.archivePath}`,
      );
      return 0;
    }

    // replay
    const topic = topicName(projectId, values.topic ?? config.pubsub.chunksTopic ?? '');
    const sink = values.direct ? directSink(config, logger, ctx.signal) : topicSink(transport, topic);
    const bar = createProgressBar(
      ctx.stderr,
      values['dry-run'] ? 'would move' : 'moved',
      !values.quiet && !values.json && config.log.format === 'text',
    );
    if (!values.quiet) {
      logger.info(values['dry-run'] ? 'replay dry run' : 'replaying', {
        from: transport.subscription,
        to: sink.description,
        filter:
          filter.reasons.length + filter.attributes.length > 0
            ? JSON.stringify(values.filter.concat(values.reason))
            : undefined,
        limit,
        rate,
        maxReplays,
      });
    }
    const result = await replayDeadLetters(transport, sink, {
      ...scan,
      filter,
      maxReplays,
      dryRun: values['dry-run'],
      validate: (m) => parseChunkData(m.data, m.attributes),
      ...(limit === undefined ? {} : { limit }),
      ...(rate === undefined ? {} : { rate }),
      ...(concurrency === undefined ? {} : { concurrency }),
      onProgress: (p) =>
        bar.update({
          done: p.moved,
          total: limit,
          extra: {
            scanned: p.scanned,
            'at max replays': p.leftAtMaxReplays,
            invalid: p.leftInvalid,
            failed: p.failed,
          },
        }),
    }).finally(() => bar.done());
    if (values.json) {
      out(JSON.stringify({ ...result, maxReplays }));
      return result.error === undefined ? 0 : 1;
    }
    const rateText =
      result.movingSeconds > 0 ? ` (${(result.moved / result.movingSeconds).toFixed(1)} msg/s)` : '';
    if (result.matched === 0 && result.error === undefined) {
      out(`Nothing to replay: no dead-lettered messages match ${result.filter} on ${result.subscription}.`);
      return 0;
    }
    out(
      `${result.dryRun ? 'Would replay' : 'Replayed'} ${result.moved} messages (${result.entries} entries) from ` +
        `${result.subscription} to ${result.destination} in ${result.seconds.toFixed(1)} s${result.dryRun ? '' : rateText}` +
        `${result.limited ? ' (stopped at --limit)' : ''}.`,
    );
    if (result.leftAtMaxReplays > 0) {
      const ids = result.atMaxReplays.slice(0, 10).map((r) => r.messageId);
      out(
        `Left in place: ${result.leftAtMaxReplays} messages already replayed ${maxReplays} times or more ` +
          `(ids ${ids.join(', ')}${result.atMaxReplays.length > ids.length ? ', …' : ''}); inspect them with ` +
          `\`ioc-stream dlq list\`, then purge them or raise --max-replays.`,
      );
    }
    if (result.leftInvalid > 0)
      out(
        `Left in place: ${result.leftInvalid} messages whose data is not a valid chunk (replaying cannot help; purge them).`,
      );
    if (result.dryRun) out('Dry run: nothing was acknowledged or sent.');
    if (result.error !== undefined) {
      ctx.stderr.write(
        `ioc-stream dlq replay: stopped: ${redact(result.error)}\nThe message concerned and every message not yet moved stay on the dead-letter subscription; fix the cause and run the replay again.\n`,
      );
      return 1;
    }
    return 0;
  } catch (error) {
    if (error instanceof PubSubOperationError) {
      ctx.stderr.write(`ioc-stream dlq ${sub}: ${redact(error.message)}\n`);
      return 1;
    }
    if (error instanceof ConfigError) throw error;
    ctx.stderr.write(`ioc-stream dlq ${sub}: failed: ${redact(describeError(error)).split('\n')[0]}\n`);
    return 1;
  } finally {
    await transport.close();
  }
};
