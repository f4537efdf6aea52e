/**
 * Starts and stops the real Google Cloud SDK emulators (Pub/Sub, Firestore) for the local topology
 * (`ioc-stream dev`) and the integration tests (test/helpers/emulators.ts adds the skip policy).
 *
 * Each emulator runs in its own process group on a free loopback port; stop() signals the whole group
 * (the Java process included), escalates to SIGKILL after a grace period and checks the port is closed.
 * Groups still running when the test process exits are killed.
 */
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { once } from 'node:events';
import { accessSync, constants, existsSync } from 'node:fs';
import { createServer, Socket } from 'node:net';
import { delimiter, join } from 'node:path';

export interface RunningEmulator {
  /** 127.0.0.1:PORT, for PUBSUB_EMULATOR_HOST / FIRESTORE_EMULATOR_HOST. */
  readonly host: string;
  readonly port: number;
  /** Process id, also the process group id. */
  readonly pid: number;
  stop(): Promise<void>;
}

const DEFAULT_SDK_ROOTS = [
  '/usr/lib/google-cloud-sdk',
  '/usr/share/google-cloud-sdk',
  '/opt/google-cloud-sdk',
];
const PUBSUB_REL = 'platform/pubsub-emulator/bin/cloud-pubsub-emulator';
const FIRESTORE_REL = 'platform/cloud-firestore-emulator/cloud-firestore-emulator.jar';
const FIRESTORE_MAIN = 'com.google.cloud.datastore.emulator.firestore.CloudFirestore';
const START_TIMEOUT_MS = 60_000;
const STOP_GRACE_MS = 5_000;

let sdkRootsCache: string[] | undefined;

function sdkRoots(): string[] {
  if (sdkRootsCache) return sdkRootsCache;
  const roots = [...DEFAULT_SDK_ROOTS];
  if (!roots.some((r) => existsSync(join(r, PUBSUB_REL)) || existsSync(join(r, FIRESTORE_REL)))) {
    try {
      const root = execFileSync('gcloud', ['info', '--format=value(installation.sdk_root)'], {
        encoding: 'utf8',
        timeout: 20_000,
        stdio: ['ignore', 'pipe', 'ignore'],
      }).trim();
      if (root) roots.unshift(root);
    } catch {
      // No gcloud on PATH: only the default locations are searched.
    }
  }
  sdkRootsCache = roots;
  return roots;
}

function findUnderSdk(rel: string): string | undefined {
  for (const root of sdkRoots()) {
    const candidate = join(root, rel);
    if (existsSync(candidate)) return candidate;
  }
  return undefined;
}

export function pubsubEmulatorPath(): string | undefined {
  return findUnderSdk(PUBSUB_REL);
}

export function firestoreEmulatorJar(): string | undefined {
  return findUnderSdk(FIRESTORE_REL);
}

function javaPath(): string | undefined {
  const home = process.env.JAVA_HOME;
  const candidates = home ? [join(home, 'bin', 'java')] : [];
  for (const dir of (process.env.PATH ?? '').split(delimiter)) if (dir) candidates.push(join(dir, 'java'));
  for (const candidate of candidates) {
    try {
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {
      // keep looking
    }
  }
  return undefined;
}

/** What is missing to run the emulators here (empty when they can run). */
export function missingEmulatorParts(): string[] {
  const missing: string[] = [];
  if (!pubsubEmulatorPath()) missing.push(`the Pub/Sub emulator (${PUBSUB_REL})`);
  if (!firestoreEmulatorJar()) missing.push(`the Firestore emulator (${FIRESTORE_REL})`);
  if (!javaPath()) missing.push('java (JDK 11+) on PATH');
  return missing;
}

export const EMULATOR_INSTALL_HINT =
  'Install the Google Cloud SDK components `pubsub-emulator` and `cloud-firestore-emulator` ' +
  '(apt: google-cloud-cli-pubsub-emulator, google-cloud-cli-firestore-emulator) and a JDK.';

export async function freePort(): Promise<number> {
  const server = createServer();
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  if (!port) throw new Error('could not find a free port');
  return port;
}

// ---------------------------------------------------------------------------------------------
// Process groups still alive, killed if the test process goes away.

const liveGroups = new Set<number>();
let handlersInstalled = false;

function killGroup(pgid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pgid, signal);
  } catch {
    // already gone
  }
}

function groupAlive(pgid: number): boolean {
  try {
    process.kill(-pgid, 0);
    return true;
  } catch {
    return false;
  }
}

function installExitHandlers(): void {
  if (handlersInstalled) return;
  handlersInstalled = true;
  process.on('exit', () => {
    for (const pgid of liveGroups) killGroup(pgid, 'SIGKILL');
  });
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
    const handler = (): void => {
      for (const pgid of liveGroups) killGroup(pgid, 'SIGKILL');
      liveGroups.clear();
      // If nobody else handles the signal, restore the default behaviour and re-raise it.
      if (process.listenerCount(signal) === 1) {
        process.removeListener(signal, handler);
        process.kill(process.pid, signal);
      }
    };
    process.on(signal, handler);
  }
}

/**
 * Kills the process group `pgid` (SIGKILL) if this process exits or is interrupted while it is
 * still tracked; returns the function that stops tracking it (call it once the group is gone).
 */
export function trackProcessGroup(pgid: number): () => void {
  installExitHandlers();
  liveGroups.add(pgid);
  return () => {
    liveGroups.delete(pgid);
  };
}

/** True when something accepts TCP connections on 127.0.0.1:port. */
export function portOpen(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = new Socket();
    const done = (open: boolean): void => {
      socket.destroy();
      resolve(open);
    };
    socket.setTimeout(1000, () => done(false));
    socket.once('connect', () => done(true));
    socket.once('error', () => done(false));
    socket.connect(port, '127.0.0.1');
  });
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

async function answers(port: number, expect: (status: number, body: string) => boolean): Promise<boolean> {
  try {
    const res = await fetch(`http://127.0.0.1:${port}/`, { signal: AbortSignal.timeout(2000) });
    return expect(res.status, await res.text());
  } catch {
    return false;
  }
}

interface LaunchSpec {
  name: string;
  command: string;
  args: (port: number) => string[];
  ready: (status: number, body: string) => boolean;
}

async function launch(spec: LaunchSpec): Promise<RunningEmulator> {
  installExitHandlers();
  const port = await freePort();
  const child: ChildProcess = spawn(spec.command, spec.args(port), {
    detached: true,
    stdio: ['ignore', 'pipe', 'pipe'],
    env: process.env,
  });
  const pid = child.pid;
  if (pid === undefined) {
    await once(child, 'error').catch(() => undefined);
    throw new Error(`${spec.name}: could not start ${spec.command}`);
  }
  liveGroups.add(pid);
  // The test process must not wait on the emulator or its pipes.
  child.unref();
  let output = '';
  const keep = (chunk: Buffer): void => {
    output = (output + chunk.toString('utf8')).slice(-4000);
  };
  child.stdout?.on('data', keep);
  child.stderr?.on('data', keep);
  for (const stream of [child.stdout, child.stderr])
    (stream as unknown as { unref?: () => void } | null)?.unref?.();

  let exited: { code: number | null; signal: NodeJS.Signals | null } | undefined;
  const exitPromise = new Promise<void>((resolve) => {
    child.once('exit', (code, signal) => {
      exited = { code, signal };
      resolve();
    });
  });

  const stop = async (): Promise<void> => {
    if (!liveGroups.has(pid)) return;
    killGroup(pid, 'SIGTERM');
    const deadline = Date.now() + STOP_GRACE_MS;
    while (Date.now() < deadline && (exited === undefined || groupAlive(pid))) await sleep(50);
    if (exited === undefined || groupAlive(pid)) {
      killGroup(pid, 'SIGKILL');
      await Promise.race([exitPromise, sleep(STOP_GRACE_MS)]);
      const hardDeadline = Date.now() + STOP_GRACE_MS;
      while (Date.now() < hardDeadline && groupAlive(pid)) await sleep(50);
    }
    liveGroups.delete(pid);
    child.stdout?.destroy();
    child.stderr?.destroy();
    if (groupAlive(pid)) throw new Error(`${spec.name}: process group ${pid} still alive after SIGKILL`);
    const closeDeadline = Date.now() + STOP_GRACE_MS;
    while (await portOpen(port)) {
      if (Date.now() > closeDeadline) throw new Error(`${spec.name}: port ${port} still open after stop`);
      await sleep(50);
    }
  };

  const started = Date.now();
  while (!(await answers(port, spec.ready))) {
    if (exited !== undefined) {
      liveGroups.delete(pid);
      throw new Error(`${spec.name} exited early (code ${exited.code}, signal ${exited.signal}):\n${output}`);
    }
    if (Date.now() - started > START_TIMEOUT_MS) {
      await stop().catch(() => undefined);
      throw new Error(`${spec.name} not ready on port ${port} after ${START_TIMEOUT_MS} ms:\n${output}`);
    }
    await sleep(100);
  }
  return { host: `127.0.0.1:${port}`, port, pid, stop };
}

export function startPubsubEmulator(): Promise<RunningEmulator> {
  const path = pubsubEmulatorPath();
  if (!path) return Promise.reject(new Error('Pub/Sub emulator not installed'));
  return launch({
    name: 'Pub/Sub emulator',
    command: path,
    args: (port) => ['--host=127.0.0.1', `--port=${port}`],
    ready: (status, body) => status === 200 && body.trim() === 'Ok',
  });
}

export function startFirestoreEmulator(): Promise<RunningEmulator> {
  const jar = firestoreEmulatorJar();
  const java = javaPath();
  if (!jar || !java) return Promise.reject(new Error('Firestore emulator or java not installed'));
  return launch({
    name: 'Firestore emulator',
    command: java,
    args: (port) => [
      '-Duser.language=en',
      '-cp',
      jar,
      FIRESTORE_MAIN,
      'start',
      '--host=127.0.0.1',
      `--port=${port}`,
    ],
    ready: (status) => status === 200,
  });
}
