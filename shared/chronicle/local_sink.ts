/**
 * Local sink for runs without Chronicle: writes what would be imported under OUTPUT_DIR —
 * `requests/NNNNNN.json` (each request body, exactly as it would be POSTed) and
 * `entries.ndjson` (one decoded entry per line: the notification plus the entry's metadata).
 */
import { appendFile, mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { LogImporter } from './client.js';
import { parseImportBody } from './request_body.js';

export function createLocalSink(dir: string): LogImporter {
  let count = 0;
  let queue: Promise<void> = mkdir(join(dir, 'requests'), { recursive: true }).then(() => undefined);
  return {
    target: `local sink ${dir}/`,
    importLogs(body) {
      count += 1;
      const n = count;
      const write = async () => {
        await writeFile(join(dir, 'requests', `${String(n).padStart(6, '0')}.json`), body);
        const text = typeof body === 'string' ? body : body.toString('utf8');
        const lines = parseImportBody(text).logs.map((entry) => {
          const { data, ...meta } = entry;
          const notification: unknown = JSON.parse(Buffer.from(String(data), 'base64').toString('utf8'));
          return JSON.stringify({ ...meta, notification });
        });
        await appendFile(join(dir, 'entries.ndjson'), `${lines.join('\n')}\n`);
      };
      // Serialised so concurrent chunks never interleave lines.
      const done = queue.then(write);
      queue = done.catch(() => undefined);
      return done;
    },
  };
}
