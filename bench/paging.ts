/**
 * GTI paging discipline, observed on the wire: a recording proxy between `sync` and the GTI
 * simulator notes when each request starts and ends, its limit and cursor, and the cursor each
 * response hands out. It then checks that every request asks for the maximum page size (40), that
 * each request's cursor is the one the previous response gave (one chain, nothing skipped or asked
 * twice), and that at most one request was in flight at any moment.
 */

import { once } from 'node:events';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, request } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { distPath, runMeasured } from './processes.js';
import { startServices } from './services.js';
import { syncEnv } from './standalone.js';

interface Exchange {
  start: number;
  end: number;
  limit: string | null;
  cursor: string | null;
  nextCursor: string | undefined;
  status: number;
}

export interface PagingResult {
  readonly count: number;
  readonly gtiLatencyMs: number;
  readonly requests: number;
  readonly limits: readonly string[];
  readonly maxInFlight: number;
  /** Every request after the first carried the previous response's cursor. */
  readonly chained: boolean;
  readonly wallMs: number;
  /** Gap between a response's end and the next request's start: the client asks at once. */
  readonly medianGapMs: number;
  readonly ok: boolean;
}

export async function runPagingCheck(options: {
  count: number;
  seed: number;
  gtiLatencyMs: number;
  mode: 'process' | 'inline';
}): Promise<PagingResult> {
  const services = await startServices({ ...options, chronicleLatencyMs: 0 });
  const upstream = new URL(services.gtiBaseUrl);
  const exchanges: Exchange[] = [];
  let inFlight = 0;
  let maxInFlight = 0;
  const proxy = createServer((req, res) => {
    const url = new URL(req.url ?? '/', upstream);
    const exchange: Exchange = {
      start: performance.now(),
      end: 0,
      limit: url.searchParams.get('limit'),
      cursor: url.searchParams.get('cursor'),
      nextCursor: undefined,
      status: 0,
    };
    exchanges.push(exchange);
    inFlight += 1;
    maxInFlight = Math.max(maxInFlight, inFlight);
    const forward = request(
      url,
      { method: req.method, headers: { ...req.headers, host: upstream.host } },
      async (answer) => {
        const parts: Buffer[] = [];
        for await (const part of answer) parts.push(part as Buffer);
        const body = Buffer.concat(parts);
        exchange.status = answer.statusCode ?? 0;
        try {
          const cursor = (JSON.parse(body.toString('utf8')) as { meta?: { cursor?: unknown } }).meta?.cursor;
          if (typeof cursor === 'string') exchange.nextCursor = cursor;
        } catch {
          // An error page: no cursor.
        }
        res.writeHead(exchange.status, answer.headers);
        res.end(body);
        exchange.end = performance.now();
        inFlight -= 1;
      },
    );
    forward.on('error', () => res.destroy());
    req.pipe(forward);
  });
  proxy.listen(0, '127.0.0.1');
  await once(proxy, 'listening');
  const port = (proxy.address() as AddressInfo).port;
  const dir = mkdtempSync(join(tmpdir(), 'ioc-bench-paging-'));
  try {
    const env = syncEnv(
      { ...services, gtiBaseUrl: `http://127.0.0.1:${port}${upstream.pathname}` },
      { ...options, chronicleLatencyMs: 0, concurrency: 2 },
      dir,
    );
    const run = await runMeasured(distPath('cli', 'main.js'), ['sync', '--json', '--quiet'], env);
    if (run.code !== 0) throw new Error(`sync exited with ${run.code}: ${run.stderr.slice(-2000)}`);
    const chained = exchanges.every((e, i) =>
      i === 0 ? e.cursor === null : e.cursor !== null && e.cursor === exchanges[i - 1]?.nextCursor,
    );
    const gaps = exchanges.slice(1).map((e, i) => e.start - (exchanges[i]?.end ?? e.start));
    gaps.sort((a, b) => a - b);
    const limits = [...new Set(exchanges.map((e) => e.limit ?? '(none)'))];
    return {
      count: options.count,
      gtiLatencyMs: options.gtiLatencyMs,
      requests: exchanges.length,
      limits,
      maxInFlight,
      chained,
      wallMs: run.wallMs,
      medianGapMs: gaps[Math.floor(gaps.length / 2)] ?? 0,
      ok: chained && maxInFlight <= 1 && limits.length === 1 && limits[0] === '40',
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
    proxy.closeAllConnections();
    proxy.close();
    await services.close();
  }
}
