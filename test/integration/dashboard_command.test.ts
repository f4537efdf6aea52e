/**
 * `ioc-stream dashboard export|import` end to end: the real command against the Chronicle simulator's
 * nativeDashboards:import on loopback, with credentials from the metadata server fake (the real
 * google-auth-library and got code paths, no mocks).
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, beforeEach, describe, test } from 'node:test';
import { main } from '../../cli/main.js';
import {
  buildImportRequest,
  checkDashboardFile,
  customizeDashboards,
  DASHBOARD_FILE,
  type DashboardFile,
  loadDashboardSchema,
  readDashboardFile,
} from '../../shared/chronicle/dashboards.js';
import type { DashboardImportFault } from '../../sim/chronicle_dashboards.js';
import { type ChronicleSimulator, startChronicleSimulator } from '../../sim/chronicle_simulator.js';
import { cliContext } from '../helpers/cli.js';
import { type MetadataFake, startMetadataFake } from '../helpers/metadata_fake.js';
import { assertNoSecretFragment } from '../helpers/secrets.js';

const TOKEN = 'fake-token-that-must-never-be-printed';
const CUSTOMER = '0b1c2d3e-4f50-4617-8293-a4b5c6d7e8f9';
const IMPORT_PATH = `/v1alpha/projects/secops-project/locations/eu/instances/${CUSTOMER}/nativeDashboards:import`;
const everything: string[] = [];

interface Run {
  code: number;
  out: string;
  err: string;
}

async function run(argv: string[], env: NodeJS.ProcessEnv): Promise<Run> {
  const c = cliContext(env, undefined, everything);
  const code = await main(['dashboard', ...argv], c.ctx);
  return { code, out: c.out().stdout, err: c.out().stderr };
}

describe('ioc-stream dashboard', () => {
  let metadata: MetadataFake;
  let sim: ChronicleSimulator;
  let env: NodeJS.ProcessEnv;
  let scratch: string;
  const faults: (DashboardImportFault | undefined)[] = [];
  let status: { code: number; message: string } | undefined;

  before(async () => {
    metadata = await startMetadataFake({ token: TOKEN, projectId: 'test-project' });
    sim = await startChronicleSimulator({
      acceptToken: (t) => t === TOKEN,
      dashboards: { fault: () => faults.shift(), status: () => status },
    });
    scratch = mkdtempSync(join(tmpdir(), 'dashboard-command-'));
    // google-auth-library reads process.env itself: point it at the metadata fake, and away from any
    // Application Default Credentials file on this machine.
    process.env.METADATA_SERVER_DETECTION = 'assume-present';
    process.env.GCE_METADATA_HOST = metadata.host;
    process.env.CLOUDSDK_CONFIG = join(scratch, 'gcloud');
    delete process.env.GOOGLE_APPLICATION_CREDENTIALS;
    env = {
      CHRONICLE_CUSTOMER_ID: CUSTOMER,
      CHRONICLE_PROJECT_ID: 'secops-project',
      CHRONICLE_REGION: 'eu',
      CHRONICLE_API_BASE_URL: sim.baseUrl,
      CHRONICLE_API_VERSION: 'v1alpha',
      HTTP_TIMEOUT_SECONDS: '10',
      RETRY_MAX_ATTEMPTS: '3',
    };
  });

  beforeEach(() => {
    faults.length = 0;
    status = undefined;
  });

  after(async () => {
    await sim.close();
    await metadata.close();
    rmSync(scratch, { recursive: true, force: true });
    assertNoSecretFragment(everything.join(''), TOKEN, 'dashboard command output');
  });

  test('export prints the shipped definition fitted to the configured log type and namespace', async () => {
    const before = sim.dashboards.requests.length;
    const r = await run(['export'], { CHRONICLE_LOG_TYPE: 'ACME_GTI_IOCS', NAMESPACE: 'tenant-a' });
    assert.equal(r.code, 0, r.err);
    const printed = JSON.parse(r.out) as DashboardFile;
    const expected = customizeDashboards(readDashboardFile(DASHBOARD_FILE), {
      logType: 'ACME_GTI_IOCS',
      namespace: 'tenant-a',
    });
    assert.deepEqual(printed, expected);
    assert.deepEqual(checkDashboardFile(printed, loadDashboardSchema(), 'ACME_GTI_IOCS'), []);
    assert.match(r.err, /target\.namespace "tenant-a" or none .*unconfirmed/);
    assert.equal(sim.dashboards.requests.length, before, 'export sends nothing');
  });

  test('export --out writes a file the UI import (and --file) can read', async () => {
    const out = join(scratch, 'ioc_stream_export.json');
    const r = await run(['export', '--out', out], {});
    assert.equal(r.code, 0, r.err);
    assert.equal(r.out, '');
    assert.match(r.err, /Wrote .*ioc_stream_export\.json/);
    const written = readDashboardFile(out);
    assert.deepEqual(written, readDashboardFile(DASHBOARD_FILE), 'the default log type changes nothing');
    const again = await run(['import', '--dry-run', '--file', out], {});
    assert.equal(again.code, 0, again.err);
  });

  test('import --dry-run prints the request body and needs neither an instance nor credentials', async () => {
    const tokensBefore = metadata.tokenRequests;
    const requestsBefore = sim.dashboards.requests.length;
    const r = await run(['import', '--dry-run'], { CHRONICLE_LOG_TYPE: 'ACME_GTI_IOCS' });
    assert.equal(r.code, 0, r.err);
    const body = JSON.parse(r.out) as unknown;
    assert.deepEqual(
      body,
      buildImportRequest(
        customizeDashboards(readDashboardFile(DASHBOARD_FILE), { logType: 'ACME_GTI_IOCS' }),
      ),
    );
    assert.match(r.err, /Dry run: nothing was sent/);
    assert.equal(metadata.tokenRequests, tokensBefore);
    assert.equal(sim.dashboards.requests.length, requestsBefore);
    const configured = await run(['import', '--dry-run'], env);
    assert.match(configured.err, new RegExp(`would be POSTed to ${sim.baseUrl}${IMPORT_PATH}`));
  });

  test('import without an instance names what is missing and sends nothing', async () => {
    const before = sim.dashboards.requests.length;
    const r = await run(['import'], { CHRONICLE_REGION: 'eu' });
    assert.equal(r.code, 2);
    assert.match(r.err, /nothing was imported: no SecOps instance configured/);
    assert.match(r.err, /CHRONICLE_CUSTOMER_ID: required/);
    assert.match(r.err, /CHRONICLE_PROJECT_ID or GCP_PROJECT_ID: required/);
    assert.equal(sim.dashboards.requests.length, before);
  });

  test('import posts the definition to nativeDashboards:import and reports the dashboard', async () => {
    const importedBefore = sim.dashboards.imported.length;
    const r = await run(['import'], { ...env, CHRONICLE_LOG_TYPE: 'ACME_GTI_IOCS' });
    assert.equal(r.code, 0, r.out + r.err);
    const request = sim.dashboards.requests.at(-1);
    assert.equal(request?.path, IMPORT_PATH);
    assert.equal(request?.status, 200);
    const expected = buildImportRequest(
      customizeDashboards(readDashboardFile(DASHBOARD_FILE), { logType: 'ACME_GTI_IOCS' }),
    );
    assert.deepEqual(request?.body, expected, 'import sends what export prints');
    assert.equal(sim.dashboards.imported.length, importedBefore + 1);
    const imported = sim.dashboards.imported.at(-1);
    assert.equal(imported?.displayName, 'GTI IOC Stream: Livehunt results');
    assert.match(
      r.out,
      /^OK\s+GTI IOC Stream: Livehunt results \(projects\/secops-project\/locations\/eu\/instances\/.*\/nativeDashboards\/[0-9a-f-]{36}\)\n/m,
    );
    assert.match(r.out, /Imported 1 dashboard\(s\)/);
    assert.match(r.err, /Importing 1 dashboard\(s\) \(7 charts, log type ACME_GTI_IOCS\)/);
    assert.ok(metadata.tokenRequests >= 1, 'the token came from the metadata server');
  });

  test('import follows CHRONICLE_API_VERSION', async () => {
    const r = await run(['import'], { ...env, CHRONICLE_API_VERSION: 'v1beta' });
    assert.equal(r.code, 0, r.out + r.err);
    assert.equal(sim.dashboards.requests.at(-1)?.path, IMPORT_PATH.replace('/v1alpha/', '/v1beta/'));
    assert.equal(sim.dashboards.imported.at(-1)?.apiVersion, 'v1beta');
  });

  test('a dashboard the API refuses (an invalid query) is reported and nothing is imported', async () => {
    status = { code: 3, message: 'query 7c4d8a2f: invalid field "target.file.sha257"' };
    const importedBefore = sim.dashboards.imported.length;
    const r = await run(['import'], env);
    assert.equal(r.code, 1);
    assert.match(
      r.out,
      /^FAILED\s+GTI IOC Stream: Livehunt results: INVALID_ARGUMENT: query 7c4d8a2f: invalid field "target\.file\.sha257"\n/m,
    );
    assert.match(r.out, /Nothing was imported \(the import is all-or-nothing\)/);
    assert.equal(sim.dashboards.imported.length, importedBefore);
  });

  test('a permission error names the cause and the permission', async () => {
    faults.push({
      status: 403,
      rpcStatus: 'PERMISSION_DENIED',
      message: "Permission 'chronicle.nativeDashboards.import' denied",
    });
    const r = await run(['import'], env);
    assert.equal(r.code, 1);
    assert.match(
      r.err,
      /failed: ChroniclePermanentError: nativeDashboards\.import failed: Chronicle answered 403 PERMISSION_DENIED: Permission/,
    );
    assert.match(r.err, /the caller needs chronicle\.nativeDashboards\.import/);
  });

  test('a request the API refuses as invalid shows the API message', async () => {
    faults.push({
      status: 400,
      rpcStatus: 'INVALID_ARGUMENT',
      message: 'Invalid query: unexpected token "outcome"',
    });
    const r = await run(['import'], env);
    assert.equal(r.code, 1);
    assert.match(r.err, /Chronicle answered 400 INVALID_ARGUMENT: Invalid query: unexpected token "outcome"/);
  });

  test('429 is retried (honouring Retry-After); a 500 is not, and says the import may have happened', async () => {
    const requestsBefore = sim.dashboards.requests.length;
    const importedBefore = sim.dashboards.imported.length;
    faults.push({ status: 429, rpcStatus: 'RESOURCE_EXHAUSTED', headers: { 'retry-after': '1' } });
    const ok = await run(['import'], env);
    assert.equal(ok.code, 0, ok.out + ok.err);
    assert.equal(sim.dashboards.requests.length, requestsBefore + 2);
    assert.equal(sim.dashboards.imported.length, importedBefore + 1);

    faults.push({ status: 500, rpcStatus: 'INTERNAL' });
    const failed = await run(['import'], env);
    assert.equal(failed.code, 1);
    assert.equal(sim.dashboards.requests.length, requestsBefore + 3, 'no second POST after a 500');
    assert.match(failed.err, /500 INTERNAL.*may have been imported anyway/);
  });

  test('a broken definition given with --file is refused before anything is sent', async () => {
    const broken = readDashboardFile(DASHBOARD_FILE);
    const chart = broken.dashboards[0]?.dashboardCharts?.find((c) => c.chartDatasource);
    assert.ok(chart?.chartDatasource);
    chart.chartDatasource.dashboardQuery = 'deleted-query';
    const path = join(scratch, 'broken.json');
    writeFileSync(path, JSON.stringify(broken));
    const before = sim.dashboards.requests.length;
    const r = await run(['import', '--file', path], env);
    assert.equal(r.code, 1);
    assert.match(r.err, /broken\.json is not a valid dashboard definition/);
    assert.match(r.err, /names no query in dashboardQueries: "deleted-query"/);
    assert.equal(sim.dashboards.requests.length, before);
    writeFileSync(path, '{"dashboards": [');
    const notJson = await run(['export', '--file', path], env);
    assert.equal(notJson.code, 1);
    assert.match(notJson.err, /broken\.json is not valid JSON/);
  });

  test('usage errors exit 2', async () => {
    assert.equal((await run([], {})).code, 2);
    assert.equal((await run(['publish'], {})).code, 2);
    assert.equal((await run(['export', '--dry-run'], {})).code, 2);
    assert.equal((await run(['import', '--out', 'x.json'], {})).code, 2);
    assert.equal((await run(['export', '--bogus'], {})).code, 2);
    const bad = await run(['export'], { CHRONICLE_LOG_TYPE: 'lower"case' });
    assert.equal(bad.code, 2);
    assert.match(bad.err, /CHRONICLE_LOG_TYPE/);
  });
});

describe('Chronicle simulator: nativeDashboards:import', () => {
  let sim: ChronicleSimulator;
  const shipped = readDashboardFile(DASHBOARD_FILE);
  const post = async (body: unknown, token: string | null = 'tok', method = 'POST') => {
    const res = await fetch(`${sim.baseUrl}${IMPORT_PATH}`, {
      method,
      headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
      ...(method === 'POST' ? { body: typeof body === 'string' ? body : JSON.stringify(body) } : {}),
    });
    return { status: res.status, body: (await res.json()) as Record<string, unknown> };
  };
  before(async () => {
    sim = await startChronicleSimulator({ acceptToken: (t) => t === 'tok' });
  });
  after(async () => {
    await sim.close();
  });

  test('answers one OK status per dashboard and records them', async () => {
    const res = await post(buildImportRequest(shipped));
    assert.equal(res.status, 200);
    assert.deepEqual(res.body.results, [
      {
        dashboard: `projects/secops-project/locations/eu/instances/${CUSTOMER}/nativeDashboards/${shipped.dashboards[0]?.dashboard?.name}`,
        status: {},
      },
    ]);
    assert.equal(sim.dashboards.imported.length, 1);
  });

  test('refuses bodies that are not an ImportNativeDashboardsRequest, naming the field', async () => {
    const cases: [unknown, RegExp][] = [
      ['{not json', /Invalid JSON payload/],
      [{}, /required field "source" is missing/],
      [{ source: { dashboards: [] } }, /required field "dashboards" is missing/],
      [
        { source: { dashboards: [{ dashboard: { displayName: 'x', colour: 'red' } }] } },
        /unknown field "colour"/,
      ],
      [
        { parent: 'projects/x', source: buildImportRequest(shipped).source },
        /"parent" comes from the URL path/,
      ],
      [
        {
          source: {
            dashboards: [
              {
                dashboardQueries: [
                  {
                    name: 'q',
                    query: 'x',
                    input: { relativeTime: { timeUnit: 'FORTNIGHT', startTimeVal: '1' } },
                  },
                ],
              },
            ],
          },
        },
        /"FORTNIGHT" is not a TimeUnit/,
      ],
    ];
    for (const [body, expected] of cases) {
      const res = await post(body);
      assert.equal(res.status, 400, JSON.stringify(body));
      const error = res.body.error as { status: string; message: string };
      assert.equal(error.status, 'INVALID_ARGUMENT');
      assert.match(error.message, expected);
    }
    assert.equal(sim.dashboards.imported.length, 1, 'nothing recorded');
  });

  test('all or nothing: one dashboard with a broken link fails, the others answer OK, none is recorded', async () => {
    const good = structuredClone(shipped.dashboards[0]);
    const bad = structuredClone(shipped.dashboards[0]);
    const chart = bad?.dashboardCharts?.find((c) => c.chartDatasource);
    assert.ok(good && bad && chart?.chartDatasource);
    chart.chartDatasource.dashboardQuery = 'missing';
    const res = await post({ source: { dashboards: [good, bad] } });
    assert.equal(res.status, 200);
    const results = res.body.results as { status: { code?: number; message?: string } }[];
    assert.deepEqual(results[0]?.status, {});
    assert.equal(results[1]?.status.code, 3);
    assert.match(results[1]?.status.message ?? '', /refers to unknown query "missing"/);
    assert.equal(sim.dashboards.imported.length, 1);
  });

  test('needs a bearer token and POST', async () => {
    assert.equal((await post(buildImportRequest(shipped), null)).status, 401);
    assert.equal((await post(undefined, 'tok', 'GET')).status, 404);
  });
});
