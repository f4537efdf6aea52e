/**
 * Loopback GTI / VirusTotal `GET /api/v3/ioc_stream` simulator over a Dataset.
 *
 * Speaks GTI's wire format: filter terms, order date+|date-, limit 1..40, cursor, descriptors_only,
 * VT-shaped errors. Pages are streamed out item by item (each item serialised once).
 *
 * Sources of what it does (VirusTotal API v3 documentation, cited below):
 * - [IOC] "Get objects from the IoC Stream", https://docs.virustotal.com/reference/get-objects-from-the-ioc-stream:
 *   the endpoint, `filter` terms (date, origin, entity_type, entity_id, source_type, source_id,
 *   notification_tag), `order` date-|date+ (default date-), `limit` (default 10, max 40), `cursor`,
 *   `descriptors_only`, the item types and their context attributes.
 * - [COLL] "Collections", https://docs.virustotal.com/reference/collections: a page is
 *   `{data, meta: {cursor}, links: {self, next}}`; the last page has no cursor and no next link.
 * - [OBJ] "Objects", https://docs.virustotal.com/reference/objects: a descriptor is the (type, id) pair.
 * - [ERR] "Errors", https://docs.virustotal.com/reference/errors: `{"error": {"code", "message"}}`
 *   and the code of each status (400 BadRequestError / InvalidArgumentError, 401
 *   AuthenticationRequiredError / WrongCredentialsError, 403 ForbiddenError, 404 NotFoundError,
 *   429 QuotaExceededError / TooManyRequestsError, 503 TransientError, 504 DeadlineExceededError).
 * - [AUTH] "Authentication", https://docs.virustotal.com/reference/authentication: the `x-apikey` header;
 *   [ERR] gives the missing-header answer (401 AuthenticationRequiredError "X-Apikey header is missing").
 * *Unconfirmed* (no public source; configurable where a client could depend on it): whether `date:X+` /
 * `date:X-` include X (`dateFilterInclusive`); date forms other than `YYYY-MM-DDTHH:MM:SS`; the cursor's
 * format and its binding to the query (ours: opaque base64url, refused with another query); which 400 code
 * a bad filter, order, limit or cursor gets; whether descriptors keep `context_attributes`
 * (`descriptorsWithContext`); `meta.count`; a `Retry-After` header on 429 (sent only when a fault sets it);
 * a code for 500 (none documented: InternalError here). Not simulated: the 7-day retention
 * (https://gtidocs.virustotal.com/docs/ioc-stream) and DELETE.
 */
import { once } from 'node:events';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Notification } from '../shared/gti/notification.js';
import type { Dataset } from './dataset.js';
import { sendJson } from './http_util.js';

/** An injected failure. The body is VT's error shape [ERR] unless `body` replaces it. */
export interface GtiFault {
  status: number;
  /**
   * The VT error code in the body. Default: DEFAULT_ERROR_CODE for the status; a 429 defaults to
   * TooManyRequestsError (back off and retry). Use QuotaExceededError for a used-up quota [ERR].
   */
  code?: string;
  message?: string;
  /** A `Retry-After` header value in seconds. VT does not document one (*unconfirmed*): only when set. */
  retryAfterSeconds?: number;
  body?: unknown;
  headers?: Record<string, string>;
}

export interface GtiSimulatorOptions {
  dataset: Dataset;
  /**
   * If set, `x-apikey` must equal it (else 401 WrongCredentialsError); a missing header is 401
   * AuthenticationRequiredError [AUTH] [ERR].
   */
  apiKey?: string;
  port?: number;
  /** Default 127.0.0.1. */
  host?: string;
  /** Delay before each response. */
  latencyMs?: number;
  /**
   * Default true: `date:X+` means >= X and `date:X-` means <= X; false makes both strict. Which one GTI
   * does is *unconfirmed* (clients overlap by a second and de-duplicate, so both must work).
   */
  dateFilterInclusive?: boolean;
  /**
   * Default true: a `descriptors_only` item is `{type, id, links, context_attributes}`; false: the bare
   * descriptor `{type, id}` [OBJ]. What GTI keeps beside the (type, id) pair is *unconfirmed*.
   */
  descriptorsWithContext?: boolean;
  /**
   * A quota of this many API requests: once used up, every further request answers 429
   * QuotaExceededError [ERR] (GTI's daily quota resets at 00:00 UTC; the simulator never resets it).
   */
  quotaRequests?: number;
  /**
   * Default false. True: every item is serialised once, up front (before the server listens), and its
   * JSON bytes are kept, so serving a page is a copy of cached bytes (benchmarks: the fake's CPU
   * shares the cores with the sync under test). Costs memory in the simulator process: the whole
   * dataset's JSON. Descriptor-only pages are still built per request.
   */
  cacheItems?: boolean;
  /** Injected failures; `n` counts every request, 1-based. */
  fault?: (request: { n: number; url: URL }) => GtiFault | undefined;
}

export interface GtiRequestRecord {
  url: string;
  status: number;
  apiKeyPresent: boolean;
}

export interface GtiSimulator {
  /** e.g. http://127.0.0.1:PORT/api/v3 */
  readonly baseUrl: string;
  readonly requests: GtiRequestRecord[];
  /** notification_id -> times served. */
  readonly servedIds: Map<string, number>;
  close(): Promise<void>;
}

export const GTI_MAX_LIMIT = 40;
const COMMA = Buffer.from(',');
export const GTI_DEFAULT_LIMIT = 10;

/**
 * VT's 429 codes [ERR]: a minute, daily or monthly quota is used up / too many requests at once. Written
 * here rather than imported from the client, so the stand-in states the API's facts on its own.
 */
export const QUOTA_EXCEEDED = 'QuotaExceededError';
export const TOO_MANY_REQUESTS = 'TooManyRequestsError';

/** The code an injected fault's body carries by default, per status [ERR]; 500 has none documented. */
export const DEFAULT_ERROR_CODE: Readonly<Record<number, string>> = {
  400: 'BadRequestError',
  401: 'WrongCredentialsError',
  403: 'ForbiddenError',
  404: 'NotFoundError',
  429: TOO_MANY_REQUESTS,
  500: 'InternalError',
  503: 'TransientError',
  504: 'DeadlineExceededError',
};

class GtiHttpError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
    this.name = 'GtiHttpError';
  }
}

type Predicate = (item: Notification) => boolean;

interface ParsedQuery {
  /** Inclusive lower bound on notification_date, if any. */
  minDate: number | undefined;
  /** Inclusive upper bound on notification_date, if any. */
  maxDate: number | undefined;
  predicates: Predicate[];
  order: 'date+' | 'date-';
  limit: number;
  cursor: number | undefined;
  descriptorsOnly: boolean;
  /** Canonical query identity the cursor is bound to. */
  identity: string;
}

/**
 * Parses a date filter value (without the trailing +/-). [IOC] shows `date:2026-01-31T10:00:00+`; the other
 * forms accepted here (with Z or an offset, a bare date, unix seconds) are *unconfirmed* leniency.
 */
export function parseFilterDate(value: string): number | undefined {
  if (/^\d+$/.test(value)) return Number(value);
  const hasZone = /(Z|[+-]\d{2}:?\d{2})$/i.test(value);
  const withZone = /^\d{4}-\d{2}-\d{2}$/.test(value) ? `${value}T00:00:00Z` : hasZone ? value : `${value}Z`;
  if (!/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?/.test(withZone)) return undefined;
  const ms = Date.parse(withZone);
  return Number.isFinite(ms) ? Math.floor(ms / 1000) : undefined;
}

function anySource(item: Notification, key: 'type' | 'id', value: string): boolean {
  return (item.context_attributes.sources ?? []).some((s) => s[key] === value);
}

function unquote(value: string): string {
  return value.length >= 2 && value.startsWith('"') && value.endsWith('"') ? value.slice(1, -1) : value;
}

/**
 * Reads the query [IOC]. Filter terms are space separated and combine with AND [IOC]; an unknown term
 * answers 400 BadRequestError (*unconfirmed*: GTI may ignore it or use another code).
 */
function parseQuery(url: URL, inclusive: boolean): ParsedQuery {
  const params = url.searchParams;
  const filter = (params.get('filter') ?? '').trim();
  let minDate: number | undefined;
  let maxDate: number | undefined;
  const predicates: Predicate[] = [];
  for (const term of filter === '' ? [] : filter.split(/\s+/)) {
    const colon = term.indexOf(':');
    if (colon <= 0) throw new GtiHttpError(400, 'BadRequestError', `Invalid filter term "${term}"`);
    const key = term.slice(0, colon).toLowerCase();
    const value = unquote(term.slice(colon + 1));
    switch (key) {
      case 'date': {
        const sign = value.slice(-1);
        const when = sign === '+' || sign === '-' ? parseFilterDate(value.slice(0, -1)) : undefined;
        if (when === undefined)
          throw new GtiHttpError(400, 'BadRequestError', `Invalid date filter "${term}"`);
        if (sign === '+') {
          const lower = inclusive ? when : when + 1;
          minDate = minDate === undefined ? lower : Math.max(minDate, lower);
        } else {
          const upper = inclusive ? when : when - 1;
          maxDate = maxDate === undefined ? upper : Math.min(maxDate, upper);
        }
        break;
      }
      case 'origin':
        predicates.push((n) => n.context_attributes.origin === value);
        break;
      case 'entity_type':
        predicates.push((n) => n.type === value);
        break;
      case 'entity_id':
        predicates.push((n) => n.id === value);
        break;
      // A notification with several sources matches when any of them does (*unconfirmed*).
      case 'source_type':
        predicates.push((n) => anySource(n, 'type', value));
        break;
      case 'source_id':
        predicates.push((n) => anySource(n, 'id', value));
        break;
      case 'notification_tag':
        predicates.push((n) => (n.context_attributes.tags ?? []).includes(value));
        break;
      default:
        throw new GtiHttpError(400, 'BadRequestError', `Unknown filter "${key}"`);
    }
  }

  // date- (newest first) is the default [IOC]; a bad value's 400 code is *unconfirmed*.
  const orderParam = params.get('order') ?? 'date-';
  if (orderParam !== 'date+' && orderParam !== 'date-') {
    throw new GtiHttpError(400, 'InvalidArgumentError', `Invalid order "${orderParam}": use date+ or date-`);
  }
  // Default 10, max 40 [IOC]; refusing rather than clamping an out-of-range limit is *unconfirmed*.
  const limitParam = params.get('limit');
  let limit = GTI_DEFAULT_LIMIT;
  if (limitParam !== null) {
    limit = /^-?\d+$/.test(limitParam.trim()) ? Number(limitParam) : Number.NaN;
    if (!Number.isInteger(limit) || limit < 1 || limit > GTI_MAX_LIMIT) {
      throw new GtiHttpError(
        400,
        'InvalidArgumentError',
        `limit must be between 1 and ${GTI_MAX_LIMIT}, got "${limitParam}"`,
      );
    }
  }
  const descriptors = (params.get('descriptors_only') ?? 'false').toLowerCase();
  const identity = JSON.stringify([filter, orderParam, descriptors]);
  const cursorParam = params.get('cursor');
  const cursor = cursorParam === null || cursorParam === '' ? undefined : decodeCursor(cursorParam, identity);
  return {
    minDate,
    maxDate,
    predicates,
    order: orderParam,
    limit,
    cursor,
    descriptorsOnly: descriptors === 'true' || descriptors === '1',
    identity,
  };
}

/**
 * The cursor is opaque to clients [COLL]; its format here (base64url JSON of the next index and the query)
 * and the refusal of a cursor used with another query are *unconfirmed*.
 */
function encodeCursor(index: number, identity: string): string {
  return Buffer.from(JSON.stringify({ i: index, q: identity })).toString('base64url');
}

function decodeCursor(cursor: string, identity: string): number {
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
  } catch {
    throw new GtiHttpError(400, 'InvalidArgumentError', 'Invalid cursor');
  }
  const record = parsed as { i?: unknown; q?: unknown } | null;
  if (
    record === null ||
    typeof record !== 'object' ||
    typeof record.i !== 'number' ||
    !Number.isInteger(record.i) ||
    record.i < 0
  ) {
    throw new GtiHttpError(400, 'InvalidArgumentError', 'Invalid cursor');
  }
  if (record.q !== identity)
    throw new GtiHttpError(400, 'InvalidArgumentError', 'Cursor does not match the query');
  return record.i;
}

/** First index in [0, size) whose date satisfies `ok` (monotone false..true), or size. */
function lowerBound(dataset: Dataset, ok: (date: number) => boolean): number {
  let lo = 0;
  let hi = dataset.size;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (ok(dataset.dateOf(mid))) hi = mid;
    else lo = mid + 1;
  }
  return lo;
}

function descriptor(item: Notification, withContext: boolean): unknown {
  if (!withContext) return { type: item.type, id: item.id };
  const out: Notification = { type: item.type, id: item.id, context_attributes: item.context_attributes };
  if (item.links) out.links = item.links;
  return out;
}

function errorBody(code: string, message: string): unknown {
  return { error: { code, message } };
}

export async function startGtiSimulator(options: GtiSimulatorOptions): Promise<GtiSimulator> {
  const { dataset } = options;
  const host = options.host ?? '127.0.0.1';
  const inclusive = options.dateFilterInclusive ?? true;
  const descriptorsWithContext = options.descriptorsWithContext ?? true;
  const requests: GtiRequestRecord[] = [];
  const servedIds = new Map<string, number>();
  let counter = 0;
  let baseUrl = '';
  // Pre-warmed cache (cacheItems): item i's JSON bytes and notification id.
  const cachedJson: Buffer[] = [];
  const cachedIds: string[] = [];
  if (options.cacheItems) {
    for (let i = 0; i < dataset.size; i++) {
      const item = dataset.get(i);
      cachedJson.push(Buffer.from(JSON.stringify(item)));
      cachedIds.push(item.context_attributes.notification_id);
    }
  }
  const cached = options.cacheItems === true;

  const quota = options.quotaRequests;
  const quotaFault = (n: number): GtiFault | undefined =>
    quota !== undefined && n > quota
      ? {
          status: 429,
          code: QUOTA_EXCEEDED,
          message: `Quota exceeded: ${quota} requests used (simulated; a daily quota resets at 00:00 UTC)`,
        }
      : undefined;

  const serve = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const url = new URL(req.url ?? '/', `http://${req.headers.host ?? host}`);
    // The simulator's own stats: not an API request (not counted, delayed or faulted).
    if (url.pathname === '/_stats' && req.method === 'GET') {
      let duplicates = 0;
      for (const times of servedIds.values()) duplicates += times - 1;
      sendJson(res, 200, { requests: requests.length, uniqueIds: servedIds.size, duplicates });
      return;
    }
    counter += 1;
    const n = counter;
    const apiKeyHeader = req.headers['x-apikey'];
    const record: GtiRequestRecord = {
      url: url.toString(),
      status: 0,
      apiKeyPresent: typeof apiKeyHeader === 'string',
    };
    requests.push(record);
    const reply = (status: number, body: unknown, headers?: Record<string, string>): void => {
      record.status = status;
      sendJson(res, status, body, headers);
    };
    if (options.latencyMs && options.latencyMs > 0)
      await new Promise((r) => setTimeout(r, options.latencyMs));

    const fault = options.fault?.({ n, url }) ?? quotaFault(n);
    if (fault) {
      const code = fault.code ?? DEFAULT_ERROR_CODE[fault.status] ?? 'InternalError';
      const headers: Record<string, string> = { ...fault.headers };
      if (fault.retryAfterSeconds !== undefined) headers['retry-after'] = String(fault.retryAfterSeconds);
      reply(
        fault.status,
        fault.body ?? errorBody(code, fault.message ?? `Injected fault ${fault.status}`),
        headers,
      );
      return;
    }
    // Only GET /api/v3/ioc_stream [IOC]; anything else is 404 NotFoundError [ERR].
    const path = url.pathname.replace(/\/+$/, '');
    if (req.method !== 'GET' || path !== '/api/v3/ioc_stream') {
      reply(404, errorBody('NotFoundError', `Resource not found: ${req.method} ${url.pathname}`));
      return;
    }
    if (options.apiKey !== undefined) {
      if (typeof apiKeyHeader !== 'string' || apiKeyHeader === '') {
        reply(401, errorBody('AuthenticationRequiredError', 'X-Apikey header is missing'));
        return;
      }
      if (apiKeyHeader !== options.apiKey) {
        reply(401, errorBody('WrongCredentialsError', 'Wrong API key'));
        return;
      }
    }
    let query: ParsedQuery;
    try {
      query = parseQuery(url, inclusive);
    } catch (error) {
      if (error instanceof GtiHttpError) {
        reply(error.status, errorBody(error.code, error.message));
        return;
      }
      throw error;
    }
    writePage(res, record, url, query);
  };

  const writePage = (res: ServerResponse, record: GtiRequestRecord, url: URL, q: ParsedQuery): void => {
    const { minDate, maxDate } = q;
    const lo = minDate === undefined ? 0 : lowerBound(dataset, (d) => d >= minDate);
    const hi = maxDate === undefined ? dataset.size : lowerBound(dataset, (d) => d > maxDate);
    // Ordered by notification_date [IOC]; ties keep dataset order (reversed for date-): *unconfirmed*.
    const ascending = q.order === 'date+';
    const step = ascending ? 1 : -1;
    let i = q.cursor ?? (ascending ? lo : hi - 1);
    const inRange = (index: number): boolean => index >= lo && index < hi;
    const matches = (item: Notification): boolean => q.predicates.every((p) => p(item));

    const page: Buffer[] = [];
    const ids: string[] = [];
    let next: number | undefined;
    const fromCache = cached && !q.descriptorsOnly;
    const filtered = q.predicates.length > 0;
    for (; inRange(i); i += step) {
      const item = fromCache && !filtered ? undefined : dataset.get(i);
      if (item !== undefined && !matches(item)) continue;
      if (page.length === q.limit) {
        next = i;
        break;
      }
      if (fromCache) {
        page.push(cachedJson[i] as Buffer);
        ids.push(cachedIds[i] as string);
      } else if (item !== undefined) {
        page.push(
          Buffer.from(JSON.stringify(q.descriptorsOnly ? descriptor(item, descriptorsWithContext) : item)),
        );
        ids.push(item.context_attributes.notification_id);
      }
    }

    // {data, meta: {cursor}, links: {self, next}}, no cursor or next on the last page [COLL];
    // meta.count (REFERENCE.md) is *unconfirmed* by a public page.
    const selfUrl = `${baseUrl}/ioc_stream${url.search}`;
    const links: Record<string, string> = { self: selfUrl };
    const meta: Record<string, unknown> = { count: page.length };
    if (next !== undefined) {
      const cursor = encodeCursor(next, q.identity);
      const nextParams = new URLSearchParams(url.searchParams);
      nextParams.set('cursor', cursor);
      links.next = `${baseUrl}/ioc_stream?${nextParams.toString()}`;
      meta.cursor = cursor;
    }

    record.status = 200;
    res.writeHead(200, { 'content-type': 'application/json; charset=utf-8' });
    // One write per page: items were serialised once each; the concat is a single copy.
    const parts: Buffer[] = [Buffer.from('{"data":[')];
    for (let k = 0; k < page.length; k++) {
      if (k > 0) parts.push(COMMA);
      parts.push(page[k] as Buffer);
    }
    parts.push(Buffer.from(`],"meta":${JSON.stringify(meta)},"links":${JSON.stringify(links)}}`));
    res.end(Buffer.concat(parts));
    for (const id of ids) servedIds.set(id, (servedIds.get(id) ?? 0) + 1);
  };

  const server: Server = createServer((req, res) => {
    serve(req, res).catch((error: unknown) => {
      if (!res.headersSent) sendJson(res, 500, errorBody('InternalError', String(error)));
      else res.destroy();
    });
  });
  server.keepAliveTimeout = 30_000;
  server.listen(options.port ?? 0, host);
  await once(server, 'listening');
  const address = server.address() as AddressInfo;
  baseUrl = `http://${host}:${address.port}/api/v3`;

  return {
    baseUrl,
    requests,
    servedIds,
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.close((error) => (error ? reject(error) : resolve()));
        server.closeAllConnections();
      }),
  };
}
