/**
 * Offline checks of the YARA-L 2.0 rules in custom_parser/rules: names, sections, header comment,
 * and every field they read: event fields against the UDM list, entity-graph fields (`$x.graph.…`)
 * against the Entity list and the paths the pipeline's entities carry (entity_paths.txt).
 */
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { ENTITY_PRODUCT_NAME, ENTITY_TYPES, ENTITY_VENDOR_NAME } from '../../../shared/pipeline/entities.js';
import { jsonName, type Resolution, UdmSchema } from '../../../sim/udm_schema.js';

const DIR = fileURLToPath(new URL('../../../../custom_parser/', import.meta.url));
const schema = UdmSchema.loadDir(DIR);
const entityPaths = new Set(
  readFileSync(join(DIR, 'entity_paths.txt'), 'utf8')
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l !== '' && !l.startsWith('#')),
);
const files = readdirSync(join(DIR, 'rules'))
  .filter((f) => f.endsWith('.yaral'))
  .sort();
const PREFIX = 'gti_ioc_stream_';

/** Rule text without comments and string literals (so "a.b" inside quotes is not a field). */
function code(text: string): string {
  return text
    .replace(/\/\*[\s\S]*?\*\//g, ' ')
    .replace(/\/\/[^\n]*/g, ' ')
    .replace(/"(?:[^"\\]|\\.)*"/g, '""');
}

/** Rule text without comments (string literals kept). */
function uncommented(text: string): string {
  return text.replace(/\/\*[\s\S]*?\*\//g, ' ').replace(/\/\/[^\n]*/g, ' ');
}

interface Ref {
  readonly variable: string;
  /** `graph` for entity-graph fields, `udm` for event fields. */
  readonly source: 'graph' | 'udm';
  /** The path below the source, snake_case as written. */
  readonly path: string;
}

function refs(body: string): Ref[] {
  return [...body.matchAll(/\$([a-z_][a-z0-9_]*)\.([a-z_][a-z0-9_.]*)/gi)].map((m) => {
    const full = m[2] as string;
    if (full.startsWith('graph.')) return { variable: m[1] as string, source: 'graph', path: full.slice(6) };
    return { variable: m[1] as string, source: 'udm', path: full.replace(/^udm\./, '') };
  });
}

/** Resolves a rule path; `.seconds` / `.nanos` below a Timestamp are the Timestamp's own fields. */
function resolveRef(ref: Ref): Resolution {
  const root = ref.source === 'graph' ? 'Entity' : 'UDM';
  const direct = schema.resolve(ref.path, root);
  if (direct.ok) return direct;
  const timestampPart = /^(.*)\.(seconds|nanos)$/.exec(ref.path);
  if (timestampPart) {
    const parent = schema.resolve(timestampPart[1] as string, root);
    if (parent.ok && parent.type === 'Timestamp') return { ok: true, type: 'int64', repeated: false };
  }
  return direct;
}

const rules = files.map((file) => {
  const text = readFileSync(join(DIR, 'rules', file), 'utf8');
  return { file, text, body: code(text), literals: uncommented(text) };
});

describe('YARA-L rules', () => {
  test('the four correlations ship, each joined through the entity graph', () => {
    const all = rules.map((r) => r.literals).join('\n');
    for (const [what, event, join] of [
      ['file hash on an endpoint', 'PROCESS_LAUNCH', /\$ioc\.graph\.entity\.file\.sha256 = \$hash/],
      ['domain resolved', 'NETWORK_DNS', /\$ioc\.graph\.entity\.(hostname|domain\.name) = \$domain/],
      ['URL visited', 'NETWORK_HTTP', /\$ioc\.graph\.entity\.url = \$url/],
      ['IP contacted', 'NETWORK_CONNECTION', /\$ioc\.graph\.entity\.(ip|artifact\.ip) = \$ip/],
    ] as const) {
      const rule = rules.find((r) => r.literals.includes(`"${event}"`) && join.test(r.literals));
      assert.ok(rule, what);
    }
    assert.match(all, /gti_ioc_stream_file_seen_before_notification/);
    assert.equal(files.length, 5);
  });

  for (const { file, text, body, literals } of rules) {
    test(`${file}: header comment, one rule named like its file with the ${PREFIX} prefix, sections in order`, () => {
      assert.match(text, /^\/\/ \S/, 'starts with a header comment');
      const names = [...body.matchAll(/\brule\s+([a-z][a-z0-9_]*)\s*\{/g)].map((m) => m[1]);
      assert.equal(names.length, 1);
      assert.ok(names[0]?.startsWith(PREFIX), `${names[0]} starts with ${PREFIX} (dashboards list by it)`);
      assert.equal(`${names[0]}.yaral`, file);
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
      const outcome = /outcome:([\s\S]*?)condition:/.exec(body)?.[1] ?? '';
      const outcomes = [...outcome.matchAll(/^\s*\$[a-z_]+\s*=/gm)].length;
      assert.ok(outcomes <= 20, 'YARA-L allows at most 20 outcome variables');
    });

    test(`${file}: every event field is a UDM field, every graph field an Entity field the pipeline writes`, () => {
      const all = refs(body);
      assert.ok(all.length > 3);
      const bad = all
        .map((r) => ({ r, res: resolveRef(r) }))
        .filter(({ res }) => !res.ok)
        .map(
          ({ r, res }) => `$${r.variable}.${r.source === 'graph' ? 'graph.' : ''}${r.path}: ${res.reason}`,
        );
      assert.deepEqual(bad, []);
      for (const r of all.filter((x) => x.source === 'graph')) {
        const json = r.path.split('.').map(jsonName).join('.');
        assert.ok(
          entityPaths.has(json),
          `$${r.variable}.graph.${r.path}: the pipeline's entities never carry ${json}`,
        );
      }
    });

    test(`${file}: compared enum values are valid, placeholders are matched, every variable is in the condition`, () => {
      for (const m of literals.matchAll(/\$([a-z_]+)\.([a-z_.]+)\s*!?=\s*"([^"]*)"/g)) {
        const full = m[2] as string;
        const ref: Ref = full.startsWith('graph.')
          ? { variable: m[1] as string, source: 'graph', path: full.slice(6) }
          : { variable: m[1] as string, source: 'udm', path: full };
        const res = resolveRef(ref);
        if (!res.ok || !res.type || schema.kind(res.type) !== 'enum') continue;
        assert.ok(schema.enums.has(res.type), `${res.type} is enumerated in the field lists`);
        assert.ok(schema.enumAllows(res.type, m[3] as string), `${full} = "${m[3]}"`);
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

    test(`${file}: an entity-graph rule selects exactly the pipeline's entities and reports the GTI details`, () => {
      const graphVars = new Set(
        refs(body)
          .filter((r) => r.source === 'graph')
          .map((r) => r.variable),
      );
      if (graphVars.size === 0) {
        // An event-to-event rule must say what it adds over the entity graph.
        assert.match(text, /entity graph/, 'the header says why this rule does not use the entity graph');
        return;
      }
      for (const v of graphVars) {
        const value = (path: string) =>
          new RegExp(`\\$${v}\\.graph\\.${path.replace(/\./g, '\\.')}\\s*=\\s*"([^"]*)"`).exec(literals)?.[1];
        assert.equal(value('metadata.product_name'), ENTITY_PRODUCT_NAME);
        assert.equal(value('metadata.vendor_name'), ENTITY_VENDOR_NAME);
        assert.equal(value('metadata.source_type'), 'ENTITY_CONTEXT');
        const type = value('metadata.entity_type');
        assert.ok(
          type && Object.values(ENTITY_TYPES).includes(type),
          `entity_type ${type} is one the pipeline writes`,
        );
        for (const reported of ['metadata.threat.rule_name', 'metadata.threat.threat_verdict']) {
          assert.match(
            literals,
            new RegExp(`outcome:[\\s\\S]*\\$${v}\\.graph\\.${reported.replace(/\./g, '\\.')}`),
            reported,
          );
        }
      }
    });
  }
});
