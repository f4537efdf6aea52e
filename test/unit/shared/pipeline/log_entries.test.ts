import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { logsImportEnvelope } from '../../../../shared/chronicle/request_body.js';
import { OversizeError } from '../../../../shared/core/errors.js';
import { chunkEntries } from '../../../../shared/pipeline/chunker.js';
import {
  COLLECTION_AFTER_ENTRY_MS,
  collectionTimeMs,
  createEntryBuilder,
  TRIMMED_FIELD,
} from '../../../../shared/pipeline/log_entries.js';
import { decodeBody, fileNotification } from '../../../helpers/notifications.js';

const base = {
  fetchTime: new Date('2026-02-01T00:00:00Z'),
  namespace: 'prod',
  useCaseName: 'vt_livehunt',
  chunkMaxBytes: 20_000,
  forwarder: 'projects/p/locations/us/instances/c/forwarders/f',
};

describe('log entries', () => {
  it('builds one entry: cleaned base64 data, times, namespace, labels', () => {
    const builder = createEntryBuilder(base);
    const entry = builder.build(fileNotification('n1', 1769904000 - 60));
    const parsed = JSON.parse(entry.json) as Record<string, unknown>;
    assert.equal(parsed.logEntryTime, '2026-01-31T23:59:00.000Z');
    assert.equal(parsed.collectionTime, '2026-02-01T00:00:00.000Z');
    assert.equal(parsed.environmentNamespace, 'prod');
    assert.deepEqual(parsed.labels, { use_case_name: { value: 'vt_livehunt' } });
    const data = JSON.parse(Buffer.from(String(parsed.data), 'base64').toString('utf8')) as Record<
      string,
      unknown
    >;
    assert.deepEqual(Object.keys(data), ['attributes', 'context_attributes', 'id', 'links', 'type']);
    assert.deepEqual((data.attributes as Record<string, unknown>).names, ['x.exe']);
    assert.equal(entry.bytes, Buffer.byteLength(entry.json));
  });

  it('keeps collectionTime strictly after logEntryTime: a notification dated at or after the fetch time', () => {
    const builder = createEntryBuilder(base);
    const fetchSeconds = Math.floor(base.fetchTime.getTime() / 1000);
    for (const date of [fetchSeconds, fetchSeconds + 3, fetchSeconds + 3600]) {
      const parsed = JSON.parse(builder.build(fileNotification(`n${date}`, date)).json) as Record<
        string,
        string
      >;
      assert.equal(parsed.logEntryTime, new Date(date * 1000).toISOString());
      // One second after: strictly after whether the service compares seconds, ms or ns.
      assert.equal(parsed.collectionTime, new Date(date * 1000 + 1000).toISOString());
      assert.ok(Date.parse(parsed.collectionTime ?? '') > Date.parse(parsed.logEntryTime ?? ''));
    }
    // A notification dated a second or more before the fetch keeps the fetch time.
    const justBefore = JSON.parse(builder.build(fileNotification('n-1', fetchSeconds - 1)).json) as Record<
      string,
      string
    >;
    assert.equal(justBefore.collectionTime, '2026-02-01T00:00:00.000Z');
    assert.equal(COLLECTION_AFTER_ENTRY_MS, 1000);
  });

  it("takes the collection time from the page's receive time when given, on both paths and when trimmed", () => {
    const builder = createEntryBuilder(base);
    const received = Date.parse('2026-02-01T00:05:00.250Z');
    const n = fileNotification('n3', 1769904000 - 60);
    const at = (id: string, date: number) => ({ id, date, invalid: [], receivedMs: received });
    const fromObject = JSON.parse(builder.build(n, at('n3', 1769904000 - 60)).json) as Record<string, string>;
    assert.equal(fromObject.collectionTime, '2026-02-01T00:05:00.250Z');
    const cleaned = Buffer.from(Buffer.from(String(fromObject.data), 'base64'));
    const fromBytes = JSON.parse(
      builder.buildCleaned(cleaned, 'n3', 1769904000 - 60, [], received).json,
    ) as Record<string, string>;
    assert.equal(fromBytes.collectionTime, '2026-02-01T00:05:00.250Z');
    // A notification dated after the page arrived (GTI's clock ahead of ours) still gets a later time.
    const ahead = Math.floor(received / 1000) + 2;
    const late = JSON.parse(builder.build(fileNotification('n4', ahead), at('n4', ahead)).json) as Record<
      string,
      string
    >;
    assert.equal(late.collectionTime, new Date(ahead * 1000 + 1000).toISOString());
    const engines = Object.fromEntries(
      Array.from({ length: 400 }, (_, i) => [`engine${i}`, { result: 'x'.repeat(40) }]),
    );
    const big = builder.build(
      fileNotification('n5', 1769904000, { last_analysis_results: engines }),
      at('n5', 1769904000),
    );
    assert.ok(big.trimmed.length > 0);
    assert.equal((JSON.parse(big.json) as Record<string, string>).collectionTime, '2026-02-01T00:05:00.250Z');
  });

  it('writes a valid RFC 3339 collectionTime even for a notification dated at the end of year 9999', () => {
    const last = Date.UTC(9999, 11, 31, 23, 59, 59) / 1000;
    assert.equal(new Date(collectionTimeMs(last, Date.now())).toISOString(), '9999-12-31T23:59:59.999Z');
    const parsed = JSON.parse(createEntryBuilder(base).build(fileNotification('n9', last)).json) as Record<
      string,
      string
    >;
    assert.equal(parsed.logEntryTime, '9999-12-31T23:59:59.000Z');
    assert.equal(parsed.collectionTime, '9999-12-31T23:59:59.999Z');
  });

  it('trims an oversized notification in the documented order and labels it', () => {
    const builder = createEntryBuilder(base);
    const engines = Object.fromEntries(
      Array.from({ length: 200 }, (_, i) => [
        `engine${i}`,
        { category: 'undetected', result: 'x'.repeat(40) },
      ]),
    );
    const n = fileNotification('big', 1769904000, { last_analysis_results: engines, exiftool: { a: 'b' } });
    const entry = builder.build(n);
    assert.deepEqual(entry.trimmed, ['attributes.last_analysis_results']);
    assert.ok(entry.bytes <= base.chunkMaxBytes);
    const parsed = JSON.parse(entry.json) as { labels: Record<string, { value: string }>; data: string };
    assert.equal(parsed.labels.trimmed_fields?.value, 'attributes.last_analysis_results');
    const data = JSON.parse(Buffer.from(parsed.data, 'base64').toString('utf8')) as Record<string, unknown>;
    assert.deepEqual(data[TRIMMED_FIELD], ['attributes.last_analysis_results']);
    assert.deepEqual((data.attributes as Record<string, unknown>).exiftool, { a: 'b' });
  });

  it('falls back to the descriptor, and fails naming the notification when even that cannot fit', () => {
    const builder = createEntryBuilder(base);
    const huge = fileNotification('d1', 1769904000, { md5: 'm'.repeat(30_000) });
    const entry = builder.build(huge);
    assert.ok(entry.trimmed.includes('attributes.md5'));
    const tooBig = fileNotification('d2', 1769904000);
    tooBig.context_attributes.tags = ['t'.repeat(30_000)];
    assert.throws(
      () => builder.build(tooBig),
      (e: unknown) => e instanceof OversizeError && /d2/.test(e.message),
    );
  });
});

describe('chunker', () => {
  it('keeps every chunk within the limit, exact bytes, >= 90% full but the last', async () => {
    const builder = createEntryBuilder({ ...base, chunkMaxBytes: 50_000 });
    const envelope = logsImportEnvelope(base.forwarder);
    const entries = Array.from({ length: 300 }, (_, i) =>
      builder.build(
        fileNotification(`id${i}`, 1769904000 + i, { meaningful_name: `file-${'x'.repeat(i % 400)}` }),
      ),
    );
    const chunks = [];
    for await (const chunk of chunkEntries(entries, envelope, 50_000)) chunks.push(chunk);
    assert.ok(chunks.length > 3);
    chunks.forEach((chunk, i) => {
      assert.equal(chunk.bytes, Buffer.byteLength(chunk.body));
      assert.ok(chunk.bytes <= 50_000);
      if (i < chunks.length - 1) assert.ok(chunk.bytes >= 45_000, `chunk ${i} is ${chunk.bytes} bytes`);
      const parsed = JSON.parse(chunk.body) as { inlineSource: { forwarder: string } };
      assert.equal(parsed.inlineSource.forwarder, base.forwarder);
    });
    const ids = chunks.flatMap((c) =>
      decodeBody(c.body).map(
        (d) => (d.data.context_attributes as { notification_id: string }).notification_id,
      ),
    );
    assert.deepEqual(
      ids,
      entries.map((e) => e.id),
    );
    assert.deepEqual(
      chunks.map((c) => c.seq),
      chunks.map((_, i) => i + 1),
    );
  });
});
