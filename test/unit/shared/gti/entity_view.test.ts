import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { ValidationError } from '../../../../shared/core/errors.js';
import { JsonCleaner } from '../../../../shared/gti/clean_json.js';
import {
  type EntityView,
  entityViewFromCleaned,
  entityViewFromCleaner,
  entityViewFromNotification,
  MAX_FILE_NAMES,
} from '../../../../shared/gti/entity_view.js';
import type { Notification } from '../../../../shared/gti/notification.js';
import { demoDataset, generatedDataset } from '../../../../sim/dataset.js';
import { fileNotification } from '../../../helpers/notifications.js';

const LOGS = fileURLToPath(new URL('../../../../../custom_parser/logs/', import.meta.url));
const cleaner = new JsonCleaner();

/** The view by all three paths, asserting they agree. */
function views(notification: Notification, indent?: number): EntityView {
  const fromObject = entityViewFromNotification(notification);
  const text = JSON.stringify(notification, null, indent);
  const cleaned = cleaner.clean(Buffer.from(text));
  assert.ok(cleaned, 'the fast path cleans it');
  const fromCleaner = entityViewFromCleaner(cleaner);
  const copy = Buffer.from(cleaned);
  assert.deepEqual(fromCleaner, fromObject);
  assert.deepEqual(entityViewFromCleaned(copy), fromObject);
  assert.deepEqual(entityViewFromCleaned(Buffer.from(text)), fromObject, 'raw bytes, whitespace and all');
  const head = JSON.parse(copy.toString()) as Notification;
  cleaner.clean(copy);
  assert.deepEqual(entityViewFromCleaner(cleaner, head), fromObject, 'with an already-parsed head');
  return fromObject;
}

describe('entity view', () => {
  it('reads what the entity needs from a file notification', () => {
    const view = views(
      fileNotification('n1', 1767225600, {
        sha256: 'ab'.repeat(32),
        sha1: 'c'.repeat(40),
        exiftool: { FileSize: '1 kB', MIMEType: 'application/x-dosexec' },
        last_analysis_stats: { malicious: 3, suspicious: 1, harmless: 0, undetected: 60, timeout: 2 },
        gti_assessment: {
          verdict: { value: 'VERDICT_MALICIOUS' },
          severity: { value: 'SEVERITY_HIGH' },
          threat_score: { value: 88 },
          contributing_factors: { mandiant_confidence_score: 70 },
        },
        threat_severity: { threat_severity_level: 'SEVERITY_LOW' },
        last_modification_date: 1767000000,
      }),
    );
    assert.deepEqual(
      { ...view },
      {
        type: 'file',
        id: 'sha256-n1',
        notificationId: 'n1',
        date: 1767225600,
        origin: 'hunting',
        sources: [{ type: 'hunting_ruleset', id: 'rs1', label: 'My rules' }],
        tags: [],
        ruleName: 'rule_x',
        ruleTags: ['apt'],
        snippet: '4D 5A *begin_highlight*90 00*end_highlight*',
        sourceCountry: 'US',
        sourceKey: 'a1b2c3d4',
        matchInSubfile: undefined,
        md5: 'a'.repeat(32),
        sha1: 'c'.repeat(40),
        sha256: 'ab'.repeat(32),
        size: 1234,
        names: ['x.exe'],
        mimeType: 'application/x-dosexec',
        url: undefined,
        verdict: 'VERDICT_MALICIOUS',
        severity: 'SEVERITY_HIGH',
        threatScore: 88,
        confidence: 70,
        stats: { malicious: 3, suspicious: 1, harmless: 0, undetected: 60 },
        lastModificationDate: 1767000000,
      },
    );
  });

  it('gives the same view from the object, the cleaner and the cleaned bytes: samples and datasets', () => {
    let compared = 0;
    for (const name of readdirSync(LOGS).filter((f) => f.endsWith('.log'))) {
      views(JSON.parse(readFileSync(join(LOGS, name), 'utf8')) as Notification);
      compared++;
    }
    const dataset = generatedDataset({ count: 400, oversizedEvery: 100 });
    for (let i = 0; i < dataset.size; i++, compared++) views(dataset.get(i), i % 3 === 0 ? 2 : undefined);
    const demo = demoDataset();
    for (let i = 0; i < demo.size; i++, compared++) views(demo.get(i));
    assert.ok(compared > 400);
  });

  it('treats empty values as absent, as cleaning does, and ignores values of the wrong type', () => {
    const raw = fileNotification('n2', 1767225600, {
      md5: '',
      sha1: null,
      names: ['', 'a.exe', 7, null, 'b.exe'],
      size: '12',
      exiftool: { MIMEType: '' },
      last_analysis_stats: { malicious: -1, harmless: 1.5, undetected: 'x' },
      gti_assessment: { verdict: { value: 3 }, severity: {}, threat_score: { value: 'high' } },
      threat_severity: { threat_severity_level: 'SEVERITY_MEDIUM' },
      mandiant_ic_score: null,
    });
    raw.context_attributes.tags = ['', 'tag1'];
    raw.context_attributes.sources = [{ type: '', id: '', label: '' }, { id: 'only-id' }, null as never];
    raw.context_attributes.hunting_info = null;
    const view = views(raw);
    assert.equal(view.md5, undefined);
    assert.equal(view.sha1, undefined);
    assert.deepEqual(view.names, ['a.exe', 'b.exe']);
    assert.equal(view.size, undefined);
    assert.equal(view.mimeType, undefined);
    assert.equal(view.stats, undefined);
    assert.equal(view.verdict, undefined);
    assert.equal(view.severity, 'SEVERITY_MEDIUM', 'threat_severity when the assessment has none');
    assert.equal(view.threatScore, undefined);
    assert.equal(view.confidence, undefined);
    assert.deepEqual(view.tags, ['tag1']);
    assert.deepEqual(view.sources, [{ type: undefined, id: 'only-id', label: undefined }]);
    assert.equal(view.ruleName, undefined);
    assert.deepEqual(view.ruleTags, []);
  });

  it(`keeps at most ${MAX_FILE_NAMES} file names, in GTI's order`, () => {
    const names = Array.from({ length: 500 }, (_, i) => `name-${i}.exe`);
    const view = views(fileNotification('n3', 1767225600, { names }));
    assert.deepEqual(view.names, names.slice(0, MAX_FILE_NAMES));
  });

  it('reads only the top level of attributes: a key planted deeper never reaches the view', () => {
    // exiftool and pe_info carry keys taken from the file itself; a crafted file could plant these.
    const view = views(
      fileNotification('n4', 1767225600, {
        md5: undefined,
        pe_info: { sections: [{ md5: 'f'.repeat(32), url: 'http://planted.example/' }] },
        exiftool: { Nested: { MIMEType: 'text/planted' }, MIMEType: 'application/pdf' },
        crowdsourced_yara_results: [{ gti_assessment: { verdict: { value: 'VERDICT_MALICIOUS' } } }],
        zzz: { sha1: 'planted', names: ['planted.exe'], size: 9 },
      }),
    );
    assert.equal(view.md5, undefined);
    assert.equal(view.url, undefined);
    assert.equal(view.sha1, undefined);
    assert.equal(view.mimeType, 'application/pdf');
    assert.equal(view.verdict, undefined);
    assert.deepEqual(view.names, ['x.exe']);
    assert.equal(view.size, 1234);
  });

  it('works from a notification reduced to its descriptor', () => {
    const notification = fileNotification('n5', 1767225600);
    delete notification.attributes;
    const view = views(notification);
    assert.equal(view.id, 'sha256-n5');
    assert.equal(view.md5, undefined);
    assert.deepEqual(view.names, []);
  });

  it('rejects what is not a notification, and malformed bytes, with a ValidationError and no hang', () => {
    assert.throws(
      () => entityViewFromNotification({ type: 'file' } as unknown as Notification),
      ValidationError,
    );
    const bad = [
      '{"type":"file","id":"x"}',
      '{"type":"file","id":"x","context_attributes":{"notification_id":"n"}}',
      '[1,2]',
      '{"type":"file","id":"x","attributes":{"md5":"a"',
      '{"attributes":{"names":["a",',
      '{"attributes":{"exiftool":{"MIMEType":"a"',
      '{"type":"file","id":"x","context_attributes":{"notification_id":"n","notification_date":1},"attributes":{"md5":"abc}}',
      `{"attributes":${'['.repeat(200_000)}`,
      '{"type" "file"}',
      '',
    ];
    for (const text of bad) {
      const started = performance.now();
      assert.throws(() => entityViewFromCleaned(Buffer.from(text)), ValidationError, text.slice(0, 60));
      assert.ok(performance.now() - started < 1000);
    }
    // A message names a position, never the content.
    try {
      entityViewFromCleaned(Buffer.from('{"type":"file","attributes":{"md5":"secret-ish"'));
      assert.fail('expected a ValidationError');
    } catch (error) {
      assert.ok(error instanceof ValidationError);
      assert.doesNotMatch(error.message, /secret-ish/);
    }
  });

  it('skips deeply nested attributes it does not need without recursing', () => {
    const deep = `${'['.repeat(100_000)}${']'.repeat(100_000)}`;
    const text = `{"attributes":{"deep":${deep},"md5":"m"},"context_attributes":{"notification_date":1,"notification_id":"n"},"id":"i","type":"file"}`;
    const view = entityViewFromCleaned(Buffer.from(text));
    assert.equal(view.md5, 'm');
  });
});
