import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Secret } from '../../shared/core/redact.js';
import { cleanObject } from '../../shared/gti/clean.js';
import { createGtiClient } from '../../shared/gti/client.js';
import type { Checkpoint } from '../../shared/pipeline/checkpoint.js';
import type { Chunk } from '../../shared/pipeline/chunker.js';
import { type InvalidItemReport, type RunOptions, runFetch } from '../../shared/pipeline/fetch_run.js';
import { generatedDataset } from '../../sim/dataset.js';
import { startGtiSimulator } from '../../sim/gti_simulator.js';
import { startLoopbackServer } from '../helpers/loopback.js';

const KEY = new Secret('pipeline-test-key-5d1e');

const gtiClient = (baseUrl: string, maxAttempts: number) =>
  createGtiClient({
    baseUrl,
    apiKey: async () => KEY,
    timeoutMs: 5000,
    retry: { maxAttempts, maxTotalMs: 5000, baseDelayMs: 10, maxDelayMs: 10 },
  });

async function run(
  order: 'date+' | 'date-',
  stopAfterPages: number | undefined,
  checkpoint?: Checkpoint,
  hooks: {
    save?: (mark: Checkpoint) => Promise<void>;
    delivered?: (chunk: Chunk) => void;
    /** More run options (progress, first-page hook). */
    options?: Partial<RunOptions>;
  } = {},
) {
  const dataset = generatedDataset({ count: 200, seed: 9, oversizedEvery: 0 });
  const sim = await startGtiSimulator({ dataset, apiKey: KEY.reveal() });
  const saved: Checkpoint[] = [];
  const delivered: Chunk[] = [];
  let pages = 0;
  try {
    const result = await runFetch({
      gti: gtiClient(sim.baseUrl, 2),
      filters: '',
      order,
      limit: 40,
      checkpoint,
      initialStartSeconds: dataset.dateOf(0) - 1,
      entryOptions: {
        fetchTime: new Date(),
        namespace: undefined,
        useCaseName: 't',
        chunkMaxBytes: 200_000,
        forwarder: undefined,
      },
      concurrency: 3,
      deliver: async (chunk) => {
        await new Promise((r) => setTimeout(r, (chunk.seq % 3) * 5));
        delivered.push(chunk);
        hooks.delivered?.(chunk);
      },
      saveCheckpoint: async (mark) => {
        await hooks.save?.(mark);
        saved.push(mark);
      },
      shouldStop: () => {
        pages += 1;
        return stopAfterPages !== undefined && pages >= stopAfterPages;
      },
      ...hooks.options,
    });
    return { result, saved, delivered, dataset };
  } finally {
    await sim.close();
  }
}

describe('fetch run', () => {
  it('runs whileFirstPageLoads once per run, before the first page is read', async () => {
    const calls: number[] = [];
    let pagesRead = 0;
    const { result } = await run('date+', undefined, undefined, {
      options: {
        onProgress: (stats) => {
          pagesRead = stats.pages;
        },
        whileFirstPageLoads: () => calls.push(pagesRead),
      },
    });
    assert.ok(result.stats.pages > 1, 'several pages');
    // One call for the whole run, before any page had been read.
    assert.deepEqual(calls, [0]);
  });

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

  it('a checkpoint that cannot be saved fails the run: it stops delivering instead of sending what the next run would send again', async () => {
    const full = await run('date+', undefined);
    let delivered = 0;
    let attempts = 0;
    const failure = new Error('checkpoint store unavailable');
    const outcome = await run('date+', undefined, undefined, {
      save: async () => {
        attempts += 1;
        throw failure;
      },
      delivered: () => {
        delivered += 1;
      },
    }).catch((error: unknown) => error);
    assert.equal(outcome, failure);
    assert.equal(attempts, 1, 'no save after the failed one');
    // At most the chunks already in flight (concurrency 3) finish after the first one.
    assert.ok(full.delivered.length > 10, `${full.delivered.length} chunks in a full run`);
    assert.ok(delivered <= 4, `${delivered} chunks delivered after the save failed`);
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

/** A loopback GTI that answers every request with one fixed page: GTI's wire format, byte for byte as given. */
async function fixedPageGti(body: string): Promise<{ baseUrl: string; close: () => Promise<void> }> {
  const server = await startLoopbackServer((req, res) => {
    if (req.headers['x-apikey'] !== KEY.reveal()) {
      res.writeHead(401, { 'content-type': 'application/json' });
      res.end('{"error":{"code":"WrongCredentialsError","message":"Wrong API key"}}');
      return;
    }
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(body);
  });
  return { baseUrl: `${server.origin}/api/v3`, close: server.close };
}

async function runOnPage(items: readonly string[], extra: Partial<RunOptions> = {}) {
  const gti = await fixedPageGti(
    `{\n  "data": [\n${items.join(',\n')}\n  ],\n  "meta": {"count": ${items.length}},\n  "links": {"self": "x"}\n}`,
  );
  const delivered: Chunk[] = [];
  const saved: Checkpoint[] = [];
  try {
    const result = await runFetch({
      gti: gtiClient(gti.baseUrl, 1),
      filters: '',
      order: 'date+',
      limit: 40,
      checkpoint: undefined,
      initialStartSeconds: 1,
      entryOptions: {
        fetchTime: new Date(),
        namespace: undefined,
        useCaseName: 't',
        chunkMaxBytes: 1200,
        forwarder: undefined,
      },
      concurrency: 1,
      deliver: async (chunk) => {
        delivered.push(chunk);
      },
      saveCheckpoint: async (mark) => {
        saved.push(mark);
      },
      ...extra,
    });
    return { result, delivered, saved };
  } catch (error) {
    return { error, delivered, saved };
  } finally {
    await gti.close();
  }
}

const item = (n: number, attributes: string, pretty = false) => {
  const text = `{"type":"file","id":"f${n}","attributes":${attributes},"context_attributes":{"notification_id":"n${n}","notification_date":${1767225600 + n},"origin":"hunting"}}`;
  return pretty ? JSON.stringify(JSON.parse(text), null, 4) : text;
};
/** What each delivered entry must carry: the definition of cleaning, applied to the item as sent. */
const expected = (text: string) => JSON.stringify(cleanObject(JSON.parse(text) as Record<string, unknown>));
const decodedEntries = (chunks: readonly Chunk[]) =>
  chunks.flatMap((c) =>
    (JSON.parse(c.body) as { inlineSource: { logs: { data: string }[] } }).inlineSource.logs.map((e) =>
      Buffer.from(e.data, 'base64').toString('utf8'),
    ),
  );

describe('fetch run from GTI bytes', () => {
  const items = [
    item(1, '{"size":10,"md5":"a","names":[],"tags":["x",null]}'),
    item(2, '{"b":1.0,"a":1e2,"s":"caf\\u00e9 \\/ \\"q\\"","e":{}}', true),
    // A repeated key: left to the object path, where JSON.parse keeps the last value.
    item(3, '{"size":1,"size":2,"sha256":"c"}'),
    item(4, '{"z":[{"y":null}],"x":"\\ud83d\\ude00 日本"}', true),
  ];

  it('delivers every item as the definition cleans it, pretty-printed, escaped or left to the object path', async () => {
    const { error, delivered, saved } = await runOnPage(items);
    assert.equal(error, undefined);
    assert.deepEqual(decodedEntries(delivered), items.map(expected));
    assert.deepEqual(
      delivered.flatMap((c) => c.ids),
      ['n1', 'n2', 'n3', 'n4'],
    );
    assert.match(decodedEntries(delivered)[2] ?? '', /"size":2/);
    assert.equal(saved.at(-1)?.date, 1767225604);
  });

  it('a first run that finds nothing saves where it started, so the next one does not start later', async () => {
    const { error, delivered, saved, result } = await runOnPage([]);
    assert.equal(error, undefined);
    assert.deepEqual(delivered, []);
    assert.equal(saved.length, 1);
    assert.deepEqual({ ...saved[0], readToEndAt: 0 }, { date: 1, ids: [], readToEndAt: 0 });
    assert.ok(
      Math.abs((saved[0]?.readToEndAt ?? 0) - Date.now() / 1000) < 60,
      'records when it read to the end',
    );
    assert.deepEqual(result?.checkpoint, saved[0]);
  });

  it('imports an item without a usable id or date, or not JSON, labelled and reported with its position, and goes on', async () => {
    const noId = '{"type":"file","id":"f9","context_attributes":{"notification_date":1767225609}}';
    const notJson =
      '{"type":"file","id":"f9","attributes":{"n":tru},"context_attributes":{"notification_id":"n9","notification_date":1767225610}}';
    const reports: InvalidItemReport[] = [];
    const { error, delivered, saved, result } = await runOnPage(
      [...items.slice(0, 2), noId, notJson, ...items.slice(2)],
      { onInvalidItem: (r) => reports.push(r) },
    );
    assert.equal(error, undefined);
    const ids = delivered.flatMap((c) => c.ids);
    assert.equal(ids.length, 6);
    assert.deepEqual([ids[0], ids[1], ids[4], ids[5]], ['n1', 'n2', 'n3', 'n4']);
    assert.match(ids[2] ?? '', /^derived-/);
    assert.match(ids[3] ?? '', /^derived-/);
    assert.deepEqual(
      reports.map((r) => [r.page, r.index, r.invalid]),
      [
        [1, 2, ['context_attributes.notification_id']],
        [1, 3, ['item']],
      ],
    );
    assert.equal(result?.stats.invalid, 2);
    // The item without a date never moves the mark; the one with a date does.
    assert.equal(saved.at(-1)?.date, 1767225609);
    const unparsed = decodedEntries(delivered)[3] ?? '';
    assert.equal((JSON.parse(unparsed) as Record<string, string>).ioc_stream_unparsed, notJson);
  });
});

describe('collection time', () => {
  it("is each GTI page's receive time, and stays after logEntryTime for notifications dated ahead of the clock", async () => {
    // Our clock reads T0 + 7 ms first (the run's start) and 20 s more at each reading after (one per page; never a whole second,
    // so a page time is never mistaken for an entry's date + 1 s); GTI serves
    // notifications dated from 20 s before T0 to about 100 s after it (its clock ahead of ours).
    const t0 = Date.parse('2026-03-01T12:00:00Z');
    const dataset = generatedDataset({
      count: 120,
      seed: 21,
      oversizedEvery: 0,
      startSeconds: t0 / 1000 - 20,
      secondsPerNotification: 1,
    });
    const sim = await startGtiSimulator({ dataset, apiKey: KEY.reveal() });
    const pageTimes: number[] = [];
    const delivered: Chunk[] = [];
    try {
      await runFetch({
        gti: gtiClient(sim.baseUrl, 2),
        filters: '',
        order: 'date+',
        limit: 40,
        checkpoint: undefined,
        initialStartSeconds: dataset.dateOf(0) - 1,
        entryOptions: {
          fetchTime: new Date(t0),
          namespace: undefined,
          useCaseName: 't',
          chunkMaxBytes: 100_000,
          forwarder: undefined,
        },
        concurrency: 2,
        deliver: async (chunk) => {
          delivered.push(chunk);
        },
        saveCheckpoint: async () => undefined,
        now: () => {
          pageTimes.push(t0 + pageTimes.length * 20_000 + 7);
          return pageTimes.at(-1) ?? t0;
        },
      });
    } finally {
      await sim.close();
    }
    const entries = [...delivered]
      .sort((a, b) => a.seq - b.seq)
      .flatMap(
        (c) =>
          (
            JSON.parse(c.body) as {
              inlineSource: { logs: { logEntryTime: string; collectionTime: string }[] };
            }
          ).inlineSource.logs,
      );
    assert.equal(entries.length, 120);
    assert.ok(pageTimes.length >= 3, `${pageTimes.length} pages`);
    // The run also reads the clock for other things (its start, the end of the stream): each page's
    // time is whichever value of the clock its entries carry, the same for the whole page.
    const clockValues = new Set(pageTimes);
    const pageTimeOf: number[] = [];
    let movedAfterEntry = 0;
    entries.forEach((e, i) => {
      const entryMs = Date.parse(e.logEntryTime);
      const collectedMs = Date.parse(e.collectionTime);
      const page = Math.floor(i / 40);
      assert.equal(entryMs, dataset.dateOf(i) * 1000);
      assert.ok(collectedMs > entryMs, `entry ${i}: ${e.collectionTime} not after ${e.logEntryTime}`);
      if (collectedMs === entryMs + 1000 && !clockValues.has(collectedMs)) {
        movedAfterEntry += 1;
        return;
      }
      assert.ok(clockValues.has(collectedMs), `entry ${i}: ${e.collectionTime} is no reading of the clock`);
      pageTimeOf[page] ??= collectedMs;
      assert.equal(collectedMs, pageTimeOf[page], `entry ${i}: one collection time per page`);
      assert.ok(collectedMs >= entryMs + 1000, `entry ${i}`);
    });
    const fromPage = new Set(pageTimeOf.filter((x) => x !== undefined));
    assert.ok(fromPage.size >= 2, 'entries of different pages carry their own page time');
    assert.ok(movedAfterEntry > 0, 'notifications dated ahead of the page time were moved after their date');
  });
});
