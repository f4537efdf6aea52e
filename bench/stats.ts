/** Small numeric helpers for bench results. */

export function median(values: readonly number[]): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  const upper = sorted[mid] ?? Number.NaN;
  return sorted.length % 2 === 1 ? upper : ((sorted[mid - 1] ?? upper) + upper) / 2;
}

/** Rounds to `digits` decimals (results stay readable in JSON). */
export function round(value: number, digits = 2): number {
  const f = 10 ** digits;
  return Math.round(value * f) / f;
}

/** Median of each numeric field across runs (fields missing or non-numeric in a run are skipped). */
export function medianOf<T extends object>(
  runs: readonly T[],
  keys: readonly (keyof T)[],
): Record<string, number> {
  const out: Record<string, number> = {};
  for (const key of keys) {
    const values = runs.map((r) => r[key]).filter((v): v is T[keyof T] & number => typeof v === 'number');
    if (values.length > 0) out[String(key)] = round(median(values), 3);
  }
  return out;
}

export const MB = 1e6;
export const MiB = 2 ** 20;
