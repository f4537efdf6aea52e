/** Running the `ioc-stream` command in tests: as a child process, or in-process with its own output. */
import { type ChildProcess, spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

/** The built CLI (dist/cli/main.js). */
export const CLI = fileURLToPath(new URL('../../cli/main.js', import.meta.url));

export interface CliRun {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs `node dist/cli/main.js ...args` with exactly `env` (in `cwd`); resolves when it closes. */
export function runCli(
  args: readonly string[],
  env: NodeJS.ProcessEnv,
  onSpawn?: (child: ChildProcess) => void,
  cwd?: string,
): Promise<CliRun> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [CLI, ...args], {
      env,
      stdio: ['ignore', 'pipe', 'pipe'],
      ...(cwd === undefined ? {} : { cwd }),
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => {
      stdout += d.toString();
    });
    child.stderr.on('data', (d: Buffer) => {
      stderr += d.toString();
    });
    onSpawn?.(child);
    child.on('close', (code, signal) => resolve({ code, signal, stdout, stderr }));
  });
}

/** A CliContext for calling `main()` in-process, collecting what the command writes. */
export function cliContext(env: NodeJS.ProcessEnv, signal: AbortSignal = new AbortController().signal) {
  let stdout = '';
  let stderr = '';
  return {
    ctx: {
      env,
      stdout: { write: (t: string) => (stdout += t) },
      stderr: { write: (t: string) => (stderr += t) },
      signal,
    },
    out: () => ({ stdout, stderr }),
  };
}
