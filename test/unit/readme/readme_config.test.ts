import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { renderReadme } from '../../../scripts/readme-config.js';

describe('README configuration table', () => {
  it('matches CONFIG_VARIABLES (run `node dist/scripts/readme-config.js --write` to refresh)', () => {
    const readme = readFileSync(fileURLToPath(new URL('../../../../README.md', import.meta.url)), 'utf8');
    assert.equal(readme, renderReadme(readme));
  });
});
