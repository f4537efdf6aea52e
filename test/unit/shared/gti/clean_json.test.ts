import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { cleanObject } from '../../../../shared/gti/clean.js';
import { JsonCleaner } from '../../../../shared/gti/clean_json.js';
import { generatedDataset } from '../../../../sim/dataset.js';

/** The definition: what the byte cleaner must reproduce exactly. */
function reference(text: string): string {
  return JSON.stringify(cleanObject(JSON.parse(text) as Record<string, unknown>));
}

const cleaner = new JsonCleaner();

function fast(text: string): string | undefined {
  return cleaner.clean(Buffer.from(text, 'utf8'))?.toString('utf8');
}

/** Same bytes as the definition, and on the fast path (not left to the object path). */
function assertSame(text: string): void {
  const got = fast(text);
  assert.notEqual(got, undefined, `fast path refused: ${text.slice(0, 200)}`);
  assert.equal(got, reference(text));
}

/** JSON text written by hand, so numbers, escapes, whitespace and key order vary as GTI's may. */
const whitespace = fc.constantFrom('', '', '', ' ', '\n    ', '\t', '\r\n');
const key = fc.oneof(
  fc.constantFrom(
    'a',
    'b',
    'md5',
    'sha256',
    'type',
    'id',
    'attributes',
    'Z',
    'a_b',
    'A',
    'ab',
    'aa',
    '360safe',
    '__proto__',
    'constructor',
    '_x',
  ),
  fc.stringMatching(/^[A-Za-z_][A-Za-z0-9_.-]{0,12}$/),
);
const numberText = fc.oneof(
  fc.integer({ min: -1_000_000, max: 1_000_000 }).map(String),
  fc.constantFrom(
    '0',
    '-0',
    '1.0',
    '1e2',
    '1E+2',
    '2.50',
    '0.1',
    '-0.000001',
    '1e-7',
    '0.0000001',
    '0.000001',
    '0.0000015',
    '1.50',
    '-0.0',
    '-0.5',
    '123.456',
    '0.1e1',
    '0.123456789012345',
    '0.1234567890123456',
    '12345678901234.5',
    '123456789012345.6',
    '999999999999999',
    '1000000000000000',
    '1E400',
    '5e-324',
    '1.7976931348623157e308',
    '123456789012345678',
    '1e400',
    '-1e400',
    '1.5e300',
    '9007199254740993',
    '100000000000000000000000',
  ),
  fc.double({ noNaN: true, noDefaultInfinity: true }).map((d) => JSON.stringify(d)),
);
const stringText = fc.oneof(
  fc.constantFrom(
    '""',
    '"x"',
    '"\\"quoted\\""',
    '"a\\\\b"',
    '"\\/path\\/"',
    '"\\u00e9t\\u00e9"',
    '"\\ud83d\\ude00"',
    '"\\ud800"',
    '"tab\\there"',
    '"\\u2028"',
    '"été"',
    '"日本語"',
    '"😀"',
    '"\\u0001"',
    '"\\b\\f\\n\\r"',
  ),
  fc.string({ unit: 'grapheme', maxLength: 12 }).map((s) => JSON.stringify(s)),
  fc.string({ unit: 'binary', maxLength: 8 }).map((s) => JSON.stringify(s)),
);
const { json } = fc.letrec<{ json: string; object: string; array: string }>((tie) => ({
  json: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    stringText,
    numberText,
    fc.constantFrom('true', 'false', 'null', '[]', '{}', '[null]', '{"a":null}', '{"a":""}'),
    tie('object'),
    tie('array'),
  ),
  object: fc
    .tuple(fc.uniqueArray(fc.tuple(key, tie('json')), { maxLength: 6, selector: ([k]) => k }), whitespace)
    .map(
      ([members, ws]) =>
        `{${ws}${members.map(([k, v]) => `${JSON.stringify(k)}${ws}:${ws}${v}`).join(`,${ws}`)}${ws}}`,
    ),
  array: fc
    .tuple(fc.array(tie('json'), { maxLength: 5 }), whitespace)
    .map(([items, ws]) => `[${ws}${items.join(`,${ws}`)}${ws}]`),
}));
const objectText = fc
  .tuple(fc.uniqueArray(fc.tuple(key, json), { maxLength: 8, selector: ([k]) => k }), whitespace)
  .map(
    ([members, ws]) => `${ws}{${members.map(([k, v]) => `${JSON.stringify(k)}:${ws}${v}`).join(',')}}${ws}`,
  );

describe('JsonCleaner', () => {
  it('writes exactly the bytes of the object-path cleaning for generated JSON text', () => {
    fc.assert(
      fc.property(objectText, (text) => assertSame(text)),
      { numRuns: 3000 },
    );
  });

  it('never returns bytes that differ from the definition, duplicate keys included', () => {
    const withDuplicates = fc
      .array(fc.tuple(fc.constantFrom('a', 'b', 'c'), json), { maxLength: 6 })
      .map((members) => `{${members.map(([k, v]) => `${JSON.stringify(k)}:${v}`).join(',')}}`);
    fc.assert(
      fc.property(withDuplicates, (text) => {
        const got = fast(text);
        if (got !== undefined) assert.equal(got, reference(text));
      }),
      { numRuns: 2000 },
    );
  });

  it('matches the definition on the realistic dataset, compact and pretty-printed', () => {
    const dataset = generatedDataset({ count: 300, seed: 7, oversizedEvery: 100 });
    for (let i = 0; i < dataset.size; i++) {
      const item = dataset.get(i);
      assertSame(JSON.stringify(item));
      assertSame(JSON.stringify(item, null, 4));
    }
  });

  it('handles the cases named in the cleaning rules', () => {
    assert.equal(fast('{"b":1,"a":{"d":null,"c":""},"e":[[],{},null,""]}'), '{"b":1}');
    assert.equal(fast('{"z":{"y":[{"x":null}]}}'), '{}');
    assert.equal(fast('{}'), '{}');
    assert.equal(fast('{"b":[3,1,2],"a":true,"c":false}'), '{"a":true,"b":[3,1,2],"c":false}');
    assert.equal(fast(' {\n  "b" : 0 ,\n  "a" : "x"\n} '), '{"a":"x","b":0}');
    assert.equal(fast('{"n":1.0,"m":1e2,"z":-0,"big":1e400}'), '{"m":100,"n":1,"z":0}');
    assert.equal(fast('{"s":"\\u00e9\\/"}'), '{"s":"é/"}');
    // JSON.parse makes "__proto__" an own member; it stays one on both paths.
    assert.equal(fast('{"b":2,"__proto__":{"a":1}}'), '{"__proto__":{"a":1},"b":2}');
    assert.equal(reference('{"b":2,"__proto__":{"a":1}}'), '{"__proto__":{"a":1},"b":2}');
    assert.equal(fast('{"b":{"d":1,"c":2},"a":[{"f":1,"e":2}]}'), '{"a":[{"e":2,"f":1}],"b":{"c":2,"d":1}}');
  });

  it('sorts large objects too, and still leaves repeated keys in them to the object path', () => {
    const keys = Array.from({ length: 5000 }, (_, i) => `k${(i * 7919) % 5000}`);
    const text = `{${keys.map((k, i) => `"${k}":${i % 3 === 0 ? 'null' : i}`).join(',')}}`;
    assertSame(text);
    assert.equal(fast(`{${keys.map((k) => `"${k}":1`).join(',')},"k17":2}`), undefined);
  });

  it('leaves what it does not handle to the object path, and never returns wrong bytes for it', () => {
    const leftToObjectPath = [
      '{"a":1,"a":null}', // duplicate key: JSON.parse keeps the last
      '{"b":1,"a":2,"b":3}',
      '{"1":"x","a":"y"}', // integer-like keys come first in a JavaScript object
      '{"\\u0061":1}', // key with an escape
      '{"é":1}', // non-ASCII key
      `${'{"a":'.repeat(600)}1${'}'.repeat(600)}`, // deeper than the fast path goes
    ];
    for (const text of leftToObjectPath) assert.equal(fast(text), undefined, text);
  });

  it('refuses what is not a JSON object, or not valid JSON', () => {
    const invalid = [
      '[1]',
      '"x"',
      '{"a":1',
      '{"a":1}}',
      '{"a":01}',
      '{"a":1.}',
      '{"a":-}',
      '{"a":tru}',
      '{"a":nul}',
      '{"a":[1,]}',
      '{"a":1,}',
      '{"a" 1}',
      '{a:1}',
      '{"a":"x\ny"}',
      '{"a":"\\x"}',
      '{"a":"\\u12"}',
      '{"a":1 2}',
      '{"a":00}',
      '{"a":-01}',
      '{"a":1e}',
      '{"a":1.5e+}',
      '{"a":.5}',
      '{"a":1.2.3}',
      '{"a":"\\u12"}',
      '{"a":"\\q"}',
      '{"a":NaN}',
      '',
    ];
    for (const text of invalid) assert.equal(fast(text), undefined, JSON.stringify(text));
    assert.equal(
      cleaner.clean(Buffer.from([0x7b, 0x22, 0x61, 0x22, 0x3a, 0x22, 0xff, 0x22, 0x7d])),
      undefined,
    );
  });

  it('cleans a span of a larger buffer and names the top-level members of the result', () => {
    const page = Buffer.from(
      '[{"type":"file","id":"x","attributes":{"b":"","a":1},"context_attributes":{"notification_id":"n1","notification_date":5}}]',
    );
    const cleaned = cleaner.clean(page, 1, page.length - 1);
    assert.ok(cleaned);
    assert.equal(
      cleaned.toString(),
      '{"attributes":{"a":1},"context_attributes":{"notification_date":5,"notification_id":"n1"},"id":"x","type":"file"}',
    );
    assert.equal(cleaner.member('type')?.toString(), '"file"');
    assert.equal(
      cleaner.member('context_attributes')?.toString(),
      '{"notification_date":5,"notification_id":"n1"}',
    );
    assert.equal(cleaner.member('links'), undefined);
    const unsorted = cleaner.clean(
      Buffer.from('{"type":"url","context_attributes":{"notification_id":"n2"},"id":"y"}'),
    );
    assert.equal(
      unsorted?.toString(),
      '{"context_attributes":{"notification_id":"n2"},"id":"y","type":"url"}',
    );
    assert.equal(cleaner.member('id')?.toString(), '"y"');
    assert.equal(cleaner.member('type')?.toString(), '"url"');
    assert.equal(cleaner.member('context_attributes')?.toString(), '{"notification_id":"n2"}');
  });

  it('names the members of the top-level attributes object, wherever cleaning moved them', () => {
    // A top-level "attributes" object among other members, keys in any order, whitespace and all.
    const withAttributes = fc
      .tuple(
        json.filter((v) => v.trimStart().startsWith('{')),
        objectText,
        fc.nat({ max: 8 }),
        whitespace,
      )
      .map(([attributes, rest, at, ws]) => {
        const inner = rest.trim().slice(1, -1);
        const members = inner === '' ? [] : [inner];
        members.splice(Math.min(at, members.length), 0, `"attributes":${ws}${attributes}`);
        return `{${members.join(',')}}`;
      });
    fc.assert(
      fc.property(withAttributes, (text) => {
        let parsed: Record<string, unknown>;
        try {
          parsed = JSON.parse(text) as Record<string, unknown>;
        } catch {
          return; // a duplicate "attributes" key from `rest`: not this test's concern
        }
        const got = fast(text);
        if (got === undefined) return;
        const cleaned = cleanObject(parsed);
        const attributes = cleaned.attributes;
        if (attributes === undefined || typeof attributes !== 'object' || Array.isArray(attributes)) {
          for (const key of ['a', 'b', 'md5']) assert.equal(cleaner.attributeMember(key), undefined);
          return;
        }
        for (const [key, value] of Object.entries(attributes as Record<string, unknown>)) {
          assert.equal(cleaner.attributeMember(key)?.toString('utf8'), JSON.stringify(value), key);
        }
        assert.equal(cleaner.attributeMember('no such key'), undefined);
      }),
      { numRuns: 400 },
    );
  });

  it('names attribute members only of the top-level attributes object', () => {
    cleaner.clean(
      Buffer.from('{"z":1,"x":{"attributes":{"md5":"deep"}},"attributes":{"size":2,"md5":"top","e":""}}'),
    );
    assert.equal(cleaner.attributeMember('md5')?.toString(), '"top"');
    assert.equal(cleaner.attributeMember('size')?.toString(), '2');
    assert.equal(cleaner.attributeMember('e'), undefined);
    cleaner.clean(Buffer.from('{"x":{"attributes":{"md5":"deep"}},"attributes":[{"md5":"in array"}]}'));
    assert.equal(cleaner.attributeMember('md5'), undefined);
    cleaner.clean(Buffer.from('{"attributes":{"md5":""},"id":"x"}'));
    assert.equal(cleaner.attributeMember('md5'), undefined);
    // Nothing carries over from one object to the next, nor from one the fast path refused.
    cleaner.clean(Buffer.from('{"attributes":{"md5":"a"}}'));
    assert.equal(cleaner.clean(Buffer.from('{"attributes":{"md5":"b"},"k\\u0041":1}')), undefined);
    assert.equal(cleaner.attributeMember('md5'), undefined);
  });

  it('names the attributes of realistic notifications as the definition cleans them', () => {
    const dataset = generatedDataset({ count: 60, oversizedEvery: 25 });
    for (let i = 0; i < dataset.size; i++) {
      const notification = dataset.get(i);
      assert.ok(cleaner.clean(Buffer.from(JSON.stringify(notification, null, i % 2 === 0 ? 0 : 2))));
      const attributes = cleanObject(notification).attributes as Record<string, unknown>;
      for (const [key, value] of Object.entries(attributes)) {
        assert.equal(cleaner.attributeMember(key)?.toString('utf8'), JSON.stringify(value), key);
      }
    }
  });
});
