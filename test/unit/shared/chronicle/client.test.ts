import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { chronicleError, importUrl, splitRequestBody } from '../../../../shared/chronicle/client.js';
import {
  ChroniclePermanentError,
  ChronicleRetryableError,
  ChronicleTooLargeError,
} from '../../../../shared/core/errors.js';

const rpc = (code: number, status: string, message: string) =>
  JSON.stringify({ error: { code, message, status } });

describe('Chronicle client', () => {
  it('builds the logs:import URL from base, version, project, region, instance and log type', () => {
    assert.equal(
      importUrl({
        baseUrl: 'https://eu-chronicle.googleapis.com',
        apiVersion: 'v1alpha',
        projectId: 'p1',
        region: 'eu',
        customerId: 'c1',
        logType: 'GTI_IOC_STREAM',
      }),
      'https://eu-chronicle.googleapis.com/v1alpha/projects/p1/locations/eu/instances/c1/logTypes/GTI_IOC_STREAM/logs:import',
    );
  });

  it('types errors so the caller knows what to do', () => {
    const busy = chronicleError(429, rpc(429, 'RESOURCE_EXHAUSTED', 'quota'), '7');
    assert.ok(busy instanceof ChronicleRetryableError);
    assert.equal(busy.retryAfterMs, 7000);
    assert.equal(busy.rpcStatus, 'RESOURCE_EXHAUSTED');
    for (const status of [500, 502, 503, 504])
      assert.ok(chronicleError(status, 'oops') instanceof ChronicleRetryableError);
    assert.ok(chronicleError(413, rpc(413, 'INVALID_ARGUMENT', 'too big')) instanceof ChronicleTooLargeError);
    for (const status of [400, 401, 403, 404]) {
      const e = chronicleError(status, rpc(status, 'X', 'no'));
      assert.ok(e instanceof ChroniclePermanentError && !e.retryable && e.status === status);
    }
    assert.match(
      chronicleError(403, rpc(403, 'PERMISSION_DENIED', 'denied')).message,
      /chronicle\.logs\.import/,
    );
  });

  it('carries at most the start of what the API said into the error (an API may echo the payload)', () => {
    const echoed = `invalid entry: ${'PAYLOAD'.repeat(500)}`;
    const e = chronicleError(400, rpc(400, 'INVALID_ARGUMENT', echoed));
    assert.ok(e.message.length < 400, `${e.message.length} characters`);
    assert.match(e.message, /^Chronicle answered 400 INVALID_ARGUMENT: invalid entry: PAYLOAD/);
  });

  it('splits a request body into two halves that keep the forwarder', () => {
    const logs = Array.from({ length: 5 }, (_, i) => ({ data: String(i), logEntryTime: 't' }));
    const halves = splitRequestBody(JSON.stringify({ inlineSource: { logs, forwarder: 'f' } }));
    assert.ok(halves);
    const [a, b] = halves.map(
      (h) => JSON.parse(h) as { inlineSource: { logs: unknown[]; forwarder: string } },
    );
    assert.equal(a?.inlineSource.logs.length, 3);
    assert.equal(b?.inlineSource.logs.length, 2);
    assert.equal(b?.inlineSource.forwarder, 'f');
    assert.equal(splitRequestBody(JSON.stringify({ inlineSource: { logs: [logs[0]] } })), undefined);
  });
});
