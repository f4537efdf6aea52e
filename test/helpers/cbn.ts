/**
 * A small reader for SecOps parser (CBN) files, for offline checks only: it cannot execute a parser.
 * It tokenises, checks that blocks, brackets and quotes balance, builds a tree of filter plugins
 * with their options, if/else and for loops, and lists the fields a parser reads and writes.
 */

export type CbnValue =
  | { kind: 'string'; value: string; line: number }
  | { kind: 'bare'; value: string; line: number }
  | { kind: 'array'; items: CbnValue[]; line: number }
  | { kind: 'hash'; entries: { key: string; value: CbnValue }[]; line: number };

/** A regular expression in a condition (`=~` / `!~`), as the regex engine receives it. */
export interface CbnConditionRegex {
  readonly pattern: string;
  /** `/…/` literal or a quoted string. */
  readonly form: 'literal' | 'string';
  readonly line: number;
}

export interface CbnBranch {
  /** The condition as text (undefined for `else`). */
  condition: string | undefined;
  /** Fields the condition reads: `[a][b]` -> `a.b`. */
  refs: string[];
  /** Regular expressions the condition matches against. */
  regexes: CbnConditionRegex[];
  body: CbnStatement[];
  line: number;
}

export type CbnStatement =
  | { kind: 'plugin'; name: string; options: { key: string; value: CbnValue }[]; line: number }
  | { kind: 'if'; branches: CbnBranch[]; line: number }
  | { kind: 'for'; variables: string[]; source: string; isMap: boolean; body: CbnStatement[]; line: number };

interface Token {
  type: 'string' | 'word' | 'punct' | 'regex';
  value: string;
  line: number;
}

export class CbnSyntaxError extends Error {
  override name = 'CbnSyntaxError';
}

export function tokenize(text: string): Token[] {
  const tokens: Token[] = [];
  let line = 1;
  let i = 0;
  while (i < text.length) {
    const c = text[i] as string;
    if (c === '\n') {
      line += 1;
      i += 1;
    } else if (/\s/.test(c)) {
      i += 1;
    } else if (c === '#') {
      while (i < text.length && text[i] !== '\n') i += 1;
    } else if (c === '/' && isMatchOperator(tokens[tokens.length - 1])) {
      // A /regex/ literal (Logstash syntax): "\/" is a slash, every other backslash stays for the
      // regex engine.
      const start = line;
      let value = '';
      i += 1;
      while (i < text.length && text[i] !== '/') {
        if (text[i] === '\\' && text[i + 1] === '/') {
          value += '/';
          i += 2;
          continue;
        }
        if (text[i] === '\\' && i + 1 < text.length) {
          value += text.slice(i, i + 2);
          i += 2;
          continue;
        }
        if (text[i] === '\n') line += 1;
        value += text[i];
        i += 1;
      }
      if (i >= text.length) throw new CbnSyntaxError(`unterminated /regex/ starting on line ${start}`);
      i += 1;
      tokens.push({ type: 'regex', value, line: start });
    } else if (c === '"' || c === "'") {
      const start = line;
      let value = '';
      i += 1;
      while (i < text.length && text[i] !== c) {
        if (text[i] === '\\' && i + 1 < text.length) {
          value += text[i + 1];
          i += 2;
          continue;
        }
        if (text[i] === '\n') line += 1;
        value += text[i];
        i += 1;
      }
      if (i >= text.length) throw new CbnSyntaxError(`unterminated string starting on line ${start}`);
      i += 1;
      tokens.push({ type: 'string', value, line: start });
    } else if (
      text.startsWith('=>', i) ||
      text.startsWith('==', i) ||
      text.startsWith('!=', i) ||
      text.startsWith('=~', i) ||
      text.startsWith('!~', i) ||
      text.startsWith('<=', i) ||
      text.startsWith('>=', i)
    ) {
      tokens.push({ type: 'punct', value: text.slice(i, i + 2), line });
      i += 2;
    } else if ('{}[](),!<>'.includes(c)) {
      tokens.push({ type: 'punct', value: c, line });
      i += 1;
    } else {
      let value = '';
      while (i < text.length && !/[\s{}[\](),"'#!<>=]/.test(text[i] as string)) {
        value += text[i];
        i += 1;
      }
      if (value === '') throw new CbnSyntaxError(`unexpected character "${c}" on line ${line}`);
      tokens.push({ type: 'word', value, line });
    }
  }
  return tokens;
}

function isMatchOperator(t: Token | undefined): boolean {
  return t?.type === 'punct' && (t.value === '=~' || t.value === '!~');
}

/** Checks that (), [] and {} balance outside strings; returns the problems found. */
export function balanceProblems(tokens: readonly Token[]): string[] {
  const pairs: Record<string, string> = { ')': '(', ']': '[', '}': '{' };
  const stack: Token[] = [];
  const problems: string[] = [];
  for (const t of tokens) {
    if (t.type !== 'punct') continue;
    if ('([{'.includes(t.value)) stack.push(t);
    else if (t.value in pairs) {
      const open = stack.pop();
      if (!open || open.value !== pairs[t.value]) problems.push(`unbalanced "${t.value}" on line ${t.line}`);
    }
  }
  for (const open of stack) problems.push(`"${open.value}" opened on line ${open.line} is never closed`);
  return problems;
}

class Reader {
  private pos = 0;
  constructor(private readonly tokens: Token[]) {}

  peek(offset = 0): Token | undefined {
    return this.tokens[this.pos + offset];
  }

  next(): Token {
    const t = this.tokens[this.pos];
    if (!t) throw new CbnSyntaxError('unexpected end of parser');
    this.pos += 1;
    return t;
  }

  expect(value: string): Token {
    const t = this.next();
    if (t.value !== value || t.type === 'string') {
      throw new CbnSyntaxError(`expected "${value}" but found "${t.value}" on line ${t.line}`);
    }
    return t;
  }

  atEnd(): boolean {
    return this.pos >= this.tokens.length;
  }
}

/** Parses a whole parser: `filter { ... }`. */
export function parseCbn(text: string): CbnStatement[] {
  const tokens = tokenize(text);
  const problems = balanceProblems(tokens);
  if (problems.length > 0) throw new CbnSyntaxError(problems.join('; '));
  const r = new Reader(tokens);
  r.expect('filter');
  r.expect('{');
  const body = parseBlock(r);
  r.expect('}');
  if (!r.atEnd()) throw new CbnSyntaxError(`text after the filter block on line ${r.peek()?.line}`);
  return body;
}

function parseBlock(r: Reader): CbnStatement[] {
  const out: CbnStatement[] = [];
  while (r.peek() && r.peek()?.value !== '}') out.push(parseStatement(r));
  return out;
}

interface ParsedCondition {
  text: string;
  refs: string[];
  regexes: CbnConditionRegex[];
}

function parseCondition(r: Reader): ParsedCondition {
  const tokens: Token[] = [];
  let depth = 0;
  for (;;) {
    const t = r.peek();
    if (!t) throw new CbnSyntaxError('condition without a block');
    if (t.type === 'punct' && t.value === '{' && depth === 0) break;
    r.next();
    if (t.type === 'punct' && (t.value === '[' || t.value === '(')) depth += 1;
    if (t.type === 'punct' && (t.value === ']' || t.value === ')')) depth -= 1;
    tokens.push(t);
  }
  if (tokens.length === 0) throw new CbnSyntaxError('empty condition');
  const text = tokens
    .map((t) =>
      t.type === 'string' ? JSON.stringify(t.value) : t.type === 'regex' ? `/${t.value}/` : t.value,
    )
    .join(' ');
  // Field references are runs of [name] (names are words, not strings or regexes).
  const refs: string[] = [];
  let run: string[] = [];
  for (let i = 0; i <= tokens.length; i++) {
    const t = tokens[i];
    const next = tokens[i + 1];
    const close = tokens[i + 2];
    if (
      t?.type === 'punct' &&
      t.value === '[' &&
      next?.type === 'word' &&
      close?.type === 'punct' &&
      close.value === ']'
    ) {
      run.push(next.value);
      i += 2;
      continue;
    }
    if (run.length > 0) refs.push(run.join('.'));
    run = [];
  }
  const regexes: CbnConditionRegex[] = [];
  tokens.forEach((t, i) => {
    if (!isMatchOperator(tokens[i - 1])) return;
    if (t.type === 'regex') regexes.push({ pattern: t.value, form: 'literal', line: t.line });
    else if (t.type === 'string') regexes.push({ pattern: t.value, form: 'string', line: t.line });
  });
  return { text, refs, regexes };
}

function parseStatement(r: Reader): CbnStatement {
  const t = r.next();
  if (t.type !== 'word')
    throw new CbnSyntaxError(`expected a statement but found "${t.value}" on line ${t.line}`);
  if (t.value === 'if') {
    const branches: CbnBranch[] = [];
    let condition = parseCondition(r);
    let line = t.line;
    for (;;) {
      r.expect('{');
      const body = parseBlock(r);
      r.expect('}');
      branches.push({
        condition: condition.text,
        refs: condition.refs,
        regexes: condition.regexes,
        body,
        line,
      });
      if (r.peek()?.value !== 'else' || r.peek()?.type !== 'word') break;
      line = r.next().line;
      if (r.peek()?.value === 'if' && r.peek()?.type === 'word') {
        r.next();
        condition = parseCondition(r);
      } else {
        r.expect('{');
        const elseBody = parseBlock(r);
        r.expect('}');
        branches.push({ condition: undefined, refs: [], regexes: [], body: elseBody, line });
        break;
      }
    }
    return { kind: 'if', branches, line: t.line };
  }
  if (t.value === 'for') {
    const variables: string[] = [r.next().value];
    if (r.peek()?.value === ',') {
      r.next();
      variables.push(r.next().value);
    }
    r.expect('in');
    const sourceToken = r.next();
    let source = sourceToken.value;
    if (sourceToken.type === 'punct' && sourceToken.value === '[') {
      // A literal list: for x in ["a", "b"]
      const items: string[] = [];
      while (r.peek()?.value !== ']') {
        const item = r.next();
        if (item.value !== ',') items.push(item.value);
      }
      r.expect(']');
      source = `[${items.join(',')}]`;
    }
    let isMap = false;
    if (r.peek()?.value === 'map' && r.peek()?.type === 'word') {
      r.next();
      isMap = true;
    }
    r.expect('{');
    const body = parseBlock(r);
    r.expect('}');
    return { kind: 'for', variables, source, isMap, body, line: t.line };
  }
  r.expect('{');
  const options: { key: string; value: CbnValue }[] = [];
  while (r.peek()?.value !== '}') {
    const key = r.next();
    r.expect('=>');
    options.push({ key: key.value, value: parseValue(r) });
  }
  r.expect('}');
  return { kind: 'plugin', name: t.value, options, line: t.line };
}

function parseValue(r: Reader): CbnValue {
  const t = r.next();
  if (t.type === 'string') return { kind: 'string', value: t.value, line: t.line };
  if (t.type === 'word') return { kind: 'bare', value: t.value, line: t.line };
  if (t.value === '[') {
    const items: CbnValue[] = [];
    while (r.peek()?.value !== ']') {
      items.push(parseValue(r));
      if (r.peek()?.value === ',') r.next();
    }
    r.expect(']');
    return { kind: 'array', items, line: t.line };
  }
  if (t.value === '{') {
    const entries: { key: string; value: CbnValue }[] = [];
    while (r.peek()?.value !== '}') {
      const key = r.next();
      if (key.type !== 'string') throw new CbnSyntaxError(`hash keys must be quoted (line ${key.line})`);
      r.expect('=>');
      entries.push({ key: key.value, value: parseValue(r) });
      if (r.peek()?.value === ',') r.next();
    }
    r.expect('}');
    return { kind: 'hash', entries, line: t.line };
  }
  throw new CbnSyntaxError(`unexpected "${t.value}" on line ${t.line}`);
}

/** Filter plugins and the options each accepts (from Google's parser syntax reference). */
export const KNOWN_PLUGINS: Readonly<Record<string, readonly string[]>> = {
  json: ['source', 'target', 'array_function', 'on_error'],
  mutate: [
    'replace',
    'merge',
    'rename',
    'convert',
    'gsub',
    'lowercase',
    'uppercase',
    'split',
    'copy',
    'remove_field',
    'on_error',
  ],
  date: ['match', 'target', 'timezone', 'rebase', 'on_error'],
  grok: ['match', 'overwrite', 'on_error'],
  kv: ['source', 'target', 'field_split', 'value_split', 'whitespace', 'trim_value', 'on_error'],
  csv: ['source', 'target', 'separator', 'on_error'],
  xml: ['source', 'xpath', 'on_error'],
  base64: ['source', 'target', 'encoding', 'on_error'],
  url_decode: ['source', 'target', 'on_error'],
  drop: ['tag'],
  statedump: ['label'],
};

export const CONVERT_TYPES = new Set(['string', 'integer', 'uinteger', 'float', 'boolean', 'ipaddress']);
export const DATE_FORMATS_SPECIAL = new Set(['UNIX', 'UNIX_MS', 'ISO8601', 'RFC3339', 'TAI64N']);

export interface FieldUse {
  readonly path: string;
  readonly line: number;
  readonly via: string;
}

/** Everything a parser writes: UDM targets (`event.idm.read_only_udm.*`, `@output`) and temporaries. */
export function writtenFields(statements: readonly CbnStatement[]): FieldUse[] {
  const out: FieldUse[] = [];
  walk(statements, (s) => {
    if (s.kind !== 'plugin') return;
    for (const opt of s.options) {
      if (
        s.name === 'mutate' &&
        (opt.key === 'replace' || opt.key === 'merge') &&
        opt.value.kind === 'hash'
      ) {
        for (const e of opt.value.entries)
          out.push({ path: e.key, line: e.value.line, via: `mutate.${opt.key}` });
      }
      if (s.name === 'mutate' && opt.key === 'rename' && opt.value.kind === 'hash') {
        for (const e of opt.value.entries) {
          if (e.value.kind === 'string')
            out.push({ path: e.value.value, line: e.value.line, via: 'mutate.rename' });
        }
      }
      if (s.name === 'date' && opt.key === 'target' && opt.value.kind === 'string') {
        out.push({ path: opt.value.value, line: opt.value.line, via: 'date.target' });
      }
    }
  });
  return out;
}

/**
 * Every source field a parser reads: %{field} references, [a][b] condition references, for-loop
 * sources, and the source keys of convert/rename/date/grok and merge values. Loop variables are
 * expanded to the list they iterate over (`src.id` in `for src in context_attributes.sources` is
 * `context_attributes.sources.id`). Temporaries (`_x`), loop variables themselves, `message` and
 * the output (`event.*`, `@output`) are left out.
 */
export function readFields(statements: readonly CbnStatement[]): FieldUse[] {
  const out: FieldUse[] = [];
  const visit = (list: readonly CbnStatement[], scope: Map<string, string | undefined>) => {
    const add = (raw: string, line: number, via: string) => {
      const path = expand(raw, scope);
      if (path !== undefined) out.push({ path, line, via });
    };
    for (const s of list) {
      if (s.kind === 'for') {
        const inner = new Map(scope);
        if (!s.source.startsWith('[')) add(s.source, s.line, 'for');
        const listPath = s.source.startsWith('[') ? undefined : expand(s.source, scope);
        const valueVar = s.variables[s.variables.length - 1] as string;
        // `for k, v in x map`: v is a value of map x; `for i, v in list`: v is an element.
        inner.set(valueVar, listPath === undefined ? undefined : s.isMap ? `${listPath}.*` : listPath);
        if (s.variables.length === 2) inner.set(s.variables[0] as string, undefined);
        visit(s.body, inner);
      } else if (s.kind === 'if') {
        for (const b of s.branches) {
          for (const ref of b.refs) add(ref, b.line, 'condition');
          visit(b.body, scope);
        }
      } else {
        for (const opt of s.options) {
          for (const str of stringsIn(opt.value)) {
            for (const m of str.value.matchAll(/%\{([^}]+)\}/g))
              add(m[1] as string, str.line, `${s.name}.${opt.key}`);
          }
          if (opt.value.kind === 'hash') {
            for (const e of opt.value.entries) {
              if (s.name === 'mutate' && (opt.key === 'convert' || opt.key === 'rename'))
                add(e.key, e.value.line, `mutate.${opt.key}`);
              if (s.name === 'grok' && opt.key === 'match') add(e.key, e.value.line, 'grok.match');
              if (s.name === 'mutate' && opt.key === 'merge' && e.value.kind === 'string')
                add(e.value.value, e.value.line, 'mutate.merge');
            }
          }
          if (s.name === 'date' && opt.key === 'match' && opt.value.kind === 'array') {
            const first = opt.value.items[0];
            if (first?.kind === 'string') add(first.value, first.line, 'date.match');
          }
          if (s.name === 'json' && opt.key === 'source' && opt.value.kind === 'string') {
            add(opt.value.value, opt.value.line, 'json.source');
          }
        }
      }
    }
  };
  visit(statements, new Map());
  return out;
}

function expand(raw: string, scope: Map<string, string | undefined>): string | undefined {
  const path = raw.trim();
  if (
    path === '' ||
    path === 'message' ||
    path === 'event' ||
    path.startsWith('_') ||
    path.startsWith('@') ||
    path.startsWith('event.')
  ) {
    return undefined;
  }
  const [head, ...rest] = path.split('.');
  if (head !== undefined && scope.has(head)) {
    const base = scope.get(head);
    if (base === undefined) return undefined;
    return [base, ...rest].join('.');
  }
  return path;
}

function stringsIn(value: CbnValue): { value: string; line: number }[] {
  if (value.kind === 'string') return [{ value: value.value, line: value.line }];
  if (value.kind === 'array') return value.items.flatMap(stringsIn);
  if (value.kind === 'hash') return value.entries.flatMap((e) => stringsIn(e.value));
  return [];
}

export function walk(statements: readonly CbnStatement[], visit: (s: CbnStatement) => void): void {
  for (const s of statements) {
    visit(s);
    if (s.kind === 'if') for (const b of s.branches) walk(b.body, visit);
    if (s.kind === 'for') walk(s.body, visit);
  }
}

export interface CbnRegex {
  /** The pattern as the regex engine receives it (after CBN string unescaping). */
  readonly pattern: string;
  readonly line: number;
  /** Where it occurs: `grok` match, `condition` (`=~` / `!~`) or `gsub`. */
  readonly via: 'grok' | 'condition' | 'gsub';
}

/**
 * Every regular expression in a parser: grok match patterns (one or a list per field), the right side
 * of `=~` / `!~` conditions and the pattern of each gsub [field, pattern, replacement] triple. Strings
 * are already unescaped the CBN way (`\\s` in the parser reaches the engine as `\s`).
 */
export function parserRegexes(statements: readonly CbnStatement[]): CbnRegex[] {
  const out: CbnRegex[] = [];
  walk(statements, (s) => {
    if (s.kind === 'if') {
      for (const b of s.branches)
        for (const r of b.regexes) out.push({ pattern: r.pattern, line: r.line, via: 'condition' });
      return;
    }
    if (s.kind !== 'plugin') return;
    for (const opt of s.options) {
      if (s.name === 'grok' && opt.key === 'match' && opt.value.kind === 'hash') {
        for (const e of opt.value.entries) {
          const patterns = e.value.kind === 'array' ? e.value.items : [e.value];
          for (const p of patterns)
            if (p.kind === 'string') out.push({ pattern: p.value, line: p.line, via: 'grok' });
        }
      }
      if (s.name === 'mutate' && opt.key === 'gsub' && opt.value.kind === 'array') {
        opt.value.items.forEach((item, i) => {
          if (i % 3 === 1 && item.kind === 'string')
            out.push({ pattern: item.value, line: item.line, via: 'gsub' });
        });
      }
    }
  });
  return out;
}

/** Grok pattern references: `%{NAME}`, `%{NAME:field}`, `%{NAME:field:type}`. */
const GROK_REFERENCE = /%\{(\w+)(?::([^:}]+))?(?::(\w+))?\}/g;

/** Fields a grok pattern assigns: its `(?P<name>…)` groups and `%{NAME:field}` references. */
export function grokFields(pattern: string): string[] {
  const fields = [...pattern.matchAll(/\(\?P<(\w+)>/g)].map((m) => m[1] as string);
  for (const m of pattern.matchAll(GROK_REFERENCE)) if (m[2] !== undefined) fields.push(m[2]);
  return fields;
}

/**
 * A grok pattern as a plain regular expression: every `%{NAME…}` reference (whose definition lives in
 * the Logstash pattern library, not in the parser) becomes a lazy wildcard group, named after its
 * field when it has one, so the rest of the pattern can still be compiled as it is written.
 */
export function grokToRegex(pattern: string): string {
  return pattern.replace(GROK_REFERENCE, (_m, _name: string, field: string | undefined) =>
    field === undefined ? '(?:.*?)' : `(?P<${field.replace(/\W/g, '_')}>.*?)`,
  );
}
