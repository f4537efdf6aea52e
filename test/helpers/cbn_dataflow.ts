/**
 * A static "assigned before read" dataflow over a SecOps parser (CBN) tree from ./cbn.ts.
 *
 * On a real instance a condition that reads a field which was never set fails the whole log ("…
 * not found in state data", Google's "Tips and troubleshooting when writing parsers"), and a filter
 * without on_error that reads a missing field (replace with %{x}, convert, copy, date, grok, …) fails
 * it too. This walks every path through the parser and reports reads of fields that are not set on
 * all of them. A field counts as set when it, or a field below it, was assigned:
 * - by mutate replace / convert / copy / gsub / lowercase / uppercase / split, date / grok / json /
 *   kv / csv / xml / base64 / url_decode targets, grok named groups — but only in a filter without
 *   on_error (a filter with on_error may have failed, so nothing it writes is certain except its flag);
 * - by a filter's on_error flag (set to true or false either way);
 * - by rename and merge only when their source is set (renaming or merging a missing field is
 *   silently ignored); rename unsets its source, remove_field unsets its fields;
 * - by a for loop's variables, inside the loop only;
 * - after an if, only when every branch (and the missing else) sets it; a branch that drops the log
 *   never falls through.
 * The json filter sets only what the log contains, so no field parsed from the log is ever certain.
 * A for loop over a missing field runs zero times, so its source is not a read.
 */
import { type CbnStatement, type CbnValue, grokFields } from './cbn.js';

export interface UnsetRead {
  readonly path: string;
  readonly line: number;
  readonly via: string;
}

export interface DataflowResult {
  /** Fields read by an if / else if condition that some path reaches without setting. */
  readonly conditionReads: UnsetRead[];
  /** Fields read by a filter without on_error that some path reaches without setting. */
  readonly unprotectedReads: UnsetRead[];
}

/** Set paths; undefined = unreachable (the log was dropped): everything counts as set there. */
type State = ReadonlySet<string> | undefined;

type Option = { key: string; value: CbnValue };

const MUTATE_ORDER = [
  'rename',
  'update',
  'replace',
  'convert',
  'gsub',
  'uppercase',
  'lowercase',
  'split',
  'merge',
  'copy',
  'remove_field',
] as const;

/** mutate operations that fail on a missing field (or a failed %{} interpolation). */
const FALLIBLE_MUTATE = new Set(['convert', 'copy', 'gsub', 'uppercase', 'lowercase', 'split']);

/** Filters with a `source` they read and a `target` they write. */
const SOURCE_TARGET_FILTERS = new Set(['json', 'kv', 'csv', 'xml', 'base64', 'url_decode']);

function under(path: string, root: string): boolean {
  return path === root || path.startsWith(`${root}.`);
}

export function isSet(state: State, path: string): boolean {
  if (state === undefined) return true;
  for (const p of state) if (under(p, path)) return true;
  return false;
}

function without(state: Set<string>, root: string): void {
  for (const p of [...state]) if (under(p, root)) state.delete(p);
}

function intersect(states: State[]): State {
  const reachable = states.filter((s): s is ReadonlySet<string> => s !== undefined);
  if (reachable.length === 0) return undefined;
  const [first, ...rest] = reachable as [ReadonlySet<string>, ...ReadonlySet<string>[]];
  return new Set([...first].filter((p) => rest.every((s) => s.has(p))));
}

function sameState(a: State, b: State): boolean {
  if (a === undefined || b === undefined) return a === b;
  return a.size === b.size && [...a].every((p) => b.has(p));
}

function stringOf(v: CbnValue | undefined): string | undefined {
  return v?.kind === 'string' || v?.kind === 'bare' ? v.value : undefined;
}

function entriesOf(v: CbnValue): { key: string; value: CbnValue }[] {
  return v.kind === 'hash' ? v.entries : [];
}

function itemsOf(v: CbnValue): CbnValue[] {
  return v.kind === 'array' ? v.items : [v];
}

function interpolated(text: string): string[] {
  return [...text.matchAll(/%\{([^}]+)\}/g)].map((m) => (m[1] as string).trim());
}

class Analysis {
  private readonly conditionReads = new Map<string, UnsetRead>();
  private readonly unprotectedReads = new Map<string, UnsetRead>();
  /** While a loop body is being iterated to its fixpoint, reads are kept only from the last pass. */
  private recording = true;

  result(): DataflowResult {
    const sorted = (m: Map<string, UnsetRead>) =>
      [...m.values()].sort((a, b) => a.line - b.line || a.path.localeCompare(b.path));
    return { conditionReads: sorted(this.conditionReads), unprotectedReads: sorted(this.unprotectedReads) };
  }

  private read(into: Map<string, UnsetRead>, state: State, path: string, line: number, via: string): void {
    if (!this.recording || isSet(state, path)) return;
    into.set(`${line} ${path} ${via}`, { path, line, via });
  }

  block(statements: readonly CbnStatement[], entry: State): State {
    let state = entry;
    for (const s of statements) {
      if (state === undefined) return undefined;
      if (s.kind === 'if') state = this.ifStatement(s, state);
      else if (s.kind === 'for') state = this.forStatement(s, state);
      else state = this.plugin(s, state);
    }
    return state;
  }

  private ifStatement(s: Extract<CbnStatement, { kind: 'if' }>, state: ReadonlySet<string>): State {
    const outs: State[] = [];
    for (const b of s.branches) {
      for (const ref of b.refs) this.read(this.conditionReads, state, ref, b.line, 'condition');
      outs.push(this.block(b.body, state));
    }
    if (s.branches[s.branches.length - 1]?.condition !== undefined) outs.push(state);
    return intersect(outs);
  }

  private forStatement(s: Extract<CbnStatement, { kind: 'for' }>, state: ReadonlySet<string>): State {
    // The body runs zero or more times: iterate until the state at its entry stops shrinking, and
    // keep the reads of that last (least assigned) pass.
    const recording = this.recording;
    let entry: ReadonlySet<string> = state;
    for (;;) {
      const inside = new Set(entry);
      for (const v of s.variables) {
        without(inside, v);
        inside.add(v);
      }
      this.recording = false;
      const out = this.block(s.body, inside);
      const afterPass = out === undefined ? entry : new Set([...out]);
      if (out !== undefined) for (const v of s.variables) without(afterPass as Set<string>, v);
      const next = intersect([entry, afterPass]) as ReadonlySet<string>;
      if (sameState(next, entry)) {
        this.recording = recording;
        this.block(s.body, inside);
        return entry;
      }
      entry = next;
    }
  }

  private plugin(s: Extract<CbnStatement, { kind: 'plugin' }>, entry: ReadonlySet<string>): State {
    if (s.name === 'drop') return undefined;
    const options = s.options;
    const flag = stringOf(options.find((o) => o.key === 'on_error')?.value);
    const state = new Set(entry);
    const unprotected = (path: string, line: number, via: string) => {
      if (flag === undefined) this.read(this.unprotectedReads, state, path, line, via);
    };
    if (s.name === 'mutate') this.mutate(options, state, flag !== undefined, unprotected);
    else this.otherFilter(s.name, options, state, flag !== undefined, unprotected, s.line);
    if (flag !== undefined) {
      without(state, flag);
      state.add(flag);
    }
    return state;
  }

  private mutate(
    options: readonly Option[],
    state: Set<string>,
    hasOnError: boolean,
    unprotected: (path: string, line: number, via: string) => void,
  ): void {
    const fallible = options.some(
      (o) =>
        FALLIBLE_MUTATE.has(o.key) ||
        ((o.key === 'replace' || o.key === 'update') &&
          entriesOf(o.value).some((e) => stringOf(e.value)?.includes('%{'))),
    );
    // With on_error, a fallible block may have stopped anywhere: only what it removes is certain.
    const certain = !(hasOnError && fallible);
    for (const op of MUTATE_ORDER) {
      for (const o of options.filter((x) => x.key === op)) {
        for (const e of op === 'remove_field' ? [] : entriesOf(o.value)) {
          const value = stringOf(e.value) ?? '';
          if (op === 'rename') {
            const from = e.key;
            const to = value;
            if (certain && isSet(state, from)) {
              const moved = [...state].filter((p) => under(p, from)).map((p) => to + p.slice(from.length));
              without(state, to);
              for (const p of moved) state.add(p);
            }
            without(state, from);
          } else if (op === 'replace' || op === 'update') {
            for (const ref of interpolated(value)) unprotected(ref, e.value.line, `mutate.${op}`);
            if ((op === 'replace' && certain) || isSet(state, e.key)) {
              // Assigned, or (update, or a replace that may have failed) set before and set after
              // either way; what was below it may be gone.
              without(state, e.key);
              state.add(e.key);
            }
          } else if (op === 'merge') {
            if (certain && !value.includes('%{') && isSet(state, value)) state.add(e.key);
          } else if (op === 'copy') {
            unprotected(value, e.value.line, 'mutate.copy');
            if (certain) {
              const copied = [...state]
                .filter((p) => under(p, value))
                .map((p) => e.key + p.slice(value.length));
              without(state, e.key);
              for (const p of copied) state.add(p);
              state.add(e.key);
            }
          } else {
            // convert, and in Logstash's hash form gsub/uppercase/...: the field must exist
            unprotected(e.key, e.value.line, `mutate.${op}`);
            if (certain) state.add(e.key);
          }
        }
        if (op === 'remove_field' || op === 'gsub' || op === 'uppercase' || op === 'lowercase') {
          const items = itemsOf(o.value);
          items.forEach((item, i) => {
            const field = stringOf(item);
            if (field === undefined || field.includes('%{')) return;
            if (op === 'remove_field') without(state, field);
            else if (op !== 'gsub' || i % 3 === 0) {
              unprotected(field, item.line, `mutate.${op}`);
              if (certain) state.add(field);
            }
          });
        }
      }
    }
  }

  private otherFilter(
    name: string,
    options: readonly Option[],
    state: Set<string>,
    hasOnError: boolean,
    unprotected: (path: string, line: number, via: string) => void,
    line: number,
  ): void {
    const assign = (path: string) => {
      if (hasOnError) return;
      without(state, path);
      state.add(path);
    };
    const option = (key: string) => options.find((o) => o.key === key)?.value;
    if (name === 'grok') {
      const match = option('match');
      for (const e of match ? entriesOf(match) : []) {
        unprotected(e.key, e.value.line, 'grok.match');
        // The first pattern that matches assigns: only fields every pattern captures are certain.
        const perPattern = itemsOf(e.value).map((p) => new Set(grokFields(stringOf(p) ?? '')));
        const [first, ...rest] = perPattern;
        for (const f of first ?? []) if (rest.every((r) => r.has(f))) assign(f);
      }
    } else if (name === 'date') {
      const match = option('match');
      const field = match?.kind === 'array' ? stringOf(match.items[0]) : undefined;
      if (field !== undefined) unprotected(field, match?.line ?? line, 'date.match');
      assign(stringOf(option('target')) ?? 'event.idm.read_only_udm.metadata.event_timestamp');
    } else if (SOURCE_TARGET_FILTERS.has(name)) {
      const source = stringOf(option('source'));
      if (source !== undefined) unprotected(source, option('source')?.line ?? line, `${name}.source`);
      const target = stringOf(option('target'));
      if (target !== undefined) assign(target);
    }
  }
}

/** Runs the analysis; `initial` are the fields set before the first filter (the raw log). */
export function assignedBeforeRead(
  statements: readonly CbnStatement[],
  initial: readonly string[] = ['message'],
): DataflowResult {
  const analysis = new Analysis();
  analysis.block(statements, new Set(initial));
  return analysis.result();
}
