/**
 * The cloud topology on this machine, wired as terraform wires it in production: both functions
 * under functions-framework (child processes, loopback ports, each in its own process group), the
 * trigger / chunks / dead-letter topics on the Pub/Sub emulator, push subscriptions to the function
 * URLs with path /projects/P/topics/T (so the framework converts each push to a CloudEvent), the
 * chunks subscription with a retry policy and a dead-letter policy, and a pull subscription on the
 * dead-letter topic. Used by `ioc-stream dev` and by the cloud integration tests.
 *
 * Each function process gets exactly the variables terraform sets on that function (the
 * CONFIG_VARIABLES whose `functions` list names it, as terraform/functions.tf does) plus the few
 * named in LOCAL_PLUMBING, which stand in for what Cloud Functions provides. So a variable a
 * function reads but is not deployed with fails here too, not only in production.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { createInterface } from 'node:readline';
import type { PubSub } from '@google-cloud/pubsub';
import { createPubSubClient } from '../shared/cloud/pubsub.js';
import { CONFIG_VARIABLES } from '../shared/core/config.js';
import { freePort, portOpen, trackProcessGroup } from './emulators.js';

export type FunctionTarget = 'fetchIocStream' | 'sendToChronicle';

/** The CONFIG_VARIABLES `functions` name of each entry point. */
export const FUNCTION_OF_TARGET = { fetchIocStream: 'fetcher', sendToChronicle: 'sender' } as const;

/** The configuration terraform sets on a function (terraform/functions.tf follows the same list). */
export function deployedVariables(target: FunctionTarget): string[] {
  const fn = FUNCTION_OF_TARGET[target];
  return CONFIG_VARIABLES.filter((v) => v.functions.includes(fn)).map((v) => v.name);
}

/**
 * Not deployed configuration: what a function process on this machine needs in place of what Cloud
 * Functions provides. Nothing else of the caller's environment reaches the process.
 */
export const LOCAL_PLUMBING: Readonly<Record<FunctionTarget, readonly string[]>> = {
  fetchIocStream: [
    // The emulators instead of Pub/Sub and Firestore.
    'PUBSUB_EMULATOR_HOST',
    'FIRESTORE_EMULATOR_HOST',
    // The GTI key given directly, or a Secret Manager fake, instead of the deployed secret.
    'VT_API_KEY',
    'SECRET_MANAGER_API_ENDPOINT',
    // The function's identity: a metadata server fake or local Application Default Credentials.
    'GCE_METADATA_HOST',
    'METADATA_SERVER_DETECTION',
    'GOOGLE_APPLICATION_CREDENTIALS',
    // What every process has (HOME also locates gcloud's default credentials).
    'PATH',
    'HOME',
  ],
  sendToChronicle: [
    'PUBSUB_EMULATOR_HOST',
    'GCE_METADATA_HOST',
    'METADATA_SERVER_DETECTION',
    'GOOGLE_APPLICATION_CREDENTIALS',
    'PATH',
    'HOME',
  ],
};

export interface FunctionProcess {
  readonly target: FunctionTarget;
  readonly url: string;
  readonly port: number;
  /** Current process id (also its process group id). */
  readonly pid: number;
  /** JSON log lines the function wrote (non-JSON lines are kept as {text}). */
  readonly logs: Record<string, unknown>[];
  /** Kills the process group with `signal` (SIGKILL = a crash) and waits for the exit. */
  kill(signal?: NodeJS.Signals): Promise<void>;
  /** Starts the function again on the same port (after kill). */
  restart(): Promise<void>;
  stop(): Promise<void>;
}

export interface StartFunctionOptions {
  readonly target: FunctionTarget;
  /** Directory holding package.json whose `main` exports the functions (the repo root). */
  readonly source: string;
  readonly env: NodeJS.ProcessEnv;
  readonly port?: number;
  readonly onLine?: (target: FunctionTarget, line: string) => void;
}

const require = createRequire(import.meta.url);

/** functions-framework's own entry (what `npx functions-framework` runs). */
export function functionsFrameworkMain(): string {
  return join(dirname(require.resolve('@google-cloud/functions-framework')), 'main.js');
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

function alive(pid: number): boolean {
  try {
    process.kill(-pid, 0);
    return true;
  } catch {
    return false;
  }
}

export async function startFunction(options: StartFunctionOptions): Promise<FunctionProcess> {
  const port = options.port ?? (await freePort());
  const url = `http://127.0.0.1:${port}`;
  const logs: Record<string, unknown>[] = [];
  let child: ChildProcess | undefined;
  let exited: Promise<void> = Promise.resolve();

  const launch = async (): Promise<void> => {
    const proc = spawn(
      process.execPath,
      [
        functionsFrameworkMain(),
        `--target=${options.target}`,
        '--signature-type=cloudevent',
        `--port=${port}`,
        `--source=${options.source}`,
      ],
      { cwd: options.source, env: options.env, detached: true, stdio: ['ignore', 'pipe', 'pipe'] },
    );
    child = proc;
    // Killed with the emulators if this process exits or is interrupted (its own group, so a
    // terminal's Ctrl-C does not reach it).
    const untrack = proc.pid === undefined ? () => undefined : trackProcessGroup(proc.pid);
    exited = new Promise((resolve) =>
      proc.once('exit', () => {
        untrack();
        resolve();
      }),
    );
    for (const stream of [proc.stdout, proc.stderr]) {
      if (!stream) continue;
      createInterface({ input: stream }).on('line', (line) => {
        let parsed: Record<string, unknown>;
        try {
          const value: unknown = JSON.parse(line);
          parsed =
            value !== null && typeof value === 'object' ? (value as Record<string, unknown>) : { text: line };
        } catch {
          parsed = { text: line };
        }
        logs.push(parsed);
        options.onLine?.(options.target, line);
      });
    }
    const started = Date.now();
    for (;;) {
      if (proc.exitCode !== null || proc.signalCode !== null) {
        const tail = logs
          .slice(-10)
          .map((l) => JSON.stringify(l))
          .join('\n');
        throw new Error(`${options.target} exited during startup:\n${tail}`);
      }
      // A TCP probe: an HTTP request without a body makes the framework log a TypeError.
      if (await portOpen(port)) return;
      if (Date.now() - started > 30_000) {
        if (proc.pid !== undefined) process.kill(-proc.pid, 'SIGKILL');
        throw new Error(`${options.target} not listening on ${url}`);
      }
      await sleep(50);
    }
  };

  const kill = async (signal: NodeJS.Signals = 'SIGTERM'): Promise<void> => {
    const proc = child;
    if (proc?.pid === undefined || proc.exitCode !== null || proc.signalCode !== null) return;
    try {
      process.kill(-proc.pid, signal);
    } catch {
      // already gone
    }
    await Promise.race([exited, sleep(5000)]);
    if (alive(proc.pid)) {
      process.kill(-proc.pid, 'SIGKILL');
      await exited;
    }
  };

  await launch();
  return {
    target: options.target,
    url,
    port,
    get pid() {
      return child?.pid ?? 0;
    },
    logs,
    kill,
    restart: launch,
    stop: () => kill('SIGTERM'),
  };
}

export interface TopologyNames {
  readonly trigger: string;
  readonly chunks: string;
  readonly deadLetter: string;
  readonly triggerSubscription: string;
  readonly chunksSubscription: string;
  readonly deadLetterSubscription: string;
}

/** Topic and subscription ids, named as terraform names them (prefix-trigger, prefix-chunks-push, ...). */
export function topologyNames(prefix: string): TopologyNames {
  return {
    trigger: `${prefix}-trigger`,
    chunks: `${prefix}-chunks`,
    deadLetter: `${prefix}-dead-letter`,
    triggerSubscription: `${prefix}-trigger-push`,
    chunksSubscription: `${prefix}-chunks-push`,
    deadLetterSubscription: `${prefix}-dead-letter`,
  };
}

export interface DeliverySettings {
  readonly minimumBackoffSeconds: number;
  readonly maximumBackoffSeconds: number;
  /** 5..100 (the emulator, like Pub/Sub, refuses fewer than 5). */
  readonly maxDeliveryAttempts: number;
  /** How long a push waits for the fetcher (cover its time budget). */
  readonly triggerAckDeadlineSeconds: number;
  readonly chunksAckDeadlineSeconds: number;
}

export const LOCAL_DELIVERY: DeliverySettings = {
  minimumBackoffSeconds: 1,
  maximumBackoffSeconds: 10,
  maxDeliveryAttempts: 5,
  triggerAckDeadlineSeconds: 600,
  chunksAckDeadlineSeconds: 60,
};

/** Creates the topics and subscriptions (they must not exist yet). */
export async function createTopology(
  pubsub: PubSub,
  projectId: string,
  names: TopologyNames,
  endpoints: { fetcherUrl: string; senderUrl: string },
  delivery: DeliverySettings = LOCAL_DELIVERY,
): Promise<void> {
  const [trigger] = await pubsub.createTopic(names.trigger);
  const [chunks] = await pubsub.createTopic(names.chunks);
  const [deadLetter] = await pubsub.createTopic(names.deadLetter);
  const retryPolicy = {
    minimumBackoff: { seconds: delivery.minimumBackoffSeconds },
    maximumBackoff: { seconds: delivery.maximumBackoffSeconds },
  };
  const pushPath = (topic: string) => `/projects/${projectId}/topics/${topic}`;
  // The dead-letter subscription first: a message dead-lettered to a topic without one is gone.
  await deadLetter.createSubscription(names.deadLetterSubscription, { ackDeadlineSeconds: 60 });
  await trigger.createSubscription(names.triggerSubscription, {
    ackDeadlineSeconds: delivery.triggerAckDeadlineSeconds,
    pushConfig: { pushEndpoint: `${endpoints.fetcherUrl}${pushPath(names.trigger)}` },
    retryPolicy,
  });
  await chunks.createSubscription(names.chunksSubscription, {
    ackDeadlineSeconds: delivery.chunksAckDeadlineSeconds,
    pushConfig: { pushEndpoint: `${endpoints.senderUrl}${pushPath(names.chunks)}` },
    retryPolicy,
    deadLetterPolicy: {
      deadLetterTopic: `projects/${projectId}/topics/${names.deadLetter}`,
      maxDeliveryAttempts: delivery.maxDeliveryAttempts,
    },
  });
}

export interface LocalCloudOptions {
  readonly projectId: string;
  /** host:port of the running emulators. */
  readonly pubsubHost: string;
  readonly firestoreHost: string;
  /** Repo root (package.json main = the compiled functions). */
  readonly source: string;
  /** Topic/subscription name prefix (also USE_CASE_NAME unless env sets one). */
  readonly prefix: string;
  /**
   * Configuration values (VT_*, CHRONICLE_*, CHUNK_MAX_BYTES, ...) and local plumbing; each function
   * takes only its deployed variables and its LOCAL_PLUMBING from here (see functionEnv).
   */
  readonly env: NodeJS.ProcessEnv;
  readonly delivery?: DeliverySettings;
  readonly onLine?: (target: FunctionTarget, line: string) => void;
}

export interface LocalCloud {
  readonly names: TopologyNames;
  readonly fetcher: FunctionProcess;
  readonly sender: FunctionProcess;
  /** The admin / test client on the emulator. */
  readonly pubsub: PubSub;
  stop(): Promise<void>;
}

/**
 * The environment of one function: its deployed variables and its LOCAL_PLUMBING, taken from the
 * given values and the topology (project, topics and emulators, as terraform takes them from its
 * resources); anything else given is left out.
 */
export function functionEnv(
  target: FunctionTarget,
  options: LocalCloudOptions,
  names: TopologyNames,
): NodeJS.ProcessEnv {
  const given: NodeJS.ProcessEnv = {
    USE_CASE_NAME: options.prefix,
    ...options.env,
    GCP_PROJECT_ID: options.projectId,
    PUBSUB_TRIGGER_TOPIC: names.trigger,
    PUBSUB_CHUNKS_TOPIC: names.chunks,
    PUBSUB_DEAD_LETTER_TOPIC: names.deadLetter,
    PUBSUB_EMULATOR_HOST: options.pubsubHost,
    FIRESTORE_EMULATOR_HOST: options.firestoreHost,
  };
  const env: NodeJS.ProcessEnv = {};
  for (const name of [...deployedVariables(target), ...LOCAL_PLUMBING[target]]) {
    const value = given[name];
    if (value !== undefined) env[name] = value;
  }
  return env;
}

export async function startLocalCloud(options: LocalCloudOptions): Promise<LocalCloud> {
  const names = topologyNames(options.prefix);
  const started: FunctionProcess[] = [];
  const pubsub = await createPubSubClient({ projectId: options.projectId, emulatorHost: options.pubsubHost });
  try {
    const start = (target: FunctionTarget) =>
      startFunction({
        target,
        source: options.source,
        env: functionEnv(target, options, names),
        ...(options.onLine ? { onLine: options.onLine } : {}),
      });
    // Both started, or the one that did is stopped with the rest (catch below).
    const results = await Promise.allSettled([start('fetchIocStream'), start('sendToChronicle')]);
    for (const result of results) if (result.status === 'fulfilled') started.push(result.value);
    for (const result of results) if (result.status === 'rejected') throw result.reason;
    const [fetcher, sender] = started as [FunctionProcess, FunctionProcess];
    await createTopology(
      pubsub,
      options.projectId,
      names,
      { fetcherUrl: fetcher.url, senderUrl: sender.url },
      options.delivery,
    );
    return {
      names,
      fetcher,
      sender,
      pubsub,
      stop: async () => {
        // Push subscriptions first, so the emulator stops calling functions that are going away
        // (bounded: on Ctrl-C the emulator may already be gone).
        await Promise.race([
          Promise.all(
            [names.triggerSubscription, names.chunksSubscription].map((s) =>
              pubsub
                .subscription(s)
                .delete()
                .catch(() => undefined),
            ),
          ),
          sleep(2000),
        ]);
        await Promise.all(started.map((f) => f.stop()));
        await Promise.race([pubsub.close().catch(() => undefined), sleep(2000)]);
      },
    };
  } catch (error) {
    await Promise.all(started.map((f) => f.stop()));
    await pubsub.close();
    throw error;
  }
}
