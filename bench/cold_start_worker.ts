/**
 * Cold start of one Cloud Function, in a fresh process: the time to import the functions module
 * (dist/functions/index.js, what functions-framework loads) and then to serve the first request
 * through functions-framework's own server, as a new instance would.
 *
 * Usage: node dist/bench/cold_start_worker.js --target fetchIocStream|sendToChronicle --topic T
 *          [--body-file F]   (F: the Pub/Sub message data of the first request; default empty)
 * Configuration comes from the environment (the functions' own). Prints one JSON line.
 */

import { once } from 'node:events';
import { readFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { parseArgs } from 'node:util';

const { values } = parseArgs({
  options: {
    target: { type: 'string' },
    topic: { type: 'string' },
    project: { type: 'string' },
    'body-file': { type: 'string' },
  },
  strict: true,
});
const target = values.target ?? 'sendToChronicle';
const beforeImport = performance.now();
await import(new URL('../functions/index.js', import.meta.url).href);
const importMs = performance.now() - beforeImport;
const { getTestServer } = await import('@google-cloud/functions-framework/testing');
const server = getTestServer(target);
server.listen(0, '127.0.0.1');
await once(server, 'listening');
const { port } = server.address() as AddressInfo;
const data = values['body-file'] === undefined ? Buffer.alloc(0) : readFileSync(values['body-file']);
const push = {
  message: {
    data: data.toString('base64'),
    attributes: { source: 'bench' },
    messageId: `bench-${Date.now()}`,
    publishTime: new Date().toISOString(),
  },
  subscription: `projects/${values.project ?? 'p'}/subscriptions/bench`,
};
const beforeRequest = performance.now();
const response = await fetch(
  `http://127.0.0.1:${port}/projects/${values.project ?? 'p'}/topics/${values.topic ?? 't'}`,
  { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(push) },
);
await response.arrayBuffer();
const firstRequestMs = performance.now() - beforeRequest;
process.stdout.write(
  `${JSON.stringify({
    target,
    importMs,
    firstRequestMs,
    status: response.status,
    // performance.now() counts from process start: node's own boot included.
    totalMs: performance.now(),
    maxRssMB: process.resourceUsage().maxRSS / 1024,
  })}\n`,
);
server.close();
server.closeAllConnections();
process.exit(0);
