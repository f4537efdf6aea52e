/**
 * The transport floor: the least a client can do to move the same GTI pages into the same
 * Chronicle endpoint, with none of the product's work. It pages `ioc_stream` (limit 40, one
 * request in flight, the next one sent as soon as the previous body has arrived and its cursor is
 * read from the body's tail), base64s each page's bytes whole as one logs:import entry (no parse,
 * no cleaning, no per-notification entries), packs those entries into request bodies of at most
 * CHUNK_MAX_BYTES and posts them with at most `--concurrency` requests in flight, over node:http
 * with keep-alive. Timestamps are the run's start; the token comes from the metadata server once.
 * The wire formats are the product's (envelope and body writer from shared/chronicle/request_body,
 * URL from shared/chronicle/resources), so the simulators check the floor as they check sync.
 *
 * Usage: node dist/bench/floor_client.js --gti-url URL --api-key KEY --chronicle-url URL
 *          --metadata-host HOST --filter F [--limit 40] [--concurrency 2] [--chunk-max-bytes B]
 * Prints one JSON line: {pages, gtiBytes, requests, requestBytes}.
 */
import { Agent, request } from 'node:http';
import { parseArgs } from 'node:util';
import { type EntryParts, logsImportEnvelope, writeBody } from '../shared/chronicle/request_body.js';

const { values } = parseArgs({
  options: {
    'gti-url': { type: 'string' },
    'api-key': { type: 'string' },
    'chronicle-url': { type: 'string' },
    'metadata-host': { type: 'string' },
    filter: { type: 'string' },
    limit: { type: 'string', default: '40' },
    concurrency: { type: 'string', default: '2' },
    'chunk-max-bytes': { type: 'string', default: '3900000' },
  },
  strict: true,
});
const required = (name: keyof typeof values): string => {
  const v = values[name];
  if (typeof v !== 'string' || v === '') throw new Error(`--${name} is required`);
  return v;
};
const gtiUrl = required('gti-url');
const apiKey = required('api-key');
const chronicleUrl = required('chronicle-url');
const concurrency = Number(values.concurrency);
const chunkMaxBytes = Number(values['chunk-max-bytes']);
const agent = new Agent({ keepAlive: true });

function exchange(
  url: string,
  method: 'GET' | 'POST',
  headers: Record<string, string | number>,
  body?: Buffer,
): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const req = request(url, { method, headers, agent }, (res) => {
      const parts: Buffer[] = [];
      res.on('data', (part: Buffer) => parts.push(part));
      res.on('end', () => {
        const data = Buffer.concat(parts);
        if (res.statusCode === 200) resolve(data);
        else
          reject(new Error(`${method} ${url} answered ${res.statusCode}: ${data.toString().slice(0, 300)}`));
      });
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(body);
  });
}

/** The next cursor, read from the tail of a GTI body (`..."meta":{...},"links":{...}}`). */
function cursorOf(body: Buffer): string | undefined {
  const at = body.lastIndexOf('],"meta":');
  if (at < 0) throw new Error('GTI body without meta after data');
  const tail = JSON.parse(`{${body.toString('utf8', at + 2)}`) as { meta?: { cursor?: string } };
  return tail.meta?.cursor;
}

const token = (
  JSON.parse(
    (
      await exchange(
        `http://${required('metadata-host')}/computeMetadata/v1/instance/service-accounts/default/token`,
        'GET',
        { 'metadata-flavor': 'Google' },
      )
    ).toString(),
  ) as { access_token: string }
).access_token;

const page = (cursor: string | undefined): Promise<Buffer> => {
  const params = new URLSearchParams({ filter: required('filter'), order: 'date+', limit: values.limit });
  if (cursor !== undefined) params.set('cursor', cursor);
  return exchange(`${gtiUrl}/ioc_stream?${params}`, 'GET', {
    'x-apikey': apiKey,
    accept: 'application/json',
  });
};

const envelope = logsImportEnvelope(undefined);
const now = Date.now();
const times = `","logEntryTime":"${new Date(now - 1000).toISOString()}","collectionTime":"${new Date(now).toISOString()}"}`;
const inFlight = new Set<Promise<void>>();
let failure: unknown;
let requests = 0;
let requestBytes = 0;
const post = (entries: EntryParts[], bytes: number): void => {
  const body = writeBody(entries, envelope, bytes);
  requests += 1;
  requestBytes += body.length;
  const task = exchange(
    chronicleUrl,
    'POST',
    { authorization: `Bearer ${token}`, 'content-type': 'application/json', 'content-length': body.length },
    body,
  )
    .then(() => undefined)
    .catch((error: unknown) => {
      failure ??= error;
    })
    .finally(() => inFlight.delete(task));
  inFlight.add(task);
};

let pages = 0;
let gtiBytes = 0;
let batch: EntryParts[] = [];
let batchBytes = envelope.overheadBytes;
let next: Promise<Buffer> | undefined = page(undefined);
while (next !== undefined && failure === undefined) {
  const body: Buffer = await next;
  const cursor = cursorOf(body);
  next = cursor === undefined ? undefined : page(cursor);
  // Awaited at the top of the loop; until then a failure must not count as unhandled.
  next?.catch(() => undefined);
  pages += 1;
  gtiBytes += body.length;
  const data = body.toString('base64');
  const entry: EntryParts = { head: '{"data":"', data, tail: times, bytes: 9 + data.length + times.length };
  if (envelope.overheadBytes + entry.bytes > chunkMaxBytes)
    throw new Error(`page ${pages} (${entry.bytes} bytes as an entry) does not fit in one request`);
  if (batch.length > 0 && batchBytes + 1 + entry.bytes > chunkMaxBytes) {
    post(batch, batchBytes);
    batch = [];
    batchBytes = envelope.overheadBytes;
    while (inFlight.size >= concurrency) await Promise.race(inFlight);
  }
  batchBytes += entry.bytes + (batch.length > 0 ? 1 : 0);
  batch.push(entry);
}
if (batch.length > 0 && failure === undefined) post(batch, batchBytes);
await Promise.all(inFlight);
agent.destroy();
if (failure !== undefined) throw failure;
process.stdout.write(`${JSON.stringify({ pages, gtiBytes, requests, requestBytes })}\n`);
