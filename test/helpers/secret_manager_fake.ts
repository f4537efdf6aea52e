/**
 * Loopback fake of Secret Manager's REST `AccessSecretVersion`, as @google-cloud/secret-manager sends it in
 * fallback mode (`{fallback: true, protocol: 'http', apiEndpoint: '127.0.0.1', port}`):
 * `GET /v1/projects/{p}/secrets/{s}/versions/{v}:access?$alt=json%3Benum-encoding=int` (also the
 * `projects/{p}/locations/{l}/...` form). Answers `{"name", "payload": {"data": base64, "dataCrc32c": "int64"}}`
 * or a google.rpc error.
 */
import { once } from 'node:events';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface SecretManagerFake {
  readonly port: number;
  readonly host: string;
  /** Resource names requested (e.g. projects/p/secrets/s/versions/latest), in order. */
  readonly requests: string[];
  close(): Promise<void>;
}

const CRC32C_TABLE = (() => {
  const table = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0x82f63b78 ^ (c >>> 1) : c >>> 1;
    table[n] = c >>> 0;
  }
  return table;
})();

/** CRC32C (Castagnoli), as Secret Manager reports in `payload.dataCrc32c`. */
export function crc32c(data: Uint8Array): number {
  let crc = 0xffffffff;
  for (const byte of data) crc = (CRC32C_TABLE[(crc ^ byte) & 0xff] ?? 0) ^ (crc >>> 8);
  return (crc ^ 0xffffffff) >>> 0;
}

const ACCESS_PATH =
  /^\/v1\/(projects\/[^/]+(?:\/locations\/[^/]+)?\/secrets\/[^/]+)\/versions\/([^/:]+):access$/;

/**
 * @param secrets resource name → secret value, e.g. `projects/P/secrets/S/versions/latest` or `.../versions/3`.
 * A request for `latest` is served from a `latest` key or else the highest numbered version; a request for a
 * number is served from that number, or from a `latest` key (reported as version 1).
 */
export async function startSecretManagerFake(secrets: Record<string, string>): Promise<SecretManagerFake> {
  const requests: string[] = [];

  const resolve = (secret: string, version: string): { name: string; value: string } | undefined => {
    const exact = secrets[`${secret}/versions/${version}`];
    if (version === 'latest') {
      let best: { n: number; value: string } | undefined;
      for (const [key, value] of Object.entries(secrets)) {
        const m = /^(.*)\/versions\/(\d+)$/.exec(key);
        if (m && m[1] === secret && (!best || Number(m[2]) > best.n)) best = { n: Number(m[2]), value };
      }
      if (best) return { name: `${secret}/versions/${best.n}`, value: exact ?? best.value };
      return exact === undefined ? undefined : { name: `${secret}/versions/1`, value: exact };
    }
    if (exact !== undefined) return { name: `${secret}/versions/${version}`, value: exact };
    const latest = secrets[`${secret}/versions/latest`];
    return latest !== undefined && version === '1'
      ? { name: `${secret}/versions/1`, value: latest }
      : undefined;
  };

  const server = createServer((req, res) => {
    const send = (status: number, body: unknown): void => {
      const text = JSON.stringify(body);
      res.writeHead(status, {
        'content-type': 'application/json; charset=UTF-8',
        'content-length': Buffer.byteLength(text),
      });
      res.end(text);
    };
    const rpcError = (status: number, rpcStatus: string, message: string): void =>
      send(status, { error: { code: status, message, status: rpcStatus } });

    req.resume();
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    const match = ACCESS_PATH.exec(decodeURIComponent(url.pathname));
    if (req.method !== 'GET' || !match) {
      rpcError(404, 'NOT_FOUND', `Unknown path ${req.method} ${url.pathname}`);
      return;
    }
    const secret = match[1] ?? '';
    const version = match[2] ?? '';
    requests.push(`${secret}/versions/${version}`);
    const found = resolve(secret, version);
    if (!found) {
      rpcError(404, 'NOT_FOUND', `Secret [${secret}] not found or has no versions.`);
      return;
    }
    const data = Buffer.from(found.value, 'utf8');
    send(200, {
      name: found.name,
      payload: { data: data.toString('base64'), dataCrc32c: String(crc32c(data)) },
    });
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as AddressInfo;
  return {
    port,
    host: '127.0.0.1',
    requests,
    close: () =>
      new Promise<void>((resolveClose, reject) => {
        server.close((error) => (error ? reject(error) : resolveClose()));
        server.closeAllConnections();
      }),
  };
}
