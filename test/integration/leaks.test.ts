/**
 * Servers that misbehave in exactly the ways issue #13 lists, against the real clients and the real
 * `ioc-stream sync` process: keys and tokens echoed back at any offset (message, status, details,
 * headers), a 2xx that is not a success, a single entry refused as too large. Outcomes asserted:
 * what was thrown, printed and logged holds no 12+ character piece of a secret; what was counted as
 * imported; the checkpoint; exit codes.
 */
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { createChronicleClient } from '../../shared/chronicle/client.js';
import { deliverBody } from '../../shared/chronicle/delivery.js';
import {
  ChronicleError,
  ChroniclePermanentError,
  ChronicleRetryableError,
  describeError,
  GtiApiError,
} from '../../shared/core/errors.js';
import { createLogger } from '../../shared/core/logger.js';
import { registerSecret, Secret } from '../../shared/core/redact.js';
import { createGtiClient } from '../../shared/gti/client.js';
import { startChronicleSimulator } from '../../sim/chronicle_simulator.js';
import { type Dataset, generatedDataset } from '../../sim/dataset.js';
import { startGtiSimulator } from '../../sim/gti_simulator.js';
import { runCli } from '../helpers/cli.js';
import { type LoopbackServer, startLoopbackServer } from '../helpers/loopback.js';
import { type MetadataFake, startMetadataFake } from '../helpers/metadata_fake.js';
import { assertNoSecretFragment, fakeAccessToken, fakeGtiKey } from '../helpers/secrets.js';

const CUSTOMER = '01234567-89ab-4cde-8f01-23456789abcd';
const NO_RETRY = { maxAttempts: 1, maxTotalMs: 5_000, baseDelayMs: 1, maxDelayMs: 1 };

/** Offsets of the echoed secret: the start, around every cut the code makes (200, 300, 500), far out. */
const OFFSETS = [0, 5, 60, 199, 240, 270, 289, 290, 299, 300, 420, 499, 700];

interface Answer {
  status: number;
  body: string;
  headers?: Record<string, string>;
}

async function drain(req: IncomingMessage): Promise<void> {
  for await (const _ of req) {
    // discard
  }
}

/** A loopback server answering each request with `answer(echoed)`, `echoed` being the credential it received. */
async function echoServer(
  credentialOf: (req: IncomingMessage) => string,
  answer: () => (echoed: string) => Answer,
): Promise<LoopbackServer> {
  return startLoopbackServer(async (req: IncomingMessage, res: ServerResponse) => {
    await drain(req);
    const a = answer()(credentialOf(req));
    res.writeHead(a.status, { 'content-type': 'application/json', ...a.headers });
    res.end(a.body);
  });
}

/** Every way a server can hand a credential back: in the message, the status, the details, the headers. */
function echoes(status: number): ((secret: string, offset: number) => Answer)[] {
  const pad = (n: number) => 'x'.repeat(n);
  return [
    (s, o) => ({
      status,
      body: JSON.stringify({
        error: { code: status, message: `${pad(o)}${s} tail`, status: 'INVALID_ARGUMENT' },
      }),
    }),
    (s, o) => ({
      status,
      body: JSON.stringify({ error: { code: status, message: 'bad', status: `${pad(o % 40)}${s}` } }),
    }),
    (s, o) => ({
      status,
      body: JSON.stringify({
        error: {
          code: status,
          message: 'bad',
          status: 'PERMISSION_DENIED',
          details: [{ echoed: `${pad(o)}${s}` }],
        },
      }),
    }),
    (s, o) => ({
      status,
      body: JSON.stringify({ error: { code: status, status: 'X', details: [{ echoed: `${pad(o)}${s}` }] } }),
    }),
    (s) => ({
      status,
      body: JSON.stringify({ error: { code: status, message: 'bad' } }),
      headers: { 'x-echo': s, 'www-authenticate': `Bearer ${s}`, 'retry-after': s },
    }),
    (s, o) => ({ status, body: `<html><body>${pad(o)}Authorization: Bearer ${s}</body></html>` }),
  ];
}

describe('secrets echoed back by Chronicle and GTI', () => {
  it('Chronicle: no piece of the bearer token in any thrown error or log line, for every status and offset', async () => {
    const token = fakeAccessToken();
    registerSecret(token); // as shared/chronicle/auth.ts does with every token it obtains
    let current: (echoed: string) => Answer = () => ({ status: 200, body: '{}' });
    const server = await echoServer(
      (req) => (req.headers.authorization ?? '').replace(/^Bearer /, ''),
      () => current,
    );
    const lines: string[] = [];
    const logger = createLogger({ format: 'json', sink: { write: (l: string) => lines.push(l) } });
    try {
      const client = createChronicleClient({
        target: {
          baseUrl: server.origin,
          apiVersion: 'v1alpha',
          projectId: 'p',
          region: 'eu',
          customerId: CUSTOMER,
          logType: 'GTI_IOC_STREAM',
        },
        getToken: async () => token,
        timeoutMs: 5000,
      });
      let failures = 0;
      for (const status of [400, 403, 404, 413, 429, 500, 200]) {
        for (const echo of echoes(status)) {
          for (const offset of OFFSETS) {
            current = (echoed) => echo(echoed, offset);
            const error = await client.importLogs('{"inlineSource":{"logs":[]}}').then(
              () => undefined,
              (e: unknown) => e,
            );
            assert.ok(error instanceof ChronicleError, `status ${status}: ${String(error)}`);
            failures += 1;
            logger.error('import failed', { error: describeError(error), rpc_status: error.rpcStatus });
            assertNoSecretFragment(error, token, `error for ${status} at offset ${offset}`);
          }
        }
      }
      assert.equal(server.requests.length, failures, 'every answer was a failure, none a success');
      assertNoSecretFragment(lines, token, 'log lines');
    } finally {
      await server.close();
    }
  });

  it('GTI: no piece of the API key in any thrown error, for every status and offset', async () => {
    const key = new Secret(fakeGtiKey());
    let current: (echoed: string) => Answer = () => ({ status: 200, body: '{}' });
    const server = await echoServer(
      (req) => String(req.headers['x-apikey'] ?? ''),
      () => current,
    );
    try {
      const client = createGtiClient({
        baseUrl: `${server.origin}/api/v3`,
        apiKey: async () => key,
        timeoutMs: 5000,
        retry: NO_RETRY,
      });
      for (const status of [400, 401, 403, 429, 503]) {
        for (const echo of [
          ...echoes(status),
          (s: string, o: number) => ({
            status,
            body: JSON.stringify({ error: { code: `${'Q'.repeat(o % 9)}${s}`, message: 'no' } }),
          }),
        ]) {
          for (const offset of OFFSETS) {
            current = (echoed) => echo(echoed, offset);
            const error = await client.fetchPage({ filter: '', order: 'date+', limit: 10 }).then(
              () => undefined,
              (e: unknown) => e,
            );
            assert.ok(error instanceof GtiApiError, `status ${status}: ${String(error)}`);
            assertNoSecretFragment(error, key.reveal(), `GTI error for ${status} at offset ${offset}`);
          }
        }
      }
    } finally {
      await server.close();
    }
  });
});

describe('a 2xx that is not a success', () => {
  it('is a retryable error unless its body is empty or {}', async () => {
    let answer: Answer = { status: 200, body: '{}' };
    const server = await startLoopbackServer(async (req, res) => {
      await drain(req);
      res.writeHead(answer.status, { 'content-type': 'application/json' });
      res.end(answer.body);
    });
    try {
      const client = createChronicleClient({
        target: {
          baseUrl: server.origin,
          apiVersion: 'v1alpha',
          projectId: 'p',
          region: 'eu',
          customerId: CUSTOMER,
          logType: 'L',
        },
        getToken: async () => 'token-for-2xx-test',
        timeoutMs: 5000,
      });
      for (const ok of [
        { status: 200, body: '{}' },
        { status: 200, body: '' },
        { status: 200, body: ' {\n} ' },
        { status: 204, body: '' },
      ]) {
        answer = ok;
        await client.importLogs('{}');
      }
      for (const bad of [
        {
          status: 200,
          body: JSON.stringify({ error: { code: 403, message: 'denied', status: 'PERMISSION_DENIED' } }),
        },
        { status: 200, body: '<html>Sign in to continue</html>' },
        { status: 202, body: '{"name":"operations/123"}' },
        { status: 200, body: '[]' },
        { status: 200, body: 'null' },
      ]) {
        answer = bad;
        await assert.rejects(client.importLogs('{}'), (e: unknown) => {
          assert.ok(e instanceof ChronicleRetryableError, `${bad.body}: ${String(e)}`);
          assert.equal(e.status, bad.status);
          return true;
        });
      }
    } finally {
      await server.close();
    }
  });
});

describe('a single entry refused as too large', () => {
  it('is reported with its notification id and size, after splitting down to it', async () => {
    const server = await startLoopbackServer(async (req, res) => {
      await drain(req);
      res.writeHead(413, { 'content-type': 'application/json' });
      res.end(
        JSON.stringify({
          error: { code: 413, message: 'Request payload size exceeds the limit', status: 'INVALID_ARGUMENT' },
        }),
      );
    });
    try {
      const client = createChronicleClient({
        target: {
          baseUrl: server.origin,
          apiVersion: 'v1alpha',
          projectId: 'p',
          region: 'eu',
          customerId: CUSTOMER,
          logType: 'L',
        },
        getToken: async () => 'token-for-413-test',
        timeoutMs: 5000,
      });
      const entry = (id: string) => ({
        data: Buffer.from(
          JSON.stringify({ id: 'abc', context_attributes: { notification_id: id } }),
        ).toString('base64'),
        logEntryTime: '2026-01-01T00:00:00Z',
        collectionTime: '2026-01-01T00:00:01Z',
      });
      const body = JSON.stringify({
        inlineSource: { logs: [entry('n-600-a'), entry('n-600-b'), entry('n-600-c')] },
      });
      const first = JSON.stringify(entry('n-600-a'));
      await assert.rejects(deliverBody(client, 'logs', body, NO_RETRY), (e: unknown) => {
        assert.ok(e instanceof ChroniclePermanentError, String(e));
        assert.match(e.message, /n-600-a/);
        assert.match(e.message, new RegExp(`\\b${Buffer.byteLength(first)}-byte entry`));
        assert.doesNotMatch(e.message, /CHUNK_MAX_BYTES/);
        return true;
      });
      // Split 3 → 2 + 1, then 2 → 1 + 1: the first single entry stops the delivery.
      assert.equal(server.requests.length, 3);
    } finally {
      await server.close();
    }
  });
});

// ---------------------------------------------------------------------------------------------
// ioc-stream sync, a real child process

interface RunResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

function runSync(env: Record<string, string>): Promise<RunResult> {
  return runCli(['sync', '--json'], env);
}

describe('ioc-stream sync against misbehaving services', () => {
  const token = fakeAccessToken();
  let metadata: MetadataFake;
  before(async () => {
    metadata = await startMetadataFake({ token, projectId: 'my-project' });
  });
  after(async () => {
    await metadata.close();
  });

  const env = (gtiUrl: string, chronicleUrl: string, dataset: Dataset, key: string, dir: string) => ({
    PATH: process.env.PATH ?? '',
    HOME: dir,
    VT_API_KEY: key,
    VT_API_BASE_URL: gtiUrl,
    VT_DATE_FILTER: new Date((dataset.dateOf(0) - 5) * 1000).toISOString().replace(/\.\d{3}Z$/, 'Z'),
    CHRONICLE_API_BASE_URL: chronicleUrl,
    CHRONICLE_CUSTOMER_ID: CUSTOMER,
    CHRONICLE_REGION: 'eu',
    GCP_PROJECT_ID: 'my-project',
    CHECKPOINT_FILE: join(dir, 'checkpoint.json'),
    GCE_METADATA_HOST: metadata.host,
    METADATA_SERVER_DETECTION: 'assume-present',
    RETRY_MAX_ATTEMPTS: '2',
    RETRY_MAX_SECONDS: '10',
    LOG_LEVEL: 'debug',
  });

  it('a 200 carrying a google.rpc error stores nothing and moves no checkpoint', {
    timeout: 60_000,
  }, async () => {
    const key = fakeGtiKey();
    const dataset = generatedDataset({ count: 60, seed: 21 });
    const gti = await startGtiSimulator({ dataset, apiKey: key });
    const chronicle = await startChronicleSimulator({
      acceptToken: (t) => t === token,
      fault: () => ({
        status: 200,
        body: { error: { code: 403, message: 'Permission denied on resource', status: 'PERMISSION_DENIED' } },
      }),
    });
    try {
      const dir = mkdtempSync(join(tmpdir(), 'false-success-'));
      const run = await runSync(env(gti.baseUrl, chronicle.baseUrl, dataset, key, dir));
      assert.equal(run.code, 1, run.stderr);
      assert.equal(chronicle.acceptedIds.size, 0);
      assert.equal(existsSync(join(dir, 'checkpoint.json')), false, 'no checkpoint was written');
      assert.ok(chronicle.requests.length >= 2, 'the 200 was retried');
    } finally {
      await gti.close();
      await chronicle.close();
    }
  });

  it('prints no piece of the key or the token that the services echo back', { timeout: 60_000 }, async () => {
    const key = fakeGtiKey();
    const dataset = generatedDataset({ count: 30, seed: 22 });
    for (const offset of [0, 270, 290, 299]) {
      const dir = mkdtempSync(join(tmpdir(), 'echo-'));
      // Chronicle: the token straddles the 300-character cut, and stands in the status.
      const gti = await startGtiSimulator({ dataset, apiKey: key });
      const chronicle = await startChronicleSimulator({
        acceptToken: (t) => t === token,
        fault: () => ({
          status: 403,
          body: {
            error: {
              code: 403,
              message: `${'m'.repeat(offset)}Bearer ${token} is not allowed`,
              status: `PERMISSION_DENIED ${token}`,
              details: [{ token }],
            },
          },
          headers: { 'x-echo': token },
        }),
      });
      // GTI: refuses the key, echoing it at the same offset.
      const gtiWrong = await startGtiSimulator({
        dataset,
        apiKey: key,
        fault: () => ({
          status: 401,
          body: {
            error: { code: 'WrongCredentialsError', message: `${'k'.repeat(offset)}wrong key ${key}` },
          },
          headers: { 'x-echo': key },
        }),
      });
      try {
        const denied = await runSync(env(gti.baseUrl, chronicle.baseUrl, dataset, key, dir));
        assert.equal(denied.code, 1, denied.stderr);
        const wrong = await runSync(env(gtiWrong.baseUrl, chronicle.baseUrl, dataset, key, dir));
        assert.equal(wrong.code, 1, wrong.stderr);
        for (const [name, out] of Object.entries({ denied, wrong })) {
          assertNoSecretFragment(
            out.stdout + out.stderr,
            [token, key],
            `sync output (${name}, offset ${offset})`,
          );
        }
        if (existsSync(join(dir, 'checkpoint.json'))) {
          assertNoSecretFragment(
            readFileSync(join(dir, 'checkpoint.json'), 'utf8'),
            [token, key],
            'checkpoint',
          );
        }
      } finally {
        await Promise.all([gti.close(), gtiWrong.close(), chronicle.close()]);
      }
    }
  });
});
