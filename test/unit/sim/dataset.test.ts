import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { describe, it } from 'node:test';
import type { Notification } from '../../../shared/gti/notification.js';
import { arrayDataset, demoDataset, generatedDataset, makeNotification } from '../../../sim/dataset.js';

const bytesOf = (n: Notification): number => Buffer.byteLength(JSON.stringify(n));

const nonAscii = (text: string): boolean => [...text].some((c) => (c.codePointAt(0) ?? 0) > 127);

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * p))] ?? 0;
}

describe('generatedDataset', () => {
  it('is deterministic: same (seed, index) gives byte-identical JSON', () => {
    const a = generatedDataset({ count: 300, seed: 7 });
    const b = generatedDataset({ count: 300, seed: 7 });
    for (const i of [0, 1, 2, 57, 199, 299]) assert.equal(JSON.stringify(a.get(i)), JSON.stringify(b.get(i)));
    assert.equal(JSON.stringify(a.get(5)), JSON.stringify(a.get(5)));
    const c = generatedDataset({ count: 300, seed: 8 });
    assert.notEqual(JSON.stringify(a.get(5)), JSON.stringify(c.get(5)));
  });

  it('dateOf is non-decreasing, equals the item date and has regular ties', () => {
    const ds = generatedDataset({ count: 2000, seed: 3, startSeconds: 1_800_000_000 });
    assert.equal(ds.dateOf(0) >= 1_800_000_000, true);
    let ties = 0;
    for (let i = 1; i < ds.size; i++) {
      assert.ok(ds.dateOf(i) >= ds.dateOf(i - 1), `dateOf(${i}) decreased`);
      if (ds.dateOf(i) === ds.dateOf(i - 1)) ties++;
    }
    assert.ok(ties > 100, `only ${ties} ties`);
    for (let i = 0; i < ds.size; i += 37)
      assert.equal(ds.get(i).context_attributes.notification_date, ds.dateOf(i));
    const span = ds.dateOf(ds.size - 1) - ds.dateOf(0);
    assert.ok(span > 3000 && span < 5000, `span ${span} for 2000 items at 2 s each`);
    assert.throws(() => ds.dateOf(ds.size), RangeError);
  });

  it('has realistic types, unique ids, context attributes and sizes', () => {
    const ds = generatedDataset({ count: 2000, seed: 1 });
    const byType = new Map<string, number[]>();
    const ids = new Set<string>();
    let hunting = 0;
    let subscriptions = 0;
    const outliers: number[] = [];
    for (let i = 0; i < ds.size; i++) {
      const n = ds.get(i);
      const size = bytesOf(n);
      const ctx = n.context_attributes;
      assert.equal(typeof ctx.notification_id, 'string');
      assert.ok(Number.isInteger(ctx.notification_date));
      ids.add(ctx.notification_id);
      assert.ok((ctx.sources ?? []).length >= 1);
      if (ctx.origin === 'hunting') {
        hunting++;
        assert.equal(typeof ctx.hunting_info?.rule_name, 'string');
      } else {
        subscriptions++;
        assert.equal(ctx.hunting_info, null);
      }
      if (i % 500 === 499) {
        outliers.push(size);
        assert.equal(n.type, 'file');
        continue;
      }
      const list = byType.get(n.type) ?? [];
      list.push(size);
      byType.set(n.type, list);
    }
    assert.equal(ids.size, ds.size);
    assert.ok(hunting > 0 && subscriptions > 0);
    const files = (byType.get('file') ?? []).sort((a, b) => a - b);
    const share = (t: string): number => (byType.get(t)?.length ?? 0) / ds.size;
    assert.ok(share('file') > 0.6 && share('file') < 0.8, `file share ${share('file')}`);
    for (const t of ['url', 'domain', 'ip_address', 'collection'])
      assert.ok(share(t) > 0.005, `${t} share ${share(t)}`);
    assert.ok(percentile(files, 0.05) >= 15_000, `file p5 ${percentile(files, 0.05)}`);
    assert.ok(percentile(files, 0.95) <= 40_000, `file p95 ${percentile(files, 0.95)}`);
    assert.equal(outliers.length, 4);
    for (const size of outliers) assert.ok(size >= 300_000, `outlier ${size}`);
  });

  it('file notifications carry the full analysis', () => {
    const ds = generatedDataset({ count: 50, seed: 2 });
    for (let i = 0; i < ds.size; i++) {
      const n = ds.get(i);
      if (n.type !== 'file') continue;
      const a = n.attributes ?? {};
      const results = a.last_analysis_results as Record<string, Record<string, unknown>>;
      assert.ok(Object.keys(results).length >= 60);
      for (const r of Object.values(results)) {
        assert.deepEqual(Object.keys(r).sort(), [
          'category',
          'engine_name',
          'engine_update',
          'engine_version',
          'method',
          'result',
        ]);
      }
      assert.match(String(a.sha256), /^[0-9a-f]{64}$/);
      assert.match(String(a.md5), /^[0-9a-f]{32}$/);
      assert.match(String(a.sha1), /^[0-9a-f]{40}$/);
      assert.equal(n.id, a.sha256);
      assert.ok(a.gti_assessment && a.threat_severity && a.last_analysis_stats);
    }
  });

  it('url ids are the sha256 of the url', () => {
    const ds = generatedDataset({ count: 200, seed: 4 });
    let seen = 0;
    for (let i = 0; i < ds.size; i++) {
      const n = ds.get(i);
      if (n.type !== 'url') continue;
      seen++;
      assert.equal(n.id, createHash('sha256').update(String(n.attributes?.url)).digest('hex'));
    }
    assert.ok(seen > 0);
  });

  it('makeNotification is the generator and is deterministic', () => {
    assert.equal(
      JSON.stringify(makeNotification(5, 10, 1_767_225_600)),
      JSON.stringify(makeNotification(5, 10, 1_767_225_600)),
    );
    assert.equal(makeNotification(5, 10, 1_767_225_600).context_attributes.notification_date, 1_767_225_600);
  });

  it('generates 2,000 notifications quickly', () => {
    const ds = generatedDataset({ count: 2000, seed: 9 });
    const started = performance.now();
    let bytes = 0;
    for (let i = 0; i < ds.size; i++) bytes += JSON.stringify(ds.get(i)).length;
    const seconds = (performance.now() - started) / 1000;
    assert.ok(seconds < 5, `took ${seconds}s for ${bytes} bytes`);
  });
});

describe('arrayDataset', () => {
  it('sorts stably by notification_date and returns copies', () => {
    const mk = (id: string, date: number): Notification => ({
      type: 'domain',
      id,
      context_attributes: { notification_id: id, notification_date: date },
    });
    const ds = arrayDataset([mk('a', 5), mk('b', 3), mk('c', 5), mk('d', 1)]);
    assert.deepEqual(
      [0, 1, 2, 3].map((i) => ds.get(i).id),
      ['d', 'b', 'a', 'c'],
    );
    assert.deepEqual(
      [0, 1, 2, 3].map((i) => ds.dateOf(i)),
      [1, 3, 5, 5],
    );
    ds.get(0).id = 'mutated';
    assert.equal(ds.get(0).id, 'd');
  });
});

describe('demoDataset', () => {
  const ds = demoDataset();
  const items = Array.from({ length: ds.size }, (_, i) => ds.get(i));

  it('covers every type, both origins, several sources and unicode', () => {
    assert.ok(ds.size >= 40 && ds.size <= 60, `size ${ds.size}`);
    const types = new Set(items.map((n) => n.type));
    assert.deepEqual([...types].sort(), ['collection', 'domain', 'file', 'ip_address', 'url']);
    assert.ok(
      items.some((n) => n.context_attributes.origin === 'hunting' && n.context_attributes.hunting_info),
    );
    assert.ok(
      items.some(
        (n) => n.context_attributes.origin === 'subscriptions' && n.context_attributes.hunting_info === null,
      ),
    );
    assert.ok(items.some((n) => (n.context_attributes.sources ?? []).length >= 3));
    assert.ok(items.some((n) => nonAscii(JSON.stringify(n.context_attributes))));
    assert.ok(items.some((n) => nonAscii(JSON.stringify(n.attributes))));
    const ids = new Set(items.map((n) => n.context_attributes.notification_id));
    assert.equal(ids.size, ds.size);
  });

  it('has empty values at several depths', () => {
    const text = items.map((n) => JSON.stringify(n)).join('\n');
    for (const empty of ['""', 'null', '[]', '{}']) assert.ok(text.includes(`:${empty}`), empty);
    assert.ok(items.some((n) => JSON.stringify(n.attributes?.nested ?? {}).includes('"c":""')));
  });

  it('has exactly one notification over 4.2 MB, which needs more than last_analysis_results removed', () => {
    const big = items.filter((n) => bytesOf(n) > 4_200_000);
    assert.equal(big.length, 1);
    const huge = big[0];
    assert.ok(huge);
    assert.equal(huge.type, 'file');
    const attrs = { ...(huge.attributes ?? {}) };
    const lar = JSON.stringify(attrs.last_analysis_results).length;
    for (const key of Object.keys(attrs)) {
      if (key !== 'last_analysis_results')
        assert.ok(JSON.stringify(attrs[key]).length <= lar, `${key} larger than LAR`);
    }
    delete attrs.last_analysis_results;
    const withoutLar = bytesOf({ ...huge, attributes: attrs });
    assert.ok(Math.ceil(withoutLar / 3) * 4 > 3_900_000, `without LAR: ${withoutLar}`);
    delete attrs.pe_info;
    assert.ok(bytesOf({ ...huge, attributes: attrs }) < 2_900_000);
    for (const n of items) if (n !== huge) assert.ok(bytesOf(n) < 400_000);
  });

  it('spreads dates over the hour before a fixed time, non-decreasing', () => {
    const first = ds.dateOf(0);
    const last = ds.dateOf(ds.size - 1);
    assert.ok(last - first <= 3600 && last - first > 1800);
    for (let i = 1; i < ds.size; i++) assert.ok(ds.dateOf(i) >= ds.dateOf(i - 1));
    assert.equal(JSON.stringify(demoDataset().get(3)), JSON.stringify(ds.get(3)));
  });
});
