/**
 * The SecOps native dashboard field list (custom_parser/dashboards/dashboard_fields.txt, transcribed
 * from googleapis `google/cloud/chronicle/v1/{native_dashboard,dashboard_chart,dashboard_query}.proto`)
 * and a checker of JSON values against it, as a proto3 JSON parser would read them: unknown field
 * names, wrong value types, enum values that do not exist, required fields left out, two members of
 * one oneof set. Problems name the JSON path (`dashboards[0].dashboardCharts[2].visualization...`).
 */
import { readFileSync } from 'node:fs';
import { ValidationError } from '../core/errors.js';

export interface ProtoField {
  /** Proto name, snake_case. */
  readonly name: string;
  /** lowerCamelCase JSON name. */
  readonly jsonName: string;
  readonly type: string;
  readonly repeated: boolean;
  readonly required: boolean;
  readonly outputOnly: boolean;
  /** Bound from the URL path (HTTP rule): never in a body. */
  readonly path: boolean;
}

const SCALARS = new Set(['string', 'bool', 'int32', 'int64', 'double', 'bytes', 'Timestamp', 'Opaque']);
const FLAGS = new Set(['required', 'output_only', 'path']);
const INT64 = /^-?\d{1,19}$/;
const RFC3339 = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,9})?(Z|[+-]\d{2}:\d{2})$/i;
/** Deepest nesting the checker follows (the protos nest 8 levels; anything far deeper is hostile). */
const MAX_DEPTH = 32;

/** proto field name → JSON name (the protobuf JSON mapping: drop `_`, upper-case the next letter). */
export function jsonName(protoName: string): string {
  return protoName.replace(/_([a-z0-9])/g, (_, c: string) => c.toUpperCase());
}

export class DashboardSchema {
  readonly messages = new Map<string, Map<string, ProtoField>>();
  readonly enums = new Map<string, readonly string[]>();
  readonly oneofs = new Map<string, (readonly string[])[]>();

  /** Reads the field list format documented in dashboard_fields.txt's header. */
  static parse(text: string, source = 'dashboard_fields.txt'): DashboardSchema {
    const schema = new DashboardSchema();
    text.split('\n').forEach((raw, index) => {
      const line = raw.trim();
      if (line === '' || line.startsWith('#')) return;
      const bad = (why: string) => new ValidationError(`${source} line ${index + 1}: ${why}: "${line}"`);
      const parts = line.split(/\s+/);
      if (parts[0] === 'enum') {
        if (parts.length < 3) throw bad('an enum needs a name and values');
        schema.enums.set(parts[1] as string, parts.slice(2));
        return;
      }
      if (parts[0] === 'oneof') {
        if (parts.length < 4) throw bad('a oneof needs a message and two fields');
        const list = schema.oneofs.get(parts[1] as string) ?? [];
        list.push(parts.slice(2));
        schema.oneofs.set(parts[1] as string, list);
        return;
      }
      const [dotted, typeRaw, ...flags] = parts as [string, string | undefined, ...string[]];
      if (typeRaw === undefined) throw bad('a field needs a type');
      const unknownFlag = flags.find((f) => !FLAGS.has(f));
      if (unknownFlag !== undefined) throw bad(`unknown flag "${unknownFlag}"`);
      const cut = dotted.lastIndexOf('.');
      if (cut <= 0) throw bad('expected <Message>.<field>');
      const message = dotted.slice(0, cut);
      const name = dotted.slice(cut + 1);
      const repeated = typeRaw.endsWith('[]');
      const type = repeated ? typeRaw.slice(0, -2) : typeRaw;
      let fields = schema.messages.get(message);
      if (!fields) {
        fields = new Map();
        schema.messages.set(message, fields);
      }
      if (fields.has(name)) throw bad('field listed twice');
      fields.set(name, {
        name,
        jsonName: jsonName(name),
        type,
        repeated,
        required: flags.includes('required'),
        outputOnly: flags.includes('output_only'),
        path: flags.includes('path'),
      });
    });
    const undefinedTypes = [...schema.messages.values()]
      .flatMap((fields) => [...fields.values()])
      .map((f) => f.type)
      .filter((t) => !SCALARS.has(t) && !schema.messages.has(t) && !schema.enums.has(t));
    if (undefinedTypes.length > 0) {
      throw new ValidationError(
        `${source}: types used but not defined: ${[...new Set(undefinedTypes)].join(', ')}`,
      );
    }
    return schema;
  }

  static load(path: string): DashboardSchema {
    let text: string;
    try {
      text = readFileSync(path, 'utf8');
    } catch (error) {
      throw new ValidationError(`Cannot read the dashboard field list ${path}`, { cause: error });
    }
    return DashboardSchema.parse(text, path);
  }

  /** Looks a field up by its JSON name or its proto name (proto3 JSON parsers accept both). */
  field(message: string, key: string): ProtoField | undefined {
    const fields = this.messages.get(message);
    if (!fields) return undefined;
    const direct = fields.get(key);
    if (direct) return direct;
    for (const f of fields.values()) if (f.jsonName === key) return f;
    return undefined;
  }

  /**
   * Every problem with `value` read as message `root`, each naming its JSON path. `where` is the
   * path of `value` itself. Empty when the value is a valid proto3 JSON form of the message.
   */
  check(value: unknown, root: string, where = '$'): string[] {
    if (!this.messages.has(root)) throw new ValidationError(`unknown message ${root}`);
    const problems: string[] = [];
    this.checkMessage(value, root, where, problems, 0);
    return problems;
  }

  private checkMessage(value: unknown, message: string, where: string, out: string[], depth: number): void {
    if (depth > MAX_DEPTH) {
      out.push(`${where}: nested deeper than ${MAX_DEPTH} levels`);
      return;
    }
    if (value === null || typeof value !== 'object' || Array.isArray(value)) {
      out.push(`${where}: expected an object (${message})`);
      return;
    }
    const record = value as Record<string, unknown>;
    const seen = new Set<string>();
    for (const [key, v] of Object.entries(record)) {
      const f = this.field(message, key);
      if (!f) {
        out.push(`${where}: unknown field "${key}" (${message} has no such field)`);
        continue;
      }
      if (seen.has(f.name))
        out.push(`${where}: field "${f.jsonName}" given twice (as ${f.name} and ${f.jsonName})`);
      seen.add(f.name);
      if (f.path) {
        out.push(`${where}.${key}: "${f.jsonName}" comes from the URL path, not the body`);
        continue;
      }
      if (v === null) continue;
      const at = `${where}.${key}`;
      if (f.repeated) {
        if (!Array.isArray(v)) {
          out.push(`${at}: expected a list`);
          continue;
        }
        v.forEach((item, i) => {
          this.checkValue(item, f.type, `${at}[${i}]`, out, depth + 1);
        });
      } else {
        this.checkValue(v, f.type, at, out, depth + 1);
      }
    }
    for (const f of this.messages.get(message)?.values() ?? []) {
      if (!f.required || f.path) continue;
      const v = record[f.jsonName] ?? record[f.name];
      const empty =
        v === undefined || v === null || v === '' || (Array.isArray(v) && v.length === 0 && f.repeated);
      if (empty) out.push(`${where}: required field "${f.jsonName}" is missing (${message})`);
    }
    for (const group of this.oneofs.get(message) ?? []) {
      const set = group.filter((name) => {
        const f = this.messages.get(message)?.get(name);
        return f !== undefined && (record[f.jsonName] ?? record[f.name]) != null;
      });
      if (set.length > 1) out.push(`${where}: only one of ${group.map(jsonName).join(', ')} may be set`);
    }
  }

  private checkValue(value: unknown, type: string, where: string, out: string[], depth: number): void {
    if (this.messages.has(type)) {
      this.checkMessage(value, type, where, out, depth);
      return;
    }
    const values = this.enums.get(type);
    if (values) {
      const ok =
        (typeof value === 'string' && values.includes(value)) ||
        (typeof value === 'number' && Number.isInteger(value) && value >= 0);
      if (!ok) out.push(`${where}: ${JSON.stringify(value)} is not a ${type} (${values.join(', ')})`);
      return;
    }
    const fail = (what: string) => out.push(`${where}: expected ${what}, got ${JSON.stringify(value)}`);
    switch (type) {
      case 'string':
        if (typeof value !== 'string') fail('a string');
        return;
      case 'bytes':
        if (typeof value !== 'string' || !/^[A-Za-z0-9+/_-]*={0,2}$/.test(value)) fail('base64 bytes');
        return;
      case 'bool':
        if (typeof value !== 'boolean') fail('true or false');
        return;
      case 'double':
        if (typeof value !== 'number' || !Number.isFinite(value)) fail('a number');
        return;
      case 'int32': {
        const n = typeof value === 'string' && /^-?\d{1,10}$/.test(value) ? Number(value) : value;
        if (typeof n !== 'number' || !Number.isInteger(n) || n < -(2 ** 31) || n >= 2 ** 31)
          fail('a 32-bit integer');
        return;
      }
      case 'int64':
        if (
          !(typeof value === 'string' && INT64.test(value)) &&
          !(typeof value === 'number' && Number.isSafeInteger(value))
        )
          fail('a 64-bit integer (a number or a decimal string)');
        return;
      case 'Timestamp':
        if (typeof value !== 'string' || !RFC3339.test(value)) fail('an RFC 3339 timestamp');
        return;
      case 'Opaque':
        return;
      default:
        out.push(`${where}: type ${type} is not defined`);
    }
  }
}
