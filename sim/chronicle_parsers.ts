/**
 * The SecOps API endpoints of the deploy path, for the loopback Chronicle simulator
 * (`startChronicleSimulator({ route: parsers.route })`): log types, parsers and runParser. With it,
 * `doctor`, `parser install` and `parser validate` run end to end against the simulator.
 *
 *   GET  /{v}/projects/{p}/locations/{r}/instances/{c}/logTypes/{logType}
 *        Chronicle REST reference, logTypes.get: answers a LogType {name, displayName}.
 *        A log type that was not created answers 404 NOT_FOUND (*unconfirmed*: the reference names
 *        no error; Google's APIs answer a missing resource with google.rpc NOT_FOUND).
 *   GET  …/logTypes/{logType|-}/parsers?pageSize&pageToken
 *        Reference, parsers.list (`-` is the documented wildcard): {parsers: [Parser], nextPageToken}
 *        (nextPageToken omitted on the last page). Default page size 50 (*unconfirmed*).
 *   POST …/logTypes/{logType}/parsers  {cbn: base64, validated_on_empty_logs: bool}
 *        Reference, parsers.create (body: a Parser); the body fields as secops-wrapper's
 *        create_parser sends them (src/secops/chronicle/parser.py). Answers the new Parser, state
 *        INACTIVE (*unconfirmed*: the reference only says state is output only), type CUSTOM.
 *   POST …/logTypes/{logType}/parsers/{id}:activate  {}
 *        Reference, parsers.activate: "This will set the Parser state to ACTIVE"; answers {}.
 *        The log type's other parsers become INACTIVE (*unconfirmed*: one live parser per log type).
 *   POST …/logTypes/{logType}:runParser  {parser: {cbn}, log: [base64], statedumpAllowed}
 *        Reference, logTypes.runParser; secops-wrapper run_parser. Answers {runParserResults: [...]},
 *        one per log in order. It cannot execute a parser: it looks each log's exact bytes up in a
 *        table the test fills (setEvents), and answers a per-log error for an unknown log.
 *   POST …/logTypes/{logType}/logs:import  into a log type that was not created: 404 NOT_FOUND
 *        (*unconfirmed*, as the README's troubleshooting table describes). Imports into an existing
 *        log type go on to the simulator; those made while the log type has no ACTIVE parser are
 *        counted (SecOps would store them unparsed).
 * Parser enum values ACTIVE / INACTIVE: the Parser resource's State (Chronicle REST reference; the
 * Pulumi google provider lists the same two). JSON keys: camelCase answers, both cases accepted.
 * Every request needs `Authorization: Bearer …` (else 401 UNAUTHENTICATED) and is recorded with its
 * `x-goog-user-project` header (google-auth-library adds it for user credentials).
 */
import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { sendJson } from './http_util.js';

export const PARSER_STATES = ['ACTIVE', 'INACTIVE'] as const;

export interface SimulatedParser {
  readonly name: string;
  readonly id: string;
  readonly logType: string;
  /** base64 parser text, as created. */
  readonly cbn: string;
  state: (typeof PARSER_STATES)[number];
  readonly createTime: string;
  readonly validatedOnEmptyLogs: boolean;
}

export interface ChronicleApiRequest {
  readonly method: string;
  /** Path without the query. */
  readonly path: string;
  readonly query: string;
  readonly authorization: string | undefined;
  readonly userProject: string | undefined;
  /** Parsed JSON body (POST), undefined otherwise or when it was not JSON. */
  readonly body: unknown;
  status: number;
}

export interface RunParserEvent {
  readonly event: unknown;
}

export interface RpcFault {
  readonly status: number;
  readonly rpcStatus: string;
  readonly message: string;
}

export interface ChronicleParsersOptions {
  /** Log types that exist from the start (as if created in SecOps). Default: none. */
  readonly logTypes?: Iterable<string>;
}

export interface ChronicleParsers {
  readonly logTypes: ReadonlySet<string>;
  readonly parsers: readonly SimulatedParser[];
  /** Every request this module answered or looked at (imports included), in order. */
  readonly requests: readonly ChronicleApiRequest[];
  /** logs:import requests accepted for a log type without an ACTIVE parser. */
  readonly importsWithoutActiveParser: number;
  /** Creates a log type, as SIEM Settings → Available log types → custom log type does. */
  createLogType(logType: string): void;
  /** The parser of the log type in state ACTIVE, if any. */
  activeParser(logType: string): SimulatedParser | undefined;
  /** runParser: the events a log's exact bytes yield. */
  setEvents(log: Buffer, events: readonly RunParserEvent[]): void;
  /** runParser: forget a log, which then answers a per-log error as for a parser failure. */
  forget(log: Buffer): void;
  /**
   * Answer the requests of this module (all, or those `when` picks) with this error until cleared
   * (undefined). Imports are never faulted here (the simulator's own `fault` option does that).
   */
  failWith(fault: RpcFault | undefined, when?: (request: { method: string; path: string }) => boolean): void;
  /** The simulator hook: `startChronicleSimulator({ route })`. */
  readonly route: (req: IncomingMessage, res: ServerResponse, url: URL) => Promise<boolean>;
}

const PREFIX = '^/(v1alpha|v1beta|v1)/projects/([^/]+)/locations/([^/]+)/instances/([^/]+)/logTypes/([^/:]+)';
const LOG_TYPE_PATH = new RegExp(`${PREFIX}$`);
const PARSERS_PATH = new RegExp(`${PREFIX}/parsers$`);
const ACTIVATE_PATH = new RegExp(`${PREFIX}/parsers/([^/:]+):activate$`);
const RUN_PARSER_PATH = new RegExp(`${PREFIX}:runParser$`);
const IMPORT_PATH = new RegExp(`${PREFIX}/logs:import$`);
const DEFAULT_PAGE_SIZE = 50;
const MAX_BODY_BYTES = 8_000_000;

function rpc(res: ServerResponse, status: number, rpcStatus: string, message: string): void {
  sendJson(res, status, { error: { code: status, message, status: rpcStatus } });
}

async function readJson(req: IncomingMessage): Promise<{ ok: true; value: unknown } | { ok: false }> {
  const chunks: Buffer[] = [];
  let bytes = 0;
  for await (const chunk of req) {
    bytes += (chunk as Buffer).length;
    if (bytes <= MAX_BODY_BYTES) chunks.push(chunk as Buffer);
  }
  if (bytes > MAX_BODY_BYTES) return { ok: false };
  const text = Buffer.concat(chunks).toString('utf8');
  if (text.trim() === '') return { ok: true, value: undefined };
  try {
    return { ok: true, value: JSON.parse(text) as unknown };
  } catch {
    return { ok: false };
  }
}

function isBase64(value: unknown): value is string {
  return typeof value === 'string' && value.length % 4 === 0 && /^[A-Za-z0-9+/]*={0,2}$/.test(value);
}

function pick(body: Record<string, unknown>, camel: string, snake: string): unknown {
  return body[camel] !== undefined ? body[camel] : body[snake];
}

export function createChronicleParsers(options: ChronicleParsersOptions = {}): ChronicleParsers {
  const logTypes = new Set<string>(options.logTypes ?? []);
  const parsers: SimulatedParser[] = [];
  const requests: ChronicleApiRequest[] = [];
  const table = new Map<string, readonly RunParserEvent[]>();
  let fault: { fault: RpcFault; when: (request: { method: string; path: string }) => boolean } | undefined;
  let importsWithoutActiveParser = 0;

  const activeParser = (logType: string) =>
    parsers.find((p) => p.logType === logType && p.state === 'ACTIVE');
  const view = (p: SimulatedParser) => ({
    name: p.name,
    type: 'CUSTOM',
    state: p.state,
    cbn: p.cbn,
    createTime: p.createTime,
    validatedOnEmptyLogs: p.validatedOnEmptyLogs,
  });

  const route = async (req: IncomingMessage, res: ServerResponse, url: URL): Promise<boolean> => {
    const path = url.pathname;
    const method = req.method ?? '';
    const importMatch = method === 'POST' ? IMPORT_PATH.exec(path) : null;
    const matched =
      importMatch ??
      (method === 'GET' ? (LOG_TYPE_PATH.exec(path) ?? PARSERS_PATH.exec(path)) : null) ??
      (method === 'POST'
        ? (PARSERS_PATH.exec(path) ?? ACTIVATE_PATH.exec(path) ?? RUN_PARSER_PATH.exec(path))
        : null);
    if (!matched) return false;
    const logType = decodeURIComponent(matched[5] ?? '');
    const known = logTypes.has(logType);

    if (importMatch) {
      // Imports go on to the simulator unless the log type does not exist; the body stays unread.
      const record: ChronicleApiRequest = {
        method,
        path,
        query: url.search,
        authorization: req.headers.authorization,
        userProject: header(req, 'x-goog-user-project'),
        body: undefined,
        status: known ? 0 : 404,
      };
      requests.push(record);
      if (known) {
        if (!activeParser(logType)) importsWithoutActiveParser += 1;
        return false;
      }
      await drain(req);
      rpc(res, 404, 'NOT_FOUND', `Log type "${logType}" not found.`);
      return true;
    }

    const parsed = method === 'POST' ? await readJson(req) : { ok: true as const, value: undefined };
    if (method === 'GET') await drain(req);
    const record: ChronicleApiRequest = {
      method,
      path,
      query: url.search,
      authorization: req.headers.authorization,
      userProject: header(req, 'x-goog-user-project'),
      body: parsed.ok ? parsed.value : undefined,
      status: 0,
    };
    requests.push(record);
    const fail = (status: number, rpcStatus: string, message: string): true => {
      record.status = status;
      rpc(res, status, rpcStatus, message);
      return true;
    };
    const ok = (body: unknown): true => {
      record.status = 200;
      sendJson(res, 200, body);
      return true;
    };

    if (fault?.when({ method, path }))
      return fail(fault.fault.status, fault.fault.rpcStatus, fault.fault.message);
    if (!/^Bearer\s+\S+$/i.test(req.headers.authorization ?? '')) {
      return fail(401, 'UNAUTHENTICATED', 'Request is missing required authentication credential.');
    }
    if (!parsed.ok) return fail(400, 'INVALID_ARGUMENT', 'Invalid JSON payload received.');
    const body = (parsed.value ?? {}) as Record<string, unknown>;
    if (typeof body !== 'object' || body === null || Array.isArray(body)) {
      return fail(400, 'INVALID_ARGUMENT', 'Request body must be a JSON object.');
    }
    const parent = path.replace(/^\/[^/]+\//, '').replace(/(\/parsers.*|:runParser)$/, '');
    if (logType !== '-' && !known) return fail(404, 'NOT_FOUND', `Log type "${logType}" not found.`);

    if (method === 'GET' && LOG_TYPE_PATH.test(path)) {
      return ok({ name: parent, displayName: logType });
    }
    if (method === 'GET') {
      const size = url.searchParams.get('pageSize');
      const pageSize = size === null ? DEFAULT_PAGE_SIZE : Number(size);
      if (!Number.isInteger(pageSize) || pageSize < 1 || pageSize > 1000) {
        return fail(400, 'INVALID_ARGUMENT', 'page_size must be between 1 and 1000.');
      }
      const token = url.searchParams.get('pageToken');
      const start = token === null || token === '' ? 0 : Number(token);
      if (!Number.isInteger(start) || start < 0) return fail(400, 'INVALID_ARGUMENT', 'Invalid page token.');
      const all = parsers.filter((p) => logType === '-' || p.logType === logType);
      const page = all.slice(start, start + pageSize);
      return ok({
        parsers: page.map(view),
        ...(start + pageSize < all.length ? { nextPageToken: String(start + pageSize) } : {}),
      });
    }
    if (PARSERS_PATH.test(path)) {
      const cbn = body.cbn;
      if (!isBase64(cbn) || Buffer.from(cbn, 'base64').toString('utf8').trim() === '') {
        return fail(400, 'INVALID_ARGUMENT', 'parser.cbn must be non-empty base64.');
      }
      const validated = pick(body, 'validatedOnEmptyLogs', 'validated_on_empty_logs');
      const id = randomUUID();
      const parser: SimulatedParser = {
        name: `${parent}/parsers/${id}`,
        id,
        logType,
        cbn,
        state: 'INACTIVE',
        createTime: new Date().toISOString(),
        validatedOnEmptyLogs: validated === true,
      };
      parsers.push(parser);
      return ok(view(parser));
    }
    const activate = ACTIVATE_PATH.exec(path);
    if (activate) {
      const parser = parsers.find((p) => p.logType === logType && p.id === activate[6]);
      if (!parser) return fail(404, 'NOT_FOUND', `Parser "${activate[6]}" not found.`);
      for (const other of parsers) if (other.logType === logType) other.state = 'INACTIVE';
      parser.state = 'ACTIVE';
      return ok({});
    }
    // runParser
    const parser = body.parser as { cbn?: unknown } | undefined;
    const logs = body.log;
    if (!isBase64(parser?.cbn) || Buffer.from(parser.cbn, 'base64').toString('utf8').trim() === '') {
      return fail(400, 'INVALID_ARGUMENT', 'parser.cbn is required');
    }
    if (!Array.isArray(logs) || logs.length === 0 || !logs.every(isBase64)) {
      return fail(400, 'INVALID_ARGUMENT', 'log must be a non-empty list of base64 strings');
    }
    const runParserResults = logs.map((b64) => {
      const events = table.get(Buffer.from(b64, 'base64').toString('hex'));
      if (!events)
        return { log: b64, error: { code: 3, message: 'simulator: no events recorded for this log' } };
      return { log: b64, parsedEvents: { events } };
    });
    return ok({ runParserResults });
  };

  return {
    logTypes,
    parsers,
    requests,
    get importsWithoutActiveParser() {
      return importsWithoutActiveParser;
    },
    createLogType: (logType) => {
      logTypes.add(logType);
    },
    activeParser,
    setEvents: (log, events) => {
      table.set(log.toString('hex'), events);
    },
    forget: (log) => {
      table.delete(log.toString('hex'));
    },
    failWith: (f, when = () => true) => {
      fault = f === undefined ? undefined : { fault: f, when };
    },
    route,
  };
}

/** Reads and drops a body, so the client sees the answer rather than a reset. */
async function drain(req: IncomingMessage): Promise<void> {
  for await (const _ of req) {
    // nothing to keep
  }
}

function header(req: IncomingMessage, name: string): string | undefined {
  const value = req.headers[name];
  return Array.isArray(value) ? value[0] : value;
}
