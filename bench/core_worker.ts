/**
 * Core throughput, measured in a fresh process (clean heap, one core): notifications are generated,
 * serialised and parsed back (as the GTI client would hand them over) outside the clock; the clock
 * covers clean + entry building + chunking, including assembling each final request body.
 *
 * Usage: node dist/bench/core_worker.js --count N [--seed S] [--chunk-max-bytes B]
 * Prints one JSON object (CoreResult) on stdout.
 */
import { parseArgs } from 'node:util';
import { chunkEntries } from '../shared/chunker.js';
import { createEntryBuilder, type PreparedEntry, requestEnvelope } from '../shared/log_entries.js';
import type { Notification } from '../shared/notification.js';
import { generatedDataset } from '../sim/dataset.js';
import { BENCH_SEED } from './sizes.js';

export interface CoreResult {
  readonly notifications: number;
  /** UTF-8 bytes of the notifications as GTI sends them (JSON). */
  readonly jsonBytes: number;
  readonly chunks: number;
  readonly requestBytes: number;
  readonly trimmed: number;
  /** Time in clean + build + chunk, ms. */
  readonly coreMs: number;
  /** Time generating and parsing the input (not counted), ms. */
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
}

export async function measureCore(count: number, seed: number, chunkMaxBytes: number): Promise<CoreResult> {
  const dataset = generatedDataset({ count, seed });
  const envelope = requestEnvelope(undefined);
  const builder = createEntryBuilder({
    fetchTime: new Date(),
    namespace: undefined,
    useCaseName: 'ioc_stream',
    chunkMaxBytes,
    forwarder: undefined,
  });
  let inputMs = 0;
  let jsonBytes = 0;
  let trimmed = 0;
  let stringifyMs = 0;

  // Input made outside the clock: generate, serialise, parse back (fresh objects, like the wire).
  function* entries(): Generator<PreparedEntry> {
    for (let i = 0; i < dataset.size; i++) {
      const t = performance.now();
      const text = JSON.stringify(dataset.get(i));
      jsonBytes += Buffer.byteLength(text);
      const notification = JSON.parse(text) as Notification;
      const beforeReference = performance.now();
      JSON.stringify(notification);
      stringifyMs += performance.now() - beforeReference;
      inputMs += performance.now() - t;
      const entry = builder.build(notification);
      if (entry.trimmed.length > 0) trimmed += 1;
      yield entry;
    }
  }

  const sizes: number[] = [];
  let requestBytes = 0;
  const started = performance.now();
  for await (const chunk of chunkEntries(entries(), envelope, chunkMaxBytes)) {
    sizes.push(chunk.bytes);
    requestBytes += chunk.bytes;
  }
  const totalMs = performance.now() - started;
  const coreMs = totalMs - inputMs;
  const full = sizes.slice(0, -1);
  const mean = (xs: number[]) => (xs.length === 0 ? 0 : xs.reduce((a, b) => a + b, 0) / xs.length);
  return {
    notifications: count,
    jsonBytes,
    chunks: sizes.length,
    requestBytes,
    trimmed,
    coreMs,
    inputMs,
    mbPerSecond: jsonBytes / 1e6 / (coreMs / 1000),
    notificationsPerSecond: count / (coreMs / 1000),
    fullChunkFill: (full.length > 0 ? mean(full) : mean(sizes)) / chunkMaxBytes,
    chunkFill: mean(sizes) / chunkMaxBytes,
    chunkMaxBytes,
    maxRssMB: process.resourceUsage().maxRSS / 1024,
    stringifyOnlyMBps: jsonBytes / 1e6 / (stringifyMs / 1000),
  };
}

const { values } = parseArgs({
  options: {
    count: { type: 'string' },
    seed: { type: 'string' },
    'chunk-max-bytes': { type: 'string' },
  },
  strict: true,
});
const count = Number(values.count ?? '2000');
const result = await measureCore(
  count,
  Number(values.seed ?? BENCH_SEED),
  Number(values['chunk-max-bytes'] ?? 3_900_000),
);
process.stdout.write(`${JSON.stringify(result)}\n`);
