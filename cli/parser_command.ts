/**
 * `ioc-stream parser validate|install`.
 *
 * validate: runs custom_parser/ioc_stream.parser on the sample logs through the SecOps runParser
 * endpoint and diffs the UDM events against the goldens; `--update` shows which goldens would change
 * and `--update --yes` rewrites them. Without Chronicle settings it says the parser was not executed
 * and exits 2.
 *
 * install: validates (unless --no-validate), then creates the parser for CHRONICLE_LOG_TYPE and
 * activates it, as Google's secops-wrapper SDK does (parsers.create, then parsers.activate). An
 * identical parser that is already ACTIVE is left alone; an identical INACTIVE one (say, from an
 * install whose activation failed) is activated rather than created again. `--dry-run` prints the
 * requests and sends none.
 */

import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import {
  activateUrl,
  type ChronicleAdmin,
  createChronicleAdmin,
  createParserBody,
  isNotFound,
  PARSER_STATE_ACTIVE,
  type ParserResource,
  parsersUrl,
} from '../shared/chronicle/api.js';
import {
  type AccessTokenProvider,
  authHeaders,
  createAccessTokenProvider,
} from '../shared/chronicle/auth.js';
import {
  buildRunParserRequest,
  callRunParser,
  compareResults,
  type GoldenUpdate,
  loadParserSuite,
  PARSER_FILE,
  type ParserSuite,
  parseRunParserResponse,
  runParserUrl,
  type SampleOutcome,
} from '../shared/chronicle/parser_validation.js';
import { type ChronicleTarget, chronicleTarget } from '../shared/chronicle/resources.js';
import { type Config, requireSettings } from '../shared/core/config.js';
import { ConfigError } from '../shared/core/errors.js';
import { redact } from '../shared/core/redact.js';
import type { CliCommand, CliContext } from './context.js';
import { COMMON_OPTIONS, commandConfig } from './options.js';

const USAGE = `Usage: ioc-stream parser validate [--update [--yes]] [--dir custom_parser] [--config FILE]
       ioc-stream parser install [--no-validate] [--dry-run] [--dir custom_parser] [--config FILE]

validate  runs custom_parser/ioc_stream.parser on every sample in <dir>/logs through the SecOps API
          (logTypes/{CHRONICLE_LOG_TYPE}:runParser) and compares the UDM events with <dir>/events.
  --update       show which golden events would change (nothing is written)
  --yes          with --update: rewrite them
install   validates as above, then creates the parser for CHRONICLE_LOG_TYPE in SecOps and activates
          it (logTypes/{CHRONICLE_LOG_TYPE}/parsers, then parsers/{id}:activate). An identical
          parser that is already active is left alone.
  --no-validate  skip the validation
  --dry-run      print the requests it would send, send nothing
Both:
  --dir      the custom parser directory (default: custom_parser)
  --config   YAML file with configuration keys (environment variables override it)
Needs CHRONICLE_CUSTOMER_ID, CHRONICLE_PROJECT_ID (or GCP_PROJECT_ID), CHRONICLE_REGION and Google
credentials (Application Default Credentials or the metadata server); the log type must exist.
Exit codes: 0 done (all samples match / parser active), 1 differences or errors, 2 not executed.
`;

interface Output {
  out(text: string): void;
  err(text: string): void;
}

function output(ctx: CliContext): Output {
  return { out: (t) => void ctx.stdout.write(t), err: (t) => void ctx.stderr.write(t) };
}

/** The configuration, or undefined after saying why nothing can run (exit 2). */
function chronicleConfig(ctx: CliContext, file: string | undefined, command: string): Config | undefined {
  try {
    const config = commandConfig(ctx.env, file);
    requireSettings(config, 'chronicle');
    return config;
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    ctx.stderr.write(
      `ioc-stream parser ${command}: the parser was NOT executed: no SecOps instance configured.\n` +
        `  - ${error.problems.join('\n  - ')}\n` +
        `Offline checks (syntax, UDM fields, samples and goldens) run with "npm run test:unit"; only\n` +
        `the SecOps runParser endpoint can execute the parser.\n`,
    );
    return undefined;
  }
}

const STATUS_LABEL: Record<SampleOutcome['status'], string> = {
  pass: 'PASS',
  fail: 'FAIL',
  updated: 'UPDATED',
  'would-update': 'WOULD-UPDATE',
  unchanged: 'UNCHANGED',
};

/**
 * Runs the samples through runParser and prints one line per sample (with the diff of those that
 * differ). Returns the number of samples that failed or would change, or the error when runParser
 * itself failed (already reported).
 */
async function validateSuite(
  io: Output,
  command: string,
  suite: ParserSuite,
  target: ChronicleTarget,
  config: Config,
  getToken: AccessTokenProvider,
  update: GoldenUpdate,
): Promise<number | Error> {
  const url = runParserUrl(target);
  io.out(`Running ${suite.samples.length} sample(s) through ${url} (log type ${target.logType})...\n`);
  let outcomes: SampleOutcome[];
  try {
    const request = buildRunParserRequest(
      suite.parser,
      suite.samples.map((s) => s.log),
    );
    const body = await callRunParser(url, request, await authHeaders(getToken), {
      timeoutMs: config.http.timeoutMs,
      maxAttempts: config.http.maxAttempts,
    });
    outcomes = compareResults(suite, parseRunParserResponse(body, suite.samples.length), { update });
  } catch (error) {
    io.err(
      `ioc-stream parser ${command}: ${redact(error instanceof Error ? error.message : String(error))}\n`,
    );
    return error instanceof Error ? error : new Error(String(error));
  }
  let bad = 0;
  for (const outcome of outcomes) {
    io.out(`${STATUS_LABEL[outcome.status].padEnd(13)}${outcome.name}\n`);
    if (outcome.status === 'fail' || outcome.status === 'would-update') bad += 1;
    if (outcome.status !== 'pass' && outcome.status !== 'unchanged') {
      for (const line of outcome.details.slice(0, 50)) io.out(`    ${redact(line)}\n`);
      if (outcome.details.length > 50) io.out(`    ... ${outcome.details.length - 50} more\n`);
    }
  }
  for (const orphan of suite.orphanGoldens) {
    io.out(`${'FAIL'.padEnd(13)}${orphan}: golden file without a sample log\n`);
    bad += 1;
  }
  const failed = outcomes.filter((o) => o.status === 'fail').length + suite.orphanGoldens.length;
  const count = (status: SampleOutcome['status']) => outcomes.filter((o) => o.status === status).length;
  if (update === 'write') {
    io.out(`${count('updated')} golden(s) rewritten, ${failed} with errors\n`);
    if (count('updated') > 0) io.out('Run "npm run fix" to format the rewritten golden files.\n');
  } else if (update === 'preview') {
    io.out(
      `${count('would-update')} golden(s) would be rewritten, ${failed} with errors; nothing was written` +
        `${count('would-update') > 0 ? ' (run again with --update --yes to rewrite them)' : ''}\n`,
    );
  } else {
    io.out(`${outcomes.length - failed} sample(s) match the goldens, ${failed} differ or failed\n`);
  }
  return update === 'write' ? failed : bad;
}

async function validate(argv: readonly string[], ctx: CliContext): Promise<number> {
  const { values } = parseArgs({
    args: [...argv],
    options: {
      ...COMMON_OPTIONS,
      update: { type: 'boolean', default: false },
      yes: { type: 'boolean', default: false },
      dir: { type: 'string', default: 'custom_parser' },
    },
    strict: true,
    allowPositionals: false,
  });
  if (values.help) {
    ctx.stdout.write(USAGE);
    return 0;
  }
  if (values.yes && !values.update) {
    ctx.stderr.write('ioc-stream parser validate: --yes applies to --update only\n');
    return 2;
  }
  const suite = loadParserSuite(resolve(values.dir));
  const config = chronicleConfig(ctx, values.config, 'validate');
  if (config === undefined) return 2;
  const update: GoldenUpdate = !values.update ? 'compare' : values.yes ? 'write' : 'preview';
  const bad = await validateSuite(
    output(ctx),
    'validate',
    suite,
    chronicleTarget(config),
    config,
    createAccessTokenProvider(chronicleTarget(config).projectId),
    update,
  );
  return bad === 0 ? 0 : 1;
}

function describeCbn(suite: ParserSuite): string {
  return `<base64 of ${PARSER_FILE}, ${Buffer.byteLength(suite.parser, 'utf8')} bytes>`;
}

function printDryRun(io: Output, suite: ParserSuite, target: ChronicleTarget, validateFirst: boolean): void {
  io.out('Dry run: nothing is sent. The requests, in order:\n');
  let n = 0;
  if (validateFirst) {
    n += 1;
    io.out(
      `${n}. POST ${runParserUrl(target)}\n   ${JSON.stringify({
        parser: { cbn: describeCbn(suite) },
        log: [`<base64 of each of the ${suite.samples.length} samples in logs/>`],
        statedumpAllowed: false,
      })}\n   (validation: every sample must give its golden events, else nothing below is sent)\n`,
    );
  }
  n += 1;
  io.out(`${n}. GET ${parsersUrl(target)}?pageSize=100\n   (is an identical parser already there?)\n`);
  n += 1;
  io.out(
    `${n}. POST ${parsersUrl(target)}\n   ${JSON.stringify({ ...createParserBody(''), cbn: describeCbn(suite) })}\n`,
  );
  n += 1;
  io.out(`${n}. POST ${activateUrl(target, '{id}')}\n   {}\n   ({id}: from the name the create answers)\n`);
}

const LOG_TYPE_HINT =
  'create the custom log type first (README: "Create the custom log type"); a new log type can take about 10 minutes to become usable';

async function install(argv: readonly string[], ctx: CliContext): Promise<number> {
  const { values } = parseArgs({
    args: [...argv],
    options: {
      ...COMMON_OPTIONS,
      'no-validate': { type: 'boolean', default: false },
      'dry-run': { type: 'boolean', default: false },
      dir: { type: 'string', default: 'custom_parser' },
    },
    strict: true,
    allowPositionals: false,
  });
  if (values.help) {
    ctx.stdout.write(USAGE);
    return 0;
  }
  const io = output(ctx);
  const suite = loadParserSuite(resolve(values.dir));
  const config = chronicleConfig(ctx, values.config, 'install');
  if (config === undefined) return 2;
  const target = chronicleTarget(config);
  if (values['dry-run']) {
    printDryRun(io, suite, target, !values['no-validate']);
    return 0;
  }
  const getToken = createAccessTokenProvider(target.projectId);
  if (!values['no-validate']) {
    const bad = await validateSuite(io, 'install', suite, target, config, getToken, 'compare');
    if (bad instanceof Error) {
      io.err('ioc-stream parser install: the parser could not be validated, so it was not installed.\n');
      if (isNotFound(bad)) io.err(`  Log type ${target.logType} not found? ${LOG_TYPE_HINT}.\n`);
      return 1;
    }
    if (bad !== 0) {
      io.err(
        'ioc-stream parser install: the parser does NOT validate, so it was not installed.\n' +
          '  See README "When the parser does not validate"; --no-validate installs it anyway.\n',
      );
      return 1;
    }
  }
  const admin = createChronicleAdmin({
    target,
    getToken,
    http: { timeoutMs: config.http.timeoutMs, maxAttempts: config.http.maxAttempts },
  });
  try {
    return await createAndActivate(io, admin, suite);
  } catch (error) {
    const message = redact(error instanceof Error ? error.message : String(error));
    io.err(`ioc-stream parser install: ${message}\n`);
    if (isNotFound(error)) io.err(`  Log type ${target.logType} not found? ${LOG_TYPE_HINT}.\n`);
    return 1;
  }
}

async function createAndActivate(io: Output, admin: ChronicleAdmin, suite: ParserSuite): Promise<number> {
  const { logType } = admin.target;
  const existing = await admin.listParsers();
  const same = (p: ParserResource) => p.text !== undefined && p.text === suite.parser;
  const active = existing.find((p) => p.state === PARSER_STATE_ACTIVE && same(p));
  if (active) {
    io.out(`The parser is already active for log type ${logType} (${active.name}); nothing to do.\n`);
    return 0;
  }
  let parser = existing.find((p) => p.state !== PARSER_STATE_ACTIVE && same(p));
  if (parser) {
    io.out(`Found the same parser, not active: ${parser.name}\n`);
  } else {
    parser = await admin.createParser(suite.parser);
    io.out(`Created ${parser.name} (state ${parser.state ?? 'unknown'})\n`);
  }
  try {
    await admin.activateParser(parser.id);
  } catch (error) {
    io.err(
      `ioc-stream parser install: ${parser.name} exists but could not be activated; run the command again ` +
        '(it activates that parser instead of creating another).\n',
    );
    throw error;
  }
  io.out(
    `Activated: log type ${logType} is now parsed by ${parser.name}.\n` +
      'Next: `npx ioc-stream doctor` checks the whole setup.\n',
  );
  return 0;
}

export const parserCommand: CliCommand = async (argv, ctx) => {
  const [sub, ...rest] = argv;
  if (sub === undefined || sub === 'help' || sub === '--help' || sub === '-h') {
    ctx.stdout.write(USAGE);
    return sub === undefined ? 2 : 0;
  }
  if (sub === 'validate') return validate(rest, ctx);
  if (sub === 'install') return install(rest, ctx);
  ctx.stderr.write(`ioc-stream parser: unknown subcommand "${sub}"\n${USAGE}`);
  return 2;
};
