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

  it('advances only over the in-order prefix of delivered chunks', () => {
    const t = new WatermarkTracker(undefined);
    assert.equal(t.delivered(2, ['c', 'd'], [11, 12]), undefined);
    assert.deepEqual(t.delivered(1, ['a', 'b'], [10, 11]), { date: 12, ids: ['d'] });
    assert.deepEqual(t.delivered(3, ['e', 'f'], [12, 12]), { date: 12, ids: ['d', 'e', 'f'] });
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
