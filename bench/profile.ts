/**
 * Our own code's share of a standalone sync's wall time, measured from outside the product: one
 * extra sync run under `node --cpu-prof`, its profile read by bench/cpu_profile.ts with "our code"
 * = any frame from dist/shared/ (the pipeline, GTI and Chronicle modules; not the CLI, not
 * libraries). Share = inclusive sampled time / the run's wall time (spawn to exit).
 */
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { type CodeShare, type CpuProfile, codeShare } from './cpu_profile.js';
import { distPath } from './processes.js';
import { runStandalone, type StandaloneResult } from './standalone.js';

export interface ProfileResult {
  readonly count: number;
  readonly entityContext: boolean | undefined;
  /** The profiled run (wall includes the profiler's own overhead). */
  readonly wallMs: number;
  readonly cpuMs: number;
  /** Which frames counted as ours: URLs starting with this. */
  readonly ours: string;
  readonly code: CodeShare;
  /** inclusive / wall */
  readonly share: number;
  /** self / wall */
  readonly selfShare: number;
}

export async function runProfiled(options: {
  count: number;
  seed: number;
  concurrency: number;
  entityContext: boolean | undefined;
  check: (run: StandaloneResult) => void;
}): Promise<ProfileResult> {
  const dir = mkdtempSync(join(tmpdir(), 'ioc-bench-profile-'));
  try {
    const run = await runStandalone({
      count: options.count,
      seed: options.seed,
      gtiLatencyMs: 0,
      chronicleLatencyMs: 0,
      concurrency: options.concurrency,
      mode: 'process',
      entityContext: options.entityContext,
      nodeArgs: ['--cpu-prof', `--cpu-prof-dir=${dir}`],
    });
    options.check(run);
    const files = readdirSync(dir).filter((f) => f.endsWith('.cpuprofile'));
    if (files.length !== 1) throw new Error(`expected one CPU profile in ${dir}, found ${files.length}`);
    const profile = JSON.parse(readFileSync(join(dir, files[0] as string), 'utf8')) as CpuProfile;
    const ours = `${pathToFileURL(distPath('shared')).href}/`;
    const code = codeShare(profile, (url) => url.startsWith(ours));
    return {
      count: options.count,
      entityContext: options.entityContext,
      wallMs: run.wallMs,
      cpuMs: run.cpuMs,
      ours: 'dist/shared/',
      code,
      share: code.inclusiveMs / run.wallMs,
      selfShare: code.selfMs / run.wallMs,
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
