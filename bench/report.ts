/**
 * Merges bench result files into the BENCHMARKS.md table: each target from the first file that
 * measured it (the 10k run for most, the 100k run for memory scaling), with the run it came from.
 * Targets are evaluated again from each file's measurements (bench/targets.ts), so the table
 * follows the current wording of the targets; the measurements are the file's.
 *
 *   node dist/bench/report.js bench/results/10k.json bench/results/100k.json
 */
import { readFileSync } from 'node:fs';
import type { BenchResults, TargetResult } from './results.js';
import { evaluateTargets } from './targets.js';

export function mergedTable(files: readonly { name: string; results: BenchResults }[]): string {
  const order: string[] = [];
  const chosen = new Map<string, { target: TargetResult; from: string }>();
  for (const { name, results } of files) {
    for (const t of results.targets) {
      if (!order.includes(t.id)) order.push(t.id);
      const prev = chosen.get(t.id);
      if (prev === undefined || (prev.target.pass === undefined && t.pass !== undefined))
        chosen.set(t.id, { target: t, from: name });
    }
  }
  const mark = (p: boolean | undefined) => (p === undefined ? '—' : p ? '**pass**' : '**FAIL**');
  const split = order.some((id) => id.startsWith('sender-overlap-'));
  const rows = order
    .filter((id) => !(split && id === 'sender-overlap'))
    .map((id) => {
      const c = chosen.get(id);
      return c ? `| ${c.target.target} | ${c.target.measured} | ${mark(c.target.pass)} | ${c.from} |` : '';
    });
  const machines = files.map(
    ({ name, results: r }) =>
      `- ${name}: ${r.machine.cores} cores, ${r.machine.cpuModel}, ${r.machine.memoryMB} MB RAM, Node ${r.machine.node}, ` +
      `${r.startedAt}, load average ${r.machine.loadAverageStart.join(' ')} → ${r.machine.loadAverageEnd.join(' ')}, ` +
      `${r.options.runs} run(s) per variant, bench took ${(r.durationMs / 1000).toFixed(0)} s`,
  );
  return [
    ...machines,
    '',
    '| Target | Measured | Result | Run |',
    '|---|---|---|---|',
    ...rows.filter((r) => r !== ''),
  ].join('\n');
}

const files = process.argv.slice(2).map((path) => {
  const results = JSON.parse(readFileSync(path, 'utf8')) as BenchResults;
  return { name: path.replace(/^.*\//, ''), results: { ...results, targets: evaluateTargets(results) } };
});
if (files.length > 0) process.stdout.write(`${mergedTable(files)}\n`);
