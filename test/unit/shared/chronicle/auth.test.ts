import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';

/** dist/ of this build (this file is dist/test/unit/shared/chronicle/auth.test.js). */
const DIST = fileURLToPath(new URL('../../../../', import.meta.url));

/** Imports `modules` in a fresh process; says whether google-auth-library (CommonJS) got loaded. */
function loadsAuthLibrary(modules: readonly string[], thenCreateProvider: boolean): boolean {
  const script = `
    import { createRequire } from 'node:module';
    for (const m of ${JSON.stringify(modules)}) await import(new URL(m, ${JSON.stringify(`file://${DIST}`)}).href);
    if (${thenCreateProvider}) {
      const { createAccessTokenProvider } = await import(new URL('shared/chronicle/auth.js', ${JSON.stringify(`file://${DIST}`)}).href);
      createAccessTokenProvider('secops-project');
    }
    const loaded = Object.keys(createRequire(import.meta.url).cache).some((k) => k.includes('/google-auth-library/'));
    process.stdout.write(String(loaded));
  `;
  const out = execFileSync(process.execPath, ['--input-type=module', '-e', script], {
    cwd: DIST,
    encoding: 'utf8',
    env: { ...process.env, NODE_NO_WARNINGS: '1' },
  });
  return out.trim() === 'true';
}

describe('Google credentials (auth.ts)', () => {
  it('loads google-auth-library only when a token is first asked for, not at module load', () => {
    // The functions' module (cold start) and the sync command (time to its first GTI request).
    assert.equal(loadsAuthLibrary(['functions/index.js'], false), false);
    assert.equal(loadsAuthLibrary(['cli/sync_command.js'], true), false);
  });
});
