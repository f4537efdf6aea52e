/**
 * The entities the pipeline imports against Google's Entity proto (custom_parser/entity_fields.txt
 * with udm_fields.txt) and against the committed list of paths they may carry
 * (custom_parser/entity_paths.txt); and the builder's threat mapping against the parser's.
 */
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import type { Notification } from '../../../shared/gti/notification.js';
import {
  createEntityBuilder,
  ENTITY_PRODUCT_NAME,
  ENTITY_TYPES,
  ENTITY_VENDOR_NAME,
  type EntityResult,
  SEVERITIES,
  THREAT_VERDICTS,
} from '../../../shared/pipeline/entities.js';
import { demoDataset, generatedDataset } from '../../../sim/dataset.js';
import { jsonName, UdmSchema } from '../../../sim/udm_schema.js';

const DIR = fileURLToPath(new URL('../../../../custom_parser/', import.meta.url));
const schema = UdmSchema.loadDir(DIR);
const paths = readFileSync(join(DIR, 'entity_paths.txt'), 'utf8')
  .split('\n')
  .map((line) => line.trim())
  .filter((line) => line !== '' && !line.startsWith('#'));
const parser = readFileSync(join(DIR, 'ioc_stream.parser'), 'utf8');
const builder = createEntityBuilder({
  validityDays: 30,
  fetchTime: new Date('2026-02-01T00:00:00Z'),
  logType: 'GTI_IOC_STREAM',
});

const samples = readdirSync(join(DIR, 'logs'))
  .filter((f) => f.endsWith('.log'))
  .sort()
  .map((f) => ({ name: f.slice(0, -4), bytes: readFileSync(join(DIR, 'logs', f)) }));

/** Entities from every sample and from generated and demo datasets. */
function corpus(): { label: string; entity: Record<string, unknown> }[] {
  const results: { label: string; result: EntityResult }[] = samples.map((s) => ({
    label: s.name,
    result: builder.buildFromCleaned(s.bytes),
  }));
  const dataset = generatedDataset({ count: 1500, oversizedEvery: 300 });
  for (let i = 0; i < dataset.size; i++) {
    results.push({ label: `generated #${i}`, result: builder.buildFromNotification(dataset.get(i)) });
  }
  const demo = demoDataset();
  for (let i = 0; i < demo.size; i++) {
    results.push({ label: `demo #${i}`, result: builder.buildFromNotification(demo.get(i)) });
  }
  return results.flatMap(({ label, result }) =>
    result.kind === 'entity'
      ? [{ label, entity: JSON.parse(result.entity.json.toString('utf8')) as Record<string, unknown> }]
      : [],
  );
}

/** Leaf paths of a JSON value (arrays without index). */
function leafPaths(value: unknown, prefix = '', out = new Set<string>()): Set<string> {
  if (Array.isArray(value)) {
    for (const item of value) leafPaths(item, prefix, out);
  } else if (value !== null && typeof value === 'object') {
    for (const [key, child] of Object.entries(value))
      leafPaths(child, prefix ? `${prefix}.${key}` : key, out);
  } else {
    out.add(prefix);
  }
  return out;
}

const entities = corpus();

describe('entity field list and paths', () => {
  it('entity_fields.txt names its source, and every type it uses is defined in one of the two lists', () => {
    const text = readFileSync(join(DIR, 'entity_fields.txt'), 'utf8');
    assert.match(text, /backstory\/entity\.proto/);
    assert.match(text, /commit [0-9a-f]{40}/);
    const undefinedTypes = new Set<string>();
    for (const [message, fields] of schema.fields) {
      for (const field of fields.values()) {
        if (schema.kind(field.type) === 'unknown')
          undefinedTypes.add(`${message}.${field.name}: ${field.type}`);
      }
    }
    // udm_fields.txt lists only the enums its checks use; entity_fields.txt's own types all resolve.
    const entityMessages = [
      'Entity',
      'EntityMetadata',
      'AtiPrioritization',
      'Relation',
      'Metric',
      'Metric.Measure',
      'Interval',
    ];
    assert.deepEqual(
      [...undefinedTypes].filter((t) => entityMessages.some((m) => t.startsWith(`${m}.`))),
      [],
    );
    for (const message of entityMessages) assert.ok(schema.isMessage(message), message);
  });

  it('every committed path is a JSON-named scalar or enum leaf of Entity', () => {
    assert.ok(paths.length > 30);
    assert.equal(new Set(paths).size, paths.length, 'no duplicates');
    assert.deepEqual([...paths].sort(), paths, 'sorted');
    for (const path of paths) {
      const resolved = schema.resolveJson(path, 'Entity');
      assert.ok(resolved.ok, `${path}: ${resolved.reason}`);
      const kind = schema.kind(resolved.type as string);
      assert.ok(kind === 'scalar' || kind === 'enum', `${path} is a ${kind} (${resolved.type})`);
      // Written in JSON names: each segment is the lowerCamelCase of its proto name.
      const snake = path.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);
      assert.ok(schema.resolve(snake, 'Entity').ok, `${path}: ${snake}`);
      assert.equal(snake.split('.').map(jsonName).join('.'), path);
    }
  });

  it('the builder writes only committed paths, each one somewhere, with valid kinds and enum values', () => {
    assert.ok(entities.length > 1500);
    const written = new Set<string>();
    for (const { label, entity } of entities) {
      for (const path of leafPaths(entity)) written.add(path);
      assert.deepEqual(schema.validate(entity, 'Entity', { strictEnums: true }), [], label);
    }
    assert.deepEqual([...written].filter((p) => !paths.includes(p)).sort(), [], 'written but not listed');
    assert.deepEqual(
      paths.filter((p) => !written.has(p)),
      [],
      'listed but never written',
    );
  });

  it('every enum value the builder can write is a value of its proto enum', () => {
    const check = (path: string, values: readonly string[]) => {
      const type = schema.resolveJson(path, 'Entity').type as string;
      assert.equal(schema.kind(type), 'enum', path);
      const allowed = schema.enums.get(type);
      assert.ok(allowed, `${type} is enumerated`);
      for (const value of values) assert.ok(allowed.has(value), `${path} = ${value}`);
    };
    check('metadata.entityType', Object.values(ENTITY_TYPES));
    check('metadata.sourceType', ['ENTITY_CONTEXT']);
    check('metadata.threat.threatVerdict', Object.values(THREAT_VERDICTS));
    check('metadata.threat.severity', Object.values(SEVERITIES));
    check('metadata.threat.threatCollections.type', ['REPORT', 'CAMPAIGN']);
    check('metadata.threat.associations.type', ['THREAT_ACTOR']);
  });

  it('the schema catches what the API would reject: unknown fields, wrong kinds, bad enum values', () => {
    const problems = (entity: unknown) => schema.validate(entity, 'Entity', { strictEnums: true });
    assert.match(problems({ metadata: { entityTyp: 'FILE' } }).join(), /no field "entityTyp"/);
    assert.match(problems({ metadata: { entityType: 'HASH' } }).join(), /not a EntityMetadata.EntityType/);
    assert.match(
      problems({ metadata: { threat: { ruleName: 'x' } } }).join(),
      /repeated field takes a JSON array/,
    );
    assert.match(problems({ entity: { ip: '1.2.3.4' } }).join(), /repeated/);
    assert.match(problems({ entity: { file: { size: 'big' } } }).join(), /uint64/);
    assert.match(
      problems({ metadata: { interval: { startTime: '2026-02-30T00:00:00Z' } } }).join(),
      /valid date/,
    );
    assert.match(problems({ metadata: { collectedTimestamp: 1767225600 } }).join(), /RFC3339/);
    assert.match(problems({ metadata: { collectedTimestamp: '2025-02-29T00:00:00Z' } }).join(), /valid date/);
    assert.match(problems({ metadata: { collectedTimestamp: '2026-01-01T24:00:00Z' } }).join(), /valid time/);
    assert.deepEqual(
      problems({ metadata: { collectedTimestamp: '2024-02-29T23:59:59.123456789+02:00' } }),
      [],
    );
    assert.match(
      problems({ metadata: { threat: [{ verdictInfo: [{ maliciousCount: 2 ** 31 }] }] } }).join(),
      /int32/,
    );
    assert.match(problems({ metadata: { entityType: 'FILE', entity_type: 'URL' } }).join(), /given twice/);
    assert.deepEqual(
      problems({ metadata: { entity_type: 'FILE', product_entity_id: 'x' }, additional: { any: [1] } }),
      [],
    );
  });
});

describe('entity threats follow the parser', () => {
  it('maps verdicts and severities with the parser’s tables, and names vendor and product as it does', () => {
    const verdicts = Object.fromEntries(
      [
        ...parser.matchAll(
          /\[_verdict\] == "(\w+)" \{\s*mutate \{\s*replace => \{\s*"_sr\.threat_verdict" => "(\w+)"/g,
        ),
      ].map((m) => [m[1], m[2]]),
    );
    const severities = Object.fromEntries(
      [
        ...parser.matchAll(
          /\[_severity\] == "(\w+)" \{\s*mutate \{\s*replace => \{\s*"_sr\.severity" => "(\w+)"/g,
        ),
      ].map((m) => [m[1], m[2]]),
    );
    assert.ok(Object.keys(verdicts).length >= 3 && Object.keys(severities).length >= 5);
    assert.deepEqual(THREAT_VERDICTS, verdicts);
    assert.deepEqual(SEVERITIES, severities);
    assert.match(
      parser,
      new RegExp(`"event\\.idm\\.read_only_udm\\.metadata\\.vendor_name" => "${ENTITY_VENDOR_NAME}"`),
    );
    assert.match(
      parser,
      new RegExp(`"event\\.idm\\.read_only_udm\\.metadata\\.product_name" => "${ENTITY_PRODUCT_NAME}"`),
    );
  });

  it('writes for each sample the security results the parser’s golden event has, source by source', () => {
    // Entity-only: the feed name, the GUI link in every threat (an entity has no
    // metadata.url_back_to_product; the event links a collection source to the collection instead),
    // and the total response count.
    const entityOnly = new Set(['threatFeedName', 'urlBackToProduct']);
    let compared = 0;
    for (const { name, bytes } of samples) {
      const result = builder.buildFromCleaned(bytes);
      if (result.kind === 'skipped') continue;
      const entity = JSON.parse(result.entity.json.toString()) as {
        metadata: { threat: Record<string, unknown>[] };
      };
      const golden = JSON.parse(readFileSync(join(DIR, 'events', `${name}.json`), 'utf8')) as {
        events: { event: { securityResult?: Record<string, unknown>[] } }[];
      };
      const expected = golden.events[0]?.event.securityResult ?? [];
      assert.equal(entity.metadata.threat.length, expected.length, name);
      entity.metadata.threat.forEach((threat, i) => {
        const want = { ...expected[i] };
        delete want.urlBackToProduct;
        const got = Object.fromEntries(Object.entries(threat).filter(([k]) => !entityOnly.has(k)));
        const info = got.verdictInfo as Record<string, unknown>[] | undefined;
        if (info) got.verdictInfo = info.map(({ responseCount: _, ...rest }) => rest);
        assert.deepEqual(got, want, `${name} threat[${i}]`);
        compared++;
      });
    }
    assert.ok(compared >= 15, `compared ${compared}`);
  });

  it('the sample notifications are what the samples table says', () => {
    const types = new Set(samples.map((s) => (JSON.parse(s.bytes.toString()) as Notification).type));
    for (const type of Object.keys(ENTITY_TYPES)) assert.ok(types.has(type), type);
  });
});
