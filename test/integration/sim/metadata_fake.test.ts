import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { type MetadataFake, startMetadataFake } from '../../helpers/metadata_fake.js';

const run = promisify(execFile);
const REPO_ROOT = fileURLToPath(new URL('../../../../', import.meta.url));

// Runs in a child process so GCE_METADATA_HOST never leaks into this test process's environment.
const CHILD = `
import { GoogleAuth } from 'google-auth-library';
const auth = new GoogleAuth({ scopes: ['https://www.googleapis.com/auth/cloud-platform'] });
const token = await auth.getAccessToken();
const projectId = await auth.getProjectId();
const credentials = await auth.getCredentials();
const client = await auth.getClient();
const headers = await client.getRequestHeaders();
console.log(JSON.stringify({ token, projectId, email: credentials.client_email, authorization: headers.get('authorization') }));
`;

describe('GCE metadata fake', () => {
  let fake: MetadataFake;
  before(async () => {
    fake = await startMetadataFake({
      token: 'fake-meta-token',
      projectId: 'proj-42',
      email: 'sa@proj-42.iam.gserviceaccount.com',
    });
  });
  after(async () => {
    await fake.close();
  });

  it('serves a token to the real google-auth-library in a child process', async () => {
    const { stdout } = await run(process.execPath, ['--input-type=module', '-e', CHILD], {
      cwd: REPO_ROOT,
      env: {
        PATH: process.env.PATH ?? '',
        HOME: process.env.HOME ?? '/tmp',
        GCE_METADATA_HOST: fake.host,
        METADATA_SERVER_DETECTION: 'assume-present',
      },
      timeout: 30_000,
    });
    const out = JSON.parse(stdout.trim().split('\n').at(-1) ?? '{}') as Record<string, string>;
    assert.equal(out.token, 'fake-meta-token');
    assert.equal(out.projectId, 'proj-42');
    assert.equal(out.email, 'sa@proj-42.iam.gserviceaccount.com');
    assert.equal(out.authorization, 'Bearer fake-meta-token');
    assert.ok(fake.tokenRequests >= 1);
  });

  it('refuses requests without Metadata-Flavor: Google', async () => {
    const res = await fetch(`${fake.url}/computeMetadata/v1/instance/service-accounts/default/token`);
    assert.equal(res.status, 403);
    const ok = await fetch(`${fake.url}/computeMetadata/v1/instance/service-accounts/default/token`, {
      headers: { 'Metadata-Flavor': 'Google' },
    });
    assert.equal(ok.status, 200);
    assert.equal(ok.headers.get('metadata-flavor'), 'Google');
    assert.deepEqual(await ok.json(), {
      access_token: 'fake-meta-token',
      expires_in: 3599,
      token_type: 'Bearer',
    });
  });
});
