/** Paces replays to stay under Chronicle's quota. */
import { DlqUsageError } from './errors.js';

// ---------------------------------------------------------------------------------------------
// Rate limiting (replay --rate)

/** Spaces operations `1/rate` seconds apart. `reserve(now)` returns how long to wait before starting. */
export class RateLimiter {
  private next = Number.NEGATIVE_INFINITY;
  private readonly intervalMs: number;

  constructor(ratePerSecond: number) {
    if (!(ratePerSecond > 0) || !Number.isFinite(ratePerSecond))
      throw new DlqUsageError(
        `--rate must be a positive number of messages per second, got ${ratePerSecond}`,
      );
    this.intervalMs = 1000 / ratePerSecond;
  }

  reserve(nowMs: number): number {
    const start = Math.max(nowMs, this.next);
    this.next = start + this.intervalMs;
    return start - nowMs;
  }
}
