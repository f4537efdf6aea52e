/**
 * The `ioc-stream` process on a laptop without Google credentials: one clear line per failure, no
 * MetadataLookupWarning from google-auth-library's metadata server probe, no stack trace from a
 * rejection a library leaves behind. The "metadata server" answers 403 to everything, which makes
 * gcp-metadata warn (an unexpected answer rather than a network error).
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { runCli } from '../helpers/cli.js';
import { type LoopbackServer, startLoopbackServer } from '../helpers/loopback.js';

const PARSER_DIR = fileURLToPath(new URL('../../../custom_parser/', import.meta.url));

describe('ioc-stream process without credentials', () => {
  let metadata: LoopbackServer;
  let home: string;
  let env: NodeJS.ProcessEnv;

  before(async () => {
    metadata = await startLoopbackServer((_req, res) => {
      res.writeHead(403, { 'content-type': 'text/plain' });
      res.end('Forbidden');
    });
    home = mkdtempSync(join(tmpdir(), 'cli-process-'));
    // Only what the process needs: no METADATA_SERVER_DETECTION, NODE_NO_WARNINGS or credentials.
    env = {
      PATH: process.env.PATH ?? '',
      HOME: home,
      CLOUDSDK_CONFIG: join(home, 'gcloud'),
      GCE_METADATA_HOST: metadata.origin.replace('http://', ''),
      CHRONICLE_CUSTOMER_ID: '0b1c2d3e-4f50-4617-8293-a4b5c6d7e8f9',
      CHRONICLE_PROJECT_ID: 'secops-project',
      CHRONICLE_API_BASE_URL: 'http://127.0.0.1:9',
      RETRY_MAX_ATTEMPTS: '1',
    };
  });

  after(async () => {
    await metadata.close();
    rmSync(home, { recursive: true, force: true });
  });

  it('parser validate says how to get credentials, without a MetadataLookupWarning', async () => {
    const r = await runCli(['parser', 'validate', '--dir', PARSER_DIR], env);
    assert.equal(r.code, 1, r.stderr);
    assert.match(r.stderr, /No Google credentials found: run `gcloud auth application-default login`/);
    assert.doesNotMatch(r.stderr, /MetadataLookupWarning/);
    assert.ok(metadata.requests.length > 0, 'the library did probe the metadata server');
  });

  it('trigger fails in one line, with no stack trace from the Pub/Sub library', async () => {
    const r = await runCli(['trigger', '--project', 'my-project', '--topic', 'ioc-stream-trigger'], env);
    assert.equal(r.code, 1, r.stderr);
    assert.equal(
      r.stderr,
      'ioc-stream trigger: failed: PublishError: Publishing to topic ioc-stream-trigger failed: no Google credentials found: run `gcloud auth application-default login`, or use a service account\n',
    );
  });
});
