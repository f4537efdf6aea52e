/**
 * `ioc-stream rules export [--out DIR]`: writes the YARA-L rules of custom_parser/rules/ with the
 * configured log type (CHRONICLE_LOG_TYPE) in place of GTI_IOC_STREAM, so nobody edits them by hand.
 * Only the log type comparisons change (`metadata.log_type = "GTI_IOC_STREAM"` and `!=`, the exact
 * token); comments and everything else are copied as they are. Nothing is written unless every rule
 * could be converted.
 */
import { mkdirSync, readdirSync, readFileSync, realpathSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { ValidationError } from '../shared/core/errors.js';
import type { CliCommand } from './context.js';
import { COMMON_OPTIONS, commandConfig } from './options.js';

/** The log type the rules in custom_parser/rules/ are written for. */
export const RULES_LOG_TYPE = 'GTI_IOC_STREAM';
/** What a SecOps log type may look like here (CHRONICLE_LOG_TYPE's own pattern). */
const LOG_TYPE = /^[A-Z][A-Z0-9_]{1,63}$/;
const COMPARISON = new RegExp(`(\\.metadata\\.log_type\\s*!?=\\s*")${RULES_LOG_TYPE}(")`, 'g');

/** The rule text with the log type substituted, and how many comparisons were changed. */
export function substituteLogType(rule: string, logType: string): { text: string; count: number } {
  if (!LOG_TYPE.test(logType)) {
    throw new ValidationError(
      `log type must be like GTI_IOC_STREAM (A-Z, 0-9, _), got "${logType.slice(0, 80)}"`,
    );
  }
  let count = 0;
  const text = rule.replace(COMPARISON, (_, before: string, after: string) => {
    count += 1;
    return `${before}${logType}${after}`;
  });
  return { text, count };
}

const USAGE = `Usage: ioc-stream rules export [--out DIR] [--dir custom_parser] [--config FILE]

Writes custom_parser/rules/*.yaral with CHRONICLE_LOG_TYPE in place of ${RULES_LOG_TYPE} (in the
metadata.log_type comparisons), ready to paste into SecOps (Detection → Rules editor).
  --out DIR      where to write (default OUTPUT_DIR/rules, i.e. out/rules)
  --dir DIR      the custom parser directory (default custom_parser)
  --config FILE  YAML file with configuration keys (environment variables override it)
The dashboard has its own export: ioc-stream dashboard export.`;

export const rulesCommand: CliCommand = async (argv, ctx) => {
  const [sub, ...rest] = argv;
  if (sub === undefined || sub === 'help' || sub === '--help' || sub === '-h') {
    ctx.stdout.write(`${USAGE}\n`);
    return sub === undefined ? 2 : 0;
  }
  if (sub !== 'export') {
    ctx.stderr.write(`ioc-stream rules: unknown subcommand "${sub}"\n${USAGE}\n`);
    return 2;
  }
  const { values } = parseArgs({
    args: [...rest],
    options: {
      ...COMMON_OPTIONS,
      out: { type: 'string' },
      dir: { type: 'string', default: 'custom_parser' },
    },
    strict: true,
    allowPositionals: false,
  });
  if (values.help) {
    ctx.stdout.write(`${USAGE}\n`);
    return 0;
  }
  const config = commandConfig(ctx.env, values.config);
  const logType = config.chronicle.logType;
  const source = resolve(values.dir, 'rules');
  const out = resolve(values.out ?? join(config.outputDir, 'rules'));
  const files = readdirSync(source)
    .filter((f) => f.endsWith('.yaral'))
    .sort();
  if (files.length === 0) throw new ValidationError(`No rules (*.yaral) in ${source}`);
  const converted = files.map((file) => {
    const { text, count } = substituteLogType(readFileSync(join(source, file), 'utf8'), logType);
    // A rule may select by product instead (the entity-graph rules); but a quoted default log type
    // left anywhere else would keep matching the wrong type after the export.
    const code = text.replace(/\/\/[^\n]*/g, '');
    if (logType !== RULES_LOG_TYPE && code.includes(`"${RULES_LOG_TYPE}"`)) {
      throw new ValidationError(
        `${join(source, file)} names "${RULES_LOG_TYPE}" outside a metadata.log_type comparison: it cannot be substituted safely; nothing was written`,
      );
    }
    return { file, text, count };
  });
  mkdirSync(out, { recursive: true });
  if (realpathSync(out) === realpathSync(source)) {
    throw new ValidationError(`--out ${out} is the rules' own directory: choose another one`);
  }
  for (const rule of converted) writeFileSync(join(out, rule.file), rule.text);
  ctx.stdout.write(
    `Exported ${converted.length} rule(s) for log type ${logType} to ${out}:\n` +
      converted.map((r) => `  ${r.file} (${r.count} log type comparison(s))\n`).join('') +
      'Paste each into SecOps (Detection → Rules editor), test it over a past window, then enable it live.\n',
  );
  return 0;
};
