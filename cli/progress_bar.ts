/**
 * A progress bar on stderr for `dlq replay`: redrawn in place on a terminal, a line every few
 * seconds otherwise. Shows a bar when the total is known (--limit), the counts and the rate.
 */

export interface BarCounts {
  /** Messages done (moved). */
  readonly done: number;
  /** Known total, or undefined (no --limit: the subscription's size is not known in advance). */
  readonly total: number | undefined;
  /** Extra counts shown after the main one, e.g. { scanned: 120, failed: 0 }. */
  readonly extra: Readonly<Record<string, number>>;
}

/** `[#####---------------]` for done/total, width characters between the brackets. */
export function renderBar(done: number, total: number, width = 24): string {
  const ratio = total <= 0 ? 1 : Math.min(1, Math.max(0, done / total));
  const full = Math.round(ratio * width);
  return `[${'#'.repeat(full)}${'-'.repeat(width - full)}]`;
}

/** Messages per second over the elapsed time; 0 before any time passed. */
export function ratePerSecond(count: number, elapsedMs: number): number {
  return elapsedMs > 0 ? (count * 1000) / elapsedMs : 0;
}

export function renderProgressLine(label: string, counts: BarCounts, elapsedMs: number): string {
  const rate = ratePerSecond(counts.done, elapsedMs);
  const head =
    counts.total === undefined
      ? `${label} ${counts.done}`
      : `${renderBar(counts.done, counts.total)} ${label} ${counts.done}/${counts.total}`;
  const extras = Object.entries(counts.extra)
    .filter(([, v]) => v > 0)
    .map(([k, v]) => `${k} ${v}`);
  return [head, ...extras, `${rate.toFixed(1)} msg/s`].join(' · ');
}

export interface ProgressBar {
  update(counts: BarCounts): void;
  done(): void;
}

export function createProgressBar(
  stream: { write(text: string): unknown; isTTY?: boolean },
  label: string,
  enabled: boolean,
  clock: () => number = () => performance.now(),
): ProgressBar {
  if (!enabled) return { update: () => undefined, done: () => undefined };
  const started = clock();
  const interval = stream.isTTY ? 100 : 2000;
  let last = Number.NEGATIVE_INFINITY;
  let shown = false;
  let latest: BarCounts | undefined;
  const draw = (counts: BarCounts) => {
    const line = renderProgressLine(label, counts, clock() - started);
    shown = true;
    if (stream.isTTY) stream.write(`\r\x1b[2K${line}`);
    else stream.write(`progress: ${line}\n`);
  };
  return {
    update(counts) {
      latest = counts;
      const now = clock();
      if (now - last < interval) return;
      last = now;
      draw(counts);
    },
    done() {
      if (stream.isTTY) {
        if (latest !== undefined) draw(latest);
        if (shown) stream.write('\n');
      }
    },
  };
}
