/**
 * The Chronicle simulator's log type, parser and runParser endpoints (sim/chronicle_parsers.ts),
 * spoken to with the project's own client (shared/chronicle/api.ts) and raw requests.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { createChronicleAdmin, isNotFound } from '../../../shared/chronicle/api.js';
import { ChroniclePermanentError, ValidationError } from '../../../shared/core/errors.js';
import { type ChronicleApi, startChronicleApi } from '../../helpers/chronicle_api.js';
import { startLoopbackServer } from '../../helpers/loopback.js';

const INSTANCE = 'projects/p/locations/us/instances/0b1c2d3e-4f50-4617-8293-a4b5c6d7e8f9';

function admin(baseUrl: string, logType = 'GTI_IOC_STREAM') {
  return createChronicleAdmin({
    target: {
      baseUrl,
      apiVersion: 'v1alpha',
      projectId: 'p',
      region: 'us',
      customerId: '0b1c2d3e-4f50-4617-8293-a4b5c6d7e8f9',
      logType,
    },
    getToken: async () => 'tok',
    http: { timeoutMs: 5000, maxAttempts: 1 },
  });
}

describe('Chronicle simulator: log types and parsers', () => {
  let api: ChronicleApi;
  before(async () => {
    api = await startChronicleApi({ logTypes: ['GTI_IOC_STREAM', 'OTHER_TYPE'] });
  });
  after(() => api.close());

  it('gets an existing log type, 404 for one never created', async () => {
    assert.deepEqual(await admin(api.baseUrl).getLogType(), {
      name: `${INSTANCE}/logTypes/GTI_IOC_STREAM`,
      displayName: 'GTI_IOC_STREAM',
    });
    await assert.rejects(admin(api.baseUrl, 'NOPE_TYPE').getLogType(), (e: unknown) => isNotFound(e));
  });

  it('creates parsers inactive, activates one at a time per log type, and pages the list', async () => {
    const client = admin(api.baseUrl);
    const first = await client.createParser('filter { # one }');
    const second = await client.createParser('filter { # two }');
    assert.equal(first.state, 'INACTIVE');
    await client.activateParser(first.id);
    await client.activateParser(second.id);
    const other = await admin(api.baseUrl, 'OTHER_TYPE').createParser('filter { # other }');
    await admin(api.baseUrl, 'OTHER_TYPE').activateParser(other.id);
    const listed = await client.listParsers();
    assert.deepEqual(
      listed.map((p) => [p.id, p.state, p.text]),
      [
        [first.id, 'INACTIVE', 'filter { # one }'],
        [second.id, 'ACTIVE', 'filter { # two }'],
      ],
    );
    // Paging and the documented `-` wildcard, raw.
    const page = async (query: string) =>
      (await (
        await fetch(`${api.baseUrl}/v1alpha/${INSTANCE}/logTypes/-/parsers?${query}`, {
          headers: { authorization: 'Bearer tok' },
        })
      ).json()) as { parsers: { name: string }[]; nextPageToken?: string };
    const one = await page('pageSize=2');
    assert.equal(one.parsers.length, 2);
    assert.ok(one.nextPageToken);
    const two = await page(`pageSize=2&pageToken=${one.nextPageToken}`);
    assert.deepEqual(
      two.parsers.map((p) => p.name.split('/').pop()),
      [other.id],
    );
    assert.equal(two.nextPageToken, undefined);
  });

  it('answers google.rpc errors: no credentials, bad parser, unknown parser', async () => {
    const noAuth = await fetch(`${api.baseUrl}/v1alpha/${INSTANCE}/logTypes/GTI_IOC_STREAM`);
    assert.equal(noAuth.status, 401);
    assert.equal(((await noAuth.json()) as { error: { status: string } }).error.status, 'UNAUTHENTICATED');
    const bad = await fetch(`${api.baseUrl}/v1alpha/${INSTANCE}/logTypes/GTI_IOC_STREAM/parsers`, {
      method: 'POST',
      headers: { authorization: 'Bearer tok', 'content-type': 'application/json' },
      body: JSON.stringify({ cbn: 'not base64!' }),
    });
    assert.equal(bad.status, 400);
    await assert.rejects(admin(api.baseUrl).activateParser('no-such-parser'), (e: unknown) => {
      assert.ok(e instanceof ChroniclePermanentError);
      assert.match(
        e.message,
        /^parsers\.activate failed: Chronicle answered 404 NOT_FOUND: Parser "no-such-parser" not found/,
      );
      return true;
    });
  });

  it('refuses imports into a log type that does not exist, and counts those without an active parser', async () => {
    const body = JSON.stringify({
      inlineSource: {
        logs: [
          {
            data: Buffer.from('{"context_attributes":{"notification_id":"n1"}}').toString('base64'),
            logEntryTime: '2026-01-01T00:00:00Z',
            collectionTime: '2026-01-01T00:00:01Z',
          },
        ],
      },
    });
    const post = (logType: string) =>
      fetch(`${api.baseUrl}/v1alpha/${INSTANCE}/logTypes/${logType}/logs:import`, {
        method: 'POST',
        headers: { authorization: 'Bearer tok', 'content-type': 'application/json' },
        body,
      });
    const missing = await post('NOPE_TYPE');
    assert.equal(missing.status, 404);
    assert.match(
      ((await missing.json()) as { error: { message: string } }).error.message,
      /Log type "NOPE_TYPE" not found/,
    );
    api.parsers.createLogType('NEW_TYPE');
    assert.equal((await post('NEW_TYPE')).status, 200);
    assert.equal(api.parsers.importsWithoutActiveParser, 1);
    assert.equal((await post('GTI_IOC_STREAM')).status, 200);
    assert.equal(api.parsers.importsWithoutActiveParser, 1, 'GTI_IOC_STREAM has an active parser');
  });
});

describe('parser list paging guard', () => {
  it('stops on a page token that repeats instead of looping', async () => {
    const server = await startLoopbackServer((_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ parsers: [], nextPageToken: 'same' }));
    });
    try {
      await assert.rejects(admin(server.origin).listParsers(), (e: unknown) => e instanceof ValidationError);
      assert.equal(server.requests.length, 2);
    } finally {
      await server.close();
    }
  });
});
