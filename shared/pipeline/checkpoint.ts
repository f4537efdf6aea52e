/**
 * The checkpoint: a high-water mark = the newest notification_date accepted plus the notification
 * ids accepted at that second. Runs query GTI from one second before the mark (whether GTI's
 * `date:X+` includes X is unconfirmed, so overlap) and drop what the mark already covers.
 *
 * The mark advances only over an in-order prefix of delivered notifications, and a notification
 * counts as delivered only when its log entry and its entity (when it has one) both are: a chunk
 * delivered out of order (concurrent sends) waits until everything before it is delivered too.
 */
import { randomBytes } from 'node:crypto';
import { mkdir, open, readFile, rename, rm } from 'node:fs/promises';
import { dirname } from 'node:path';
import { CheckpointError, TimeAheadError } from '../core/errors.js';
import type { Logger } from '../core/logger.js';
import { GTI_RETENTION_SECONDS } from '../gti/client.js';

export interface Checkpoint {
  /** notification_date (unix seconds) of the newest accepted notification. */
  readonly date: number;
  /** Ids of the accepted notifications at exactly `date`. */
  readonly ids: readonly string[];
  /** When a run last read the stream to its end (unix seconds), if one has. */
  readonly readToEndAt?: number | undefined;
}

/**
 * How far ahead of our clock a time may be: notifications dated a few seconds ahead (clock skew)
 * are imported normally; a start, a stored checkpoint or a notification date further ahead is a
 * mistake (a typo, a broken clock) that would otherwise silence every later run.
 */
export const TIME_AHEAD_TOLERANCE_SECONDS = 300;

const iso = (seconds: number): string => new Date(seconds * 1000).toISOString();

/** Throws TimeAheadError when `seconds` is more than the tolerance ahead of now; `what` names it. */
export function refuseTimeAhead(what: string, seconds: number, nowSeconds: number): void {
  if (seconds <= nowSeconds + TIME_AHEAD_TOLERANCE_SECONDS) return;
  const ahead = seconds - nowSeconds;
  const by = ahead >= 172_800 ? `${Math.floor(ahead / 86_400)} days` : `${Math.ceil(ahead / 60)} minutes`;
  throw new TimeAheadError(
    `${what} is ${iso(seconds)}, ${by} ahead of now (${iso(nowSeconds)}); ` +
      `a run never starts more than ${TIME_AHEAD_TOLERANCE_SECONDS / 60} minutes ahead of the clock (nothing would ever be imported)`,
  );
}

/** A possible loss to GTI's 7-day retention: notifications dated between the two times may be gone. */
export interface RetentionGap {
  /** When the stream was last read up to (its last read to the end, or the mark if later). */
  readonly lastRead: string;
  /** The oldest time GTI still keeps (now minus 7 days). */
  readonly retainedFrom: string;
}

/** What a run's start means for GTI's retention; empty when nothing is at risk. */
export interface StartReport {
  /** The stream was last read more than 7 days ago: notifications may have been deleted unread. */
  readonly retentionGap?: RetentionGap;
  /** A first-run or backfill start older than 7 days: GTI cannot return anything before `retainedFrom`. */
  readonly startBeyondRetention?: { readonly start: string; readonly retainedFrom: string };
}

/**
 * Checks where a run starts against the clock: refuses a stored checkpoint or a start (first run,
 * backfill) ahead of now (TimeAheadError naming it), and reports what GTI's 7-day retention may
 * have taken.
 */
export function checkRunStart(run: {
  readonly checkpoint: Checkpoint | undefined;
  /** Names the checkpoint in errors, e.g. "checkpoint file x.json". */
  readonly checkpointName: string;
  readonly startSeconds: number;
  /** Names the start in errors, e.g. "VT_DATE_FILTER". */
  readonly startName: string;
  readonly nowSeconds: number;
}): StartReport {
  const { checkpoint, nowSeconds } = run;
  const retainedFrom = nowSeconds - GTI_RETENTION_SECONDS;
  if (checkpoint !== undefined) {
    refuseTimeAhead(`The ${run.checkpointName} date`, checkpoint.date, nowSeconds);
    const lastRead = Math.max(checkpoint.date, checkpoint.readToEndAt ?? Number.NEGATIVE_INFINITY);
    return lastRead < retainedFrom
      ? { retentionGap: { lastRead: iso(lastRead), retainedFrom: iso(retainedFrom) } }
      : {};
  }
  refuseTimeAhead(run.startName, run.startSeconds, nowSeconds);
  return run.startSeconds < retainedFrom
    ? { startBeyondRetention: { start: iso(run.startSeconds), retainedFrom: iso(retainedFrom) } }
    : {};
}

export interface CheckpointStore {
  load(): Promise<Checkpoint | undefined>;
  save(checkpoint: Checkpoint): Promise<void>;
  readonly description: string;
}

export function isCheckpoint(value: unknown): value is Checkpoint {
  if (value === null || typeof value !== 'object') return false;
  const v = value as { date?: unknown; ids?: unknown };
  return (
    typeof v.date === 'number' &&
    Number.isInteger(v.date) &&
    Array.isArray(v.ids) &&
    v.ids.every((id) => typeof id === 'string')
  );
}

/** The checkpoint kept from a stored document (its optional fields only when well formed). */
function checkpointFrom(value: Checkpoint): Checkpoint {
  const readToEndAt = (value as { readToEndAt?: unknown }).readToEndAt;
  return {
    date: value.date,
    ids: [...value.ids],
    ...(typeof readToEndAt === 'number' && Number.isInteger(readToEndAt) ? { readToEndAt } : {}),
  };
}

/** The stored form of a checkpoint (file and Firestore): date, ids and, once known, readToEndAt. */
export function checkpointDocument(checkpoint: Checkpoint): Checkpoint {
  return {
    date: checkpoint.date,
    ids: [...checkpoint.ids],
    ...(checkpoint.readToEndAt === undefined ? {} : { readToEndAt: checkpoint.readToEndAt }),
  };
}

/** Reads a stored checkpoint; undefined when it is not one. */
export function readCheckpoint(value: unknown): Checkpoint | undefined {
  return isCheckpoint(value) ? checkpointFrom(value) : undefined;
}

/**
 * Logs what checkRunStart found as WARN lines: event `retention_gap` (the stream was last read
 * more than 7 days ago) or `start_beyond_retention` (a start older than GTI keeps).
 */
export function logStartReport(logger: Logger, report: StartReport): void {
  if (report.retentionGap) {
    logger.warn(
      'possible gap: the stream was last read more than 7 days ago and GTI keeps notifications 7 days',
      {
        event: 'retention_gap',
        last_read: report.retentionGap.lastRead,
        retained_from: report.retentionGap.retainedFrom,
      },
    );
  }
  if (report.startBeyondRetention) {
    logger.warn('the start is more than 7 days ago: GTI cannot return notifications older than 7 days', {
      event: 'start_beyond_retention',
      start: report.startBeyondRetention.start,
      retained_from: report.startBeyondRetention.retainedFrom,
    });
  }
}

/** First second to query: one before the mark, so both readings of `date:X+` include the mark's second. */
export function queryStart(checkpoint: Checkpoint | undefined, initialStartSeconds: number): number {
  return checkpoint === undefined ? initialStartSeconds : checkpoint.date - 1;
}

/**
 * Drops what the checkpoint covers and every repeat of a notification id within the run, whatever
 * its date (a page served twice, a cursor that jumps back). Holds the run's ids: tens of bytes each.
 */
export class Deduplicator {
  readonly #mark: Checkpoint | undefined;
  readonly #markIds: ReadonlySet<string>;
  readonly #seen = new Set<string>();
  skipped = 0;

  constructor(mark: Checkpoint | undefined) {
    this.#mark = mark;
    this.#markIds = new Set(mark?.ids ?? []);
  }

  /**
   * True when the notification is new and should be delivered. `date` undefined: the notification
   * has no usable date, so only its id can tell a repeat.
   */
  accept(id: string, date: number | undefined): boolean {
    const mark = this.#mark;
    const covered =
      mark !== undefined &&
      date !== undefined &&
      (date < mark.date || (date === mark.date && this.#markIds.has(id)));
    if (covered || this.#seen.has(id)) {
      this.skipped += 1;
      return false;
    }
    this.#seen.add(id);
    return true;
  }
}

/**
 * Folds delivered notifications, in stream order, into the mark. Each notification is registered in
 * order with the number of its parts that must be delivered (its log entry, and its entity when it
 * has one: they travel in different chunks); the mark moves only over the in-order prefix of
 * notifications whose every part is delivered. A chunk delivered out of order (concurrent sends,
 * or an entity chunk still on its way) holds the mark back until what comes before it is delivered.
 */
export class WatermarkTracker {
  #mark: Checkpoint | undefined;
  /** The mark's date and its ids (a set too: a burst at one second must not cost O(n²)). */
  #date: number;
  #atDate: string[];
  #atDateSet: Set<string>;
  /** Registered notifications not yet folded, from ordinal #offset + #head on. */
  #ids: string[] = [];
  #dates: (number | undefined)[] = [];
  #remaining: number[] = [];
  #offset = 0;
  #head = 0;

  constructor(start: Checkpoint | undefined) {
    this.#mark = start;
    this.#date = start?.date ?? Number.NEGATIVE_INFINITY;
    this.#atDate = [...(start?.ids ?? [])];
    this.#atDateSet = new Set(this.#atDate);
  }

  get mark(): Checkpoint | undefined {
    return this.#mark;
  }

  /** Notifications registered and not yet covered by the mark. */
  get outstanding(): number {
    return this.#ids.length - this.#head;
  }

  /**
   * Registers the next notification of the stream with the number of parts (1 or more) that must be
   * delivered before the mark may cover it; returns its ordinal, for `delivered`. An undefined date
   * (a notification without a usable one) never moves the mark.
   */
  expect(id: string, date: number | undefined, parts: number): number {
    if (!Number.isSafeInteger(parts) || parts < 1)
      throw new RangeError(`parts must be at least 1, got ${parts}`);
    this.#ids.push(id);
    this.#dates.push(date);
    this.#remaining.push(parts);
    return this.#offset + this.#ids.length - 1;
  }

  /**
   * Records one part of each of these notifications as delivered; returns the new mark when the
   * in-order prefix of fully delivered notifications moved it.
   */
  delivered(ordinals: Iterable<number>): Checkpoint | undefined {
    const remaining = this.#remaining;
    for (const ordinal of ordinals) {
      const at = ordinal - this.#offset;
      if (!(at >= this.#head && at < remaining.length) || (remaining[at] as number) <= 0) {
        throw new RangeError(`notification ${ordinal} has no part left to deliver`);
      }
      remaining[at] = (remaining[at] as number) - 1;
    }
    const start = this.#head;
    let head = start;
    while (head < remaining.length && remaining[head] === 0) {
      const id = this.#ids[head] as string;
      const date = this.#dates[head];
      if (date !== undefined && date > this.#date) {
        this.#date = date;
        this.#atDate = [id];
        this.#atDateSet = new Set(this.#atDate);
      } else if (date !== undefined && date === this.#date && !this.#atDateSet.has(id)) {
        this.#atDate.push(id);
        this.#atDateSet.add(id);
      }
      head++;
    }
    this.#head = head;
    // Drop what is folded once it is most of the arrays: memory stays bounded by what is in flight.
    if (head > 1024 && head * 2 > remaining.length) {
      this.#ids = this.#ids.slice(head);
      this.#dates = this.#dates.slice(head);
      this.#remaining = remaining.slice(head);
      this.#offset += head;
      this.#head = 0;
    }
    if (head === start || !Number.isFinite(this.#date)) return undefined;
    // Kept: what the mark records besides date and ids (readToEndAt).
    this.#mark = { ...this.#mark, date: this.#date, ids: [...this.#atDate] };
    return this.#mark;
  }
}

/** Standalone store: a JSON file, replaced atomically. */
export class FileCheckpointStore implements CheckpointStore {
  readonly #path: string;
  constructor(path: string) {
    this.#path = path;
  }
  get description(): string {
    return `file ${this.#path}`;
  }
  async load(): Promise<Checkpoint | undefined> {
    let text: string;
    try {
      text = await readFile(this.#path, 'utf8');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw new CheckpointError(`Cannot read checkpoint ${this.#path}: ${(error as Error).message}`, false);
    }
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch {
      throw new CheckpointError(
        `Checkpoint ${this.#path} is not valid JSON; fix or delete it (CHECKPOINT_FILE)`,
        false,
      );
    }
    const checkpoint = readCheckpoint(parsed);
    if (checkpoint === undefined) {
      throw new CheckpointError(
        `Checkpoint ${this.#path} lacks an integer "date" and an "ids" list (CHECKPOINT_FILE)`,
        false,
      );
    }
    return checkpoint;
  }
  /**
   * Atomic and durable: written to a temporary file beside it, flushed to disk, renamed over the
   * old one, and the directory flushed so the rename itself survives a power cut.
   */
  async save(checkpoint: Checkpoint): Promise<void> {
    const dir = dirname(this.#path);
    await mkdir(dir, { recursive: true });
    const tmp = `${this.#path}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
    const doc = { ...checkpointDocument(checkpoint), updatedAt: new Date().toISOString() };
    try {
      const file = await open(tmp, 'wx', 0o600);
      try {
        await file.writeFile(`${JSON.stringify(doc, null, 2)}\n`);
        await file.sync();
      } finally {
        await file.close();
      }
      await rename(tmp, this.#path);
    } catch (error) {
      await rm(tmp, { force: true });
      throw new CheckpointError(`Cannot write checkpoint ${this.#path}: ${(error as Error).message}`, false, {
        cause: error,
      });
    }
    await syncDirectory(dir);
  }
}

/** Flushes a directory's entries (a rename) to disk; platforms that cannot open a directory skip it. */
async function syncDirectory(dir: string): Promise<void> {
  let handle: Awaited<ReturnType<typeof open>> | undefined;
  try {
    handle = await open(dir, 'r');
    await handle.sync();
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code !== 'EISDIR' && code !== 'EPERM' && code !== 'EINVAL' && code !== 'EBADF') throw error;
  } finally {
    await handle?.close();
  }
}
