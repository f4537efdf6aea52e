import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { type CpuProfile, codeShare } from '../../../bench/cpu_profile.js';

const OURS = 'file:///repo/dist/shared/';
const frame = (functionName: string, url: string) => ({ functionName, url, lineNumber: 9 });

// (root) ─┬─ run [ours] ── got.request [library] ── (native) base64
//         ├─ http.onData [node]
//         ├─ (garbage collector)
//         └─ (idle)
const profile: CpuProfile = {
  nodes: [
    { id: 1, callFrame: frame('(root)', ''), children: [2, 5, 6, 7] },
    { id: 2, callFrame: frame('run', `${OURS}pipeline/fetch_run.js`), children: [3] },
    { id: 3, callFrame: frame('request', 'file:///repo/node_modules/got/index.js'), children: [4] },
    { id: 4, callFrame: frame('toString', '') },
    { id: 5, callFrame: frame('onData', 'node:_http_client') },
    { id: 6, callFrame: frame('(garbage collector)', '') },
    { id: 7, callFrame: frame('(idle)', '') },
  ],
  startTime: 1_000_000,
  // Samples at +1000, +3000, +4000, +8000, +9000, +10000 µs; the profile ends at +12000.
  samples: [2, 3, 4, 5, 6, 7],
  timeDeltas: [1000, 2000, 1000, 4000, 1000, 1000],
  endTime: 1_012_000,
};

describe('codeShare (CPU profile)', () => {
  it('counts a sample as ours when any frame on its stack is ours, and self only for the innermost', () => {
    const share = codeShare(profile, (url) => url.startsWith(OURS));
    // Each sample lasts until the next one: run 2 ms, got 1 ms, native under got 4 ms.
    assert.equal(share.inclusiveMs, 7);
    assert.equal(share.selfMs, 2);
    assert.equal(share.gcMs, 1);
    // The last sample lasts until the profile's end.
    assert.equal(share.idleMs, 2);
    assert.equal(share.profiledMs, 12);
    assert.equal(share.samples, 6);
    assert.deepEqual(share.topSelf, [{ frame: 'run shared/pipeline/fetch_run.js:10', ms: 2 }]);
  });

  it('finds nothing of ours in a profile without our files', () => {
    const share = codeShare(profile, () => false);
    assert.equal(share.inclusiveMs, 0);
    assert.equal(share.selfMs, 0);
    assert.deepEqual(share.topSelf, []);
  });
});
