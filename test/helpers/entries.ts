/** Comparing the log entries two Chronicle simulators received. */
import assert from 'node:assert/strict';
import type { ImportedEntry } from '../../sim/chronicle_simulator.js';

/**
 * Asserts that two runs delivered the same log entries (notification id, log entry time and decoded
 * data), whatever the order they reached Chronicle in: chunks are delivered concurrently, so that
 * order is not a contract. A failure names the ids that differ, not the entries (a deepEqual of
 * hundreds of whole notifications builds a diff of megabytes when it fails).
 */
export function assertSameEntries(
  actual: readonly ImportedEntry[],
  expected: readonly ImportedEntry[],
  message: string,
): void {
  const keyed = (entries: readonly ImportedEntry[]) =>
    entries.map((e) => `${e.notificationId} ${e.logEntryTime} ${JSON.stringify(e.data)}`).sort();
  const a = keyed(actual);
  const b = keyed(expected);
  assert.equal(a.length, b.length, `${message}: entry count`);
  const differing = a.flatMap((entry, i) => (entry === b[i] ? [] : [entry.slice(0, entry.indexOf(' '))]));
  assert.deepEqual(differing, [], `${message}: the ids of the entries that differ`);
}
