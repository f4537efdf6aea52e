/**
 * Credentials on every Chronicle call: user credentials that name a quota project send it as
 * `x-goog-user-project` (google-auth-library's own request headers), service-account credentials
 * from the metadata server send none. Real google-auth-library: user credentials of type
 * external_account_authorized_user (gcloud's workforce login) with their token endpoint on a
 * loopback server, and the metadata server fake.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, afterEach, before, describe, it } from 'node:test';
import { authHeaders, CLOUD_PLATFORM_SCOPE, createAccessTokenProvider } from '../../shared/chronicle/auth.js';
import { createChronicleClient } from '../../shared/chronicle/client.js';
import { redact } from '../../shared/core/redact.js';
import { recordingGcloud } from '../helpers/gcloud.js';
import { startLoopbackServer } from '../helpers/loopback.js';
import { type MetadataFake, startMetadataFake } from '../helpers/metadata_fake.js';
import { waitFor } from '../helpers/wait.js';

const USER_TOKEN = 'user-access-token-from-the-loopback-endpoint';
const PROJECT = 'secops-project';
const KEYS = [
  'PATH',
  'GCLOUD_PROJECT',
  'GOOGLE_CLOUD_PROJECT',
  'GOOGLE_APPLICATION_CREDENTIALS',
  'GOOGLE_CLOUD_QUOTA_PROJECT',
  'METADATA_SERVER_DETECTION',
  'GCE_METADATA_HOST',
  'CLOUDSDK_CONFIG',
] as const;

describe('Chronicle credentials headers', () => {
  const saved: Record<string, string | undefined> = {};
  let scratch: string;

  before(() => {
    for (const key of KEYS) saved[key] = process.env[key];
    scratch = mkdtempSync(join(tmpdir(), 'chronicle-auth-'));
  });
  afterEach(() => {
    for (const key of KEYS) {
      if (saved[key] === undefined) delete process.env[key];
      else process.env[key] = saved[key];
    }
  });
  after(() => rmSync(scratch, { recursive: true, force: true }));

  /** Service-account credentials from the metadata server fake (no key file, no quota project). */
  const useMetadataServer = (metadata: MetadataFake): void => {
    delete process.env.GOOGLE_APPLICATION_CREDENTIALS;
    delete process.env.GOOGLE_CLOUD_QUOTA_PROJECT;
    process.env.METADATA_SERVER_DETECTION = 'assume-present';
    process.env.GCE_METADATA_HOST = metadata.host;
    process.env.CLOUDSDK_CONFIG = join(scratch, 'gcloud');
  };

  it('a bare token function sends the token alone', async () => {
    assert.deepEqual(await authHeaders(async () => 'tok'), { authorization: 'Bearer tok' });
  });

  it('user credentials with a quota project send it on logs:import, and the token is redacted', async () => {
    const tokenEndpoint = await startLoopbackServer(async (req, res) => {
      for await (const _ of req) {
        // the refresh-token grant; its content does not matter here
      }
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ access_token: USER_TOKEN, expires_in: 3600, token_type: 'Bearer' }));
    });
    const seen: Record<string, string | string[] | undefined>[] = [];
    const chronicle = await startLoopbackServer(async (req, res) => {
      seen.push(req.headers);
      for await (const _ of req) {
        // the import body
      }
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end('{}');
    });
    try {
      const file = join(scratch, 'adc.json');
      writeFileSync(
        file,
        JSON.stringify({
          type: 'external_account_authorized_user',
          audience: '//iam.googleapis.com/locations/global/workforcePools/pool/providers/provider',
          client_id: 'client-id',
          client_secret: 'client-secret',
          refresh_token: 'refresh-token',
          token_url: `${tokenEndpoint.origin}/token`,
          quota_project_id: 'my-quota-project',
        }),
      );
      process.env.GOOGLE_APPLICATION_CREDENTIALS = file;
      process.env.METADATA_SERVER_DETECTION = 'none';
      delete process.env.GOOGLE_CLOUD_QUOTA_PROJECT;

      const provider = createAccessTokenProvider(PROJECT);
      assert.deepEqual(await authHeaders(provider), {
        authorization: `Bearer ${USER_TOKEN}`,
        'x-goog-user-project': 'my-quota-project',
      });
      assert.equal(await provider(), USER_TOKEN);
      assert.equal(redact(`echo ${USER_TOKEN}`), 'echo [REDACTED]', 'the token is registered as a secret');

      const client = createChronicleClient({
        target: {
          baseUrl: chronicle.origin,
          apiVersion: 'v1alpha',
          projectId: PROJECT,
          region: 'eu',
          customerId: '0b1c2d3e-4f50-4617-8293-a4b5c6d7e8f9',
          logType: 'GTI_IOC_STREAM',
        },
        getToken: provider,
        timeoutMs: 5000,
      });
      await client.importLogs('{"inlineSource":{"logs":[]}}');
      assert.equal(seen.length, 1);
      assert.equal(seen[0]?.authorization, `Bearer ${USER_TOKEN}`);
      assert.equal(seen[0]?.['x-goog-user-project'], 'my-quota-project');
    } finally {
      await tokenEndpoint.close();
      await chronicle.close();
    }
  });

  it('service-account credentials from the metadata server send no quota project', async () => {
    const metadata = await startMetadataFake({ token: 'metadata-token-for-the-auth-test' });
    try {
      useMetadataServer(metadata);
      assert.deepEqual(await authHeaders(createAccessTokenProvider(PROJECT)), {
        authorization: 'Bearer metadata-token-for-the-auth-test',
      });
    } finally {
      await metadata.close();
    }
  });

  it('gives google-auth-library the project id: no `gcloud config config-helper` before the first token', async () => {
    // google-auth-library looks a project id up before its first token
    // (GoogleAuth#prepareAndCacheClient), running `gcloud config config-helper` when the Cloud SDK
    // is installed: about a second per process.
    const gcloud = recordingGcloud(scratch);
    const metadata = await startMetadataFake({ token: 'metadata-token-without-gcloud' });
    try {
      useMetadataServer(metadata);
      delete process.env.GCLOUD_PROJECT;
      delete process.env.GOOGLE_CLOUD_PROJECT;
      process.env.PATH = `${gcloud.bin}:${process.env.PATH ?? ''}`;

      // The control: the library left to find the project id itself runs the fake gcloud.
      const { GoogleAuth } = await import('google-auth-library');
      await new GoogleAuth({ scopes: [CLOUD_PLATFORM_SCOPE] }).getRequestHeaders();
      assert.deepEqual(gcloud.calls(), ['config config-helper --format json']);

      assert.deepEqual(await authHeaders(createAccessTokenProvider(PROJECT)), {
        authorization: 'Bearer metadata-token-without-gcloud',
      });
      assert.equal(gcloud.calls().length, 1, 'gcloud was not run again');
    } finally {
      await metadata.close();
    }
  });

  it('prepare gets the first token ahead of the first request, which then uses it without asking again', async () => {
    const metadata = await startMetadataFake({ token: 'metadata-token-fetched-ahead' });
    try {
      useMetadataServer(metadata);
      const provider = createAccessTokenProvider(PROJECT);
      assert.equal(metadata.tokenRequests, 0, 'nothing is asked before prepare');
      provider.prepare?.();
      await waitFor('the token fetched ahead', () => metadata.tokenRequests === 1, 5000);
      assert.equal(
        redact('echo metadata-token-fetched-ahead'),
        'echo [REDACTED]',
        'a token fetched ahead is registered as a secret too',
      );
      assert.deepEqual(await authHeaders(provider), { authorization: 'Bearer metadata-token-fetched-ahead' });
      assert.equal(metadata.tokenRequests, 1, 'the first request used the token fetched ahead');
    } finally {
      await metadata.close();
    }
  });

  it('a prepare that fails throws nothing and leaves the failure to the first request, which reports it', async () => {
    delete process.env.GOOGLE_APPLICATION_CREDENTIALS;
    delete process.env.GOOGLE_CLOUD_QUOTA_PROJECT;
    delete process.env.GCE_METADATA_HOST;
    process.env.METADATA_SERVER_DETECTION = 'none';
    process.env.CLOUDSDK_CONFIG = join(scratch, 'no-gcloud-config');
    const unhandled: unknown[] = [];
    const onUnhandled = (reason: unknown) => unhandled.push(reason);
    process.on('unhandledRejection', onUnhandled);
    try {
      const provider = createAccessTokenProvider(PROJECT);
      provider.prepare?.();
      await assert.rejects(authHeaders(provider), (error: Error) => {
        assert.match(error.message, /No Google credentials found/);
        return true;
      });
      await new Promise((resolve) => setImmediate(resolve));
      assert.deepEqual(unhandled, [], 'the failed prepare left no unhandled rejection');
    } finally {
      process.off('unhandledRejection', onUnhandled);
    }
  });
});
