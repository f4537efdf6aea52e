import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { entitiesImportEnvelope, logsImportEnvelope } from '../../../../shared/chronicle/request_body.js';
import {
  CHUNK_ATTRIBUTES,
  chunkAttributes,
  chunkKindOf,
  DEAD_LETTER_ATTRIBUTES,
  deadLetterAttributes,
  PUBSUB_ATTRIBUTE_LIMITS,
  PUBSUB_DEAD_LETTER_ATTRIBUTES,
  parseChunkData,
  replayAttributes,
  splitHalfAttributes,
  utf8Prefix,
  withoutDeadLetterAttributes,
} from '../../../../shared/cloud/chunk_message.js';
import { ValidationError } from '../../../../shared/core/errors.js';
import { Secret } from '../../../../shared/core/redact.js';
import { assembleChunk } from '../../../../shared/pipeline/chunker.js';
import { assertNoSecretFragment, fakeAccessToken } from '../../../helpers/secrets.js';

describe('chunk message attributes', () => {
  it('drop what an earlier dead-lettering added, keeping the chunk and replay attributes', () => {
    const replayed = {
      [CHUNK_ATTRIBUTES.runId]: 'r1',
      [CHUNK_ATTRIBUTES.seq]: '3',
      [DEAD_LETTER_ATTRIBUTES.reason]: 'permanent_error',
      [DEAD_LETTER_ATTRIBUTES.httpStatus]: '403',
      [DEAD_LETTER_ATTRIBUTES.errorMessage]: 'denied',
      [DEAD_LETTER_ATTRIBUTES.deadLetteredAt]: '2026-01-01T00:00:00.000Z',
      [PUBSUB_DEAD_LETTER_ATTRIBUTES.deliveryCount]: '5',
      [DEAD_LETTER_ATTRIBUTES.replayCount]: '1',
      [DEAD_LETTER_ATTRIBUTES.replayedAt]: '2026-01-02T00:00:00.000Z',
    };
    assert.deepEqual(withoutDeadLetterAttributes(replayed), {
      [CHUNK_ATTRIBUTES.runId]: 'r1',
      [CHUNK_ATTRIBUTES.seq]: '3',
      [DEAD_LETTER_ATTRIBUTES.replayCount]: '1',
      [DEAD_LETTER_ATTRIBUTES.replayedAt]: '2026-01-02T00:00:00.000Z',
    });
  });
});

describe('attribute builders', () => {
  const bytes = (s: string) => Buffer.byteLength(s);
  const assertPublishable = (attributes: Record<string, string>) => {
    const entries = Object.entries(attributes);
    assert.ok(entries.length <= PUBSUB_ATTRIBUTE_LIMITS.count, `${entries.length} attributes`);
    for (const [k, v] of entries) {
      assert.ok(bytes(k) <= PUBSUB_ATTRIBUTE_LIMITS.keyBytes, `key of ${bytes(k)} bytes`);
      assert.ok(bytes(v) <= PUBSUB_ATTRIBUTE_LIMITS.valueBytes, `${k}: ${bytes(v)} bytes`);
      assert.ok(!v.includes('\uFFFD'), `${k}: cut inside a character`);
    }
  };

  it('cut values to 1,024 UTF-8 bytes on a character boundary, whatever the script', () => {
    for (const unit of ['a', 'é', '日', '😀']) {
      for (let n = 1000; n < 1100; n++) {
        const value = 'x'.repeat(n % 4) + unit.repeat(Math.ceil(n / bytes(unit)));
        const cut = utf8Prefix(value, 1024);
        assert.ok(bytes(cut) <= 1024, `${unit} x ${n}: ${bytes(cut)} bytes`);
        assert.ok(!cut.includes('\uFFFD'));
        if (bytes(value) <= 1024) assert.equal(cut, value);
        else assert.ok(cut.endsWith('…') && value.startsWith(cut.slice(0, -1)));
      }
    }
  });

  it('make a dead letter publishable whatever the message carried, keeping its own attributes first', () => {
    const copied: Record<string, string> = { run_id: 'r'.repeat(5000), ['k'.repeat(300)]: 'v' };
    for (let i = 0; i < 120; i++) copied[`c${i}`] = '日'.repeat(400);
    const attributes = deadLetterAttributes(copied, 'permanent_error', {
      error: `Chronicle answered 400: ${'é'.repeat(2000)}`,
      attempt: 3,
      time: new Date('2026-01-01T00:00:00Z'),
      sourceMessageId: 'm'.repeat(3000),
      status: 400,
      rpcStatus: 'INVALID_ARGUMENT',
    });
    assertPublishable(attributes);
    assert.equal(attributes[DEAD_LETTER_ATTRIBUTES.reason], 'permanent_error');
    assert.equal(attributes[DEAD_LETTER_ATTRIBUTES.rpcStatus], 'INVALID_ARGUMENT');
    assert.equal(attributes[DEAD_LETTER_ATTRIBUTES.deliveryAttempt], '3');
    assert.ok(attributes[DEAD_LETTER_ATTRIBUTES.errorMessage]?.startsWith('Chronicle answered 400: é'));
    assert.ok(attributes.run_id?.startsWith('rrr'));
  });

  it('copy the google.rpc status only when it is a status name, and never a secret in any attribute', () => {
    const token = new Secret(fakeAccessToken()).reveal();
    for (const rpcStatus of [
      token,
      `PERMISSION_DENIED ${token}`,
      'permission_denied',
      'PERMISSION_DENIED\n',
    ]) {
      const attributes = deadLetterAttributes({ run_id: `x${token}` }, 'permanent_error', {
        error: `${'w'.repeat(480)}Bearer ${token}`,
        attempt: 1,
        time: new Date(),
        status: 403,
        rpcStatus,
      });
      assert.equal(attributes[DEAD_LETTER_ATTRIBUTES.rpcStatus], undefined);
      assertNoSecretFragment(
        attributes[DEAD_LETTER_ATTRIBUTES.errorMessage] ?? '',
        token,
        'dlq_error_message',
      );
    }
  });

  it('build split halves and replayed copies within the limits', () => {
    const original = {
      run_id: 'r1',
      seq: '3',
      [DEAD_LETTER_ATTRIBUTES.reason]: 'too_large',
      big: '😀'.repeat(400),
    };
    const half = splitHalfAttributes(original, { entryCount: 2, bytes: 900, splitFrom: 'm-1' });
    assert.equal(half[CHUNK_ATTRIBUTES.entryCount], '2');
    assert.equal(half[CHUNK_ATTRIBUTES.splitFrom], 'm-1');
    assert.equal(half[DEAD_LETTER_ATTRIBUTES.reason], undefined);
    assertPublishable(half);
    const replayed = replayAttributes(
      { ...original, [DEAD_LETTER_ATTRIBUTES.replayCount]: '2' },
      new Date(0),
    );
    assert.equal(replayed[DEAD_LETTER_ATTRIBUTES.replayCount], '3');
    assert.equal(replayed[DEAD_LETTER_ATTRIBUTES.reason], 'too_large');
    assertPublishable(replayed);
  });
});

describe('the kind of a chunk', () => {
  const entity = {
    id: 'n1',
    date: 1_772_000_000,
    json: Buffer.from('{"metadata":{"productEntityId":"n1"}}'),
  };
  const entityChunk = assembleChunk(
    7,
    [{ ...entity, bytes: entity.json.length }],
    entitiesImportEnvelope('T'),
  );
  const logChunk = assembleChunk(
    8,
    [
      {
        id: 'n1',
        date: 1_772_000_000,
        head: '{"data":"',
        data: 'e30=',
        tail: '","logEntryTime":"x"}',
        bytes: 34,
      },
    ],
    logsImportEnvelope(undefined),
  );

  it('is published as the kind attribute with the chunk attributes', () => {
    assert.equal(chunkAttributes('r1', entityChunk)[CHUNK_ATTRIBUTES.kind], 'entities');
    assert.equal(chunkAttributes('r1', logChunk)[CHUNK_ATTRIBUTES.kind], 'logs');
    assert.equal(chunkAttributes('r1', entityChunk)[CHUNK_ATTRIBUTES.entryCount], '1');
  });

  it('is logs when the attribute is absent (messages queued before entities existed)', () => {
    assert.equal(chunkKindOf({}), 'logs');
    assert.equal(chunkKindOf({ kind: 'entities' }), 'entities');
    assert.throws(
      () => chunkKindOf({ kind: 'x'.repeat(5000) }),
      (e: unknown) => {
        assert.ok(e instanceof ValidationError);
        assert.ok(e.message.length < 200, 'the bad value is bounded');
        return true;
      },
    );
  });

  it('must agree with the data: parseChunkData checks the body against the kind', () => {
    const payload = parseChunkData(entityChunk.payload, { kind: 'entities' });
    assert.equal(payload.kind, 'entities');
    assert.equal(payload.entryCount, 1);
    assert.equal(payload.payload, entityChunk.payload, 'the message data itself, not a copy');
    assert.throws(() => parseChunkData(entityChunk.payload, {}), /is an entities body .*not a logs body/);
    assert.throws(() => parseChunkData(logChunk.payload, { kind: 'entities' }), /is a logs body/);
    assert.equal(parseChunkData(logChunk.payload, {}).kind, 'logs');
  });

  it('survives a split and a dead-lettering: halves and dead letters keep it', () => {
    const original = { kind: 'entities', run_id: 'r1' };
    assert.equal(
      splitHalfAttributes(original, { entryCount: 1, bytes: 10, splitFrom: 'm' }).kind,
      'entities',
    );
    assert.equal(
      deadLetterAttributes(original, 'permanent_error', { error: 'denied', attempt: 1, time: new Date() })
        .kind,
      'entities',
    );
  });
});
