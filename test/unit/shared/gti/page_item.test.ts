import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { JsonCleaner } from '../../../../shared/gti/clean_json.js';
import type { Notification } from '../../../../shared/gti/notification.js';
import {
  cleanedDescriptor,
  type PageItem,
  readItem,
  UNPARSED_FIELD,
} from '../../../../shared/gti/page_item.js';
import { prepareItem } from '../../../../shared/pipeline/fetch_run.js';
import { createEntryBuilder } from '../../../../shared/pipeline/log_entries.js';

const builder = createEntryBuilder({
  fetchTime: new Date('2026-01-02T00:00:00Z'),
  namespace: 'ns',
  useCaseName: 'ioc_stream',
  chunkMaxBytes: 3_900_000,
  forwarder: undefined,
});

/** What gti_page does for one item. */
function item(text: string): PageItem {
  const cleaner = new JsonCleaner();
  const raw = Buffer.from(text, 'utf8');
  const cleaned = cleaner.clean(raw);
  const descriptor = cleaned === undefined ? undefined : cleanedDescriptor(cleaner);
  return descriptor === undefined || cleaned === undefined
    ? { kind: 'raw', raw }
    : { kind: 'cleaned', ...descriptor, cleaned: Buffer.from(cleaned) };
}

const notification = (extra: string) =>
  `{"type":"file","id":"f1",${extra}"context_attributes":{"notification_id":"n1","notification_date":1767225600,"tags":[]}}`;

describe('page items', () => {
  it('give the same entry on the byte path as on the object path', () => {
    const text = notification('"attributes":{"size":10,"md5":"x","names":[]},');
    const fast = item(text);
    assert.equal(fast.kind, 'cleaned');
    assert.deepEqual(fast.kind === 'cleaned' && [fast.id, fast.date], ['n1', 1767225600]);
    const entry = prepareItem(fast, builder, () => true);
    assert.equal(entry?.json, builder.build(JSON.parse(text) as Notification).json);
  });

  it('take the object path for what the byte cleaner leaves to it, with the same entry', () => {
    // A duplicate key: JSON.parse keeps the last value.
    const text = notification('"attributes":{"size":10,"size":11},');
    const slow = item(text);
    assert.equal(slow.kind, 'raw');
    const entry = prepareItem(slow, builder, () => true);
    assert.equal(entry?.json, builder.build(JSON.parse(text) as Notification).json);
    const data = JSON.parse(
      Buffer.from((JSON.parse(entry?.json ?? '{}') as { data: string }).data, 'base64').toString(),
    );
    assert.equal(data.attributes.size, 11);
  });

  it('keep the object path checks: an empty type is still a type', () => {
    const slow = item(
      '{"type":"","id":"f1","context_attributes":{"notification_id":"n1","notification_date":5}}',
    );
    assert.equal(slow.kind, 'raw');
    assert.equal(prepareItem(slow, builder, () => true)?.id, 'n1');
  });

  it('are dropped when de-duplication says so, on both paths', () => {
    const seen: string[] = [];
    const accept = (id: string, date: number | undefined) => {
      seen.push(`${id}@${date}`);
      return false;
    };
    assert.equal(prepareItem(item(notification('')), builder, accept), undefined);
    assert.equal(prepareItem(item(notification('"a":{"x":1,"x":2},')), builder, accept), undefined);
    assert.deepEqual(seen, ['n1@1767225600', 'n1@1767225600']);
  });

  it('import an item without a usable id or date, or not even JSON, labelled instead of stopping the stream', () => {
    const decode = (json: string | undefined) => {
      const entry = JSON.parse(json ?? '{}') as {
        data: string;
        logEntryTime: string;
        labels: Record<string, { value: string }>;
      };
      return {
        entry,
        data: JSON.parse(Buffer.from(entry.data, 'base64').toString()) as Record<string, unknown>,
      };
    };
    // No notification_id: an id derived from the bytes (stable), the date kept.
    const noId = '{"type":"file","id":"f1","context_attributes":{"notification_date":5}}';
    const first = prepareItem(item(noId), builder, () => true);
    assert.match(first?.id ?? '', /^derived-[0-9a-f]{32}$/);
    assert.equal(prepareItem(item(noId), builder, () => true)?.id, first?.id);
    assert.equal(first?.date, 5);
    assert.deepEqual(first?.invalid, ['context_attributes.notification_id']);
    assert.equal(
      decode(first?.json).entry.labels.invalid_fields?.value,
      'context_attributes.notification_id',
    );
    // A date the checkpoint could not store: logEntryTime falls back to the fetch time.
    for (const date of ['1767225600.5', '-1', '1e13', '"1767225600"']) {
      const text = `{"type":"file","id":"f1","context_attributes":{"notification_id":"n1","notification_date":${date}}}`;
      assert.equal(item(text).kind, 'raw', date);
      const entry = prepareItem(item(text), builder, () => true);
      assert.equal(entry?.id, 'n1');
      assert.equal(entry?.date, undefined, date);
      assert.deepEqual(entry?.invalid, ['context_attributes.notification_date']);
      assert.equal(decode(entry?.json).entry.logEntryTime, '2026-01-02T00:00:00.000Z');
    }
    // Not JSON, or not an object: kept as text, never quoted in an error.
    for (const text of ['{"type":"file","id":"f1","secret-ish":"PAYLOAD"', '[1]']) {
      const entry = prepareItem({ kind: 'raw', raw: Buffer.from(text) }, builder, () => true);
      assert.deepEqual(entry?.invalid, ['item']);
      assert.equal(decode(entry?.json).data[UNPARSED_FIELD], text);
    }
    assert.deepEqual(readItem(Buffer.from(notification(''))).invalid, []);
  });

  it('treat a date far ahead of the clock as malformed, so it never moves the checkpoint', () => {
    const horizon = 1767225600 - 1;
    for (const text of [notification(''), notification('"a":{"x":1,"x":2},')]) {
      const entry = prepareItem(item(text), builder, () => true, horizon);
      assert.equal(entry?.date, undefined);
      assert.deepEqual(entry?.invalid, ['context_attributes.notification_date']);
    }
    assert.equal(prepareItem(item(notification('')), builder, () => true, 1767225600)?.date, 1767225600);
  });
});
