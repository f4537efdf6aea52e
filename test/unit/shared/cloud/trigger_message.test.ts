import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseTriggerData } from '../../../../shared/cloud/trigger_message.js';
import { TimeAheadError } from '../../../../shared/core/errors.js';

const NOW = new Date('2026-03-10T12:00:00Z');
const nowSeconds = NOW.getTime() / 1000;

describe('trigger message start', () => {
  it('accepts a start relative to now', () => {
    assert.equal(parseTriggerData('{"start":"-7d"}', NOW).start, nowSeconds - 7 * 86_400);
    assert.equal(parseTriggerData('{"start":"-30m"}', NOW).start, nowSeconds - 1800);
  });

  it('refuses a start in the future: the backfill would move the checkpoint past everything until then', () => {
    assert.throws(() => parseTriggerData('{"start":"2026-03-11T00:00:00Z"}', NOW), /ahead of now/);
    assert.throws(() => parseTriggerData('{"start":"2030-01-01"}', NOW), TimeAheadError);
    assert.equal(
      parseTriggerData('{"start":"2026-03-10T12:00:30Z"}', NOW).start,
      nowSeconds + 30,
      'a little clock skew is tolerated',
    );
  });

  it('names the forms a start may take, and cuts what it echoes', () => {
    assert.throws(
      () => parseTriggerData(JSON.stringify({ start: `yesterday${'x'.repeat(500)}` }), NOW),
      (error: Error) =>
        /neither an ISO 8601 time nor a relative one like -7d/.test(error.message) &&
        error.message.length < 250,
    );
  });
});
