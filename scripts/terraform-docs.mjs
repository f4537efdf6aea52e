#!/usr/bin/env node
// Regenerates the inputs and outputs tables of terraform/README.md from variables.tf and
// outputs.tf (parsed with @cdktf/hcl2json), between the markers
//   <!-- BEGIN_TF_INPUTS --> ... <!-- END_TF_INPUTS -->   and   <!-- BEGIN_TF_OUTPUTS --> ... <!-- END_TF_OUTPUTS -->
// Usage: node scripts/terraform-docs.mjs          rewrite the README
//        node scripts/terraform-docs.mjs --check  exit 1 if the README is out of date (a unit test runs this)
import { readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const moduleDir = join(root, 'terraform');
const readmePath = join(moduleDir, 'README.md');
const { parse } = createRequire(import.meta.url)('@cdktf/hcl2json');

const oneLine = (text) => String(text).replace(/\s+/g, ' ').trim();
const pipes = (text) => oneLine(text).replace(/\|/g, '\\|');
const cell = (text) => pipes(text).replace(/</g, '&lt;').replace(/>/g, '&gt;');
const code = (text) => `\`${pipes(text)}\``;
const expr = (text) => oneLine(String(text).replace(/^\$\{([\s\S]*)\}$/, '$1'));

async function blocksOf(file, kind) {
  const json = await parse(file, readFileSync(join(moduleDir, file), 'utf8'));
  return Object.entries(json[kind] ?? {}).map(([name, bodies]) => ({ name, ...bodies[0] }));
}

export async function render() {
  const variables = await blocksOf('variables.tf', 'variable');
  const outputs = await blocksOf('outputs.tf', 'output');
  const inputs = [
    '| Name | Description | Type | Default | Required |',
    '|------|-------------|------|---------|:--------:|',
    ...variables.map(
      (v) =>
        `| ${code(v.name)} | ${cell(v.description ?? '')} | ${code(expr(v.type ?? 'any'))} | ${
          'default' in v ? code(JSON.stringify(v.default)) : 'n/a'
        } | ${'default' in v ? 'no' : 'yes'} |`,
    ),
  ].join('\n');
  const outs = [
    '| Name | Description |',
    '|------|-------------|',
    ...outputs.map((o) => `| ${code(o.name)} | ${cell(o.description ?? '')} |`),
  ].join('\n');
  return { inputs, outputs: outs };
}

function replaceBetween(text, begin, end, content) {
  const i = text.indexOf(begin);
  const j = text.indexOf(end);
  if (i < 0 || j < i) throw new Error(`terraform-docs: markers ${begin} / ${end} not found in ${readmePath}`);
  return `${text.slice(0, i + begin.length)}\n${content}\n${text.slice(j)}`;
}

const tables = await render();
const current = readFileSync(readmePath, 'utf8');
let next = replaceBetween(current, '<!-- BEGIN_TF_INPUTS -->', '<!-- END_TF_INPUTS -->', tables.inputs);
next = replaceBetween(next, '<!-- BEGIN_TF_OUTPUTS -->', '<!-- END_TF_OUTPUTS -->', tables.outputs);
if (process.argv.includes('--check')) {
  if (next !== current) {
    console.error(
      'terraform/README.md inputs/outputs tables are out of date: run node scripts/terraform-docs.mjs',
    );
    process.exit(1);
  }
  console.log('terraform/README.md tables are up to date');
} else if (next !== current) {
  writeFileSync(readmePath, next);
  console.log('terraform/README.md tables updated');
}
