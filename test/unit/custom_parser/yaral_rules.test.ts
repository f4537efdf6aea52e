/** Offline checks of the YARA-L 2.0 rules in custom_parser/rules: sections, header comment, UDM fields. */
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { UdmSchema } from '../../../sim/udm_schema.js';

const DIR = fileURLToPath(new URL('../../../../custom_parser/', import.meta.url));
const schema = UdmSchema.load(join(DIR, 'udm_fields.txt'));
const files = readdirSync(join(DIR, 'rules'))
  .filter((f) => f.endsWith('.yaral'))
  .sort();

/** Rule text without comments and string literals (so "a.b" inside quotes is not a field). */
function code(text: string): string {
  return text
    .replace(/\/\*[\s\S]*?\*\//g, ' ')
    .replace(/\/\/[^\n]*/g, ' ')
    .replace(/"(?:[^"\\]|\\.)*"/g, '""');
}

describe('YARA-L rules', () => {
  test('the four correlations ship', () => {
    const all = files.map((f) => readFileSync(join(DIR, 'rules', f), 'utf8')).join('\n');
    for (const [what, pattern] of [
      ['file hash on an endpoint', /\.target\.file\.sha256/],
      ['domain resolved', /NETWORK_DNS/],
      ['URL visited', /NETWORK_HTTP/],
      ['IP contacted', /NETWORK_CONNECTION/],
    ] as const) {
      assert.match(all, pattern, what);
    }
    assert.equal(files.length, 4);
  });

  for (const file of files) {
    const text = readFileSync(join(DIR, 'rules', file), 'utf8');
    const body = code(text);

    test(`${file}: header comment, one rule, required sections in order`, () => {
      assert.match(text, /^\/\/ \S/, 'starts with a header comment');
      const rules = [...body.matchAll(/\brule\s+([a-z][a-z0-9_]*)\s*\{/g)];
      assert.equal(rules.length, 1);
      const sections = [...body.matchAll(/^\s*(meta|events|match|outcome|condition)\s*:/gm)].map((m) => m[1]);
      for (const required of ['meta', 'events', 'condition'])
        assert.ok(sections.includes(required), required);
      const order = ['meta', 'events', 'match', 'outcome', 'condition'];
      assert.deepEqual(
        [...sections].sort((a, b) => order.indexOf(a ?? '') - order.indexOf(b ?? '')),
        sections,
      );
      let depth = 0;
      for (const c of body) {
        if (c === '{') depth += 1;
        if (c === '}') depth -= 1;
        assert.ok(depth >= 0);
      }
      assert.equal(depth, 0, 'balanced braces');
      assert.match(text, /description = "/);
    });

    test(`${file}: every event-variable field exists in the UDM field list`, () => {
      const refs = [...body.matchAll(/\$([a-z_][a-z0-9_]*)\.([a-z_][a-z0-9_.]*)/gi)].map((m) => ({
        v: m[1],
        path: m[2] as string,
      }));
      assert.ok(refs.length > 3);
      const bad = refs.map((r) => ({ r, res: schema.resolve(r.path) })).filter(({ res }) => !res.ok);
      assert.deepEqual(
        bad.map(({ r, res }) => `$${r.v}.${r.path}: ${res.reason}`),
        [],
      );
    });

    test(`${file}: event types it filters on are UDM event types, placeholders are matched`, () => {
      for (const m of text.matchAll(/\.metadata\.event_type\s*=\s*"([A-Z_]+)"/g)) {
        assert.ok(schema.enumAllows('Metadata.EventType', m[1] as string), m[1]);
      }
      const match = /match:\s*\n\s*(\$[a-z_]+)\s+over\s+\d+[mhd]/.exec(body);
      assert.ok(match, 'match section with a window');
      assert.ok(
        new RegExp(`= \\${match[1]}\\b`).test(body),
        'the match variable is a placeholder bound in events',
      );
      const vars = new Set([...body.matchAll(/\$([a-z_]+)\.[a-z]/g)].map((m) => m[1]));
      const condition = /condition:\s*([^}]*)/.exec(body)?.[1] ?? '';
      for (const v of vars) assert.match(condition, new RegExp(`\\$${v}\\b`), `condition uses $${v}`);
    });
  }
});
