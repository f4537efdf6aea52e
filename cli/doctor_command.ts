/**
 * `ioc-stream doctor [--json] [--config FILE]`: checks the setup before the schedule runs (see
 * doctor.ts for what and in which order). One line per check with ✅ / ❌ and the fix; exit 1 when
 * any check failed.
 */
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { PARSER_FILE } from '../shared/chronicle/parser_validation.js';
import type { CliCommand } from './context.js';
import { type CheckResult, type CheckStatus, runDoctor } from './doctor.js';
import { COMMON_OPTIONS } from './options.js';

const USAGE = `Usage: ioc-stream doctor [--json] [--timeout SECONDS] [--dir custom_parser] [--config FILE]

Checks, in order, what the pipeline needs, and says how to fix what is missing:
  configuration; the GTI key (one ioc_stream request, limit=1); the SecOps instance and the log type
  (CHRONICLE_LOG_TYPE); an ACTIVE parser for it; with a cloud configuration (PUBSUB_* topics set) also
  the GTI key secret, the topics and subscriptions, and Firestore. It writes nothing, so the import
  permission is reported as not checked.
  --json           the result as one JSON object on stdout
  --timeout N      seconds each check may take (default 30)
  --dir DIR        custom parser directory the active parser is compared with (default custom_parser)
  --config FILE    YAML file with configuration keys (environment variables override it)
Exit codes: 0 every check passed (warnings allowed), 1 a check failed, 2 bad usage.`;

const SYMBOL: Record<CheckStatus, string> = {
  pass: '✅',
  fail: '❌',
  warn: '⚠️ ',
  skipped: '⏭️ ',
  unchecked: '❔',
};

export function formatCheck(check: CheckResult): string {
  const lines = [`${SYMBOL[check.status]} ${check.title}: ${check.detail}`];
  if (check.fix !== undefined && check.status !== 'pass') lines.push(`   fix: ${check.fix}`);
  return `${lines.join('\n')}\n`;
}

export const doctorCommand: CliCommand = async (argv, ctx) => {
  const { values } = parseArgs({
    args: [...argv],
    options: {
      ...COMMON_OPTIONS,
      json: { type: 'boolean', default: false },
      timeout: { type: 'string', default: '30' },
      dir: { type: 'string', default: 'custom_parser' },
    },
    strict: true,
    allowPositionals: false,
  });
  if (values.help) {
    ctx.stdout.write(`${USAGE}\n`);
    return 0;
  }
  if (!/^\d+$/.test(values.timeout) || Number(values.timeout) < 1 || Number(values.timeout) > 600) {
    ctx.stderr.write(
      `ioc-stream doctor: --timeout must be a whole number of seconds, 1..600, got "${values.timeout}"\n`,
    );
    return 2;
  }
  const report = await runDoctor({
    env: ctx.env,
    configFile: values.config,
    parserFile: join(resolve(values.dir), PARSER_FILE),
    timeoutMs: Number(values.timeout) * 1000,
    ...(values.json ? {} : { onCheck: (check: CheckResult) => void ctx.stdout.write(formatCheck(check)) }),
  });
  if (values.json) {
    ctx.stdout.write(`${JSON.stringify(report)}\n`);
  } else {
    const failed = report.checks.filter((c) => c.status === 'fail').length;
    const warned = report.checks.filter((c) => c.status === 'warn').length;
    ctx.stdout.write(
      failed === 0
        ? `\nAll checks passed${warned > 0 ? ` (${warned} warning(s))` : ''}.${
            report.mode === 'cloud'
              ? ' Resume the schedule, then verify the first data (README).'
              : ' Run `npx ioc-stream sync`, then verify the first data (README).'
          }\n`
        : `\n${failed} check(s) failed. Fix them and run \`npx ioc-stream doctor\` again.\n`,
    );
  }
  return report.ok ? 0 : 1;
};
