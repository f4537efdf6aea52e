import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { type ChronicleSimulator, startChronicleSimulator } from '../../../sim/chronicle_simulator.js';

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
        logs: [{ data, log_entry_time: '2026-01-01T00:00:00Z', collection_time: '2026-01-01T00:00:00Z' }],
      },
    });
    assert.equal(res.status, 200);
    assert.equal(sim.acceptedIds.get('n1'), 2);
    const stats = (await (await fetch(`${sim.baseUrl}/_stats`)).json()) as Record<string, number>;
    assert.equal(stats.entries, 3);
    assert.equal(stats.uniqueIds, 2);
    assert.equal(stats.duplicates, 1);
  });

  it('rejects a body over 4,000,000 bytes with 413 and records nothing', async () => {
    const before = sim.entries.length;
    const big = 'A'.repeat(4_000_100);
    const res = await post(sim, {
      inlineSource: {
        logs: [{ data: big, logEntryTime: '2026-01-01T00:00:00Z', collectionTime: '2026-01-01T00:00:00Z' }],
      },
    });
    assert.equal(res.status, 413);
    assert.equal(res.body.error?.code, 413);
    assert.equal(sim.entries.length, before);
    assert.ok((sim.requests.at(-1)?.bytes ?? 0) > 4_000_000);
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
