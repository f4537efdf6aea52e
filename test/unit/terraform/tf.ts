/**
 * Offline helpers for the terraform tests: parse the module's .tf files with @cdktf/hcl2json (HCL
 * to JSON, WASM, no provider needed), load the mined provider schema, and extract references.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** Repository root (tests run from dist/test/unit/terraform/). */
export const ROOT = fileURLToPath(new URL('../../../../', import.meta.url));
export const MODULE_DIR = join(ROOT, 'terraform');

export type Json = string | number | boolean | null | Json[] | { [key: string]: Json };
export type Body = { [key: string]: Json };

interface Hcl2Json {
  parse(filename: string, contents: string): Promise<Record<string, Json>>;
  getReferencesInExpression(filename: string, expression: string): Promise<{ value: string }[]>;
}

// Loaded with require so the package's DOM-referencing typings stay out of the program.
const hcl = createRequire(import.meta.url)('@cdktf/hcl2json') as Hcl2Json;

export interface SchemaNode {
  r?: string[];
  a?: string[];
  o?: string[];
  b?: Record<string, SchemaNode & { req?: 1 }>;
}

export interface ProviderSchema {
  provider: string;
  version: string;
  source: string;
  provider_config: SchemaNode;
  resource: Record<string, SchemaNode>;
  data: Record<string, SchemaNode>;
}

let schemaCache: ProviderSchema | undefined;
export function loadSchema(): ProviderSchema {
  schemaCache ??= JSON.parse(
    readFileSync(join(MODULE_DIR, 'schema', 'google-provider.json'), 'utf8'),
  ) as ProviderSchema;
  return schemaCache;
}

/**
 * Resources only the google-beta provider has (terraform/schema/google-beta-only.json): written by
 * hand from the provider's source, which `source` names, since the mined package is GA only.
 */
export interface BetaOnlySchema {
  provider: string;
  version: string;
  source: string;
  resource: Record<string, SchemaNode>;
}

export function loadBetaOnlySchema(): BetaOnlySchema {
  return JSON.parse(
    readFileSync(join(MODULE_DIR, 'schema', 'google-beta-only.json'), 'utf8'),
  ) as BetaOnlySchema;
}

/** How hcl2json renders `provider = google-beta`. */
export const GOOGLE_BETA = `\${google-beta}`;

export interface TfFile {
  path: string;
  json: Record<string, Json>;
}

/** Every .tf file of a directory (not recursive), parsed. */
export async function parseDir(dir: string): Promise<TfFile[]> {
  const names = readdirSync(dir)
    .filter((n) => n.endsWith('.tf'))
    .sort();
  return Promise.all(
    names.map(async (name) => ({
      path: join(dir, name),
      json: await hcl.parse(name, readFileSync(join(dir, name), 'utf8')),
    })),
  );
}

export function isObject(value: Json | undefined): value is { [key: string]: Json } {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Labelled blocks of one kind across files: resource/data give `type.name`, others `name`. */
export interface Block {
  kind: string;
  type?: string;
  name: string;
  body: Body;
  file: string;
}

export function blocks(files: TfFile[]): Block[] {
  const out: Block[] = [];
  for (const file of files) {
    for (const [kind, value] of Object.entries(file.json)) {
      if (kind === 'resource' || kind === 'data') {
        if (!isObject(value)) continue;
        for (const [type, byName] of Object.entries(value)) {
          if (!isObject(byName)) continue;
          for (const [name, bodies] of Object.entries(byName)) {
            for (const body of asBodies(bodies)) out.push({ kind, type, name, body, file: file.path });
          }
        }
      } else if (kind === 'variable' || kind === 'output' || kind === 'module' || kind === 'check') {
        if (!isObject(value)) continue;
        for (const [name, bodies] of Object.entries(value)) {
          for (const body of asBodies(bodies)) out.push({ kind, name, body, file: file.path });
        }
      } else if (kind === 'locals' || kind === 'terraform') {
        for (const body of asBodies(value)) out.push({ kind, name: kind, body, file: file.path });
      } else if (kind === 'provider') {
        if (!isObject(value)) continue;
        for (const [name, bodies] of Object.entries(value)) {
          for (const body of asBodies(bodies)) out.push({ kind, name, body, file: file.path });
        }
      } else {
        out.push({ kind, name: kind, body: {}, file: file.path });
      }
    }
  }
  return out;
}

export function asBodies(value: Json | undefined): Body[] {
  if (Array.isArray(value)) return value.filter(isObject);
  return isObject(value) ? [value] : [];
}

export function resources(files: TfFile[], type: string): Map<string, Body> {
  const out = new Map<string, Body>();
  for (const b of blocks(files)) if (b.kind === 'resource' && b.type === type) out.set(b.name, b.body);
  return out;
}

export function resource(files: TfFile[], type: string, name: string): Body {
  const body = resources(files, type).get(name);
  if (!body) throw new Error(`missing resource ${type}.${name}`);
  return body;
}

export function locals(files: TfFile[]): Map<string, Json> {
  const out = new Map<string, Json>();
  for (const b of blocks(files)) {
    if (b.kind !== 'locals') continue;
    for (const [k, v] of Object.entries(b.body)) out.set(k, v);
  }
  return out;
}

/** First block of a nested block attribute (`push_config[0]`). */
export function block(body: Body, ...path: string[]): Body {
  let current: Body = body;
  for (const key of path) {
    const next = asBodies(current[key])[0];
    if (!next) throw new Error(`missing block ${path.join('.')}`);
    current = next;
  }
  return current;
}

/** The environment_variables map of a google_cloudfunctions2_function (literal or via a local). */
export function functionEnvironment(files: TfFile[], functionName: string): { [key: string]: Json } {
  const fn = resource(files, 'google_cloudfunctions2_function', functionName);
  const env = block(fn, 'service_config').environment_variables;
  const localName = unwrap(env)?.replace(/^local\./, '');
  const value = localName ? locals(files).get(localName) : env;
  if (!isObject(value)) {
    throw new Error(`environment of ${functionName} must be a literal map (directly or via a local)`);
  }
  return value;
}

/** Every string anywhere in a JSON value. */
export function strings(value: Json | undefined, out: string[] = []): string[] {
  if (typeof value === 'string') out.push(value);
  else if (Array.isArray(value)) for (const v of value) strings(v, out);
  else if (isObject(value)) for (const v of Object.values(value)) strings(v, out);
  return out;
}

const REF_RE =
  /\b(?:var|local|data|module)(?:\.[A-Za-z_][\w-]*|\[\d+\])+|\bgoogle_[a-z0-9_]+(?:\.[A-Za-z_][\w-]*|\[\d+\])+/g;

/**
 * References in an expression string: the library's traversal list, plus a textual scan that
 * also sees references nested in templates inside `for` expressions (which the library skips).
 * `a.b[0].c` is normalised to `a.b.0.c`.
 */
export async function references(file: string, expression: string): Promise<string[]> {
  if (!expression.includes('${')) return [];
  const found = new Set<string>();
  try {
    for (const ref of await hcl.getReferencesInExpression(file, expression)) found.add(ref.value);
  } catch {
    // hcl2json hands back template strings with their inner quotes unescaped, which the library
    // cannot parse again; the textual scan below still covers them.
  }
  for (const m of expression.matchAll(REF_RE)) found.add(m[0].replace(/\[(\d+)\]/g, '.$1'));
  return [...found];
}

/** `"${x}"` → `x` when the whole string is one interpolation. */
export function unwrap(value: Json | undefined): string | undefined {
  if (typeof value !== 'string') return undefined;
  const m = /^\$\{([\s\S]*)\}$/.exec(value);
  return m ? m[1] : undefined;
}
