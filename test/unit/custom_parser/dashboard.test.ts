/**
 * Offline checks of the SecOps native dashboard (custom_parser/dashboards/ioc_stream.json): its shape
 * against the published protos' field list, the links between its parts, the charts a hunter expects,
 * and — the check that catches parser changes — that every UDM field a query reads is one the parser
 * writes (derived from ioc_stream.parser itself) or one SecOps sets, and that the detection chart
 * only reads detection fields from a named list.
 */
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import {
  COMMITTED_LOG_TYPE,
  checkDashboardFile,
  customizeDashboards,
  DASHBOARD_FIELDS_FILE,
  DASHBOARD_FILE,
  type DashboardBundle,
  type DashboardChart,
  type DashboardFile,
  loadDashboardSchema,
  NAMESPACE_FIELD,
  querySections,
  RULE_PREFIX,
  readDashboardFile,
} from '../../../shared/chronicle/dashboards.js';
import { IGNORED_EVENT_FIELDS } from '../../../shared/chronicle/parser_validation.js';
import { UdmSchema } from '../../../sim/udm_schema.js';
import { type CbnStatement, parseCbn, walk, writtenFields } from '../../helpers/cbn.js';

const DIR = fileURLToPath(new URL('../../../../custom_parser/', import.meta.url));
const UDM_PREFIX = 'event.idm.read_only_udm.';
const udm = UdmSchema.load(join(DIR, 'udm_fields.txt'));
const schema = loadDashboardSchema();
const file = readDashboardFile(DASHBOARD_FILE);
const bundle = file.dashboards[0] as DashboardBundle;
const charts = bundle.dashboardCharts ?? [];
/** The parts of a chart's visualization and of a dashboard's definition the tests look at. */
interface Visualization {
  series: { seriesType: string }[];
  columnDefs: { field: string; header?: string }[];
  seriesColumn?: string[];
}
interface Definition {
  charts: { dashboardChart: string; chartLayout: { startY: number } }[];
  filters: { dataSource: string; isStandardTimeRangeFilter: boolean; chartIds: string[] }[];
}
const vis = (chart: DashboardChart | undefined) => (chart?.visualization ?? {}) as unknown as Visualization;
const definitionOf = (b: DashboardBundle | undefined) =>
  (b?.dashboard?.definition ?? {}) as unknown as Definition;
const queryOf = (chart: DashboardChart): string =>
  bundle.dashboardQueries?.find((q) => q.name === chart.chartDatasource?.dashboardQuery)?.query ?? '';

// ---------------------------------------------------------------- who writes which fields

/** A set of UDM paths (snake_case, no indexes) and, for map-like fields, the keys written into them. */
interface FieldSource {
  readonly description: string;
  readonly paths: ReadonlySet<string>;
  /** `additional.fields` -> {"origin", ...}; a map-like path missing here accepts no key. */
  readonly keys: ReadonlyMap<string, ReadonlySet<string>>;
}

/**
 * What ioc_stream.parser writes, read from the parser: direct `event.idm.read_only_udm.*` targets, and
 * temporaries (`_sr`, `_l`, `_f`, ...) followed through the merges that put them into UDM, with the
 * literal keys given to the temporaries that become Label / Struct entries.
 */
function parserFields(statements: readonly CbnStatement[]): FieldSource {
  const merges: { target: string; source: string }[] = [];
  const keyWrites: { temp: string; key: string }[] = [];
  walk(statements, (s) => {
    if (s.kind !== 'plugin' || s.name !== 'mutate') return;
    for (const opt of s.options) {
      if (opt.value.kind !== 'hash') continue;
      for (const e of opt.value.entries) {
        if (opt.key === 'merge' && e.value.kind === 'string' && e.value.value.startsWith('_')) {
          merges.push({ target: e.key, source: e.value.value });
        }
        if (opt.key === 'replace' && /^_[a-z]+\.key$/.test(e.key) && e.value.kind === 'string') {
          if (!e.value.value.includes('%{')) keyWrites.push({ temp: e.key.slice(0, -4), key: e.value.value });
        }
      }
    }
  });
  // temporary -> the UDM paths it is merged into (a temporary may be merged into several).
  const prefixes = new Map<string, Set<string>>();
  const udmPaths = (path: string): string[] => {
    if (path.startsWith(UDM_PREFIX)) return [path.slice(UDM_PREFIX.length)];
    const [head, ...rest] = path.split('.');
    return [...(prefixes.get(head ?? '') ?? [])].map((p) => [p, ...rest].join('.'));
  };
  for (let round = 0; round < 6; round++) {
    for (const m of merges) {
      const set = prefixes.get(m.source) ?? new Set<string>();
      for (const p of udmPaths(m.target)) set.add(p);
      prefixes.set(m.source, set);
    }
  }
  const paths = new Set<string>();
  for (const w of writtenFields(statements)) {
    for (const p of udmPaths(w.path)) {
      const parts = p.split('.');
      for (let i = 1; i <= parts.length; i++) paths.add(parts.slice(0, i).join('.'));
    }
  }
  const keys = new Map<string, Set<string>>();
  for (const { temp, key } of keyWrites) {
    for (const p of prefixes.get(temp) ?? []) {
      const set = keys.get(p) ?? new Set<string>();
      set.add(key);
      keys.set(p, set);
    }
  }
  return { description: 'written by custom_parser/ioc_stream.parser', paths, keys };
}

const PARSER = parserFields(parseCbn(readFileSync(join(DIR, 'ioc_stream.parser'), 'utf8')));

/** Set by SecOps at ingestion, not by the parser (the same list the parser validation ignores). */
const SET_BY_SECOPS: FieldSource = {
  description: 'set by SecOps at ingestion',
  paths: new Set([...IGNORED_EVENT_FIELDS, NAMESPACE_FIELD]),
  keys: new Map(),
};

/**
 * Detection fields (YARA-L prefix `detection`, data source RULE_DETECTIONS) the dashboard may read.
 * Sources: Google's composite-rule documentation (`$d.detection.detection.rule_name`) and public
 * detection statistics queries (`detection.id`, `detection.detection_time.seconds`). *Unconfirmed*
 * for dashboards; extend only with a source.
 */
const DETECTION_FIELDS: FieldSource = {
  description: 'detection fields (named list)',
  paths: new Set(['detection.id', 'detection.detection.rule_name', 'detection.detection_time']),
  keys: new Map(),
};

/**
 * The field sources each chart data source may read. ENTITY (YARA-L prefix `graph`) gets the
 * entity builder's fields once it exists: until then a chart over entities fails this test.
 */
const SOURCES_BY_DATA_SOURCE: Record<string, readonly FieldSource[]> = {
  UDM: [PARSER, SET_BY_SECOPS],
  RULE_DETECTIONS: [DETECTION_FIELDS],
  ENTITY: [],
};

/** Prefixes a query path starts with per data source (events have none, detections `detection.`). */
const ROOTS = new Set([...(udm.fields.get('UDM')?.keys() ?? []), 'detection', 'graph']);

interface FieldRef {
  readonly path: string;
  readonly key?: string;
}

/** UDM / detection field references in a query (function names, strings and regexes left out). */
function fieldRefs(query: string): FieldRef[] {
  const { sections } = querySections(query);
  let text = [...sections.values()].join('\n');
  const refs: FieldRef[] = [];
  text = text.replace(/([a-z_][a-z0-9_.]*)\["([^"]*)"\]/g, (_, path: string, key: string) => {
    refs.push({ path, key });
    return ' ';
  });
  text = text.replace(/"(?:[^"\\]|\\.)*"/g, '""').replace(/=\s*\/(?:[^/\\\n]|\\.)+\/[a-z]*/g, '= ""');
  for (const m of text.matchAll(/(?<![\w.$])([a-z_][a-z0-9_]*(?:\.[a-z_][a-z0-9_]*)+)(\s*\()?/g)) {
    if (m[2]) continue; // a function call: timestamp.get_date(...)
    refs.push({ path: m[1] as string });
  }
  return refs;
}

/** Why a reference is not allowed for a chart of these data sources, or undefined. */
function refProblem(ref: FieldRef, dataSources: readonly string[]): string | undefined {
  const root = ref.path.split('.')[0] ?? '';
  if (!ROOTS.has(root)) return `"${ref.path}" is no UDM or detection field`;
  let path = ref.path;
  const sources = dataSources.flatMap((d) => SOURCES_BY_DATA_SOURCE[d] ?? []);
  if (root !== 'detection' && root !== 'graph') {
    let r = udm.resolve(path);
    const cut = path.lastIndexOf('.');
    if (!r.ok && /\.(seconds|nanos)$/.test(path) && udm.resolve(path.slice(0, cut)).type === 'Timestamp') {
      path = path.slice(0, cut);
      r = udm.resolve(path);
    }
    if (!r.ok) return `"${ref.path}" is not in the UDM field list: ${r.reason}`;
  } else if (/\.(seconds|nanos)$/.test(path)) {
    path = path.slice(0, path.lastIndexOf('.'));
  }
  const from = sources.find((s) => s.paths.has(path));
  if (!from) {
    return `"${ref.path}" is not ${sources.map((s) => s.description).join(' or ') || 'readable from these data sources'}`;
  }
  if (ref.key !== undefined && !(from.keys.get(path)?.has(ref.key) ?? false)) {
    return `${path}["${ref.key}"]: the key "${ref.key}" is not ${from.description}`;
  }
  return undefined;
}

function fieldProblems(f: DashboardFile): string[] {
  return f.dashboards.flatMap((b) =>
    (b.dashboardCharts ?? []).flatMap((chart) => {
      const q = b.dashboardQueries?.find((x) => x.name === chart.chartDatasource?.dashboardQuery);
      if (!q) return [];
      const sources = chart.chartDatasource?.dataSources ?? [];
      return fieldRefs(q.query ?? '')
        .map((ref) => refProblem(ref, sources))
        .filter((p): p is string => p !== undefined)
        .map((p) => `${chart.displayName}: ${p}`);
    }),
  );
}

// ---------------------------------------------------------------- tests

describe('dashboard field list (dashboard_fields.txt)', () => {
  test('names its source and commit, and holds the import request and the three protos', () => {
    const header = readFileSync(DASHBOARD_FIELDS_FILE, 'utf8').split('\n').slice(0, 20).join('\n');
    assert.match(header, /googleapis\/googleapis/);
    assert.match(header, /native_dashboard\.proto, dashboard_chart\.proto and dashboard_query\.proto/);
    assert.match(header, /commit [0-9a-f]{40}/);
    for (const m of [
      'ImportNativeDashboardsRequest',
      'NativeDashboard',
      'DashboardChart.Visualization.Series',
      'DashboardQuery.Input.RelativeTime',
    ]) {
      assert.ok(schema.messages.has(m), m);
    }
    assert.deepEqual(schema.enums.get('TileType'), [
      'TILE_TYPE_UNSPECIFIED',
      'TILE_TYPE_VISUALIZATION',
      'TILE_TYPE_BUTTON',
      'TILE_TYPE_MARKDOWN',
    ]);
    assert.ok(schema.enums.get('DataSource')?.includes('RULE_DETECTIONS'));
    assert.equal(schema.field('NativeDashboard', 'displayName')?.required, true);
    assert.equal(schema.field('DashboardQuery', 'input')?.required, true);
  });
});

describe('dashboard definition (ioc_stream.json)', () => {
  test('matches the protos and its parts link up', () => {
    assert.deepEqual(checkDashboardFile(file, schema), []);
  });

  test('the checks catch what a careless edit breaks', () => {
    const broken = (edit: (b: DashboardBundle) => void): string[] => {
      const copy = structuredClone(file);
      edit(copy.dashboards[0] as DashboardBundle);
      return checkDashboardFile(copy, schema);
    };
    const chart = (b: DashboardBundle, title: string) =>
      b.dashboardCharts?.find((c) => c.displayName === title) as DashboardChart;
    const cases: [string, (b: DashboardBundle) => void, RegExp][] = [
      [
        'unknown field',
        (b) => Object.assign(chart(b, 'Top Livehunt rules'), { colour: 'red' }),
        /unknown field "colour"/,
      ],
      [
        'unknown enum value',
        (b) => {
          const s = vis(chart(b, 'Notifications by indicator type')).series[0];
          if (s) s.seriesType = 'DONUT';
        },
        /"DONUT" is not a SeriesType/,
      ],
      [
        'missing required field',
        (b) => delete b.dashboard?.displayName,
        /required field "displayName" is missing/,
      ],
      [
        'chart pointing at no query',
        (b) =>
          Object.assign(chart(b, 'Top Livehunt rules').chartDatasource ?? {}, { dashboardQuery: 'nope' }),
        /names no query in dashboardQueries: "nope"/,
      ],
      [
        'placed chart that does not exist',
        (b) => {
          const placed = definitionOf(b).charts[0];
          if (placed) placed.dashboardChart = 'ghost';
        },
        /dashboardChart names no chart in dashboardCharts: "ghost"/,
      ],
      [
        'column the query does not return',
        (b) => vis(chart(b, 'Top Livehunt rules')).columnDefs.push({ field: 'owner' }),
        /shows "owner", which query .* does not return/,
      ],
      [
        'overlapping charts',
        (b) => {
          for (const p of definitionOf(b).charts) p.chartLayout.startY = 0;
        },
        /overlaps chart/,
      ],
      [
        'event query without the log type filter',
        (b) => {
          const q = b.dashboardQueries?.find((x) => x.query?.includes('product_event_type'));
          if (q) q.query = q.query?.replace(/metadata\.log_type = "GTI_IOC_STREAM"\n/, '');
        },
        /needs exactly one metadata\.log_type = "GTI_IOC_STREAM"/,
      ],
      [
        'int64 that is not a number',
        (b) => {
          const q = b.dashboardQueries?.[0] as { input: { relativeTime: { startTimeVal: string } } };
          q.input.relativeTime.startTimeVal = 'a week';
        },
        /startTimeVal: expected a 64-bit integer/,
      ],
      [
        'a window longer than events are kept',
        (b) => {
          const q = b.dashboardQueries?.[0] as {
            input: { relativeTime: { timeUnit: string; startTimeVal: string } };
          };
          q.input.relativeTime = { timeUnit: 'WEEK', startTimeVal: '20' };
        },
        /reaches back 140 days; UDM data is kept 90/,
      ],
      [
        'a rule-style condition section',
        (b) => {
          const q = b.dashboardQueries?.[0];
          if (q) q.query = `${q.query}\ncondition:\n  $notifications > 0`;
        },
        /take no condition: section/,
      ],
    ];
    for (const [what, edit, expected] of cases) {
      const problems = broken(edit);
      assert.ok(
        problems.some((p) => expected.test(p)),
        `${what}: ${problems.join(' | ') || 'no problem reported'}`,
      );
    }
  });

  test('has the charts a hunter looks at first', () => {
    const find = (what: string, ok: (chart: DashboardChart, query: string) => boolean) => {
      const found = charts.filter((c) => ok(c, queryOf(c)));
      assert.equal(found.length, 1, what);
      return found[0] as DashboardChart;
    };
    const over = find(
      'notifications over time by origin',
      (_, q) =>
        /timestamp\.get_date\(metadata\.event_timestamp\.seconds\)/.test(q) &&
        /additional\.fields\["origin"\]/.test(q),
    );
    assert.deepEqual(vis(over).seriesColumn, ['origin']);
    find(
      'top Livehunt rules',
      (_, q) => /origin"\] = "hunting"/.test(q) && /\$rule = security_result\.rule_name/.test(q),
    );
    const byType = find('by indicator type', (_, q) =>
      /\$type = metadata\.product_event_type\nmatch:\n {2}\$type\n/.test(q),
    );
    assert.equal(vis(byType).series[0]?.seriesType, 'PIE');
    find(
      'verdict / severity',
      (_, q) => /security_result\.severity/.test(q) && /security_result\.threat_verdict/.test(q),
    );
    const high = find('newest high-severity indicators', (_, q) => /"HIGH"/.test(q) && /"CRITICAL"/.test(q));
    const highQuery = queryOf(high);
    assert.match(highQuery, /metadata\.url_back_to_product/);
    assert.match(highQuery, /security_result\.rule_name/);
    assert.match(highQuery, /order:\n {2}\$last_seen desc/);
    const seen = find('seen in your telemetry', (c) =>
      (c.chartDatasource?.dataSources ?? []).includes('RULE_DETECTIONS'),
    );
    assert.match(queryOf(seen), new RegExp(`detection\\.detection\\.rule_name = /\\^${RULE_PREFIX}/`));
  });

  test('every query has a relative time window and the dashboard a global time filter over every data chart', () => {
    for (const q of bundle.dashboardQueries ?? []) {
      const rel = (q.input as { relativeTime?: { timeUnit: string; startTimeVal: string } } | undefined)
        ?.relativeTime;
      assert.ok(rel && Number(rel.startTimeVal) > 0, `${q.name}: relativeTime`);
    }
    const time = definitionOf(bundle).filters.find(
      (f) => f.dataSource === 'GLOBAL' && f.isStandardTimeRangeFilter,
    );
    assert.ok(time);
    const dataCharts = charts.filter((c) => c.chartDatasource).map((c) => c.name);
    assert.deepEqual([...time.chartIds].sort(), [...dataCharts].sort());
  });

  test('reads only fields the parser writes or SecOps sets (derived from the parser), and named detection fields', () => {
    assert.ok(PARSER.paths.has('security_result.rule_name'), 'parser fields are derived through _sr');
    assert.ok(PARSER.keys.get('additional.fields')?.has('origin'), 'additional keys are derived through _f');
    const refs = charts.flatMap((c) => fieldRefs(queryOf(c)));
    assert.ok(refs.length > 20, `${refs.length} field references found`);
    assert.deepEqual(fieldProblems(file), []);
  });

  test('the field check fails when the parser stops writing a field a chart reads', () => {
    const copy = structuredClone(file);
    const q = copy.dashboards[0]?.dashboardQueries?.find((x) => x.query?.includes('product_event_type'));
    assert.ok(q?.query);
    q.query = q.query.replace('$type = metadata.product_event_type', '$type = target.process.command_line');
    const problems = fieldProblems(copy);
    assert.ok(
      problems.some((p) => /"target\.process\.command_line" is not written by/.test(p)),
      problems.join(' | '),
    );
    const keyed = structuredClone(file);
    const k = keyed.dashboards[0]?.dashboardQueries?.find((x) => x.query?.includes('"hunting"'));
    assert.ok(k?.query);
    k.query = k.query.replace(
      'additional.fields["origin"] = "hunting"',
      'additional.fields["source"] = "hunting"',
    );
    assert.ok(fieldProblems(keyed).some((p) => /key "source" is not written/.test(p)));
    const typo = structuredClone(file);
    const t = typo.dashboards[0]?.dashboardQueries?.[0];
    assert.ok(t?.query);
    t.query = t.query.replace('metadata.event_timestamp', 'metdata.event_timestamp');
    assert.ok(
      fieldProblems(typo).some((p) =>
        /"metdata\.event_timestamp\.seconds" is no UDM or detection field/.test(p),
      ),
    );
    const entity = structuredClone(file);
    const seen = entity.dashboards[0]?.dashboardCharts?.find((c) =>
      c.chartDatasource?.dataSources?.includes('RULE_DETECTIONS'),
    );
    assert.ok(seen?.chartDatasource);
    seen.chartDatasource.dataSources = ['ENTITY'];
    assert.ok(
      fieldProblems(entity).some((p) => /readable from these data sources/.test(p)),
      'no entity fields yet',
    );
  });

  test('the detection chart covers every shipped rule (their names carry the prefix)', () => {
    const names = readdirSync(join(DIR, 'rules'))
      .filter((f) => f.endsWith('.yaral'))
      .map((f) => /\brule\s+([a-z0-9_]+)\s*\{/.exec(readFileSync(join(DIR, 'rules', f), 'utf8'))?.[1] ?? f);
    assert.ok(names.length > 0);
    for (const n of names) assert.ok(n.startsWith(RULE_PREFIX), n);
  });

  test('fitted to another log type and a namespace it still passes every check', () => {
    const fitted = customizeDashboards(file, { logType: 'ACME_GTI_IOCS', namespace: 'tenant-a' });
    assert.deepEqual(checkDashboardFile(fitted, schema, 'ACME_GTI_IOCS'), []);
    assert.deepEqual(fieldProblems(fitted), []);
    assert.ok(!JSON.stringify(fitted).includes(COMMITTED_LOG_TYPE));
  });
});
