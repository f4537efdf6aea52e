/**
 * `ioc-stream parser validate [--update] [--dir custom_parser]`: runs the custom parser on the sample
 * logs through the SecOps runParser endpoint and diffs the UDM events against the goldens (or rewrites
 * them with --update). Without Chronicle settings it says the parser was not executed and exits 2.
 */

import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { createAccessTokenProvider } from '../shared/chronicle/auth.js';
import {
  buildRunParserRequest,
  callRunParser,
  compareResults,
  loadParserSuite,
  parseRunParserResponse,
  runParserUrl,
} from '../shared/chronicle/parser_validation.js';
import { chronicleTarget } from '../shared/chronicle/resources.js';
import { type Config, requireSettings } from '../shared/core/config.js';
import { ConfigError, describeError } from '../shared/core/errors.js';
import { redact } from '../shared/core/redact.js';
import type { CliCommand } from './context.js';
import { COMMON_OPTIONS, commandConfig } from './options.js';

const USAGE = `Usage: ioc-stream parser validate [--update] [--dir custom_parser] [--config FILE]

Runs custom_parser/ioc_stream.parser on every sample in <dir>/logs through the SecOps API
(logTypes/{CHRONICLE_LOG_TYPE}:runParser) and compares the UDM events with <dir>/events.
  --update   rewrite the golden events from what the parser produced
  --dir      the custom parser directory (default: custom_parser)
  --config   YAML file with configuration keys (environment variables override it)
Needs CHRONICLE_CUSTOMER_ID, CHRONICLE_PROJECT_ID (or GCP_PROJECT_ID), CHRONICLE_REGION and Google
credentials (Application Default Credentials or the metadata server).
Exit codes: 0 all samples match (or were updated), 1 differences or errors, 2 not executed.
`;

export const parserCommand: CliCommand = async (argv, ctx) => {
  const [sub, ...rest] = argv;
  if (sub === undefined || sub === 'help' || sub === '--help' || sub === '-h') {
    ctx.stdout.write(USAGE);
    return sub === undefined ? 2 : 0;
  }
  if (sub !== 'validate') {
    ctx.stderr.write(`ioc-stream parser: unknown subcommand "${sub}"\n${USAGE}`);
    return 2;
  }
  const { values } = parseArgs({
    args: [...rest],
    options: {
      ...COMMON_OPTIONS,
      update: { type: 'boolean', default: false },
      dir: { type: 'string', default: 'custom_parser' },
    },
    strict: true,
    allowPositionals: false,
  });
  if (values.help) {
    ctx.stdout.write(USAGE);
    return 0;
  }
  const dir = resolve(values.dir);
  const suite = loadParserSuite(dir);

  let config: Config;
  try {
    config = commandConfig(ctx.env, values.config);
    requireSettings(config, 'chronicle');
  } catch (error) {
    if (error instanceof ConfigError) {
      ctx.stderr.write(
        `ioc-stream parser validate: the parser was NOT executed: no SecOps instance configured.\n` +
          `  - ${error.problems.join('\n  - ')}\n` +
          `Offline checks (syntax, UDM fields, samples and goldens) run with "npm run test:unit"; only\n` +
          `the SecOps runParser endpoint can execute the parser.\n`,
      );
      return 2;
    }
    throw error;
  }

  const target = chronicleTarget(config);
  const url = runParserUrl(target);
  ctx.stdout.write(
    `Running ${suite.samples.length} sample(s) through ${url} (log type ${target.logType})...\n`,
  );
  const getToken = createAccessTokenProvider();
  let results: ReturnType<typeof parseRunParserResponse>;
  try {
    const token = await getToken();
    const request = buildRunParserRequest(
      suite.parser,
      suite.samples.map((s) => s.log),
    );
    const body = await callRunParser(url, request, token, {
      timeoutMs: config.http.timeoutMs,
      maxAttempts: config.http.maxAttempts,
    });
    results = parseRunParserResponse(body, suite.samples.length);
  } catch (error) {
    ctx.stderr.write(`ioc-stream parser validate: runParser failed: ${redact(describeError(error))}\n`);
    return 1;
  }

  const outcomes = compareResults(suite, results, { update: values.update });
  let failed = 0;
  for (const outcome of outcomes) {
    ctx.stdout.write(`${outcome.status.toUpperCase().padEnd(9)} ${outcome.name}\n`);
    if (outcome.status === 'fail') failed += 1;
    if (outcome.status === 'fail' || outcome.status === 'updated') {
      for (const line of outcome.details.slice(0, 50)) ctx.stdout.write(`    ${redact(line)}\n`);
      if (outcome.details.length > 50) ctx.stdout.write(`    ... ${outcome.details.length - 50} more\n`);
    }
  }
  for (const orphan of suite.orphanGoldens) {
    ctx.stdout.write(`FAIL      ${orphan}: golden file without a sample log\n`);
    failed += 1;
  }
  const summary = values.update
    ? `${outcomes.filter((o) => o.status === 'updated').length} golden(s) rewritten, ${failed} with errors`
    : `${outcomes.length - failed} sample(s) match the goldens, ${failed} differ or failed`;
  ctx.stdout.write(`${summary}\n`);
  if (values.update && outcomes.some((o) => o.status === 'updated')) {
    ctx.stdout.write('Run "npm run fix" to format the rewritten golden files.\n');
  }
  return failed === 0 ? 0 : 1;
};
