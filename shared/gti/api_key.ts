/**
 * The GTI API key: VT_API_KEY when given, else Secret Manager (read once per process). The value
 * is wrapped in a Secret and registered for redaction before anything else sees it.
 */
import type { Config } from '../core/config.js';
import { GRPC, grpcCode, SecretError } from '../core/errors.js';
import { Secret } from '../core/redact.js';

export type ApiKeyProvider = () => Promise<Secret>;

export function secretResourceName(config: Config): string {
  const name = config.gti.secretName ?? '';
  const base = name.startsWith('projects/') ? name : `projects/${config.gcpProjectId ?? ''}/secrets/${name}`;
  return `${base}/versions/${config.gti.secretVersion}`;
}

export function createApiKeyProvider(config: Config): ApiKeyProvider {
  let pending: Promise<Secret> | undefined;
  return () => {
    pending ??= load(config).catch((error: unknown) => {
      pending = undefined; // a transient failure may succeed on the next call
      throw error;
    });
    return pending;
  };
}

async function load(config: Config): Promise<Secret> {
  if (config.gti.apiKey !== undefined) return config.gti.apiKey;
  if (config.gti.secretName === undefined) {
    throw new SecretError('VT_API_KEY or VT_API_KEY_SECRET_NAME must be set to call GTI', false);
  }
  const name = secretResourceName(config);
  const { SecretManagerServiceClient } = await import('@google-cloud/secret-manager');
  // The project id given, the client's google-auth-library does not look one up before its first
  // token (which runs `gcloud config config-helper` where the Cloud SDK is installed: see
  // shared/chronicle/auth.ts); google-gax hands the client options to its GoogleAuth.
  let options: ConstructorParameters<typeof SecretManagerServiceClient>[0] =
    config.gcpProjectId === undefined ? {} : { projectId: config.gcpProjectId };
  if (config.gti.secretManagerEndpoint !== undefined) {
    const url = new URL(config.gti.secretManagerEndpoint);
    options = {
      ...options,
      fallback: true,
      protocol: url.protocol.replace(':', ''),
      apiEndpoint: url.hostname,
      port: Number(url.port || (url.protocol === 'https:' ? 443 : 80)),
    };
  }
  const client = new SecretManagerServiceClient(options);
  try {
    const [version] = await client.accessSecretVersion({ name });
    const data = version.payload?.data;
    const text = typeof data === 'string' ? data : data ? Buffer.from(data).toString('utf8') : '';
    const key = text.trim();
    if (key === '') throw new SecretError(`Secret ${name} is empty`, false);
    return new Secret(key);
  } catch (error) {
    if (error instanceof SecretError) throw error;
    const code = grpcCode(error);
    const permanent =
      code === GRPC.INVALID_ARGUMENT ||
      code === GRPC.NOT_FOUND ||
      code === GRPC.PERMISSION_DENIED ||
      code === GRPC.UNAUTHENTICATED;
    const hint =
      code === GRPC.PERMISSION_DENIED ? ' (the function needs roles/secretmanager.secretAccessor on it)' : '';
    throw new SecretError(`Cannot read secret ${name}${hint}: ${describeGrpc(error)}`, !permanent);
  } finally {
    void client.close().catch(() => undefined);
  }
}

function describeGrpc(error: unknown): string {
  if (error instanceof Error) return error.message.split('\n')[0] ?? error.name;
  return String(error);
}
