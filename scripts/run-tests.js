#!/usr/bin/env node
// Runs the compiled tests with Node's own test runner: `unit`, `integration` or `all`.
// Usage: node scripts/run-tests.js [unit|integration|all] [extra node --test args]
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';

const which = process.argv[2] ?? 'all';
const extra = process.argv.slice(3);
if (!['unit', 'integration', 'all'].includes(which)) {
  console.error(`run-tests: unknown suite "${which}" (unit, integration or all)`);
  process.exit(2);
}
const suites = which === 'all' ? ['unit', 'integration'] : [which];

function collect(dir) {
  if (!existsSync(dir)) return [];
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return collect(path);
    return name.endsWith('.test.js') ? [path] : [];
  });
}

const env = { ...process.env, METADATA_SERVER_DETECTION: 'none', NODE_NO_WARNINGS: '1' };
let failed = false;
for (const suite of suites) {
  const files = collect(join('dist', 'test', suite)).sort();
  if (files.length === 0) continue;
  // Integration tests start emulators and servers: run them one file at a time on 2 cores.
  const concurrency = suite === 'integration' ? '1' : '2';
  const result = spawnSync(
    process.execPath,
    ['--test', `--test-concurrency=${concurrency}`, '--test-reporter=spec', ...extra, ...files],
    { stdio: 'inherit', env },
  );
  if (result.status !== 0) failed = true;
}
process.exit(failed ? 1 : 0);
