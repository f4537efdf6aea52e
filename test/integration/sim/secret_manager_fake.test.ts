import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { SecretManagerServiceClient } from '@google-cloud/secret-manager';
import { OAuth2Client } from 'google-auth-library';
import { crc32c, type SecretManagerFake, startSecretManagerFake } from '../../helpers/secret_manager_fake.js';

describe('Secret Manager fake', () => {
  let fake: SecretManagerFake;
  let client: SecretManagerServiceClient;
  before(async () => {
    fake = await startSecretManagerFake({
      'projects/my-project/secrets/gti-key/versions/latest': 'key-ünïcode-123',
      'projects/my-project/secrets/rotated/versions/1': 'old',
      'projects/my-project/secrets/rotated/versions/2': 'new',
    });
    // A static token: the fake does not check it, and no credential lookup happens.
    const auth = new OAuth2Client();
    auth.setCredentials({ access_token: 'fake-token', expiry_date: Date.now() + 3_600_000 });
    client = new SecretManagerServiceClient({
      fallback: true,
      protocol: 'http',
      apiEndpoint: fake.host,
      port: fake.port,
      authClient: auth,
    });
  });
  after(async () => {
    await client.close();
    await fake.close();
  });

  it('computes CRC32C', () => {
    assert.equal(crc32c(Buffer.from('123456789')), 0xe3069283);
  });

  it('serves a secret to the real client', async () => {
    const [version] = await client.accessSecretVersion({
      name: 'projects/my-project/secrets/gti-key/versions/latest',
    });
    assert.equal(Buffer.from(version.payload?.data ?? '').toString('utf8'), 'key-ünïcode-123');
    assert.equal(version.name, 'projects/my-project/secrets/gti-key/versions/1');
    assert.equal(String(version.payload?.dataCrc32c), String(crc32c(Buffer.from('key-ünïcode-123'))));
    assert.deepEqual(fake.requests, ['projects/my-project/secrets/gti-key/versions/latest']);
  });

  it('resolves latest to the highest version and serves numbered versions', async () => {
    const [latest] = await client.accessSecretVersion({
      name: 'projects/my-project/secrets/rotated/versions/latest',
    });
    assert.equal(Buffer.from(latest.payload?.data ?? '').toString(), 'new');
    assert.equal(latest.name, 'projects/my-project/secrets/rotated/versions/2');
    const [one] = await client.accessSecretVersion({
      name: 'projects/my-project/secrets/rotated/versions/1',
    });
    assert.equal(Buffer.from(one.payload?.data ?? '').toString(), 'old');
  });

  it('answers NOT_FOUND for an unknown secret', async () => {
    await assert.rejects(
      client.accessSecretVersion({ name: 'projects/my-project/secrets/nope/versions/latest' }),
      (error: unknown) => {
        assert.equal((error as { code?: number }).code, 5);
        return true;
      },
    );
  });
});
