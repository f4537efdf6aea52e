import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  CHUNK_ATTRIBUTES,
  DEAD_LETTER_ATTRIBUTES,
  PUBSUB_DEAD_LETTER_ATTRIBUTES,
  withoutDeadLetterAttributes,
} from '../../../../shared/cloud/chunk_message.js';

describe('chunk message attributes', () => {
  it('drop what an earlier dead-lettering added, keeping the chunk and replay attributes', () => {
    const replayed = {
      [CHUNK_ATTRIBUTES.runId]: 'r1',
      [CHUNK_ATTRIBUTES.seq]: '3',
      [DEAD_LETTER_ATTRIBUTES.reason]: 'permanent_error',
      [DEAD_LETTER_ATTRIBUTES.httpStatus]: '403',
      [DEAD_LETTER_ATTRIBUTES.errorMessage]: 'denied',
      [DEAD_LETTER_ATTRIBUTES.deadLetteredAt]: '2026-01-01T00:00:00.000Z',
      [PUBSUB_DEAD_LETTER_ATTRIBUTES.deliveryCount]: '5',
      [DEAD_LETTER_ATTRIBUTES.replayCount]: '1',
      [DEAD_LETTER_ATTRIBUTES.replayedAt]: '2026-01-02T00:00:00.000Z',
    };
    assert.deepEqual(withoutDeadLetterAttributes(replayed), {
      [CHUNK_ATTRIBUTES.runId]: 'r1',
      [CHUNK_ATTRIBUTES.seq]: '3',
      [DEAD_LETTER_ATTRIBUTES.replayCount]: '1',
      [DEAD_LETTER_ATTRIBUTES.replayedAt]: '2026-01-02T00:00:00.000Z',
    });
  });
});
