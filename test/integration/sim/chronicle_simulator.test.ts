import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { createInterface } from 'node:readline';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { createChronicleClient } from '../../../shared/chronicle/client.js';
import { ChroniclePermanentError, ChronicleTooLargeError } from '../../../shared/core/errors.js';
import { assembleChunk } from '../../../shared/pipeline/chunker.js';
import { createEntityBuilder } from '../../../shared/pipeline/entities.js';
import { type ChronicleSimulator, startChronicleSimulator } from '../../../sim/chronicle_simulator.js';
import { generatedDataset } from '../../../sim/dataset.js';

const MAIN = fileURLToPath(new URL('../../../sim/chronicle_simulator_main.js', import.meta.url));

const PATH =
  '/v1alpha/projects/my-proj/locations/us/instances/0f3c1b2a-1111-4222-8333-444455556666/logTypes/GCP_IOC_STREAM/logs:import';
const FORWARDER =
  'projects/my-proj/locations/us/instances/0f3c1b2a-1111-4222-8333-444455556666/forwarders/9a8b7c6d-1234-4abc-9def-0123456789ab';

function entry(id: string, extra: Record<string, unknown> = {}): Record<string, unknown> {
  const data = Buffer.from(
    JSON.stringify({ context_attributes: { notification_id: id }, id: `sha-${id}`, note: 'ünïcødé' }),
  ).toString('base64');
  return { data, logEntryTime: '2026-01-01T00:00:00Z', collectionTime: '2026-01-01T00:00:05.123Z', ...extra };
}

async function post(
  sim: ChronicleSimulator,
  body: unknown,
  options: { path?: string; token?: string | null } = {},
): Promise<{
  status: number;
  body: { error?: { code: number; status: string; message: string } };
  headers: Headers;
}> {
  const headers: Record<string, string> = { 'content-type': 'application/json' };
  if (options.token !== null) headers.authorization = `Bearer ${options.token ?? 'tok'}`;
  const res = await fetch(`${sim.baseUrl}${options.path ?? PATH}`, {
    method: 'POST',
    headers,
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
  return {
    status: res.status,
    body: (await res.json()) as { error?: { code: number; status: string; message: string } },
    headers: res.headers,
  };
}

describe('Chronicle simulator', () => {
  let sim: ChronicleSimulator;
  before(async () => {
    sim = await startChronicleSimulator({ acceptToken: (t) => t === 'tok' });
  });
  after(async () => {
    await sim.close();
  });

  it('decodes and records entries (camelCase)', async () => {
    const res = await post(sim, {
      inlineSource: {
        logs: [
          entry('n1', { environmentNamespace: 'prod', labels: { use_case_name: { value: 'ioc' } } }),
          entry('n2'),
        ],
        forwarder: FORWARDER,
      },
    });
    assert.equal(res.status, 200);
    assert.deepEqual(res.body, {});
    assert.equal(sim.entries.length, 2);
    const first = sim.entries[0];
    assert.equal(first?.notificationId, 'n1');
    assert.equal(first?.environmentNamespace, 'prod');
    assert.deepEqual(first?.labels, { use_case_name: { value: 'ioc' } });
    assert.equal(first?.logType, 'GCP_IOC_STREAM');
    assert.equal((first?.data as { note?: string } | undefined)?.note, 'ünïcødé');
    assert.equal(sim.acceptedIds.get('n2'), 1);
    assert.equal(sim.requests.at(-1)?.forwarder, FORWARDER);
    assert.equal(sim.acceptedEntryCount, 2);
  });

  it('accepts snake_case and counts duplicates', async () => {
    const { data } = entry('n1');
    const res = await post(sim, {
      inline_source: {
        logs: [{ data, log_entry_time: '2026-01-01T00:00:00Z', collection_time: '2026-01-01T00:00:01Z' }],
      },
    });
    assert.equal(res.status, 200);
    assert.equal(sim.acceptedIds.get('n1'), 2);
    const stats = (await (await fetch(`${sim.baseUrl}/_stats`)).json()) as Record<string, number>;
    assert.equal(stats.entries, 3);
    assert.equal(stats.uniqueIds, 2);
    assert.equal(stats.duplicates, 1);
  });

  it('answers a body over 4,000,000 bytes as Google APIs do: 400 INVALID_ARGUMENT, payload size, nothing recorded', async () => {
    const before = sim.entries.length;
    const big = 'A'.repeat(4_000_100);
    const res = await post(sim, {
      inlineSource: {
        logs: [{ data: big, logEntryTime: '2026-01-01T00:00:00Z', collectionTime: '2026-01-01T00:00:01Z' }],
      },
    });
    assert.equal(res.status, 400);
    assert.deepEqual(res.body.error, {
      code: 400,
      message: 'Request payload size exceeds the limit: 4000000 bytes.',
      status: 'INVALID_ARGUMENT',
    });
    assert.equal(sim.entries.length, before);
    assert.ok((sim.requests.at(-1)?.bytes ?? 0) > 4_000_000);
  });

  it('answers an oversized body with 413 when oversizeStatus is 413, and honours maxRequestBytes', async () => {
    const small = await startChronicleSimulator({ maxRequestBytes: 1000, oversizeStatus: 413 });
    try {
      const body = { inlineSource: { logs: Array.from({ length: 10 }, (_, i) => entry(`o${i}`)) } };
      assert.ok(JSON.stringify(body).length > 1000);
      const res = await post(small, body);
      assert.equal(res.status, 413);
      assert.equal(res.body.error?.message, 'Request payload size exceeds the limit: 1000 bytes.');
      assert.equal(small.acceptedIds.size, 0);
      const fits = await post(small, { inlineSource: { logs: [entry('o0')] } });
      assert.equal(fits.status, 200);
    } finally {
      await small.close();
    }
    await assert.rejects(
      startChronicleSimulator({ oversizeStatus: 500 as unknown as 400 }),
      /oversizeStatus must be 400 or 413/,
    );
  });

  it("the client classifies the simulator's oversize answer (400 by default, or 413) as too large, and other 400s as permanent", async () => {
    for (const oversizeStatus of [400, 413] as const) {
      const small = await startChronicleSimulator({ maxRequestBytes: 1000, oversizeStatus });
      try {
        const client = createChronicleClient({
          target: {
            baseUrl: small.baseUrl,
            apiVersion: 'v1alpha',
            projectId: 'my-proj',
            region: 'us',
            customerId: '0f3c1b2a-1111-4222-8333-444455556666',
            logType: 'GCP_IOC_STREAM',
          },
          getToken: async () => 'tok',
          timeoutMs: 5000,
        });
        const big = JSON.stringify({
          inlineSource: { logs: Array.from({ length: 10 }, (_, i) => entry(`c${i}`)) },
        });
        const tooLarge = await client.importLogs(big).catch((e: unknown) => e);
        assert.ok(tooLarge instanceof ChronicleTooLargeError, String(tooLarge));
        assert.equal(tooLarge.status, oversizeStatus);
        const invalid = JSON.stringify({
          inlineSource: { logs: [entry('c0', { collectionTime: '2025-01-01T00:00:00Z' })] },
        });
        const permanent = await client.importLogs(invalid).catch((e: unknown) => e);
        assert.ok(permanent instanceof ChroniclePermanentError, String(permanent));
        assert.equal(permanent.status, 400);
      } finally {
        await small.close();
      }
    }
  });

  it('requires collectionTime strictly after logEntryTime, naming the entry (default on, unconfirmed)', async () => {
    const cases: [string, string, number][] = [
      // [logEntryTime, collectionTime, expected status]
      ['2026-01-01T00:00:00Z', '2026-01-01T00:00:00Z', 400],
      ['2026-01-01T00:00:00Z', '2026-01-01T00:00:00.000Z', 400],
      ['2026-01-01T00:00:00.5Z', '2026-01-01T00:00:00.500000000Z', 400],
      ['2026-01-01T01:00:00+01:00', '2026-01-01T00:00:00Z', 400],
      ['2026-01-01T00:00:01Z', '2026-01-01T00:00:00Z', 400],
      ['2026-01-01T00:00:00Z', '2026-01-01T00:00:00.000000001Z', 200],
      ['2026-01-01T00:00:00Z', '2026-01-01T00:00:00.001Z', 200],
      ['2026-01-01T01:00:00+01:00', '2026-01-01T00:00:01Z', 200],
    ];
    for (const [logEntryTime, collectionTime, status] of cases) {
      const res = await post(sim, {
        inlineSource: { logs: [entry('t0'), entry('t1', { logEntryTime, collectionTime })] },
      });
      assert.equal(res.status, status, `${logEntryTime} / ${collectionTime}`);
      if (status === 400) {
        assert.equal(res.body.error?.status, 'INVALID_ARGUMENT');
        assert.match(
          res.body.error?.message ?? '',
          /^logs\[1\]: collection_time .* must be after log_entry_time/,
        );
      }
    }
    const lax = await startChronicleSimulator({ requireCollectionAfterEntry: false });
    try {
      for (const collectionTime of ['2026-01-01T00:00:00Z', '2025-12-31T00:00:00Z']) {
        const res = await post(lax, { inlineSource: { logs: [entry('l', { collectionTime })] } });
        assert.equal(res.status, 200, collectionTime);
      }
    } finally {
      await lax.close();
    }
  });

  it('serves logs:import only under v1alpha and v1beta; other versions and endpoints answer 404', async () => {
    const tail = PATH.slice('/v1alpha'.length);
    for (const version of ['v1alpha', 'v1beta']) {
      const res = await post(
        sim,
        { inlineSource: { logs: [entry(`v-${version}`)] } },
        { path: `/${version}${tail}` },
      );
      assert.equal(res.status, 200, version);
    }
    const runParser = tail.replace(/\/logs:import$/, ':runParser');
    for (const path of [
      `/v1${tail}`,
      `/v2${tail}`,
      `/v1alpha${runParser}`,
      `/v1alpha${tail.replace('logs:import', 'logs')}`,
    ]) {
      const res = await post(sim, { inlineSource: { logs: [entry('v-x')] } }, { path });
      assert.equal(res.status, 404, path);
      assert.equal(res.body.error?.status, 'NOT_FOUND');
    }
    assert.equal(sim.acceptedIds.has('v-x'), false);
  });

  it('accepts data that is not JSON when requireJsonData is false (Log.data is any bytes)', async () => {
    const raw = await startChronicleSimulator({ requireJsonData: false });
    try {
      const res = await post(raw, {
        inlineSource: { logs: [entry('r', { data: Buffer.from('plain text').toString('base64') })] },
      });
      assert.equal(res.status, 200);
      assert.equal(raw.acceptedEntryCount, 1);
    } finally {
      await raw.close();
    }
  });

  it('its command line takes --oversize-status and --allow-any-collection-time, and refuses a bad status', async () => {
    const child = spawn(
      process.execPath,
      [
        MAIN,
        '--max-request-bytes',
        '1000',
        '--oversize-status',
        '413',
        '--allow-any-collection-time',
        '--no-auth',
      ],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    const exited = once(child, 'exit');
    try {
      // Line by line: if the process exits without printing, `first.done` says so (no hang).
      const first = await createInterface({ input: child.stdout })[Symbol.asyncIterator]().next();
      assert.equal(first.done, false, 'the simulator printed nothing');
      const { baseUrl } = JSON.parse(String(first.value)) as { baseUrl: string };
      const remote = { baseUrl } as ChronicleSimulator;
      const big = await post(
        remote,
        { inlineSource: { logs: Array.from({ length: 10 }, (_, i) => entry(`m${i}`)) } },
        { token: null },
      );
      assert.equal(big.status, 413);
      const equal = await post(
        remote,
        { inlineSource: { logs: [entry('m', { collectionTime: '2026-01-01T00:00:00Z' })] } },
        { token: null },
      );
      assert.equal(equal.status, 200);
    } finally {
      child.kill('SIGTERM');
      await exited;
    }
    const bad = spawn(process.execPath, [MAIN, '--oversize-status', '500'], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stderr = '';
    bad.stderr.on('data', (d: Buffer) => {
      stderr += d.toString();
    });
    const [code] = (await once(bad, 'close')) as [number]; // 'close': after stderr is read
    assert.equal(code, 2);
    assert.match(stderr, /--oversize-status must be 400 or 413, got "500"/);
  });

  it('rejects invalid requests with 400 INVALID_ARGUMENT', async () => {
    const bad: unknown[] = [
      { inlineSource: { logs: [entry('x', { collectionTime: '2025-12-31T23:59:59Z' })] } },
      {
        inlineSource: {
          logs: [
            entry('x', {
              collectionTime: '2026-01-01T00:00:00.000000001Z',
              logEntryTime: '2026-01-01T00:00:00.000000002Z',
            }),
          ],
        },
      },
      { inlineSource: { logs: [] } },
      { inlineSource: { logs: [entry('x', { data: 'not base64!' })] } },
      { inlineSource: { logs: [entry('x', { data: Buffer.from('plain text').toString('base64') })] } },
      { inlineSource: { logs: [entry('x', { logEntryTime: '2026-01-01 00:00:00' })] } },
      { inlineSource: { logs: [entry('x', { labels: { a: 'b' } })] } },
      {
        inlineSource: {
          logs: [entry('x')],
          forwarder: 'projects/other/locations/us/instances/i/forwarders/f',
        },
      },
      '{not json',
    ];
    for (const body of bad) {
      const res = await post(sim, body);
      assert.equal(res.status, 400, JSON.stringify(body).slice(0, 200));
      assert.equal(res.body.error?.status, 'INVALID_ARGUMENT');
    }
    assert.equal(sim.acceptedIds.has('x'), false);
  });

  it('answers 401 UNAUTHENTICATED without a valid bearer token', async () => {
    const none = await post(sim, { inlineSource: { logs: [entry('y')] } }, { token: null });
    assert.equal(none.status, 401);
    assert.equal(none.body.error?.status, 'UNAUTHENTICATED');
    const wrong = await post(sim, { inlineSource: { logs: [entry('y')] } }, { token: 'other' });
    assert.equal(wrong.status, 401);
    assert.equal(sim.acceptedIds.has('y'), false);
  });

  it('answers 404 for unknown paths', async () => {
    const res = await post(sim, {}, { path: '/v1alpha/projects/p/logs:import' });
    assert.equal(res.status, 404);
    assert.equal(res.body.error?.status, 'NOT_FOUND');
  });

  it('has logs:import under v1alpha and v1beta only, as the API does', async () => {
    const body = { inlineSource: { logs: [entry('versions')] } };
    assert.equal((await post(sim, body, { path: PATH.replace('/v1alpha/', '/v1beta/') })).status, 200);
    const v1 = await post(sim, body, { path: PATH.replace('/v1alpha/', '/v1/') });
    assert.equal(v1.status, 404);
    assert.equal(v1.body.error?.status, 'NOT_FOUND');
  });

  it('injects 429 with Retry-After, 500 and 403 without recording entries', async () => {
    const faulty = await startChronicleSimulator({
      fault: ({ n, entryCount }) => {
        assert.equal(entryCount, 1);
        if (n === 1) return { status: 429, headers: { 'retry-after': '3' } };
        if (n === 2) return { status: 500 };
        if (n === 3) return { status: 403, message: 'denied' };
        return undefined;
      },
    });
    try {
      const r1 = await post(faulty, { inlineSource: { logs: [entry('z')] } });
      assert.equal(r1.status, 429);
      assert.equal(r1.headers.get('retry-after'), '3');
      assert.equal(r1.body.error?.status, 'RESOURCE_EXHAUSTED');
      const r2 = await post(faulty, { inlineSource: { logs: [entry('z')] } });
      assert.equal(r2.status, 500);
      assert.equal(r2.body.error?.status, 'INTERNAL');
      const r3 = await post(faulty, { inlineSource: { logs: [entry('z')] } });
      assert.equal(r3.status, 403);
      assert.equal(r3.body.error?.status, 'PERMISSION_DENIED');
      assert.equal(faulty.entries.length, 0);
      assert.equal(faulty.acceptedIds.size, 0);
      const r4 = await post(faulty, { inlineSource: { logs: [entry('z')] } });
      assert.equal(r4.status, 200);
      assert.equal(faulty.acceptedIds.get('z'), 1);
    } finally {
      await faulty.close();
    }
  });

  it('counts without keeping entries when keepEntries is false', async () => {
    const lean = await startChronicleSimulator({ keepEntries: false, requireBearer: false });
    try {
      const res = await post(
        lean,
        { inlineSource: { logs: [entry('a'), entry('b'), entry('a')] } },
        { token: null },
      );
      assert.equal(res.status, 200);
      assert.equal(lean.entries.length, 0);
      assert.equal(lean.acceptedEntryCount, 3);
      assert.equal(lean.acceptedIds.get('a'), 2);
      assert.ok(lean.acceptedBytes > 0);
    } finally {
      await lean.close();
    }
  });
});

describe('Chronicle simulator: entities:import', () => {
  const INSTANCE = '0f3c1b2a-1111-4222-8333-444455556666';
  const ENTITIES_PATH = `/v1alpha/projects/my-proj/locations/us/instances/${INSTANCE}/entities:import`;
  const builder = createEntityBuilder({
    validityDays: 30,
    fetchTime: new Date('2026-02-01T00:00:00Z'),
    logType: 'GTI_IOC_STREAM',
  });
  const dataset = generatedDataset({ count: 12, oversizedEvery: 0 });
  const entityItems = Array.from({ length: dataset.size }, (_, i) => {
    const result = builder.buildFromNotification(dataset.get(i));
    assert.ok(result.kind === 'entity');
    return { ...result.entity };
  });
  const bodyOf = (from: number, to: number) =>
    assembleChunk(1, entityItems.slice(from, to), builder.envelope);
  const client = (sim: ChronicleSimulator, token = 'tok') =>
    createChronicleClient({
      target: {
        baseUrl: sim.baseUrl,
        apiVersion: 'v1alpha',
        projectId: 'my-proj',
        region: 'us',
        customerId: INSTANCE,
        logType: 'GTI_IOC_STREAM',
      },
      getToken: async () => token,
      timeoutMs: 5000,
    });

  it('imports what the client sends to the instance entities:import URL, and counts it in /_stats', async () => {
    const sim = await startChronicleSimulator({ acceptToken: (t) => t === 'tok' });
    try {
      const chronicle = client(sim);
      assert.equal(chronicle.entitiesTarget, `${sim.baseUrl}${ENTITIES_PATH}`);
      await chronicle.importEntities(bodyOf(0, 8).payload);
      await chronicle.importEntities(bodyOf(7, 12).payload); // one repeated
      const imports = sim.entityImports;
      assert.equal(imports.acceptedEntityCount, 13);
      assert.equal(imports.acceptedIds.size, 12);
      assert.deepEqual(
        imports.requests.map((r) => [r.status, r.entityCount, r.logType]),
        [
          [200, 8, 'GTI_IOC_STREAM'],
          [200, 5, 'GTI_IOC_STREAM'],
        ],
      );
      assert.equal(sim.requests.length, 0, 'log requests are counted apart');
      const stats = (await (await fetch(`${sim.baseUrl}/_stats`)).json()) as Record<string, number>;
      assert.equal(stats.entityRequests, 2);
      assert.equal(stats.acceptedEntityRequests, 2);
      assert.equal(stats.entities, 13);
      assert.equal(stats.entityUniqueIds, 12);
      assert.equal(stats.entityDuplicates, 1);
      assert.equal(stats.entityBytes, bodyOf(0, 8).bytes + bodyOf(7, 12).bytes);
      assert.equal(stats.entries, 0);
    } finally {
      await sim.close();
    }
  });

  it('applies the bearer token, the size limit and injected faults as for logs:import', async () => {
    const faults: { n: number; kind: string; entryCount: number }[] = [];
    const sim = await startChronicleSimulator({
      acceptToken: (t) => t === 'tok',
      maxRequestBytes: bodyOf(0, 6).bytes,
      fault: ({ n, kind, entryCount }) => {
        faults.push({ n, kind, entryCount });
        // n counts every entities:import request, the refused 401 and 400 below included.
        return kind === 'entities' && n === 4
          ? { status: 403, rpcStatus: 'PERMISSION_DENIED', message: 'Permission denied' }
          : undefined;
      },
    });
    try {
      await assert.rejects(client(sim, 'wrong').importEntities(bodyOf(0, 1).payload), (e: unknown) => {
        assert.ok(e instanceof ChroniclePermanentError);
        assert.equal(e.status, 401);
        return true;
      });
      await assert.rejects(client(sim).importEntities(bodyOf(0, 12).payload), ChronicleTooLargeError);
      await client(sim).importEntities(bodyOf(0, 2).payload);
      await assert.rejects(client(sim).importEntities(bodyOf(2, 4).payload), (e: unknown) => {
        assert.ok(e instanceof ChroniclePermanentError);
        assert.equal(e.status, 403);
        assert.match(e.message, /chronicle\.entities\.import/);
        return true;
      });
      assert.deepEqual(faults, [
        { n: 3, kind: 'entities', entryCount: 2 },
        { n: 4, kind: 'entities', entryCount: 2 },
      ]);
      assert.deepEqual(
        sim.entityImports.requests.map((r) => r.status),
        [401, 400, 200, 403],
      );
      assert.equal(sim.entityImports.acceptedEntityCount, 2, 'refused requests import nothing');
      // An entity the protos do not know is refused with 400 naming it (the handler's checks).
      const bad = JSON.stringify({
        inlineSource: { entities: [{ metadata: { productEntityId: 'x', noSuchField: 1 } }], logType: 'T' },
      });
      await assert.rejects(client(sim).importEntities(bad), (e: unknown) => {
        assert.ok(e instanceof ChroniclePermanentError);
        assert.match(e.message, /noSuchField/);
        return true;
      });
    } finally {
      await sim.close();
    }
  });

  it('answers 404 to entities:import under v1 and to a GET', async () => {
    const sim = await startChronicleSimulator();
    try {
      const v1 = await post(sim, bodyOf(0, 1).body, { path: ENTITIES_PATH.replace('v1alpha', 'v1') });
      assert.equal(v1.status, 404);
      const get = await fetch(`${sim.baseUrl}${ENTITIES_PATH}`, { headers: { authorization: 'Bearer tok' } });
      assert.equal(get.status, 404);
      assert.equal(sim.entityImports.requests.length, 0);
    } finally {
      await sim.close();
    }
  });
});
