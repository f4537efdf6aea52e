/** A `gcloud` that records its calls, to put first on PATH. */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export interface RecordingGcloud {
  /** The directory holding `gcloud`: put it first on PATH. */
  readonly bin: string;
  /** The argument lines of the calls so far (one per call; empty when never run). */
  calls(): string[];
}

/**
 * Writes, under `dir`, a `gcloud` that appends its arguments to a file and prints `{}` (a
 * config-helper answer without a project). google-auth-library runs `gcloud config config-helper`
 * to find a project id when it is not given one (shared/chronicle/auth.ts).
 */
export function recordingGcloud(dir: string): RecordingGcloud {
  const bin = join(dir, 'bin');
  const log = join(dir, 'gcloud-calls');
  mkdirSync(bin, { recursive: true });
  writeFileSync(join(bin, 'gcloud'), `#!/bin/sh\necho "$*" >> '${log}'\necho '{}'\n`, { mode: 0o755 });
  return {
    bin,
    calls: () => (existsSync(log) ? readFileSync(log, 'utf8').trim().split('\n') : []),
  };
}
