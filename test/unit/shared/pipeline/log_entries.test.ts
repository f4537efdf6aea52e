import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { OversizeError } from '../../../../shared/core/errors.js';
import { chunkEntries } from '../../../../shared/pipeline/chunker.js';
import {
  createEntryBuilder,
  requestEnvelope,
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

  it('never sets collectionTime before logEntryTime', () => {
    const builder = createEntryBuilder(base);
    const future = Math.floor(base.fetchTime.getTime() / 1000) + 3600;
    const parsed = JSON.parse(builder.build(fileNotification('n2', future)).json) as Record<string, string>;
    assert.equal(parsed.collectionTime, parsed.logEntryTime);
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
    const envelope = requestEnvelope(base.forwarder);
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
