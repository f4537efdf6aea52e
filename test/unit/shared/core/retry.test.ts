import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseRetryAfter, retryDelayMs, withRetry } from '../../../../shared/core/retry.js';

const policy = { maxAttempts: 4, maxTotalMs: 10_000, baseDelayMs: 10, maxDelayMs: 40 };

describe('retry', () => {
  it('parses Retry-After as seconds or an HTTP date', () => {
    const now = Date.parse('2026-01-01T00:00:00Z');
    assert.equal(parseRetryAfter('3', now), 3000);
    assert.equal(parseRetryAfter('Thu, 01 Jan 2026 00:00:05 GMT', now), 5000);
    assert.equal(parseRetryAfter('soon', now), undefined);
    assert.equal(parseRetryAfter(undefined, now), undefined);
  });

  it('backs off exponentially with jitter within the cap, and obeys Retry-After', () => {
    assert.equal(
      retryDelayMs(1, policy, undefined, () => 0),
      5,
    );
    assert.equal(
      retryDelayMs(1, policy, undefined, () => 1),
      10,
    );
    assert.equal(
      retryDelayMs(3, policy, undefined, () => 1),
      40,
    );
    assert.equal(
      retryDelayMs(9, policy, undefined, () => 1),
      40,
    );
    assert.equal(retryDelayMs(2, policy, 1234), 1234);
  });

  it('retries retryable failures up to maxAttempts, then throws the last error', async () => {
    let calls = 0;
    await assert.rejects(
      withRetry(
        async () => {
          calls += 1;
          throw new Error(`fail ${calls}`);
        },
        policy,
        () => ({ retryable: true }),
      ),
      /fail 4/,
    );
    assert.equal(calls, 4);
  });

  it('does not retry permanent failures', async () => {
    let calls = 0;
    await assert.rejects(
      withRetry(
        async () => {
          calls += 1;
          throw new Error('permanent');
        },
        policy,
        () => ({ retryable: false }),
      ),
    );
    assert.equal(calls, 1);
  });

  it('gives up when the next wait would exceed the total time budget', async () => {
    let calls = 0;
    const started = Date.now();
    await assert.rejects(
      withRetry(
        async () => {
          calls += 1;
          throw new Error('busy');
        },
        { ...policy, maxTotalMs: 100 },
        () => ({ retryable: true, retryAfterMs: 5_000 }),
      ),
    );
    assert.equal(calls, 1);
    assert.ok(Date.now() - started < 1000);
  });

  it('waits through the injected sleep, with the server-given delay and the abort signal', async () => {
    const waits: { ms: number; signal: AbortSignal | undefined }[] = [];
    const controller = new AbortController();
    let calls = 0;
    const result = await withRetry(
      async () => {
        calls += 1;
        if (calls < 3) throw new Error('busy');
        return 'done';
      },
      { ...policy, maxTotalMs: 3_600_000 },
      () => ({ retryable: true, retryAfterMs: 60_000 }),
      {
        signal: controller.signal,
        sleep: async (ms, signal) => {
          waits.push({ ms, signal });
        },
      },
    );
    assert.equal(result, 'done');
    assert.deepEqual(
      waits.map((w) => w.ms),
      [60_000, 60_000],
    );
    assert.ok(waits.every((w) => w.signal === controller.signal));
  });
});
