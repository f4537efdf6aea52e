/**
 * The committed UDM field list (custom_parser/udm_fields.txt) as a resolver of UDM paths such as
 * `security_result.about.file.sha256` (snake_case, repeated fields without index).
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

export interface UdmField {
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

export class UdmSchema {
  readonly fields = new Map<string, Map<string, UdmField>>();
  readonly enums = new Map<string, Set<string>>();

  static load(path: string): UdmSchema {
    const schema = new UdmSchema();
    for (const raw of readFileSync(path, 'utf8').split('\n')) {
      const line = raw.trim();
      if (line === '' || line.startsWith('#')) continue;
      const parts = line.split(/\s+/);
      if (parts[0] === 'enum') {
        schema.enums.set(parts[1] ?? '', new Set(parts.slice(2)));
        continue;
      }
      const [dotted, typeRaw] = parts;
      if (!dotted || !typeRaw || parts.length !== 2) throw new Error(`udm_fields.txt: bad line "${line}"`);
      const cut = dotted.lastIndexOf('.');
      const message = dotted.slice(0, cut);
      const field = dotted.slice(cut + 1);
      const repeated = typeRaw.endsWith('[]');
      const type = repeated ? typeRaw.slice(0, -2) : typeRaw;
      let map = schema.fields.get(message);
      if (!map) {
        map = new Map();
        schema.fields.set(message, map);
      }
      map.set(field, { type, repeated });
    }
    return schema;
  }

  isMessage(type: string): boolean {
    return this.fields.has(type);
  }

  /**
   * Resolves a dotted UDM path from message UDM. Numeric segments (indexes) are skipped; below a
   * Struct or Opaque field anything is accepted (a Struct may be written as `<field>.fields` in CBN).
   */
  resolve(path: string, root = 'UDM'): Resolution {
    let type = root;
    let repeated = false;
    const segments = path.split('.').filter((s) => s !== '' && !/^\d+$/.test(s));
    for (let i = 0; i < segments.length; i++) {
      const segment = segments[i] as string;
      if (type === 'Struct' || type === 'Opaque') return { ok: true, type, repeated };
      const map = this.fields.get(type);
      if (!map)
        return {
          ok: false,
          reason: `${segments.slice(0, i).join('.')} is a ${type}, it has no field "${segment}"`,
        };
      const field = map.get(segment);
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

  isScalar(type: string): boolean {
    return SCALARS.has(type);
  }
}
