/**
 * Cleaning: keys sorted recursively; null, "", [] and {} removed at every depth, including
 * containers that cleaning itself empties; list order kept; the input is never mutated. The
 * result serialises to the same bytes for the same input (JSON.stringify keeps insertion order).
 */
import type { JsonValue } from '../core/json.js';

/** Returns the cleaned copy of `value`, or undefined when nothing non-empty is left. */
export function clean(value: unknown): JsonValue | undefined {
  // Hot path (every node of every notification): cheapest checks first, indexed loops, and no sort
  // when the keys already come in order (most GTI objects do).
  switch (typeof value) {
    case 'string':
      return value === '' ? undefined : value;
    case 'number':
      return Number.isFinite(value) ? value : undefined;
    case 'boolean':
      return value;
    case 'object':
      break;
    default:
      return undefined;
  }
  if (value === null) return undefined;
  if (Array.isArray(value)) {
    const out: JsonValue[] = [];
    for (let i = 0; i < value.length; i++) {
      const cleaned = clean(value[i]);
      if (cleaned !== undefined) out.push(cleaned);
    }
    return out.length === 0 ? undefined : out;
  }
  const source = value as Record<string, unknown>;
  const keys = Object.keys(source);
  for (let i = 1; i < keys.length; i++) {
    if ((keys[i - 1] as string) > (keys[i] as string)) {
      keys.sort();
      break;
    }
  }
  let out: { [key: string]: JsonValue } | undefined;
  for (let i = 0; i < keys.length; i++) {
    const key = keys[i] as string;
    const cleaned = clean(source[key]);
    if (cleaned === undefined) continue;
    out ??= {};
    // A "__proto__" key (JSON.parse makes it an own property) must stay one, not set the prototype.
    if (key === '__proto__')
      Object.defineProperty(out, key, {
        value: cleaned,
        enumerable: true,
        writable: true,
        configurable: true,
      });
    else out[key] = cleaned;
  }
  return out;
}

/** Cleans a whole notification; an object always stays an object (possibly empty). */
export function cleanObject(value: Record<string, unknown>): { [key: string]: JsonValue } {
  const cleaned = clean(value);
  return cleaned !== undefined && typeof cleaned === 'object' && !Array.isArray(cleaned)
    ? (cleaned as { [key: string]: JsonValue })
    : {};
}
