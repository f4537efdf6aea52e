/**
 * Every regular expression in custom_parser/ compiled with an RE2 engine (re2js), offline. SecOps runs
 * parser regexes on Go's RE2 (Google's "Tips and troubleshooting when writing parsers"), which has no
 * backreferences or look-around and rejects counted repeats above 1000; a parser with such a pattern
 * is refused or fails every log on a real instance. YARA-L rules use RE2 syntax too.
 */
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { RE2JS } from 're2js';
import { grokFields, grokToRegex, parseCbn, parserRegexes } from '../../helpers/cbn.js';

const DIR = fileURLToPath(new URL('../../../../custom_parser/', import.meta.url));
const PARSER_FILE = join(DIR, 'ioc_stream.parser');
const statements = parseCbn(readFileSync(PARSER_FILE, 'utf8'));

/** The engine's error for a pattern, or undefined when RE2 accepts it. */
function re2Error(pattern: string): string | undefined {
  try {
    RE2JS.compile(pattern);
    return undefined;
  } catch (error) {
    return (error as Error).message;
  }
}

/** Regexes in YARA-L 2.0 rule text: re.regex(field, `…` or "…") and /…/ after = or !=. */
function yaralRegexes(text: string): { pattern: string; line: number }[] {
  const out: { pattern: string; line: number }[] = [];
  const lineOf = (index: number) => text.slice(0, index).split('\n').length;
  const code = text.replace(/\/\/[^\n]*/g, (m) => ' '.repeat(m.length));
  for (const m of code.matchAll(/re\.regex\s*\([^,]+,\s*(`[^`]*`|"(?:[^"\\]|\\.)*")/g)) {
    const literal = m[1] as string;
    const pattern = literal.startsWith('`') ? literal.slice(1, -1) : (JSON.parse(literal) as string);
    out.push({ pattern, line: lineOf(m.index ?? 0) });
  }
  for (const m of code.matchAll(/!?=\s*\/((?:[^/\\\n]|\\.)+)\/(?:\s+nocase)?/g)) {
    out.push({ pattern: (m[1] as string).replace(/\\\//g, '/'), line: lineOf(m.index ?? 0) });
  }
  return out;
}

describe('CBN reader: regular expressions as the engine receives them', () => {
  test('strings lose one level of backslashes, /regex/ literals keep them', () => {
    const found = parserRegexes(
      parseCbn(String.raw`filter {
        grok { match => { "m" => ["\\s+(?P<n>\\d+)", "\s"] } }
        mutate { gsub => ["m", "\\.", "_"] }
        if [a][b] =~ /^x\/[a-z]\d/ or [c] !~ "\\w" { mutate { replace => { "x" => "[y]" } } }
      }`),
    );
    assert.deepEqual(
      found.map((r) => [r.via, r.pattern]),
      [
        ['grok', String.raw`\s+(?P<n>\d+)`],
        ['grok', 's'],
        ['gsub', String.raw`\.`],
        ['condition', String.raw`^x/[a-z]\d`],
        ['condition', String.raw`\w`],
      ],
    );
  });

  test('condition references are the [a][b] runs, not text inside strings or regexes', () => {
    const [s] = parseCbn(
      'filter { if [a][b] == "[c]" and ![d] or [e] =~ /[f]/ { mutate { replace => { "x" => "y" } } } }',
    );
    assert.equal(s?.kind, 'if');
    assert.deepEqual(s?.kind === 'if' ? s.branches[0]?.refs : undefined, ['a.b', 'd', 'e']);
  });

  test('grok references become named groups', () => {
    assert.equal(grokToRegex('%{IP:src.ip} %{WORD}'), '(?P<src_ip>.*?) (?:.*?)');
    assert.deepEqual(grokFields('%{IP:src_ip} (?P<port>\\d+)'), ['port', 'src_ip']);
  });
});

describe('custom parser: regular expressions compile with RE2', () => {
  const regexes = parserRegexes(statements);

  test('the engine used here enforces RE2 limits', () => {
    assert.match(re2Error('a{0,1001}') ?? '', /invalid repeat count/);
    assert.equal(re2Error('a{0,1000}'), undefined);
    assert.notEqual(re2Error('(a)\\1'), undefined, 'no backreferences');
    assert.notEqual(re2Error('(?=a)'), undefined, 'no look-ahead');
  });

  test('finds the parser regexes', () => {
    assert.ok(
      regexes.some((r) => r.via === 'grok'),
      'the parser has grok patterns',
    );
  });

  test('every grok, =~ / !~ and gsub pattern compiles', () => {
    const bad = regexes
      .map((r) => ({ r, error: re2Error(r.via === 'grok' ? grokToRegex(r.pattern) : r.pattern) }))
      .filter(({ error }) => error !== undefined)
      .map(({ r, error }) => `line ${r.line} (${r.via}) ${JSON.stringify(r.pattern)}: ${error}`);
    assert.deepEqual(bad, []);
  });

  test('every grok pattern captures into a field (one without fails every log)', () => {
    const bad = regexes
      .filter((r) => r.via === 'grok' && grokFields(r.pattern).length === 0)
      .map((r) => `line ${r.line}: ${JSON.stringify(r.pattern)}`);
    assert.deepEqual(bad, []);
  });
});

describe('YARA-L rules: regular expressions compile with RE2', () => {
  const dir = join(DIR, 'rules');
  for (const file of readdirSync(dir).filter((f) => f.endsWith('.yaral'))) {
    test(file, () => {
      const bad = yaralRegexes(readFileSync(join(dir, file), 'utf8'))
        .map((r) => ({ r, error: re2Error(r.pattern) }))
        .filter(({ error }) => error !== undefined)
        .map(({ r, error }) => `line ${r.line} ${JSON.stringify(r.pattern)}: ${error}`);
      assert.deepEqual(bad, []);
    });
  }
});
