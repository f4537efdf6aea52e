/** Dataset sizes the bench knows: `2k`, `10k`, `100k` or a plain count. */

export function parseSize(value: string): number {
  const m = /^(\d+)(k?)$/i.exec(value.trim());
  if (!m) throw new RangeError(`size must look like 2k, 10k, 100k or a count, got "${value}"`);
  const n = Number(m[1]) * (m[2] === '' ? 1 : 1000);
  if (!Number.isSafeInteger(n) || n < 1) throw new RangeError(`size must be at least 1, got "${value}"`);
  return n;
}

export function sizeLabel(count: number): string {
  return count % 1000 === 0 ? `${count / 1000}k` : String(count);
}

/** The dataset every bench uses: seed 1, the generator's default start and spacing. */
export const BENCH_SEED = 1;
