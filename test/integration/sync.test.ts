/**
 * End to end: `ioc-stream sync` as a real child process against the loopback GTI and Chronicle
 * simulators, the GCE metadata fake (real google-auth-library token path) and the Secret Manager
 * fake (real @google-cloud/secret-manager client).
 */
import assert from 'node:assert/strict';
import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { FileCheckpointStore } from '../../shared/pipeline/checkpoint.js';
import { type ChronicleSimulator, startChronicleSimulator } from '../../sim/chronicle_simulator.js';
import { arrayDataset, type Dataset, demoDataset, generatedDataset } from '../../sim/dataset.js';
import { type GtiSimulator, startGtiSimulator } from '../../sim/gti_simulator.js';
import { runCli } from '../helpers/cli.js';
import { assertSameEntries } from '../helpers/entries.js';
import { recordingGcloud } from '../helpers/gcloud.js';
import { startMetadataFake } from '../helpers/metadata_fake.js';
import { startSecretManagerFake } from '../helpers/secret_manager_fake.js';
import { assertNoSecretFragment } from '../helpers/secrets.js';

const API_KEY = 'gti-key-7f3c9a1e5b2d4c6f8a0b';
const TOKEN = 'fake-access-token-4b1d9e';
const CUSTOMER = '01234567-89ab-4cde-8f01-23456789abcd';

interface RunResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

let metadata: Awaited<ReturnType<typeof startMetadataFake>>;

before(async () => {
  metadata = await startMetadataFake({ token: TOKEN, projectId: 'my-project' });
});
after(async () => {
  await metadata.close();
});

function baseEnv(gti: GtiSimulator, chronicle: ChronicleSimulator, dataset: Dataset, dir: string) {
  return {
    PATH: process.env.PATH ?? '',
    HOME: dir,
    VT_API_BASE_URL: gti.baseUrl,
    VT_DATE_FILTER: new Date((dataset.dateOf(0) - 5) * 1000).toISOString().replace(/\.\d{3}Z$/, 'Z'),
    CHRONICLE_API_BASE_URL: chronicle.baseUrl,
    CHRONICLE_CUSTOMER_ID: CUSTOMER,
    CHRONICLE_REGION: 'eu',
    GCP_PROJECT_ID: 'my-project',
    CHECKPOINT_FILE: join(dir, 'checkpoint.json'),
    CHUNK_MAX_BYTES: '1000000',
    GCE_METADATA_HOST: metadata.host,
    METADATA_SERVER_DETECTION: 'assume-present',
    RETRY_MAX_SECONDS: '20',
  };
}

function runSync(env: Record<string, string>, onSpawn?: (child: ChildProcess) => void): Promise<RunResult> {
  return runCli(['sync', '--json'], env, onSpawn);
}

function allIds(dataset: Dataset): string[] {
  return Array.from({ length: dataset.size }, (_, i) => dataset.get(i).context_attributes.notification_id);
}

describe('standalone sync end to end', () => {
  it('delivers a 2,000-notification dataset exactly once, and a rerun sends nothing new', async () => {
    const dataset = generatedDataset({ count: 2000, seed: 7 });
    const gti = await startGtiSimulator({ dataset, apiKey: API_KEY });
    const chronicle = await startChronicleSimulator({ acceptToken: (t) => t === TOKEN });
    try {
      const env = {
        ...baseEnv(gti, chronicle, dataset, mkdtempSync(join(tmpdir(), 'sync-'))),
        VT_API_KEY: API_KEY,
      };
      const first = await runSync(env);
      assert.equal(first.code, 0, first.stderr);
      const summary = JSON.parse(first.stdout) as { notifications: number; chunks: number };
      assert.equal(summary.notifications, 2000);
      // No timing kept for the bench in product code: the bench profiles the process instead.
      assert.equal('processingMs' in summary, false);
      for (const id of allIds(dataset)) assert.equal(chronicle.acceptedIds.get(id), 1, `notification ${id}`);
      assert.equal(chronicle.acceptedIds.size, 2000);
      assert.ok(chronicle.requests.every((r) => r.bytes <= 1_000_000));
      assert.ok(gti.requests.every((r) => new URL(r.url).searchParams.get('limit') === '40'));

      const again = await runSync(env);
      assert.equal(again.code, 0, again.stderr);
      assert.equal((JSON.parse(again.stdout) as { notifications: number }).notifications, 0);
      assert.equal(chronicle.acceptedIds.size, 2000);
      assert.ok([...chronicle.acceptedIds.values()].every((n) => n === 1));
    } finally {
      await gti.close();
      await chronicle.close();
    }
  });

  it('imports one entity per indicator notification next to unchanged logs, valid against the protos', async () => {
    // A backlog of mixed notifications: every item type, plus a URL notification reduced to its
    // descriptor (no attributes.url: no entity) and an item of a type that has no entity.
    const generated = generatedDataset({ count: 400, seed: 23, oversizedEvery: 0 });
    const items = Array.from({ length: generated.size }, (_, i) => generated.get(i));
    const url = items.find((n) => n.type === 'url');
    assert.ok(url);
    const descriptorOnly = structuredClone(url);
    delete descriptorOnly.attributes;
    descriptorOnly.context_attributes.notification_id = 'descriptor-only-url';
    const unknown = structuredClone(items[1] as (typeof items)[number]);
    unknown.type = 'graph';
    unknown.context_attributes.notification_id = 'unknown-type';
    const dataset = arrayDataset([...items, descriptorOnly, unknown]);
    const gti = await startGtiSimulator({ dataset, apiKey: API_KEY });
    const withEntities = await startChronicleSimulator({ acceptToken: (t) => t === TOKEN });
    const logsOnly = await startChronicleSimulator({ acceptToken: (t) => t === TOKEN });
    try {
      const dir = mkdtempSync(join(tmpdir(), 'entities-'));
      const run = await runSync({
        ...baseEnv(gti, withEntities, dataset, dir),
        VT_API_KEY: API_KEY,
        ENTITY_VALIDITY_DAYS: '14',
      });
      assert.equal(run.code, 0, run.stderr);
      const summary = JSON.parse(run.stdout) as Record<string, number>;
      assert.equal(summary.notifications, 402);
      assert.equal(summary.entities, 400);
      assert.equal(summary.entitiesSkipped, 2);
      assert.ok((summary.entityChunks ?? 0) >= 1);

      // One entity per indicator notification, accepted by the simulator's proto field check.
      const imports = withEntities.entityImports;
      assert.ok(imports.requests.every((r) => r.status === 200 && r.logType === 'GTI_IOC_STREAM'));
      assert.equal(imports.acceptedEntityCount, 400);
      assert.deepEqual(
        [...imports.acceptedIds.keys()].sort(),
        items.map((n) => n.context_attributes.notification_id).sort(),
      );
      assert.ok([...imports.acceptedIds.values()].every((n) => n === 1));
      const types = new Map(items.map((n) => [n.context_attributes.notification_id, n.type]));
      const expectedType: Record<string, string> = {
        file: 'FILE',
        url: 'URL',
        domain: 'DOMAIN_NAME',
        ip_address: 'IP_ADDRESS',
      };
      for (const e of imports.entities) {
        assert.equal(e.entityType, expectedType[types.get(e.productEntityId ?? '') ?? ''], e.productEntityId);
        const metadata = (e.entity as { metadata: Record<string, unknown> }).metadata;
        assert.equal(metadata.productName, 'Google Threat Intelligence IOC Stream');
        assert.equal(metadata.sourceType, 'ENTITY_CONTEXT');
        const interval = metadata.interval as { startTime: string; endTime: string };
        assert.equal(Date.parse(interval.endTime) - Date.parse(interval.startTime), 14 * 86_400_000);
      }

      // The logs are those of a run without entities, entry for entry.
      const plain = await runSync({
        ...baseEnv(gti, logsOnly, dataset, mkdtempSync(join(tmpdir(), 'logs-only-'))),
        VT_API_KEY: API_KEY,
        CHRONICLE_ENTITY_CONTEXT: 'false',
      });
      assert.equal(plain.code, 0, plain.stderr);
      assert.equal((JSON.parse(plain.stdout) as Record<string, number>).entities, 0);
      assert.equal(logsOnly.entityImports.requests.length, 0);
      assert.equal(withEntities.acceptedIds.size, 402);
      assertSameEntries(withEntities.entries, logsOnly.entries, 'log entries with and without entities');
    } finally {
      await gti.close();
      await withEntities.close();
      await logsOnly.close();
    }
  });

  it('the demo (`npm start`: sync without a GTI key or Chronicle) writes entities under out/ beside the log requests', async () => {
    const cwd = mkdtempSync(join(tmpdir(), 'demo-'));
    const { code, stdout, stderr } = await runCli(
      ['sync'],
      { PATH: process.env.PATH ?? '', HOME: cwd },
      undefined,
      cwd,
    );
    assert.equal(code, 0, stderr);
    const demo = demoDataset();
    assert.match(
      stdout,
      new RegExp(`^${demo.size} entities in 1 chunks .* sent to local sink out/entities/$`, 'm'),
    );
    const out = join(cwd, 'out');
    assert.deepEqual(readdirSync(join(out, 'entities')), ['000001.json']);
    assert.ok(readdirSync(join(out, 'requests')).length >= 1);
    const lines = (file: string) =>
      readFileSync(join(out, file), 'utf8')
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l) as Record<string, unknown>);
    const entities = lines('entities.ndjson') as {
      metadata: { productEntityId: string; entityType: string };
    }[];
    const entries = lines('entries.ndjson');
    assert.equal(entries.length, demo.size);
    assert.deepEqual(
      entities.map((e) => e.metadata.productEntityId),
      Array.from({ length: demo.size }, (_, i) => demo.get(i).context_attributes.notification_id),
    );
    assert.deepEqual(
      new Set(entities.map((e) => e.metadata.entityType)),
      new Set(['FILE', 'URL', 'DOMAIN_NAME', 'IP_ADDRESS']),
    );
    const request = JSON.parse(readFileSync(join(out, 'entities', '000001.json'), 'utf8')) as {
      inlineSource: { entities: unknown[]; logType: string };
    };
    assert.equal(request.inlineSource.logType, 'GTI_IOC_STREAM');
    assert.deepEqual(request.inlineSource.entities, entities);
  });

  it('loses nothing when killed mid-run and run again; retries 429/500 and splits on 413', async () => {
    const dataset = generatedDataset({ count: 2000, seed: 11 });
    const gti = await startGtiSimulator({
      dataset,
      apiKey: API_KEY,
      fault: ({ n }) =>
        n === 3 ? { status: 429, headers: { 'retry-after': '1' } } : n === 9 ? { status: 503 } : undefined,
    });
    let child: ChildProcess | undefined;
    const chronicle = await startChronicleSimulator({
      acceptToken: (t) => t === TOKEN,
      fault: ({ n }) => {
        if (n === 12 && child?.pid) child.kill('SIGKILL');
        if (n === 2) return { status: 500, rpcStatus: 'INTERNAL' };
        if (n === 4) return { status: 429, rpcStatus: 'RESOURCE_EXHAUSTED', headers: { 'retry-after': '0' } };
        if (n === 6)
          return {
            status: 413,
            rpcStatus: 'INVALID_ARGUMENT',
            message: 'Request payload size exceeds the limit',
          };
        return undefined;
      },
    });
    try {
      const env = {
        ...baseEnv(gti, chronicle, dataset, mkdtempSync(join(tmpdir(), 'crash-'))),
        VT_API_KEY: API_KEY,
      };
      const killed = await runSync(env, (c) => {
        child = c;
      });
      assert.equal(killed.signal, 'SIGKILL');
      const partial = chronicle.acceptedIds.size;
      assert.ok(partial > 0 && partial < 2000, `accepted before the crash: ${partial}`);
      const mark = await new FileCheckpointStore(env.CHECKPOINT_FILE).load();
      assert.ok(mark, 'accepted chunks were checkpointed before the kill');
      const rerun = await runSync(env);
      assert.equal(rerun.code, 0, rerun.stderr);
      for (const id of allIds(dataset)) assert.ok((chronicle.acceptedIds.get(id) ?? 0) >= 1, `lost ${id}`);
      // Duplicates only come from chunks accepted after the last saved mark: nothing the
      // checkpoint covers (older than its second, or among its ids) is sent again.
      const dateOf = new Map(
        Array.from({ length: dataset.size }, (_, i) => {
          const c = dataset.get(i).context_attributes;
          return [c.notification_id, c.notification_date] as const;
        }),
      );
      const duplicates = [...chronicle.acceptedIds].filter(([, n]) => n > 1).map(([id]) => id);
      for (const id of duplicates) {
        const date = dateOf.get(id) ?? Number.NaN;
        assert.ok(date > mark.date || (date === mark.date && !mark.ids.includes(id)), `${id} resent`);
      }
      assert.ok(duplicates.length < partial, `duplicates ${duplicates.length} of ${partial}`);
      // The injected 413 was exercised; that no notification was lost covers its split.
      assert.ok(chronicle.requests.some((r) => r.status === 413));
    } finally {
      await gti.close();
      await chronicle.close();
    }
  });

  it('imports notifications dated ahead of our clock with collectionTime strictly after logEntryTime', async () => {
    // GTI's clock may run ahead of ours: notifications from 10 s ago to about a minute from now.
    // The Chronicle simulator refuses an entry whose collectionTime is not after its logEntryTime
    // (as the REST reference says it must be), failing the whole chunk.
    const startedMs = Date.now();
    const dataset = generatedDataset({
      count: 150,
      seed: 17,
      oversizedEvery: 0,
      startSeconds: Math.floor(startedMs / 1000) - 10,
      secondsPerNotification: 0.5,
    });
    assert.ok(dataset.dateOf(dataset.size - 1) * 1000 > startedMs + 30_000, 'the dataset reaches ahead');
    const gti = await startGtiSimulator({ dataset, apiKey: API_KEY });
    const chronicle = await startChronicleSimulator({ acceptToken: (t) => t === TOKEN });
    try {
      const env = {
        ...baseEnv(gti, chronicle, dataset, mkdtempSync(join(tmpdir(), 'ahead-'))),
        VT_API_KEY: API_KEY,
      };
      const run = await runSync(env);
      const finishedMs = Date.now();
      assert.equal(run.code, 0, run.stderr);
      assert.equal(chronicle.acceptedIds.size, dataset.size);
      assert.ok(chronicle.requests.every((r) => r.status === 200));
      assert.equal(chronicle.entries.length, dataset.size);
      let ahead = 0;
      for (const e of chronicle.entries) {
        const entryMs = Date.parse(e.logEntryTime);
        const collectedMs = Date.parse(e.collectionTime);
        assert.ok(collectedMs > entryMs, `${e.notificationId}: ${e.collectionTime} <= ${e.logEntryTime}`);
        if (entryMs >= finishedMs) {
          // Dated after every page arrived: one second after its own date.
          ahead += 1;
          assert.equal(collectedMs, entryMs + 1000, e.notificationId);
        } else {
          // Otherwise when its page arrived during this run (or a second after its date).
          assert.ok(collectedMs >= startedMs, e.collectionTime);
          assert.ok(collectedMs <= Math.max(finishedMs, entryMs + 1000), e.collectionTime);
        }
      }
      assert.ok(ahead > 50, `${ahead} notifications dated ahead of the clock`);
    } finally {
      await gti.close();
      await chronicle.close();
    }
  });

  for (const oversizeStatus of [400, 413] as const) {
    it(`splits chunks Chronicle answers as too large with ${oversizeStatus === 400 ? '400 INVALID_ARGUMENT "Request payload size exceeds the limit" (what Google APIs answer)' : '413'}`, async () => {
      // Chronicle's limit (150 kB here) below CHUNK_MAX_BYTES: every chunk is refused until split.
      const dataset = generatedDataset({ count: 300, seed: 19, oversizedEvery: 0 });
      const gti = await startGtiSimulator({ dataset, apiKey: API_KEY });
      const chronicle = await startChronicleSimulator({
        acceptToken: (t) => t === TOKEN,
        maxRequestBytes: 150_000,
        oversizeStatus,
      });
      try {
        const env = {
          ...baseEnv(gti, chronicle, dataset, mkdtempSync(join(tmpdir(), `oversize-${oversizeStatus}-`))),
          VT_API_KEY: API_KEY,
        };
        const run = await runSync(env);
        assert.equal(run.code, 0, run.stderr);
        const summary = JSON.parse(run.stdout) as { notifications: number; chronicleSplits: number };
        assert.equal(summary.notifications, dataset.size);
        assert.ok(summary.chronicleSplits > 0, 'chunks were split');
        const refused = chronicle.requests.filter((r) => r.status !== 200);
        assert.ok(
          refused.length > 0 && refused.every((r) => r.status === oversizeStatus && r.bytes > 150_000),
        );
        for (const id of allIds(dataset))
          assert.equal(chronicle.acceptedIds.get(id), 1, `notification ${id}`);
        const splitLines = run.stderr
          .split('\n')
          .filter((l) => l.includes('splitting chunk'))
          .map((l) => JSON.parse(l) as { status: number });
        assert.equal(splitLines.length, summary.chronicleSplits);
        assert.ok(splitLines.every((l) => l.status === oversizeStatus));
      } finally {
        await gti.close();
        await chronicle.close();
      }
    });
  }

  it('delivers an oversized notification trimmed and labelled', async () => {
    const dataset = demoDataset();
    const gti = await startGtiSimulator({ dataset, apiKey: API_KEY });
    const chronicle = await startChronicleSimulator({ acceptToken: (t) => t === TOKEN });
    try {
      const env = {
        ...baseEnv(gti, chronicle, dataset, mkdtempSync(join(tmpdir(), 'big-'))),
        VT_API_KEY: API_KEY,
        CHUNK_MAX_BYTES: '3900000',
      };
      const run = await runSync(env);
      assert.equal(run.code, 0, run.stderr);
      assert.equal(chronicle.acceptedIds.size, dataset.size);
      const trimmed = chronicle.entries.filter((e) => e.labels?.trimmed_fields !== undefined);
      assert.equal(trimmed.length, 1);
      const [entry] = trimmed;
      assert.ok(entry);
      assert.match(entry.labels?.trimmed_fields?.value ?? '', /^attributes\.last_analysis_results/);
      const data = entry.data as { ioc_stream_trimmed?: string[]; attributes?: Record<string, unknown> };
      assert.equal(data.ioc_stream_trimmed?.[0], 'attributes.last_analysis_results');
      assert.equal(data.attributes?.last_analysis_results, undefined);
      assert.ok(typeof data.attributes?.sha256 === 'string');
    } finally {
      await gti.close();
      await chronicle.close();
    }
  });

  it('reads the key from Secret Manager and never prints it or the token, even on failure', async () => {
    const dataset = generatedDataset({ count: 120, seed: 3 });
    const secrets = await startSecretManagerFake({
      'projects/my-project/secrets/gti-key/versions/latest': API_KEY,
    });
    const gti = await startGtiSimulator({ dataset, apiKey: API_KEY });
    const chronicle = await startChronicleSimulator({
      acceptToken: (t) => t === TOKEN,
      fault: ({ n }) =>
        n >= 2 ? { status: 403, rpcStatus: 'PERMISSION_DENIED', message: 'denied' } : undefined,
    });
    // A gcloud first on PATH that records each call: the Google clients are given the project id,
    // so none of them runs `gcloud config config-helper` to find one (shared/chronicle/auth.ts).
    const dir = mkdtempSync(join(tmpdir(), 'secret-'));
    const gcloud = recordingGcloud(dir);
    try {
      const base = baseEnv(gti, chronicle, dataset, dir);
      const env = {
        ...base,
        PATH: `${gcloud.bin}:${base.PATH}`,
        VT_API_KEY_SECRET_NAME: 'gti-key',
        SECRET_MANAGER_API_ENDPOINT: `http://${secrets.host}:${secrets.port}`,
        CHUNK_MAX_BYTES: '100000',
        LOG_LEVEL: 'debug',
      };
      const run = await runSync(env);
      assert.equal(run.code, 1);
      assert.match(run.stderr, /failed: ChroniclePermanentError: Chronicle answered 403 PERMISSION_DENIED/);
      assert.ok(secrets.requests.length >= 1);
      assert.ok(chronicle.acceptedIds.size > 0);
      assert.deepEqual(gcloud.calls(), [], 'gcloud was not run');
      const wrongKey = await runSync({ ...env, VT_API_KEY_SECRET_NAME: '', VT_API_KEY: `${API_KEY}-wrong` });
      assert.equal(wrongKey.code, 1);
      assert.match(wrongKey.stderr, /GTI answered 401 WrongCredentialsError/);
      for (const output of [run.stdout, run.stderr, wrongKey.stdout, wrongKey.stderr])
        assertNoSecretFragment(output, [API_KEY, TOKEN], 'sync output');
    } finally {
      await secrets.close();
      await gti.close();
      await chronicle.close();
    }
  });
});
