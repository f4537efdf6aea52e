import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { checkpointName, stopAfterMs } from '../../../functions/fetcher.js';
import { pushedMessage } from '../../../functions/pubsub_event.js';
import { parseTriggerData, triggerData } from '../../../shared/cloud/trigger_message.js';
import { TimeAheadError, ValidationError } from '../../../shared/core/errors.js';

describe('trigger message', () => {
  it('accepts empty, {} and the scheduler body', () => {
    assert.deepEqual(parseTriggerData(''), {});
    assert.deepEqual(parseTriggerData('{}'), {});
    assert.deepEqual(parseTriggerData('{"reason":"schedule"}'), { reason: 'schedule' });
  });

  it('validates overrides', () => {
    const parsed = parseTriggerData(
      '{"filter":"origin:hunting  entity_type:file","start":"2026-01-01T00:00:00Z"}',
    );
    assert.deepEqual(parsed, { filter: 'origin:hunting entity_type:file', start: 1767225600 });
    for (const bad of [
      '[1]',
      'nope',
      '{"filter":"date:2026-01-01+"}',
      '{"filter":"bad term"}',
      '{"start":"yesterday"}',
      '{"extra":1}',
      '{"continuation":true,"start":"2026-01-01T00:00:00Z"}',
      '{"continuation":"yes"}',
    ]) {
      assert.throws(() => parseTriggerData(bad), ValidationError, bad);
    }
  });

  it('refuses a start more than a few minutes ahead of now (it would silence every later run)', () => {
    const now = new Date('2026-03-01T12:00:00Z');
    assert.throws(
      () => parseTriggerData('{"start":"2026-03-02T12:00:00Z"}', now),
      (e: unknown) => e instanceof TimeAheadError && e.message.includes('2026-03-02T12:00:00.000Z'),
    );
    assert.deepEqual(parseTriggerData('{"start":"2026-03-01T12:01:00Z"}', now), { start: 1772366460 });
    assert.deepEqual(parseTriggerData('{"start":"-1h"}', now), { start: 1772362800 });
  });

  it('bounds whatever it quotes from the input, so no trigger makes a huge log line', () => {
    const huge = 'x'.repeat(8_000_000);
    for (const body of [
      { start: huge },
      { filter: `origin:${huge}` },
      { filter: `bad${huge}` },
      Object.fromEntries(Array.from({ length: 1000 }, (_, i) => [`k${i}${'y'.repeat(5000)}`, 1])),
    ]) {
      assert.throws(
        () => parseTriggerData(JSON.stringify(body)),
        (e: unknown) => e instanceof ValidationError && e.message.length < 1000,
      );
    }
  });

  it('round-trips what the fetcher and the trigger command publish', () => {
    const overrides = { filter: 'origin:hunting', continuation: true };
    assert.deepEqual(parseTriggerData(triggerData(overrides)), overrides);
    assert.equal(triggerData({}).toString(), '{}');
  });

  it('names one checkpoint per filter and keeps a margin in the time budget', () => {
    assert.equal(checkpointName('ioc_stream', undefined), 'ioc_stream');
    assert.notEqual(checkpointName('ioc_stream', 'origin:hunting'), checkpointName('ioc_stream', 'origin:x'));
    assert.equal(stopAfterMs(480), 450_000);
    assert.equal(stopAfterMs(10), 9_000);
  });
});

describe('pushed message', () => {
  it('reads the CloudEvent shape and the raw push shape', () => {
    const ce = pushedMessage({
      data: {
        message: { data: Buffer.from('hi').toString('base64'), attributes: { a: 'b' }, messageId: '7' },
      },
    });
    assert.equal(ce.data.toString(), 'hi');
    assert.deepEqual(ce.attributes, { a: 'b' });
    assert.equal(ce.messageId, '7');
    assert.equal(ce.deliveryAttempt, undefined);
    const raw = pushedMessage({ message: { attributes: { x: 'y' }, messageId: '8' }, deliveryAttempt: 3 });
    assert.equal(raw.data.length, 0);
    assert.equal(raw.deliveryAttempt, 3);
    assert.equal(pushedMessage(undefined).data.length, 0);
    assert.equal(ce.undecodable, undefined);
  });

  it('says when data is not base64, instead of reading it as empty', () => {
    for (const data of ['%%%', '{"start":"2026-01-01T00:00:00Z"}', 'a', 42]) {
      const m = pushedMessage({ data: { message: { data, messageId: '1' } } });
      assert.ok(m.undecodable, String(data));
    }
    for (const data of ['e30=', 'e30', 'ab-_', '']) {
      assert.equal(pushedMessage({ message: { data } }).undecodable, undefined, data);
    }
  });
});
