/**
 * Retry with exponential backoff and equal jitter, honouring a server's Retry-After, bounded both in
 * attempts and in total time. Pure delay computation + one loop; no fixed sleeps anywhere else.
 */
import { setTimeout as sleep } from 'node:timers/promises';

export interface RetryPolicy {
  readonly maxAttempts: number;
  /** Total time budget for all attempts and waits, from the first attempt. */
  readonly maxTotalMs: number;
  readonly baseDelayMs: number;
  readonly maxDelayMs: number;
}

export const DEFAULT_RETRY: RetryPolicy = {
  maxAttempts: 6,
  maxTotalMs: 120_000,
  baseDelayMs: 500,
  maxDelayMs: 30_000,
};

/**
 * Delay before attempt `attempt + 1` (attempt is 1-based). A server-given Retry-After wins when
 * present (never shorter than it asks); otherwise equal jitter (half fixed, half random) under an exponential ceiling.
 */
export function retryDelayMs(
  attempt: number,
  policy: RetryPolicy,
  retryAfterMs: number | undefined,
  random: () => number = Math.random,
): number {
  if (retryAfterMs !== undefined && retryAfterMs >= 0) return retryAfterMs;
  const ceiling = Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** (attempt - 1));
  return Math.round(ceiling / 2 + (random() * ceiling) / 2);
}

/** Parses Retry-After: delta seconds or an HTTP date. Returns milliseconds, or undefined. */
export function parseRetryAfter(
  header: string | string[] | undefined,
  now: number = Date.now(),
): number | undefined {
  const value = Array.isArray(header) ? header[0] : header;
  if (value === undefined || value.trim() === '') return undefined;
  const trimmed = value.trim();
  if (/^\d+(\.\d+)?$/.test(trimmed)) return Math.round(Number(trimmed) * 1000);
  const at = Date.parse(trimmed);
  if (Number.isNaN(at)) return undefined;
  return Math.max(0, at - now);
}

export interface RetryableFailure {
  readonly retryable: boolean;
  readonly retryAfterMs?: number | undefined;
}

/** Waits `ms` unless `signal` aborts first (then rejects with the abort reason). */
export type Sleep = (ms: number, signal?: AbortSignal) => Promise<void>;

/** A timer that an abort signal cuts short. */
export const realSleep: Sleep = async (ms, signal) => {
  await sleep(ms, undefined, signal ? { signal } : undefined);
};

export interface RetryHooks {
  onRetry?: (info: { attempt: number; delayMs: number; error: unknown }) => void;
  signal?: AbortSignal;
  now?: () => number;
  /** How waits between attempts are made (default: a timer). */
  sleep?: Sleep;
}

/** Runs `fn` until it succeeds, a non-retryable error is thrown, or the policy is exhausted. */
export async function withRetry<T>(
  fn: (attempt: number) => Promise<T>,
  policy: RetryPolicy,
  classify: (error: unknown) => RetryableFailure,
  hooks: RetryHooks = {},
): Promise<T> {
  const now = hooks.now ?? Date.now;
  const started = now();
  for (let attempt = 1; ; attempt += 1) {
    try {
      return await fn(attempt);
    } catch (error) {
      const verdict = classify(error);
      if (!verdict.retryable || attempt >= policy.maxAttempts) throw error;
      const delayMs = retryDelayMs(attempt, policy, verdict.retryAfterMs);
      if (now() - started + delayMs > policy.maxTotalMs) throw error;
      hooks.onRetry?.({ attempt, delayMs, error });
      await (hooks.sleep ?? realSleep)(delayMs, hooks.signal);
    }
  }
}
