/**
 * `ioc-stream sync`: fetch → clean → chunk → send, inline. With no GTI key configured it runs
 * against the bundled GTI simulator (demo data); with no Chronicle configured it writes to the
 * local sink under OUTPUT_DIR. It says which at startup.
 */

import { parseArgs } from 'node:util';
import { createAccessTokenProvider } from '../shared/chronicle/auth.js';
import { type ChronicleImporter, createChronicleClient } from '../shared/chronicle/client.js';
import { createLocalSink } from '../shared/chronicle/local_sink.js';
import { chronicleTarget } from '../shared/chronicle/resources.js';
import { type Config, requireSettings } from '../shared/core/config.js';
import { InterruptedError } from '../shared/core/errors.js';
import { createLogger, type Logger } from '../shared/core/logger.js';
import { Secret } from '../shared/core/redact.js';
import { retryPolicy } from '../shared/core/retry_config.js';
import { createApiKeyProvider } from '../shared/gti/api_key.js';
import { createGtiClient } from '../shared/gti/client.js';
import { FileCheckpointStore } from '../shared/pipeline/checkpoint.js';
import { lockCheckpoint } from '../shared/pipeline/checkpoint_lock.js';
import { runSync, type SyncSummary } from '../shared/pipeline/sync.js';
import type { CliCommand, CliContext } from './context.js';
import { COMMON_OPTIONS, commandConfig } from './options.js';
import { createProgress } from './progress.js';

const USAGE = `Usage: ioc-stream sync [--config FILE] [--quiet] [--json] [--concurrency N]

Fetches new IOC Stream notifications since the checkpoint and imports them into Chronicle.
  --config FILE     YAML file with configuration keys (environment variables override it)
  --quiet           no progress, only warnings, errors and the summary
  --json            JSON log lines (LOG_FORMAT=json) and a JSON summary on stdout
  --concurrency N   chunks sent to Chronicle at once (CHRONICLE_CONCURRENCY)`;

interface GtiSource {
  gti: ReturnType<typeof createGtiClient>;
  initialStartSeconds: number | undefined;
  description: string;
  close: () => Promise<void>;
}

async function gtiSource(config: Config, logger: Logger): Promise<GtiSource> {
  const retry = retryPolicy(config);
  const onRetry = (info: {
    attempt: number;
    delayMs: number;
    status: number | undefined;
    code: string | undefined;
  }) => logger.warn('GTI request failed; retrying', info);
  if (config.gti.apiKey !== undefined || config.gti.secretName !== undefined) {
    const apiKey = createApiKeyProvider(config);
    return {
      gti: createGtiClient({
        baseUrl: config.gti.baseUrl,
        apiKey,
        timeoutMs: config.http.timeoutMs,
        retry,
        onRetry,
        requestsPerMinute: config.gti.requestsPerMinute,
      }),
      initialStartSeconds: undefined,
      description: `GTI ${config.gti.baseUrl}`,
      close: async () => undefined,
    };
  }
  const { startGtiSimulator } = await import('../sim/gti_simulator.js');
  const { demoDataset } = await import('../sim/dataset.js');
  const dataset = demoDataset();
  const key = new Secret(`demo-${Math.random().toString(36).slice(2)}${Date.now().toString(36)}`);
  const sim = await startGtiSimulator({ dataset, apiKey: key.reveal() });
  return {
    gti: createGtiClient({
      baseUrl: sim.baseUrl,
      apiKey: async () => key,
      timeoutMs: config.http.timeoutMs,
      retry,
      onRetry,
    }),
    initialStartSeconds: dataset.size > 0 ? dataset.dateOf(0) - 1 : 0,
    description: `bundled GTI simulator with ${dataset.size} demo notifications (${sim.baseUrl})`,
    close: () => sim.close(),
  };
}

/**
 * The run summary as logged (`sync_run`) and printed by --json, each field named for what it
 * counts: `firstPageMetaCount` is GTI's `meta.count` of the first page (not a total to expect);
 * `chronicleRequests` / `chronicleRetries` / `chronicleSplits` count logs:import and
 * entities:import requests (GTI requests are `pages`); `chunks` / `bytes` are the log chunks,
 * `entityChunks` / `entityBytes` the entity chunks.
 */
export function summaryFields(summary: SyncSummary): Record<string, unknown> {
  const { expected, requests, retries, splits, ...rest } = summary;
  return {
    ...rest,
    firstPageMetaCount: expected,
    chronicleRequests: requests,
    chronicleRetries: retries,
    chronicleSplits: splits,
  };
}

function importer(config: Config): ChronicleImporter {
  if (config.chronicle.customerId === undefined) return createLocalSink(config.outputDir);
  const target = chronicleTarget(config);
  return createChronicleClient({
    target,
    getToken: createAccessTokenProvider(target.projectId),
    timeoutMs: config.http.timeoutMs,
  });
}

export const syncCommand: CliCommand = async (argv, ctx: CliContext) => {
  const { values } = parseArgs({
    args: [...argv],
    options: {
      ...COMMON_OPTIONS,
      quiet: { type: 'boolean', default: false },
      json: { type: 'boolean', default: false },
      concurrency: { type: 'string' },
    },
    strict: true,
  });
  if (values.help) {
    ctx.stdout.write(`${USAGE}\n`);
    return 0;
  }
  const env = { ...ctx.env };
  if (values.json) env.LOG_FORMAT = 'json';
  if (values.concurrency !== undefined) env.CHRONICLE_CONCURRENCY = values.concurrency;
  const config = commandConfig(env, values.config);
  const logger = createLogger({
    level: values.quiet && config.log.level !== 'error' ? 'warn' : config.log.level,
    format: config.log.format,
    sink: ctx.stderr,
    fields: { command: 'sync' },
  });

  if (config.chronicle.customerId !== undefined) {
    // Demo notifications must never reach a real SecOps instance.
    requireSettings(config, 'gti');
  }
  const source = await gtiSource(config, logger);
  const demo = source.initialStartSeconds !== undefined;
  // One run per checkpoint: a second one would fetch and import everything again.
  const checkpointPath = demo ? `${config.outputDir}/demo-checkpoint.json` : config.checkpointFile;
  const lock = await lockCheckpoint(checkpointPath).catch(async (error: unknown) => {
    await source.close();
    throw error;
  });
  try {
    const sink = importer(config);
    const store = new FileCheckpointStore(checkpointPath);
    logger.info(demo ? 'mode: demo (no GTI key configured)' : 'mode: live', {
      source: source.description,
      destination: sink.target,
      checkpoint: store.description,
    });
    // A signal stops the run at once, whatever it waits for (a request, a retry, the pacing):
    // what was imported is checkpointed, the rest is fetched again by the next run.
    const onAbort = () => logger.warn('stop requested: stopping now and saving the checkpoint');
    ctx.signal.addEventListener('abort', onAbort, { once: true });
    const progress = createProgress(ctx.stderr, !values.quiet && config.log.format === 'text');
    const summary = await runSync({
      config,
      logger,
      gti: source.gti,
      importer: sink,
      store,
      retry: retryPolicy(config),
      ...(source.initialStartSeconds !== undefined
        ? { initialStartSeconds: source.initialStartSeconds, sevenDayRetention: false }
        : {}),
      signal: ctx.signal,
      onProgress: (s) => progress.update(s),
    })
      .catch((error: unknown) => {
        if (!ctx.signal.aborted) throw error;
        return undefined;
      })
      .finally(() => {
        progress.done();
        ctx.signal.removeEventListener('abort', onAbort);
      });
    if (summary === undefined || ctx.signal.aborted) return await interrupted(ctx, store, logger);
    logger.info('sync finished', { ...summaryFields(summary), event: 'sync_run' });
    if (values.json) {
      ctx.stdout.write(
        `${JSON.stringify({
          ...summaryFields(summary),
          destination: sink.target,
          ...(config.entityContext.enabled ? { entitiesDestination: sink.entitiesTarget } : {}),
        })}\n`,
      );
    } else {
      ctx.stdout.write(
        `${summary.notifications} notifications in ${summary.chunks} chunks (${(summary.bytes / 1e6).toFixed(2)} MB, ` +
          `${summary.trimmed} trimmed, ${summary.duplicates} duplicates skipped) sent to ${sink.target} in ${summary.seconds.toFixed(2)} s\n`,
      );
      if (config.entityContext.enabled) {
        ctx.stdout.write(
          `${summary.entities} entities in ${summary.entityChunks} chunks (${(summary.entityBytes / 1e6).toFixed(2)} MB, ` +
            `${summary.entitiesSkipped} notifications without an entity) sent to ${sink.entitiesTarget}\n`,
        );
      }
      if (summary.notifications === 0 && demo) {
        ctx.stdout.write(
          `Nothing new since the checkpoint; delete ${config.outputDir}/ to run the demo from the start.\n`,
        );
      }
    }
    return 0;
  } finally {
    await lock.release();
    await source.close();
  }
};

/** Reports a run stopped by a signal: where the checkpoint stands, and the shell's exit code for it. */
async function interrupted(ctx: CliContext, store: FileCheckpointStore, logger: Logger): Promise<number> {
  const reason: unknown = ctx.signal.reason;
  const stop = reason instanceof InterruptedError ? reason : new InterruptedError('SIGINT');
  const mark = await store.load().catch(() => undefined);
  const at = mark ? new Date(mark.date * 1000).toISOString() : undefined;
  logger.warn('sync interrupted', { event: 'sync_interrupted', signal: stop.signal, checkpoint: at });
  ctx.stderr.write(
    `ioc-stream sync: interrupted by ${stop.signal}; ${at ? `checkpoint at ${at}` : 'no checkpoint yet'} ` +
      `(${store.description}); run again to continue\n`,
  );
  return stop.exitCode;
}
