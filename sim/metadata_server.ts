/**
 * Loopback simulator of the GCE metadata server (the local topology and the tests), enough for google-auth-library: the service account token
 * endpoint and the project id. Point the library at it with GCE_METADATA_HOST=<host> and
 * METADATA_SERVER_DETECTION=assume-present in process.env (the library reads process.env itself).
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface MetadataFake {
  /** 127.0.0.1:port, the value for GCE_METADATA_HOST. */
  readonly host: string;
  readonly url: string;
  /** Token requests answered so far. */
  readonly tokenRequests: number;
  close(): Promise<void>;
}

export async function startMetadataFake(
  options: { token?: string; projectId?: string } = {},
): Promise<MetadataFake> {
  const token = options.token ?? 'fake-access-token';
  const projectId = options.projectId ?? 'fake-project';
  let tokenRequests = 0;
  const server = createServer((req, res) => {
    const path = (req.url ?? '').split('?')[0];
    const send = (status: number, body: string, type = 'application/json') => {
      res.writeHead(status, { 'content-type': type, 'metadata-flavor': 'Google' });
      res.end(body);
    };
    if (req.headers['metadata-flavor'] !== 'Google')
      return send(403, 'Missing Metadata-Flavor header', 'text/plain');
    if (path === '/computeMetadata/v1/instance/service-accounts/default/token') {
      tokenRequests += 1;
      return send(200, JSON.stringify({ access_token: token, expires_in: 3600, token_type: 'Bearer' }));
    }
    if (path === '/computeMetadata/v1/project/project-id') return send(200, projectId, 'text/plain');
    if (path === '/computeMetadata/v1/instance' || path === '/computeMetadata/v1/') return send(200, '{}');
    return send(404, 'not found', 'text/plain');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  const host = `127.0.0.1:${port}`;
  return {
    host,
    url: `http://${host}`,
    get tokenRequests() {
      return tokenRequests;
    },
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.closeAllConnections();
        server.close((err) => (err ? reject(err) : resolve()));
      }),
  };
}
