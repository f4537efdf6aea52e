/**
 * The import request bodies, both kinds: written exactly from prepared items, read back, counted and
 * split, with the rest of inlineSource (forwarder, logType) kept.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  bodyBytes,
  entitiesImportEnvelope,
  entryCount,
  logsImportEnvelope,
  parseImportBody,
  splitBody,
  writeBody,
} from '../../../../shared/chronicle/request_body.js';
import { ValidationError } from '../../../../shared/core/errors.js';
import { assembleChunk, ChunkAssembler, chunkEntries } from '../../../../shared/pipeline/chunker.js';
import { createEntityBuilder } from '../../../../shared/pipeline/entities.js';
import { createEntryBuilder } from '../../../../shared/pipeline/log_entries.js';
import { fileNotification } from '../../../helpers/notifications.js';

const FETCH_TIME = new Date('2026-03-01T00:00:00Z');

function entities(count: number, label = 'Ünïcødé 規則 🚀') {
  const builder = createEntityBuilder({ validityDays: 30, logType: 'GTI_IOC_STREAM', fetchTime: FETCH_TIME });
  return Array.from({ length: count }, (_, i) => {
    const n = fileNotification(`e${i}`, 1_772_000_000 + i);
    n.context_attributes.sources = [{ type: 'collection', id: `collection--${i}`, label }];
    const result = builder.buildFromNotification(n);
    assert.ok(result.kind === 'entity');
    return result.entity;
  });
}

function entityBodyText(ids: readonly string[], logType = 'GTI_IOC_STREAM'): string {
  return JSON.stringify({
    inlineSource: { entities: ids.map((id) => ({ metadata: { productEntityId: id } })), logType },
  });
}

const logBodyText = (count: number) =>
  JSON.stringify({
    inlineSource: {
      logs: Array.from({ length: count }, (_, i) => ({ data: 'e30=', logEntryTime: `t${i}` })),
      forwarder: 'projects/p/locations/us/instances/c/forwarders/f',
    },
  });

describe('request bodies: entities:import', () => {
  it('writes entity JSON bytes as they are, the exact UTF-8 size, as valid JSON of the envelope', () => {
    const items = entities(3);
    const envelope = entitiesImportEnvelope('GTI_IOC_STREAM');
    const bytes = bodyBytes(items, envelope);
    const body = writeBody(items, envelope, bytes);
    assert.equal(body.length, bytes);
    const parsed = JSON.parse(body.toString('utf8')) as {
      inlineSource: { entities: unknown[]; logType: string };
    };
    assert.equal(parsed.inlineSource.logType, 'GTI_IOC_STREAM');
    assert.deepEqual(
      parsed.inlineSource.entities,
      items.map((e) => JSON.parse(e.json.toString('utf8'))),
    );
    assert.match(body.toString('utf8'), /Ünïcødé 規則 🚀/);
  });

  it('reads an entities body back: kind, items, logType; counts and splits it keeping logType', () => {
    const text = entityBodyText(['a', 'b', 'c'], 'MY_TYPE');
    const parsed = parseImportBody(text);
    assert.equal(parsed.kind, 'entities');
    assert.equal(parsed.items.length, 3);
    assert.equal(parsed.inlineSource.logType, 'MY_TYPE');
    assert.equal(entryCount(text), 3);
    const halves = splitBody(text);
    assert.ok(halves);
    const [first, second] = halves.map((h) => parseImportBody(h, 'entities'));
    assert.deepEqual(
      [first?.items.length, second?.items.length, first?.inlineSource.logType, second?.inlineSource.logType],
      [2, 1, 'MY_TYPE', 'MY_TYPE'],
    );
    assert.equal(splitBody(entityBodyText(['only'])), undefined);
  });

  it('still reads, counts and splits logs bodies, keeping the forwarder', () => {
    const text = logBodyText(5);
    assert.equal(parseImportBody(text).kind, 'logs');
    assert.equal(entryCount(text), 5);
    const halves = splitBody(text, 'logs');
    assert.ok(halves);
    for (const half of halves)
      assert.equal(
        parseImportBody(half).inlineSource.forwarder,
        'projects/p/locations/us/instances/c/forwarders/f',
      );
  });

  it('refuses a body that is not what it should be, saying what is wrong', () => {
    const cases: [string, RegExp][] = [
      ['{"inlineSource":{}}', /neither an inlineSource\.logs nor an inlineSource\.entities/],
      ['{"inlineSource":{"logs":[],"entities":[]}}', /both/],
      ['{"inlineSource":{"entities":[],"logType":"T"}}', /empty inlineSource\.entities/],
      ['{"inlineSource":{"entities":{"a":1},"logType":"T"}}', /no inlineSource\.entities array/],
      ['{"inlineSource":{"entities":[1],"logType":"T"}}', /entities\[0\] is not an entity with metadata/],
      ['{"inlineSource":{"entities":[{"metadata":{}}]}}', /logType is missing/],
      ['{"inlineSource":{"entities":[{"metadata":{}}],"logType":""}}', /logType is missing/],
      ['[1]', /no inlineSource object/],
    ];
    for (const [text, problem] of cases) {
      assert.throws(
        () => parseImportBody(text),
        (e: unknown) => e instanceof ValidationError && problem.test(e.message),
        text,
      );
      assert.equal(entryCount(text), undefined, text);
    }
    assert.throws(() => parseImportBody(logBodyText(1), 'entities'), /is a logs body .*not an entities body/);
    assert.throws(
      () => splitBody(entityBodyText(['a', 'b']), 'logs'),
      /is an entities body .*not a logs body/,
    );
  });
});

describe('chunks of both kinds', () => {
  it('take their kind from the envelope, and entity chunks fill requests exactly like log chunks', async () => {
    const items = entities(40);
    const envelope = entitiesImportEnvelope('GTI_IOC_STREAM');
    const max = 10_000;
    const chunks = [];
    for await (const chunk of chunkEntries(items, envelope, max)) chunks.push(chunk);
    assert.ok(chunks.length > 2);
    for (const [i, chunk] of chunks.entries()) {
      assert.equal(chunk.kind, 'entities');
      assert.equal(chunk.seq, i + 1);
      assert.ok(chunk.bytes <= max, `${chunk.bytes} > ${max}`);
      assert.equal(chunk.bytes, Buffer.byteLength(chunk.body));
      assert.equal(parseImportBody(chunk.body, 'entities').items.length, chunk.ids.length);
      // Full: the next entity would not have fitted.
      const next = items[chunks.slice(0, i + 1).reduce((n, c) => n + c.ids.length, 0)];
      if (next !== undefined) assert.ok(chunk.bytes + 1 + next.bytes > max);
    }
    assert.deepEqual(
      chunks.flatMap((c) => c.ids),
      items.map((e) => e.id),
    );
    const logs = createEntryBuilder({
      fetchTime: FETCH_TIME,
      namespace: undefined,
      useCaseName: 't',
      chunkMaxBytes: max,
      forwarder: undefined,
    });
    const entry = logs.build(fileNotification('l1', 1_772_000_000));
    assert.equal(assembleChunk(1, [entry], logsImportEnvelope(undefined)).kind, 'logs');
  });

  it('share one sequence across assemblers and refuse an item that cannot fit a request', () => {
    let seq = 0;
    const next = () => ++seq;
    const items = entities(3);
    const small = new ChunkAssembler(entitiesImportEnvelope('T'), 100, next);
    assert.throws(() => small.add(items[0] as (typeof items)[number]), /cannot fit in a 100-byte request/);
    const a = new ChunkAssembler(entitiesImportEnvelope('T'), 100_000, next);
    const b = new ChunkAssembler(entitiesImportEnvelope('T'), 100_000, next);
    a.add(items[0] as (typeof items)[number]);
    b.add(items[1] as (typeof items)[number]);
    assert.equal(b.flush()?.seq, 1);
    assert.equal(a.flush()?.seq, 2);
    assert.equal(a.flush(), undefined);
  });
});
