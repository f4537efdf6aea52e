import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Checkpoint } from '../../shared/checkpoint.js';
import type { Chunk } from '../../shared/chunker.js';
import { createGtiClient } from '../../shared/gti_client.js';
import { createEntryBuilder, requestEnvelope } from '../../shared/log_entries.js';
import { runFetch } from '../../shared/pipeline.js';
import { Secret } from '../../shared/redact.js';
import { generatedDataset } from '../../sim/dataset.js';
import { startGtiSimulator } from '../../sim/gti_simulator.js';

const KEY = new Secret('pipeline-test-key-5d1e');

async function run(order: 'date+' | 'date-', stopAfterPages: number | undefined, checkpoint?: Checkpoint) {
  const dataset = generatedDataset({ count: 200, seed: 9, oversizedEvery: 0 });
  const sim = await startGtiSimulator({ dataset, apiKey: KEY.reveal() });
  const saved: Checkpoint[] = [];
  const delivered: Chunk[] = [];
  let pages = 0;
  try {
    const result = await runFetch({
      gti: createGtiClient({
        baseUrl: sim.baseUrl,
        apiKey: async () => KEY,
        timeoutMs: 5000,
        retry: { maxAttempts: 2, maxTotalMs: 5000, baseDelayMs: 10, maxDelayMs: 10 },
      }),
      filters: '',
      order,
      limit: 40,
      checkpoint,
      initialStartSeconds: dataset.dateOf(0) - 1,
      entries: createEntryBuilder({
        fetchTime: new Date(),
        namespace: undefined,
        useCaseName: 't',
        chunkMaxBytes: 200_000,
        forwarder: undefined,
      }),
      envelope: requestEnvelope(undefined),
      chunkMaxBytes: 200_000,
      concurrency: 3,
      deliver: async (chunk) => {
        await new Promise((r) => setTimeout(r, (chunk.seq % 3) * 5));
        delivered.push(chunk);
      },
      saveCheckpoint: async (mark) => {
        saved.push(mark);
      },
      shouldStop: () => {
        pages += 1;
        return stopAfterPages !== undefined && pages >= stopAfterPages;
      },
    });
    return { result, saved, delivered, dataset };
  } finally {
    await sim.close();
  }
}

describe('fetch run', () => {
  it('oldest first: delivers everything and saves the newest mark with the ids at that second', async () => {
    const { result, saved, delivered, dataset } = await run('date+', undefined);
    assert.equal(delivered.flatMap((c) => c.ids).length, 200);
    const last = saved.at(-1);
    assert.ok(last);
    assert.equal(last.date, dataset.dateOf(199));
    assert.ok(last.ids.includes(dataset.get(199).context_attributes.notification_id));
    assert.deepEqual(result.checkpoint, last);
  });

  it('oldest first: a run stopped at a page boundary saves a mark and the next run continues without a gap', async () => {
    const first = await run('date+', 2);
    assert.ok(first.result.stoppedEarly);
    const mark = first.saved.at(-1);
    assert.ok(mark);
    const second = await run('date+', undefined, mark);
    const ids = new Set([...first.delivered, ...second.delivered].flatMap((c) => c.ids));
    assert.equal(ids.size, 200);
  });

  it('newest first: a run stopped early never moves the mark (older pages are still unfetched)', async () => {
    const start = { date: 1, ids: [] };
    const stopped = await run('date-', 2, start);
    assert.ok(stopped.result.stoppedEarly);
    assert.deepEqual(stopped.saved, []);
    assert.deepEqual(stopped.result.checkpoint, start);
    const complete = await run('date-', undefined, start);
    assert.equal(complete.saved.length, 1);
    assert.equal(complete.saved[0]?.date, complete.dataset.dateOf(199));
  });
});
