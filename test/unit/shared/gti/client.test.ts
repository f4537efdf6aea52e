import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { quotaKind, quotaResetMs } from '../../../../shared/gti/client.js';

describe('GTI quota errors', () => {
  it('name the quota only when the message names exactly one', () => {
    assert.equal(quotaKind('Daily quota exceeded'), 'daily');
    assert.equal(quotaKind('Quota exceeded: 4 requests per minute'), 'minute');
    assert.equal(quotaKind('Your monthly quota is used up'), 'monthly');
    // VT's own description names all three: which one is unknown.
    assert.equal(quotaKind('You have exceeded one of your quotas (minute, daily or monthly).'), undefined);
    assert.equal(quotaKind('Quota exceeded'), undefined);
  });

  it('reset at 00:00 UTC (daily), on the 1st (monthly), within a minute, or when Retry-After says', () => {
    const now = Date.UTC(2026, 0, 31, 15, 30);
    assert.equal(quotaResetMs('daily', undefined, now), Date.UTC(2026, 1, 1));
    assert.equal(quotaResetMs('monthly', undefined, now), Date.UTC(2026, 1, 1));
    assert.equal(quotaResetMs('monthly', undefined, Date.UTC(2026, 11, 5)), Date.UTC(2027, 0, 1));
    assert.equal(quotaResetMs('minute', undefined, now), now + 60_000);
    assert.equal(quotaResetMs(undefined, undefined, now), undefined);
    assert.equal(quotaResetMs(undefined, 5000, now), now + 5000);
  });
});
