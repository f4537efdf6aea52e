/**
 * GTI / VirusTotal `GET /ioc_stream` client. Pages come as an async iterator, so no caller ever
 * holds the whole result set; the next page is requested while the caller works on the current
 * one (at most one request in flight per cursor); when the caller is already waiting, as soon as
 * the page's body has arrived, its cursor read from the end of the body before the items are
 * cleaned (checked against the full read, see `pages`). Retries 429 TooManyRequestsError, 5xx and network
 * errors with backoff and jitter, honouring Retry-After; 429 QuotaExceededError (a quota is used up:
 * the error names it and when it resets, when known) and 400/401/403/404 fail at once with the
 * API's error code. A cursor that comes back within one paging ends it (PagingError) instead of
 * reading in a circle; `requestsPerMinute` paces requests for a per-minute quota. Errors
 * never carry the API key or the request headers. Each response body is kept as bytes and read
 * into cleaned items as it arrives (gti_page.ts): no notification is ever parsed into objects
 * unless the byte cleaner leaves it to the object path.
 */
import type { Got } from 'got';
import { GtiApiError, PagingError } from '../core/errors.js';
import { createHttpClient, describeErrorBody } from '../core/http.js';
import { createPacer } from '../core/pacer.js';
import type { Secret } from '../core/redact.js';
import { redact } from '../core/redact.js';
import { parseRetryAfter, type RetryPolicy, type Sleep, withRetry } from '../core/retry.js';
import { JsonCleaner } from './clean_json.js';
import { type SplitPage, splitPage, tailMember } from './page.js';
import type { PageItem } from './page_item.js';

export interface GtiClientOptions {
  readonly baseUrl: string;
  readonly apiKey: () => Promise<Secret>;
  readonly timeoutMs: number;
  readonly retry: RetryPolicy;
  readonly onRetry?: (info: {
    attempt: number;
    delayMs: number;
    status: number | undefined;
    code: string | undefined;
  }) => void;
  /**
   * At most this many requests (retries included) start in any minute, for keys with a per-minute
   * quota (VirusTotal's public API allows 4 requests "in any given 1 minute time frame",
   * https://docs.virustotal.com/docs/api-overview). Unset: no pacing.
   */
  readonly requestsPerMinute?: number | undefined;
  /** How waits are made (retry backoff, pacing); default a timer. */
  readonly sleep?: Sleep;
  readonly now?: () => number;
}

export interface IocStreamQuery {
  /** Filter terms, space separated (the date term included by the caller). */
  readonly filter: string;
  readonly order: 'date+' | 'date-';
  readonly limit: number;
  readonly cursor?: string | undefined;
  readonly descriptorsOnly?: boolean;
  /** Not sent: also read each item's entity view while cleaning it (page.ts SplitOptions). */
  readonly entityViews?: boolean;
  /**
   * Not sent: called each time a request for this query (any of its pages, retries included) has
   * been handed to the network, so that the caller can use the wait for the answer. Must not throw.
   */
  readonly onRequestSent?: () => void;
}

export interface IocStreamPage {
  /** The `data` items, cleaned from the response bytes (see gti_page.ts). */
  readonly items: readonly PageItem[];
  /** Cursor of the next page; undefined on the last page. */
  readonly nextCursor: string | undefined;
  /** meta.count when the API gives it. */
  readonly count: number | undefined;
  readonly bytes: number;
  readonly elapsedMs: number;
}

export interface GtiClient {
  pages(query: IocStreamQuery, signal?: AbortSignal): AsyncGenerator<IocStreamPage>;
  fetchPage(query: IocStreamQuery, signal?: AbortSignal): Promise<IocStreamPage>;
}

const PERMANENT = new Set([400, 401, 403, 404]);

/**
 * VT's two 429 error codes (https://docs.virustotal.com/reference/errors): a minute, daily or monthly
 * quota is used up (daily quotas reset at 00:00 UTC), or too many requests at once (back off and retry).
 */
export const GTI_QUOTA_EXCEEDED = 'QuotaExceededError';
export const GTI_TOO_MANY_REQUESTS = 'TooManyRequestsError';

/** GTI answered that a quota is used up: retrying before it resets only burns requests, so it is not retried. */
export function isGtiQuotaExceeded(error: unknown): error is GtiApiError {
  return error instanceof GtiApiError && error.status === 429 && error.vtCode === GTI_QUOTA_EXCEEDED;
}

/**
 * GTI deletes IOC Stream notifications automatically after 7 days (REFERENCE.md, "Retention";
 * https://gtidocs.virustotal.com/docs/ioc-stream): nothing older can be fetched.
 */
export const GTI_RETENTION_SECONDS = 7 * 86_400;

/** Formats unix seconds as the ioc_stream date filter value (UTC, second precision). */
export function gtiDate(seconds: number): string {
  return new Date(seconds * 1000).toISOString().replace(/\.\d{3}Z$/, '');
}

export function createGtiClient(options: GtiClientOptions): GtiClient {
  // Bodies are read one at a time (synchronously), so one cleaner serves every page.
  const cleaner = new JsonCleaner();
  const now = options.now ?? Date.now;
  const pace =
    options.requestsPerMinute === undefined
      ? undefined
      : createPacer(options.requestsPerMinute, { now, ...(options.sleep ? { sleep: options.sleep } : {}) });
  let http: Got | undefined;
  const client = (): Got => {
    http ??= createHttpClient({
      prefixUrl: `${options.baseUrl}/`,
      timeoutMs: options.timeoutMs,
      headers: { accept: 'application/json' },
    });
    return http;
  };

  /**
   * One request. `onBody` is called with a 200 body before its items are cleaned (the caller may
   * start the next request from it); what it returns is cancelled, and waited for, before this
   * attempt fails on a body it cannot read, so that a retry is never in flight beside it.
   */
  const attempt = async (
    query: IocStreamQuery,
    signal: AbortSignal | undefined,
    onBody: ((body: Buffer) => Started | undefined) | undefined,
  ): Promise<IocStreamPage> => {
    const key = await options.apiKey();
    const searchParams: Record<string, string> = { order: query.order, limit: String(query.limit) };
    if (query.filter !== '') searchParams.filter = query.filter;
    if (query.cursor !== undefined) searchParams.cursor = query.cursor;
    if (query.descriptorsOnly) searchParams.descriptors_only = 'true';
    await pace?.(signal);
    const started = performance.now();
    let response: {
      statusCode: number;
      body: Uint8Array;
      headers: Record<string, string | string[] | undefined>;
    };
    try {
      // The body stays bytes: items are split out and cleaned from them, never decoded whole.
      const request = client().get('ioc_stream', {
        searchParams,
        headers: { 'x-apikey': key.reveal() },
        responseType: 'buffer',
        ...(signal ? { signal } : {}),
      });
      const sent = query.onRequestSent;
      if (sent !== undefined) request.on('request', (outgoing) => outgoing.once('finish', sent));
      response = await request;
    } catch (error) {
      // got's errors carry the request options (and so the x-apikey header): keep only the code.
      const code = (error as { code?: string }).code ?? 'ERR_NETWORK';
      const message = redact(error instanceof Error ? error.message : String(error));
      throw new GtiApiError(`GTI request failed (${code}): ${message}`, {
        retryable: code !== 'ERR_ABORTED',
      });
    }
    const status = response.statusCode;
    const raw = response.body;
    const body = Buffer.isBuffer(raw) ? raw : Buffer.from(raw.buffer, raw.byteOffset, raw.byteLength);
    if (status !== 200) throw apiError(status, body.toString('utf8'), response.headers['retry-after'], now());
    const early = onBody?.(body);
    // One turn of the event loop lets the next request go out (got sets it up asynchronously)
    // before this page's items are cleaned, instead of after them and the caller's work.
    if (early !== undefined) await new Promise<void>((resolve) => setImmediate(resolve));
    let page: SplitPage;
    try {
      page = splitPage(body, cleaner, { entityViews: query.entityViews === true });
    } catch {
      await early?.cancel();
      throw new GtiApiError('GTI answered 200 with a body that is not JSON', { status, retryable: true });
    }
    if (page.items === undefined) {
      await early?.cancel();
      throw new GtiApiError('GTI answered 200 without a data array', { status, retryable: true });
    }
    const meta = page.members.meta as { count?: unknown } | null | undefined;
    const links = page.members.links as { next?: unknown } | null | undefined;
    const next = metaCursor(meta) ?? cursorFromLink(links?.next);
    return {
      items: page.items,
      nextCursor: page.items.length === 0 ? undefined : next,
      count: typeof meta?.count === 'number' ? meta.count : undefined,
      bytes: body.length,
      elapsedMs: performance.now() - started,
    };
  };

  const fetchWith = (
    query: IocStreamQuery,
    signal: AbortSignal | undefined,
    onBody: ((body: Buffer) => Started | undefined) | undefined,
  ): Promise<IocStreamPage> =>
    withRetry(
      () => attempt(query, signal, onBody),
      options.retry,
      (error) =>
        error instanceof GtiApiError
          ? { retryable: error.retryable, retryAfterMs: error.retryAfterMs }
          : { retryable: false },
      {
        ...(signal ? { signal } : {}),
        ...(options.sleep ? { sleep: options.sleep } : {}),
        now,
        onRetry: ({ attempt: n, delayMs, error }) => {
          const e = error instanceof GtiApiError ? error : undefined;
          options.onRetry?.({ attempt: n, delayMs, status: e?.status, code: e?.vtCode });
        },
      },
    );

  const fetchPage = (query: IocStreamQuery, signal?: AbortSignal): Promise<IocStreamPage> =>
    fetchWith(query, signal, undefined);

  return {
    fetchPage,
    /**
     * One cursor chain, one request in flight, at most one page fetched ahead of the caller. The
     * next request leaves when the caller has taken the current page, or earlier, when the caller
     * is already waiting for the current page: as soon as its body has arrived, the cursor read
     * from the body's tail (`meta` after `data`) before the items are cleaned. When the full read
     * disagrees with the tail (an unreadable body, an empty page, another cursor) the early
     * request is aborted and waited for before anything else is sent.
     */
    async *pages(query, signal) {
      /** Pages handed to the caller so far. */
      let taken = 0;
      /** Whether the caller is waiting for the next page (page taken + 1). */
      let waiting = false;
      /** The request started from a body's tail, not yet handed over as `pending`. */
      let early: Started | undefined;
      // Every cursor this run has followed: one that comes back would page in a circle forever.
      const used = new Set<string>();
      const start = (cursor: string | undefined, index: number): Started => {
        // Its own controller, so that it can be cancelled alone; the caller's signal aborts it too.
        const own = new AbortController();
        const abort = () => own.abort();
        if (signal?.aborted) own.abort();
        signal?.addEventListener('abort', abort, { once: true });
        const promise = fetchWith(cursor === undefined ? query : { ...query, cursor }, own.signal, (body) =>
          onBody(body, index),
        );
        // A consumer that stops early must not leave an unhandled rejection behind.
        promise.catch(() => undefined).finally(() => signal?.removeEventListener('abort', abort));
        const started: Started = {
          cursor,
          promise,
          cancel: async () => {
            own.abort();
            await promise.catch(() => undefined);
            if (early === started) early = undefined;
          },
        };
        return started;
      };
      // The body of page `index` (1-based) has arrived; its items are not cleaned yet. A cursor
      // already followed is left to the full read, which ends the paging.
      const onBody = (body: Buffer, index: number): Started | undefined => {
        if (!waiting || early !== undefined || index !== taken + 1) return undefined;
        const cursor = metaCursor(tailMember(body, 'meta'));
        if (cursor === undefined || used.has(cursor)) return undefined;
        early = start(cursor, index + 1);
        return early;
      };
      let pending: Promise<IocStreamPage> | undefined = start(query.cursor, 1).promise;
      while (pending) {
        waiting = true;
        const page: IocStreamPage = await pending.finally(() => {
          waiting = false;
        });
        taken += 1;
        const cursor = page.nextCursor;
        const loop = cursor !== undefined && used.has(cursor);
        if (cursor !== undefined) used.add(cursor);
        const next = early;
        early = undefined;
        const ahead = next !== undefined && !loop && next.cursor === cursor;
        if (next !== undefined && !ahead) await next.cancel();
        // Ask for the next page now (unless its request already left), so the network works
        // while the caller processes this one.
        pending = ahead
          ? next.promise
          : cursor === undefined || loop
            ? undefined
            : start(cursor, taken + 1).promise;
        yield page;
        if (loop) {
          throw new PagingError(
            `GTI page ${taken} gave a cursor this run already followed (it points back to an earlier page); ` +
              'stopping rather than reading the same pages forever (what was imported stays imported)',
          );
        }
      }
    },
  };
}

/** A request started from a page's tail, before that page was read whole. */
interface Started {
  readonly cursor: string | undefined;
  readonly promise: Promise<IocStreamPage>;
  /** Aborts it and waits until it has settled. */
  cancel(): Promise<void>;
}

/** `meta.cursor` when it is a non-empty string. */
function metaCursor(meta: unknown): string | undefined {
  const cursor = (meta as { cursor?: unknown } | null | undefined)?.cursor;
  return typeof cursor === 'string' && cursor !== '' ? cursor : undefined;
}

function cursorFromLink(link: unknown): string | undefined {
  if (typeof link !== 'string' || link === '') return undefined;
  try {
    return new URL(link).searchParams.get('cursor') ?? undefined;
  } catch {
    return undefined;
  }
}

/** VT's three API quotas (https://docs.virustotal.com/docs/consumption-quotas-handled). */
export type QuotaKind = 'minute' | 'daily' | 'monthly';

/**
 * Which quota a QuotaExceededError names, when its message names exactly one. VT documents the
 * three (a minute, daily or monthly quota, https://docs.virustotal.com/reference/errors) but not
 * the message wording: reading it from the message is *unconfirmed*, so an unclear one gives
 * undefined and the error lists all three.
 */
export function quotaKind(message: string): QuotaKind | undefined {
  const named: QuotaKind[] = [];
  if (/\bminute\b/i.test(message)) named.push('minute');
  if (/\b(daily|day)\b/i.test(message)) named.push('daily');
  if (/\b(monthly|month)\b/i.test(message)) named.push('monthly');
  return named.length === 1 ? named[0] : undefined;
}

/**
 * When a used-up quota resets: a Retry-After when GTI sends one (*unconfirmed* on 429, VT does not
 * document it); otherwise daily quotas at 00:00 UTC and monthly ones at 00:00 UTC on the 1st
 * ("How consumption quotas are handled", https://docs.virustotal.com/docs/consumption-quotas-handled),
 * a minute quota within a minute. Undefined when the quota is not known.
 */
export function quotaResetMs(
  kind: QuotaKind | undefined,
  retryAfterMs: number | undefined,
  nowMs: number,
): number | undefined {
  if (retryAfterMs !== undefined) return nowMs + retryAfterMs;
  const d = new Date(nowMs);
  if (kind === 'daily') return Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), d.getUTCDate() + 1);
  if (kind === 'monthly') return Date.UTC(d.getUTCFullYear(), d.getUTCMonth() + 1, 1);
  if (kind === 'minute') return nowMs + 60_000;
  return undefined;
}

function quotaHint(kind: string | undefined, resetsAtMs: number | undefined): string {
  const which =
    kind === undefined ? 'a GTI API quota (per minute, day or month)' : `the ${kind} GTI API quota`;
  const when =
    resetsAtMs !== undefined
      ? `it resets at ${new Date(resetsAtMs).toISOString()}`
      : 'a minute quota resets within a minute, a daily one at 00:00 UTC, a monthly one on the 1st';
  return ` (${which}: the quota is used up; ${when}; not retried)`;
}

function apiError(
  status: number,
  body: string,
  retryAfter: string | string[] | undefined,
  nowMs: number,
): GtiApiError {
  const { message, error } = describeErrorBody(body);
  // A VT error code is a name (WrongCredentialsError, ...): anything else there is not copied.
  const code = error?.code;
  const vtCode =
    typeof code === 'string' && /^[A-Za-z]{1,64}$/.test(code) && redact(code) === code ? code : undefined;
  const quota = status === 429 && vtCode === GTI_QUOTA_EXCEEDED;
  // A 429 with any other code (or none) is "too many at once": retried like 5xx.
  const retryable = !quota && !PERMANENT.has(status) && (status === 429 || status >= 500 || status === 408);
  const kind = quota ? quotaKind(message) : undefined;
  const resetsAtMs = quota ? quotaResetMs(kind, parseRetryAfter(retryAfter, nowMs), nowMs) : undefined;
  const hint = quota
    ? quotaHint(kind, resetsAtMs)
    : status === 401
      ? ' (check the GTI API key)'
      : status === 403
        ? ' (the key lacks access to the IOC Stream)'
        : '';
  return new GtiApiError(`GTI answered ${status}${vtCode ? ` ${vtCode}` : ''}: ${message}${hint}`, {
    status,
    ...(vtCode ? { vtCode } : {}),
    retryable,
    ...(retryable ? { retryAfterMs: parseRetryAfter(retryAfter, nowMs) } : {}),
    ...(kind ? { quota: kind } : {}),
    ...(resetsAtMs !== undefined ? { resetsAtMs } : {}),
  });
}
