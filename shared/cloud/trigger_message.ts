/**
 * The fetch trigger message (trigger topic): empty (the scheduler's hourly tick) or a JSON object
 *   { "filter"?: "name:value ...", "start"?: "ISO 8601 time", "continuation"?: true }
 *
 * - `filter`: extra ioc_stream filter terms for this run. A filtered run keeps its own checkpoint
 *   (named after the filter), so an ad-hoc filtered run never moves the main stream's checkpoint
 *   past notifications it did not ask for.
 * - `start`: a backfill (an ISO 8601 time, or relative like -7d, resolved when parsed; never in the
 *   future). It *resets* the run's checkpoint to that time: the run starts there and
 *   the checkpoint follows it as chunks are published (continuations resume from there). Whatever
 *   lies between `start` and the old checkpoint is imported again (that is what a backfill is for).
 * - `continuation`: set by the fetcher when it stops for its time budget; never combined with start.
 * - `reason`: free text saying who sent it (the scheduler sends "schedule"); logged, nothing else.
 *
 * A `start` more than a few minutes ahead of now is refused (it would become the checkpoint and
 * every later run would import nothing). Values quoted back in errors are cut short (echo), and
 * a filter is at most MAX_FILTER_CHARS long, so no trigger can make a huge log line.
 */
import { parseStartSpec } from '../core/config.js';
import { echo, ValidationError } from '../core/errors.js';
import { refuseTimeAhead } from '../pipeline/checkpoint.js';

/** Longest `filter` accepted: far beyond any real set of terms, small enough to log. */
export const MAX_FILTER_CHARS = 1000;

export interface TriggerOverrides {
  readonly filter?: string;
  /** Backfill start, unix seconds. */
  readonly start?: number;
  readonly continuation?: boolean;
  readonly reason?: string;
}

const KEYS = new Set(['filter', 'start', 'continuation', 'reason']);

/** Validates a trigger message body; throws ValidationError (TimeAheadError for a future start) naming the problem. */
export function parseTriggerData(data: Buffer | string, now: Date = new Date()): TriggerOverrides {
  const text = (typeof data === 'string' ? data : data.toString('utf8')).trim();
  if (text === '') return {};
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw new ValidationError('trigger message is neither empty nor JSON');
  }
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) {
    throw new ValidationError('trigger message must be a JSON object');
  }
  const body = parsed as Record<string, unknown>;
  const unknown = Object.keys(body).filter((k) => !KEYS.has(k));
  if (unknown.length > 0) {
    const named = unknown.slice(0, 5).map((k) => echo(k, 40));
    const more = unknown.length > 5 ? ` and ${unknown.length - 5} more` : '';
    throw new ValidationError(
      `trigger message has unknown keys: ${named.join(', ')}${more} (allowed: filter, start, continuation, reason)`,
    );
  }
  const out: { filter?: string; start?: number; continuation?: boolean; reason?: string } = {};
  if (body.reason !== undefined) {
    if (typeof body.reason !== 'string' || body.reason.length > 100)
      throw new ValidationError('trigger "reason" must be a string of at most 100 characters');
    out.reason = body.reason;
  }
  if (body.filter !== undefined) out.filter = validateFilter(body.filter);
  if (body.start !== undefined) {
    if (typeof body.start !== 'string')
      throw new ValidationError('trigger "start" must be a string (an ISO 8601 time or -7d, -12h, ...)');
    const seconds = parseStartSpec(body.start.trim(), now);
    if (seconds === undefined)
      throw new ValidationError(
        `trigger "start" is neither an ISO 8601 time nor a relative one like -7d: ${echo(body.start)}`,
      );
    refuseTimeAhead('trigger "start"', seconds, Math.floor(now.getTime() / 1000));
    out.start = seconds;
  }
  if (body.continuation !== undefined) {
    if (typeof body.continuation !== 'boolean')
      throw new ValidationError('trigger "continuation" must be a boolean');
    if (body.continuation) out.continuation = true;
  }
  if (out.continuation && out.start !== undefined) {
    throw new ValidationError('trigger "start" cannot be combined with "continuation"');
  }
  return out;
}

function validateFilter(value: unknown): string {
  if (typeof value !== 'string') throw new ValidationError('trigger "filter" must be a string');
  if (value.length > MAX_FILTER_CHARS)
    throw new ValidationError(
      `trigger "filter" is ${value.length} characters long; at most ${MAX_FILTER_CHARS} are accepted`,
    );
  const terms = value.trim().split(/\s+/).filter(Boolean);
  for (const term of terms) {
    if (/^date:/i.test(term))
      throw new ValidationError('trigger "filter" must not contain a date: term (use "start")');
    if (!/^[a-z_]+:\S+$/.test(term))
      throw new ValidationError(`trigger "filter" term ${echo(term)} is not name:value`);
  }
  return terms.join(' ');
}

/** The message body for a trigger (`{}` for a plain tick: Pub/Sub refuses a message with no data and no attributes). */
export function triggerData(overrides: TriggerOverrides): Buffer {
  const body: Record<string, unknown> = {};
  if (overrides.filter) body.filter = overrides.filter;
  if (overrides.start !== undefined) body.start = new Date(overrides.start * 1000).toISOString();
  if (overrides.continuation) body.continuation = true;
  if (overrides.reason) body.reason = overrides.reason;
  return Buffer.from(JSON.stringify(body));
}
