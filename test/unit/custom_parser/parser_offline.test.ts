/**
 * Offline checks of custom_parser/: they read the parser, the samples and the goldens, but cannot
 * execute the parser (only `ioc-stream parser validate` against SecOps does).
 */
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { toSnakeCase } from '../../../shared/chronicle/parser_validation.js';
import { cleanObject } from '../../../shared/gti/clean.js';
import { UdmSchema } from '../../../sim/udm_schema.js';
import {
  type CbnStatement,
  CONVERT_TYPES,
  DATE_FORMATS_SPECIAL,
  KNOWN_PLUGINS,
  parseCbn,
  readFields,
  walk,
  writtenFields,
} from '../../helpers/cbn.js';

const DIR = fileURLToPath(new URL('../../../../custom_parser/', import.meta.url));
const UDM_PREFIX = 'event.idm.read_only_udm.';
const parserText = readFileSync(join(DIR, 'ioc_stream.parser'), 'utf8');
const schema = UdmSchema.load(join(DIR, 'udm_fields.txt'));
const statements = parseCbn(parserText);

const logNames = readdirSync(join(DIR, 'logs'))
  .filter((f) => f.endsWith('.log'))
  .map((f) => f.slice(0, -4))
  .sort();
const eventNames = readdirSync(join(DIR, 'events'))
  .filter((f) => f.endsWith('.json'))
  .map((f) => f.slice(0, -5))
  .sort();
const rawLogs = new Map(logNames.map((n) => [n, readFileSync(join(DIR, 'logs', `${n}.log`))]));
type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
const samples = new Map(
  [...rawLogs].map(([n, bytes]) => [n, JSON.parse(bytes.toString('utf8')) as Record<string, Json>]),
);
/** Item types the IOC Stream documents; source types of its source_type filter. */
const ITEM_TYPES = ['file', 'url', 'domain', 'ip_address'];
const SOURCE_TYPES = ['hunting_ruleset', 'retrohunt_job', 'collection', 'threat_actor'];
const CONTEXT_KEYS = ['notification_id', 'notification_date', 'origin', 'sources', 'tags', 'hunting_info'];
const HUNTING_INFO_KEYS = [
  'match_in_subfile',
  'rule_name',
  'rule_tags',
  'snippet',
  'source_country',
  'source_key',
];
type Source = { type: string; id?: string; label?: string };
const contextOf = (s: Record<string, Json>) => s.context_attributes as Record<string, Json>;
const sourcesOf = (s: Record<string, Json>) => (contextOf(s).sources ?? []) as unknown as Source[];
const goldens = new Map(
  eventNames.map((n) => [
    n,
    JSON.parse(readFileSync(join(DIR, 'events', `${n}.json`), 'utf8')) as {
      events: { event: Record<string, Json> }[];
    },
  ]),
);

/** A unix-seconds value as the RFC 3339 text proto3 JSON gives a Timestamp. */
const isoSeconds = (seconds: Json | undefined) =>
  new Date(Number(seconds) * 1000).toISOString().replace('.000Z', 'Z');

/** Every path present in the samples, array elements flattened (`a.b` for a list of objects `a`). */
function samplePaths(): Set<string> {
  const paths = new Set<string>();
  const visit = (v: Json, path: string) => {
    if (path !== '') paths.add(path);
    if (Array.isArray(v)) for (const item of v) visit(item, path);
    else if (v !== null && typeof v === 'object') {
      for (const [k, child] of Object.entries(v)) {
        visit(child, path === '' ? k : `${path}.${k}`);
        if (path !== '') visit(child, `${path}.*`);
      }
    }
  };
  for (const s of samples.values()) visit(s, '');
  return paths;
}

describe('custom parser: syntax', () => {
  test('is one balanced filter block that the reader parses', () => {
    assert.ok(statements.length > 10);
  });

  test('uses only known filter plugins and options', () => {
    const problems: string[] = [];
    walk(statements, (s) => {
      if (s.kind !== 'plugin') return;
      const allowed = KNOWN_PLUGINS[s.name];
      if (!allowed) return void problems.push(`line ${s.line}: unknown filter plugin "${s.name}"`);
      for (const opt of s.options) {
        if (!allowed.includes(opt.key)) problems.push(`line ${s.line}: ${s.name} has no option "${opt.key}"`);
        if (opt.key === 'on_error' && opt.value.kind !== 'string')
          problems.push(`line ${s.line}: on_error takes a field name`);
        if (
          s.name === 'mutate' &&
          ['replace', 'merge', 'rename', 'convert'].includes(opt.key) &&
          opt.value.kind !== 'hash'
        ) {
          problems.push(`line ${s.line}: mutate ${opt.key} takes a hash`);
        }
        if (s.name === 'mutate' && opt.key === 'remove_field' && opt.value.kind !== 'array') {
          problems.push(`line ${s.line}: remove_field takes a list`);
        }
      }
    });
    assert.deepEqual(problems, []);
  });

  test('convert uses known types and date known formats', () => {
    const problems: string[] = [];
    walk(statements, (s) => {
      if (s.kind !== 'plugin') return;
      for (const opt of s.options) {
        if (s.name === 'mutate' && opt.key === 'convert' && opt.value.kind === 'hash') {
          for (const e of opt.value.entries) {
            if (e.value.kind !== 'string' || !CONVERT_TYPES.has(e.value.value)) {
              problems.push(`line ${e.value.line}: convert ${e.key} to an unknown type`);
            }
          }
        }
        if (s.name === 'date' && opt.key === 'match') {
          if (opt.value.kind !== 'array' || opt.value.items.length < 2)
            problems.push(`line ${s.line}: date match is [field, format...]`);
          else {
            for (const f of opt.value.items.slice(1)) {
              if (f.kind !== 'string' || (!DATE_FORMATS_SPECIAL.has(f.value) && !/[yMdHms]/.test(f.value))) {
                problems.push(`line ${s.line}: unknown date format`);
              }
            }
          }
        }
        if (s.name === 'date' && !s.options.some((o) => o.key === 'on_error'))
          problems.push(`line ${s.line}: date without on_error`);
      }
    });
    assert.deepEqual(problems, []);
  });

  test('ends with the @output merge of the event', () => {
    const last = statements[statements.length - 1] as CbnStatement;
    assert.equal(last.kind, 'plugin');
    const writes = writtenFields([last]);
    assert.deepEqual(
      writes.map((w) => w.path),
      ['@output'],
    );
    assert.match(parserText, /"@output"\s*=>\s*"event"/);
  });
});

describe('custom parser: fields', () => {
  const writes = writtenFields(statements);

  test('every UDM field it writes exists in the committed UDM field list', () => {
    const bad = writes
      .filter((w) => w.path.startsWith(UDM_PREFIX))
      .map((w) => ({ w, r: schema.resolve(w.path.slice(UDM_PREFIX.length)) }))
      .filter(({ r }) => !r.ok)
      .map(({ w, r }) => `line ${w.line}: ${w.path}: ${r.reason}`);
    assert.deepEqual(bad, []);
  });

  test('writes nothing but UDM fields, @output and temporaries (_name)', () => {
    const stray = writes
      .filter((w) => !w.path.startsWith(UDM_PREFIX) && w.path !== '@output' && !w.path.startsWith('_'))
      .map((w) => `line ${w.line}: ${w.path}`);
    assert.deepEqual(stray, []);
  });

  /** Each temporary's UDM type, inferred from the merges that put it into UDM or into another one. */
  const tempTypes = (() => {
    const types = new Map<string, string>();
    const merges: { target: string; source: string }[] = [];
    walk(statements, (s) => {
      if (s.kind !== 'plugin' || s.name !== 'mutate') return;
      for (const opt of s.options) {
        if (opt.key !== 'merge' || opt.value.kind !== 'hash') continue;
        for (const e of opt.value.entries) {
          if (e.value.kind === 'string' && e.value.value.startsWith('_'))
            merges.push({ target: e.key, source: e.value.value });
        }
      }
    });
    for (let round = 0; round < 5; round++) {
      for (const m of merges) {
        const t = resolveWritten(m.target, types);
        if (t?.ok && t.type !== undefined) types.set(m.source, t.type);
      }
    }
    return types;
  })();

  /** Resolves a written path: a UDM path, or a path below a temporary of known type. */
  function resolveWritten(path: string, types: ReadonlyMap<string, string> = tempTypes) {
    if (path.startsWith(UDM_PREFIX)) return schema.resolve(path.slice(UDM_PREFIX.length));
    const [head, ...rest] = path.split('.');
    const base = types.get(head ?? '');
    if (base === undefined || rest.length === 0) return undefined;
    return schema.resolve(rest.join('.'), base);
  }

  test('temporaries merged into UDM only carry fields of the UDM type they become', () => {
    assert.equal(tempTypes.get('_sr'), 'SecurityResult');
    assert.equal(tempTypes.get('_l'), 'Label');
    const problems: string[] = [];
    for (const w of writes) {
      if (w.path.startsWith(UDM_PREFIX)) continue;
      const r = resolveWritten(w.path);
      if (r && !r.ok)
        problems.push(
          `line ${w.line}: ${w.path} (${tempTypes.get(w.path.split('.')[0] ?? '')}): ${r.reason}`,
        );
    }
    assert.deepEqual(problems, []);
  });

  test('enum values it writes are valid', () => {
    const problems: string[] = [];
    let checked = 0;
    walk(statements, (s) => {
      if (s.kind !== 'plugin' || s.name !== 'mutate') return;
      for (const opt of s.options) {
        if (opt.key !== 'replace' || opt.value.kind !== 'hash') continue;
        for (const e of opt.value.entries) {
          if (e.value.kind !== 'string' || e.value.value.includes('%{')) continue;
          const r = resolveWritten(e.key);
          if (!r?.ok || !r.type || schema.isScalar(r.type)) continue;
          checked += 1;
          if (!schema.enumAllows(r.type, e.value.value))
            problems.push(`line ${e.value.line}: ${e.value.value} is not a ${r.type}`);
        }
      }
    });
    assert.ok(checked > 5, 'enum values were found to check');
    assert.deepEqual(problems, []);
  });

  test('every source field it reads occurs in at least one sample', () => {
    const present = samplePaths();
    const missing = readFields(statements)
      .filter((r) => !present.has(r.path))
      .map((r) => `line ${r.line} (${r.via}): ${r.path}`);
    assert.deepEqual([...new Set(missing)], []);
  });
});

describe('custom parser: samples and goldens', () => {
  test('every sample has a golden and every golden a sample', () => {
    assert.deepEqual(eventNames, logNames);
  });

  test('samples cover every documented item type and origin, both source kinds and the edge cases', () => {
    const documented = [...samples].filter(([, s]) => ITEM_TYPES.includes(String(s.type)));
    const seen = new Set(documented.map(([, s]) => `${s.type}/${contextOf(s).origin}`));
    for (const type of ITEM_TYPES) {
      for (const origin of ['hunting', 'subscriptions'])
        assert.ok(seen.has(`${type}/${origin}`), `${type}/${origin}`);
    }
    const sourceTypes = new Set(documented.flatMap(([, s]) => sourcesOf(s).map((src) => src.type)));
    for (const type of SOURCE_TYPES) assert.ok(sourceTypes.has(type), `a sample with a ${type} source`);
    const all = [...samples.values()];
    assert.ok(
      all.some((s) => contextOf(s).origin === 'hunting' && !('hunting_info' in contextOf(s))),
      'hunting without hunting_info',
    );
    assert.ok(
      all.some((s) => sourcesOf(s).length > 1),
      'several sources',
    );
    assert.ok(
      all.some((s) => Array.isArray(s.ioc_stream_trimmed)),
      'trimmed item',
    );
    assert.ok(
      [...rawLogs.values()].some((b) => [...b].some((byte) => byte > 0x7f)),
      'unicode',
    );
  });

  test('samples use only documented shapes, except one sample of an undocumented item type', () => {
    // IOC Stream items are files, URLs, domains and IP addresses (the entity_type filter allows only
    // these); collections and threat actors are sources of a notification, not items.
    const undocumented = [...samples].filter(([, s]) => !ITEM_TYPES.includes(String(s.type))).map(([n]) => n);
    assert.deepEqual(undocumented, ['edge_unknown_type']);
    const problems: string[] = [];
    const only = (name: string, what: string, value: Json | undefined, allowed: readonly string[]) => {
      if (value === undefined) return;
      const extra = Object.keys(value as object).filter((k) => !allowed.includes(k));
      if (extra.length > 0) problems.push(`${name}: ${what} has undocumented ${extra.join(', ')}`);
    };
    for (const [name, s] of samples) {
      const ctx = contextOf(s);
      only(name, 'the item', s, [
        'type',
        'id',
        'links',
        'attributes',
        'context_attributes',
        'ioc_stream_trimmed',
      ]);
      only(name, 'context_attributes', ctx, CONTEXT_KEYS);
      only(name, 'hunting_info', ctx.hunting_info, HUNTING_INFO_KEYS);
      for (const src of sourcesOf(s)) only(name, 'a source', src as unknown as Json, ['type', 'id', 'label']);
      for (const src of sourcesOf(s))
        if (!SOURCE_TYPES.includes(src.type))
          problems.push(`${name}: source type ${src.type} is not documented`);
      if ('hunting_info' in ctx && ctx.origin !== 'hunting')
        problems.push(`${name}: hunting_info without hunting origin`);
      // Livehunt's only source is the ruleset that matched; Retrohunt's, the job.
      if (ctx.origin === 'hunting') {
        const types = sourcesOf(s).map((src) => src.type);
        if (types.length !== 1 || !['hunting_ruleset', 'retrohunt_job'].includes(types[0] ?? ''))
          problems.push(`${name}: a hunting notification has one hunting_ruleset or retrohunt_job source`);
      }
    }
    assert.deepEqual(problems, []);
  });

  test('samples are byte-exact sender output: cleaned, keys sorted, compact UTF-8, no newline', () => {
    for (const [name, bytes] of rawLogs) {
      const text = bytes.toString('utf8');
      const parsed = JSON.parse(text) as Record<string, unknown>;
      assert.equal(
        text,
        JSON.stringify(cleanObject(parsed)),
        `${name} is not in cleaned, sorted, compact form`,
      );
      assert.ok(!text.endsWith('\n'), `${name} ends with a newline`);
      const ctx = parsed.context_attributes as Record<string, unknown>;
      assert.equal(typeof ctx.notification_id, 'string', name);
      assert.ok(Number.isInteger(ctx.notification_date), name);
      const trimmed = parsed.ioc_stream_trimmed;
      if (trimmed !== undefined) {
        assert.ok(
          Array.isArray(trimmed) &&
            trimmed.every((p) => typeof p === 'string' && p.startsWith('attributes.')),
        );
        for (const p of trimmed as string[])
          assert.ok(
            !(p.slice('attributes.'.length) in (parsed.attributes as object)),
            `${name}: ${p} still present`,
          );
      }
    }
  });

  test('every golden event uses only valid UDM fields and enum values', () => {
    const problems: string[] = [];
    const check = (value: Json, path: string, file: string): void => {
      if (Array.isArray(value)) {
        for (const v of value) check(v, path, file);
        return;
      }
      if (value === null || typeof value !== 'object') {
        const r = schema.resolve(path);
        if (!r.ok) problems.push(`${file}: ${path}: ${r.reason}`);
        else if (
          typeof value === 'string' &&
          r.type &&
          !schema.isScalar(r.type) &&
          r.type !== 'Struct' &&
          r.type !== 'Opaque' &&
          !schema.enumAllows(r.type, value)
        ) {
          problems.push(`${file}: ${path}: ${value} is not a ${r.type}`);
        }
        return;
      }
      const r = path === '' ? { ok: true as const, type: 'UDM' } : schema.resolve(path);
      if (!r.ok) return void problems.push(`${file}: ${path}: ${r.reason}`);
      if (r.type === 'Struct') return;
      for (const [k, v] of Object.entries(value))
        check(v, path === '' ? toSnakeCase(k) : `${path}.${toSnakeCase(k)}`, file);
    };
    for (const [name, golden] of goldens) {
      assert.ok(Array.isArray(golden.events) && golden.events.length > 0, name);
      for (const { event } of golden.events) check(event, '', name);
    }
    assert.deepEqual(problems, []);
  });

  test('goldens agree with their samples on id, time, type, link and one security_result per source', () => {
    const gui: Record<string, string> = {
      file: 'file',
      url: 'url',
      domain: 'domain',
      ip_address: 'ip-address',
    };
    for (const [name, sample] of samples) {
      const golden = goldens.get(name);
      assert.ok(golden, name);
      const event = golden.events[0]?.event as Record<string, Record<string, Json>>;
      const meta = event.metadata as Record<string, Json>;
      const ctx = contextOf(sample);
      assert.equal(meta.productLogId, ctx.notification_id, name);
      assert.equal(meta.eventTimestamp, isoSeconds(ctx.notification_date), name);
      assert.equal(meta.productEventType, sample.type, name);
      assert.equal(meta.eventType, 'GENERIC_EVENT', name);
      const section = gui[String(sample.type)];
      assert.equal(
        meta.urlBackToProduct,
        section === undefined ? undefined : `https://www.virustotal.com/gui/${section}/${sample.id}`,
        name,
      );
      const results = event.securityResult as unknown as Json[];
      assert.equal(results.length, Math.max(1, sourcesOf(sample).length), `${name}: security_result count`);
      if (Array.isArray(sample.ioc_stream_trimmed)) {
        assert.equal(
          (event.additional as Record<string, Json>).ioc_stream_trimmed,
          sample.ioc_stream_trimmed.join(','),
          name,
        );
      }
    }
  });

  test('goldens put each source where its meaning is: rule set, collection or threat actor', () => {
    for (const [name, sample] of samples) {
      const results = (goldens.get(name)?.events[0]?.event.securityResult ?? []) as Record<string, Json>[];
      const hunting = contextOf(sample).hunting_info as Record<string, Json> | undefined;
      sourcesOf(sample).forEach((src, i) => {
        const r = results[i] as Record<string, Json>;
        const where = `${name}: security_result ${i} (${src.type})`;
        assert.deepEqual(
          (r.ruleLabels as { key: string; value: string }[]).filter((l) => l.key.startsWith('source_')),
          [
            { key: 'source_type', value: src.type },
            { key: 'source_id', value: src.id },
            { key: 'source_label', value: src.label },
          ].filter((l) => l.value !== undefined),
          where,
        );
        assert.equal(r.ruleId, undefined, `${where}: no rule id is known, a source id is not one`);
        const isHunting = src.type === 'hunting_ruleset' || src.type === 'retrohunt_job';
        assert.deepEqual(
          [r.ruleSet, r.ruleSetDisplayName, r.ruleType, r.ruleName],
          isHunting
            ? [src.id, src.label, 'YARA', hunting?.rule_name]
            : [undefined, undefined, undefined, undefined],
          where,
        );
        const collection = src.type === 'collection';
        assert.equal(
          r.urlBackToProduct,
          collection ? `https://www.virustotal.com/gui/collection/${src.id}` : undefined,
          where,
        );
        assert.deepEqual(
          (r.threatCollections as Record<string, Json>[] | undefined)?.map((c) => [c.id, c.altNames]),
          collection ? [[src.id, [src.label]]] : undefined,
          where,
        );
        assert.deepEqual(
          r.associations,
          src.type === 'threat_actor' ? [{ id: src.id, name: src.label, type: 'THREAT_ACTOR' }] : undefined,
          where,
        );
      });
    }
  });

  test('goldens carry the verdict, severity, scores and hunting details of their samples', () => {
    const level = (v: Json | undefined) =>
      typeof v === 'string' ? v.replace(/^(SEVERITY|VERDICT)_/, '') : undefined;
    for (const [name, sample] of samples) {
      const attributes = (sample.attributes ?? {}) as Record<string, Record<string, Record<string, Json>>>;
      const assessment = attributes.gti_assessment ?? {};
      const severity = assessment.severity?.value ?? attributes.threat_severity?.threat_severity_level;
      const hunting = (contextOf(sample).hunting_info ?? {}) as Record<string, Json>;
      for (const r of (goldens.get(name)?.events[0]?.event.securityResult ?? []) as Record<string, Json>[]) {
        assert.equal(r.severityDetails, severity, name);
        assert.equal(r.severity, level(severity), name);
        assert.equal(r.threatVerdict, level(assessment.verdict?.value), name);
        assert.equal(r.riskScore, assessment.threat_score?.value, name);
        const confidence = (sample.attributes as Record<string, Json> | undefined)?.mandiant_ic_score;
        assert.equal(
          r.confidenceScore,
          confidence ??
            (assessment.contributing_factors as Record<string, Json> | undefined)?.mandiant_confidence_score,
          name,
        );
        const modified = (sample.attributes as Record<string, Json> | undefined)?.last_modification_date;
        assert.equal(r.lastUpdatedTime, modified === undefined ? undefined : isoSeconds(modified), name);
        assert.equal(
          r.description,
          typeof hunting.snippet === 'string' ? [...hunting.snippet].slice(0, 1000).join('') : undefined,
          name,
        );
        const labels = Object.fromEntries(
          ((r.detectionFields ?? []) as { key: string; value: string }[])
            .filter((l) => l.key !== 'notification_tag')
            .map((l) => [l.key, l.value]),
        );
        const expected: Record<string, string> = {};
        if (assessment.verdict?.value !== undefined) expected.gti_verdict = String(assessment.verdict.value);
        for (const key of ['source_country', 'source_key', 'match_in_subfile'])
          if (hunting[key] !== undefined) expected[key] = String(hunting[key]);
        assert.deepEqual(labels, expected, name);
      }
    }
  });

  test('goldens: the file MIME type comes from exiftool, type_description is no MIME type', () => {
    let files = 0;
    for (const [name, sample] of samples) {
      if (sample.type !== 'file') continue;
      files += 1;
      const attributes = sample.attributes as Record<string, Json>;
      const event = goldens.get(name)?.events[0]?.event as Record<
        string,
        Record<string, Record<string, Json>>
      >;
      const file = event.target?.file ?? {};
      assert.equal(file.mimeType, (attributes.exiftool as Record<string, Json> | undefined)?.MIMEType, name);
      assert.equal(
        (event.additional as Record<string, Json> | undefined)?.type_description,
        attributes.type_description,
        name,
      );
      assert.equal(
        file.lastModificationTime,
        undefined,
        `${name}: GTI's object modification is not the file's`,
      );
    }
    assert.ok(files > 0);
  });
});
