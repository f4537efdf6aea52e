import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { clean, cleanNotification, MAX_CLEAN_DEPTH } from '../../../../shared/gti/clean.js';
import { JsonCleaner } from '../../../../shared/gti/clean_json.js';

function isEmpty(value: unknown): boolean {
  if (value === null || value === undefined || value === '') return true;
  if (Array.isArray(value)) return value.length === 0;
  if (typeof value === 'object') return Object.keys(value as object).length === 0;
  return false;
}

function assertNoEmpty(value: unknown): void {
  assert.ok(!isEmpty(value), `empty value left: ${JSON.stringify(value)}`);
  if (Array.isArray(value)) {
    for (const v of value) assertNoEmpty(v);
  } else if (value !== null && typeof value === 'object') Object.values(value).forEach(assertNoEmpty);
}

function assertSorted(value: unknown): void {
  if (Array.isArray(value)) {
    for (const v of value) assertSorted(v);
  } else if (value !== null && typeof value === 'object') {
    const keys = Object.keys(value);
    const nonIndex = keys.filter((k) => !/^(0|[1-9]\d*)$/.test(k));
    assert.deepEqual(nonIndex, [...nonIndex].sort());
    Object.values(value).forEach(assertSorted);
  }
}

/** Non-empty leaves with their paths (array positions dropped: cleaning may shift them). */
function leaves(value: unknown, path = '$', out: string[] = []): string[] {
  if (Array.isArray(value)) {
    for (const v of value) leaves(v, `${path}[]`, out);
  } else if (value !== null && typeof value === 'object') {
    for (const [k, v] of Object.entries(value)) leaves(v, `${path}.${k}`, out);
  } else if (!isEmpty(value)) out.push(`${path}=${JSON.stringify(value)}`);
  return out;
}

const json = fc.letrec((tie) => ({
  value: fc.oneof(
    { depthSize: 'small' },
    fc.constant(null),
    fc.constant(''),
    fc.constant([]),
    fc.constant({}),
    fc.string(),
    fc.integer(),
    fc.boolean(),
    fc.array(tie('value'), { maxLength: 4 }),
    fc.dictionary(fc.string({ maxLength: 6 }), tie('value'), { maxKeys: 5 }),
  ),
})).value;

describe('clean', () => {
  it('removes null, "", [] and {} at every depth, including containers it empties', () => {
    const input = { b: { c: null, d: [{}, [], ''] }, a: 1, e: [null, { f: '' }], g: 'x', h: false, i: 0 };
    assert.deepEqual(clean(input), { a: 1, g: 'x', h: false, i: 0 });
  });

  it('removes and names what is nested deeper than MAX_CLEAN_DEPTH, however deep, without overflowing the stack', () => {
    const text = `{"type":"file","attributes":{"size":1,"deep":${'['.repeat(100_000)}"x"${']'.repeat(100_000)},"ok":${'['.repeat(10)}1${']'.repeat(10)}}}`;
    const { cleaned, trimmed } = cleanNotification(JSON.parse(text) as Record<string, unknown>);
    assert.ok(JSON.stringify(cleaned).length > 0, 'serialisable');
    assert.equal(trimmed.length, 1);
    assert.match(trimmed[0] ?? '', /^attributes\.deep\.0\.0\.0/);
    assert.ok((trimmed[0] ?? '').length <= 201);
    const attributes = cleaned.attributes as Record<string, unknown>;
    assert.equal(attributes.size, 1);
    assert.deepEqual(attributes.ok, [[[[[[[[[[1]]]]]]]]]]);
    // Exactly at the limit nothing is removed, and the byte cleaner gives the same bytes.
    const limit = `{"a":${'['.repeat(MAX_CLEAN_DEPTH - 1)}1${']'.repeat(MAX_CLEAN_DEPTH - 1)}}`;
    const atLimit = cleanNotification(JSON.parse(limit) as Record<string, unknown>);
    assert.deepEqual(atLimit.trimmed, []);
    assert.equal(new JsonCleaner().clean(Buffer.from(limit))?.toString(), JSON.stringify(atLimit.cleaned));
    const over = `{"a":${'['.repeat(MAX_CLEAN_DEPTH)}1${']'.repeat(MAX_CLEAN_DEPTH)}}`;
    assert.equal(new JsonCleaner().clean(Buffer.from(over)), undefined, 'left to the object path');
    assert.equal(cleanNotification(JSON.parse(over) as Record<string, unknown>).trimmed.length, 1);
    // An empty container just past the limit is removed like any empty value, without a trim.
    const empty = `{"a":1,"e":${'['.repeat(MAX_CLEAN_DEPTH)}${']'.repeat(MAX_CLEAN_DEPTH)}}`;
    assert.deepEqual(cleanNotification(JSON.parse(empty) as Record<string, unknown>), {
      cleaned: { a: 1 },
      trimmed: [],
    });
  });

  it('sorts keys recursively and keeps list order', () => {
    const out = clean({ z: [3, 1, 2], a: { y: 1, b: 2 } });
    assert.equal(JSON.stringify(out), '{"a":{"b":2,"y":1},"z":[3,1,2]}');
  });

  it('returns undefined when nothing is left', () => {
    assert.equal(clean({ a: { b: [null] } }), undefined);
  });

  it('property: never mutates the input', () => {
    fc.assert(
      fc.property(json, (v) => {
        const before = JSON.stringify(v);
        clean(v);
        assert.equal(JSON.stringify(v), before);
      }),
    );
  });

  it('property: idempotent and deterministic bytes', () => {
    fc.assert(
      fc.property(json, (v) => {
        const once = clean(v);
        assert.equal(JSON.stringify(clean(once)), JSON.stringify(once));
        assert.equal(JSON.stringify(clean(structuredClone(v))), JSON.stringify(once));
      }),
    );
  });

  it('property: no empty value left and keys sorted', () => {
    fc.assert(
      fc.property(json, (v) => {
        const out = clean(v);
        if (out !== undefined) {
          assertNoEmpty(out);
          assertSorted(out);
        }
      }),
    );
  });

  it('property: every non-empty leaf is kept', () => {
    fc.assert(
      fc.property(json, (v) => {
        const out = clean(v);
        assert.deepEqual(leaves(out).sort(), leaves(v).sort());
      }),
    );
  });
});
