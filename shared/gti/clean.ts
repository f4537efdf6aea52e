/**
 * Cleaning: keys sorted recursively; null, "", [] and {} removed at every depth, including
 * containers that cleaning itself empties; list order kept; the input is never mutated. The
 * result serialises to the same bytes for the same input (JSON.stringify keeps insertion order).
 *
 * Depth is bounded: an object or array nested deeper than MAX_CLEAN_DEPTH levels (the outermost
 * value is level 1) is removed and its path reported, like any other trim. Nothing real nests
 * that deep; a value that does would otherwise overflow the stack here and in JSON.stringify,
 * and so fail every run that meets it.
 */
import type { JsonValue } from '../core/json.js';

/** Deepest container level kept; the byte cleaner (clean_json.ts) leaves anything deeper to this path. */
export const MAX_CLEAN_DEPTH = 512;
/** Trimmed paths listed per notification; further ones are counted. */
const MAX_TRIM_PATHS = 20;
/** A listed path longer than this is cut (a path 512 levels deep is long). */
const MAX_PATH_CHARS = 200;

/** Collects the paths of containers removed for depth (segments innermost first while cleaning). */
interface DepthTrims {
  readonly paths: string[][];
  more: number;
}

/** Returns the cleaned copy of `value`, or undefined when nothing non-empty is left. */
export function clean(value: unknown, depth = 1, trims?: DepthTrims): JsonValue | undefined {
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
  if (depth > MAX_CLEAN_DEPTH) return tooDeep(value, trims);
  if (Array.isArray(value)) {
    const out: JsonValue[] = [];
    for (let i = 0; i < value.length; i++) {
      const before = trims?.paths.length ?? 0;
      const cleaned = clean(value[i], depth + 1, trims);
      if (trims !== undefined && trims.paths.length !== before) under(trims, before, String(i));
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
    const before = trims?.paths.length ?? 0;
    const cleaned = clean(source[key], depth + 1, trims);
    if (trims !== undefined && trims.paths.length !== before) under(trims, before, key);
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

/** A container past the depth limit: removed, and reported unless cleaning would empty it anyway. */
function tooDeep(value: object, trims: DepthTrims | undefined): undefined {
  const empty = Array.isArray(value) ? value.length === 0 : Object.keys(value).length === 0;
  if (!empty && trims !== undefined) {
    if (trims.paths.length < MAX_TRIM_PATHS) trims.paths.push([]);
    else trims.more += 1;
  }
  return undefined;
}

/** Adds `segment` (the parent's key) to the paths recorded since `from`. */
function under(trims: DepthTrims, from: number, segment: string): void {
  for (let i = from; i < trims.paths.length; i++) trims.paths[i]?.push(segment);
}

/** Cleans a whole notification; an object always stays an object (possibly empty). */
export function cleanObject(value: Record<string, unknown>): { [key: string]: JsonValue } {
  return cleanNotification(value).cleaned;
}

/**
 * Cleans a whole notification and names what the depth limit removed: dotted paths (array
 * indexes as numbers), each cut to MAX_PATH_CHARS, at most MAX_TRIM_PATHS of them and then a
 * count of the rest.
 */
export function cleanNotification(value: Record<string, unknown>): {
  cleaned: { [key: string]: JsonValue };
  trimmed: string[];
} {
  const trims: DepthTrims = { paths: [], more: 0 };
  const cleaned = clean(value, 1, trims);
  const trimmed = trims.paths.map((segments) => {
    const path = segments.reverse().join('.');
    return path.length <= MAX_PATH_CHARS ? path : `${path.slice(0, MAX_PATH_CHARS)}…`;
  });
  if (trims.more > 0)
    trimmed.push(`(${trims.more} more values nested deeper than ${MAX_CLEAN_DEPTH} levels)`);
  return {
    cleaned:
      cleaned !== undefined && typeof cleaned === 'object' && !Array.isArray(cleaned)
        ? (cleaned as { [key: string]: JsonValue })
        : {},
    trimmed,
  };
}
