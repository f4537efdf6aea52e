/**
 * Loopback fake of the SecOps `logTypes/{logType}:runParser` endpoint speaking the real wire format:
 * request `{"parser":{"cbn":base64},"log":[base64...],"statedumpAllowed":bool}` (snake_case keys
 * accepted too), answer `{"runParserResults":[{"log":base64,"parsedEvents":{"events":[{"event":{}}]}}]}`.
 * It "executes" the parser by looking the submitted log bytes up in a table (sample log -> events),
 * and can be told to answer a google.rpc error instead.
 */
import { createServer, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface FakeEvent {
  readonly event: unknown;
}

export interface RecordedRequest {
  readonly path: string;
  readonly authorization: string | undefined;
  readonly body: { parser?: { cbn?: string }; log?: string[]; statedumpAllowed?: boolean };
}

export interface ParserApiFake {
  /** Base URL for CHRONICLE_API_BASE_URL. */
  readonly baseUrl: string;
  readonly requests: readonly RecordedRequest[];
  /** Events returned for a log, keyed by the log's exact bytes. */
  setEvents(log: Buffer, events: readonly FakeEvent[]): void;
  /** Forget a log: the fake then answers it with a per-log error, as for a parser failure. */
  forget(log: Buffer): void;
  /** Answer every request with this google.rpc error until cleared (undefined). */
  failWith(error: { status: number; rpcStatus: string; message: string } | undefined): void;
  close(): Promise<void>;
}

async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

export async function startParserApiFake(): Promise<ParserApiFake> {
  const table = new Map<string, readonly FakeEvent[]>();
  const requests: RecordedRequest[] = [];
  let failure: { status: number; rpcStatus: string; message: string } | undefined;
  const server = createServer(async (req, res) => {
    const send = (status: number, body: unknown) => {
      res.writeHead(status, { 'content-type': 'application/json' });
      res.end(JSON.stringify(body));
    };
    const path = (req.url ?? '').split('?')[0] ?? '';
    if (
      req.method !== 'POST' ||
      !/^\/v1(alpha|beta)?\/projects\/[^/]+\/locations\/[^/]+\/instances\/[^/]+\/logTypes\/[^/:]+:runParser$/.test(
        path,
      )
    ) {
      return send(404, {
        error: { code: 404, message: `No route ${req.method} ${path}`, status: 'NOT_FOUND' },
      });
    }
    const raw = await readBody(req);
    let body: Record<string, unknown>;
    try {
      body = JSON.parse(raw) as Record<string, unknown>;
    } catch {
      return send(400, { error: { code: 400, message: 'Invalid JSON payload', status: 'INVALID_ARGUMENT' } });
    }
    const logs = (body.log ?? []) as string[];
    const parser = body.parser as { cbn?: string } | undefined;
    requests.push({
      path,
      authorization: req.headers.authorization,
      body: {
        parser,
        log: logs,
        statedumpAllowed: (body.statedumpAllowed ?? body.statedump_allowed) as boolean,
      },
    });
    if (failure) {
      return send(failure.status, {
        error: { code: failure.status, message: failure.message, status: failure.rpcStatus },
      });
    }
    if (!req.headers.authorization?.startsWith('Bearer ')) {
      return send(401, {
        error: {
          code: 401,
          message: 'Request is missing required authentication credential.',
          status: 'UNAUTHENTICATED',
        },
      });
    }
    if (!parser?.cbn || Buffer.from(parser.cbn, 'base64').toString('utf8').trim() === '') {
      return send(400, {
        error: { code: 400, message: 'parser.cbn is required', status: 'INVALID_ARGUMENT' },
      });
    }
    const runParserResults = logs.map((b64) => {
      const events = table.get(Buffer.from(b64, 'base64').toString('hex'));
      if (!events)
        return { log: b64, error: { code: 3, message: 'fake: unknown log, no events recorded for it' } };
      return { log: b64, parsedEvents: { events } };
    });
    return send(200, { runParserResults });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    baseUrl: `http://127.0.0.1:${port}`,
    requests,
    setEvents: (log, events) => table.set(log.toString('hex'), events),
    forget: (log) => table.delete(log.toString('hex')),
    failWith: (error) => {
      failure = error;
    },
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.closeAllConnections();
        server.close((err) => (err ? reject(err) : resolve()));
      }),
  };
}
