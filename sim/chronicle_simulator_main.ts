/**
 * Runs the Chronicle logs:import and entities:import simulator as its own process (benchmarks, demo):
 *   node dist/sim/chronicle_simulator_main.js [--port N] [--latency-ms N] [--count-only] [--no-auth]
 *     [--max-request-bytes N] [--oversize-status 400|413] [--allow-any-collection-time]
 *     [--unchecked-entity-fields]
 * (--oversize-status: how an oversized body is answered, default 400 as Google APIs do;
 * --allow-any-collection-time: do not require collectionTime after logEntryTime; --count-only: keep
 * counts and ids, not the entries and entities themselves; --unchecked-entity-fields: check each
 * entity's required metadata but not every field against the field lists, the cheaper mode a
 * benchmark uses so that the fake's CPU does not crowd the process it measures.)
 * Prints one JSON line `{"baseUrl":...}` on stdout when ready. `GET /_stats` answers
 * {requests, acceptedRequests, entries, uniqueIds, duplicates, bytes, dataBytes, entityRequests,
 * acceptedEntityRequests, entities, entityUniqueIds, entityDuplicates, entityBytes}; on
 * SIGTERM/SIGINT the same summary is printed as a JSON line and the process exits 0.
 */
import { parseArgs } from 'node:util';
import { type ChronicleSimulatorOptions, startChronicleSimulator } from './chronicle_simulator.js';
import { numberOption } from './http_util.js';

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      port: { type: 'string' },
      'latency-ms': { type: 'string' },
      'count-only': { type: 'boolean', default: false },
      'no-auth': { type: 'boolean', default: false },
      'max-request-bytes': { type: 'string' },
      'oversize-status': { type: 'string' },
      'allow-any-collection-time': { type: 'boolean', default: false },
      'unchecked-entity-fields': { type: 'boolean', default: false },
    },
    strict: true,
  });
  const options: ChronicleSimulatorOptions = {
    keepEntries: !values['count-only'],
    entities: { keepEntities: !values['count-only'], checkFields: !values['unchecked-entity-fields'] },
    requireBearer: !values['no-auth'],
    requireCollectionAfterEntry: !values['allow-any-collection-time'],
  };
  const oversize = values['oversize-status'];
  if (oversize !== undefined) {
    if (oversize !== '400' && oversize !== '413')
      throw new Error(`--oversize-status must be 400 or 413, got "${oversize}"`);
    options.oversizeStatus = oversize === '400' ? 400 : 413;
  }
  const port = numberOption(values.port, 'port');
  if (port !== undefined) options.port = port;
  const latency = numberOption(values['latency-ms'], 'latency-ms');
  if (latency !== undefined) options.latencyMs = latency;
  const max = numberOption(values['max-request-bytes'], 'max-request-bytes');
  if (max !== undefined) options.maxRequestBytes = max;
  const sim = await startChronicleSimulator(options);
  const stop = async (): Promise<void> => {
    const stats = (await (await fetch(`${sim.baseUrl}/_stats`)).json()) as unknown;
    process.stdout.write(`${JSON.stringify(stats)}\n`);
    await sim.close();
    process.exit(0);
  };
  const onSignal = (): void => {
    stop().catch(() => process.exit(1));
  };
  process.once('SIGTERM', onSignal);
  process.once('SIGINT', onSignal);
  // Ready only once the signal handlers are in place.
  process.stdout.write(`${JSON.stringify({ baseUrl: sim.baseUrl })}\n`);
}

main().catch((error: unknown) => {
  process.stderr.write(`chronicle simulator: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(2);
});
