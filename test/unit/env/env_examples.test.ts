import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { load as loadYaml } from 'js-yaml';
import { loadConfig } from '../../../shared/core/config.js';
import { ConfigError } from '../../../shared/core/errors.js';

const envDir = fileURLToPath(new URL('../../../../env/', import.meta.url));

/** What a user puts in place of each placeholder (valid values, never real ones). */
const FILLED: Record<string, string> = {
  GCP_PROJECT_ID: 'my-gcp-project',
  VT_API_KEY: 'a-gti-key-for-the-test',
  CHRONICLE_PROJECT_ID: 'my-secops-project',
  CHRONICLE_CUSTOMER_ID: '0b1c2d3e-4f50-4617-8293-a4b5c6d7e8f9',
  CHRONICLE_REGION: 'eu',
};

/** The keys of an example whose value is a CHANGE_ME / CHANGE-ME / "CHANGE ME …" placeholder. */
function placeholders(file: string): string[] {
  const doc = loadYaml(readFileSync(`${envDir}${file}`, 'utf8')) as Record<string, unknown>;
  return Object.entries(doc)
    .filter(([, value]) => /^CHANGE[ _-]ME\b/.test(String(value)))
    .map(([key]) => key)
    .sort();
}

describe('env/ examples', () => {
  const files = readdirSync(envDir).filter((f) => f.endsWith('.yml'));
  it('exist for standalone, cloud and local dev', () => {
    assert.deepEqual(files.sort(), ['cloud.example.yml', 'local-dev.example.yml', 'standalone.example.yml']);
  });

  it('the standalone and cloud examples hold placeholders for every value only the user knows', () => {
    assert.deepEqual(placeholders('standalone.example.yml'), [
      'CHRONICLE_CUSTOMER_ID',
      'CHRONICLE_PROJECT_ID',
      'CHRONICLE_REGION',
      'VT_API_KEY',
    ]);
    assert.deepEqual(placeholders('cloud.example.yml'), [
      'CHRONICLE_CUSTOMER_ID',
      'CHRONICLE_PROJECT_ID',
      'CHRONICLE_REGION',
      'GCP_PROJECT_ID',
    ]);
    assert.deepEqual(placeholders('local-dev.example.yml'), [], 'local dev runs as it is, on the emulators');
  });

  for (const file of files) {
    const keys = placeholders(file);
    if (keys.length > 0) {
      it(`${file} as it is is refused, naming each placeholder variable (so it never goes live)`, () => {
        let error: unknown;
        try {
          loadConfig({}, { configFile: `${envDir}${file}` });
        } catch (e) {
          error = e;
        }
        assert.ok(error instanceof ConfigError, `${file} loaded with its placeholders`);
        const named = keys.filter((key) => error.problems.some((p) => p.startsWith(`${key}:`)));
        assert.deepEqual(named, keys, error.problems.join('\n'));
        assert.equal(
          error.problems.length,
          keys.length,
          `only the placeholders: ${error.problems.join('; ')}`,
        );
      });
    }
    it(`${file} holds only known keys, valid once the placeholders are filled in`, () => {
      const env = Object.fromEntries(keys.map((key) => [key, FILLED[key] ?? 'missing-test-value']));
      const config = loadConfig(env, { configFile: `${envDir}${file}` });
      assert.equal(config.configFile, `${envDir}${file}`);
    });
  }
});
