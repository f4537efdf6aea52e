import assert from 'node:assert/strict';
import { cpSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { main } from '../../../cli/main.js';
import { substituteLogType } from '../../../cli/rules_command.js';
import { ValidationError } from '../../../shared/core/errors.js';
import { cliContext } from '../../helpers/cli.js';

const PARSER_DIR = fileURLToPath(new URL('../../../../custom_parser/', import.meta.url));

describe('rules export', () => {
  let scratch: string;
  before(() => {
    scratch = mkdtempSync(join(tmpdir(), 'rules-export-'));
  });
  after(() => rmSync(scratch, { recursive: true, force: true }));

  it('substitutes only the exact log type token in metadata.log_type comparisons', () => {
    const rule = [
      '// The IOC side is a GTI_IOC_STREAM event.',
      '    $ioc.metadata.log_type = "GTI_IOC_STREAM"',
      '    $e.metadata.log_type != "GTI_IOC_STREAM"',
      '    $x.metadata.log_type = "GTI_IOC_STREAM_OLD"',
      '    $y.metadata.product_name = "GTI_IOC_STREAM"',
    ].join('\n');
    const { text, count } = substituteLogType(rule, 'MY_IOC_FEED');
    assert.equal(count, 2);
    assert.equal(
      text,
      [
        '// The IOC side is a GTI_IOC_STREAM event.',
        '    $ioc.metadata.log_type = "MY_IOC_FEED"',
        '    $e.metadata.log_type != "MY_IOC_FEED"',
        '    $x.metadata.log_type = "GTI_IOC_STREAM_OLD"',
        '    $y.metadata.product_name = "GTI_IOC_STREAM"',
      ].join('\n'),
    );
  });

  it('refuses a log type that could break the rule', () => {
    for (const bad of ['my_type', 'X" or $e.metadata.log_type = "', '', 'A', `A${'B'.repeat(64)}`]) {
      assert.throws(
        () => substituteLogType('$e.metadata.log_type = "GTI_IOC_STREAM"', bad),
        ValidationError,
        bad,
      );
    }
  });

  it('writes every rule with CHRONICLE_LOG_TYPE, leaving the sources untouched', async () => {
    const out = join(scratch, 'exported');
    const sources = readdirSync(join(PARSER_DIR, 'rules')).filter((f) => f.endsWith('.yaral'));
    const before = sources.map((f) => readFileSync(join(PARSER_DIR, 'rules', f), 'utf8'));
    const run = cliContext({ CHRONICLE_LOG_TYPE: 'MY_IOC_FEED' });
    assert.equal(
      await main(['rules', 'export', '--out', out, '--dir', PARSER_DIR], run.ctx),
      0,
      run.out().stderr,
    );
    assert.deepEqual(readdirSync(out).sort(), sources.sort());
    let substituted = 0;
    for (const file of sources) {
      const text = readFileSync(join(out, file), 'utf8');
      const original = readFileSync(join(PARSER_DIR, 'rules', file), 'utf8');
      assert.doesNotMatch(text, /log_type\s*!?=\s*"GTI_IOC_STREAM"/, file);
      if (/metadata\.log_type\s*!?=\s*"GTI_IOC_STREAM"/.test(original)) {
        assert.match(text, /\$ioc\.metadata\.log_type = "MY_IOC_FEED"/, file);
        substituted += 1;
      } else {
        assert.equal(text, original, `${file} has no log type comparison: exported unchanged`);
      }
    }
    assert.ok(substituted > 0, 'at least one shipped rule compares the log type');
    assert.deepEqual(
      sources.map((f) => readFileSync(join(PARSER_DIR, 'rules', f), 'utf8')),
      before,
    );
    assert.match(
      run.out().stdout,
      new RegExp(`Exported ${sources.length} rule\\(s\\) for log type MY_IOC_FEED`),
    );
  });

  it('defaults to OUTPUT_DIR/rules', async () => {
    const run = cliContext({ OUTPUT_DIR: join(scratch, 'out-default') });
    assert.equal(await main(['rules', 'export', '--dir', PARSER_DIR], run.ctx), 0, run.out().stderr);
    assert.ok(existsSync(join(scratch, 'out-default', 'rules', 'gti_ioc_stream_ip_contacted.yaral')));
  });

  it('writes nothing when a rule names the default log type outside a comparison, and never over its own sources', async () => {
    const copy = join(scratch, 'custom_parser');
    cpSync(PARSER_DIR, copy, { recursive: true });
    writeFileSync(
      join(copy, 'rules', 'zz_other.yaral'),
      'rule other { events: $e.metadata.event_type = "X" $e.metadata.description = "GTI_IOC_STREAM" }\n',
    );
    const out = join(scratch, 'never');
    const run = cliContext({ CHRONICLE_LOG_TYPE: 'MY_IOC_FEED' });
    assert.equal(await main(['rules', 'export', '--out', out, '--dir', copy], run.ctx), 1);
    assert.match(
      run.out().stderr,
      /zz_other\.yaral names "GTI_IOC_STREAM" outside a metadata\.log_type comparison.*nothing was written/,
    );
    assert.equal(existsSync(out), false);

    rmSync(join(copy, 'rules', 'zz_other.yaral'));
    const self = cliContext({});
    assert.equal(await main(['rules', 'export', '--out', join(copy, 'rules'), '--dir', copy], self.ctx), 1);
    assert.match(self.out().stderr, /is the rules' own directory/);
  });
});
