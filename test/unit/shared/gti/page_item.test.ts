import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ValidationError } from '../../../../shared/core/errors.js';
import { JsonCleaner } from '../../../../shared/gti/clean_json.js';
import type { Notification } from '../../../../shared/gti/notification.js';
import { cleanedDescriptor, type PageItem, parseItem } from '../../../../shared/gti/page_item.js';
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
    const accept = (id: string, date: number) => {
      seen.push(`${id}@${date}`);
      return false;
    };
    assert.equal(prepareItem(item(notification('')), builder, accept), undefined);
    assert.equal(prepareItem(item(notification('"a":{"x":1,"x":2},')), builder, accept), undefined);
    assert.deepEqual(seen, ['n1@1767225600', 'n1@1767225600']);
  });

  it('name what is wrong with an unusable item, without quoting the payload', () => {
    assert.throws(
      () => parseItem(Buffer.from('{"type":"file","id":"f1","secret-ish":"PAYLOAD"')),
      (error: unknown) =>
        error instanceof ValidationError &&
        /not valid JSON \(\d+ bytes\)/.test(error.message) &&
        !error.message.includes('PAYLOAD'),
    );
    assert.throws(
      () => parseItem(Buffer.from('{"type":"file","id":"f1","context_attributes":{"notification_date":5}}')),
      /unusable notification: item f1 has no context_attributes.notification_id/,
    );
    assert.throws(() => parseItem(Buffer.from('[1]')), /unusable notification: item is not an object/);
    // A date the checkpoint could not store, or no date could show, is refused on both paths.
    for (const date of ['1767225600.5', '-1', '1e13', '"1767225600"']) {
      const text = `{"type":"file","id":"f1","context_attributes":{"notification_id":"n1","notification_date":${date}}}`;
      assert.equal(item(text).kind, 'raw', date);
      assert.throws(
        () => parseItem(Buffer.from(text)),
        /n1 has no context_attributes.notification_date in unix seconds/,
      );
    }
  });
});
