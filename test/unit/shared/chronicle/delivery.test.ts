import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { type ChronicleImporter, chronicleError } from '../../../../shared/chronicle/client.js';
import { deliverBody } from '../../../../shared/chronicle/delivery.js';
import { ChroniclePermanentError, ChronicleTooLargeError } from '../../../../shared/core/errors.js';

const POLICY = { maxAttempts: 3, maxTotalMs: 5000, baseDelayMs: 1, maxDelayMs: 1 };

const rpc = (code: number, status: string, message: string) =>
  JSON.stringify({ error: { code, message, status } });

function body(ids: readonly string[]): string {
  return JSON.stringify({
    inlineSource: {
      logs: ids.map((id) => ({
        data: Buffer.from(JSON.stringify({ id })).toString('base64'),
        logEntryTime: '2026-01-01T00:00:00Z',
        collectionTime: '2026-01-01T00:00:01Z',
      })),
      forwarder: 'projects/p/locations/us/instances/c/forwarders/f',
    },
  });
}

/** An entities:import body with one entity per id (the id in metadata.productEntityId). */
function entityBody(ids: readonly string[]): string {
  return JSON.stringify({
    inlineSource: {
      entities: ids.map((id) => ({ metadata: { productEntityId: id, entityType: 'DOMAIN_NAME' } })),
      logType: 'GTI_IOC_STREAM',
    },
  });
}

function idsOf(text: string): string[] {
  const parsed = JSON.parse(text) as {
    inlineSource: { logs?: { data: string }[]; entities?: { metadata: { productEntityId: string } }[] };
  };
  if (parsed.inlineSource.entities)
    return parsed.inlineSource.entities.map((e) => e.metadata.productEntityId);
  return (parsed.inlineSource.logs ?? []).map(
    (l) => (JSON.parse(Buffer.from(l.data, 'base64').toString('utf8')) as { id: string }).id,
  );
}

/**
 * A Chronicle stand-in that refuses any body with more than `maxEntries` entries with the answer
 * `answer` gives, through the client's own classification (chronicleError).
 */
function importer(maxEntries: number, answer: () => [number, string]) {
  const accepted: string[] = [];
  const requests: number[] = [];
  /** The endpoint of each request. */
  const endpoints: string[] = [];
  const post = async (kind: 'logs' | 'entities', b: string | Buffer) => {
    endpoints.push(kind);
    const ids = idsOf(typeof b === 'string' ? b : b.toString('utf8'));
    requests.push(ids.length);
    if (ids.length > maxEntries) {
      const [status, text] = answer();
      throw chronicleError(status, text, undefined, kind);
    }
    accepted.push(...ids);
  };
  const sink: ChronicleImporter = {
    target: 'test',
    entitiesTarget: 'test-entities',
    importLogs: (b) => post('logs', b),
    importEntities: (b) => post('entities', b),
  };
  return { sink, accepted, requests, endpoints };
}

const OVERSIZE_400: [number, string] = [
  400,
  rpc(400, 'INVALID_ARGUMENT', 'Request payload size exceeds the limit: 4000000 bytes.'),
];

describe('deliverBody', () => {
  for (const [label, answer] of [
    ['400 INVALID_ARGUMENT "Request payload size exceeds the limit"', OVERSIZE_400],
    ['413', [413, rpc(413, 'INVALID_ARGUMENT', 'too large')]],
  ] as const) {
    it(`splits on ${label} until every half fits, sending each entry once`, async () => {
      const ids = Array.from({ length: 7 }, (_, i) => `n${i}`);
      const chronicle = importer(2, () => [...answer]);
      const splits: { entries: number; status: number | undefined }[] = [];
      await deliverBody(chronicle.sink, 'logs', Buffer.from(body(ids)), POLICY, {
        onSplit: (s) => splits.push(s),
      });
      assert.deepEqual(chronicle.accepted, ids);
      assert.deepEqual(
        splits.map((s) => s.entries),
        [7, 4, 3],
      );
      assert.ok(splits.every((s) => s.status === answer[0]));
    });
  }

  it('fails with a permanent error naming the status when a single entry is still too large', async () => {
    const chronicle = importer(0, () => OVERSIZE_400);
    const error = await deliverBody(chronicle.sink, 'logs', body(['only']), POLICY).catch((e: unknown) => e);
    assert.ok(error instanceof ChroniclePermanentError, String(error));
    assert.equal(error.status, 400);
    assert.equal(error.rpcStatus, 'INVALID_ARGUMENT');
    assert.match(error.message, /too large on its own.*payload size exceeds the limit/);
    assert.ok(error.cause instanceof ChronicleTooLargeError);
    assert.deepEqual(chronicle.requests, [1], 'no retry of the same body');
  });

  it('does not split on any other 400: it fails at once', async () => {
    const chronicle = importer(0, () => [400, rpc(400, 'INVALID_ARGUMENT', 'Invalid log entry')]);
    const error = await deliverBody(chronicle.sink, 'logs', body(['a', 'b', 'c']), POLICY).catch(
      (e: unknown) => e,
    );
    assert.ok(error instanceof ChroniclePermanentError, String(error));
    assert.ok(!(error instanceof ChronicleTooLargeError));
    assert.deepEqual(chronicle.requests, [3]);
    assert.deepEqual(chronicle.accepted, []);
  });

  it('sends an entities body to entities:import and splits it there too, keeping the log type', async () => {
    const ids = Array.from({ length: 5 }, (_, i) => `e${i}`);
    const chronicle = importer(2, () => OVERSIZE_400);
    await deliverBody(chronicle.sink, 'entities', entityBody(ids), POLICY);
    assert.deepEqual(chronicle.accepted, ids);
    assert.ok(chronicle.endpoints.every((e) => e === 'entities'));
    assert.deepEqual(chronicle.requests, [5, 3, 2, 1, 2]);
  });

  it('names the entity refused as too large on its own', async () => {
    const chronicle = importer(0, () => OVERSIZE_400);
    const error = await deliverBody(chronicle.sink, 'entities', entityBody(['n-big']), POLICY).catch(
      (e: unknown) => e,
    );
    assert.ok(error instanceof ChroniclePermanentError, String(error));
    assert.match(error.message, /the entity of notification n-big .*-byte entity/);
  });

  it('refuses to split a body that is not of the kind it was sent as', async () => {
    const chronicle = importer(0, () => OVERSIZE_400);
    const error = await deliverBody(chronicle.sink, 'entities', body(['a', 'b']), POLICY).catch(
      (e: unknown) => e,
    );
    assert.match(String(error), /is a logs body .*not an entities body/);
  });
});
