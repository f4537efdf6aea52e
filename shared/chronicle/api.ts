/**
 * The SecOps (Chronicle) API calls of the deploy path, besides logs:import: the log type, its
 * parsers (list, create, activate) and runParser's transport. Same base URL, version, instance path
 * and credentials as logs:import (client.ts, auth.ts); errors typed the same way (chronicleError).
 *
 * Wire format, from the Chronicle REST reference (v1alpha; the parser methods are also under v1beta
 * and v1, logTypes.get under v1alpha and v1) and Google's secops-wrapper SDK
 * (src/secops/chronicle/parser.py, log_types.py):
 *   GET  {base}/{version}/{instance}/logTypes/{logType}                 -> LogType {name, displayName}
 *   GET  {base}/{version}/{instance}/logTypes/{logType}/parsers         -> {parsers: [Parser], nextPageToken}
 *        ?pageSize&pageToken
 *   POST {base}/{version}/{instance}/logTypes/{logType}/parsers         {cbn: base64, validated_on_empty_logs}
 *                                                                       -> Parser
 *   POST {base}/{version}/{parser name}:activate                        {} -> {}
 * Parser: {name: ".../logTypes/{logType}/parsers/{id}", state: ACTIVE | INACTIVE, cbn, createTime, ...}.
 * GETs and activate are retried on 408/429/5xx and network errors (they change nothing or are
 * idempotent); create is never retried (a retried create could leave two parsers).
 */
import got, { HTTPError, RequestError } from 'got';
import { ChroniclePermanentError, ChronicleRetryableError, ValidationError } from '../core/errors.js';
import { describeErrorBody, USER_AGENT } from '../core/http.js';
import { redact } from '../core/redact.js';
import { type AccessTokenProvider, type AuthHeaders, authHeaders } from './auth.js';
import { chronicleError } from './client.js';
import { type ChronicleTarget, instanceName, logTypeUrl } from './resources.js';

export interface HttpSettings {
  readonly timeoutMs: number;
  /** Attempts in total (1 = no retry); applies only to calls that are safe to repeat. */
  readonly maxAttempts: number;
}

export interface ChronicleRequest {
  /** The method's name for messages, e.g. `parsers.create`. */
  readonly what: string;
  /** The IAM permission the REST reference names for it, for a 403's message. */
  readonly permission?: string;
  readonly method: 'GET' | 'POST';
  readonly url: string;
  readonly body?: unknown;
  /**
   * Whether sending the request twice is harmless: `true` retries 408/429/5xx and network errors;
   * `'unprocessed'` only answers that say the request was not processed (429, 503), for calls that
   * create something; `false` never retries.
   */
  readonly repeatable: boolean | 'unprocessed';
}

const RETRY_STATUS = [408, 429, 500, 502, 503, 504];
/** Answers that say the request was not processed, so even a create may be sent again. */
const UNPROCESSED_STATUS = [429, 503];
const RETRY_ERRORS = [
  'ETIMEDOUT',
  'ECONNRESET',
  'EADDRINUSE',
  'ECONNREFUSED',
  'EPIPE',
  'ENOTFOUND',
  'EAI_AGAIN',
];

/** Sends one Chronicle API request and returns its JSON answer, or throws a typed ChronicleError. */
export async function chronicleRequest(
  request: ChronicleRequest,
  headers: AuthHeaders,
  http: HttpSettings,
): Promise<unknown> {
  try {
    return await got(request.url, {
      method: request.method,
      ...(request.body === undefined ? {} : { json: request.body }),
      headers: { ...headers, 'user-agent': USER_AGENT },
      responseType: 'json',
      followRedirect: false,
      timeout: { request: http.timeoutMs },
      retry: request.repeatable
        ? {
            limit: Math.max(0, http.maxAttempts - 1),
            methods: [request.method],
            statusCodes: request.repeatable === 'unprocessed' ? UNPROCESSED_STATUS : RETRY_STATUS,
            errorCodes: request.repeatable === 'unprocessed' ? [] : RETRY_ERRORS,
            maxRetryAfter: http.timeoutMs * 2,
          }
        : { limit: 0 },
    }).json<unknown>();
  } catch (error) {
    if (error instanceof HTTPError) {
      const raw = error.response.body;
      const body = typeof raw === 'string' ? raw : JSON.stringify(raw ?? '');
      const status = error.response.statusCode;
      const typed = chronicleError(status, body, error.response.headers['retry-after']);
      const hint =
        status === 403 && request.permission !== undefined
          ? ` (the caller needs ${request.permission} on the SecOps instance)`
          : status === 404
            ? ' (check CHRONICLE_PROJECT_ID, CHRONICLE_REGION, CHRONICLE_CUSTOMER_ID, CHRONICLE_LOG_TYPE)'
            : '';
      const rpc = typed.rpcStatus === undefined ? '' : ` ${typed.rpcStatus}`;
      typed.message = redact(
        `${request.what} failed: Chronicle answered ${status}${rpc}: ${describeErrorBody(body).message}${hint}`,
      );
      throw typed;
    }
    const code = error instanceof RequestError ? error.code : 'ERR_NETWORK';
    const message = redact(error instanceof Error ? error.message : String(error));
    throw new ChronicleRetryableError(`${request.what} failed (${code}): ${message}`, {});
  }
}

export const PARSER_STATE_ACTIVE = 'ACTIVE';

export interface ParserResource {
  /** Full resource name, `projects/…/logTypes/{logType}/parsers/{id}`. */
  readonly name: string;
  readonly id: string;
  /** `ACTIVE`, `INACTIVE`, or undefined when the answer has none. */
  readonly state: string | undefined;
  /** The parser text (decoded `cbn`), when the answer carries it. */
  readonly text: string | undefined;
  readonly createTime: string | undefined;
}

export interface LogTypeResource {
  readonly name: string;
  readonly displayName: string | undefined;
}

export function parsersUrl(t: ChronicleTarget): string {
  return logTypeUrl(t, '/parsers');
}

/** The activate URL of a parser of this target's log type (the id is checked before use). */
export function activateUrl(t: ChronicleTarget, parserId: string): string {
  return `${parsersUrl(t)}/${parserId}:activate`;
}

/** The create request's body, as secops-wrapper's create_parser sends it. */
export function createParserBody(parserText: string): { cbn: string; validated_on_empty_logs: boolean } {
  return { cbn: Buffer.from(parserText, 'utf8').toString('base64'), validated_on_empty_logs: true };
}

const PARSER_ID = /^[A-Za-z0-9_-]{1,128}$/;
/** Guard against an answer that never stops paging. */
const MAX_PAGES = 100;

function record(value: unknown): Record<string, unknown> | undefined {
  return value !== null && typeof value === 'object' && !Array.isArray(value)
    ? (value as Record<string, unknown>)
    : undefined;
}

/** Reads one Parser of the answer; accepts camelCase and snake_case keys. */
export function parseParser(value: unknown, logType: string): ParserResource {
  const p = record(value);
  const name = p?.name;
  if (typeof name !== 'string') throw new ValidationError('Chronicle answered a parser without a name');
  const m = /\/logTypes\/([^/]+)\/parsers\/([^/]+)$/.exec(name);
  if (!m || m[1] !== logType || !PARSER_ID.test(m[2] ?? '')) {
    throw new ValidationError(`Chronicle answered an unexpected parser name "${name.slice(0, 200)}"`);
  }
  const cbn = p?.cbn;
  const createTime = p?.createTime ?? p?.create_time;
  return {
    name,
    id: m[2] ?? '',
    state: typeof p?.state === 'string' ? p.state : undefined,
    text: typeof cbn === 'string' ? Buffer.from(cbn, 'base64').toString('utf8') : undefined,
    createTime: typeof createTime === 'string' ? createTime : undefined,
  };
}

export interface ChronicleAdminOptions {
  readonly target: ChronicleTarget;
  readonly getToken: AccessTokenProvider;
  readonly http: HttpSettings;
}

export interface ChronicleAdmin {
  readonly target: ChronicleTarget;
  /** logTypes.get: throws ChroniclePermanentError (status 404) when the log type does not exist. */
  getLogType(): Promise<LogTypeResource>;
  /** parsers.list of the configured log type, every page. */
  listParsers(): Promise<ParserResource[]>;
  /** parsers.create (never retried). */
  createParser(parserText: string): Promise<ParserResource>;
  /** parsers.activate. */
  activateParser(parserId: string): Promise<void>;
}

export function createChronicleAdmin(options: ChronicleAdminOptions): ChronicleAdmin {
  const { target, http } = options;
  const call = async (request: ChronicleRequest): Promise<unknown> =>
    chronicleRequest(request, await authHeaders(options.getToken), http);
  return {
    target,
    async getLogType() {
      const answer = record(
        await call({ what: 'logTypes.get', method: 'GET', url: logTypeUrl(target, ''), repeatable: true }),
      );
      const displayName = answer?.displayName ?? answer?.display_name;
      return {
        name:
          typeof answer?.name === 'string'
            ? answer.name
            : `${instanceName(target)}/logTypes/${target.logType}`,
        displayName: typeof displayName === 'string' ? displayName : undefined,
      };
    },
    async listParsers() {
      const parsers: ParserResource[] = [];
      const seen = new Set<string>();
      let token: string | undefined;
      for (let page = 0; page < MAX_PAGES; page++) {
        const query = new URLSearchParams({ pageSize: '100', ...(token ? { pageToken: token } : {}) });
        const answer = record(
          await call({
            what: 'parsers.list',
            permission: 'chronicle.parsers.list',
            method: 'GET',
            url: `${parsersUrl(target)}?${query}`,
            repeatable: true,
          }),
        );
        const list = answer?.parsers;
        if (list !== undefined && !Array.isArray(list))
          throw new ValidationError('Chronicle answered a parser list that is not a list');
        for (const item of list ?? []) parsers.push(parseParser(item, target.logType));
        const next = answer?.nextPageToken ?? answer?.next_page_token;
        if (typeof next !== 'string' || next === '') return parsers;
        if (seen.has(next)) throw new ValidationError('Chronicle repeated a parser list page token');
        seen.add(next);
        token = next;
      }
      throw new ValidationError(`Chronicle's parser list did not end after ${MAX_PAGES} pages`);
    },
    async createParser(parserText) {
      const answer = await call({
        what: 'parsers.create',
        permission: 'chronicle.parsers.create',
        method: 'POST',
        url: parsersUrl(target),
        body: createParserBody(parserText),
        repeatable: false,
      });
      return parseParser(answer, target.logType);
    },
    async activateParser(parserId) {
      if (!PARSER_ID.test(parserId))
        throw new ValidationError(`Not a parser id: "${parserId.slice(0, 200)}"`);
      await call({
        what: 'parsers.activate',
        permission: 'chronicle.parsers.activate',
        method: 'POST',
        url: activateUrl(target, parserId),
        body: {},
        repeatable: true,
      });
    },
  };
}

/** True for the error logTypes.get / parsers.* answer when the resource does not exist. */
export function isNotFound(error: unknown): boolean {
  return error instanceof ChroniclePermanentError && error.status === 404;
}
