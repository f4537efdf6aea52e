import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { DashboardSchema } from '../../../../shared/chronicle/dashboard_schema.js';
import {
  buildImportRequest,
  customizeDashboards,
  DASHBOARD_FILE,
  type DashboardFile,
  importDashboardsUrl,
  NAMESPACE_FIELD,
  parseImportResponse,
  queryColumns,
  querySections,
  readDashboardFile,
} from '../../../../shared/chronicle/dashboards.js';
import { ValidationError } from '../../../../shared/core/errors.js';

const shipped = readDashboardFile(DASHBOARD_FILE);

/** A one-chart definition around the given query (UDM or detections). */
function withQuery(query: string, dataSources = ['UDM']): DashboardFile {
  return {
    dashboards: [
      {
        dashboard: {
          displayName: 'T',
          definition: { charts: [{ dashboardChart: 'c1', chartLayout: { spanX: 96, spanY: 8 } }] },
        },
        dashboardCharts: [
          {
            name: 'c1',
            displayName: 'C',
            chartDatasource: { dashboardQuery: 'q1', dataSources },
            visualization: { columnDefs: [{ field: 'n', header: 'n' }] },
          },
        ],
        dashboardQueries: [
          { name: 'q1', query, input: { relativeTime: { timeUnit: 'DAY', startTimeVal: '1' } } },
        ],
      },
    ],
  };
}
const queryText = (f: DashboardFile) => f.dashboards[0]?.dashboardQueries?.[0]?.query;

describe('dashboard substitution', () => {
  it('replaces only the literal compared with metadata.log_type', () => {
    const query = [
      'metadata.log_type = "GTI_IOC_STREAM"',
      'metadata.description != "GTI_IOC_STREAM notification"',
      'additional.fields["feed"] = "GTI_IOC_STREAM"',
      '$n = metadata.product_event_type',
      'match:',
      '  $n',
    ].join('\n');
    const out = customizeDashboards(withQuery(query), { logType: 'ACME_IOCS' });
    assert.equal(
      queryText(out),
      query.replace('metadata.log_type = "GTI_IOC_STREAM"', 'metadata.log_type = "ACME_IOCS"'),
    );
  });

  it('leaves the input alone, detection queries untouched, and adds the namespace only when asked', () => {
    const input = structuredClone(shipped);
    const out = customizeDashboards(input, { logType: 'ACME_IOCS', namespace: 'tenant-a' });
    assert.deepEqual(input, shipped, 'the input is not modified');
    const queries = out.dashboards[0]?.dashboardQueries ?? [];
    const detection = queries.find((q) => q.query?.startsWith('detection.'));
    assert.equal(
      detection?.query,
      shipped.dashboards[0]?.dashboardQueries?.find((q) => q.name === detection?.name)?.query,
    );
    const events = queries.filter((q) => q !== detection);
    assert.ok(events.length >= 5);
    for (const q of events) {
      assert.match(
        q.query ?? '',
        new RegExp(
          `^metadata\\.log_type = "ACME_IOCS"\\n\\(${NAMESPACE_FIELD.replace('.', '\\.')} = "tenant-a" or ${NAMESPACE_FIELD.replace('.', '\\.')} = ""\\)\\n`,
        ),
      );
    }
    assert.match(String(out.dashboards[0]?.dashboard?.displayName), /\(tenant-a\)$/);
    const off = customizeDashboards(shipped, {
      logType: 'ACME_IOCS',
      namespace: 'tenant-a',
      namespaceFilter: false,
    });
    assert.ok(!JSON.stringify(off).includes('tenant-a'));
    assert.deepEqual(
      customizeDashboards(shipped, { logType: 'GTI_IOC_STREAM' }),
      shipped,
      'the defaults change nothing',
    );
  });

  it('refuses a log type or namespace that could break a query, naming the variable', () => {
    for (const logType of [
      'gti_ioc',
      'A"B',
      'GTI\nX',
      '',
      `A${'B'.repeat(80)}`,
      'GTI_IOC_STREAM" or "1"="1',
    ]) {
      assert.throws(
        () => customizeDashboards(shipped, { logType }),
        (e: Error) => e instanceof ValidationError && /^CHRONICLE_LOG_TYPE:/.test(e.message),
        logType,
      );
    }
    for (const namespace of ['a"b', 'a b', 'x\\', '', 'n'.repeat(65)]) {
      assert.throws(
        () => customizeDashboards(shipped, { logType: 'X_Y', namespace }),
        /^ValidationError: NAMESPACE:|NAMESPACE:/,
        namespace,
      );
    }
  });

  it('refuses an event query whose log type filter is missing, doubled or different', () => {
    for (const query of [
      '$n = metadata.product_event_type\nmatch:\n  $n',
      'metadata.log_type = "GTI_IOC_STREAM"\nmetadata.log_type = "GTI_IOC_STREAM"\nmatch:\n  $n',
      'metadata.log_type = "OTHER"\n$n = metadata.id\nmatch:\n  $n',
      '// metadata.log_type = "GTI_IOC_STREAM" (the old filter)\nmetadata.log_type = "GTI_IOC_STREAM"\nmatch:\n  $n',
    ]) {
      assert.throws(
        () => customizeDashboards(withQuery(query), { logType: 'ACME_IOCS' }),
        /expected exactly one metadata\.log_type/,
        query,
      );
    }
    const quoted =
      'metadata.description != "metadata.log_type = \\"GTI_IOC_STREAM\\""\nmetadata.log_type = "GTI_IOC_STREAM"';
    assert.equal(
      queryText(customizeDashboards(withQuery(quoted), { logType: 'ACME_IOCS' })),
      quoted.replace(/"GTI_IOC_STREAM"$/, '"ACME_IOCS"'),
      'a filter quoted inside a string is not one',
    );
    const detections = withQuery('detection.detection.rule_name = /^x/\n$n = detection.id\nmatch:\n  $n', [
      'RULE_DETECTIONS',
    ]);
    assert.deepEqual(
      customizeDashboards(detections, { logType: 'ACME_IOCS', namespace: 'a' }).dashboards[0]
        ?.dashboardQueries,
      detections.dashboards[0]?.dashboardQueries,
    );
  });
});

describe('dashboard query sections', () => {
  it('splits sections, drops comments but not // inside strings', () => {
    const { sections, problems } = querySections(
      'metadata.url_back_to_product = "https://x/y" // the link\n$a = metadata.id\nmatch: $a\noutcome:\n  $n = count(metadata.id) // count\norder:\n  $n desc',
    );
    assert.deepEqual(problems, []);
    assert.equal(sections.get('events'), 'metadata.url_back_to_product = "https://x/y" \n$a = metadata.id');
    assert.equal(sections.get('match'), '$a');
    assert.deepEqual(queryColumns('$a = metadata.id\nmatch: $a\noutcome:\n  $n = count(metadata.id)'), {
      match: ['a'],
      outcome: ['n'],
    });
  });

  it('reports sections out of order, twice, or a query without a filter', () => {
    assert.match(querySections('$a = x.y\noutcome:\n $n = 1\nmatch:\n $a').problems.join(), /out of order/);
    assert.match(querySections('$a = x.y\nmatch: $a\nmatch: $a').problems.join(), /appears twice/);
    assert.match(querySections('match: $a').problems.join(), /no filter/);
    assert.match(querySections('$a = x.y').problems.join(), /needs a match: or outcome: section/);
    assert.match(
      querySections('$a = x.y\nmatch: $a\ncondition: $a').problems.join(),
      /no condition: section/,
    );
  });
});

describe('dashboard field list checker', () => {
  const schema = DashboardSchema.parse(
    [
      'Root.name string required',
      'Root.child_node Root',
      'Root.count int32',
      'Root.big int64',
      'Root.when Timestamp',
      'Root.kind Kind',
      'Root.a string',
      'Root.b string',
      'Root.parent string path',
      'oneof Root a b',
      'enum Kind K_UNSPECIFIED ONE TWO',
    ].join('\n'),
  );

  it('accepts proto3 JSON in either field spelling', () => {
    assert.deepEqual(
      schema.check(
        {
          name: 'x',
          childNode: { name: 'y', child_node: { name: 'z' } },
          big: '123',
          kind: 'TWO',
          when: '2026-01-01T00:00:00Z',
        },
        'Root',
      ),
      [],
    );
  });

  it('names every problem with its path', () => {
    const problems = schema.check(
      {
        childNode: { extra: 1, childNode: { name: 3 } },
        count: 2 ** 31,
        big: 'many',
        kind: 'THREE',
        a: 'x',
        b: 'y',
        parent: 'p',
        name: 'n',
        when: 'yesterday',
      },
      'Root',
    );
    for (const expected of [
      /\$\.childNode: required field "name" is missing/,
      /\$\.childNode\.childNode\.name: expected a string/,
      /\$\.childNode: unknown field "extra"/,
      /\$\.count: expected a 32-bit integer/,
      /\$\.big: expected a 64-bit integer/,
      /\$\.kind: "THREE" is not a Kind/,
      /only one of a, b may be set/,
      /\$\.parent: "parent" comes from the URL path/,
      /\$\.when: expected an RFC 3339 timestamp/,
    ]) {
      assert.ok(
        problems.some((p) => expected.test(p)),
        `${expected}: ${problems.join(' | ')}`,
      );
    }
  });

  it('stops at a hostile nesting depth', () => {
    let deep: Record<string, unknown> = { name: 'x' };
    for (let i = 0; i < 5000; i++) deep = { name: 'x', childNode: deep };
    assert.match(schema.check(deep, 'Root').join(), /nested deeper than 32 levels/);
  });

  it('rejects a malformed field list', () => {
    assert.throws(() => DashboardSchema.parse('A.b Missing'), /types used but not defined: Missing/);
    assert.throws(() => DashboardSchema.parse('A.b string wrong'), /unknown flag "wrong"/);
    assert.throws(() => DashboardSchema.parse('A.b string\nA.b string'), /listed twice/);
  });
});

describe('dashboard import request and answer', () => {
  it('posts the file content as source to nativeDashboards:import under the configured base and version', () => {
    assert.deepEqual(buildImportRequest(shipped), { source: { dashboards: shipped.dashboards } });
    assert.equal(
      importDashboardsUrl({
        baseUrl: 'https://eu-chronicle.googleapis.com',
        apiVersion: 'v1',
        projectId: 'p',
        region: 'eu',
        customerId: 'c',
        logType: 'X',
      }),
      'https://eu-chronicle.googleapis.com/v1/projects/p/locations/eu/instances/c/nativeDashboards:import',
    );
  });

  it('reads per-dashboard statuses (OK is an empty status) and refuses a wrong count', () => {
    const sent = [{ dashboard: { displayName: 'A' } }, { dashboard: { displayName: 'B' } }];
    const statuses = parseImportResponse(
      {
        results: [
          { dashboard: 'projects/p/nativeDashboards/1', status: {} },
          { status: { code: 3, message: 'invalid query: line 2' } },
        ],
      },
      sent,
    );
    assert.deepEqual(
      statuses.map((s) => [s.displayName, s.ok, s.code, s.message]),
      [
        ['A', true, 'OK', ''],
        ['B', false, 'INVALID_ARGUMENT', 'invalid query: line 2'],
      ],
    );
    assert.deepEqual(parseImportResponse({}, sent), []);
    assert.throws(() => parseImportResponse({ results: [{}] }, sent), /1 statuses for 2 dashboards/);
    assert.throws(() => parseImportResponse({ results: 'x' }, sent), /not a list/);
  });
});
