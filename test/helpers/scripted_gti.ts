/**
 * A loopback GTI `ioc_stream` that answers each request with a page the test scripts, for faults
 * the simulator's dataset cannot produce (a cursor that points back, endless pages, an item nested
 * thousands of levels deep). The page shape is GTI's: `{data, meta: {cursor}, links}`.
 */
import { type LoopbackServer, startLoopbackServer } from './loopback.js';

export interface ScriptedPage {
  /** Each item's JSON text, exactly as sent. */
  readonly items: readonly string[];
  /** The next page's cursor; none on the last page. */
  readonly cursor?: string;
}

export interface ScriptedGti {
  /** e.g. http://127.0.0.1:PORT/api/v3 */
  readonly baseUrl: string;
  readonly server: LoopbackServer;
  /** The cursor of each request, in order (undefined for the first page of a query). */
  readonly cursors: (string | undefined)[];
  close(): Promise<void>;
}

export async function startScriptedGti(
  page: (cursor: string | undefined, n: number) => ScriptedPage,
  apiKey?: string,
): Promise<ScriptedGti> {
  const cursors: (string | undefined)[] = [];
  const server = await startLoopbackServer((req, res) => {
    if (apiKey !== undefined && req.headers['x-apikey'] !== apiKey) {
      res.writeHead(401, { 'content-type': 'application/json' });
      res.end('{"error":{"code":"WrongCredentialsError","message":"Wrong API key"}}');
      return;
    }
    const cursor = new URL(req.url ?? '/', 'http://x').searchParams.get('cursor') ?? undefined;
    cursors.push(cursor);
    const p = page(cursor, cursors.length);
    const meta = p.cursor === undefined ? {} : { cursor: p.cursor };
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(`{"data":[${p.items.join(',')}],"meta":${JSON.stringify(meta)},"links":{"self":"x"}}`);
  });
  return { baseUrl: `${server.origin}/api/v3`, server, cursors, close: server.close };
}

/** A notification's JSON text in the documented shape; `extra` adds top-level members (raw JSON). */
export function notificationJson(id: string, date: number, attributes = '{"size":1}'): string {
  return `{"type":"file","id":"f-${id}","attributes":${attributes},"context_attributes":{"notification_id":"${id}","notification_date":${date},"origin":"hunting"}}`;
}
