import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { loadConfig } from '../../../shared/core/config.js';

const envDir = fileURLToPath(new URL('../../../../env/', import.meta.url));

describe('env/ examples', () => {
  const files = readdirSync(envDir).filter((f) => f.endsWith('.yml'));
  it('exist for standalone, cloud and local dev', () => {
    assert.deepEqual(files.sort(), ['cloud.example.yml', 'local-dev.example.yml', 'standalone.example.yml']);
  });
  for (const file of files) {
    it(`${file} holds only known, valid keys`, () => {
      const config = loadConfig({}, { configFile: `${envDir}${file}` });
      assert.equal(config.configFile, `${envDir}${file}`);
    });
  }
});
