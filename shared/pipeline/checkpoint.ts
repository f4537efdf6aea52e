/**
 * The checkpoint: a high-water mark = the newest notification_date accepted plus the notification
 * ids accepted at that second. Runs query GTI from one second before the mark (whether GTI's
 * `date:X+` includes X is unconfirmed, so overlap) and drop what the mark already covers.
 *
 * The mark advances only over an in-order prefix of delivered notifications, and a notification
 * counts as delivered only when its log entry and its entity (when it has one) both are: a chunk
 * delivered out of order (concurrent sends) waits until everything before it is delivered too.
 */
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { CheckpointError } from '../core/errors.js';

export interface Checkpoint {
  /** notification_date (unix seconds) of the newest accepted notification. */
  readonly date: number;
  /** Ids of the accepted notifications at exactly `date`. */
  readonly ids: readonly string[];
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

/** First second to query: one before the mark, so both readings of `date:X+` include the mark's second. */
export function queryStart(checkpoint: Checkpoint | undefined, initialStartSeconds: number): number {
  return checkpoint === undefined ? initialStartSeconds : checkpoint.date - 1;
}

/** Drops what the checkpoint covers and repeats within a run (ids at the newest second seen). */
export class Deduplicator {
  readonly #mark: Checkpoint | undefined;
  readonly #markIds: ReadonlySet<string>;
  #second = Number.NEGATIVE_INFINITY;
  #seenAtSecond = new Set<string>();
  skipped = 0;

  constructor(mark: Checkpoint | undefined) {
    this.#mark = mark;
    this.#markIds = new Set(mark?.ids ?? []);
  }

  /** True when the notification is new and should be delivered. */
  accept(id: string, date: number): boolean {
    if (this.#mark !== undefined) {
      if (date < this.#mark.date || (date === this.#mark.date && this.#markIds.has(id))) {
        this.skipped += 1;
        return false;
      }
    }
    if (date !== this.#second) {
      this.#second = date;
      this.#seenAtSecond = new Set();
    }
    if (this.#seenAtSecond.has(id)) {
      this.skipped += 1;
      return false;
    }
    this.#seenAtSecond.add(id);
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
  #dates: number[] = [];
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
   * delivered before the mark may cover it; returns its ordinal, for `delivered`.
   */
  expect(id: string, date: number, parts: number): number {
    if (!Number.isSafeInteger(parts) || parts < 1)
      throw new RangeError(`parts must be at least 1, got ${parts}`);
    this.#ids.push(id);
    this.#dates.push(date);
    this.#remaining.push(parts);
    return this.#offset + this.#ids.length - 1;
  }

  /**
   * Records one part of each of these notifications as delivered; returns the new mark when the
   * in-order prefix of fully delivered notifications grew.
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
      const date = this.#dates[head] as number;
      if (date > this.#date) {
        this.#date = date;
        this.#atDate = [id];
        this.#atDateSet = new Set(this.#atDate);
      } else if (date === this.#date && !this.#atDateSet.has(id)) {
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
    this.#mark = { date: this.#date, ids: [...this.#atDate] };
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
    if (!isCheckpoint(parsed)) {
      throw new CheckpointError(
        `Checkpoint ${this.#path} lacks an integer "date" and an "ids" list (CHECKPOINT_FILE)`,
        false,
      );
    }
    return { date: parsed.date, ids: [...parsed.ids] };
  }
  async save(checkpoint: Checkpoint): Promise<void> {
    await mkdir(dirname(this.#path), { recursive: true });
    const tmp = `${this.#path}.${process.pid}.tmp`;
    const doc = { date: checkpoint.date, ids: checkpoint.ids, updatedAt: new Date().toISOString() };
    await writeFile(tmp, `${JSON.stringify(doc, null, 2)}\n`);
    await rename(tmp, this.#path);
  }
}
