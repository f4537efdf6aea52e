import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { CheckpointError } from '../../../../shared/core/errors.js';
import {
  Deduplicator,
  FileCheckpointStore,
  queryStart,
  WatermarkTracker,
} from '../../../../shared/pipeline/checkpoint.js';

describe('checkpoint', () => {
  it('queries from one second before the mark', () => {
    assert.equal(queryStart({ date: 100, ids: [] }, 5), 99);
    assert.equal(queryStart(undefined, 5), 5);
  });

  it('drops what the mark covers and repeats within a run', () => {
    const d = new Deduplicator({ date: 100, ids: ['a'] });
    assert.equal(d.accept('old', 99), false);
    assert.equal(d.accept('a', 100), false);
    assert.equal(d.accept('b', 100), true);
    assert.equal(d.accept('b', 100), false);
    assert.equal(d.accept('c', 101), true);
    assert.equal(d.skipped, 3);
  });

  it('advances only over the in-order prefix of delivered notifications', () => {
    const t = new WatermarkTracker(undefined);
    const [a, b, c, d, e, f] = [
      ['a', 10],
      ['b', 11],
      ['c', 11],
      ['d', 12],
      ['e', 12],
      ['f', 12],
    ].map(([id, date]) => t.expect(id as string, date as number, 1)) as number[];
    assert.equal(t.delivered([c as number, d as number]), undefined);
    assert.deepEqual(t.delivered([a as number, b as number]), { date: 12, ids: ['d'] });
    assert.deepEqual(t.delivered([e as number, f as number]), { date: 12, ids: ['d', 'e', 'f'] });
    assert.equal(t.outstanding, 0);
  });

  it('passes a notification only when its log entry and its entity are both delivered', () => {
    const t = new WatermarkTracker({ date: 5, ids: ['old'] });
    // n1 and n3 have an entity (2 parts); n2 has none (an item type without an entity).
    const n1 = t.expect('n1', 10, 2);
    const n2 = t.expect('n2', 11, 1);
    const n3 = t.expect('n3', 12, 2);
    // The log chunk with all three is delivered; the entity chunk is still on its way.
    assert.equal(t.delivered([n1, n2, n3]), undefined, 'the mark waits for the entities');
    assert.deepEqual(t.mark, { date: 5, ids: ['old'] });
    // The entity chunk with n1 and n3: now all three are done.
    assert.deepEqual(t.delivered([n1, n3]), { date: 12, ids: ['n3'] });
  });

  it('a slow entity chunk holds the mark at the notification before it, however many logs pass', () => {
    const t = new WatermarkTracker(undefined);
    const ordinals = Array.from({ length: 6 }, (_, i) => t.expect(`n${i}`, 100 + i, i === 2 ? 2 : 1));
    assert.deepEqual(t.delivered(ordinals), { date: 101, ids: ['n1'] }, 'stops before n2 (entity pending)');
    assert.equal(t.outstanding, 4);
    assert.deepEqual(t.delivered([ordinals[2] as number]), { date: 105, ids: ['n5'] });
  });

  it('refuses a delivery for a part that is not outstanding', () => {
    const t = new WatermarkTracker(undefined);
    const n = t.expect('x', 1, 1);
    t.delivered([n]);
    assert.throws(() => t.delivered([n]), RangeError);
    assert.throws(() => t.delivered([n + 1]), RangeError);
    assert.throws(() => t.expect('y', 2, 0), RangeError);
  });

  it('keeps only what is in flight, over long runs, with ordinals that stay valid', () => {
    const t = new WatermarkTracker(undefined);
    let last: number | undefined;
    for (let i = 0; i < 10_000; i++) {
      const n = t.expect(`n${i}`, 1000 + Math.floor(i / 7), 1);
      if (last !== undefined) t.delivered([last]);
      last = n;
    }
    assert.equal(t.outstanding, 1);
    assert.deepEqual(t.delivered([last as number])?.date, 1000 + Math.floor(9999 / 7));
  });

  it('stores the mark atomically in a file and refuses a corrupt one', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'cp-'));
    const store = new FileCheckpointStore(join(dir, 'sub', 'cp.json'));
    assert.equal(await store.load(), undefined);
    await store.save({ date: 42, ids: ['x'] });
    assert.deepEqual(await store.load(), { date: 42, ids: ['x'] });
    writeFileSync(join(dir, 'sub', 'cp.json'), '{"date": "soon"}');
    await assert.rejects(store.load(), CheckpointError);
  });
});
