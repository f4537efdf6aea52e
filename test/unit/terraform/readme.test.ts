/**
 * terraform/README.md's inputs and outputs tables are generated from variables.tf and outputs.tf by
 * scripts/terraform-docs.mjs; this fails when they drift (fix: node scripts/terraform-docs.mjs).
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { MODULE_DIR, ROOT } from './tf.js';

describe('terraform/README.md', () => {
  it('inputs and outputs tables are in sync with variables.tf and outputs.tf', () => {
    const r = spawnSync(process.execPath, [join(ROOT, 'scripts', 'terraform-docs.mjs'), '--check'], {
      encoding: 'utf8',
    });
    assert.equal(r.status, 0, r.stderr);
  });

  it('documents the manual secret step and the log-metric contract', () => {
    const readme = readFileSync(join(MODULE_DIR, 'README.md'), 'utf8');
    assert.match(readme, /printf %s "\$GTI_API_KEY" \| gcloud secrets versions add .* --data-file=-/);
    for (const word of [
      'fetch run finished',
      'chunk processed',
      'fetch_run',
      'chunk_processed',
      'dead_lettered',
    ]) {
      assert.ok(readme.includes(word), word);
    }
  });
});
