import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { chronicleError, isTooLargeAnswer } from '../../../../shared/chronicle/client.js';
import { splitBody } from '../../../../shared/chronicle/request_body.js';
import { logTypeUrl } from '../../../../shared/chronicle/resources.js';
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
      logTypeUrl(
        {
          baseUrl: 'https://eu-chronicle.googleapis.com',
          apiVersion: 'v1alpha',
          projectId: 'p1',
          region: 'eu',
          customerId: 'c1',
          logType: 'GTI_IOC_STREAM',
        },
        '/logs:import',
      ),
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

  it('treats Google\'s 400 INVALID_ARGUMENT "Request payload size exceeds the limit" like 413, and no other 400', () => {
    const oversize = chronicleError(
      400,
      rpc(400, 'INVALID_ARGUMENT', 'Request payload size exceeds the limit: 4000000 bytes.'),
    );
    assert.ok(oversize instanceof ChronicleTooLargeError, oversize.name);
    assert.equal(oversize.status, 400);
    assert.equal(oversize.rpcStatus, 'INVALID_ARGUMENT');
    assert.equal(oversize.retryable, false);
    assert.match(oversize.message, /^Chronicle answered 400 INVALID_ARGUMENT: Request payload size exceeds/);
    // The wording is matched without regard to case or to what surrounds it.
    const worded = chronicleError(
      400,
      rpc(400, 'INVALID_ARGUMENT', 'request PAYLOAD SIZE exceeds the limit'),
    );
    assert.ok(worded instanceof ChronicleTooLargeError);
    // Not oversize: another INVALID_ARGUMENT, the words under another status, or without a google.rpc body.
    const others: [number, string][] = [
      [400, rpc(400, 'INVALID_ARGUMENT', 'Invalid log entry: logs[3].data is not base64')],
      [400, rpc(400, 'FAILED_PRECONDITION', 'Request payload size exceeds the limit: 4000000 bytes.')],
      [400, 'Request payload size exceeds the limit: 4000000 bytes.'],
      [403, rpc(403, 'INVALID_ARGUMENT', 'Request payload size exceeds the limit: 4000000 bytes.')],
    ];
    for (const [status, body] of others) {
      const e = chronicleError(status, body);
      assert.ok(e instanceof ChroniclePermanentError, `${status} ${body}: ${e.name}`);
    }
    // A 413 is too large whatever its body (a front end may answer with an HTML page).
    assert.ok(chronicleError(413, '<html>Request Entity Too Large</html>') instanceof ChronicleTooLargeError);
    assert.equal(
      isTooLargeAnswer(400, 'INVALID_ARGUMENT', 'Request payload size exceeds the limit: 1 bytes.'),
      true,
    );
    assert.equal(isTooLargeAnswer(400, undefined, 'Request payload size exceeds the limit: 1 bytes.'), false);
  });

  it('carries at most the start of what the API said into the error (an API may echo the payload)', () => {
    const echoed = `invalid entry: ${'PAYLOAD'.repeat(500)}`;
    const e = chronicleError(400, rpc(400, 'INVALID_ARGUMENT', echoed));
    assert.ok(e.message.length < 400, `${e.message.length} characters`);
    assert.match(e.message, /^Chronicle answered 400 INVALID_ARGUMENT: invalid entry: PAYLOAD/);
  });

  it('splits a request body into two halves that keep the forwarder', () => {
    const logs = Array.from({ length: 5 }, (_, i) => ({ data: String(i), logEntryTime: 't' }));
    const halves = splitBody(JSON.stringify({ inlineSource: { logs, forwarder: 'f' } }));
    assert.ok(halves);
    const [a, b] = halves.map(
      (h) => JSON.parse(h) as { inlineSource: { logs: unknown[]; forwarder: string } },
    );
    assert.equal(a?.inlineSource.logs.length, 3);
    assert.equal(b?.inlineSource.logs.length, 2);
    assert.equal(b?.inlineSource.forwarder, 'f');
    assert.equal(splitBody(JSON.stringify({ inlineSource: { logs: [logs[0]] } })), undefined);
  });
});
