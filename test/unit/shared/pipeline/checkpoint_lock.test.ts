import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { CheckpointError } from '../../../../shared/core/errors.js';
import { lockCheckpoint, lockPathOf } from '../../../../shared/pipeline/checkpoint_lock.js';

const checkpoint = () => join(mkdtempSync(join(tmpdir(), 'lock-')), 'state', 'cp.json');

describe('checkpoint lock', () => {
  it('lets one run hold a checkpoint; a second is refused naming the holder, then gets it once released', async () => {
    const cp = checkpoint();
    const first = await lockCheckpoint(cp, { pid: 1111, host: 'box-a', isAlive: () => true });
    assert.deepEqual(Object.keys(JSON.parse(readFileSync(lockPathOf(cp), 'utf8'))), [
      'pid',
      'host',
      'startedAt',
    ]);
    await assert.rejects(
      lockCheckpoint(cp, { pid: 2222, host: 'box-a', isAlive: () => true }),
      (e: unknown) => e instanceof CheckpointError && /pid 1111 on box-a \(started /.test(e.message),
    );
    await first.release();
    assert.ok(!existsSync(lockPathOf(cp)));
    const second = await lockCheckpoint(cp, { pid: 2222, host: 'box-a' });
    await second.release();
  });

  it('takes over a lock whose process is gone on this host; respects one from another host', async () => {
    const cp = checkpoint();
    await lockCheckpoint(cp, { pid: 1111, host: 'box-a' });
    const taken = await lockCheckpoint(cp, { pid: 2222, host: 'box-a', isAlive: (pid) => pid !== 1111 });
    assert.equal(JSON.parse(readFileSync(lockPathOf(cp), 'utf8')).pid, 2222);
    await assert.rejects(
      lockCheckpoint(cp, { pid: 3333, host: 'box-b', isAlive: () => false }),
      /pid 2222 on box-a/,
    );
    await taken.release();
  });

  it('never removes a lock that is no longer its own', async () => {
    const cp = checkpoint();
    const mine = await lockCheckpoint(cp, { pid: 1111, host: 'box-a' });
    writeFileSync(lockPathOf(cp), JSON.stringify({ pid: 4444, host: 'box-a', startedAt: 'x' }));
    await mine.release();
    assert.ok(existsSync(lockPathOf(cp)));
  });
});
