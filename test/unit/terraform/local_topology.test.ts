/**
 * The local cloud topology (sim/local_cloud.ts: `ioc-stream dev` and the emulator cloud tests)
 * starts each function with the variables terraform deploys on it, so a variable a function reads
 * but is not deployed with fails locally too. Only the named LOCAL_PLUMBING is added.
 */
import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import { CONFIG_VARIABLES } from '../../../shared/core/config.js';
import {
  FUNCTION_OF_TARGET,
  type FunctionTarget,
  functionEnv,
  LOCAL_PLUMBING,
  type LocalCloudOptions,
  topologyNames,
} from '../../../sim/local_cloud.js';
import { functionEnvironment, MODULE_DIR, parseDir, type TfFile } from './tf.js';

const TARGETS: readonly FunctionTarget[] = ['fetchIocStream', 'sendToChronicle'];

let files: TfFile[] = [];
before(async () => {
  files = await parseDir(MODULE_DIR);
});

/** Everything a caller might hand the local cloud: every variable, the plumbing, and strays. */
function everything(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { UNRELATED_VARIABLE: 'x', NODE_OPTIONS: '--inspect' };
  for (const v of CONFIG_VARIABLES) env[v.name] = `value-of-${v.name}`;
  for (const name of Object.values(LOCAL_PLUMBING).flat()) env[name] = `value-of-${name}`;
  return env;
}

const options: LocalCloudOptions = {
  projectId: 'local-project',
  pubsubHost: '127.0.0.1:8085',
  firestoreHost: '127.0.0.1:8086',
  source: '/nowhere',
  prefix: 'tparity',
  env: everything(),
};
const names = topologyNames(options.prefix);

describe('local topology vs terraform', () => {
  for (const target of TARGETS) {
    const fn = FUNCTION_OF_TARGET[target];

    it(`${target}: the configuration it is started with has exactly terraform's ${fn} environment keys`, () => {
      const env = functionEnv(target, options, names);
      const configuration = Object.keys(env)
        .filter((name) => !LOCAL_PLUMBING[target].includes(name))
        .sort();
      assert.deepEqual(configuration, Object.keys(functionEnvironment(files, fn)).sort());
      assert.equal(env.UNRELATED_VARIABLE, undefined);
      assert.equal(env.NODE_OPTIONS, undefined);
      assert.equal(env.CONFIG_FILE, undefined, 'no side door for undeployed values');
    });

    it(`${target}: the project and topics come from the topology, as terraform takes them from its resources`, () => {
      const env = functionEnv(target, options, names);
      assert.equal(env.GCP_PROJECT_ID, options.projectId);
      assert.equal(env.PUBSUB_CHUNKS_TOPIC, names.chunks);
      assert.equal(env.PUBSUB_EMULATOR_HOST, options.pubsubHost);
      if (target === 'fetchIocStream') {
        assert.equal(env.PUBSUB_TRIGGER_TOPIC, names.trigger);
        assert.equal(env.FIRESTORE_EMULATOR_HOST, options.firestoreHost);
      } else {
        assert.equal(env.PUBSUB_DEAD_LETTER_TOPIC, names.deadLetter);
      }
    });
  }

  it('the local plumbing is never a variable terraform deploys (it cannot hide a missing one)', () => {
    const deployed = new Set(CONFIG_VARIABLES.filter((v) => v.functions.length > 0).map((v) => v.name));
    for (const target of TARGETS) {
      assert.deepEqual(
        LOCAL_PLUMBING[target].filter((name) => deployed.has(name)),
        [],
        target,
      );
    }
  });
});
