import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { CheckpointError, TimeAheadError } from '../../../../shared/core/errors.js';
import {
  checkRunStart,
  Deduplicator,
  FileCheckpointStore,
  queryStart,
  TIME_AHEAD_TOLERANCE_SECONDS,
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

  it('drops a repeated id anywhere in the run, whatever its date, and tracks ids without a date', () => {
    const d = new Deduplicator(undefined);
    assert.equal(d.accept('a', 100), true);
    assert.equal(d.accept('b', 101), true);
    assert.equal(d.accept('a', 100), false, 'served again after a later second');
    assert.equal(d.accept('a', 102), false, 'the same id with another date');
    assert.equal(d.accept('x', undefined), true);
    assert.equal(d.accept('x', undefined), false);
    assert.equal(d.skipped, 3);
  });

  it('never moves the mark for an entry without a date, and carries when it last read to the end', () => {
    const t = new WatermarkTracker({ date: 5, ids: ['z'], readToEndAt: 7 });
    assert.deepEqual(t.delivered(1, ['a', 'b'], [undefined, 6]), { date: 6, ids: ['b'], readToEndAt: 7 });
    assert.deepEqual(t.delivered(2, ['c'], [undefined]), { date: 6, ids: ['b'], readToEndAt: 7 });
  });

  it('refuses a checkpoint or start ahead of the clock, naming it and its date', () => {
    const now = 1_800_000_000;
    const run = (checkpoint: { date: number; ids: string[] } | undefined, start = now - 3600) =>
      checkRunStart({
        checkpoint,
        checkpointName: 'checkpoint file /x/cp.json',
        startSeconds: start,
        startName: 'VT_DATE_FILTER',
        nowSeconds: now,
      });
    assert.throws(
      () => run({ date: now + 86_400 * 3, ids: [] }),
      (e: unknown) =>
        e instanceof TimeAheadError &&
        e.message.includes('checkpoint file /x/cp.json') &&
        e.message.includes(new Date((now + 86_400 * 3) * 1000).toISOString()) &&
        !e.retryable,
    );
    assert.throws(() => run(undefined, now + 3600), /VT_DATE_FILTER is .* ahead of now/);
    assert.deepEqual(run({ date: now + TIME_AHEAD_TOLERANCE_SECONDS, ids: [] }), {});
    assert.deepEqual(run(undefined, now + 30), {});
  });

  it('reports a possible gap when the stream was last read more than 7 days ago', () => {
    const now = 1_800_000_000;
    const week = 7 * 86_400;
    const report = (
      checkpoint: { date: number; ids: string[]; readToEndAt?: number } | undefined,
      start = now,
    ) =>
      checkRunStart({
        checkpoint,
        checkpointName: 'c',
        startSeconds: start,
        startName: 's',
        nowSeconds: now,
      });
    assert.deepEqual(report({ date: now - week - 60, ids: [] }).retentionGap, {
      lastRead: new Date((now - week - 60) * 1000).toISOString(),
      retainedFrom: new Date((now - week) * 1000).toISOString(),
    });
    // An old newest notification, but the stream was read to its end yesterday: nothing lost.
    assert.equal(
      report({ date: now - 2 * week, ids: [], readToEndAt: now - 86_400 }).retentionGap,
      undefined,
    );
    assert.equal(report({ date: now - 60, ids: [] }).retentionGap, undefined);
    assert.equal(
      report(undefined, now - week - 1).startBeyondRetention?.start,
      new Date((now - week - 1) * 1000).toISOString(),
    );
    assert.deepEqual(report(undefined, now - 3600), {});
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
    await store.save({ date: 43, ids: ['y'], readToEndAt: 50 });
    await store.save({ date: 44, ids: ['z'], readToEndAt: 51 });
    assert.deepEqual(await store.load(), { date: 44, ids: ['z'], readToEndAt: 51 });
    assert.deepEqual(readdirSync(join(dir, 'sub')), ['cp.json'], 'no temporary file left');
    writeFileSync(join(dir, 'sub', 'cp.json'), '{"date": "soon"}');
    await assert.rejects(store.load(), CheckpointError);
  });
});
