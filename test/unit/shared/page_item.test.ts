import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { JsonCleaner } from '../../../shared/clean_json.js';
import { ValidationError } from '../../../shared/errors.js';
import { createEntryBuilder } from '../../../shared/log_entries.js';
import type { Notification } from '../../../shared/notification.js';
import { readPageItem } from '../../../shared/page_item.js';

const builder = createEntryBuilder({
  fetchTime: new Date('2026-01-02T00:00:00Z'),
  namespace: 'ns',
  useCaseName: 'ioc_stream',
  chunkMaxBytes: 3_900_000,
  forwarder: undefined,
});

function entryJson(text: string): { json: string; fast: boolean } {
  const item = readPageItem(new JsonCleaner(), Buffer.from(text, 'utf8'));
  const entry =
    item.cleaned !== undefined
      ? builder.buildCleaned(item.cleaned, item.id, item.date)
      : builder.build(item.notification);
  return { json: entry.json, fast: item.cleaned !== undefined };
}

const notification = (extra: string) =>
  `{"type":"file","id":"f1",${extra}"context_attributes":{"notification_id":"n1","notification_date":1767225600,"tags":[]}}`;

describe('readPageItem', () => {
  it('gives the same entry on the byte path as on the object path', () => {
    const text = notification('"attributes":{"size":10,"md5":"x","names":[]},');
    const fast = entryJson(text);
    assert.equal(fast.fast, true);
    const object = builder.build(JSON.parse(text) as Notification);
    assert.equal(fast.json, object.json);
  });

  it('takes the object path for what the byte cleaner leaves to it, with the same entry', () => {
    // A duplicate key: JSON.parse keeps the last value.
    const text = notification('"attributes":{"size":10,"size":11},');
    const result = entryJson(text);
    assert.equal(result.fast, false);
    assert.equal(result.json, builder.build(JSON.parse(text) as Notification).json);
    const data = JSON.parse(
      Buffer.from((JSON.parse(result.json) as { data: string }).data, 'base64').toString(),
    );
    assert.equal(data.attributes.size, 11);
  });

  it('keeps the object path checks: an empty type is still a type', () => {
    const text = '{"type":"","id":"f1","context_attributes":{"notification_id":"n1","notification_date":5}}';
    const item = readPageItem(new JsonCleaner(), Buffer.from(text));
    assert.equal(item.id, 'n1');
    assert.equal(item.cleaned, undefined);
  });

  it('names what is wrong with an unusable item, without quoting the payload', () => {
    assert.throws(
      () => readPageItem(new JsonCleaner(), Buffer.from('{"type":"file","id":"f1","secret-ish":"PAYLOAD"')),
      (error: unknown) =>
        error instanceof ValidationError &&
        /not valid JSON \(\d+ bytes\)/.test(error.message) &&
        !error.message.includes('PAYLOAD'),
    );
    assert.throws(
      () =>
        readPageItem(
          new JsonCleaner(),
          Buffer.from('{"type":"file","id":"f1","context_attributes":{"notification_date":5}}'),
        ),
      /unusable notification: item f1 has no context_attributes.notification_id/,
    );
    assert.throws(
      () => readPageItem(new JsonCleaner(), Buffer.from('[1]')),
      /unusable notification: item is not an object/,
    );
  });
});
