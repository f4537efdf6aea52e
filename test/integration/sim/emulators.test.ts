import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  emulatorSkipReason,
  freePort,
  type RunningEmulator,
  startFirestoreEmulator,
  startPubsubEmulator,
} from '../../helpers/emulators.js';

const skip = emulatorSkipReason();
if (skip) console.warn(skip);

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

async function refused(host: string): Promise<boolean> {
  try {
    await fetch(`http://${host}/`, { signal: AbortSignal.timeout(2000) });
    return false;
  } catch {
    return true;
  }
}

describe('emulator helpers', { skip }, () => {
  it('freePort returns a bindable port', async () => {
    const port = await freePort();
    assert.ok(port > 0 && port < 65536);
  });

  it('start both emulators in parallel, answer, and stop with the Java process gone', {
    timeout: 120_000,
  }, async () => {
    const started = performance.now();
    const [pubsub, firestore] = await Promise.all([startPubsubEmulator(), startFirestoreEmulator()]);
    const emulators: RunningEmulator[] = [pubsub, firestore];
    try {
      const seconds = (performance.now() - started) / 1000;
      assert.ok(seconds < 30, `took ${seconds}s`);
      assert.notEqual(pubsub.port, firestore.port);
      assert.equal((await (await fetch(`http://${pubsub.host}/`)).text()).trim(), 'Ok');
      // A real API call on each.
      const topic = await fetch(`http://${pubsub.host}/v1/projects/demo/topics/topic-one`, {
        method: 'PUT',
        headers: { 'content-type': 'application/json' },
        body: '{}',
      });
      assert.equal(topic.status, 200, await topic.text());
      const doc = await fetch(
        `http://${firestore.host}/v1/projects/demo/databases/(default)/documents/things?documentId=a`,
        {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ fields: { n: { integerValue: '1' } } }),
        },
      );
      assert.equal(doc.status, 200, await doc.text());
      for (const e of emulators) assert.ok(alive(e.pid));
    } finally {
      await Promise.all(emulators.map((e) => e.stop()));
    }
    for (const e of emulators) {
      assert.equal(alive(e.pid), false, `pid ${e.pid} still alive`);
      assert.throws(() => process.kill(-e.pid, 0));
      assert.ok(await refused(e.host), `${e.host} still answers`);
    }
    // stop() is idempotent.
    await pubsub.stop();
  });
});
