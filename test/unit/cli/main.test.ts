import assert from 'node:assert/strict';
import { EventEmitter } from 'node:events';
import { readFileSync } from 'node:fs';
import { type AddressInfo, createServer } from 'node:net';
import { describe, it } from 'node:test';
import { errorLine, main, quietMetadataLookupWarnings } from '../../../cli/main.js';
import { registerSecret } from '../../../shared/core/redact.js';
import { cliContext } from '../../helpers/cli.js';

const VERSION = (
  JSON.parse(readFileSync(new URL('../../../../package.json', import.meta.url), 'utf8')) as {
    version: string;
  }
).version;

describe('ioc-stream CLI', () => {
  it('lists the commands and rejects unknown ones', async () => {
    const help = cliContext({});
    assert.equal(await main(['--help'], help.ctx), 0);
    for (const name of ['sync', 'dev', 'trigger', 'dlq', 'parser', 'doctor', 'rules', 'version'])
      assert.match(help.out().stdout, new RegExp(`\\b${name}\\b`));
    const unknown = cliContext({});
    assert.equal(await main(['frobnicate'], unknown.ctx), 2);
    assert.match(unknown.out().stderr, /unknown command "frobnicate"/);
  });

  it('reports every configuration problem at once and exits 2', async () => {
    const run = cliContext({ VT_LIMIT: '99', CHRONICLE_REGION: 'Mars 1' });
    assert.equal(await main(['sync'], run.ctx), 2);
    assert.match(run.out().stderr, /VT_LIMIT: must be between 1 and 40/);
    assert.match(run.out().stderr, /CHRONICLE_REGION: must be a SecOps region/);
  });

  it('never sends demo data to a configured Chronicle: a GTI key is required then', async () => {
    const run = cliContext({
      CHRONICLE_CUSTOMER_ID: '01234567-89ab-4cde-8f01-23456789abcd',
      GCP_PROJECT_ID: 'my-project',
    });
    assert.equal(await main(['sync'], run.ctx), 2);
    assert.match(run.out().stderr, /VT_API_KEY or VT_API_KEY_SECRET_NAME/);
  });

  it('rejects unknown options with a clear message', async () => {
    const run = cliContext({});
    assert.equal(await main(['sync', '--bogus'], run.ctx), 2);
    assert.match(run.out().stderr, /bogus/);
  });

  it('prints its version with --version, -v and version', async () => {
    for (const argv of [['--version'], ['-v'], ['version']]) {
      const run = cliContext({});
      assert.equal(await main(argv, run.ctx), 0);
      assert.equal(run.out().stdout, `ioc-stream ${VERSION}\n`);
    }
  });

  it('prints an unexpected error as one bounded line without secrets', () => {
    registerSecret('secret-in-an-error-message');
    const line = errorLine(new Error(`boom secret-in-an-error-message ${'x'.repeat(5000)}\nsecond line`));
    assert.ok(line.length < 420, `${line.length}`);
    assert.match(line, /^Error: boom \[REDACTED\] x+… \(cut\)$/);
  });

  it('drops MetadataLookupWarning and prints every other warning as before', () => {
    const target = new EventEmitter() as unknown as NodeJS.Process;
    const printed: string[] = [];
    target.on('warning', (w: Error) => printed.push(`${w.name}: ${w.message}`));
    quietMetadataLookupWarnings(target);
    const warn = (name: string, message: string) => {
      const w = new Error(message);
      w.name = name;
      target.emit('warning', w);
    };
    warn('MetadataLookupWarning', 'received unexpected error = x code = 403');
    warn('DeprecationWarning', 'something old');
    assert.deepEqual(printed, ['DeprecationWarning: something old']);
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
      const run = cliContext({
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
