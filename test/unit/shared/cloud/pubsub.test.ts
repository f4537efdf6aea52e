import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { describePubSubError } from '../../../../shared/cloud/pubsub.js';

describe('Pub/Sub errors', () => {
  it('says an unreachable Pub/Sub in one bounded line', () => {
    // What google-gax reported for an emulator that was not running (one attempt repeated per retry).
    const attempt =
      '{message: 14 UNAVAILABLE: No connection established. Last error: Error: connect ECONNREFUSED 127.0.0.1:1. Resolution note: , code: 14, details: , note: }';
    const message = `Total timeout of API google.pubsub.v1.Publisher exceeded 60000 milliseconds retrying error Error: 14 UNAVAILABLE: No connection established. Last error: Error: connect ECONNREFUSED 127.0.0.1:1. Resolution note:   before any response was received. : Previous errors : [${Array(8).fill(attempt).join(',')}]`;
    assert.equal(
      describePubSubError(new Error(message)),
      'no answer within 60 s (14 UNAVAILABLE: No connection established. Last error: Error: connect ECONNREFUSED 127.0.0.1:1)',
    );
  });

  it('names missing credentials with the fix, and bounds anything else', () => {
    assert.match(
      describePubSubError(
        new Error('Could not load the default credentials. Browse to https://cloud.google.com/…'),
      ),
      /^no Google credentials found: run `gcloud auth application-default login`/,
    );
    const long = describePubSubError(new Error(`7 PERMISSION_DENIED: ${'x'.repeat(5000)}\nsecond line`));
    assert.ok(long.length <= 301, `${long.length}`);
    assert.match(long, /^7 PERMISSION_DENIED: x+…$/);
  });
});
