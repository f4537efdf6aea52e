/**
 * Loopback fake of the GCE metadata server (used by `ioc-stream dev` and the tests; test/helpers/metadata_fake.ts
 * re-exports it), enough for google-auth-library: the service account token
 * endpoint, email, project id and instance/universe facts. Point the library at it with
 * GCE_METADATA_HOST=<host> and METADATA_SERVER_DETECTION=assume-present in process.env (the library reads
 * process.env itself, at call time).
 *
 * Sources of what it does:
 * - [GCE] "View and query VM metadata", https://cloud.google.com/compute/docs/metadata/querying-metadata:
 *   paths under `/computeMetadata/v1/`
 *   (`project/project-id`, `project/numeric-project-id`, `instance/id`, `instance/zone`,
 *   `instance/service-accounts/{default|email}/{email,scopes,aliases,token}`); every request must carry
 *   `Metadata-Flavor: Google`, else 403 ("Troubleshoot metadata server access",
 *   https://cloud.google.com/compute/docs/troubleshooting/troubleshoot-metadata-server, lists 403).
 * - [TOKEN] "Authenticate workloads using service accounts",
 *   https://cloud.google.com/compute/docs/access/authenticate-workloads#applications: the token answer
 *   `{"access_token", "expires_in", "token_type": "Bearer"}`.
 * - [GCPM] googleapis/gcp-metadata `src/index.ts` (the client google-auth-library uses): base path
 *   `/computeMetadata/v1`, the `GCE_METADATA_HOST` override, detection by `GET .../instance`, and the
 *   check that every answer carries `Metadata-Flavor: Google` (else it throws); it also reads
 *   `universe/universe-domain`.
 * *Unconfirmed*: the 403 body text, `content-type: application/text` on plain-text answers, the
 * `server` header, the `/` ping answer, the shape of the directory listings (`instance`, `project`, the
 * root) and the example instance id, zone and numeric project id; the token's lifetime (`expiresIn`,
 * default 3599) is configurable. Not simulated: `?recursive=`, `?wait_for_change=`, identity tokens, and
 * the scopes a token was asked for.
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface MetadataFakeOptions {
  token?: string;
  projectId?: string;
  email?: string;
  /** Default 3599. */
  expiresIn?: number;
}

export interface MetadataFake {
  /** 127.0.0.1:port, the value for GCE_METADATA_HOST. */
  readonly host: string;
  readonly url: string;
  /** Token requests answered so far. */
  readonly tokenRequests: number;
  /** Paths requested so far (without query), in order. */
  readonly paths: readonly string[];
  close(): Promise<void>;
}

export async function startMetadataFake(options: MetadataFakeOptions = {}): Promise<MetadataFake> {
  const token = options.token ?? 'fake-access-token';
  const projectId = options.projectId ?? 'fake-project';
  const email = options.email ?? `ioc-stream@${projectId}.iam.gserviceaccount.com`;
  const expiresIn = options.expiresIn ?? 3599;
  const paths: string[] = [];
  let tokenRequests = 0;

  const serviceAccount = {
    aliases: ['default'],
    email,
    scopes: ['https://www.googleapis.com/auth/cloud-platform'],
  };
  const instance = {
    id: '4520031799277581759',
    zone: 'projects/123456789012/zones/us-central1-a',
    hostname: 'ioc-stream.local',
    serviceAccounts: { default: serviceAccount, [email]: serviceAccount },
  };

  const server = createServer((req, res) => {
    const path = (req.url ?? '').split('?')[0] ?? '';
    paths.push(path);
    const send = (status: number, body: string, type = 'application/json'): void => {
      res.writeHead(status, {
        'content-type': type,
        'metadata-flavor': 'Google',
        server: 'Metadata Server for VM',
      });
      res.end(body);
    };
    req.resume();
    if (path === '/' || path === '') {
      // A ping without the header (*unconfirmed*; gcp-metadata detects through `instance` [GCPM]).
      send(200, 'computeMetadata/\n', 'application/text');
      return;
    }
    if (req.headers['metadata-flavor'] !== 'Google') {
      send(403, 'Missing Metadata-Flavor:Google header.', 'text/plain');
      return;
    }
    const normalized = path.replace(/\/+$/, '');
    const account = /^\/computeMetadata\/v1\/instance\/service-accounts\/([^/]+)(?:\/(.*))?$/.exec(
      normalized,
    );
    if (account && (account[1] === 'default' || account[1] === email)) {
      const leaf = account[2] ?? '';
      if (leaf === 'token') {
        tokenRequests += 1;
        send(200, JSON.stringify({ access_token: token, expires_in: expiresIn, token_type: 'Bearer' }));
        return;
      }
      if (leaf === 'email') return send(200, email, 'application/text');
      if (leaf === 'scopes') return send(200, serviceAccount.scopes.join('\n'), 'application/text');
      if (leaf === 'aliases') return send(200, 'default', 'application/text');
      if (leaf === '') return send(200, JSON.stringify(serviceAccount));
    }
    switch (normalized) {
      case '/computeMetadata/v1/project/project-id':
        return send(200, projectId, 'application/text');
      case '/computeMetadata/v1/project/numeric-project-id':
        return send(200, '123456789012', 'application/text');
      case '/computeMetadata/v1/universe/universe-domain':
        return send(200, 'googleapis.com', 'application/text');
      case '/computeMetadata/v1/instance/zone':
        return send(200, instance.zone, 'application/text');
      case '/computeMetadata/v1/instance/id':
        return send(200, instance.id, 'application/text');
      case '/computeMetadata/v1/instance/service-accounts':
        return send(200, JSON.stringify(instance.serviceAccounts));
      case '/computeMetadata/v1/instance':
        return send(200, JSON.stringify(instance));
      case '/computeMetadata/v1/project':
        return send(200, JSON.stringify({ projectId, numericProjectId: 123456789012 }));
      case '/computeMetadata/v1':
      case '/computeMetadata':
        return send(200, JSON.stringify({ instance, project: { projectId } }));
      default:
        return send(404, 'not found', 'text/plain');
    }
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
    paths,
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.closeAllConnections();
        server.close((err) => (err ? reject(err) : resolve()));
      }),
  };
}
