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

export type CbnStatement =
  | { kind: 'plugin'; name: string; options: { key: string; value: CbnValue }[]; line: number }
  | { kind: 'if'; branches: { condition: string | undefined; body: CbnStatement[] }[]; line: number }
  | { kind: 'for'; variables: string[]; source: string; isMap: boolean; body: CbnStatement[]; line: number };

interface Token {
  type: 'string' | 'word' | 'punct';
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

function parseCondition(r: Reader): string {
  const parts: string[] = [];
  let depth = 0;
  for (;;) {
    const t = r.peek();
    if (!t) throw new CbnSyntaxError('condition without a block');
    if (t.type === 'punct' && t.value === '{' && depth === 0) break;
    r.next();
    if (t.type === 'punct' && (t.value === '[' || t.value === '(')) depth += 1;
    if (t.type === 'punct' && (t.value === ']' || t.value === ')')) depth -= 1;
    parts.push(t.type === 'string' ? JSON.stringify(t.value) : t.value);
  }
  if (parts.length === 0) throw new CbnSyntaxError('empty condition');
  return parts.join(' ');
}

function parseStatement(r: Reader): CbnStatement {
  const t = r.next();
  if (t.type !== 'word')
    throw new CbnSyntaxError(`expected a statement but found "${t.value}" on line ${t.line}`);
  if (t.value === 'if') {
    const branches: { condition: string | undefined; body: CbnStatement[] }[] = [];
    let condition: string | undefined = parseCondition(r);
    for (;;) {
      r.expect('{');
      const body = parseBlock(r);
      r.expect('}');
      branches.push({ condition, body });
      if (r.peek()?.value !== 'else' || r.peek()?.type !== 'word') break;
      r.next();
      if (r.peek()?.value === 'if' && r.peek()?.type === 'word') {
        r.next();
        condition = parseCondition(r);
      } else {
        condition = undefined;
        r.expect('{');
        const elseBody = parseBlock(r);
        r.expect('}');
        branches.push({ condition: undefined, body: elseBody });
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
          if (b.condition) for (const ref of conditionRefs(b.condition)) add(ref, s.line, 'condition');
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

/** `[a][b] == "x"` -> `a.b`. */
export function conditionRefs(condition: string): string[] {
  const refs: string[] = [];
  for (const m of condition.matchAll(/((?:\[\s*[A-Za-z0-9_@.-]+\s*\]\s*)+)/g)) {
    const parts = [...(m[1] as string).matchAll(/\[\s*([A-Za-z0-9_@.-]+)\s*\]/g)].map((p) => p[1] as string);
    refs.push(parts.join('.'));
  }
  return refs;
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
