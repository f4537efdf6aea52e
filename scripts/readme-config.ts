/**
 * Renders the README's configuration table from CONFIG_VARIABLES (the single source of truth).
 * `node dist/scripts/readme-config.js --write` rewrites it; a unit test fails when it is stale.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { CONFIG_VARIABLES } from '../shared/core/config.js';

export const BEGIN = '<!-- config:begin -->';
export const END = '<!-- config:end -->';

export function configTable(): string {
  const rows = CONFIG_VARIABLES.map((v) => {
    const required =
      v.required === 'cloud' ? 'cloud' : v.required === 'chronicle' ? 'to send to Chronicle' : '';
    const where = v.functions.length === 0 ? 'local' : v.functions.join(', ');
    const def = v.default === undefined ? '' : v.default === '' ? '(empty)' : `\`${v.default}\``;
    return `| \`${v.name}\` | ${required} | ${def} | ${v.secret ? 'yes' : ''} | ${where} | ${v.description.replace(/\|/g, '\\|')} |`;
  });
  return [
    '| Variable | Required | Default | Secret | Set on | Meaning |',
    '| --- | --- | --- | --- | --- | --- |',
    ...rows,
  ].join('\n');
}

export function renderReadme(readme: string): string {
  const start = readme.indexOf(BEGIN);
  const end = readme.indexOf(END);
  if (start < 0 || end < start) throw new Error(`README.md lacks the ${BEGIN} … ${END} markers`);
  return `${readme.slice(0, start + BEGIN.length)}\n${configTable()}\n${readme.slice(end)}`;
}

const readmePath = fileURLToPath(new URL('../../README.md', import.meta.url));
if (process.argv.includes('--write') && process.argv[1] === fileURLToPath(import.meta.url)) {
  writeFileSync(readmePath, renderReadme(readFileSync(readmePath, 'utf8')));
}
