import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { entitiesImportEnvelope } from '../../../../shared/chronicle/request_body.js';
import { OversizeError } from '../../../../shared/core/errors.js';
import { JsonCleaner } from '../../../../shared/gti/clean_json.js';
import { entityViewFromCleaner } from '../../../../shared/gti/entity_view.js';
import type { Notification } from '../../../../shared/gti/notification.js';
import {
  createEntityBuilder,
  ENTITY_PRODUCT_NAME,
  ENTITY_TRIM_ORDER,
  ENTITY_VENDOR_NAME,
  type EntityOptions,
  type EntityResult,
  MAX_DESCRIPTION_CHARS,
  type PreparedEntity,
  timestamp,
} from '../../../../shared/pipeline/entities.js';
import { createEntryBuilder, TRIMMED_FIELD } from '../../../../shared/pipeline/log_entries.js';
import { demoDataset, generatedDataset } from '../../../../sim/dataset.js';
import { fileNotification } from '../../../helpers/notifications.js';

const LOGS = fileURLToPath(new URL('../../../../../custom_parser/logs/', import.meta.url));
const DATE = 1767225600; // 2026-01-01T00:00:00Z
const base: EntityOptions = {
  validityDays: 30,
  fetchTime: new Date('2026-01-01T00:05:00Z'),
  logType: 'GTI_IOC_STREAM',
};
const builder = createEntityBuilder(base);

interface Threat {
  [key: string]: unknown;
  ruleName?: string;
  ruleLabels?: { key: string; value: string }[];
  detectionFields?: { key: string; value: string }[];
}
interface Entity {
  metadata: Record<string, unknown> & { threat: Threat[]; interval: { startTime: string; endTime: string } };
  entity: Record<string, unknown>;
}

function entityOf(result: EntityResult): { prepared: PreparedEntity; entity: Entity } {
  assert.equal(result.kind, 'entity', result.kind === 'skipped' ? result.detail : '');
  const prepared = (result as { entity: PreparedEntity }).entity;
  return { prepared, entity: JSON.parse(prepared.json.toString('utf8')) as Entity };
}

function build(notification: Notification, b = builder) {
  return entityOf(b.buildFromNotification(notification));
}

function sample(name: string): Notification {
  return JSON.parse(readFileSync(join(LOGS, `${name}.log`), 'utf8')) as Notification;
}

function notification(
  type: string,
  id: string,
  attributes: Record<string, unknown>,
  extra = {},
): Notification {
  return {
    type,
    id,
    attributes: attributes as Notification['attributes'] & object,
    context_attributes: {
      notification_id: `n-${type}`,
      notification_date: DATE,
      origin: 'subscriptions',
      sources: [{ type: 'collection', id: 'campaign--x', label: 'Operation X' }],
      ...extra,
    },
  };
}

/** Every leaf and container in `value` that is "", null, [] or {} (their paths). */
function emptyValues(value: unknown, path = ''): string[] {
  if (value === '' || value === null) return [path];
  if (Array.isArray(value)) {
    return value.length === 0 ? [path] : value.flatMap((v, i) => emptyValues(v, `${path}[${i}]`));
  }
  if (typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>);
    return entries.length === 0 ? [path] : entries.flatMap(([k, v]) => emptyValues(v, `${path}.${k}`));
  }
  return [];
}

describe('entity builder', () => {
  it('builds a file entity: metadata, interval, indicator, one threat per source', () => {
    const { prepared, entity } = build(sample('file_hunting'));
    assert.equal(prepared.id, '5734728213954560-9f2a1c7e4b3d5e6f7a8b9c0d1e2f3a4b');
    assert.equal(prepared.date, 1767225600);
    assert.equal(prepared.bytes, prepared.json.length);
    assert.deepEqual(prepared.trimmed, []);
    const id = '275a021bbfb6489e54d471899f7db9d1663fc695ec2fe2a2c4538aabf651fd0f';
    assert.deepEqual(
      { ...entity.metadata, threat: undefined },
      {
        productEntityId: prepared.id,
        collectedTimestamp: '2026-01-01T00:05:00Z',
        interval: { startTime: '2026-01-01T00:00:00Z', endTime: '2026-01-31T00:00:00Z' },
        vendorName: 'Google',
        productName: 'Google Threat Intelligence IOC Stream',
        entityType: 'FILE',
        description: `IOC Stream hunting notification for file ${id}`,
        sourceType: 'ENTITY_CONTEXT',
        threat: undefined,
      },
    );
    assert.deepEqual(entity.entity, {
      file: {
        sha256: id,
        md5: '44d88612fea8a8f36de82e1278abb02f',
        sha1: '3395856ce81f2b7382dee72602f798b642f14140',
        size: '68',
        names: ['eicar.com', 'eicar.txt'],
        mimeType: 'text/plain',
      },
    });
    assert.deepEqual(entity.metadata.threat, [
      {
        threatFeedName: 'EICAR ruleset',
        ruleType: 'YARA',
        ruleSet: '7193214617649152',
        ruleSetDisplayName: 'EICAR ruleset',
        ruleName: 'eicar_test_rule',
        ruleLabels: [
          { key: 'source_type', value: 'hunting_ruleset' },
          { key: 'source_id', value: '7193214617649152' },
          { key: 'source_label', value: 'EICAR ruleset' },
          { key: 'rule_tag', value: 'eicar' },
          { key: 'rule_tag', value: 'test' },
        ],
        threatVerdict: 'MALICIOUS',
        severity: 'HIGH',
        severityDetails: 'SEVERITY_HIGH',
        riskScore: 90,
        confidenceScore: 85,
        verdictInfo: [
          { sourceProvider: 'VirusTotal', maliciousCount: 62, benignCount: 0, responseCount: 72 },
        ],
        lastUpdatedTime: '2025-12-31T16:53:20Z',
        summary: 'IOC Stream hunting notification',
        description:
          '58 35 4F 21 50 25 40 41 50 5B 34 5C 50 5A 58 35  X5O!P%@AP[4\\PZX5\n*begin_highlight*EICAR-STANDARD-ANTIVIRUS-TEST-FILE*end_highlight*',
        detectionFields: [
          { key: 'gti_verdict', value: 'VERDICT_MALICIOUS' },
          { key: 'source_country', value: 'DE' },
          { key: 'source_key', value: 'a1b2c3d4' },
          { key: 'match_in_subfile', value: 'false' },
          { key: 'notification_tag', value: 'eicar_test_rule' },
        ],
        urlBackToProduct: `https://www.virustotal.com/gui/file/${id}`,
      },
    ]);
  });

  it('builds domain, IP and URL entities with the fields entity-graph rules join on', () => {
    const domain = build(sample('domain_hunting')).entity;
    assert.equal(domain.metadata.entityType, 'DOMAIN_NAME');
    assert.deepEqual(domain.entity, {
      hostname: 'malicious.example.com',
      domain: { name: 'malicious.example.com' },
    });
    assert.equal(
      domain.metadata.threat[0]?.urlBackToProduct,
      'https://www.virustotal.com/gui/domain/malicious.example.com',
    );

    const ip = build(sample('ip_address_hunting')).entity;
    assert.equal(ip.metadata.entityType, 'IP_ADDRESS');
    assert.deepEqual(ip.entity, { ip: ['203.0.113.10'], artifact: { ip: '203.0.113.10' } });
    assert.equal(
      ip.metadata.threat[0]?.urlBackToProduct,
      'https://www.virustotal.com/gui/ip-address/203.0.113.10',
    );

    const url = build(sample('url_hunting')).entity;
    assert.equal(url.metadata.entityType, 'URL');
    assert.deepEqual(url.entity, { url: 'http://malicious.example.com/payload/dropper.exe' });
    assert.match(
      String(url.metadata.threat[0]?.urlBackToProduct),
      /^https:\/\/www\.virustotal\.com\/gui\/url\/c0c8a3b5/,
    );
  });

  it('writes one threat per source: rulesets, retrohunt jobs, collections and threat actors', () => {
    const several = build(sample('edge_several_sources')).entity;
    assert.deepEqual(
      several.metadata.threat.map((t) => [t.threatFeedName, t.threatCollections, t.associations, t.ruleName]),
      [
        [
          'Example ransomware campaign report',
          [{ id: 'report--26-00001234', type: 'REPORT', altNames: ['Example ransomware campaign report'] }],
          undefined,
          undefined,
        ],
        [
          'Operation Example',
          [{ id: 'campaign--26-00000042', type: 'CAMPAIGN', altNames: ['Operation Example'] }],
          undefined,
          undefined,
        ],
        [
          'EXAMPLE SPIDER',
          undefined,
          [{ type: 'THREAT_ACTOR', id: 'threat-actor--example-spider', name: 'EXAMPLE SPIDER' }],
          undefined,
        ],
      ],
    );
    // The shared fields are in every one of them.
    for (const threat of several.metadata.threat) {
      assert.equal(threat.threatVerdict, 'MALICIOUS');
      assert.equal(threat.riskScore, 85);
      assert.deepEqual(
        threat.detectionFields?.map((f) => f.value),
        ['VERDICT_MALICIOUS', 'c2_domain', 'dga_domain'],
      );
    }
    const retro = build(sample('edge_null_hunting_info')).entity;
    assert.equal(retro.metadata.threat[0]?.ruleType, 'YARA');
    assert.equal(retro.metadata.threat[0]?.ruleSet, '1688849860263936');
    assert.equal(retro.metadata.threat[0]?.ruleName, undefined, 'no hunting_info: no rule name');
    // A collection whose id gives no type.
    const collection = build(sample('domain_subscriptions')).entity;
    assert.deepEqual(collection.metadata.threat[0]?.threatCollections, [
      { id: 'malware--example-family', altNames: ['EXAMPLEBOT'] },
    ]);
    // Two Livehunt rulesets (allowed by sources being a list): the one rule name in both.
    const two = fileNotification('two', DATE);
    two.context_attributes.sources = [
      { type: 'hunting_ruleset', id: 'rs1', label: 'One' },
      { type: 'hunting_ruleset', id: 'rs2' },
      { type: 'new_kind', label: 'Undocumented' },
    ];
    const threats = build(two).entity.metadata.threat;
    assert.deepEqual(
      threats.map((t) => [t.ruleSet, t.ruleSetDisplayName, t.ruleName, t.threatFeedName, t.ruleType]),
      [
        ['rs1', 'One', 'rule_x', 'One', 'YARA'],
        ['rs2', undefined, 'rule_x', 'rs2', 'YARA'],
        [undefined, undefined, undefined, 'Undocumented', undefined],
      ],
    );
    assert.deepEqual(threats[2]?.ruleLabels, [
      { key: 'source_type', value: 'new_kind' },
      { key: 'source_label', value: 'Undocumented' },
    ]);
  });

  it('distinguishes hunting from subscriptions, and still writes one threat without sources', () => {
    const hunting = build(sample('file_hunting')).entity.metadata.threat[0] as Threat;
    const subscription = build(sample('file_subscriptions')).entity.metadata.threat[0] as Threat;
    assert.equal(hunting.summary, 'IOC Stream hunting notification');
    assert.equal(subscription.summary, 'IOC Stream subscriptions notification');
    assert.equal(subscription.ruleName, undefined);
    assert.equal(subscription.description, undefined);
    assert.deepEqual(subscription.associations, [
      { type: 'THREAT_ACTOR', id: 'apt-lazarus', name: 'Lazarus Group' },
    ]);
    const none = fileNotification('none', DATE);
    none.context_attributes.sources = [];
    const threats = build(none).entity.metadata.threat;
    assert.equal(threats.length, 1);
    assert.equal(threats[0]?.summary, 'IOC Stream hunting notification');
    assert.equal(threats[0]?.ruleName, undefined, 'a rule name belongs to a ruleset source');
  });

  it('maps the GTI verdict and severity to the proto enums exactly as the parser does', () => {
    const cases: [Record<string, unknown>, string | undefined, string | undefined, string | undefined][] = [
      [{ gti_assessment: { verdict: { value: 'VERDICT_MALICIOUS' } } }, 'MALICIOUS', undefined, undefined],
      [{ gti_assessment: { verdict: { value: 'VERDICT_SUSPICIOUS' } } }, 'SUSPICIOUS', undefined, undefined],
      [{ gti_assessment: { verdict: { value: 'VERDICT_UNDETECTED' } } }, 'UNDETECTED', undefined, undefined],
      [{ gti_assessment: { verdict: { value: 'VERDICT_BENIGN' } } }, undefined, undefined, undefined],
      [
        { gti_assessment: { severity: { value: 'SEVERITY_CRITICAL' } } },
        undefined,
        'CRITICAL',
        'SEVERITY_CRITICAL',
      ],
      [{ gti_assessment: { severity: { value: 'SEVERITY_HIGH' } } }, undefined, 'HIGH', 'SEVERITY_HIGH'],
      [
        { gti_assessment: { severity: { value: 'SEVERITY_MEDIUM' } } },
        undefined,
        'MEDIUM',
        'SEVERITY_MEDIUM',
      ],
      [{ gti_assessment: { severity: { value: 'SEVERITY_LOW' } } }, undefined, 'LOW', 'SEVERITY_LOW'],
      [{ gti_assessment: { severity: { value: 'SEVERITY_NONE' } } }, undefined, 'NONE', 'SEVERITY_NONE'],
      [
        { gti_assessment: { severity: { value: 'SEVERITY_UNKNOWN' } } },
        undefined,
        undefined,
        'SEVERITY_UNKNOWN',
      ],
      [{ threat_severity: { threat_severity_level: 'SEVERITY_LOW' } }, undefined, 'LOW', 'SEVERITY_LOW'],
      [
        {
          gti_assessment: { severity: { value: 'SEVERITY_HIGH' } },
          threat_severity: { threat_severity_level: 'SEVERITY_LOW' },
        },
        undefined,
        'HIGH',
        'SEVERITY_HIGH',
      ],
    ];
    for (const [attributes, verdict, severity, details] of cases) {
      const threat = build(notification('domain', 'd.example', attributes)).entity.metadata
        .threat[0] as Threat;
      const label = JSON.stringify(attributes);
      assert.equal(threat.threatVerdict, verdict, label);
      assert.equal(threat.severity, severity, label);
      assert.equal(threat.severityDetails, details, label);
      const raw = (attributes.gti_assessment as { verdict?: { value: string } } | undefined)?.verdict?.value;
      assert.deepEqual(
        threat.detectionFields?.find((f) => f.key === 'gti_verdict')?.value,
        raw,
        'the raw verdict is kept, mapped or not',
      );
    }
  });

  it('takes the confidence from mandiant_ic_score, else the assessment, and counts from last_analysis_stats', () => {
    const first = build(
      notification('domain', 'd.example', {
        mandiant_ic_score: 91,
        gti_assessment: { contributing_factors: { mandiant_confidence_score: 40 } },
        last_analysis_stats: { malicious: 5, suspicious: 2, harmless: 50, undetected: 10, timeout: 3 },
      }),
    ).entity.metadata.threat[0] as Threat;
    assert.equal(first.confidenceScore, 91);
    assert.deepEqual(first.verdictInfo, [
      { sourceProvider: 'VirusTotal', maliciousCount: 5, benignCount: 50, responseCount: 67 },
    ]);
    const second = build(
      notification('domain', 'd.example', {
        gti_assessment: { contributing_factors: { mandiant_confidence_score: 40 } },
        last_analysis_stats: { suspicious: 2, undetected: 10 },
      }),
    ).entity.metadata.threat[0] as Threat;
    assert.equal(second.confidenceScore, 40);
    assert.equal(second.verdictInfo, undefined, 'neither malicious nor harmless counted: no verdict info');
    // int32 counts: a count beyond it is left out rather than written wrong.
    const huge = build(
      notification('domain', 'd.example', { last_analysis_stats: { malicious: 2 ** 31, harmless: 1 } }),
    ).entity.metadata.threat[0] as Threat;
    assert.deepEqual(huge.verdictInfo, [{ sourceProvider: 'VirusTotal', benignCount: 1 }]);
  });

  it('computes the interval from the notification date and the validity days', () => {
    for (const days of [1, 7, 30, 365]) {
      const { entity } = build(
        fileNotification('i', DATE),
        createEntityBuilder({ ...base, validityDays: days }),
      );
      const { startTime, endTime } = entity.metadata.interval;
      assert.equal(startTime, '2026-01-01T00:00:00Z');
      assert.equal(Date.parse(endTime) - Date.parse(startTime), days * 86_400_000);
    }
    // Leap day and year ends.
    const leap = build(
      fileNotification('l', 1709164800),
      createEntityBuilder({ ...base, validityDays: 1 }),
    ).entity;
    assert.deepEqual(leap.metadata.interval, {
      startTime: '2024-02-29T00:00:00Z',
      endTime: '2024-03-01T00:00:00Z',
    });
    // The latest date a notification may carry: both ends stay valid Timestamps, end after start.
    const last = build(fileNotification('z', 253402300799)).entity.metadata.interval;
    assert.deepEqual(last, { startTime: '9999-12-31T23:59:58Z', endTime: '9999-12-31T23:59:59Z' });
    const nearEnd = build(fileNotification('y', 253402300799 - 86400 * 3)).entity.metadata.interval;
    assert.equal(nearEnd.endTime, '9999-12-31T23:59:59Z');
    // collectedTimestamp is the fetch time, whatever the notification date.
    const future = build(fileNotification('f', DATE + 86400)).entity.metadata;
    assert.equal(future.collectedTimestamp, '2026-01-01T00:05:00Z');
  });

  it('refuses validity days that are not a positive whole number, and an invalid fetch time', () => {
    for (const validityDays of [0, -1, 1.5, Number.NaN, Number.POSITIVE_INFINITY, 2 ** 60]) {
      assert.throws(() => createEntityBuilder({ ...base, validityDays }), /validityDays/);
    }
    assert.throws(() => createEntityBuilder({ ...base, fetchTime: new Date('x') }), /fetchTime/);
    assert.throws(() => createEntityBuilder({ ...base, logType: '' }), /logType/);
  });

  it('formats timestamps as Date does, at the edges of the range too', () => {
    for (const s of [0, 59, 86399, 951782400, 951868800, 1709164800, 4102444800, 253402300799]) {
      assert.equal(timestamp(s), `${new Date(s * 1000).toISOString().slice(0, 19)}Z`);
    }
    for (let i = 0; i < 5000; i++) {
      const s = Math.floor(Math.random() * 253402300800);
      assert.equal(timestamp(s), `${new Date(s * 1000).toISOString().slice(0, 19)}Z`, String(s));
    }
  });

  it('yields no entity for an unknown type or a URL without its URL, and says why', () => {
    const unknown = builder.buildFromNotification(sample('edge_unknown_type'));
    assert.deepEqual(unknown, {
      kind: 'skipped',
      id: '7000000000000000-unknown',
      reason: 'unsupported_type',
      detail: 'notification 7000000000000000-unknown is about a "graph" item: no entity type for it',
    });
    const url = sample('url_subscriptions');
    delete url.attributes;
    const skipped = builder.buildFromNotification(url);
    assert.equal(skipped.kind, 'skipped');
    assert.equal(skipped.kind === 'skipped' && skipped.reason, 'no_indicator');
    assert.match(skipped.kind === 'skipped' ? skipped.detail : '', /4612307766542337-url-2/);
  });

  it('builds the entity from a notification reduced to its descriptor', () => {
    const file = sample('file_subscriptions');
    delete file.attributes;
    const { entity } = build(file);
    assert.deepEqual(entity.entity, { file: { sha256: file.id } });
    const threat = entity.metadata.threat[0] as Threat;
    assert.deepEqual(Object.keys(threat).sort(), [
      'associations',
      'ruleLabels',
      'summary',
      'threatFeedName',
      'urlBackToProduct',
    ]);
    for (const name of ['domain_hunting', 'ip_address_hunting']) {
      const n = sample(name);
      delete n.attributes;
      assert.ok(build(n).entity.entity, name);
    }
  });

  it('builds the entity from a notification the log entry builder trimmed, keeping what trimming keeps', () => {
    const engines = Object.fromEntries(
      Array.from({ length: 300 }, (_, i) => [
        `engine${i}`,
        { category: 'undetected', result: 'x'.repeat(40) },
      ]),
    );
    const original = sample('file_hunting');
    Object.assign(original.attributes as object, {
      last_analysis_results: engines,
      pe_info: { big: 'y'.repeat(20_000) },
      names: Array.from({ length: 100 }, (_, i) => `${'n'.repeat(60)}${i}.exe`),
    });
    const entries = createEntryBuilder({
      fetchTime: base.fetchTime,
      namespace: undefined,
      useCaseName: 'x',
      chunkMaxBytes: 9_000,
      forwarder: undefined,
    });
    const entry = entries.build(original);
    assert.ok(entry.trimmed.includes('attributes.names'), entry.trimmed.join());
    assert.ok(!entry.trimmed.includes('attributes.md5'), entry.trimmed.join());
    const trimmed = Buffer.from(entry.data, 'base64');
    assert.ok((JSON.parse(trimmed.toString()) as Record<string, unknown>)[TRIMMED_FIELD]);
    const fromTrimmed = entityOf(builder.buildFromCleaned(trimmed)).entity;
    const fromOriginal = build(original).entity;
    // Trimming removed the names and exiftool; everything the rules join on survives.
    const file = fromOriginal.entity.file as Record<string, unknown>;
    assert.ok(file.names && file.mimeType);
    const kept = Object.fromEntries(Object.entries(file).filter(([k]) => k !== 'names' && k !== 'mimeType'));
    assert.deepEqual(fromTrimmed.entity, { file: kept });
    assert.deepEqual(fromTrimmed.metadata, fromOriginal.metadata);
    // And the checked-in trimmed sample gives the same entity as the untrimmed one.
    const edge = build(sample('edge_trimmed')).entity;
    assert.equal((edge.entity.file as Record<string, unknown>).sha256, file.sha256);
  });

  it('writes no empty value, and compact JSON whose size is exact, for every sample and a dataset', () => {
    const all: EntityResult[] = [];
    for (const name of readdirSync(LOGS).filter((f) => f.endsWith('.log'))) {
      all.push(builder.buildFromCleaned(readFileSync(join(LOGS, name))));
    }
    const dataset = generatedDataset({ count: 500, oversizedEvery: 100 });
    for (let i = 0; i < dataset.size; i++) all.push(builder.buildFromNotification(dataset.get(i)));
    const demo = demoDataset();
    for (let i = 0; i < demo.size; i++) all.push(builder.buildFromNotification(demo.get(i)));
    let entities = 0;
    for (const result of all) {
      if (result.kind === 'skipped') {
        assert.equal(result.reason, 'unsupported_type');
        continue;
      }
      entities++;
      const text = result.entity.json.toString('utf8');
      const parsed = JSON.parse(text) as Entity;
      assert.deepEqual(emptyValues(parsed), [], result.entity.id);
      assert.equal(JSON.stringify(parsed), text, 'compact');
      assert.equal(result.entity.bytes, Buffer.byteLength(text));
      assert.equal(parsed.metadata.vendorName, ENTITY_VENDOR_NAME);
      assert.equal(parsed.metadata.productName, ENTITY_PRODUCT_NAME);
    }
    assert.ok(entities > 500);
  });

  it('gives the same bytes from the object, the cleaned bytes and the cleaner', () => {
    const cleaner = new JsonCleaner();
    const dataset = generatedDataset({ count: 200, seed: 7 });
    for (let i = 0; i < dataset.size; i++) {
      const n = dataset.get(i);
      const fromObject = builder.buildFromNotification(n);
      const cleaned = cleaner.clean(Buffer.from(JSON.stringify(n)));
      assert.ok(cleaned);
      const fromCleaner = builder.build(entityViewFromCleaner(cleaner));
      assert.deepEqual(builder.buildFromCleaned(Buffer.from(cleaned)), fromObject);
      assert.deepEqual(fromCleaner, fromObject);
    }
  });

  it('cuts the Livehunt snippet to the parser’s 1000 characters, counting characters not code units', () => {
    const n = fileNotification('s', DATE);
    const hunting = n.context_attributes.hunting_info as Record<string, unknown>;
    hunting.snippet = `${'🚀'.repeat(999)}ab`;
    const description = String(build(n).entity.metadata.threat[0]?.description);
    assert.equal([...description].length, MAX_DESCRIPTION_CHARS);
    assert.equal(description, `${'🚀'.repeat(999)}a`);
  });

  it('wraps entities in the entities:import envelope with an exact size', () => {
    const envelope = entitiesImportEnvelope('GTI_IOC_STREAM_ü');
    const parts = ['file_hunting', 'url_hunting', 'edge_unicode'].map((s) => build(sample(s)).prepared);
    const body = Buffer.concat([
      Buffer.from(envelope.prefix),
      ...parts.flatMap((p, i) => (i === 0 ? [p.json] : [Buffer.from(','), p.json])),
      Buffer.from(envelope.suffix),
    ]);
    const size = envelope.overheadBytes + parts.reduce((sum, p) => sum + p.bytes, 0) + parts.length - 1;
    assert.equal(body.length, size);
    const parsed = JSON.parse(body.toString('utf8')) as {
      inlineSource: { entities: unknown[]; logType: string };
    };
    assert.equal(parsed.inlineSource.logType, 'GTI_IOC_STREAM_ü');
    assert.equal(parsed.inlineSource.entities.length, 3);
    assert.deepEqual(Object.keys(parsed), ['inlineSource']);
    assert.deepEqual(builder.envelope, entitiesImportEnvelope('GTI_IOC_STREAM'));
  });

  it('drops optional parts of an entity too large for one request, and names a hopeless one', () => {
    const n = fileNotification('big', DATE, {
      names: Array.from({ length: 20 }, (_, i) => `${'n'.repeat(300)}${i}`),
    });
    (n.context_attributes.hunting_info as Record<string, unknown>).snippet = 's'.repeat(900);
    const full = build(n).prepared;
    const envelope = entitiesImportEnvelope(base.logType);
    const limit = full.bytes + envelope.overheadBytes - 1;
    const small = build(n, createEntityBuilder({ ...base, chunkMaxBytes: limit })).prepared;
    assert.deepEqual(small.trimmed, ['entity.file.names']);
    assert.ok(small.bytes + envelope.overheadBytes <= limit);
    const smaller = build(n, createEntityBuilder({ ...base, chunkMaxBytes: 1200 })).prepared;
    assert.deepEqual(smaller.trimmed, ENTITY_TRIM_ORDER.slice(0, smaller.trimmed.length));
    assert.ok(smaller.trimmed.includes('metadata.threat.description'));
    const parsed = JSON.parse(smaller.json.toString()) as Entity;
    assert.equal((parsed.entity.file as Record<string, unknown>).sha256, 'sha256-big', 'the indicator stays');
    assert.throws(
      () => createEntityBuilder({ ...base, chunkMaxBytes: 300 }).buildFromNotification(n),
      (error: unknown) => error instanceof OversizeError && error.notificationId === 'big',
    );
  });
});
