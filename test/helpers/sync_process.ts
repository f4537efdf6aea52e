/** `ioc-stream sync` as a real child process (the built CLI), with what it printed and how it ended. */
import { type ChildProcess, spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

export const CLI = fileURLToPath(new URL('../../cli/main.js', import.meta.url));

export interface CliRun {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  /** When the process closed (Date.now()). */
  endedAt: number;
}

/** Runs `ioc-stream <args>`; `onSpawn` gets the child (to signal or kill it). */
export function runCli(
  args: readonly string[],
  env: Record<string, string>,
  onSpawn?: (child: ChildProcess) => void,
): Promise<CliRun> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [CLI, ...args], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => {
      stdout += d.toString();
    });
    child.stderr.on('data', (d: Buffer) => {
      stderr += d.toString();
    });
    onSpawn?.(child);
    child.on('close', (code, signal) => resolve({ code, signal, stdout, stderr, endedAt: Date.now() }));
  });
}

/** The JSON log lines of a `--json` run (stderr), parsed. */
export function jsonLines(stderr: string): Record<string, unknown>[] {
  return stderr.split('\n').flatMap((line) => {
    if (!line.startsWith('{')) return [];
    try {
      return [JSON.parse(line) as Record<string, unknown>];
    } catch {
      return [];
    }
  });
}
