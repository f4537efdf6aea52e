/**
 * Preloaded (`node --import`) into a measured process: at exit, writes its own resource usage
 * (user and system CPU, peak RSS) as JSON to the file named by BENCH_RUSAGE_FILE. Reads nothing else
 * and changes nothing in the process it measures.
 */
import { writeFileSync } from 'node:fs';

const target = process.env.BENCH_RUSAGE_FILE;
if (target !== undefined && target !== '') {
  process.on('exit', () => {
    const usage = process.resourceUsage();
    writeFileSync(
      target,
      JSON.stringify({
        userMs: usage.userCPUTime / 1000,
        systemMs: usage.systemCPUTime / 1000,
        maxRssKB: usage.maxRSS,
        uptimeMs: process.uptime() * 1000,
      }),
    );
  });
}
