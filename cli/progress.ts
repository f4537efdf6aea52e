/**
 * Progress on stderr for long runs: a line rewritten in place on a terminal, a log line every
 * few seconds otherwise. Shows pages, notifications, chunks, entities, rate and an ETA when GTI gives
 * a count.
 */
import type { RunStats } from '../shared/pipeline/fetch_run.js';

export interface Progress {
  update(stats: Readonly<RunStats>): void;
  done(): void;
}

export function createProgress(
  stream: { write(text: string): unknown; isTTY?: boolean },
  enabled: boolean,
): Progress {
  if (!enabled) return { update: () => undefined, done: () => undefined };
  const started = performance.now();
  const interval = stream.isTTY ? 200 : 5000;
  let last = 0;
  let shown = false;
  const render = (s: Readonly<RunStats>): string => {
    const seconds = (performance.now() - started) / 1000;
    const rate = seconds > 0 ? s.notifications / seconds : 0;
    const mb = s.bytes / 1e6;
    let eta = '';
    if (s.expected !== undefined && s.expected > s.fetched && rate > 0) {
      eta = ` eta ${Math.round((s.expected - s.fetched) / rate)}s`;
    }
    const entities =
      s.entities > 0 ? ` · entities ${s.entities} (chunks ${s.entityChunksDelivered}/${s.entityChunks})` : '';
    return `pages ${s.pages} · notifications ${s.notifications} · chunks ${s.chunksDelivered}/${s.chunks}${entities} · ${mb.toFixed(1)} MB · ${rate.toFixed(0)}/s${eta}`;
  };
  return {
    update(stats) {
      const now = performance.now();
      if (now - last < interval) return;
      last = now;
      shown = true;
      if (stream.isTTY) stream.write(`\r\x1b[2K${render(stats)}`);
      else stream.write(`progress: ${render(stats)}\n`);
    },
    done() {
      if (shown && stream.isTTY) stream.write('\r\x1b[2K');
    },
  };
}
