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
  /** When the process closed (Date.now()). */
  readonly endedAt: number;
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
    child.on('close', (code, signal) => resolve({ code, signal, stdout, stderr, endedAt: Date.now() }));
  });
}

/**
 * A CliContext for calling `main()` in-process, collecting what the command writes (and, when
 * given, appending every write to `everything` too, for checks over all output of a test file).
 */
export function cliContext(
  env: NodeJS.ProcessEnv,
  signal: AbortSignal = new AbortController().signal,
  everything?: string[],
) {
  let stdout = '';
  let stderr = '';
  return {
    ctx: {
      env,
      stdout: {
        write: (t: string) => {
          stdout += t;
          everything?.push(t);
          return true;
        },
      },
      stderr: {
        write: (t: string) => {
          stderr += t;
          everything?.push(t);
          return true;
        },
      },
      signal,
    },
    out: () => ({ stdout, stderr }),
  };
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
