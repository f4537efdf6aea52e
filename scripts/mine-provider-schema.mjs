#!/usr/bin/env node
// Mines a small schema of the google Terraform provider (resource and data source types, their
// argument names with required flags, computed-only attribute names and nested block names) from
// the generated bindings in `@cdktf/provider-google`, for the offline terraform tests.
//
// The package is 315 MB, so it is never a dependency of this project. Regenerate with:
//   npm install --no-save --prefix /tmp/cdktf-mine @cdktf/provider-google
//   node scripts/mine-provider-schema.mjs /tmp/cdktf-mine/node_modules/@cdktf/provider-google
//
// Output: terraform/schema/google-provider.json
//   { provider, version, source, provider_config: Node, resource: {type: Node}, data: {type: Node} }
//   Node = { r?: [required args], a?: [optional args], o?: [computed-only attrs], b?: {block: Node} }
// Names come from the "Docs at Terraform Registry" links (argument names, exact snake_case) and
// from the attribute getters of the compiled classes (computed attributes); nothing is guessed.
//
// The package binds the GA provider only. Resources that exist only in google-beta (the module uses
// google_project_service_identity) are in terraform/schema/google-beta-only.json, written by hand
// from the google-beta provider's source (named in its `source` field) and left alone by this
// script; when the GA provider gains such a resource, the schema test asks to drop it there.
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const pkgDir = process.argv[2];
if (!pkgDir) {
  console.error('usage: node scripts/mine-provider-schema.mjs <path to node_modules/@cdktf/provider-google>');
  process.exit(2);
}
const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const out = join(root, 'terraform', 'schema', 'google-provider.json');

const pkg = JSON.parse(readFileSync(join(pkgDir, 'package.json'), 'utf8'));
const libDir = join(pkgDir, 'lib');

/** Parses every `export interface X { ... }` of a .d.ts into its properties. */
function parseInterfaces(dts) {
  const interfaces = new Map();
  const re = /export interface (\w+)(?: extends [\w.]+)? \{\n([\s\S]*?)\n\}/g;
  for (const m of dts.matchAll(re)) {
    const props = [];
    const body = m[2];
    const propRe =
      /\{@link https:\/\/registry\.terraform\.io\/[^#\s]*#(\w+) [^}]*\}(?:(?!\*\/)[\s\S])*\*\/\s*readonly (\w+)(\??): ([^;]+);/g;
    for (const p of body.matchAll(propRe)) {
      props.push({ snake: p[1], optional: p[3] === '?', type: p[4].trim() });
    }
    interfaces.set(m[1], props);
  }
  return interfaces;
}

/** Attribute names read by the getters of one compiled class body. */
function attributeNames(classBody) {
  const names = new Set();
  for (const m of classBody.matchAll(/this\.(?:get\w*Attribute|interpolationForAttribute)\('(\w+)'\)/g)) {
    names.add(m[1]);
  }
  for (const m of classBody.matchAll(/new \w+(?:OutputReference|List|Map)\(this, "(\w+)"/g)) names.add(m[1]);
  return names;
}

function classBody(js, className) {
  const start = js.indexOf(`class ${className} extends`);
  if (start < 0) return '';
  const end = js.indexOf(`exports.${className} = ${className};`, start);
  return js.slice(start, end < 0 ? undefined : end);
}

function buildNode(interfaces, js, interfaceName, className, seen) {
  const props = interfaces.get(interfaceName) ?? [];
  const node = {};
  const required = [];
  const optional = [];
  const blocks = {};
  for (const prop of props) {
    const typeName = prop.type
      .replace(/\[\]/g, '')
      .replace(/\s*\|\s*cdktf\.IResolvable/g, '')
      .trim();
    if (interfaces.has(typeName) && !seen.has(typeName)) {
      blocks[prop.snake] = buildNode(
        interfaces,
        js,
        typeName,
        `${typeName}OutputReference`,
        new Set([...seen, typeName]),
      );
      if (!prop.optional) blocks[prop.snake].required = 1;
    } else if (prop.optional) optional.push(prop.snake);
    else required.push(prop.snake);
  }
  const inputs = new Set([...required, ...optional, ...Object.keys(blocks)]);
  const computed = [...attributeNames(classBody(js, className))].filter((n) => !inputs.has(n));
  if (required.length) node.r = required.sort();
  if (optional.length) node.a = optional.sort();
  if (computed.length) node.o = computed.sort();
  if (Object.keys(blocks).length) {
    node.b = {};
    for (const name of Object.keys(blocks).sort()) {
      const { required: isRequired, ...rest } = blocks[name];
      node.b[name] = isRequired ? { ...rest, req: 1 } : rest;
    }
  }
  return node;
}

const schema = {
  provider: 'google',
  version: (/hashicorp\/google\/([\d.]+)\//.exec(
    readFileSync(join(libDir, 'provider', 'index.d.ts'), 'utf8'),
  ) ?? [])[1],
  source: `${pkg.name}@${pkg.version}`,
  provider_config: {},
  resource: {},
  data: {},
};

const providerDts = readFileSync(join(libDir, 'provider', 'index.d.ts'), 'utf8');
const providerJs = readFileSync(join(libDir, 'provider', 'index.js'), 'utf8');
schema.provider_config = buildNode(
  parseInterfaces(providerDts),
  providerJs,
  'GoogleProviderConfig',
  'GoogleProvider',
  new Set(),
);
delete schema.provider_config.o;

let count = 0;
for (const dir of readdirSync(libDir).sort()) {
  if (dir === 'provider' || dir.startsWith('index')) continue;
  let dts;
  let js;
  try {
    dts = readFileSync(join(libDir, dir, 'index.d.ts'), 'utf8');
    js = readFileSync(join(libDir, dir, 'index.js'), 'utf8');
  } catch {
    continue;
  }
  const typeMatch = /^(\w+)\.tfResourceType = "(\w+)";$/m.exec(js);
  if (!typeMatch) continue;
  const [, className, tfType] = typeMatch;
  const interfaces = parseInterfaces(dts);
  const node = buildNode(interfaces, js, `${className}Config`, className, new Set());
  const kind = dir.startsWith('data-') ? 'data' : 'resource';
  schema[kind][tfType] = node;
  count += 1;
}

writeFileSync(out, `${JSON.stringify(schema)}\n`);
const size = readFileSync(out).length;
console.log(
  `mined ${count} types (${Object.keys(schema.resource).length} resources, ${Object.keys(schema.data).length} data sources) from ${schema.source} (provider ${schema.version}) into ${out}: ${size} bytes`,
);
