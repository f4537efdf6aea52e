/**
 * `nativeDashboards:import` for the Chronicle simulator (sim/chronicle_simulator.ts routes to it).
 *
 * What it does, and where each behaviour comes from:
 * - Path `POST /{v1alpha|v1beta|v1}/projects/{p}/locations/{r}/instances/{c}/nativeDashboards:import`:
 *   googleapis `google/cloud/chronicle/v1/native_dashboard.proto` (HTTP rule, v1) and the REST
 *   reference pages of the same method under v1alpha and v1beta.
 * - The body is read as proto3 JSON of ImportNativeDashboardsRequest (body "*"): unknown field names,
 *   wrong value types, unknown enum values and missing required fields answer 400 INVALID_ARGUMENT,
 *   as Google's JSON front end does for any proto; the field list is custom_parser/dashboards/
 *   dashboard_fields.txt, transcribed from the protos. `source.dashboards` is REQUIRED there.
 * - The answer `{"results":[{"dashboard","status"}]}` has one status per dashboard in request order;
 *   the import is all-or-nothing and "OK" means "ready for import" (ImportNativeDashboardsResponse's
 *   documentation): when one dashboard fails, the others answer OK and nothing is recorded.
 * - A dashboard fails with INVALID_ARGUMENT when a chart or query it links to is missing (the links
 *   the export format carries: definition.charts[].dashboardChart → dashboardCharts[].name,
 *   chartDatasource.dashboardQuery → dashboardQueries[].name). The real service also compiles each
 *   YARA-L query; the simulator cannot, so `options.status` injects such answers.
 * *Unconfirmed* (configurable or harmless): the HTTP status of an answer with a failed dashboard
 * (200 here); the form of `dashboard` in a result (the full resource name of the supplied id here);
 * what a second import of the same dashboard id does (the simulator records it again); the request
 * size limit (`maxRequestBytes`, default 4 MB like logs:import).
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { DashboardSchema } from '../shared/chronicle/dashboard_schema.js';
import { DASHBOARD_FIELDS_FILE } from '../shared/chronicle/dashboards.js';
import { sendJson } from './http_util.js';

export const DASHBOARD_IMPORT_PATH =
  /^\/(v1alpha|v1beta|v1)\/projects\/([^/]+)\/locations\/([^/]+)\/instances\/([^/]+)\/nativeDashboards:import$/;

/** google.rpc.Code numbers used here (googleapis google/rpc/code.proto). */
export const RPC_CODE = { OK: 0, INVALID_ARGUMENT: 3, ALREADY_EXISTS: 6, PERMISSION_DENIED: 7 } as const;

export interface DashboardImportFault {
  status: number;
  rpcStatus?: string;
  message?: string;
  headers?: Record<string, string>;
}

export interface ChronicleDashboardOptions {
  /** Whole-request failure; `n` counts import requests, 1-based. A faulted request records nothing. */
  fault?: (request: { n: number }) => DashboardImportFault | undefined;
  /** A per-dashboard status other than OK (e.g. a query that does not compile); aborts the import. */
  status?: (
    dashboard: Record<string, unknown>,
    index: number,
  ) => { code: number; message: string } | undefined;
  /** Default 4_000_000 (*unconfirmed*): a larger body answers 413. */
  maxRequestBytes?: number;
}

export interface ImportedDashboard {
  /** Resource name: projects/{p}/locations/{r}/instances/{c}/nativeDashboards/{id}. */
  readonly name: string;
  readonly displayName: string;
  /** The NativeDashboardWithChartsAndQueries as received. */
  readonly bundle: Record<string, unknown>;
  readonly apiVersion: string;
}

export interface DashboardImportRequest {
  readonly path: string;
  status: number;
  dashboards: number;
  /** The parsed body, when it was JSON. */
  body?: unknown;
}

export interface ChronicleDashboards {
  /** Every import request, answered or not. */
  readonly requests: DashboardImportRequest[];
  /** Dashboards of accepted imports, in order. */
  readonly imported: ImportedDashboard[];
}

interface Auth {
  readonly requireBearer: boolean;
  readonly acceptToken: (token: string) => boolean;
}

let schemaCache: DashboardSchema | undefined;
function schema(): DashboardSchema {
  schemaCache ??= DashboardSchema.load(DASHBOARD_FIELDS_FILE);
  return schemaCache;
}

function rpcError(
  res: ServerResponse,
  status: number,
  rpcStatus: string,
  message: string,
  headers?: Record<string, string>,
) {
  sendJson(res, status, { error: { code: status, message, status: rpcStatus } }, headers);
}

/** Problems of one dashboard the service would refuse it for (links between its parts). */
function linkProblems(bundle: Record<string, unknown>): string[] {
  const charts = (bundle.dashboardCharts ?? bundle.dashboard_charts ?? []) as Record<string, unknown>[];
  const queries = (bundle.dashboardQueries ?? bundle.dashboard_queries ?? []) as Record<string, unknown>[];
  const queryNames = new Set(queries.map((q) => q.name));
  const chartNames = new Set(charts.map((c) => c.name));
  const problems: string[] = [];
  const dashboard = (bundle.dashboard ?? {}) as { definition?: { charts?: Record<string, unknown>[] } };
  for (const placed of dashboard.definition?.charts ?? []) {
    const ref = placed.dashboardChart ?? placed.dashboard_chart;
    if (!chartNames.has(ref))
      problems.push(`definition.charts refers to unknown chart ${JSON.stringify(ref)}`);
  }
  for (const chart of charts) {
    const source = (chart.chartDatasource ?? chart.chart_datasource) as Record<string, unknown> | undefined;
    const ref = source?.dashboardQuery ?? source?.dashboard_query;
    if (ref !== undefined && ref !== '' && !queryNames.has(ref)) {
      problems.push(`chart ${JSON.stringify(chart.name)} refers to unknown query ${JSON.stringify(ref)}`);
    }
  }
  for (const query of queries) {
    if (typeof query.query === 'string' && query.query.trim() === '')
      problems.push(`query ${JSON.stringify(query.name)} is empty`);
  }
  return problems;
}

async function readLimited(req: IncomingMessage, limit: number): Promise<Buffer | undefined> {
  const chunks: Buffer[] = [];
  let bytes = 0;
  for await (const chunk of req) {
    bytes += (chunk as Buffer).length;
    if (bytes <= limit) chunks.push(chunk as Buffer);
  }
  return bytes <= limit ? Buffer.concat(chunks) : undefined;
}

export function createDashboardImportHandler(
  options: ChronicleDashboardOptions = {},
  auth: Auth,
): {
  state: ChronicleDashboards;
  handle(req: IncomingMessage, url: URL, res: ServerResponse): Promise<boolean>;
} {
  const state: ChronicleDashboards = { requests: [], imported: [] };
  const limit = options.maxRequestBytes ?? 4_000_000;
  let counter = 0;

  const handle = async (req: IncomingMessage, url: URL, res: ServerResponse): Promise<boolean> => {
    const match = DASHBOARD_IMPORT_PATH.exec(url.pathname);
    if (!match) return false;
    const record: DashboardImportRequest = { path: url.pathname, status: 0, dashboards: 0 };
    state.requests.push(record);
    const fail = (status: number, rpcStatus: string, message: string, headers?: Record<string, string>) => {
      record.status = status;
      rpcError(res, status, rpcStatus, message, headers);
    };
    if (req.method !== 'POST') {
      await readLimited(req, 0);
      fail(404, 'NOT_FOUND', `Method not found: ${req.method} ${url.pathname}`);
      return true;
    }
    counter += 1;
    const body = await readLimited(req, limit);
    if (auth.requireBearer) {
      const m = /^Bearer\s+(\S+)$/i.exec(req.headers.authorization ?? '');
      if (!m || !auth.acceptToken(m[1] ?? '')) {
        fail(
          401,
          'UNAUTHENTICATED',
          'Request had invalid authentication credentials. Expected OAuth 2 access token.',
        );
        return true;
      }
    }
    const fault = options.fault?.({ n: counter });
    if (fault) {
      fail(
        fault.status,
        fault.rpcStatus ?? 'UNKNOWN',
        fault.message ?? `Injected fault ${fault.status}`,
        fault.headers,
      );
      return true;
    }
    if (body === undefined) {
      fail(413, 'INVALID_ARGUMENT', `Request payload size exceeds the limit: ${limit} bytes.`);
      return true;
    }
    let json: unknown;
    try {
      json = JSON.parse(body.toString('utf8'));
    } catch {
      fail(400, 'INVALID_ARGUMENT', 'Invalid JSON payload received.');
      return true;
    }
    record.body = json;
    const problems = schema().check(json, 'ImportNativeDashboardsRequest', 'request');
    if (problems.length > 0) {
      fail(400, 'INVALID_ARGUMENT', `Invalid JSON payload received. ${problems.slice(0, 5).join('; ')}`);
      return true;
    }
    const source = ((json as Record<string, unknown>).source ?? {}) as {
      dashboards?: Record<string, unknown>[];
    };
    const dashboards = source.dashboards ?? [];
    record.dashboards = dashboards.length;
    const parent = `projects/${match[2]}/locations/${match[3]}/instances/${match[4]}`;
    const results = dashboards.map((bundle, i) => {
      const id = (bundle.dashboard as { name?: unknown } | undefined)?.name;
      const name =
        typeof id === 'string' && id !== '' ? `${parent}/nativeDashboards/${id.split('/').pop()}` : '';
      const links = linkProblems(bundle);
      const status =
        links.length > 0
          ? { code: RPC_CODE.INVALID_ARGUMENT, message: links.join('; ') }
          : options.status?.(bundle, i);
      // proto3 JSON leaves defaults out: an OK status is {}.
      return { ...(name ? { dashboard: name } : {}), status: status && status.code !== 0 ? status : {} };
    });
    const accepted = results.every((r) => !('code' in r.status));
    if (accepted) {
      dashboards.forEach((bundle, i) => {
        const d = (bundle.dashboard ?? {}) as { displayName?: unknown; display_name?: unknown };
        state.imported.push({
          name: results[i]?.dashboard ?? `${parent}/nativeDashboards/imported-${state.imported.length + 1}`,
          displayName: String(d.displayName ?? d.display_name ?? ''),
          bundle,
          apiVersion: match[1] ?? '',
        });
      });
    }
    record.status = 200;
    sendJson(res, 200, { results });
    return true;
  };
  return { state, handle };
}
