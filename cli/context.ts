/** What every CLI command receives: its environment and output streams (tests pass their own). */
export interface CliContext {
  readonly env: NodeJS.ProcessEnv;
  readonly stdout: { write(text: string): unknown };
  readonly stderr: { write(text: string): unknown; isTTY?: boolean };
  /** Resolves when the user asks to stop (Ctrl-C); commands that run long should honour it. */
  readonly signal: AbortSignal;
}

/** A CLI command: parses its own arguments, returns the process exit code. */
export type CliCommand = (argv: readonly string[], ctx: CliContext) => Promise<number>;
