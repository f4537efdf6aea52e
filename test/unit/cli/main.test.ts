import assert from 'node:assert/strict';
import { type AddressInfo, createServer } from 'node:net';
import { describe, it } from 'node:test';
import { main } from '../../../cli/main.js';

function context(env: Record<string, string>) {
  let stdout = '';
  let stderr = '';
  return {
    ctx: {
      env,
      stdout: { write: (t: string) => (stdout += t) },
      stderr: { write: (t: string) => (stderr += t) },
      signal: new AbortController().signal,
    },
    out: () => ({ stdout, stderr }),
  };
}

describe('ioc-stream CLI', () => {
  it('lists the commands and rejects unknown ones', async () => {
    const help = context({});
    assert.equal(await main(['--help'], help.ctx), 0);
    for (const name of ['sync', 'dev', 'trigger', 'dlq', 'parser'])
      assert.match(help.out().stdout, new RegExp(`\\b${name}\\b`));
    const unknown = context({});
    assert.equal(await main(['frobnicate'], unknown.ctx), 2);
    assert.match(unknown.out().stderr, /unknown command "frobnicate"/);
  });

  it('reports every configuration problem at once and exits 2', async () => {
    const run = context({ VT_LIMIT: '99', CHRONICLE_REGION: 'Mars 1' });
    assert.equal(await main(['sync'], run.ctx), 2);
    assert.match(run.out().stderr, /VT_LIMIT: must be between 1 and 40/);
    assert.match(run.out().stderr, /CHRONICLE_REGION: must be a SecOps region/);
  });

  it('never sends demo data to a configured Chronicle: a GTI key is required then', async () => {
    const run = context({
      CHRONICLE_CUSTOMER_ID: '01234567-89ab-4cde-8f01-23456789abcd',
      GCP_PROJECT_ID: 'my-project',
    });
    assert.equal(await main(['sync'], run.ctx), 2);
    assert.match(run.out().stderr, /VT_API_KEY or VT_API_KEY_SECRET_NAME/);
  });

  it('rejects unknown options with a clear message', async () => {
    const run = context({});
    assert.equal(await main(['sync', '--bogus'], run.ctx), 2);
    assert.match(run.out().stderr, /bogus/);
  });

  it('trigger refuses a --start ahead of now before publishing anything', async () => {
    // Stands in for the Pub/Sub emulator: any publish attempt would connect to it.
    let connections = 0;
    const pubsub = createServer((socket) => {
      connections += 1;
      socket.destroy();
    });
    await new Promise<void>((resolve) => pubsub.listen(0, '127.0.0.1', resolve));
    try {
      const run = context({
        GCP_PROJECT_ID: 'my-project',
        PUBSUB_TRIGGER_TOPIC: 'ioc-stream-trigger',
        PUBSUB_EMULATOR_HOST: `127.0.0.1:${(pubsub.address() as AddressInfo).port}`,
      });
      const future = new Date(Date.now() + 3 * 86_400_000).toISOString();
      assert.equal(await main(['trigger', '--start', future], run.ctx), 1);
      assert.match(run.out().stderr, /TimeAheadError: trigger "start" is/);
      assert.equal(connections, 0, 'nothing published');
    } finally {
      await new Promise((resolve) => pubsub.close(resolve));
    }
  });
});
