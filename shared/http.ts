/**
 * The one way this project configures got for GTI and Chronicle: no hidden retries (callers retry
 * with shared/retry.ts, honouring Retry-After), status codes handled by the caller, no redirects
 * (a redirect could carry credentials elsewhere), text bodies, a request timeout.
 */
import got, { type Got } from 'got';

export const USER_AGENT = 'ioc-stream-to-secops';

export interface HttpClientOptions {
  readonly timeoutMs: number;
  readonly prefixUrl?: string;
  readonly headers?: Record<string, string>;
}

export function createHttpClient(options: HttpClientOptions): Got {
  return got.extend({
    ...(options.prefixUrl === undefined ? {} : { prefixUrl: options.prefixUrl }),
    retry: { limit: 0 },
    throwHttpErrors: false,
    followRedirect: false,
    responseType: 'text',
    timeout: { request: options.timeoutMs },
    headers: { 'user-agent': USER_AGENT, ...options.headers },
  });
}
