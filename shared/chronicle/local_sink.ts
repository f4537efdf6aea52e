/**
 * Local sink for runs without Chronicle: writes what would be imported under OUTPUT_DIR —
 * `requests/NNNNNN.json` (each logs:import body, exactly as it would be POSTed) and
 * `entries.ndjson` (one decoded entry per line: the notification plus the entry's metadata);
 * `entities/NNNNNN.json` (each entities:import body) and `entities.ndjson` (one entity per line).
 */
import { appendFile, mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { ChronicleImporter } from './client.js';
import { type BodyKind, parseImportBody } from './request_body.js';

/** Where each kind's requests and lines go under the sink's directory. */
const LAYOUT: Readonly<Record<BodyKind, { readonly dir: string; readonly lines: string }>> = {
  logs: { dir: 'requests', lines: 'entries.ndjson' },
  entities: { dir: 'entities', lines: 'entities.ndjson' },
};

/** One NDJSON line per item: a log entry with its notification decoded, or the entity as sent. */
function lineOf(kind: BodyKind, item: Record<string, unknown>): string {
  if (kind === 'entities') return JSON.stringify(item);
  const { data, ...meta } = item;
  const notification: unknown = JSON.parse(Buffer.from(String(data), 'base64').toString('utf8'));
  return JSON.stringify({ ...meta, notification });
}

export function createLocalSink(dir: string): ChronicleImporter {
  const count: Record<BodyKind, number> = { logs: 0, entities: 0 };
  let queue: Promise<void> = Promise.resolve();
  const write = (kind: BodyKind, body: string | Buffer): Promise<void> => {
    count[kind] += 1;
    const n = count[kind];
    const { dir: sub, lines } = LAYOUT[kind];
    const task = async () => {
      await mkdir(join(dir, sub), { recursive: true });
      await writeFile(join(dir, sub, `${String(n).padStart(6, '0')}.json`), body);
      const text = typeof body === 'string' ? body : body.toString('utf8');
      const items = parseImportBody(text, kind).items.map((item) => lineOf(kind, item));
      await appendFile(join(dir, lines), `${items.join('\n')}\n`);
    };
    // Serialised so concurrent chunks never interleave lines.
    const done = queue.then(task);
    queue = done.catch(() => undefined);
    return done;
  };
  return {
    target: `local sink ${dir}/`,
    entitiesTarget: `local sink ${dir}/${LAYOUT.entities.dir}/`,
    importLogs: (body) => write('logs', body),
    importEntities: (body) => write('entities', body),
  };
}
