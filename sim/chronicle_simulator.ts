/**
 * Loopback Chronicle (Google SecOps) `logs:import` and `entities:import` simulator: validates
 * requests as the public reference describes them, answers google.rpc-shaped errors, and records
 * what was accepted. entities:import is checked and recorded by sim/chronicle_entities.ts (its own
 * sources there), behind the same bearer-token, size-limit, latency and fault handling as logs.
 *
 * Sources, per behaviour (anything else is marked *unconfirmed* where it is implemented):
 * - Endpoint and versions: `POST {base}/{v1alpha|v1beta}/projects/{p}/locations/{r}/instances/{i}/
 *   logTypes/{t}/logs:import`, body `{"inlineSource":{"logs":[Log],"forwarder"}}`, success = empty
 *   body: https://cloud.google.com/chronicle/docs/reference/rest/v1alpha/projects.locations.instances.logTypes.logs/import
 *   and https://cloud.google.com/chronicle/docs/reference/rest/v1beta/projects.locations.instances.logTypes.logs/import
 *   (the googleapis `chronicle/v1` protos have no ImportLogs). Any other path answers 404.
 * - Log fields: `data` (bytes, base64), `logEntryTime` and `collectionTime` (RFC 3339 Timestamps,
 *   offsets accepted), collectionTime "Must be after the logEntryTime", `environmentNamespace`,
 *   `labels` (map of LogLabel `{value}`):
 *   https://cloud.google.com/chronicle/docs/reference/rest/v1alpha/projects.locations.instances.logTypes.logs#Log
 *   Whether the service *enforces* the ordering is *unconfirmed* (`requireCollectionAfterEntry`).
 * - camelCase or snake_case field names: the proto3 JSON mapping accepts both
 *   (https://protobuf.dev/programming-guides/proto3/#json).
 * - Error body `{"error":{"code","message","status"}}`: https://cloud.google.com/apis/design/errors
 *   (the message texts here are *unconfirmed*; inject other answers with `fault`).
 * - Oversized body: Google APIs answer 400 INVALID_ARGUMENT "Request payload size exceeds the limit:
 *   N bytes." (googleapis/google-cloud-go#9479, GoogleCloudPlatform/pubsub#253); a front end may
 *   answer 413 instead (googleapis/google-cloud-ruby#31568): `oversizeStatus`. The 4 MB limit is the
 *   original script's and fluent-bit's figure, stated by no Google page: *unconfirmed*
 *   (`maxRequestBytes`).
 */
import { once } from 'node:events';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import {
  type ChronicleDashboardOptions,
  type ChronicleDashboards,
  createDashboardImportHandler,
} from './chronicle_dashboards.js';
import {
  createEntityRecorder,
  type EntitiesImportTarget,
  type EntityImportOptions,
  type EntityImportRecorder,
  handleEntitiesImport,
  matchEntitiesImport,
} from './chronicle_entities.js';
import { sendJson } from './http_util.js';

export interface ChronicleFault {
  status: number;
  rpcStatus?: string;
  message?: string;
  headers?: Record<string, string>;
  /**
   * The whole JSON answer instead of the google.rpc error built from the fields above: e.g. a
   * google.rpc Status with `details` (googleapis google/rpc/status.proto), or a 200 whose body is
   * not logs:import's empty success answer. The request is still recorded as not imported.
   */
  body?: unknown;
}

export interface ChronicleSimulatorOptions {
  port?: number;
  /** Default 127.0.0.1. */
  host?: string;
  latencyMs?: number;
  /** Default 4_000_000 (*unconfirmed*): a larger body answers `oversizeStatus`. */
  maxRequestBytes?: number;
  /**
   * Default 400: an oversized body answers 400 INVALID_ARGUMENT "Request payload size exceeds the
   * limit: N bytes." as Google APIs do; 413 answers HTTP 413 with the same message.
   */
  oversizeStatus?: 400 | 413;
  /**
   * Default true: an entry whose collectionTime is not strictly after its logEntryTime answers 400
   * INVALID_ARGUMENT naming the entry. The reference says "Must be after"; whether the service
   * enforces it is *unconfirmed*: false accepts any order.
   */
  requireCollectionAfterEntry?: boolean;
  /**
   * Default true: each entry's data must decode to JSON. Not a Chronicle rule (Log.data is "Raw data
   * for the log entry", any bytes): a check on our own output, which is always JSON.
   */
  requireJsonData?: boolean;
  /** Default true: a missing or rejected `Authorization: Bearer` answers 401 UNAUTHENTICATED. */
  requireBearer?: boolean;
  /** Default: any non-empty token. */
  acceptToken?: (token: string) => boolean;
  /**
   * Injected failures, for logs:import and entities:import alike (`kind` says which); `n` counts the
   * import requests of that kind, 1-based; `entryCount` is the log entries or entities in the body.
   * A faulted request records nothing.
   */
  fault?: (request: {
    n: number;
    entryCount: number;
    bytes: number;
    kind: 'logs' | 'entities';
  }) => ChronicleFault | undefined;
  /** Default true; false = count only (benchmarks): entries[] stays empty, data is not JSON-parsed. */
  keepEntries?: boolean;
  /** nativeDashboards:import (sim/chronicle_dashboards.ts). */
  dashboards?: ChronicleDashboardOptions;
  /** entities:import checks and what is kept (sim/chronicle_entities.ts). */
  entities?: EntityImportOptions;
  // --- hook: extra endpoints (log types, parsers, runParser: sim/chronicle_parsers.ts) ---
  /** Asked first for every request; resolves true when it has answered the request itself. */
  route?: (req: IncomingMessage, res: ServerResponse, url: URL) => Promise<boolean>;
  // --- end hook ---
}

export interface ImportedEntry {
  notificationId: string | undefined;
  /** Parsed JSON of the decoded base64 data. */
  data: unknown;
  rawBytes: number;
  logEntryTime: string;
  collectionTime: string;
  environmentNamespace?: string;
  labels?: Record<string, { value: string }>;
  logType: string;
  path: string;
}

export interface ChronicleRequestRecord {
  path: string;
  status: number;
  bytes: number;
  entryCount: number;
  forwarder?: string;
}

export interface ChronicleSimulator {
  /** http://127.0.0.1:PORT */
  readonly baseUrl: string;
  readonly requests: ChronicleRequestRecord[];
  readonly entries: ImportedEntry[];
  /** notification_id -> times accepted. */
  readonly acceptedIds: Map<string, number>;
  acceptedEntryCount: number;
  /** Sum of the body bytes of accepted requests. */
  acceptedBytes: number;
  /** Sum of the decoded `data` bytes of accepted entries. */
  acceptedDataBytes: number;
  /** nativeDashboards:import requests and what they imported (sim/chronicle_dashboards.ts). */
  readonly dashboards: ChronicleDashboards;
  /** entities:import requests (every one, refused ones included) and the accepted entities. */
  readonly entityImports: EntityImportRecorder;
  close(): Promise<void>;
}

export interface ChronicleStats {
  /** Requests other than entities:import (logs:import and unknown paths), and the accepted ones. */
  requests: number;
  acceptedRequests: number;
  /** Accepted log entries, distinct notification ids among them, imports beyond the first. */
  entries: number;
  uniqueIds: number;
  duplicates: number;
  bytes: number;
  dataBytes: number;
  /** entities:import requests, and the accepted ones. */
  entityRequests: number;
  acceptedEntityRequests: number;
  /** Accepted entities, distinct productEntityIds among them, imports beyond the first. */
  entities: number;
  entityUniqueIds: number;
  entityDuplicates: number;
  /** Body bytes of accepted entities:import requests. */
  entityBytes: number;
}

/** *Unconfirmed* (see the header): the default of `maxRequestBytes`. */
export const CHRONICLE_MAX_REQUEST_BYTES = 4_000_000;
/** The API versions under which logs:import is documented (see the header). */
export const CHRONICLE_IMPORT_VERSIONS: readonly string[] = ['v1alpha', 'v1beta'];

const RPC_STATUS_BY_HTTP: Record<number, string> = {
  400: 'INVALID_ARGUMENT',
  401: 'UNAUTHENTICATED',
  403: 'PERMISSION_DENIED',
  404: 'NOT_FOUND',
  409: 'ABORTED',
  413: 'INVALID_ARGUMENT',
  429: 'RESOURCE_EXHAUSTED',
  500: 'INTERNAL',
  501: 'UNIMPLEMENTED',
  502: 'UNAVAILABLE',
  503: 'UNAVAILABLE',
  504: 'DEADLINE_EXCEEDED',
};

/** logs:import exists under v1alpha and v1beta only (googleapis' chronicle/v1 has no ImportLogs): v1 is a 404. */
const IMPORT_PATH =
  /^\/(v1alpha|v1beta)\/projects\/([^/]+)\/locations\/([^/]+)\/instances\/([^/]+)\/logTypes\/([^/]+)\/logs:import$/;
const RFC3339 = /^(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2})(\.(\d{1,9}))?(Z|[+-]\d{2}:\d{2})$/i;
/** Any character outside the base64 alphabet (one linear scan; the anchored /^[...]*={0,2}$/ was 5× slower). */
const NOT_BASE64 = /[^A-Za-z0-9+/=]/;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
/** Base64 characters (a multiple of 4) decoded from the end of each entry in count-only mode. */
const COUNT_ONLY_TAIL_CHARS = 4096;
const NOTIFICATION_ID = /"notification_id"\s*:\s*"((?:[^"\\]|\\.)*)"/;

/** Same answer as /^[A-Za-z0-9+/]*={0,2}$/: alphabet only, with at most two '=' and only at the end. */
function isBase64(data: string): boolean {
  if (NOT_BASE64.test(data)) return false;
  const pad = data.indexOf('=');
  if (pad === -1) return true;
  return pad === data.length - 1 || (pad === data.length - 2 && data.charCodeAt(data.length - 1) === 0x3d);
}

class RpcError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly rpcStatus: string = RPC_STATUS_BY_HTTP[status] ?? 'UNKNOWN',
  ) {
    super(message);
    this.name = 'RpcError';
  }
}

function rpcBody(status: number, rpcStatus: string, message: string): unknown {
  return { error: { code: status, message, status: rpcStatus } };
}

/** RFC3339 → [epoch seconds, nanoseconds]; undefined when malformed. */
export function parseRfc3339(value: unknown): [number, number] | undefined {
  if (typeof value !== 'string') return undefined;
  const m = RFC3339.exec(value);
  if (!m) return undefined;
  const ms = Date.parse(`${m[1]}${m[4]}`);
  if (!Number.isFinite(ms)) return undefined;
  const nanos = Number((m[3] ?? '').padEnd(9, '0') || '0');
  return [Math.floor(ms / 1000), nanos];
}

function pick(obj: Record<string, unknown>, camel: string, snake: string): unknown {
  return obj[camel] !== undefined ? obj[camel] : obj[snake];
}

/** inlineSource.entities' length in an entities:import body, 0 when it has none (for faults and records). */
function countEntities(body: Buffer): number {
  try {
    const root = JSON.parse(body.toString('utf8')) as Record<string, unknown> | null;
    const source = (root?.inlineSource ?? root?.inline_source) as { entities?: unknown } | null | undefined;
    return Array.isArray(source?.entities) ? source.entities.length : 0;
  } catch {
    return 0;
  }
}

/** Reads the body, counting every byte, keeping at most `limit + 1` bytes. */
async function readBody(
  req: IncomingMessage,
  limit: number,
): Promise<{ bytes: number; body: Buffer | undefined }> {
  const chunks: Buffer[] = [];
  let bytes = 0;
  for await (const chunk of req) {
    const buf = chunk as Buffer;
    bytes += buf.length;
    if (bytes <= limit) chunks.push(buf);
  }
  return { bytes, body: bytes <= limit ? Buffer.concat(chunks, bytes) : undefined };
}

interface PathParts {
  project: string;
  region: string;
  instance: string;
  logType: string;
}

/** An entry as read from the request body; the path parts are added when it is recorded. */
type ParsedEntry = Omit<ImportedEntry, 'logType' | 'path'>;

interface ParseOptions {
  keepEntries: boolean;
  requireCollectionAfterEntry: boolean;
  requireJsonData: boolean;
}

/** True when RFC 3339 time `a` is strictly after `b` (both as [seconds, nanoseconds]). */
function isAfter(a: [number, number], b: [number, number]): boolean {
  return a[0] > b[0] || (a[0] === b[0] && a[1] > b[1]);
}

function parseRequest(
  body: Buffer,
  parts: PathParts,
  options: ParseOptions,
): { entries: ParsedEntry[]; forwarder: string | undefined; entryCount: number } {
  const { keepEntries } = options;
  let json: unknown;
  try {
    json = JSON.parse(body.toString('utf8'));
  } catch {
    throw new RpcError(400, 'Invalid JSON payload received.');
  }
  if (json === null || typeof json !== 'object' || Array.isArray(json))
    throw new RpcError(400, 'Request body must be a JSON object.');
  const root = json as Record<string, unknown>;
  // inlineSource and its logs are "Required" (import page in the header); that an empty list is
  // refused is *unconfirmed*.
  const source = pick(root, 'inlineSource', 'inline_source');
  if (source === null || typeof source !== 'object' || Array.isArray(source)) {
    throw new RpcError(400, 'inline_source is required.');
  }
  const inline = source as Record<string, unknown>;
  const logs = inline.logs;
  if (!Array.isArray(logs) || logs.length === 0)
    throw new RpcError(400, 'inline_source.logs must be a non-empty list.');

  const forwarderValue = inline.forwarder ?? root.forwarder;
  let forwarder: string | undefined;
  if (forwarderValue !== undefined) {
    if (typeof forwarderValue !== 'string') throw new RpcError(400, 'forwarder must be a string.');
    // LogsInlineSource.forwarder is a forwarder resource name of the same instance (import page
    // above); that its id must be a UUID is *unconfirmed* (forwarder ids seen in SecOps are UUIDs).
    const prefix = `projects/${parts.project}/locations/${parts.region}/instances/${parts.instance}/forwarders/`;
    const id = forwarderValue.startsWith(prefix) ? forwarderValue.slice(prefix.length) : '';
    if (!UUID.test(id)) {
      throw new RpcError(400, `Invalid forwarder "${forwarderValue}": expected ${prefix}{uuid}.`);
    }
    forwarder = forwarderValue;
  }

  const entries: ParsedEntry[] = [];
  logs.forEach((log: unknown, i: number) => {
    if (log === null || typeof log !== 'object' || Array.isArray(log))
      throw new RpcError(400, `logs[${i}] must be an object.`);
    const entry = log as Record<string, unknown>;
    const data = entry.data;
    if (typeof data !== 'string' || data === '' || data.length % 4 !== 0 || !isBase64(data)) {
      throw new RpcError(400, `logs[${i}].data must be non-empty base64.`);
    }
    let parsed: unknown;
    let notificationId: string | undefined;
    let rawBytes: number;
    if (keepEntries) {
      const raw = Buffer.from(data, 'base64');
      rawBytes = raw.length;
      try {
        parsed = JSON.parse(raw.toString('utf8'));
      } catch {
        if (options.requireJsonData) throw new RpcError(400, `logs[${i}].data does not decode to JSON.`);
      }
      const ctx = (parsed as { context_attributes?: { notification_id?: unknown } } | null)
        ?.context_attributes;
      notificationId = typeof ctx?.notification_id === 'string' ? ctx.notification_id : undefined;
    } else {
      // Count only: no full decode. The size follows from the base64 length; the JSON check looks
      // at the first character; the id is looked for in the data's tail first (entries carry
      // cleaned JSON with sorted keys, so context_attributes is near the end), then in the whole.
      rawBytes = (data.length / 4) * 3 - (data.endsWith('==') ? 2 : data.endsWith('=') ? 1 : 0);
      const first = Buffer.from(data.slice(0, 4), 'base64')[0];
      if (options.requireJsonData && first !== 0x7b && first !== 0x5b)
        throw new RpcError(400, `logs[${i}].data does not decode to JSON.`);
      const tailStart = Math.max(0, data.length - COUNT_ONLY_TAIL_CHARS);
      let m = NOTIFICATION_ID.exec(Buffer.from(data.slice(tailStart), 'base64').toString('utf8'));
      if (!m && tailStart > 0) m = NOTIFICATION_ID.exec(Buffer.from(data, 'base64').toString('utf8'));
      notificationId = m ? (JSON.parse(`"${m[1] ?? ''}"`) as string) : undefined;
    }
    const logEntryTime = pick(entry, 'logEntryTime', 'log_entry_time');
    const collectionTime = pick(entry, 'collectionTime', 'collection_time');
    const entryTs = parseRfc3339(logEntryTime);
    const collectionTs = parseRfc3339(collectionTime);
    if (!entryTs) throw new RpcError(400, `logs[${i}].log_entry_time must be an RFC3339 timestamp.`);
    if (!collectionTs) throw new RpcError(400, `logs[${i}].collection_time must be an RFC3339 timestamp.`);
    if (options.requireCollectionAfterEntry && !isAfter(collectionTs, entryTs)) {
      throw new RpcError(
        400,
        `logs[${i}]: collection_time (${String(collectionTime)}) must be after log_entry_time (${String(logEntryTime)}).`,
      );
    }
    const namespace = pick(entry, 'environmentNamespace', 'environment_namespace');
    if (namespace !== undefined && typeof namespace !== 'string') {
      throw new RpcError(400, `logs[${i}].environment_namespace must be a string.`);
    }
    const labelsValue = entry.labels;
    let labels: Record<string, { value: string }> | undefined;
    if (labelsValue !== undefined) {
      if (labelsValue === null || typeof labelsValue !== 'object' || Array.isArray(labelsValue)) {
        throw new RpcError(400, `logs[${i}].labels must be a map.`);
      }
      labels = {};
      for (const [key, value] of Object.entries(labelsValue as Record<string, unknown>)) {
        const v = (value as { value?: unknown } | null)?.value;
        if (typeof v !== 'string')
          throw new RpcError(400, `logs[${i}].labels["${key}"] must be {"value": string}.`);
        labels[key] = { value: v };
      }
    }
    const item: ParsedEntry = {
      notificationId,
      data: parsed,
      rawBytes,
      logEntryTime: logEntryTime as string,
      collectionTime: collectionTime as string,
    };
    if (typeof namespace === 'string') item.environmentNamespace = namespace;
    if (labels) item.labels = labels;
    entries.push(item);
  });
  return { entries, forwarder, entryCount: logs.length };
}

export async function startChronicleSimulator(
  options: ChronicleSimulatorOptions = {},
): Promise<ChronicleSimulator> {
  const host = options.host ?? '127.0.0.1';
  const maxBytes = options.maxRequestBytes ?? CHRONICLE_MAX_REQUEST_BYTES;
  const requireBearer = options.requireBearer ?? true;
  const acceptToken = options.acceptToken ?? ((token: string) => token.length > 0);
  const parseOptions: ParseOptions = {
    keepEntries: options.keepEntries ?? true,
    requireCollectionAfterEntry: options.requireCollectionAfterEntry ?? true,
    requireJsonData: options.requireJsonData ?? true,
  };
  const keepEntries = parseOptions.keepEntries;
  const oversizeStatus = options.oversizeStatus ?? 400;
  if (oversizeStatus !== 400 && oversizeStatus !== 413) {
    throw new RangeError(`oversizeStatus must be 400 or 413, got ${String(oversizeStatus)}`);
  }
  const counters = { logs: 0, entities: 0 };
  const dashboards = createDashboardImportHandler(options.dashboards, { requireBearer, acceptToken });
  const entityImports = createEntityRecorder();

  const sim: { -readonly [K in keyof ChronicleSimulator]: ChronicleSimulator[K] } = {
    baseUrl: '',
    requests: [] as ChronicleRequestRecord[],
    entries: [] as ImportedEntry[],
    acceptedIds: new Map<string, number>(),
    acceptedEntryCount: 0,
    acceptedBytes: 0,
    acceptedDataBytes: 0,
    dashboards: dashboards.state,
    entityImports,
    close: async () => undefined,
  };

  const stats = (): ChronicleStats => {
    let duplicates = 0;
    for (const times of sim.acceptedIds.values()) duplicates += times - 1;
    let entityDuplicates = 0;
    for (const times of entityImports.acceptedIds.values()) entityDuplicates += times - 1;
    return {
      requests: sim.requests.length,
      acceptedRequests: sim.requests.filter((r) => r.status === 200).length,
      entries: sim.acceptedEntryCount,
      uniqueIds: sim.acceptedIds.size,
      duplicates,
      bytes: sim.acceptedBytes,
      dataBytes: sim.acceptedDataBytes,
      entityRequests: entityImports.requests.length,
      acceptedEntityRequests: entityImports.requests.filter((r) => r.status === 200).length,
      entities: entityImports.acceptedEntityCount,
      entityUniqueIds: entityImports.acceptedIds.size,
      entityDuplicates,
      entityBytes: entityImports.acceptedBytes,
    };
  };

  /**
   * The checks every import request passes first, in order: latency, the bearer token, the body
   * size. Undefined = admitted (the body is then defined).
   */
  const admission = async (req: IncomingMessage, body: Buffer | undefined): Promise<RpcError | undefined> => {
    if (options.latencyMs && options.latencyMs > 0)
      await new Promise((r) => setTimeout(r, options.latencyMs));
    // OAuth 2 bearer token with the cloud-platform scope (import page, "Authorization scopes");
    // the 401 text is *unconfirmed*.
    if (requireBearer) {
      const auth = req.headers.authorization ?? '';
      const m = /^Bearer\s+(\S+)$/i.exec(auth);
      if (!m || !acceptToken(m[1] ?? '')) {
        return new RpcError(
          401,
          'Request had invalid authentication credentials. Expected OAuth 2 access token.',
        );
      }
    }
    if (body === undefined) {
      // Google's wording for other APIs (see the header); status 400 or 413 by `oversizeStatus`.
      return new RpcError(
        oversizeStatus,
        `Request payload size exceeds the limit: ${maxBytes} bytes.`,
        'INVALID_ARGUMENT',
      );
    }
    return undefined;
  };

  /** entities:import: the same admission and faults as logs:import, then chronicle_entities.ts. */
  const serveEntities = async (
    req: IncomingMessage,
    res: ServerResponse,
    target: EntitiesImportTarget,
  ): Promise<void> => {
    counters.entities += 1;
    const n = counters.entities;
    const { bytes, body } = await readBody(req, maxBytes);
    // Counted only for a fault hook or a refusal: on the accepted path the handler parses the body
    // once and counts there (a second parse of every body only cost the bench's shared cores).
    const entityCount = () => (body === undefined ? 0 : countEntities(body));
    /** A request refused before the handler: recorded like the handler records its own. */
    const refuse = (status: number, reply: unknown, error: string, headers?: Record<string, string>) => {
      entityImports.requests.push({ target, status, bytes, entityCount: entityCount(), error });
      sendJson(res, status, reply, headers);
    };
    const refused = await admission(req, body);
    if (refused !== undefined || body === undefined) {
      const error = refused ?? new RpcError(400, 'Invalid request.');
      refuse(error.status, rpcBody(error.status, error.rpcStatus, error.message), error.message);
      return;
    }
    const fault = options.fault?.({ n, entryCount: entityCount(), bytes, kind: 'entities' });
    if (fault) {
      const rpcStatus = fault.rpcStatus ?? RPC_STATUS_BY_HTTP[fault.status] ?? 'UNKNOWN';
      const message = fault.message ?? `Injected fault ${fault.status}`;
      const reply = fault.body !== undefined ? fault.body : rpcBody(fault.status, rpcStatus, message);
      refuse(fault.status, reply, message, fault.headers);
      return;
    }
    const reply = handleEntitiesImport(body, target, entityImports, options.entities);
    sendJson(res, reply.status, reply.body);
  };

  const serve = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const url = new URL(req.url ?? '/', `http://${host}`);
    if (req.method === 'GET' && url.pathname === '/_stats') {
      sendJson(res, 200, stats());
      return;
    }
    // --- hook: extra endpoints (sim/chronicle_parsers.ts) ---
    if (options.route !== undefined && (await options.route(req, res, url))) return;
    // --- end hook ---
    const record: ChronicleRequestRecord = { path: url.pathname, status: 0, bytes: 0, entryCount: 0 };
    const reply = (status: number, body: unknown, headers?: Record<string, string>): void => {
      record.status = status;
      sendJson(res, status, body, headers);
    };
    const fail = (error: RpcError, headers?: Record<string, string>): void =>
      reply(error.status, rpcBody(error.status, error.rpcStatus, error.message), headers);

    if (await dashboards.handle(req, url, res)) return; // nativeDashboards:import
    const entitiesTarget = req.method === 'POST' ? matchEntitiesImport(url.pathname) : undefined;
    const match = req.method === 'POST' ? IMPORT_PATH.exec(url.pathname) : null;
    if (entitiesTarget !== undefined) {
      await serveEntities(req, res, entitiesTarget);
      return;
    }
    if (!match) {
      // Other paths, other versions (v1, v2, ...) and other methods are not an import. The
      // 404 text is *unconfirmed*.
      // Drain so the client sees the answer rather than a reset.
      await readBody(req, 0);
      sim.requests.push(record);
      fail(new RpcError(404, `Method not found: ${req.method} ${url.pathname}`));
      return;
    }
    sim.requests.push(record);
    counters.logs += 1;
    const n = counters.logs;
    const parts: PathParts = {
      project: match[2] ?? '',
      region: match[3] ?? '',
      instance: match[4] ?? '',
      logType: decodeURIComponent(match[5] ?? ''),
    };

    const { bytes, body } = await readBody(req, maxBytes);
    record.bytes = bytes;
    const refused = await admission(req, body);
    if (refused !== undefined || body === undefined) {
      fail(refused ?? new RpcError(400, 'Invalid request.'));
      return;
    }

    let parsed: ReturnType<typeof parseRequest> | undefined;
    let parseError: RpcError | undefined;
    try {
      parsed = parseRequest(body, parts, parseOptions);
    } catch (error) {
      if (!(error instanceof RpcError)) throw error;
      parseError = error;
    }
    record.entryCount = parsed?.entryCount ?? 0;
    if (parsed?.forwarder) record.forwarder = parsed.forwarder;

    const fault = options.fault?.({ n, entryCount: record.entryCount, bytes, kind: 'logs' });
    if (fault) {
      const rpcStatus = fault.rpcStatus ?? RPC_STATUS_BY_HTTP[fault.status] ?? 'UNKNOWN';
      reply(
        fault.status,
        fault.body !== undefined
          ? fault.body
          : rpcBody(fault.status, rpcStatus, fault.message ?? `Injected fault ${fault.status}`),
        fault.headers,
      );
      return;
    }
    if (parseError || !parsed) {
      fail(parseError ?? new RpcError(400, 'Invalid request.'));
      return;
    }

    for (const entry of parsed.entries) {
      if (entry.notificationId !== undefined) {
        sim.acceptedIds.set(entry.notificationId, (sim.acceptedIds.get(entry.notificationId) ?? 0) + 1);
      }
      sim.acceptedDataBytes += entry.rawBytes;
      if (keepEntries) sim.entries.push({ ...entry, logType: parts.logType, path: url.pathname });
    }
    sim.acceptedEntryCount += parsed.entries.length;
    sim.acceptedBytes += bytes;
    reply(200, {});
  };

  const server: Server = createServer((req, res) => {
    serve(req, res).catch((error: unknown) => {
      if (!res.headersSent) sendJson(res, 500, rpcBody(500, 'INTERNAL', String(error)));
      else res.destroy();
    });
  });
  server.keepAliveTimeout = 30_000;
  server.listen(options.port ?? 0, host);
  await once(server, 'listening');
  const address = server.address() as AddressInfo;
  sim.baseUrl = `http://${host}:${address.port}`;
  sim.close = () =>
    new Promise<void>((resolve, reject) => {
      server.close((error) => (error ? reject(error) : resolve()));
      server.closeAllConnections();
    });
  return sim;
}
