import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { summaryFields } from '../../../cli/sync_command.js';
import type { SyncSummary } from '../../../shared/pipeline/sync.js';

describe('sync summary', () => {
  it('names each field for what it counts', () => {
    const summary: SyncSummary = {
      pages: 2,
      fetched: 48,
      duplicates: 8,
      notifications: 40,
      chunks: 3,
      chunksDelivered: 3,
      bytes: 1000,
      trimmed: 0,
      entities: 38,
      entityChunks: 1,
      entityChunksDelivered: 1,
      entityBytes: 500,
      entitiesSkipped: 2,
      expected: 40,
      seconds: 1.5,
      requests: 4,
      retries: 1,
      splits: 0,
      stoppedEarly: false,
      checkpointDate: '2026-03-10T12:00:00.000Z',
      retentionGap: undefined,
      invalid: 0,
    };
    const fields = summaryFields(summary);
    assert.equal(fields.firstPageMetaCount, 40, "GTI's meta.count of the first page, not a total");
    assert.equal(fields.chronicleRequests, 4);
    assert.equal(fields.chronicleRetries, 1);
    assert.equal(fields.chronicleSplits, 0);
    for (const gone of ['expected', 'requests', 'retries', 'splits'])
      assert.equal(gone in fields, false, gone);
    for (const kept of [
      'pages',
      'fetched',
      'duplicates',
      'notifications',
      'chunks',
      'bytes',
      'seconds',
      'entities',
      'entityChunks',
      'entityBytes',
      'entitiesSkipped',
    ])
      assert.equal(fields[kept], summary[kept as keyof SyncSummary], kept);
  });
});
