/**
 * `ioc-stream dashboard export|import`: the SecOps native dashboard of custom_parser/dashboards/,
 * fitted to CHRONICLE_LOG_TYPE (and NAMESPACE), printed or written for the UI's import, or imported
 * with `nativeDashboards:import` on the configured instance.
 */

import { writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { authHeaders, createAccessTokenProvider } from '../shared/chronicle/auth.js';
import {
  buildImportRequest,
  COMMITTED_LOG_TYPE,
  callImportDashboards,
  checkDashboardFile,
  customizeDashboards,
  DASHBOARD_FILE,
  type DashboardFile,
  formatDashboardFile,
  importDashboardsUrl,
  loadDashboardSchema,
  NAMESPACE_FIELD,
  parseImportResponse,
  readDashboardFile,
} from '../shared/chronicle/dashboards.js';
import { chronicleTarget } from '../shared/chronicle/resources.js';
import { type Config, requireSettings } from '../shared/core/config.js';
import { ConfigError, describeError } from '../shared/core/errors.js';
import { redact } from '../shared/core/redact.js';
import type { CliCommand, CliContext } from './context.js';
import { COMMON_OPTIONS, commandConfig } from './options.js';

const USAGE = `Usage: ioc-stream dashboard export [--out FILE] [options]
       ioc-stream dashboard import [--dry-run] [options]

The Google SecOps native dashboard for IOC Stream notifications (custom_parser/dashboards/ioc_stream.json),
with its queries set to CHRONICLE_LOG_TYPE and, when NAMESPACE is set, to that namespace.
  export               print the definition (the format of the SecOps UI's dashboard import)
    --out FILE         write it to FILE instead
  import               import it into the configured SecOps instance (nativeDashboards:import)
    --dry-run          print the request body instead; needs no instance or credentials
Options:
  --file FILE          another definition in the same format (default: the shipped one)
  --no-namespace-filter  leave NAMESPACE out of the queries
  --config FILE        YAML file with configuration keys (environment variables override it)
import needs CHRONICLE_CUSTOMER_ID, CHRONICLE_PROJECT_ID (or GCP_PROJECT_ID), CHRONICLE_REGION and Google
credentials (Application Default Credentials or the metadata server) allowed to import dashboards.
Exit codes: 0 done, 1 the definition or the import failed, 2 usage or configuration.
`;

export const dashboardCommand: CliCommand = async (argv, ctx) => {
  const [sub, ...rest] = argv;
  if (sub === undefined || sub === 'help' || sub === '--help' || sub === '-h') {
    ctx.stdout.write(USAGE);
    return sub === undefined ? 2 : 0;
  }
  if (sub !== 'export' && sub !== 'import') {
    ctx.stderr.write(`ioc-stream dashboard: unknown subcommand "${sub}"\n${USAGE}`);
    return 2;
  }
  const { values } = parseArgs({
    args: [...rest],
    options: {
      ...COMMON_OPTIONS,
      file: { type: 'string' },
      out: { type: 'string' },
      'dry-run': { type: 'boolean', default: false },
      'no-namespace-filter': { type: 'boolean', default: false },
    },
    strict: true,
    allowPositionals: false,
  });
  if (values.help) {
    ctx.stdout.write(USAGE);
    return 0;
  }
  const name = `ioc-stream dashboard ${sub}`;
  if (sub === 'export' && values['dry-run']) {
    ctx.stderr.write(`${name}: --dry-run belongs to import\n`);
    return 2;
  }
  if (sub === 'import' && values.out !== undefined) {
    ctx.stderr.write(`${name}: --out belongs to export (import --dry-run prints the request body)\n`);
    return 2;
  }

  const config = commandConfig(ctx.env, values.config);
  const file = prepare(name, ctx, config, values.file, !values['no-namespace-filter']);
  if (file === undefined) return 1;

  if (sub === 'export') {
    const text = formatDashboardFile(file);
    if (values.out === undefined) {
      ctx.stdout.write(text);
      return 0;
    }
    const out = resolve(values.out);
    try {
      writeFileSync(out, text);
    } catch (error) {
      ctx.stderr.write(`${name}: cannot write ${out}: ${(error as Error).message}\n`);
      return 1;
    }
    ctx.stderr.write(
      `Wrote ${out}: import it with the SecOps UI's dashboard import, or run "ioc-stream dashboard import".\n`,
    );
    return 0;
  }

  const body = buildImportRequest(file);
  if (values['dry-run']) {
    ctx.stdout.write(`${JSON.stringify(body, null, 2)}\n`);
    const where = config.chronicle.customerId === undefined ? undefined : safeUrl(config);
    ctx.stderr.write(
      `Dry run: nothing was sent. ${where ? `The body above would be POSTed to ${where}` : 'Set CHRONICLE_CUSTOMER_ID (and the project) to import it'}.\n`,
    );
    return 0;
  }

  try {
    requireSettings(config, 'chronicle');
  } catch (error) {
    if (error instanceof ConfigError) {
      ctx.stderr.write(
        `${name}: nothing was imported: no SecOps instance configured.\n  - ${error.problems.join('\n  - ')}\n` +
          `"ioc-stream dashboard export --out FILE" writes the definition for the UI's import instead.\n`,
      );
      return 2;
    }
    throw error;
  }
  const target = chronicleTarget(config);
  const url = importDashboardsUrl(target);
  const charts = file.dashboards.reduce((n, d) => n + (d.dashboardCharts?.length ?? 0), 0);
  ctx.stderr.write(
    `Importing ${file.dashboards.length} dashboard(s) (${charts} charts, log type ${config.chronicle.logType}) into ${url} ...\n`,
  );
  let statuses: ReturnType<typeof parseImportResponse>;
  try {
    const headers = await authHeaders(createAccessTokenProvider(target.projectId));
    const answer = await callImportDashboards(url, body, headers, {
      timeoutMs: config.http.timeoutMs,
      maxAttempts: config.http.maxAttempts,
    });
    statuses = parseImportResponse(answer, file.dashboards);
  } catch (error) {
    ctx.stderr.write(`${name}: failed: ${redact(describeError(error))}\n`);
    return 1;
  }
  if (statuses.length === 0) {
    ctx.stdout.write(
      'The import was accepted without per-dashboard statuses: check the Dashboards list in SecOps.\n',
    );
    return 0;
  }
  for (const s of statuses) {
    const label = `${s.ok ? 'OK' : 'FAILED'}`.padEnd(9);
    const detail = s.ok
      ? s.dashboard
        ? ` (${s.dashboard})`
        : ''
      : `: ${s.code}${s.message ? `: ${s.message}` : ''}`;
    ctx.stdout.write(`${label} ${s.displayName}${detail}\n`);
  }
  if (statuses.every((s) => s.ok)) {
    ctx.stdout.write(`Imported ${statuses.length} dashboard(s): open SecOps → Dashboards.\n`);
    return 0;
  }
  ctx.stdout.write(
    'Nothing was imported (the import is all-or-nothing): fix the cause above and run the import again.\n',
  );
  return 1;
};

/** Reads, checks and fits the definition; prints the problems and returns undefined when it is broken. */
function prepare(
  name: string,
  ctx: CliContext,
  config: Config,
  path: string | undefined,
  namespaceFilter: boolean,
): DashboardFile | undefined {
  const source = path === undefined ? DASHBOARD_FILE : resolve(path);
  const schema = loadDashboardSchema();
  const original = readDashboardFile(source);
  const report = (problems: string[], what: string): undefined => {
    ctx.stderr.write(`${name}: ${source} ${what}:\n  - ${problems.slice(0, 50).join('\n  - ')}\n`);
    if (problems.length > 50) ctx.stderr.write(`  ... ${problems.length - 50} more\n`);
    return undefined;
  };
  const before = checkDashboardFile(original, schema, COMMITTED_LOG_TYPE);
  if (before.length > 0) return report(before, 'is not a valid dashboard definition');
  const { logType } = config.chronicle;
  const { namespace } = config.entries;
  const file = customizeDashboards(original, { logType, namespace, namespaceFilter });
  const after = checkDashboardFile(file, schema, logType);
  if (after.length > 0) return report(after, `does not fit log type ${logType}`);
  if (namespace !== undefined && namespaceFilter) {
    ctx.stderr.write(
      `Note: the queries keep events with ${NAMESPACE_FIELD} "${namespace}" or none (where SecOps records the ` +
        'namespace is unconfirmed); --no-namespace-filter leaves it out.\n',
    );
  }
  return file;
}

function safeUrl(config: Config): string | undefined {
  try {
    return importDashboardsUrl(chronicleTarget(config));
  } catch {
    return undefined;
  }
}
