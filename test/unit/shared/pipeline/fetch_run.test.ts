/**
 * runFetch with entity context: one entity per indicator notification beside unchanged log
 * entries, each kind in its own chunks, and a checkpoint that passes a notification only when its
 * log entry and its entity were both delivered. GTI pages are real response bodies read by the real
 * page reader (shared/gti/page.ts); only the network is left out.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { JsonCleaner } from '../../../../shared/gti/clean_json.js';
import type { GtiClient, IocStreamPage, IocStreamQuery } from '../../../../shared/gti/client.js';
import { entityViewFromNotification } from '../../../../shared/gti/entity_view.js';
import type { Notification } from '../../../../shared/gti/notification.js';
import { splitPage } from '../../../../shared/gti/page.js';
import type { PageItem } from '../../../../shared/gti/page_item.js';
import type { Checkpoint } from '../../../../shared/pipeline/checkpoint.js';
import type { Chunk } from '../../../../shared/pipeline/chunker.js';
import { createEntityBuilder } from '../../../../shared/pipeline/entities.js';
import {
  ENTITY_CHUNK_MAX_LAG,
  prepareNotification,
  type RunOptions,
  runFetch,
} from '../../../../shared/pipeline/fetch_run.js';
import { createEntryBuilder, type EntryOptions } from '../../../../shared/pipeline/log_entries.js';
import { fileNotification } from '../../../helpers/notifications.js';
import { waitFor } from '../../../helpers/wait.js';

const FETCH_TIME = new Date('2026-03-01T00:00:00Z');
const READ_TO_END = Math.floor(FETCH_TIME.getTime() / 1000);
const LOG_TYPE = 'GTI_IOC_STREAM';

/** A GTI client serving `pages` as response bodies, read by the real page reader. */
function fakeGti(pages: readonly Notification[][]): GtiClient & { queries: IocStreamQuery[] } {
  const cleaner = new JsonCleaner();
  const queries: IocStreamQuery[] = [];
  const page = (i: number, query: IocStreamQuery): IocStreamPage => {
    const body = Buffer.from(JSON.stringify({ data: pages[i] ?? [] }));
    return {
      items: splitPage(body, cleaner, { entityViews: query.entityViews === true }).items ?? [],
      nextCursor: i < pages.length - 1 ? `c${i + 1}` : undefined,
      count: undefined,
      bytes: body.length,
      elapsedMs: 0,
    };
  };
  return {
    queries,
    async *pages(query) {
      queries.push(query);
      for (let i = 0; i < pages.length; i++) yield page(i, query);
    },
    fetchPage: async (query) => page(0, query),
  };
}

function notification(type: string, n: number, attributes?: Record<string, unknown>): Notification {
  const base = fileNotification(`n${n}`, 1_772_000_000 + n);
  return {
    ...base,
    type,
    id: type === 'file' ? base.id : `${type}-${n}`,
    ...(attributes === undefined ? {} : { attributes: attributes as Notification['attributes'] }),
  };
}

/** A backlog of mixed notifications: every item type, a URL without its URL, an unknown type. */
function mixedBacklog(): Notification[] {
  return [
    notification('file', 1),
    notification('url', 2, { url: 'http://evil.example/a' }),
    notification('url', 3, {}), // descriptor only: no attributes.url, so no entity
    notification('domain', 4, { registrar: 'x' }),
    notification('ip_address', 5, { country: 'DE' }),
    notification('collection', 6, {}), // not an item type with an entity
    notification('file', 7),
  ];
}

function entryOptions(withEntities: boolean, chunkMaxBytes = 200_000): EntryOptions {
  return {
    fetchTime: FETCH_TIME,
    namespace: undefined,
    useCaseName: 't',
    chunkMaxBytes,
    forwarder: undefined,
    entityContext: withEntities ? { validityDays: 30, logType: LOG_TYPE } : undefined,
  };
}

async function run(
  pages: readonly Notification[][],
  options: Partial<RunOptions> & { withEntities?: boolean; chunkMaxBytes?: number } = {},
) {
  const gti = fakeGti(pages);
  const delivered: Chunk[] = [];
  const saved: Checkpoint[] = [];
  const skipped: string[] = [];
  const result = await runFetch({
    gti,
    filters: '',
    order: 'date+',
    limit: 40,
    checkpoint: undefined,
    initialStartSeconds: 1_771_999_000,
    entryOptions: entryOptions(options.withEntities ?? true, options.chunkMaxBytes),
    concurrency: 4,
    deliver: async (chunk) => {
      delivered.push(chunk);
    },
    saveCheckpoint: async (mark) => {
      saved.push(mark);
    },
    now: () => FETCH_TIME.getTime(),
    onEntitySkipped: (skip) => skipped.push(`${skip.id}:${skip.reason}`),
    ...options,
  });
  return { result, delivered, saved, skipped, gti };
}

const bodyOf = (chunk: Chunk) =>
  JSON.parse(chunk.payload.toString('utf8')) as {
    inlineSource: {
      logs?: unknown[];
      entities?: { metadata: { productEntityId: string } }[];
      logType?: string;
    };
  };

describe('runFetch with entity context', () => {
  it('delivers one entity per indicator notification in entity chunks, beside unchanged log chunks', async () => {
    const backlog = mixedBacklog();
    const withEntities = await run([backlog.slice(0, 4), backlog.slice(4)]);
    const without = await run([backlog.slice(0, 4), backlog.slice(4)], { withEntities: false });

    const logs = withEntities.delivered.filter((c) => c.kind === 'logs');
    const entities = withEntities.delivered.filter((c) => c.kind === 'entities');
    assert.deepEqual(
      logs.map((c) => c.payload.toString('utf8')),
      without.delivered.map((c) => c.payload.toString('utf8')),
      'the log chunks are byte for byte those of a run without entities',
    );
    assert.ok(without.delivered.every((c) => c.kind === 'logs'));
    assert.equal(entities.length, 1);
    const body = bodyOf(entities[0] as Chunk);
    assert.equal(body.inlineSource.logType, LOG_TYPE);
    assert.deepEqual(
      body.inlineSource.entities?.map((e) => e.metadata.productEntityId),
      ['n1', 'n2', 'n4', 'n5', 'n7'],
    );
    // Each entity is exactly what the builder makes of the notification object.
    const builder = createEntityBuilder({ validityDays: 30, logType: LOG_TYPE, fetchTime: FETCH_TIME });
    const expected = backlog
      .map((n) => builder.buildFromNotification(n))
      .flatMap((r) => (r.kind === 'entity' ? [JSON.parse(r.entity.json.toString('utf8'))] : []));
    assert.deepEqual(body.inlineSource.entities, expected);

    const stats = withEntities.result.stats;
    assert.equal(stats.notifications, 7);
    assert.equal(stats.entities, 5);
    assert.equal(stats.entitiesSkipped, 2);
    assert.equal(stats.entityChunks, 1);
    assert.equal(stats.entityChunksDelivered, 1);
    assert.equal(stats.entityBytes, entities[0]?.bytes);
    assert.equal(stats.chunks, logs.length);
    assert.deepEqual(withEntities.skipped, ['n3:no_indicator', 'n6:unsupported_type']);
    assert.equal(without.result.stats.entities, 0);
    // The page reader took the views from the cleaner only when entities were wanted.
    assert.equal(withEntities.gti.queries[0]?.entityViews, true);
    assert.equal(without.gti.queries[0]?.entityViews, undefined);
    // One sequence over both kinds.
    assert.deepEqual(
      withEntities.delivered.map((c) => c.seq).sort((a, b) => a - b),
      withEntities.delivered.map((_, i) => i + 1),
    );
    assert.deepEqual(withEntities.result.checkpoint, {
      date: 1_772_000_007,
      ids: ['n7'],
      readToEndAt: READ_TO_END,
    });
  });

  it('does not move the checkpoint past a notification whose entity chunk is still on its way', async () => {
    // Large log entries, small entities: many log chunks, few entity chunks.
    const backlog = Array.from({ length: 30 }, (_, i) =>
      notification('file', i + 1, { sha256: `${i}`.padStart(64, '0'), pe_info: { blob: 'x'.repeat(4000) } }),
    );
    const pages = [backlog.slice(0, 10), backlog.slice(10, 20), backlog.slice(20)];
    const reference = await run(pages, { chunkMaxBytes: 12_000, withEntities: false });
    const logChunks = reference.result.stats.chunks;
    assert.ok(logChunks >= 10, `${logChunks} log chunks`);

    let release: () => void = () => undefined;
    const entitiesHeld = new Promise<void>((resolve) => {
      release = resolve;
    });
    let released = false;
    let logChunksDelivered = 0;
    const marksBeforeRelease: Checkpoint[] = [];
    const saved: Checkpoint[] = [];
    const running = run(pages, {
      chunkMaxBytes: 12_000,
      concurrency: 64,
      deliver: async (chunk) => {
        if (chunk.kind === 'entities') await entitiesHeld;
        else logChunksDelivered += 1;
      },
      saveCheckpoint: async (mark) => {
        saved.push(mark);
        if (!released) marksBeforeRelease.push(mark);
      },
    });
    await waitFor(
      'every log chunk delivered',
      () => logChunksDelivered === logChunks,
      5000,
      () => `(${logChunksDelivered} of ${logChunks})`,
      5,
    );
    assert.deepEqual(marksBeforeRelease, [], 'no mark while every entity waits');
    released = true;
    release();
    const { result } = await running;
    assert.ok(result.stats.entityChunks >= 2, `${result.stats.entityChunks} entity chunks`);
    assert.deepEqual(result.checkpoint, { date: 1_772_000_030, ids: ['n30'], readToEndAt: READ_TO_END });
    assert.deepEqual(saved.at(-1), result.checkpoint);
  });

  it('closes an entity chunk once a few log chunks went ahead of it, so the checkpoint keeps up', async () => {
    const backlog = Array.from({ length: 60 }, (_, i) =>
      notification('file', i + 1, { sha256: `${i}`.padStart(64, '0'), pe_info: { blob: 'x'.repeat(4000) } }),
    );
    const { delivered, result } = await run([backlog.slice(0, 30), backlog.slice(30)], {
      chunkMaxBytes: 12_000,
      concurrency: 1,
    });
    const bySeq = [...delivered].sort((a, b) => a.seq - b.seq);
    let logsSinceEntities = 0;
    const seenLogIds = new Set<string>();
    for (const chunk of bySeq) {
      if (chunk.kind === 'logs') {
        logsSinceEntities += 1;
        for (const id of chunk.ids) seenLogIds.add(id);
        continue;
      }
      assert.ok(logsSinceEntities <= ENTITY_CHUNK_MAX_LAG, `${logsSinceEntities} log chunks before it`);
      for (const id of chunk.ids) assert.ok(seenLogIds.has(id), `entity of ${id} before its log entry`);
      logsSinceEntities = 0;
    }
    assert.ok(result.stats.entityChunks > 2, `${result.stats.entityChunks} entity chunks`);
    assert.equal(result.stats.entities, 60);
  });

  it('a failed entity chunk fails the run and the checkpoint never covers its notifications', async () => {
    const backlog = [
      notification('collection', 1, {}), // no entity: only its log entry gates it
      ...Array.from({ length: 20 }, (_, i) => notification('file', i + 2)),
    ];
    const failure = new Error('entities:import answered 403');
    const saved: Checkpoint[] = [];
    const outcome = await run([backlog], {
      chunkMaxBytes: 12_000,
      deliver: async (chunk) => {
        if (chunk.kind === 'entities') throw failure;
      },
      saveCheckpoint: async (mark) => {
        saved.push(mark);
      },
    }).catch((error: unknown) => error);
    assert.equal(outcome, failure);
    const firstWithEntity = 1_772_000_002;
    for (const mark of saved) assert.ok(mark.date < firstWithEntity, `mark ${mark.date} passed n2`);
  });

  it('skips, names and counts an entity too large for one request; its log entry still goes', async () => {
    // 300 sources: the entity repeats the threat details per source and outgrows the request; the
    // log entry (the sources once) still fits.
    const many = notification('file', 1);
    many.context_attributes.sources = Array.from({ length: 300 }, (_, i) => ({
      type: 'collection',
      id: `collection--${i}`,
      label: `c${i}`,
    }));
    const { result, delivered, skipped } = await run([[many, notification('file', 2)]], {
      chunkMaxBytes: 60_000,
    });
    assert.deepEqual(skipped, ['n1:too_large']);
    assert.equal(result.stats.entitiesSkipped, 1);
    assert.deepEqual(
      delivered.filter((c) => c.kind === 'logs').flatMap((c) => c.ids),
      ['n1', 'n2'],
    );
    assert.deepEqual(
      delivered.filter((c) => c.kind === 'entities').flatMap((c) => c.ids),
      ['n2'],
    );
    assert.deepEqual(result.checkpoint, { date: 1_772_000_002, ids: ['n2'], readToEndAt: READ_TO_END });
  });

  it('builds the entity from the view the page reader took, without reading the notification again', () => {
    const n = notification('domain', 9, { registrar: 'x' });
    const entries = createEntryBuilder(entryOptions(true));
    const entities = createEntityBuilder({ validityDays: 30, logType: LOG_TYPE, fetchTime: FETCH_TIME });
    const [item] = splitPage(Buffer.from(JSON.stringify({ data: [n] })), new JsonCleaner(), {
      entityViews: true,
    }).items as PageItem[];
    assert.ok(item?.kind === 'cleaned');
    assert.deepEqual(item.view, entityViewFromNotification(n));
    // The entity follows the view (a tag only the view has), not the cleaned bytes.
    const marked = { ...item, view: { ...entityViewFromNotification(n), tags: ['from-the-view'] } };
    const prepared = prepareNotification(marked, entries, entities, () => true);
    assert.ok(prepared?.entity?.kind === 'entity');
    assert.match(prepared.entity.entity.json.toString('utf8'), /from-the-view/);
    // Without a view (an item the page reader read without), the cleaned bytes give the same entity.
    const plain = prepareNotification({ ...item, view: undefined }, entries, entities, () => true);
    const viaView = prepareNotification(item, entries, entities, () => true);
    assert.ok(plain?.entity?.kind === 'entity' && viaView?.entity?.kind === 'entity');
    assert.deepEqual(plain.entity.entity.json, viaView.entity.entity.json);
  });
});
