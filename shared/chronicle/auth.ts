/**
 * Google credentials: the standard chain of google-auth-library (metadata server on Cloud, which
 * honours GCE_METADATA_HOST; Application Default Credentials locally), cloud-platform scope.
 * Tokens are cached and refreshed by the library; the library is loaded and the client created
 * lazily, on the first token asked for (loading it takes ~100-150 ms, which a process that starts
 * with GTI requests, or a function's module load, need not wait for). Each token is registered
 * with shared/core/redact.ts (one entry per refresh, about one an hour).
 *
 * Every Chronicle request carries the headers the library itself would put on a request
 * (`GoogleAuth.getRequestHeaders()`): `authorization`, and `x-goog-user-project` when the
 * credentials name a quota project (user credentials from `gcloud auth application-default login`
 * carry `quota_project_id`; GOOGLE_CLOUD_QUOTA_PROJECT overrides it). Google APIs may refuse user
 * credentials that name no quota project; a service account needs none and sends none.
 * Source: google-auth-library-nodejs, AuthClient.addSharedMetadataHeaders (v11).
 *
 * The project id is given to the library, not left for it to find. Before its first token the
 * library looks up a project id (GoogleAuth#prepareAndCacheClient → findAndCacheProjectId): the
 * GCLOUD_PROJECT / GOOGLE_CLOUD_PROJECT variables, the key file, then `gcloud config
 * config-helper --format json` (a child process: about a second where the Cloud SDK is installed),
 * then the metadata server. A `projectId` option skips all of that (googleauth.js, v11.3.4). The
 * id only names the project for the library; it is not sent (the quota project is above).
 */
import type { GoogleAuth } from 'google-auth-library';
import { ChroniclePermanentError, ChronicleRetryableError } from '../core/errors.js';
import { registerSecret } from '../core/redact.js';

export const CLOUD_PLATFORM_SCOPE = 'https://www.googleapis.com/auth/cloud-platform';
export const USER_PROJECT_HEADER = 'x-goog-user-project';

/** Credential headers of one request: `authorization`, and `x-goog-user-project` when there is one. */
export type AuthHeaders = Readonly<Record<string, string>>;

/**
 * Gives an access token. The providers made here also give the full request headers; a bare
 * function (a test's fixed token) is accepted everywhere and sends the token alone.
 */
export interface AccessTokenProvider {
  (): Promise<string>;
  readonly requestHeaders?: () => Promise<AuthHeaders>;
  /**
   * Gets the first request's credentials ahead of it (loads the auth library, which then holds the
   * token for the requests to come), for a caller that has idle time before its first request:
   * loading a library and its first token run largely on the main thread, and done on the first
   * request instead they stall whatever else that thread does then. A failure is left to the first
   * request, which reports it.
   */
  readonly prepare?: () => void;
}

/** The headers to put on a Chronicle request (see the module comment). */
export async function authHeaders(provider: AccessTokenProvider): Promise<AuthHeaders> {
  if (provider.requestHeaders !== undefined) return provider.requestHeaders();
  return { authorization: `Bearer ${await provider()}` };
}

/** `projectId`: the Google Cloud project of the SecOps instance (see the module comment). */
export function createAccessTokenProvider(projectId: string): AccessTokenProvider {
  let auth: Promise<GoogleAuth> | undefined;
  const requestHeaders = async (): Promise<AuthHeaders> => {
    auth ??= import('google-auth-library').then(
      ({ GoogleAuth }) => new GoogleAuth({ scopes: [CLOUD_PLATFORM_SCOPE], projectId }),
    );
    let headers: Headers;
    try {
      headers = await (await auth).getRequestHeaders();
    } catch (error) {
      throw credentialError(error);
    }
    const authorization = headers.get('authorization') ?? '';
    const token = /^Bearer\s+(\S+)$/i.exec(authorization)?.[1];
    if (!token) throw new ChronicleRetryableError('Google credentials returned an empty access token', {});
    // Registered like every secret: no log line or error message can carry it from here on.
    registerSecret(token);
    const userProject = headers.get(USER_PROJECT_HEADER);
    return {
      authorization: `Bearer ${token}`,
      ...(userProject ? { [USER_PROJECT_HEADER]: userProject } : {}),
    };
  };
  const provider = async (): Promise<string> => {
    const { authorization } = await requestHeaders();
    return (authorization ?? '').replace(/^Bearer\s+/i, '');
  };
  // A failure is reported by the first request, which tries again.
  const prepare = (): void => void requestHeaders().catch(() => undefined);
  return Object.assign(provider, { requestHeaders, prepare });
}

function credentialError(error: unknown): Error {
  const message = error instanceof Error ? error.message : String(error);
  // No credentials at all is permanent; a metadata server hiccup is worth retrying.
  if (/Could not load the default credentials|Unable to detect a Project Id/i.test(message)) {
    return new ChroniclePermanentError(
      'No Google credentials found: run `gcloud auth application-default login` locally, or give the function a service account',
      {},
      { cause: error },
    );
  }
  return new ChronicleRetryableError(
    `Could not obtain a Google access token: ${message}`,
    {},
    { cause: error },
  );
}
