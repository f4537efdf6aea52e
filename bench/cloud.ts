/**
 * End to end on the cloud topology: both functions under functions-framework, wired through the
 * Pub/Sub emulator (trigger → fetcher → chunks topic → push → sender → Chronicle simulator) and the
 * Firestore emulator, exactly as sim/local_cloud.ts (`ioc-stream dev`) wires them. One trigger; the
 * clock stops when every notification is in Chronicle. Then the cold start of each function.
 */

import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { logsImportEnvelope } from '../shared/chronicle/request_body.js';
import { triggerData } from '../shared/cloud/trigger_message.js';
import { gtiDate } from '../shared/gti/client.js';
import { assembleChunk } from '../shared/pipeline/chunker.js';
import { createEntryBuilder } from '../shared/pipeline/log_entries.js';
import { DEFAULT_START_SECONDS, generatedDataset } from '../sim/dataset.js';
import { missingEmulatorParts, startFirestoreEmulator, startPubsubEmulator } from '../sim/emulators.js';
import { functionEnv, type LocalCloud, type LocalCloudOptions, startLocalCloud } from '../sim/local_cloud.js';
import { peakRssOf } from './machine.js';
import { distPath, REPO_ROOT, runMeasured } from './processes.js';
import { startServices } from './services.js';
import { BENCH_CUSTOMER_ID, CHUNK_MAX_BYTES } from './standalone.js';

export interface ColdStart {
  readonly target: string;
  readonly importMs: number;
  readonly firstRequestMs: number;
  readonly totalMs: number;
  readonly status: number;
  readonly maxRssMB: number;
}

export interface CloudResult {
  readonly count: number;
  readonly wallMs: number;
  readonly delivered: number;
  readonly duplicates: number;
  readonly chronicleRequests: number;
  readonly chunkFill: number;
  readonly fetchRuns: number;
  readonly senderInvocations: number;
  readonly fetcherPeakRssMB: number | undefined;
  readonly senderPeakRssMB: number | undefined;
  readonly coldStarts: readonly ColdStart[];
}

const PROJECT_ID = 'ioc-stream-bench';
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export function cloudSkipReason(): string | undefined {
  const missing = missingEmulatorParts();
  return missing.length === 0 ? undefined : `emulators not installed: ${missing.join(', ')}`;
}

export async function runCloud(options: {
  count: number;
  seed: number;
  timeoutMs?: number;
}): Promise<CloudResult> {
  const [pubsub, firestore] = await Promise.all([startPubsubEmulator(), startFirestoreEmulator()]);
  const services = await startServices({
    mode: 'process',
    count: options.count,
    seed: options.seed,
    gtiLatencyMs: 0,
    chronicleLatencyMs: 0,
  });
  const dir = mkdtempSync(join(tmpdir(), 'ioc-bench-cloud-'));
  let cloud: LocalCloud | undefined;
  let poll: NodeJS.Timeout | undefined;
  try {
    const cloudOptions: LocalCloudOptions = {
      projectId: PROJECT_ID,
      pubsubHost: pubsub.host,
      firestoreHost: firestore.host,
      source: REPO_ROOT,
      prefix: 'bench',
      env: {
        PATH: process.env.PATH ?? '',
        VT_API_KEY: services.apiKey,
        VT_API_BASE_URL: services.gtiBaseUrl,
        VT_DATE_FILTER: `${gtiDate(DEFAULT_START_SECONDS - 1)}Z`,
        VT_LIMIT: '40',
        CHRONICLE_CUSTOMER_ID: BENCH_CUSTOMER_ID,
        CHRONICLE_API_BASE_URL: services.chronicleBaseUrl,
        CHUNK_MAX_BYTES: String(CHUNK_MAX_BYTES),
        GCE_METADATA_HOST: services.metadataHost,
        METADATA_SERVER_DETECTION: 'assume-present',
      },
    };
    // The topology exactly as `ioc-stream dev` and the tests run it.
    cloud = await startLocalCloud(cloudOptions);
    const { fetcher, sender } = cloud;
    const peaks = { fetcher: 0, sender: 0 };
    poll = setInterval(() => {
      peaks.fetcher = Math.max(peaks.fetcher, peakRssOf(fetcher.pid) ?? 0);
      peaks.sender = Math.max(peaks.sender, peakRssOf(sender.pid) ?? 0);
    }, 100);
    const started = performance.now();
    await cloud.pubsub.topic(cloud.names.trigger).publishMessage({
      data: triggerData({ reason: 'bench' }),
      attributes: { source: 'bench' },
    });
    const deadline = started + (options.timeoutMs ?? 300_000);
    let stats = await services.chronicleStats();
    while (stats.uniqueIds < options.count) {
      if (performance.now() > deadline)
        throw new Error(`cloud run timed out with ${stats.uniqueIds}/${options.count} delivered`);
      await sleep(100);
      stats = await services.chronicleStats();
    }
    const wallMs = performance.now() - started;
    clearInterval(poll);
    poll = undefined;
    await sleep(500);
    stats = await services.chronicleStats();
    const result = {
      count: options.count,
      wallMs,
      delivered: stats.uniqueIds,
      duplicates: stats.duplicates,
      chronicleRequests: stats.requests,
      chunkFill: stats.requests === 0 ? 0 : stats.bytes / stats.requests / CHUNK_MAX_BYTES,
      fetchRuns: cloud.fetcher.logs.filter((l) => l.event === 'fetch_run').length,
      senderInvocations: cloud.sender.logs.filter((l) => l.event === 'chunk_processed').length,
      fetcherPeakRssMB: peaks.fetcher > 0 ? peaks.fetcher / 2 ** 20 : undefined,
      senderPeakRssMB: peaks.sender > 0 ? peaks.sender / 2 ** 20 : undefined,
    };

    // Cold starts, with the same configuration the deployed functions get. The sender's first
    // request imports one real chunk; the fetcher's finds nothing new past the checkpoint.
    const dataset = generatedDataset({ count: 1, seed: options.seed + 1 });
    const entry = createEntryBuilder({
      fetchTime: new Date(),
      namespace: undefined,
      useCaseName: 'bench',
      chunkMaxBytes: CHUNK_MAX_BYTES,
      forwarder: undefined,
    }).build(dataset.get(0));
    const chunkFile = join(dir, 'chunk.json');
    writeFileSync(chunkFile, assembleChunk(1, [entry], logsImportEnvelope(undefined)).body);
    const coldStarts: ColdStart[] = [];
    for (const [target, topic, body] of [
      ['fetchIocStream', cloud.names.trigger, undefined],
      ['sendToChronicle', cloud.names.chunks, chunkFile],
    ] as const) {
      const args = ['--target', target, '--topic', topic, '--project', PROJECT_ID];
      if (body !== undefined) args.push('--body-file', body);
      const env = functionEnv(target, cloudOptions, cloud.names);
      const run = await runMeasured(distPath('bench', 'cold_start_worker.js'), args, env);
      if (run.code !== 0) throw new Error(`cold start of ${target} failed: ${run.stderr.slice(-1500)}`);
      coldStarts.push(JSON.parse(run.stdout.trim().split('\n').at(-1) ?? '{}') as ColdStart);
    }
    return { ...result, coldStarts };
  } finally {
    if (poll !== undefined) clearInterval(poll);
    await cloud?.stop().catch(() => undefined);
    await services.close();
    await Promise.all([pubsub.stop(), firestore.stop()]);
    rmSync(dir, { recursive: true, force: true });
  }
}
