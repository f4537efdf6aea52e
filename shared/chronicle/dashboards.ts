/**
 * The SecOps native dashboard shipped in custom_parser/dashboards/: reading and checking the
 * definition, fitting it to the configured log type and namespace, and importing it with
 * `nativeDashboards:import`.
 *
 * Format and API (googleapis `google/cloud/chronicle/v1/native_dashboard.proto`, `dashboard_chart.proto`,
 * `dashboard_query.proto`; REST reference `projects.locations.instances.nativeDashboards/import`,
 * documented under v1alpha, v1beta and v1):
 *   file  = {"dashboards":[NativeDashboardWithChartsAndQueries]}  (InlineDestination: what the UI's
 *           export writes and its import reads)
 *   POST {base}/{version}/projects/{p}/locations/{r}/instances/{c}/nativeDashboards:import
 *        {"source":{"dashboards":[...]}}
 *   ->   {"results":[{"dashboard":"<name>","status":{google.rpc.Status}}]}  one per dashboard, in
 *        request order; all-or-nothing: when one fails none is imported ("OK" = ready for import).
 * Links inside a definition: `definition.charts[].dashboardChart` names a `dashboardCharts[].name`, a
 * chart's `chartDatasource.dashboardQuery` names a `dashboardQueries[].name` (bare ids, as exports
 * carry them).
 */
import { readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { LOG_TYPE_PATTERN, SPECS } from '../core/config_table.js';
import { ChronicleError, ValidationError } from '../core/errors.js';
import { redact } from '../core/redact.js';
import { chronicleRequest, type HttpSettings } from './api.js';
import type { AuthHeaders } from './auth.js';
import { DashboardSchema } from './dashboard_schema.js';
import { type ChronicleTarget, instanceUrl } from './resources.js';

/** custom_parser/dashboards/ of this checkout or package (found from this module, not the cwd). */
export const DASHBOARD_DIR = fileURLToPath(new URL('../../../custom_parser/dashboards/', import.meta.url));
export const DASHBOARD_FILE = join(DASHBOARD_DIR, 'ioc_stream.json');
export const DASHBOARD_FIELDS_FILE = join(DASHBOARD_DIR, 'dashboard_fields.txt');
/** The log type the committed definition's queries filter on (CHRONICLE_LOG_TYPE's default). */
export const COMMITTED_LOG_TYPE = SPECS.CHRONICLE_LOG_TYPE.default;
/** Name prefix of the YARA-L rules whose detections the "seen in your telemetry" chart lists. */
export const RULE_PREFIX = 'gti_ioc_stream_';
/**
 * UDM field the import's environment namespace is searched in. *Unconfirmed*: udm.proto says a
 * Noun's `namespace` goes "along with an asset indicator", so events whose target has no asset
 * (file and URL notifications) may carry none; the filter therefore keeps events without one.
 */
export const NAMESPACE_FIELD = 'target.namespace';
/** Dashboard grid width (public exports place charts on 96 columns). */
export const GRID_COLUMNS = 96;
/** A definition larger than this is not a dashboard (the shipped one is ~15 KB). */
const MAX_FILE_BYTES = 2_000_000;
/** The namespace as config.ts accepts it: safe inside a YARA-L string literal. */
const NAMESPACE = /^[A-Za-z0-9_.-]{1,64}$/;
/** `metadata.log_type = "X"` as a whole comparison (not `$e.metadata.log_type`, not inside a name). */
const LOG_TYPE_FILTER = /(?<![\w.$])metadata\.log_type\s*=\s*"([^"\\\n]*)"/g;
const SECTION = /^\s*(events|match|outcome|condition|order|limit|options)\s*:(.*)$/;
const SECTION_ORDER = ['events', 'match', 'outcome', 'condition', 'order', 'limit', 'options'];
/**
 * How far back a dashboard query may reach per data source, in days (the "Dashboards overview" page
 * of the SecOps documentation: events 90 days, entity graph and detections 365).
 */
const MAX_DAYS: Record<string, number> = { UDM: 90, ENTITY: 365, RULE_DETECTIONS: 365 };
const DAYS_PER_UNIT: Record<string, number> = {
  SECOND: 1 / 86_400,
  MINUTE: 1 / 1440,
  HOUR: 1 / 24,
  DAY: 1,
  WEEK: 7,
  MONTH: 31,
  YEAR: 366,
};
/** google.rpc.Code names by number (googleapis google/rpc/code.proto). */
const RPC_CODES = [
  'OK',
  'CANCELLED',
  'UNKNOWN',
  'INVALID_ARGUMENT',
  'DEADLINE_EXCEEDED',
  'NOT_FOUND',
  'ALREADY_EXISTS',
  'PERMISSION_DENIED',
  'RESOURCE_EXHAUSTED',
  'FAILED_PRECONDITION',
  'ABORTED',
  'OUT_OF_RANGE',
  'UNIMPLEMENTED',
  'INTERNAL',
  'UNAVAILABLE',
  'DATA_LOSS',
  'UNAUTHENTICATED',
];
/**
 * IAM permission the import needs. *Unconfirmed*: the REST page's permission section was not
 * readable; the name follows the documented `chronicle.{resource}.{verb}` pattern.
 */
export const IMPORT_PERMISSION = 'chronicle.nativeDashboards.import';

type Obj = { [key: string]: unknown };

export interface DashboardQuery extends Obj {
  name?: string;
  query?: string;
}

export interface DashboardChart extends Obj {
  name?: string;
  displayName?: string;
  tileType?: string;
  chartDatasource?: { dashboardQuery?: string; dataSources?: string[] };
  visualization?: Obj;
}

export interface DashboardBundle extends Obj {
  dashboard?: Obj & { displayName?: string; definition?: Obj };
  dashboardCharts?: DashboardChart[];
  dashboardQueries?: DashboardQuery[];
}

/** The file format: what the SecOps UI exports and imports (InlineDestination). */
export interface DashboardFile {
  dashboards: DashboardBundle[];
}

/** Reads a definition file; the error names the file and what is wrong with it. */
export function readDashboardFile(path: string): DashboardFile {
  let text: string;
  try {
    const size = statSync(path).size;
    if (size > MAX_FILE_BYTES)
      throw new ValidationError(`${path} is ${size} bytes: not a dashboard definition`);
    text = readFileSync(path, 'utf8');
  } catch (error) {
    if (error instanceof ValidationError) throw error;
    throw new ValidationError(`Cannot read the dashboard definition ${path}`, { cause: error });
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (error) {
    throw new ValidationError(`${path} is not valid JSON: ${(error as Error).message}`);
  }
  const dashboards = (parsed as { dashboards?: unknown } | null)?.dashboards;
  if (!Array.isArray(dashboards) || dashboards.length === 0) {
    throw new ValidationError(
      `${path}: expected {"dashboards":[...]} with at least one dashboard (the export format)`,
    );
  }
  return parsed as DashboardFile;
}

/** Splits a YARA-L dashboard query into its sections; the part before the first header is `events`. */
export function querySections(query: string): { sections: Map<string, string>; problems: string[] } {
  const sections = new Map<string, string>();
  const problems: string[] = [];
  let current = 'events';
  let lines: string[] = [];
  const flush = () => {
    const text = lines.join('\n').trim();
    if (sections.has(current)) problems.push(`section "${current}:" appears twice`);
    sections.set(current, text);
  };
  for (const raw of query.split('\n')) {
    const line = stripComment(raw);
    const m = SECTION.exec(line);
    if (m) {
      if (current !== 'events' || lines.some((l) => l.trim() !== '')) flush();
      current = m[1] as string;
      lines = [m[2] ?? ''];
    } else {
      lines.push(line);
    }
  }
  flush();
  const order = [...sections.keys()].map((s) => SECTION_ORDER.indexOf(s));
  if (order.some((v, i) => i > 0 && v < (order[i - 1] as number))) {
    problems.push(
      `sections out of order (${[...sections.keys()].join(', ')}; expected ${SECTION_ORDER.join(', ')})`,
    );
  }
  if ((sections.get('events') ?? '') === '') problems.push('no filter before the first section');
  // Dashboard queries (the "Dashboards overview" page): the events section is implied, a match or an
  // outcome section is required, and there is no condition section.
  if (!sections.has('match') && !sections.has('outcome')) problems.push('needs a match: or outcome: section');
  if (sections.has('condition')) problems.push('dashboard queries take no condition: section');
  return { sections, problems };
}

/** A line without its `//` comment (a `//` inside a string literal is kept). */
function stripComment(line: string): string {
  let quote = false;
  for (let i = 0; i < line.length; i++) {
    const c = line[i];
    if (c === '\\' && quote) i += 1;
    else if (c === '"') quote = !quote;
    else if (!quote && c === '/' && line[i + 1] === '/') return line.slice(0, i);
  }
  return line;
}

/** The columns a query returns: its match variables and outcome variables (without `$`). */
export function queryColumns(query: string): { match: string[]; outcome: string[] } {
  const { sections } = querySections(query);
  const match = [...(sections.get('match') ?? '').matchAll(/\$([A-Za-z_][A-Za-z0-9_]*)/g)].map(
    (m) => m[1] as string,
  );
  const outcome = [...(sections.get('outcome') ?? '').matchAll(/^\s*\$([A-Za-z_][A-Za-z0-9_]*)\s*=/gm)].map(
    (m) => m[1] as string,
  );
  return { match, outcome };
}

/** The fields a chart shows: encode targets, table columns and the series column. */
export function chartFields(chart: DashboardChart): string[] {
  const v = chart.visualization ?? {};
  const fields: string[] = [];
  for (const s of (v.series as { encode?: Record<string, unknown> }[] | undefined) ?? []) {
    for (const key of ['x', 'y', 'value', 'itemName', 'item_name']) {
      const f = s.encode?.[key];
      if (typeof f === 'string' && f !== '') fields.push(f);
    }
  }
  for (const c of (v.columnDefs as { field?: unknown }[] | undefined) ?? []) {
    if (typeof c.field === 'string') fields.push(c.field);
  }
  for (const c of (v.seriesColumn as unknown[] | undefined) ?? []) if (typeof c === 'string') fields.push(c);
  return fields;
}

/** True when the chart reads UDM events (its queries must filter on the log type). */
export function readsEvents(chart: DashboardChart): boolean {
  return (chart.chartDatasource?.dataSources ?? []).includes('UDM');
}

/**
 * Everything wrong with a definition: the proto field list (names, types, enums, required fields),
 * then the links between its parts and the queries behind each chart. `logType` is the log type the
 * event queries must filter on. Each problem names where it is.
 */
export function checkDashboardFile(
  file: unknown,
  schema: DashboardSchema,
  logType = COMMITTED_LOG_TYPE,
): string[] {
  const problems = schema.check(file, 'InlineDestination');
  if (problems.length > 0) return problems;
  (file as DashboardFile).dashboards.forEach((bundle, d) => {
    problems.push(...checkBundle(bundle, `$.dashboards[${d}]`, logType));
  });
  return problems;
}

function checkBundle(bundle: DashboardBundle, at: string, logType: string): string[] {
  const problems: string[] = [];
  const add = (where: string, what: string) => problems.push(`${at}${where}: ${what}`);
  if (!bundle.dashboard) add('', 'no "dashboard"');
  const charts = bundle.dashboardCharts ?? [];
  const queries = bundle.dashboardQueries ?? [];
  const chartByName = new Map<string, DashboardChart>();
  charts.forEach((c, i) => {
    if (!c.name) add(`.dashboardCharts[${i}]`, 'a chart needs a name (definition.charts refer to it)');
    else if (chartByName.has(c.name)) add(`.dashboardCharts[${i}]`, `chart name "${c.name}" used twice`);
    else chartByName.set(c.name, c);
  });
  const queryByName = new Map<string, DashboardQuery>();
  queries.forEach((q, i) => {
    if (!q.name) add(`.dashboardQueries[${i}]`, 'a query needs a name (charts refer to it)');
    else if (queryByName.has(q.name)) add(`.dashboardQueries[${i}]`, `query name "${q.name}" used twice`);
    else queryByName.set(q.name, q);
  });

  const definition = (bundle.dashboard?.definition ?? {}) as {
    charts?: { dashboardChart?: string; chartLayout?: Record<string, number>; filtersIds?: string[] }[];
    filters?: { id?: string; chartIds?: string[] }[];
  };
  const filterIds = new Set<string>();
  (definition.filters ?? []).forEach((f, i) => {
    if (!f.id) add(`.dashboard.definition.filters[${i}]`, 'a filter needs an id');
    else if (filterIds.has(f.id))
      add(`.dashboard.definition.filters[${i}]`, `filter id "${f.id}" used twice`);
    else filterIds.add(f.id);
    for (const id of f.chartIds ?? []) {
      if (!chartByName.has(id))
        add(`.dashboard.definition.filters[${i}]`, `chartIds names no chart: "${id}"`);
    }
  });
  const placed = new Map<string, number>();
  const boxes: { name: string; x: number; y: number; w: number; h: number }[] = [];
  (definition.charts ?? []).forEach((c, i) => {
    const where = `.dashboard.definition.charts[${i}]`;
    const name = c.dashboardChart ?? '';
    if (!chartByName.has(name)) add(where, `dashboardChart names no chart in dashboardCharts: "${name}"`);
    if (placed.has(name)) add(where, `chart "${name}" is placed twice`);
    placed.set(name, i);
    for (const id of c.filtersIds ?? [])
      if (!filterIds.has(id)) add(where, `filtersIds names no filter: "${id}"`);
    const l = c.chartLayout ?? {};
    const x = Number(l.startX ?? 0);
    const y = Number(l.startY ?? 0);
    const w = Number(l.spanX ?? 0);
    const h = Number(l.spanY ?? 0);
    if (x < 0 || y < 0 || w < 1 || h < 1 || x + w > GRID_COLUMNS) {
      add(where, `chartLayout ${JSON.stringify(l)} is outside the ${GRID_COLUMNS}-column grid`);
    } else {
      for (const b of boxes) {
        if (x < b.x + b.w && b.x < x + w && y < b.y + b.h && b.y < y + h) {
          add(where, `chart "${name}" overlaps chart "${b.name}"`);
        }
      }
      boxes.push({ name, x, y, w, h });
    }
  });

  const used = new Map<string, string>();
  charts.forEach((chart, i) => {
    const where = `.dashboardCharts[${i}] ("${chart.displayName ?? chart.name}")`;
    if (chart.name && !placed.has(chart.name)) add(where, 'not placed in dashboard.definition.charts');
    const tile = chart.tileType ?? 'TILE_TYPE_VISUALIZATION';
    if (tile === 'TILE_TYPE_MARKDOWN' || tile === 'TILE_TYPE_BUTTON') {
      const part = tile === 'TILE_TYPE_MARKDOWN' ? 'markdown' : 'button';
      if (!chart.visualization?.[part]) add(where, `a ${tile} tile needs visualization.${part}`);
      if (chart.chartDatasource?.dashboardQuery) add(where, `a ${tile} tile takes no query`);
      return;
    }
    const queryName = chart.chartDatasource?.dashboardQuery ?? '';
    const query = queryByName.get(queryName);
    if (!query) {
      add(where, `chartDatasource.dashboardQuery names no query in dashboardQueries: "${queryName}"`);
      return;
    }
    const other = used.get(queryName);
    if (other !== undefined) add(where, `query "${queryName}" is already used by chart "${other}"`);
    used.set(queryName, chart.name ?? '');
    if ((chart.chartDatasource?.dataSources ?? []).length === 0)
      add(where, 'chartDatasource.dataSources is empty');
    const relative = (query.input as { relativeTime?: { timeUnit?: string; startTimeVal?: string | number } })
      ?.relativeTime;
    for (const source of chart.chartDatasource?.dataSources ?? []) {
      const days = Number(relative?.startTimeVal ?? 0) * (DAYS_PER_UNIT[relative?.timeUnit ?? ''] ?? 0);
      const max = MAX_DAYS[source];
      if (max !== undefined && days > max) {
        add(
          where,
          `query "${queryName}" reaches back ${Math.ceil(days)} days; ${source} data is kept ${max}`,
        );
      }
    }
    const text = query.query ?? '';
    const { sections, problems: sectionProblems } = querySections(text);
    for (const p of sectionProblems) add(where, `query "${queryName}": ${p}`);
    const { match, outcome } = queryColumns(text);
    const columns = new Set([...match, ...outcome]);
    const filter = sections.get('events') ?? '';
    for (const v of match) {
      if (!new RegExp(`\\$${v}\\b`).test(filter))
        add(where, `query "${queryName}": match variable $${v} is never set`);
    }
    for (const m of (sections.get('order') ?? '').matchAll(/\$([A-Za-z_][A-Za-z0-9_]*)/g)) {
      if (!columns.has(m[1] as string))
        add(where, `query "${queryName}": order: $${m[1]} is no match or outcome variable`);
    }
    for (const field of chartFields(chart)) {
      if (!columns.has(field)) {
        add(
          where,
          `shows "${field}", which query "${queryName}" does not return (it returns ${[...columns].join(', ')})`,
        );
      }
    }
    const filters = [...text.matchAll(LOG_TYPE_FILTER)].map((m) => m[1]);
    if (readsEvents(chart)) {
      if (filters.length !== 1 || filters[0] !== logType) {
        add(
          where,
          `query "${queryName}" reads UDM events: it needs exactly one metadata.log_type = "${logType}"`,
        );
      }
    } else if (filters.length > 0) {
      add(where, `query "${queryName}" filters on metadata.log_type but the chart reads no UDM events`);
    }
  });
  for (const name of queryByName.keys()) {
    if (!used.has(name)) add('.dashboardQueries', `query "${name}" is used by no chart`);
  }
  return problems;
}

export interface Customization {
  /** CHRONICLE_LOG_TYPE. */
  readonly logType: string;
  /** NAMESPACE, when set. */
  readonly namespace?: string | undefined;
  /** False = leave the namespace out of the queries even when it is set. */
  readonly namespaceFilter?: boolean;
}

/**
 * The definition fitted to an installation: each event query's `metadata.log_type = "GTI_IOC_STREAM"`
 * comparison gets the configured log type (only that literal, in that comparison), and with a
 * namespace each event query also keeps only events of that namespace or of none (see
 * NAMESPACE_FIELD), and the dashboard's name says which namespace it shows. Returns a new object.
 */
export function customizeDashboards(file: DashboardFile, options: Customization): DashboardFile {
  if (!LOG_TYPE_PATTERN.test(options.logType)) {
    throw new ValidationError(
      `CHRONICLE_LOG_TYPE: "${options.logType}" is not an upper-case log type like ${COMMITTED_LOG_TYPE}`,
    );
  }
  const namespace = options.namespaceFilter === false ? undefined : options.namespace;
  if (namespace !== undefined && !NAMESPACE.test(namespace)) {
    throw new ValidationError(`NAMESPACE: "${namespace}" must be up to 64 letters, digits, _ . -`);
  }
  const copy = structuredClone(file);
  copy.dashboards.forEach((bundle, d) => {
    const events = new Set(
      (bundle.dashboardCharts ?? [])
        .filter(readsEvents)
        .map((c) => c.chartDatasource?.dashboardQuery)
        .filter((n): n is string => n !== undefined),
    );
    for (const query of bundle.dashboardQueries ?? []) {
      if (!events.has(query.name ?? '')) continue;
      const text = query.query ?? '';
      const found = [...text.matchAll(LOG_TYPE_FILTER)];
      if (found.length !== 1 || found[0]?.[1] !== COMMITTED_LOG_TYPE) {
        throw new ValidationError(
          `dashboards[${d}] query "${query.name}": expected exactly one metadata.log_type = "${COMMITTED_LOG_TYPE}" to substitute`,
        );
      }
      const m = found[0];
      const end = m.index + m[0].length;
      let replaced = `${text.slice(0, m.index)}metadata.log_type = "${options.logType}"`;
      if (namespace !== undefined) {
        replaced += `\n(${NAMESPACE_FIELD} = "${namespace}" or ${NAMESPACE_FIELD} = "")`;
      }
      query.query = replaced + text.slice(end);
    }
    if (namespace !== undefined && bundle.dashboard?.displayName) {
      bundle.dashboard.displayName = `${bundle.dashboard.displayName} (${namespace})`;
    }
  });
  return copy;
}

/** The definition as the file format, 2-space JSON with a final newline (what `export` writes). */
export function formatDashboardFile(file: DashboardFile): string {
  return `${JSON.stringify(file, null, 2)}\n`;
}

/** The `nativeDashboards:import` request body for a definition file. */
export function buildImportRequest(file: DashboardFile): { source: { dashboards: DashboardBundle[] } } {
  return { source: { dashboards: file.dashboards } };
}

/** URL of `nativeDashboards:import` for the configured instance, with the configured base and version. */
export function importDashboardsUrl(target: ChronicleTarget): string {
  return instanceUrl(target, 'nativeDashboards:import');
}

/** After a timeout or a 5xx nobody knows whether the import happened. */
const MAYBE_IMPORTED = 'it may have been imported anyway: look in SecOps → Dashboards before importing again';

/**
 * POSTs the import. An import creates dashboards, so it is repeated only when the answer says it
 * was not processed (429, 503; Retry-After honoured), never after a timeout or a 500 that may have
 * imported it already. Errors are typed like the other Chronicle calls'.
 */
export async function callImportDashboards(
  url: string,
  body: unknown,
  headers: AuthHeaders,
  http: HttpSettings,
): Promise<unknown> {
  try {
    return await chronicleRequest(
      {
        what: 'nativeDashboards.import',
        permission: `${IMPORT_PERMISSION} (name unconfirmed) and chronicle.nativeDashboards.create`,
        method: 'POST',
        url,
        body,
        repeatable: 'unprocessed',
      },
      headers,
      http,
    );
  } catch (error) {
    if (error instanceof ChronicleError && (error.status === undefined || error.status >= 500))
      error.message += `; ${MAYBE_IMPORTED}`;
    throw error;
  }
}

export interface DashboardImportStatus {
  /** The dashboard's display name from the request. */
  readonly displayName: string;
  /** The resource name the API reports, if any. */
  readonly dashboard: string | undefined;
  readonly ok: boolean;
  /** google.rpc.Code name (OK, INVALID_ARGUMENT, ...). */
  readonly code: string;
  readonly message: string;
}

/**
 * Reads the per-dashboard statuses (camelCase or snake_case keys); one per dashboard sent, in order.
 * An answer with no results at all yields an empty list (the caller says so); a different count is
 * an error.
 */
export function parseImportResponse(
  body: unknown,
  sent: readonly DashboardBundle[],
): DashboardImportStatus[] {
  const results = (body as { results?: unknown } | null)?.results;
  if (results === undefined || (Array.isArray(results) && results.length === 0)) return [];
  if (!Array.isArray(results))
    throw new ValidationError('nativeDashboards:import answered "results" that is not a list');
  if (results.length !== sent.length) {
    throw new ValidationError(
      `nativeDashboards:import answered ${results.length} statuses for ${sent.length} dashboards`,
    );
  }
  return results.map((raw, i) => {
    const r = (raw ?? {}) as { dashboard?: unknown; status?: { code?: unknown; message?: unknown } };
    const number = typeof r.status?.code === 'number' ? r.status.code : 0;
    const code = RPC_CODES[number] ?? `code ${number}`;
    return {
      displayName: String(sent[i]?.dashboard?.displayName ?? `dashboard ${i + 1}`),
      dashboard: typeof r.dashboard === 'string' && r.dashboard !== '' ? r.dashboard : undefined,
      ok: number === 0,
      code,
      message: redact(typeof r.status?.message === 'string' ? r.status.message : ''),
    };
  });
}

/** Loads the committed field list (dashboard_fields.txt). */
export function loadDashboardSchema(path = DASHBOARD_FIELDS_FILE): DashboardSchema {
  return DashboardSchema.load(path);
}
