/**
 * Core throughput, measured in a fresh process (clean heap, one core): GTI response bodies (pages
 * of 40 notifications, as JSON bytes, exactly what the GTI simulator sends) are generated outside
 * the clock; the clock covers what the pipeline does with a body: splitting it into items,
 * cleaning each from its bytes, building the entries and chunking, including assembling each
 * final request body; with entity context on (the default, as in the product), also each item's
 * entity view, its entity and the entities:import bodies.
 *
 * Usage: node dist/bench/core_worker.js --count N [--seed S] [--chunk-max-bytes B] [--indent N]
 *          [--entities true|false]
 * Prints one JSON object (CoreResult) on stdout.
 */

import { parseArgs } from 'node:util';
import { logsImportEnvelope } from '../shared/chronicle/request_body.js';
import { SPECS } from '../shared/core/config_table.js';
import { JsonCleaner } from '../shared/gti/clean_json.js';
import { splitPage } from '../shared/gti/page.js';
import { ChunkAssembler, chunkEntries } from '../shared/pipeline/chunker.js';
import { createEntityBuilder, type PreparedEntity } from '../shared/pipeline/entities.js';
import { prepareNotification } from '../shared/pipeline/fetch_run.js';
import { createEntryBuilder, type PreparedEntry } from '../shared/pipeline/log_entries.js';
import { generatedDataset } from '../sim/dataset.js';
import { BENCH_SEED } from './sizes.js';
import { CHUNK_MAX_BYTES } from './standalone.js';

export interface CoreResult {
  readonly notifications: number;
  /** UTF-8 bytes of the notifications as GTI sends them (JSON). */
  readonly jsonBytes: number;
  readonly chunks: number;
  readonly requestBytes: number;
  /** Entity context: entities built, entities:import bodies and their bytes (0 when off). */
  readonly entityContext: boolean;
  readonly entities: number;
  readonly entityChunks: number;
  readonly entityRequestBytes: number;
  readonly trimmed: number;
  /** Time in split + clean + build + chunk, ms. */
  readonly coreMs: number;
  /** Items the byte cleaner left to the object path (parse + clean + stringify). */
  readonly objectPath: number;
  /** Time generating the input and the references (not counted), ms. */
  readonly inputMs: number;
  readonly mbPerSecond: number;
  readonly notificationsPerSecond: number;
  /** Mean of bytes / chunkMaxBytes over every chunk but the last (which is partial by nature). */
  readonly fullChunkFill: number;
  /** Mean over all chunks. */
  readonly chunkFill: number;
  readonly chunkMaxBytes: number;
  readonly maxRssMB: number;
  /**
   * Reference, outside the clock: JSON.stringify alone of the same parsed notifications, MB/s. Any
   * pipeline that must re-serialise the JSON cannot beat this native floor on this machine.
   */
  readonly stringifyOnlyMBps: number;
  /** Reference, outside the clock: JSON.parse alone of the same pages, MB/s. */
  readonly parseOnlyMBps: number;
}

const PAGE_SIZE = 40;

export async function measureCore(
  count: number,
  seed: number,
  chunkMaxBytes: number,
  indent = 0,
  entityContext = true,
): Promise<CoreResult> {
  const dataset = generatedDataset({ count, seed });
  const envelope = logsImportEnvelope(undefined);
  const fetchTime = new Date();
  const entityBuilder = entityContext
    ? createEntityBuilder({
        validityDays: SPECS.ENTITY_VALIDITY_DAYS.default,
        logType: SPECS.CHRONICLE_LOG_TYPE.default,
        fetchTime,
        chunkMaxBytes,
      })
    : undefined;
  let entityChunkSeq = 0;
  const entityChunks =
    entityBuilder === undefined
      ? undefined
      : new ChunkAssembler<PreparedEntity>(entityBuilder.envelope, chunkMaxBytes, () => ++entityChunkSeq);
  let entities = 0;
  let entityRequestBytes = 0;
  const builder = createEntryBuilder({
    fetchTime,
    namespace: undefined,
    // What sync uses by default, so the CI bench test can compare their request bytes.
    useCaseName: SPECS.USE_CASE_NAME.default,
    chunkMaxBytes,
    forwarder: undefined,
  });
  let inputMs = 0;
  let jsonBytes = 0;
  let trimmed = 0;
  let objectPath = 0;
  let stringifyMs = 0;
  let parseMs = 0;
  const cleaner = new JsonCleaner();

  // Each page is made outside the clock (generated, serialised as the simulator sends it), then
  // processed inside it the way runFetch does.
  function* entries(): Generator<PreparedEntry> {
    for (let first = 0; first < dataset.size; first += PAGE_SIZE) {
      const t = performance.now();
      const items: string[] = [];
      for (let i = first; i < Math.min(first + PAGE_SIZE, dataset.size); i++) {
        const text = JSON.stringify(dataset.get(i), null, indent);
        jsonBytes += Buffer.byteLength(text);
        items.push(text);
      }
      const body = Buffer.from(`{"data":[${items.join(',')}],"meta":{"cursor":"c${first}"},"links":{}}`);
      const beforeParse = performance.now();
      const parsed = JSON.parse(body.toString('utf8')) as unknown;
      const beforeStringify = performance.now();
      JSON.stringify(parsed);
      stringifyMs += performance.now() - beforeStringify;
      parseMs += beforeStringify - beforeParse;
      inputMs += performance.now() - t;
      for (const item of splitPage(body, cleaner, { entityViews: entityContext }).items ?? []) {
        if (item.kind === 'raw') objectPath += 1;
        const prepared = prepareNotification(item, builder, entityBuilder, () => true);
        if (prepared === undefined) throw new Error('the bench accepts every notification');
        const { entry, entity } = prepared;
        if (entry.trimmed.length > 0) trimmed += 1;
        if (entity?.kind === 'entity') {
          entities += 1;
          entityRequestBytes += entityChunks?.add(entity.entity)?.bytes ?? 0;
        }
        yield entry;
      }
    }
  }

  const sizes: number[] = [];
  let requestBytes = 0;
  const started = performance.now();
  for await (const chunk of chunkEntries(entries(), envelope, chunkMaxBytes)) {
    sizes.push(chunk.bytes);
    requestBytes += chunk.bytes;
  }
  entityRequestBytes += entityChunks?.flush()?.bytes ?? 0;
  const totalMs = performance.now() - started;
  const coreMs = totalMs - inputMs;
  const full = sizes.slice(0, -1);
  const mean = (xs: number[]) => (xs.length === 0 ? 0 : xs.reduce((a, b) => a + b, 0) / xs.length);
  return {
    notifications: count,
    jsonBytes,
    chunks: sizes.length,
    requestBytes,
    entityContext,
    entities,
    entityChunks: entityChunkSeq,
    entityRequestBytes,
    trimmed,
    coreMs,
    objectPath,
    inputMs,
    mbPerSecond: jsonBytes / 1e6 / (coreMs / 1000),
    notificationsPerSecond: count / (coreMs / 1000),
    fullChunkFill: (full.length > 0 ? mean(full) : mean(sizes)) / chunkMaxBytes,
    chunkFill: mean(sizes) / chunkMaxBytes,
    chunkMaxBytes,
    maxRssMB: process.resourceUsage().maxRSS / 1024,
    stringifyOnlyMBps: jsonBytes / 1e6 / (stringifyMs / 1000),
    parseOnlyMBps: jsonBytes / 1e6 / (parseMs / 1000),
  };
}

const { values } = parseArgs({
  options: {
    count: { type: 'string' },
    seed: { type: 'string' },
    'chunk-max-bytes': { type: 'string' },
    indent: { type: 'string' },
    entities: { type: 'string' },
  },
  strict: true,
});
const count = Number(values.count ?? '2000');
const result = await measureCore(
  count,
  Number(values.seed ?? BENCH_SEED),
  Number(values['chunk-max-bytes'] ?? CHUNK_MAX_BYTES),
  Number(values.indent ?? '0'),
  values.entities !== 'false',
);
process.stdout.write(`${JSON.stringify(result)}\n`);
