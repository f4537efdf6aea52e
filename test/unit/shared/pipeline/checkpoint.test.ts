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
    const a = t.expect('a', undefined, 1);
    const b = t.expect('b', 6, 1);
    const c = t.expect('c', undefined, 1);
    assert.deepEqual(t.delivered([a, b]), { date: 6, ids: ['b'], readToEndAt: 7 });
    assert.deepEqual(
      t.delivered([c]),
      { date: 6, ids: ['b'], readToEndAt: 7 },
      'a notification without a date does not move the mark',
    );
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
    await store.save({ date: 43, ids: ['y'], readToEndAt: 50 });
    await store.save({ date: 44, ids: ['z'], readToEndAt: 51 });
    assert.deepEqual(await store.load(), { date: 44, ids: ['z'], readToEndAt: 51 });
    assert.deepEqual(readdirSync(join(dir, 'sub')), ['cp.json'], 'no temporary file left');
    writeFileSync(join(dir, 'sub', 'cp.json'), '{"date": "soon"}');
    await assert.rejects(store.load(), CheckpointError);
  });
});
