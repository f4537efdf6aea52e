/**
 * The one way this project configures got for GTI and Chronicle: no hidden retries (callers retry
 * with shared/core/retry.ts, honouring Retry-After), status codes handled by the caller, no redirects
 * (a redirect could carry credentials elsewhere), text bodies, a request timeout.
 */
import got, { type Got } from 'got';
import { excerpt } from './redact.js';

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

/** Longest API error text carried into an error message (and so into logs). */
const ERROR_TEXT_MAX = 300;

/**
 * What an API error body says, for an error message: `error.message` of a JSON error body (Google
 * and VirusTotal both answer `{"error": {...}}`), else the start of the text (a proxy's HTML page,
 * say); secrets redacted, then whitespace collapsed and cut to ERROR_TEXT_MAX characters (an API may
 * echo what was sent, a key or token included). `error` is the parsed error object, for its code or
 * status: copy nothing from it into a message unredacted.
 */
export function describeErrorBody(body: string): {
  message: string;
  error: Record<string, unknown> | undefined;
} {
  let message = body;
  let error: Record<string, unknown> | undefined;
  try {
    const parsed = JSON.parse(body) as { error?: unknown };
    if (parsed.error !== null && typeof parsed.error === 'object') {
      error = parsed.error as Record<string, unknown>;
      if (typeof error.message === 'string') message = error.message;
    }
  } catch {
    // Not JSON: keep the start of the text.
  }
  return { message: excerpt(message, ERROR_TEXT_MAX), error };
}
