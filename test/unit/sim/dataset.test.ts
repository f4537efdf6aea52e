import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { describe, it } from 'node:test';
import type { Notification } from '../../../shared/gti/notification.js';
import { arrayDataset, demoDataset, generatedDataset, makeNotification } from '../../../sim/dataset.js';

const bytesOf = (n: Notification): number => Buffer.byteLength(JSON.stringify(n));

const nonAscii = (text: string): boolean => [...text].some((c) => (c.codePointAt(0) ?? 0) > 127);

// The documented shapes, written out here rather than imported, so the test checks the generator against
// the documentation: "Get objects from the IoC Stream",
// https://docs.virustotal.com/reference/get-objects-from-the-ioc-stream (item types, context attributes,
// hunting_info keys) and the `source_type:` filter values (REFERENCE.md).
const DOCUMENTED_TYPES = ['domain', 'file', 'ip_address', 'url'];
const DOCUMENTED_CONTEXT_KEYS = [
  'hunting_info',
  'notification_date',
  'notification_id',
  'origin',
  'sources',
  'tags',
];
const DOCUMENTED_HUNTING_INFO_KEYS = ['rule_name', 'rule_tags', 'snippet', 'source_country', 'source_key'];
const SOURCE_TYPES_BY_ORIGIN: Record<string, string[]> = {
  hunting: ['hunting_ruleset', 'retrohunt_job'],
  subscriptions: ['collection', 'threat_actor'],
};
const API_COLLECTION: Record<string, string> = {
  file: 'files',
  url: 'urls',
  domain: 'domains',
  ip_address: 'ip_addresses',
};

/** Every documented-shape rule for one item; returns the problems found. */
function shapeProblems(n: Notification): string[] {
  const problems: string[] = [];
  const ctx = n.context_attributes;
  const where = `${ctx.notification_id} (${n.type})`;
  if (!DOCUMENTED_TYPES.includes(n.type))
    problems.push(`${where}: type ${n.type} is not an ioc_stream item type`);
  if (n.links?.self !== `https://www.virustotal.com/api/v3/${API_COLLECTION[n.type]}/${n.id}`)
    problems.push(`${where}: links.self ${n.links?.self}`);
  for (const key of Object.keys(ctx))
    if (!DOCUMENTED_CONTEXT_KEYS.includes(key))
      problems.push(`${where}: undocumented context attribute ${key}`);
  const origin = String(ctx.origin);
  const allowed = SOURCE_TYPES_BY_ORIGIN[origin];
  if (!allowed) problems.push(`${where}: origin ${origin}`);
  const sources = ctx.sources ?? [];
  if (sources.length === 0) problems.push(`${where}: no sources`);
  for (const s of sources) {
    if (!allowed?.includes(String(s.type)))
      problems.push(`${where}: source type ${s.type} on origin ${origin}`);
    if (typeof s.id !== 'string' || s.id === '') problems.push(`${where}: source without id`);
  }
  const info = ctx.hunting_info;
  if (origin === 'hunting') {
    if (info === null || info === undefined) problems.push(`${where}: hunting origin without hunting_info`);
    else {
      const keys = Object.keys(info).sort();
      if (JSON.stringify(keys) !== JSON.stringify(DOCUMENTED_HUNTING_INFO_KEYS))
        problems.push(`${where}: hunting_info keys ${keys.join(',')}`);
      for (const key of ['rule_name', 'snippet', 'source_country', 'source_key'])
        if (typeof info[key] !== 'string') problems.push(`${where}: hunting_info.${key} is not a string`);
      const tags = info.rule_tags;
      if (!Array.isArray(tags) || tags.some((t) => typeof t !== 'string'))
        problems.push(`${where}: hunting_info.rule_tags is not a list of strings`);
    }
  } else if (info !== undefined && info !== null) {
    problems.push(`${where}: hunting_info on origin ${origin}`);
  }
  return problems;
}

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
      if (ctx.origin === 'hunting') hunting++;
      else subscriptions++;
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
    for (const t of ['url', 'domain', 'ip_address']) assert.ok(share(t) > 0.03, `${t} share ${share(t)}`);
    assert.deepEqual([...byType.keys()].sort(), DOCUMENTED_TYPES);
    assert.ok(percentile(files, 0.05) >= 15_000, `file p5 ${percentile(files, 0.05)}`);
    assert.ok(percentile(files, 0.95) <= 40_000, `file p95 ${percentile(files, 0.95)}`);
    assert.equal(outliers.length, 4);
    for (const size of outliers) assert.ok(size >= 300_000, `outlier ${size}`);
  });

  it('produces only documented shapes: four item types, documented context attributes and sources', () => {
    const ds = generatedDataset({ count: 3000, seed: 1 });
    const problems: string[] = [];
    const sourceTypes = new Set<string>();
    const origins = new Map<string, Set<string>>();
    for (let i = 0; i < ds.size; i++) {
      const n = ds.get(i);
      problems.push(...shapeProblems(n));
      for (const s of n.context_attributes.sources ?? []) sourceTypes.add(String(s.type));
      const origin = String(n.context_attributes.origin);
      origins.set(origin, (origins.get(origin) ?? new Set()).add(n.type));
    }
    assert.deepEqual(problems.slice(0, 10), []);
    assert.deepEqual([...sourceTypes].sort(), [
      'collection',
      'hunting_ruleset',
      'retrohunt_job',
      'threat_actor',
    ]);
    // Collections and threat actors are sources of notifications about items of every type.
    assert.deepEqual([...(origins.get('subscriptions') ?? [])].sort(), DOCUMENTED_TYPES);
    assert.deepEqual([...(origins.get('hunting') ?? [])].sort(), DOCUMENTED_TYPES);
  });

  it('writes hunting_info only for hunting origin, and never match_in_subfile in an ioc_stream item', () => {
    const ds = generatedDataset({ count: 1000, seed: 5 });
    let withInfo = 0;
    for (let i = 0; i < ds.size; i++) {
      const ctx = ds.get(i).context_attributes;
      if (ctx.origin === 'hunting') {
        withInfo++;
        assert.deepEqual(Object.keys(ctx.hunting_info ?? {}).sort(), DOCUMENTED_HUNTING_INFO_KEYS);
      } else {
        // "Only present for notifications of hunting origin": absent here.
        assert.equal('hunting_info' in ctx, false, ctx.notification_id);
      }
      assert.ok(!JSON.stringify(ctx).includes('match_in_subfile'), ctx.notification_id);
    }
    assert.ok(withInfo > 0);
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

  it('covers every type, both origins, every source type, several sources and unicode', () => {
    assert.ok(ds.size >= 40 && ds.size <= 60, `size ${ds.size}`);
    const types = new Set(items.map((n) => n.type));
    assert.deepEqual([...types].sort(), DOCUMENTED_TYPES);
    assert.deepEqual(items.flatMap(shapeProblems), []);
    const sourceTypes = new Set(
      items.flatMap((n) => (n.context_attributes.sources ?? []).map((s) => s.type)),
    );
    assert.deepEqual([...sourceTypes].sort(), [
      'collection',
      'hunting_ruleset',
      'retrohunt_job',
      'threat_actor',
    ]);
    assert.ok(
      items.some((n) => n.context_attributes.origin === 'hunting' && n.context_attributes.hunting_info),
    );
    // Subscriptions without hunting_info: absent (as documented) and, once, null (REFERENCE.md allows it).
    const subscriptions = items.filter((n) => n.context_attributes.origin === 'subscriptions');
    assert.ok(subscriptions.some((n) => !('hunting_info' in n.context_attributes)));
    assert.equal(subscriptions.filter((n) => n.context_attributes.hunting_info === null).length, 1);
    assert.ok(
      subscriptions.some((n) => {
        const kinds = new Set((n.context_attributes.sources ?? []).map((s) => s.type));
        return kinds.has('collection') && kinds.has('threat_actor');
      }),
      'a notification from both a collection and a threat actor',
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
