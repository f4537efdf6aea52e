/**
 * One standalone run per checkpoint: a lock file beside the checkpoint (`<checkpoint>.lock`) names
 * the holder's pid, host and start. It is created exclusively (O_EXCL), so of two runs started at
 * once exactly one gets it; the other fails at once naming the holder. A lock left by a run that
 * died (same host, its process gone) is taken over. A lock from another host cannot be checked and
 * is respected: delete it by hand if that run is gone.
 */

import { mkdir, open, readFile, rm, stat } from 'node:fs/promises';
import { hostname } from 'node:os';
import { dirname } from 'node:path';
import { CheckpointError } from '../core/errors.js';

export interface LockHolder {
  readonly pid: number;
  readonly host: string;
  readonly startedAt: string;
}

export interface HeldLock {
  readonly path: string;
  /** Removes the lock file if it is still ours. */
  release(): Promise<void>;
}

export interface LockHooks {
  readonly pid?: number;
  readonly host?: string;
  readonly now?: () => Date;
  /** Whether a process of this host is still running (default: signal 0). */
  readonly isAlive?: (pid: number) => boolean;
}

/** A lock file that cannot be read as a holder is being written, or was left half-written this long ago. */
const UNREADABLE_STALE_MS = 10_000;

export function lockPathOf(checkpointPath: string): string {
  return `${checkpointPath}.lock`;
}

function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    // EPERM: it exists but belongs to someone else.
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function parseHolder(text: string): LockHolder | undefined {
  try {
    const v = JSON.parse(text) as Partial<LockHolder> | null;
    if (
      v !== null &&
      typeof v === 'object' &&
      typeof v.pid === 'number' &&
      Number.isInteger(v.pid) &&
      v.pid > 0 &&
      typeof v.host === 'string' &&
      typeof v.startedAt === 'string'
    )
      return { pid: v.pid, host: v.host, startedAt: v.startedAt };
  } catch {
    // not a holder
  }
  return undefined;
}

async function readText(path: string): Promise<string | undefined> {
  try {
    return await readFile(path, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
}

/** Takes the lock of the checkpoint at `checkpointPath`, or throws CheckpointError naming its holder. */
export async function lockCheckpoint(checkpointPath: string, hooks: LockHooks = {}): Promise<HeldLock> {
  const path = lockPathOf(checkpointPath);
  const me: LockHolder = {
    pid: hooks.pid ?? process.pid,
    host: hooks.host ?? hostname(),
    startedAt: (hooks.now ?? (() => new Date()))().toISOString(),
  };
  const alive = hooks.isAlive ?? processAlive;
  const text = `${JSON.stringify(me)}\n`;
  await mkdir(dirname(path), { recursive: true });
  for (let attempt = 0; attempt < 3; attempt++) {
    try {
      const file = await open(path, 'wx', 0o644);
      try {
        await file.writeFile(text);
        await file.sync();
      } finally {
        await file.close();
      }
      return {
        path,
        release: async () => {
          if ((await readText(path)) === text) await rm(path, { force: true });
        },
      };
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') {
        throw new CheckpointError(`Cannot create the lock file ${path}: ${(error as Error).message}`, false);
      }
    }
    const existing = await readText(path);
    if (existing === undefined) continue; // released meanwhile
    const holder = parseHolder(existing);
    let stale: boolean;
    if (holder === undefined) {
      const age = Date.now() - (await stat(path).catch(() => ({ mtimeMs: Date.now() }))).mtimeMs;
      stale = age > UNREADABLE_STALE_MS;
    } else {
      stale = holder.host === me.host && holder.pid !== me.pid && !alive(holder.pid);
    }
    if (!stale) {
      const who =
        holder === undefined
          ? 'a run whose lock file cannot be read'
          : `pid ${holder.pid} on ${holder.host} (started ${holder.startedAt})`;
      throw new CheckpointError(
        `The checkpoint ${checkpointPath} is in use by ${who}: two runs on one checkpoint would import ` +
          `everything twice. Wait for it to finish; if it is no longer running, delete ${path}`,
        true,
      );
    }
    // Take over only the lock we judged stale, not one a concurrent run has just written.
    if ((await readText(path)) === existing) await rm(path, { force: true });
  }
  throw new CheckpointError(`Could not take the lock ${path}: it kept changing hands`, true);
}
