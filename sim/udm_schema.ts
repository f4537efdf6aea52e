/**
 * The committed UDM and Entity field lists (custom_parser/udm_fields.txt, custom_parser/
 * entity_fields.txt; their headers name the googleapis protos and commit they were transcribed from)
 * as a resolver of field paths and a validator of proto3 JSON.
 *
 * - resolve(): proto field paths such as `security_result.about.file.sha256` (snake_case, as parser
 *   and YARA-L paths are written; repeated fields without index).
 * - resolveJson() / validate(): proto3 JSON as the REST API takes it. Per the protobuf JSON mapping
 *   (https://protobuf.dev/programming-guides/json/): a field is named by its lowerCamelCase JSON
 *   name or its proto name; repeated fields are arrays; 64-bit integers are strings or numbers,
 *   32-bit integers numbers (or strings); floats numbers (or "NaN"/"Infinity"/"-Infinity"); enums
 *   value names (or numbers); Timestamps RFC3339 strings from 0001-01-01 to 9999-12-31; bytes
 *   base64; `null` means the default value; google.protobuf.Struct takes any JSON object.
 */
import { readFileSync } from 'node:fs';

const SCALARS = new Set([
  'string',
  'bytes',
  'bool',
  'int32',
  'int64',
  'uint32',
  'uint64',
  'float',
  'double',
  'Timestamp',
  'Duration',
]);

/** The two field lists, next to the parser. */
export const FIELD_LIST_FILES = ['udm_fields.txt', 'entity_fields.txt'] as const;

export interface UdmField {
  readonly name: string;
  readonly type: string;
  readonly repeated: boolean;
}

export interface Resolution {
  readonly ok: boolean;
  /** The field's type when ok. */
  readonly type?: string;
  readonly repeated?: boolean;
  /** Why a path is not valid. */
  readonly reason?: string;
}

export type TypeKind = 'scalar' | 'message' | 'enum' | 'struct' | 'opaque' | 'unknown';

export interface ValidateOptions {
  /** Reject values of enum types the lists do not enumerate (default: any value name passes). */
  readonly strictEnums?: boolean;
}

/** lowerCamelCase JSON name of a proto field name (protoc's rule: drop "_", upper-case the next letter). */
export function jsonName(field: string): string {
  return field.replace(/_([a-z0-9])/g, (_, c: string) => c.toUpperCase());
}

/** snake_case proto name for a lowerCamelCase path segment (the inverse for the names the lists use). */
export function protoName(segment: string): string {
  return segment.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);
}

const RFC3339 = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(\.\d{1,9})?(Z|[+-]\d{2}:\d{2})$/;
const INTEGER = /^-?\d+$/;
const BASE64 = /^[A-Za-z0-9+/_-]*={0,2}$/;
const DURATION = /^-?\d+(\.\d{1,9})?s$/;
const RANGE: Record<string, [number, number]> = {
  int32: [-2147483648, 2147483647],
  uint32: [0, 4294967295],
  int64: [Number.MIN_SAFE_INTEGER, Number.MAX_SAFE_INTEGER],
  uint64: [0, Number.MAX_SAFE_INTEGER],
};

export class UdmSchema {
  readonly fields = new Map<string, Map<string, UdmField>>();
  /** Per message: JSON name and proto name → field. */
  private readonly byJsonName = new Map<string, Map<string, UdmField>>();
  readonly enums = new Map<string, Set<string>>();

  /** Loads one or more field lists into one schema (later files may refer to earlier ones' types). */
  static load(...paths: string[]): UdmSchema {
    const schema = new UdmSchema();
    for (const path of paths) schema.add(readFileSync(path, 'utf8'), path);
    return schema;
  }

  /** The committed lists from a custom_parser directory. */
  static loadDir(dir: string): UdmSchema {
    return UdmSchema.load(...FIELD_LIST_FILES.map((f) => `${dir.replace(/\/$/, '')}/${f}`));
  }

  private add(text: string, source: string): void {
    for (const raw of text.split('\n')) {
      const line = raw.trim();
      if (line === '' || line.startsWith('#')) continue;
      const parts = line.split(/\s+/);
      if (parts[0] === 'enum') {
        this.enums.set(parts[1] ?? '', new Set(parts.slice(2)));
        continue;
      }
      const [dotted, typeRaw] = parts;
      if (!dotted || !typeRaw || parts.length !== 2) throw new Error(`${source}: bad line "${line}"`);
      const cut = dotted.lastIndexOf('.');
      const message = dotted.slice(0, cut);
      const name = dotted.slice(cut + 1);
      const repeated = typeRaw.endsWith('[]');
      const type = repeated ? typeRaw.slice(0, -2) : typeRaw;
      const field: UdmField = { name, type, repeated };
      let map = this.fields.get(message);
      let json = this.byJsonName.get(message);
      if (!map || !json) {
        map = new Map();
        json = new Map();
        this.fields.set(message, map);
        this.byJsonName.set(message, json);
      }
      map.set(name, field);
      json.set(name, field);
      json.set(jsonName(name), field);
    }
  }

  isMessage(type: string): boolean {
    return this.fields.has(type);
  }

  isScalar(type: string): boolean {
    return SCALARS.has(type);
  }

  kind(type: string): TypeKind {
    if (SCALARS.has(type)) return 'scalar';
    if (type === 'Struct') return 'struct';
    if (type === 'Opaque') return 'opaque';
    if (this.fields.has(type)) return 'message';
    if (this.enums.has(type)) return 'enum';
    return 'unknown';
  }

  /**
   * Resolves a dotted proto path (snake_case) from message `root`. Numeric segments (indexes) are
   * skipped; below a Struct or Opaque field anything is accepted (a Struct may be written as
   * `<field>.fields` in CBN).
   */
  resolve(path: string, root = 'UDM'): Resolution {
    return this.walk(path, root, (type, segment) => this.fields.get(type)?.get(segment));
  }

  /** As resolve, for proto3 JSON paths: each segment is a field's JSON name or its proto name. */
  resolveJson(path: string, root = 'UDM'): Resolution {
    return this.walk(path, root, (type, segment) => this.byJsonName.get(type)?.get(segment));
  }

  private walk(
    path: string,
    root: string,
    lookup: (type: string, segment: string) => UdmField | undefined,
  ): Resolution {
    let type = root;
    let repeated = false;
    const segments = path.split('.').filter((s) => s !== '' && !/^\d+$/.test(s));
    for (let i = 0; i < segments.length; i++) {
      const segment = segments[i] as string;
      if (type === 'Struct' || type === 'Opaque') return { ok: true, type, repeated };
      if (!this.fields.has(type))
        return {
          ok: false,
          reason: `${segments.slice(0, i).join('.')} is a ${type}, it has no field "${segment}"`,
        };
      const field = lookup(type, segment);
      if (!field) return { ok: false, reason: `${type} has no field "${segment}" (in ${path})` };
      type = field.type;
      repeated = field.repeated;
    }
    return { ok: true, type, repeated };
  }

  /** True when a value is allowed for an enum type (enums without a value list accept anything). */
  enumAllows(type: string, value: string): boolean {
    const values = this.enums.get(type);
    return values === undefined || values.has(value);
  }

  /**
   * Checks a proto3 JSON value of message type `root`; returns one problem per bad field, each
   * naming its path (at most `limit`). Paths are only put together for problems: a simulator
   * validates every entity of every request with this.
   */
  validate(value: unknown, root: string, options: ValidateOptions = {}, limit = 20): string[] {
    const run: Run = { problems: [], path: [], options, limit };
    if (value !== null) this.checkValue(value, root, run);
    return run.problems;
  }

  private report(run: Run, what: string): void {
    let path = '';
    for (const part of run.path) path += part.startsWith('[') || path === '' ? part : `.${part}`;
    run.problems.push(`${path || '(root)'}: ${what}`);
  }

  private checkField(value: unknown, field: UdmField, run: Run): void {
    if (value === null) return;
    if (!field.repeated) {
      this.checkValue(value, field.type, run);
      return;
    }
    if (!Array.isArray(value)) {
      this.report(run, 'a repeated field takes a JSON array');
      return;
    }
    for (let i = 0; i < value.length && run.problems.length < run.limit; i++) {
      run.path.push(`[${i}]`);
      if (value[i] === null) this.report(run, 'null is not allowed in a repeated field');
      else this.checkValue(value[i], field.type, run);
      run.path.pop();
    }
  }

  private checkValue(value: unknown, type: string, run: Run): void {
    if (run.problems.length >= run.limit) return;
    const members = this.byJsonName.get(type);
    if (members !== undefined) {
      if (typeof value !== 'object' || value === null || Array.isArray(value)) {
        this.report(run, `${type} takes a JSON object`);
        return;
      }
      for (const key in value) {
        if (!Object.hasOwn(value, key)) continue;
        run.path.push(key);
        const field = members.get(key);
        if (field === undefined) {
          this.report(run, `${type} has no field "${key}"`);
        } else {
          // A field given under both of its names (entityType and entity_type).
          if (key !== field.name && Object.hasOwn(value, field.name)) {
            this.report(run, `field ${field.name} given twice`);
          }
          this.checkField((value as Record<string, unknown>)[key], field, run);
        }
        run.path.pop();
        if (run.problems.length >= run.limit) return;
      }
      return;
    }
    if (SCALARS.has(type)) {
      const what = scalarProblem(type, value);
      if (what !== undefined) this.report(run, what);
      return;
    }
    if (type === 'Opaque') return;
    if (type === 'Struct') {
      if (typeof value !== 'object' || Array.isArray(value)) this.report(run, 'a Struct takes a JSON object');
      return;
    }
    const values = this.enums.get(type);
    if (values === undefined && !run.options.strictEnums && !this.fields.has(type)) {
      // An enum the lists do not enumerate (udm_fields.txt lists only those its checks use).
      if (typeof value !== 'string' && !(typeof value === 'number' && Number.isInteger(value))) {
        this.report(run, `${type} takes an enum value name`);
      }
      return;
    }
    if (values === undefined) {
      this.report(run, `type ${type} is not in the field lists`);
      return;
    }
    if (typeof value === 'number' && Number.isInteger(value)) return;
    if (typeof value !== 'string') this.report(run, `${type} takes an enum value name`);
    else if (!values.has(value)) this.report(run, `"${value}" is not a ${type} value`);
  }
}

interface Run {
  readonly problems: string[];
  readonly path: string[];
  readonly options: ValidateOptions;
  readonly limit: number;
}

/** Why `value` is not valid proto3 JSON for scalar `type`, or undefined. */
export function scalarProblem(type: string, value: unknown): string | undefined {
  switch (type) {
    case 'string':
      return typeof value === 'string' ? undefined : 'a string field takes a JSON string';
    case 'bool':
      return typeof value === 'boolean' ? undefined : 'a bool field takes true or false';
    case 'bytes':
      return typeof value === 'string' && BASE64.test(value) ? undefined : 'a bytes field takes base64';
    case 'int32':
    case 'uint32':
    case 'int64':
    case 'uint64': {
      const n = typeof value === 'string' && INTEGER.test(value) ? Number(value) : value;
      const [min, max] = RANGE[type] as [number, number];
      if (typeof n !== 'number' || !Number.isInteger(n)) return `an ${type} field takes an integer`;
      // 64-bit values beyond 2^53 are exact only as strings; the range check stops at what a number holds.
      if (typeof value === 'string' && (type === 'int64' || type === 'uint64')) {
        return type === 'uint64' && value.startsWith('-') ? 'a uint64 cannot be negative' : undefined;
      }
      return n < min || n > max ? `${n} is out of the ${type} range` : undefined;
    }
    case 'float':
    case 'double':
      if (typeof value === 'number' && Number.isFinite(value)) return undefined;
      return value === 'NaN' || value === 'Infinity' || value === '-Infinity'
        ? undefined
        : `a ${type} field takes a number`;
    case 'Timestamp':
      return timestampProblem(value);
    case 'Duration':
      return typeof value === 'string' && DURATION.test(value) ? undefined : 'a Duration is "<seconds>s"';
    default:
      return `unknown scalar type ${type}`;
  }
}

const DAYS_IN_MONTH = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];

/** Why `value` is not an RFC3339 Timestamp in google.protobuf.Timestamp's range, or undefined. */
export function timestampProblem(value: unknown): string | undefined {
  if (typeof value !== 'string') return 'a Timestamp takes an RFC3339 string';
  const m = RFC3339.exec(value);
  if (!m) return `"${value}" is not an RFC3339 timestamp`;
  const year = Number(m[1]);
  const month = Number(m[2]);
  const day = Number(m[3]);
  const leap = year % 4 === 0 && (year % 100 !== 0 || year % 400 === 0);
  const days = month === 2 && leap ? 29 : DAYS_IN_MONTH[month - 1];
  // The date must exist as written (2026-02-30 is not rolled over into March).
  if (year < 1 || days === undefined || day < 1 || day > days) return `"${value}" is not a valid date`;
  if (Number(m[4]) > 23 || Number(m[5]) > 59 || Number(m[6]) > 59) return `"${value}" is not a valid time`;
  return undefined;
}
