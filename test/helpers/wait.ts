/** Waiting for conditions instead of sleeping for fixed times. */

/**
 * Resolves once `condition` holds (it may be async), checking every `intervalMs`; rejects after
 * `timeoutMs` naming what it waited for and, when given, the state `describe` reports.
 */
export async function waitFor(
  what: string,
  condition: () => boolean | Promise<boolean>,
  timeoutMs: number,
  describe: () => string = () => '',
  intervalMs = 100,
): Promise<void> {
  const started = Date.now();
  while (!(await condition())) {
    if (Date.now() - started > timeoutMs)
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what} ${describe()}`);
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}
