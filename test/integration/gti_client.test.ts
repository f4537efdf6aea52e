import assert from 'node:assert/strict';
import diagnostics from 'node:diagnostics_channel';
import { once } from 'node:events';
import { describe, it } from 'node:test';
import { inspect } from 'node:util';
import { GtiApiError } from '../../shared/core/errors.js';
import { Secret } from '../../shared/core/redact.js';
import { createGtiClient, isGtiQuotaExceeded } from '../../shared/gti/client.js';
import { generatedDataset } from '../../sim/dataset.js';
import { startGtiSimulator } from '../../sim/gti_simulator.js';
import { startLoopbackServer } from '../helpers/loopback.js';
import { waitFor } from '../helpers/wait.js';

const KEY = new Secret('vt-key-for-gti-client-tests-0b9c');
const retry = { maxAttempts: 4, maxTotalMs: 10_000, baseDelayMs: 20, maxDelayMs: 100 };

describe('GTI client', () => {
  it('pages through ioc_stream with the cursor, one request per page', async () => {
    const dataset = generatedDataset({ count: 95, seed: 5 });
    const sim = await startGtiSimulator({ dataset, apiKey: KEY.reveal() });
    try {
      const client = createGtiClient({
        baseUrl: sim.baseUrl,
        apiKey: async () => KEY,
        timeoutMs: 5000,
        retry,
      });
      const ids: string[] = [];
      let pages = 0;
      for await (const page of client.pages({
        filter: 'date:2025-12-31T00:00:00+',
        order: 'date+',
        limit: 40,
      })) {
        pages += 1;
        for (const item of page.items) {
          assert.equal(item.kind, 'cleaned');
          if (item.kind === 'cleaned') ids.push(item.id);
        }
      }
      assert.equal(pages, 3);
      assert.equal(new Set(ids).size, 95);
      assert.equal(sim.requests.length, 3);
    } finally {
      await sim.close();
    }
  });

  it('sends the next request as soon as a body arrives, before its items are cleaned and handed over', async () => {
    const sim = await startGtiSimulator({
      dataset: generatedDataset({ count: 120, seed: 5 }),
      apiKey: KEY.reveal(),
    });
    // Node publishes every HTTP client request on this channel when it starts (synchronously).
    const events: string[] = [];
    const onRequest = (message: unknown) => {
      const path = (message as { request: { path: string } }).request.path;
      events.push(path.includes('cursor=') ? 'request next' : 'request first');
    };
    diagnostics.subscribe('http.client.request.start', onRequest);
    try {
      const client = createGtiClient({
        baseUrl: sim.baseUrl,
        apiKey: async () => KEY,
        timeoutMs: 5000,
        retry,
      });
      let n = 0;
      for await (const page of client.pages({ filter: '', order: 'date+', limit: 40 })) {
        n += 1;
        events.push(`page ${n} (${page.items.length})`);
      }
      // Each next request left before the page it follows was handed over; one request at a time.
      assert.deepEqual(events, [
        'request first',
        'request next',
        'page 1 (40)',
        'request next',
        'page 2 (40)',
        'page 3 (40)',
      ]);
      assert.equal(sim.requests.length, 3);
    } finally {
      diagnostics.unsubscribe('http.client.request.start', onRequest);
      await sim.close();
    }
  });

  it('aborts a request sent from an unreadable body before asking for that page again: never two at once', async () => {
    const page = (items: string, cursor?: string) =>
      `{"data":[${items}],"meta":${JSON.stringify(cursor ? { cursor } : {})},"links":{}}`;
    const item = JSON.stringify(generatedDataset({ count: 1, seed: 5 }).get(0));
    let open = 0;
    let maxOpen = 0;
    let firstAnswers = 0;
    const seen: string[] = [];
    const server = await startLoopbackServer(async (req, res) => {
      open += 1;
      maxOpen = Math.max(maxOpen, open);
      const closed = once(req.socket, 'close');
      res.on('finish', () => {
        open -= 1;
      });
      const cursor = new URL(req.url ?? '/', 'http://x').searchParams.get('cursor');
      if (cursor === null) {
        firstAnswers += 1;
        seen.push(`first ${firstAnswers}`);
        // The first answer's items cannot be read, but its tail names the next page.
        res.end(firstAnswers === 1 ? page('1 2', 'C2') : page(item, 'C2'));
        return;
      }
      seen.push(cursor);
      if (seen.filter((s) => s === 'C2').length === 1) {
        // The early request: never answered; the client must abort it.
        await closed;
        open -= 1;
        seen.push('C2 aborted');
        return;
      }
      res.end(page(item));
    });
    try {
      const client = createGtiClient({
        baseUrl: `${server.origin}/api/v3`,
        apiKey: async () => KEY,
        timeoutMs: 5000,
        retry,
      });
      const items: number[] = [];
      for await (const p of client.pages({ filter: '', order: 'date+', limit: 40 }))
        items.push(p.items.length);
      assert.deepEqual(items, [1, 1]);
      assert.deepEqual(seen, ['first 1', 'C2', 'C2 aborted', 'first 2', 'C2']);
      assert.equal(maxOpen, 1);
    } finally {
      await server.close();
    }
  });

  it('tells the caller each time a request has left (onRequestSent), while its answer is still pending', async () => {
    const item = JSON.stringify(generatedDataset({ count: 1, seed: 5 }).get(0));
    const cursors = [undefined, 'C2', 'C3'];
    let sent = 0;
    const answered: number[] = [];
    const server = await startLoopbackServer(async (req, res) => {
      const n =
        cursors.indexOf(new URL(req.url ?? '/', 'http://x').searchParams.get('cursor') ?? undefined) + 1;
      // The answer waits until the client has said this request left.
      await waitFor(
        `onRequestSent for request ${n}`,
        () => sent >= n,
        5000,
        () => `(${sent} so far)`,
        2,
      );
      answered.push(sent);
      const next = cursors[n];
      res.end(`{"data":[${item}],"meta":${JSON.stringify(next ? { cursor: next } : {})},"links":{}}`);
    });
    try {
      const client = createGtiClient({
        baseUrl: `${server.origin}/api/v3`,
        apiKey: async () => KEY,
        timeoutMs: 5000,
        retry,
      });
      let pages = 0;
      for await (const _ of client.pages({
        filter: '',
        order: 'date+',
        limit: 40,
        onRequestSent: () => {
          sent += 1;
        },
      }))
        pages += 1;
      assert.equal(pages, 3);
      assert.equal(sent, 3, 'once per request');
      assert.deepEqual(answered, [1, 2, 3], 'each call came before its answer');
    } finally {
      await server.close();
    }
  });

  it('honours Retry-After on 429 TooManyRequestsError and retries 5xx, then succeeds', async () => {
    const sim = await startGtiSimulator({
      dataset: generatedDataset({ count: 5, seed: 2 }),
      apiKey: KEY.reveal(),
      fault: ({ n }) =>
        n === 1
          ? { status: 429, code: 'TooManyRequestsError', retryAfterSeconds: 1 }
          : n === 2
            ? { status: 503, body: { error: { code: 'TransientError', message: 'later' } } }
            : undefined,
    });
    try {
      const retries: Array<{ delayMs: number; code: string | undefined }> = [];
      const client = createGtiClient({
        baseUrl: sim.baseUrl,
        apiKey: async () => KEY,
        timeoutMs: 5000,
        retry,
        onRetry: ({ delayMs, code }) => retries.push({ delayMs, code }),
      });
      const started = Date.now();
      const page = await client.fetchPage({ filter: '', order: 'date+', limit: 10 });
      assert.equal(page.items.length, 5);
      assert.deepEqual(retries[0], { delayMs: 1000, code: 'TooManyRequestsError' });
      assert.equal(retries[1]?.code, 'TransientError');
      assert.ok(Date.now() - started >= 1000);
      assert.equal(sim.requests.length, 3);
    } finally {
      await sim.close();
    }
  });

  it('stops at once on 429 QuotaExceededError, naming the quota, even with Retry-After', async () => {
    const sim = await startGtiSimulator({
      dataset: generatedDataset({ count: 5, seed: 2 }),
      apiKey: KEY.reveal(),
      fault: () => ({ status: 429, code: 'QuotaExceededError', retryAfterSeconds: 1 }),
    });
    try {
      const retries: number[] = [];
      const client = createGtiClient({
        baseUrl: sim.baseUrl,
        apiKey: async () => KEY,
        timeoutMs: 5000,
        retry,
        onRetry: ({ attempt }) => retries.push(attempt),
      });
      await assert.rejects(client.fetchPage({ filter: '', order: 'date+', limit: 10 }), (e: unknown) => {
        assert.ok(e instanceof GtiApiError);
        assert.equal(e.status, 429);
        assert.equal(e.vtCode, 'QuotaExceededError');
        assert.equal(e.retryable, false);
        assert.equal(e.retryAfterMs, undefined);
        assert.ok(isGtiQuotaExceeded(e));
        assert.match(e.message, /GTI answered 429 QuotaExceededError: .*quota is used up/);
        return true;
      });
      assert.deepEqual(retries, []);
      assert.equal(sim.requests.length, 1);
    } finally {
      await sim.close();
    }
  });

  it('pages until the quota is used up, then stops at once; TooManyRequestsError is not the quota case', async () => {
    const sim = await startGtiSimulator({
      dataset: generatedDataset({ count: 95, seed: 5 }),
      apiKey: KEY.reveal(),
      quotaRequests: 2,
    });
    try {
      const client = createGtiClient({
        baseUrl: sim.baseUrl,
        apiKey: async () => KEY,
        timeoutMs: 5000,
        retry,
      });
      let pages = 0;
      await assert.rejects(
        (async () => {
          for await (const _ of client.pages({ filter: '', order: 'date+', limit: 40 })) pages += 1;
        })(),
        (e: unknown) => isGtiQuotaExceeded(e),
      );
      assert.equal(pages, 2);
      assert.equal(sim.requests.length, 3);
      const tooMany = new GtiApiError('x', { status: 429, vtCode: 'TooManyRequestsError', retryable: true });
      assert.equal(isGtiQuotaExceeded(tooMany), false);
    } finally {
      await sim.close();
    }
  });

  it('paces requests to requestsPerMinute, retries included, waiting out the window', async () => {
    const dataset = generatedDataset({ count: 200, seed: 6 });
    let clock = 0;
    const started: number[] = [];
    const sim = await startGtiSimulator({
      dataset,
      apiKey: KEY.reveal(),
      fault: ({ n }) => {
        started.push(clock);
        return n === 2 ? { status: 429, retryAfterSeconds: 0 } : undefined;
      },
    });
    const waits: number[] = [];
    try {
      const client = createGtiClient({
        baseUrl: sim.baseUrl,
        apiKey: async () => KEY,
        timeoutMs: 5000,
        retry,
        requestsPerMinute: 2,
        now: () => clock,
        sleep: async (ms) => {
          waits.push(ms);
          clock += ms;
        },
      });
      let pages = 0;
      for await (const _ of client.pages({ filter: '', order: 'date+', limit: 40 })) pages += 1;
      assert.equal(pages, 5);
      assert.equal(started.length, 6, 'five pages and one retry');
      for (let i = 2; i < started.length; i++) {
        assert.ok(
          (started[i] ?? 0) - (started[i - 2] ?? 0) >= 60_000,
          `requests ${i - 2} and ${i} in one minute`,
        );
      }
      assert.ok(waits.some((ms) => ms > 0));
    } finally {
      await sim.close();
    }
  });

  it('fails at once on 400/401 with the VT error code', async () => {
    const sim = await startGtiSimulator({
      dataset: generatedDataset({ count: 5, seed: 2 }),
      apiKey: KEY.reveal(),
    });
    try {
      const client = createGtiClient({
        baseUrl: sim.baseUrl,
        apiKey: async () => KEY,
        timeoutMs: 5000,
        retry,
      });
      await assert.rejects(
        client.fetchPage({ filter: '', order: 'date+', limit: 41 }),
        (e: unknown) =>
          e instanceof GtiApiError && e.status === 400 && e.vtCode === 'InvalidArgumentError' && !e.retryable,
      );
      const wrong = new Secret('vt-wrong-key-for-tests-77aa');
      const bad = createGtiClient({
        baseUrl: sim.baseUrl,
        apiKey: async () => wrong,
        timeoutMs: 5000,
        retry,
      });
      await assert.rejects(bad.fetchPage({ filter: '', order: 'date+', limit: 10 }), (e: unknown) => {
        assert.ok(e instanceof GtiApiError && e.status === 401 && e.vtCode === 'WrongCredentialsError');
        assert.ok(!inspect(e, { depth: 20, showHidden: true }).includes(wrong.reveal()));
        return true;
      });
      assert.equal(sim.requests.length, 2);
    } finally {
      await sim.close();
    }
  });

  it('never carries the key in a network error, after bounded retries', async () => {
    const server = await startLoopbackServer((req) => {
      req.socket.destroy();
    });
    try {
      const client = createGtiClient({
        baseUrl: `${server.origin}/api/v3`,
        apiKey: async () => KEY,
        timeoutMs: 2000,
        retry: { ...retry, maxAttempts: 3 },
      });
      await assert.rejects(client.fetchPage({ filter: '', order: 'date+', limit: 10 }), (e: unknown) => {
        assert.ok(e instanceof GtiApiError && e.retryable);
        const text = `${String(e)} ${e.stack ?? ''} ${inspect(e, { depth: 20, showHidden: true })} ${JSON.stringify(e)}`;
        assert.ok(!text.includes(KEY.reveal()), 'key leaked into the error');
        return true;
      });
    } finally {
      await server.close();
    }
  });
});
