/**
 * Runs the GTI simulator as its own process (benchmarks, demo):
 *   node dist/sim/gti_simulator_main.js [--port N] [--count N | --demo] [--seed N] [--latency-ms N] [--api-key K]
 *     [--seconds-per-notification S] [--oversized-every N] [--start-seconds T] [--cache]
 *     [--date-filter-exclusive] [--quota-requests N]
 * --cache serialises every item once before listening (see GtiSimulatorOptions.cacheItems).
 * --date-filter-exclusive makes `date:X+` / `date:X-` strict (GTI's choice is unconfirmed; default inclusive).
 * --quota-requests N answers 429 QuotaExceededError to every request after the Nth (a used-up quota).
 * Prints one JSON line `{"baseUrl":...,"size":...}` on stdout when ready; on SIGTERM/SIGINT prints a JSON
 * summary line and exits 0.
 */
import { parseArgs } from 'node:util';
import { type Dataset, demoDataset, generatedDataset } from './dataset.js';
import { startGtiSimulator } from './gti_simulator.js';
import { numberOption as intOption } from './http_util.js';

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      port: { type: 'string' },
      count: { type: 'string' },
      demo: { type: 'boolean', default: false },
      seed: { type: 'string' },
      'latency-ms': { type: 'string' },
      'api-key': { type: 'string' },
      'seconds-per-notification': { type: 'string' },
      'oversized-every': { type: 'string' },
      'start-seconds': { type: 'string' },
      cache: { type: 'boolean', default: false },
      'date-filter-exclusive': { type: 'boolean', default: false },
      'quota-requests': { type: 'string' },
    },
    strict: true,
  });
  let dataset: Dataset;
  if (values.demo) {
    dataset = demoDataset();
  } else {
    const options: Parameters<typeof generatedDataset>[0] = {
      count: intOption(values.count, 'count') ?? 1000,
    };
    const seed = intOption(values.seed, 'seed');
    if (seed !== undefined) options.seed = seed;
    const spacing = intOption(values['seconds-per-notification'], 'seconds-per-notification');
    if (spacing !== undefined) options.secondsPerNotification = spacing;
    const oversized = intOption(values['oversized-every'], 'oversized-every');
    if (oversized !== undefined) options.oversizedEvery = oversized;
    const start = intOption(values['start-seconds'], 'start-seconds');
    if (start !== undefined) options.startSeconds = start;
    dataset = generatedDataset(options);
  }
  const simOptions: Parameters<typeof startGtiSimulator>[0] = {
    dataset,
    cacheItems: values.cache,
    dateFilterInclusive: !values['date-filter-exclusive'],
  };
  const quota = intOption(values['quota-requests'], 'quota-requests');
  if (quota !== undefined) simOptions.quotaRequests = quota;
  const port = intOption(values.port, 'port');
  if (port !== undefined) simOptions.port = port;
  const latency = intOption(values['latency-ms'], 'latency-ms');
  if (latency !== undefined) simOptions.latencyMs = latency;
  if (values['api-key'] !== undefined) simOptions.apiKey = values['api-key'];
  const sim = await startGtiSimulator(simOptions);
  const stop = (): void => {
    let duplicates = 0;
    for (const times of sim.servedIds.values()) duplicates += times - 1;
    process.stdout.write(
      `${JSON.stringify({ requests: sim.requests.length, errors: sim.requests.filter((r) => r.status !== 200).length, uniqueIds: sim.servedIds.size, duplicates })}\n`,
    );
    sim.close().then(
      () => process.exit(0),
      () => process.exit(1),
    );
  };
  process.once('SIGTERM', stop);
  process.once('SIGINT', stop);
  // Ready only once the signal handlers are in place.
  process.stdout.write(
    `${JSON.stringify({ baseUrl: sim.baseUrl, size: dataset.size, firstDate: dataset.size ? dataset.dateOf(0) : null, lastDate: dataset.size ? dataset.dateOf(dataset.size - 1) : null })}\n`,
  );
}

main().catch((error: unknown) => {
  process.stderr.write(`gti simulator: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(2);
});
