/**
 * Cleaning: keys sorted recursively; null, "", [] and {} removed at every depth, including
 * containers that cleaning itself empties; list order kept; the input is never mutated. The
 * result serialises to the same bytes for the same input (JSON.stringify keeps insertion order).
 */
import type { JsonValue } from './notification.js';

/** Returns the cleaned copy of `value`, or undefined when nothing non-empty is left. */
export function clean(value: unknown): JsonValue | undefined {
  if (value === null || value === undefined) return undefined;
  if (typeof value === 'string') return value === '' ? undefined : value;
  if (typeof value === 'number') return Number.isFinite(value) ? value : undefined;
  if (typeof value === 'boolean') return value;
  if (Array.isArray(value)) {
    const out: JsonValue[] = [];
    for (const item of value) {
      const cleaned = clean(item);
      if (cleaned !== undefined) out.push(cleaned);
    }
    return out.length === 0 ? undefined : out;
  }
  if (typeof value === 'object') {
    const source = value as Record<string, unknown>;
    const keys = Object.keys(source).sort();
    let out: { [key: string]: JsonValue } | undefined;
    for (const key of keys) {
      const cleaned = clean(source[key]);
      if (cleaned === undefined) continue;
      out ??= {};
      out[key] = cleaned;
    }
    return out;
  }
  return undefined;
}

/** Cleans a whole notification; an object always stays an object (possibly empty). */
export function cleanObject(value: Record<string, unknown>): { [key: string]: JsonValue } {
  const cleaned = clean(value);
  return cleaned !== undefined && typeof cleaned === 'object' && !Array.isArray(cleaned)
    ? (cleaned as { [key: string]: JsonValue })
    : {};
}
