/**
 * Child processes for the bench: servers that print a ready line (`{"baseUrl": ...}`) on stdout, and
 * measured commands whose CPU time and peak RSS are reported by the rusage preload.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { peakRssOf } from './machine.js';

/** Repository root (this file is dist/bench/processes.js). */
export const REPO_ROOT = resolve(fileURLToPath(new URL('../..', import.meta.url)));

export function distPath(...parts: string[]): string {
  return join(REPO_ROOT, 'dist', ...parts);
}

export interface ServerProcess {
  readonly baseUrl: string;
  readonly pid: number;
  readonly ready: Record<string, unknown>;
  stop(): Promise<void>;
}

/** Starts `node script args`, waits for the first stdout line that is JSON with a baseUrl. */
export async function startServerProcess(
  script: string,
  args: readonly string[],
  options: { env?: NodeJS.ProcessEnv; timeoutMs?: number } = {},
): Promise<ServerProcess> {
  const child = spawn(process.execPath, [script, ...args], {
    cwd: REPO_ROOT,
    env: options.env ?? process.env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stderr = '';
  child.stderr?.setEncoding('utf8').on('data', (d: string) => {
    stderr = (stderr + d).slice(-4000);
  });
  const lines = createInterface({ input: child.stdout as NodeJS.ReadableStream });
  const ready = await new Promise<Record<string, unknown>>((resolveReady, reject) => {
    const timer = setTimeout(() => {
      child.kill();
      reject(new Error(`${script} did not become ready: ${stderr}`));
    }, options.timeoutMs ?? 20_000);
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`${script} exited (${code}) before it was ready: ${stderr}`));
    });
    lines.on('line', (line) => {
      try {
        const parsed = JSON.parse(line) as Record<string, unknown>;
        if (typeof parsed.baseUrl === 'string') {
          clearTimeout(timer);
          resolveReady(parsed);
        }
      } catch {
        // Not the ready line.
      }
    });
  });
  child.removeAllListeners('exit');
  lines.removeAllListeners('line');
  lines.on('line', () => undefined);
  return {
    baseUrl: String(ready.baseUrl),
    pid: child.pid ?? 0,
    ready,
    stop: () => stopChild(child),
  };
}

async function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = once(child, 'exit');
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
  await exited;
  clearTimeout(timer);
}

export interface MeasuredRun {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
  readonly wallMs: number;
  readonly userMs: number;
  readonly systemMs: number;
  /** Peak RSS from the process's own getrusage at exit. */
  readonly maxRssBytes: number;
  /** Peak RSS (VmHWM) last seen by polling /proc while it ran; a cross-check. */
  readonly polledPeakRssBytes: number | undefined;
}

/**
 * Runs `node [nodeArgs] script args` with the rusage preload; wall time from spawn to exit.
 */
export async function runMeasured(
  script: string,
  args: readonly string[],
  env: NodeJS.ProcessEnv,
  nodeArgs: readonly string[] = [],
): Promise<MeasuredRun> {
  const dir = mkdtempSync(join(tmpdir(), 'ioc-bench-rusage-'));
  const rusageFile = join(dir, 'rusage.json');
  try {
    const started = performance.now();
    const child = spawn(
      process.execPath,
      [...nodeArgs, '--import', distPath('bench', 'rusage_preload.js'), script, ...args],
      { cwd: REPO_ROOT, env: { ...env, BENCH_RUSAGE_FILE: rusageFile }, stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => {
      stdout += d;
    });
    child.stderr.setEncoding('utf8').on('data', (d: string) => {
      stderr = (stderr + d).slice(-20_000);
    });
    let polled: number | undefined;
    const poll = setInterval(() => {
      const v = child.pid === undefined ? undefined : peakRssOf(child.pid);
      if (v !== undefined) polled = Math.max(polled ?? 0, v);
    }, 50);
    const [code] = (await once(child, 'exit')) as [number | null];
    const wallMs = performance.now() - started;
    clearInterval(poll);
    const usage = JSON.parse(readFileSync(rusageFile, 'utf8')) as {
      userMs: number;
      systemMs: number;
      maxRssKB: number;
    };
    return {
      code,
      stdout,
      stderr,
      wallMs,
      userMs: usage.userMs,
      systemMs: usage.systemMs,
      maxRssBytes: usage.maxRssKB * 1024,
      polledPeakRssBytes: polled,
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
