/**
 * Request pacing for a per-minute quota: at most `perMinute` requests start in any 60-second
 * window (a sliding window holds any calendar minute to the limit too). Waits are abortable.
 */
import { realSleep, type Sleep } from './retry.js';

const WINDOW_MS = 60_000;

export interface PacerHooks {
  readonly now?: () => number;
  readonly sleep?: Sleep;
}

/** Resolves when the next request may start (rejects with the abort reason if `signal` aborts first). */
export type Pacer = (signal?: AbortSignal) => Promise<void>;

export function createPacer(perMinute: number, hooks: PacerHooks = {}): Pacer {
  if (!Number.isInteger(perMinute) || perMinute < 1)
    throw new RangeError(`perMinute must be >= 1, got ${perMinute}`);
  const now = hooks.now ?? Date.now;
  const sleep = hooks.sleep ?? realSleep;
  /** Start times of the last `perMinute` requests, oldest first. */
  const starts: number[] = [];
  // Callers take turns, so two waiting at once cannot both take the last free slot.
  let queue: Promise<void> = Promise.resolve();
  return (signal) => {
    const turn = queue.then(async () => {
      for (;;) {
        signal?.throwIfAborted();
        const t = now();
        while (starts.length > 0 && (starts[0] as number) <= t - WINDOW_MS) starts.shift();
        if (starts.length < perMinute) {
          starts.push(t);
          return;
        }
        await sleep((starts[0] as number) + WINDOW_MS - t, signal);
      }
    });
    queue = turn.catch(() => undefined);
    return turn;
  };
}
