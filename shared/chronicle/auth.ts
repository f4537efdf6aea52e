/**
 * Google credentials: the standard chain of google-auth-library (metadata server on Cloud, which
 * honours GCE_METADATA_HOST; Application Default Credentials locally), cloud-platform scope.
 * Tokens are cached and refreshed by the library; the client is created lazily once. Each token
 * is registered with shared/core/redact.ts (one entry per refresh, about one an hour).
 */
import { GoogleAuth } from 'google-auth-library';
import { ChroniclePermanentError, ChronicleRetryableError } from '../core/errors.js';
import { registerSecret } from '../core/redact.js';

export const CLOUD_PLATFORM_SCOPE = 'https://www.googleapis.com/auth/cloud-platform';

export type AccessTokenProvider = () => Promise<string>;

export function createAccessTokenProvider(): AccessTokenProvider {
  let auth: GoogleAuth | undefined;
  return async () => {
    auth ??= new GoogleAuth({ scopes: [CLOUD_PLATFORM_SCOPE] });
    let token: string | null | undefined;
    try {
      token = await auth.getAccessToken();
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      // No credentials at all is permanent; a metadata server hiccup is worth retrying.
      if (/Could not load the default credentials|Unable to detect a Project Id/i.test(message)) {
        throw new ChroniclePermanentError(
          'No Google credentials found: run `gcloud auth application-default login` locally, or give the function a service account',
          {},
          { cause: error },
        );
      }
      throw new ChronicleRetryableError(
        `Could not obtain a Google access token: ${message}`,
        {},
        { cause: error },
      );
    }
    if (!token) throw new ChronicleRetryableError('Google credentials returned an empty access token', {});
    // Registered like every secret: no log line or error message can carry it from here on.
    registerSecret(token);
    return token;
  };
}
