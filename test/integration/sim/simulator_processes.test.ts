import assert from 'node:assert/strict';
import { type ChildProcessWithoutNullStreams, spawn } from 'node:child_process';
import { once } from 'node:events';
import { createInterface } from 'node:readline';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';

const SIM_DIR = fileURLToPath(new URL('../../../sim/', import.meta.url));

async function startProcess(
  script: string,
  args: string[],
): Promise<{
  child: ChildProcessWithoutNullStreams;
  lines: AsyncIterator<string>;
  ready: Record<string, unknown>;
}> {
  const child = spawn(process.execPath, [`${SIM_DIR}${script}`, ...args], {
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  const lines = createInterface({ input: child.stdout })[Symbol.asyncIterator]();
  const first = await lines.next();
  assert.equal(first.done, false, 'process printed nothing');
  return { child, lines, ready: JSON.parse(String(first.value)) as Record<string, unknown> };
}

async function stopProcess(
  child: ChildProcessWithoutNullStreams,
  lines: AsyncIterator<string>,
): Promise<Record<string, number>> {
  const exit = once(child, 'exit');
  child.kill('SIGTERM');
  const summary = await lines.next();
  const [code] = (await exit) as [number | null];
  assert.equal(code, 0);
  return JSON.parse(String(summary.value)) as Record<string, number>;
}

describe('simulator processes', () => {
  it('gti_simulator_main serves a generated dataset and prints a summary on SIGTERM', async () => {
    const { child, lines, ready } = await startProcess('gti_simulator_main.js', [
      '--count',
      '120',
      '--seed',
      '3',
      '--api-key',
      'k',
    ]);
    const baseUrl = String(ready.baseUrl);
    assert.match(baseUrl, /^http:\/\/127\.0\.0\.1:\d+\/api\/v3$/);
    assert.equal(ready.size, 120);
    const res = await fetch(`${baseUrl}/ioc_stream?limit=40&order=date%2B`, { headers: { 'x-apikey': 'k' } });
    assert.equal(res.status, 200);
    assert.equal(((await res.json()) as { data: unknown[] }).data.length, 40);
    const summary = await stopProcess(child, lines);
    assert.deepEqual(summary, { requests: 1, errors: 0, uniqueIds: 40, duplicates: 0 });
  });

  it('gti_simulator_main serves the demo dataset', async () => {
    const { child, lines, ready } = await startProcess('gti_simulator_main.js', ['--demo']);
    assert.ok(Number(ready.size) >= 40);
    await stopProcess(child, lines);
  });

  it('chronicle_simulator_main counts imports, exposes /_stats and prints a summary on SIGTERM', async () => {
    const { child, lines, ready } = await startProcess('chronicle_simulator_main.js', [
      '--count-only',
      '--no-auth',
    ]);
    const baseUrl = String(ready.baseUrl);
    const data = Buffer.from(JSON.stringify({ context_attributes: { notification_id: 'p1' } })).toString(
      'base64',
    );
    const res = await fetch(
      `${baseUrl}/v1alpha/projects/p/locations/us/instances/c/logTypes/LT/logs:import`,
      {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({
          inlineSource: {
            logs: [{ data, logEntryTime: '2026-01-01T00:00:00Z', collectionTime: '2026-01-01T00:00:01Z' }],
          },
        }),
      },
    );
    assert.equal(res.status, 200);
    const stats = (await (await fetch(`${baseUrl}/_stats`)).json()) as Record<string, number>;
    assert.equal(stats.entries, 1);
    assert.equal(stats.uniqueIds, 1);
    const summary = await stopProcess(child, lines);
    assert.equal(summary.entries, 1);
    assert.equal(summary.requests, 1);
  });

  it('chronicle_simulator_main --unchecked-entity-fields checks required entity metadata, not every field', async () => {
    // An entity with its required metadata and a field the Entity proto does not have.
    const entity = {
      metadata: {
        productEntityId: 'e1',
        entityType: 'URL',
        interval: { startTime: '2026-01-01T00:00:00Z', endTime: '2026-01-31T00:00:00Z' },
      },
      entity: { link: 'x' },
    };
    const post = (baseUrl: string, entities: unknown[]) =>
      fetch(`${baseUrl}/v1alpha/projects/p/locations/us/instances/c/entities:import`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ inlineSource: { entities, logType: 'GTI_IOC_STREAM' } }),
      });
    for (const unchecked of [false, true]) {
      const { child, lines, ready } = await startProcess('chronicle_simulator_main.js', [
        '--count-only',
        '--no-auth',
        ...(unchecked ? ['--unchecked-entity-fields'] : []),
      ]);
      const baseUrl = String(ready.baseUrl);
      assert.equal((await post(baseUrl, [entity])).status, unchecked ? 200 : 400);
      const noType = { ...entity, metadata: { ...entity.metadata, entityType: undefined } };
      assert.equal((await post(baseUrl, [noType])).status, 400, 'required metadata is still checked');
      const summary = await stopProcess(child, lines);
      assert.equal(summary.entities, unchecked ? 1 : 0);
    }
  });
});
