/**
 * The layout the README's "Layout" section describes: shared/ is split into wings that depend on
 * each other one way only (core ← gti ← chronicle ← pipeline ← cloud), the runtime code never
 * imports the tools around it (cli, sim, bench, test), and no module imports itself in a circle.
 */
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const SOURCE_DIRS = ['shared', 'functions', 'cli', 'sim', 'bench', 'scripts', 'test'];
/** Lower wings first: a wing may import its own files and those of the wings before it. */
const WINGS = ['core', 'gti', 'chronicle', 'pipeline', 'cloud'] as const;

function sourceFiles(dir: string): string[] {
  return readdirSync(join(ROOT, dir)).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(join(ROOT, path)).isDirectory()) return sourceFiles(path);
    return name.endsWith('.ts') ? [path] : [];
  });
}

/** Relative imports of one file, as repo paths of the .ts files they name. */
function importsOf(file: string): string[] {
  const text = readFileSync(join(ROOT, file), 'utf8');
  const specs = [...text.matchAll(/(?:\bfrom|\bimport)\s*\(?\s*'(\.{1,2}\/[^']+)'/g)].map((m) => m[1] ?? '');
  return specs
    .filter((spec) => spec.endsWith('.js'))
    .map((spec) => relative(ROOT, resolve(ROOT, dirname(file), spec)).replace(/\.js$/, '.ts'));
}

const files = SOURCE_DIRS.flatMap(sourceFiles);
const graph = new Map(files.map((file) => [file, importsOf(file)]));
const wingOf = (file: string) => /^shared\/([^/]+)\//.exec(file)?.[1];

describe('architecture', () => {
  it('finds the source files it checks', () => {
    assert.ok(files.length > 50, `only ${files.length} files found under ${ROOT}`);
    assert.ok(graph.get('shared/pipeline/fetch_run.ts')?.length, 'the fetch run imports nothing?');
  });

  it('every file in shared/ belongs to a wing', () => {
    const loose = files.filter(
      (f) => f.startsWith('shared/') && !WINGS.some((w) => f.startsWith(`shared/${w}/`)),
    );
    assert.deepEqual(loose, []);
  });

  it('wings import only themselves and the wings below them', () => {
    const upward: string[] = [];
    for (const [file, imports] of graph) {
      const from = wingOf(file);
      if (!from) continue;
      for (const target of imports) {
        const to = wingOf(target);
        const ok =
          to !== undefined && WINGS.indexOf(to as (typeof WINGS)[number]) <= WINGS.indexOf(from as never);
        if (!ok) upward.push(`${file} -> ${target}`);
      }
    }
    assert.deepEqual(upward, []);
  });

  it('the functions import only shared/ and their own folder', () => {
    const outside = [...graph]
      .filter(([file]) => file.startsWith('functions/'))
      .flatMap(([file, imports]) =>
        imports.filter((t) => !/^(shared|functions)\//.test(t)).map((t) => `${file} -> ${t}`),
      );
    assert.deepEqual(outside, []);
  });

  it('has no import circles', () => {
    const cycles: string[] = [];
    const state = new Map<string, 'open' | 'done'>();
    const stack: string[] = [];
    const visit = (file: string) => {
      state.set(file, 'open');
      stack.push(file);
      for (const next of graph.get(file) ?? []) {
        if (state.get(next) === 'open') cycles.push([...stack.slice(stack.indexOf(next)), next].join(' -> '));
        else if (!state.has(next) && graph.has(next)) visit(next);
      }
      stack.pop();
      state.set(file, 'done');
    };
    for (const file of graph.keys()) if (!state.has(file)) visit(file);
    assert.deepEqual(cycles, []);
  });
});
