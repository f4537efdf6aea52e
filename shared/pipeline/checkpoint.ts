/**
 * The checkpoint: a high-water mark = the newest notification_date accepted plus the notification
 * ids accepted at that second. Runs query GTI from one second before the mark (whether GTI's
 * `date:X+` includes X is unconfirmed, so overlap) and drop what the mark already covers.
 *
 * The mark advances only over an in-order prefix of delivered chunks: a chunk delivered out of
 * order (concurrent sends) waits until every chunk before it is delivered too.
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

/** Folds delivered chunks, in order, into the mark. */
export class WatermarkTracker {
  #mark: Checkpoint | undefined;
  #next = 1;
  readonly #delivered = new Map<number, { ids: readonly string[]; dates: readonly number[] }>();

  constructor(start: Checkpoint | undefined) {
    this.#mark = start;
  }

  get mark(): Checkpoint | undefined {
    return this.#mark;
  }

  /** Records chunk `seq` as delivered; returns the new mark when the in-order prefix grew. */
  delivered(seq: number, ids: readonly string[], dates: readonly number[]): Checkpoint | undefined {
    this.#delivered.set(seq, { ids, dates });
    let changed = false;
    for (let chunk = this.#delivered.get(this.#next); chunk; chunk = this.#delivered.get(this.#next)) {
      this.#delivered.delete(this.#next);
      this.#next += 1;
      let date = this.#mark?.date ?? Number.NEGATIVE_INFINITY;
      let atDate = [...(this.#mark?.ids ?? [])];
      chunk.ids.forEach((id, i) => {
        const d = chunk.dates[i] ?? Number.NEGATIVE_INFINITY;
        if (d > date) {
          date = d;
          atDate = [id];
        } else if (d === date && !atDate.includes(id)) {
          atDate.push(id);
        }
      });
      if (Number.isFinite(date)) {
        this.#mark = { date, ids: atDate };
        changed = true;
      }
    }
    return changed ? this.#mark : undefined;
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
