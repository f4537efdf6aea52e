/**
 * Every `npx ioc-stream …` the READMEs tell a user to run is a command (and subcommand) that
 * exists: the documented path matches the commands.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { main } from '../../../cli/main.js';

const ROOT = new URL('../../../../', import.meta.url);
const DOCS = ['README.md', 'custom_parser/README.md'];
/** Commands whose first argument is a subcommand. */
const WITH_SUBCOMMANDS = new Set(['parser', 'rules', 'dlq', 'dashboard']);

function documented(): string[][] {
  const found = new Map<string, string[]>();
  for (const doc of DOCS) {
    const text = readFileSync(fileURLToPath(new URL(doc, ROOT)), 'utf8');
    for (const m of text.matchAll(/npx (?:-- )?ioc-stream ([a-z]+)(?: ([a-z]+))?/g)) {
      const command = m[1] ?? '';
      const argv = WITH_SUBCOMMANDS.has(command) && m[2] ? [command, m[2]] : [command];
      found.set(argv.join(' '), argv);
    }
  }
  return [...found.values()];
}

describe('README commands', () => {
  const commands = documented();
  it('finds the deploy path in the README', () => {
    const names = commands.map((c) => c.join(' '));
    for (const step of ['parser install', 'doctor', 'sync', 'trigger', 'rules export', 'parser validate'])
      assert.ok(names.includes(step), `${step} not found in ${names.join(', ')}`);
  });
  for (const argv of commands) {
    it(`npx ioc-stream ${argv.join(' ')} exists`, async () => {
      let out = '';
      const ctx = {
        env: {},
        stdout: { write: (t: string) => (out += t) },
        stderr: { write: (t: string) => (out += t) },
        signal: new AbortController().signal,
      };
      const args = argv[0] === 'version' ? argv : [...argv, '--help'];
      assert.equal(await main(args, ctx), 0, out);
    });
  }
});
