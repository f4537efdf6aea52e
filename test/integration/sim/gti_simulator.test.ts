import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { createInterface } from 'node:readline';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import type { Notification } from '../../../shared/gti/notification.js';
import { generatedDataset } from '../../../sim/dataset.js';
import { type GtiSimulator, startGtiSimulator } from '../../../sim/gti_simulator.js';

interface Page {
  data: Notification[];
  meta: { cursor?: string; count: number };
  links: { self: string; next?: string };
}

const KEY = 'test-key-123';
const MAIN = fileURLToPath(new URL('../../../sim/gti_simulator_main.js', import.meta.url));

async function get(
  url: string,
  key: string | null = KEY,
): Promise<{ status: number; body: unknown; headers: Headers }> {
  const headers: Record<string, string> = { accept: 'application/json' };
  if (key !== null) headers['x-apikey'] = key;
  const res = await fetch(url, { headers });
  return { status: res.status, body: await res.json(), headers: res.headers };
}

async function drain(sim: GtiSimulator, query: string): Promise<{ items: Notification[]; pages: number }> {
  let url: string | undefined = `${sim.baseUrl}/ioc_stream?${query}`;
  const items: Notification[] = [];
  let pages = 0;
  while (url) {
    const { status, body } = await get(url);
    assert.equal(status, 200, JSON.stringify(body));
    const page = body as Page;
    pages++;
    items.push(...page.data);
    assert.equal(page.meta.count, page.data.length);
    if (page.links.next) assert.equal(new URL(page.links.next).searchParams.get('cursor'), page.meta.cursor);
    else assert.equal(page.meta.cursor, undefined);
    url = page.links.next;
  }
  return { items, pages };
}

const iso = (seconds: number): string => new Date(seconds * 1000).toISOString().slice(0, 19);

describe('GTI simulator', () => {
  const dataset = generatedDataset({ count: 230, seed: 11, oversizedEvery: 0 });
  let sim: GtiSimulator;
  before(async () => {
    sim = await startGtiSimulator({ dataset, apiKey: KEY });
  });
  after(async () => {
    await sim.close();
  });

  it('pages the whole dataset with a cursor, oldest first with order=date+', async () => {
    const { items, pages } = await drain(sim, 'order=date%2B&limit=40');
    assert.equal(items.length, dataset.size);
    assert.equal(pages, 6);
    items.forEach((n, i) => {
      assert.equal(n.context_attributes.notification_id, dataset.get(i).context_attributes.notification_id);
    });
    assert.equal(new Set(items.map((n) => n.context_attributes.notification_id)).size, dataset.size);
  });

  it('defaults to date- (newest first) and 10 per page', async () => {
    const { status, body } = await get(`${sim.baseUrl}/ioc_stream`);
    assert.equal(status, 200);
    const page = body as Page;
    assert.equal(page.data.length, 10);
    assert.equal(
      page.data[0]?.context_attributes.notification_id,
      dataset.get(dataset.size - 1).context_attributes.notification_id,
    );
    const dates = page.data.map((n) => n.context_attributes.notification_date);
    assert.deepEqual(
      dates,
      [...dates].sort((a, b) => b - a),
    );
  });

  it('applies date+ inclusively by default, in ISO, ISO with Z and unix seconds', async () => {
    // Pick a date shared by several items.
    let tieIndex = 1;
    while (dataset.dateOf(tieIndex) !== dataset.dateOf(tieIndex - 1)) tieIndex++;
    const mark = dataset.dateOf(tieIndex);
    const expected = Array.from({ length: dataset.size }, (_, i) => i).filter(
      (i) => dataset.dateOf(i) >= mark,
    ).length;
    for (const value of [iso(mark), `${iso(mark)}Z`, String(mark)]) {
      const filter = encodeURIComponent(`date:${value}+`);
      const { items } = await drain(sim, `order=date%2B&limit=40&filter=${filter}`);
      assert.equal(items.length, expected, value);
      assert.equal(items[0]?.context_attributes.notification_date, mark);
    }
    const before = encodeURIComponent(`date:${iso(mark)}-`);
    const { items: older } = await drain(sim, `order=date-&limit=40&filter=${before}`);
    assert.equal(
      older.length,
      dataset.size -
        expected +
        Array.from({ length: dataset.size }, (_, i) => i).filter((i) => dataset.dateOf(i) === mark).length,
    );
  });

  it('makes the date filter strict when dateFilterInclusive is false', async () => {
    const strict = await startGtiSimulator({ dataset, dateFilterInclusive: false });
    try {
      const mark = dataset.dateOf(100);
      const { items } = await drain(
        strict,
        `order=date%2B&limit=40&filter=${encodeURIComponent(`date:${iso(mark)}+`)}`,
      );
      assert.ok(items.every((n) => n.context_attributes.notification_date > mark));
      assert.equal(
        items.length,
        Array.from({ length: dataset.size }, (_, i) => i).filter((i) => dataset.dateOf(i) > mark).length,
      );
    } finally {
      await strict.close();
    }
  });

  it('filters by entity_type and origin, and serves descriptors only', async () => {
    const { items } = await drain(
      sim,
      `limit=7&filter=${encodeURIComponent('entity_type:domain origin:subscriptions')}`,
    );
    const expected = Array.from({ length: dataset.size }, (_, i) => dataset.get(i)).filter(
      (n) => n.type === 'domain' && n.context_attributes.origin === 'subscriptions',
    );
    assert.equal(items.length, expected.length);
    assert.ok(items.every((n) => n.type === 'domain'));
    const { body } = await get(`${sim.baseUrl}/ioc_stream?limit=3&descriptors_only=true`);
    for (const n of (body as Page).data) assert.equal(n.attributes, undefined);
  });

  it('rejects limit > 40, limit < 1, a bad order, an unknown filter and a bad cursor', async () => {
    const cases: Array<[string, string]> = [
      ['limit=41', 'InvalidArgumentError'],
      ['limit=0', 'InvalidArgumentError'],
      ['order=name', 'InvalidArgumentError'],
      [`filter=${encodeURIComponent('colour:red')}`, 'BadRequestError'],
      [`filter=${encodeURIComponent('date:yesterday+')}`, 'BadRequestError'],
      ['cursor=not-a-cursor', 'InvalidArgumentError'],
    ];
    for (const [query, code] of cases) {
      const { status, body } = await get(`${sim.baseUrl}/ioc_stream?${query}`);
      assert.equal(status, 400, query);
      assert.equal((body as { error: { code: string } }).error.code, code, query);
    }
  });

  it('answers 401 for a wrong or missing key and 404 elsewhere', async () => {
    const wrong = await get(`${sim.baseUrl}/ioc_stream`, 'nope');
    assert.equal(wrong.status, 401);
    assert.equal((wrong.body as { error: { code: string } }).error.code, 'WrongCredentialsError');
    const missing = await get(`${sim.baseUrl}/ioc_stream`, null);
    assert.equal(missing.status, 401);
    assert.equal((missing.body as { error: { code: string } }).error.code, 'AuthenticationRequiredError');
    assert.equal(sim.requests.at(-1)?.apiKeyPresent, false);
    const other = await get(`${sim.baseUrl}/files/abc`);
    assert.equal(other.status, 404);
    assert.equal((other.body as { error: { code: string } }).error.code, 'NotFoundError');
  });

  it('injects 429 and 5xx faults with VT error codes, Retry-After only when set, then serves normally', async () => {
    const faulty = await startGtiSimulator({
      dataset,
      fault: ({ n }) =>
        n === 1
          ? { status: 429 }
          : n === 2
            ? { status: 429, code: 'QuotaExceededError', retryAfterSeconds: 2 }
            : n === 3
              ? { status: 503 }
              : n === 4
                ? { status: 500 }
                : undefined,
    });
    try {
      const code = (body: unknown): string => (body as { error: { code: string } }).error.code;
      // VT documents two 429 codes (https://docs.virustotal.com/reference/errors): by default a fault is the
      // transient one, and it carries no Retry-After, which VT does not document.
      const tooMany = await get(`${faulty.baseUrl}/ioc_stream`);
      assert.equal(tooMany.status, 429);
      assert.equal(code(tooMany.body), 'TooManyRequestsError');
      assert.equal(tooMany.headers.get('retry-after'), null);
      const quota = await get(`${faulty.baseUrl}/ioc_stream`);
      assert.equal(quota.status, 429);
      assert.equal(code(quota.body), 'QuotaExceededError');
      assert.equal(quota.headers.get('retry-after'), '2');
      const transient = await get(`${faulty.baseUrl}/ioc_stream`);
      assert.equal(transient.status, 503);
      assert.equal(code(transient.body), 'TransientError');
      assert.equal((await get(`${faulty.baseUrl}/ioc_stream`)).status, 500);
      const ok = await get(`${faulty.baseUrl}/ioc_stream`);
      assert.equal(ok.status, 200);
      assert.equal(faulty.servedIds.size, 10);
      assert.deepEqual(
        faulty.requests.map((r) => r.status),
        [429, 429, 503, 500, 200],
      );
    } finally {
      await faulty.close();
    }
  });

  it('answers QuotaExceededError to every request once quotaRequests are used up', async () => {
    const limited = await startGtiSimulator({ dataset, quotaRequests: 2 });
    try {
      assert.equal((await get(`${limited.baseUrl}/ioc_stream`)).status, 200);
      assert.equal((await get(`${limited.baseUrl}/ioc_stream`)).status, 200);
      for (let i = 0; i < 3; i++) {
        const over = await get(`${limited.baseUrl}/ioc_stream`);
        assert.equal(over.status, 429);
        assert.equal((over.body as { error: { code: string } }).error.code, 'QuotaExceededError');
        assert.equal(over.headers.get('retry-after'), null);
      }
      assert.equal(limited.servedIds.size, 10);
    } finally {
      await limited.close();
    }
  });

  it('serves bare (type, id) descriptors when descriptorsWithContext is false', async () => {
    const bare = await startGtiSimulator({ dataset, descriptorsWithContext: false });
    try {
      const { body } = await get(`${bare.baseUrl}/ioc_stream?limit=3&descriptors_only=true`);
      const data = (body as Page).data as unknown as Array<Record<string, unknown>>;
      assert.equal(data.length, 3);
      for (const item of data) assert.deepEqual(Object.keys(item).sort(), ['id', 'type']);
    } finally {
      await bare.close();
    }
  });

  it('gti_simulator_main takes --date-filter-exclusive and --quota-requests', async () => {
    const child = spawn(process.execPath, [
      MAIN,
      '--count',
      '50',
      '--seed',
      '11',
      '--date-filter-exclusive',
      '--quota-requests',
      '1',
    ]);
    try {
      const lines = createInterface({ input: child.stdout })[Symbol.asyncIterator]();
      const ready = JSON.parse(String((await lines.next()).value)) as { baseUrl: string; firstDate: number };
      const filter = encodeURIComponent(`date:${iso(ready.firstDate)}+`);
      const first = await get(`${ready.baseUrl}/ioc_stream?order=date%2B&limit=40&filter=${filter}`);
      assert.equal(first.status, 200);
      assert.ok(
        (first.body as Page).data.every((n) => n.context_attributes.notification_date > ready.firstDate),
      );
      const second = await get(`${ready.baseUrl}/ioc_stream`);
      assert.equal(second.status, 429);
      assert.equal((second.body as { error: { code: string } }).error.code, 'QuotaExceededError');
    } finally {
      const exited = once(child, 'exit');
      child.kill('SIGTERM');
      await exited;
    }
  });

  it('waits latencyMs before answering', async () => {
    const slow = await startGtiSimulator({ dataset, latencyMs: 150 });
    try {
      const started = performance.now();
      await get(`${slow.baseUrl}/ioc_stream?limit=1`);
      assert.ok(performance.now() - started >= 140);
    } finally {
      await slow.close();
    }
  });

  it('serves 2,000 realistic notifications quickly', async () => {
    const big = generatedDataset({ count: 2000, seed: 1 });
    const fast = await startGtiSimulator({ dataset: big });
    try {
      const started = performance.now();
      const { items } = await drain(fast, 'order=date%2B&limit=40');
      assert.equal(items.length, 2000);
      assert.equal(fast.servedIds.size, 2000);
      assert.ok(performance.now() - started < 10_000);
    } finally {
      await fast.close();
    }
  });
});
