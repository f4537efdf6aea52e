/** The HTTP retry policy derived from configuration (one place for its numbers). */
import type { Config } from './config.js';
import { DEFAULT_RETRY, type RetryPolicy } from './retry.js';

export function retryPolicy(config: Config): RetryPolicy {
  return {
    ...DEFAULT_RETRY,
    maxAttempts: config.http.maxAttempts,
    maxTotalMs: config.http.maxRetryMs,
  };
}
