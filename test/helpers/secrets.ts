/**
 * Secrets in tests: realistic fakes, and the check that no piece of one appears in an output.
 *
 * A leak is any run of FRAGMENT_CHARS (12) or more characters of the secret, at any offset: a cut
 * that keeps the first 40 characters of a token leaks as surely as the whole token. Failure
 * messages say where the fragment is, never the fragment itself.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { inspect } from 'node:util';

/** The shortest piece of a secret that counts as a leak (the definition, kept apart from the code's). */
export const FRAGMENT_CHARS = 12;

/** A GTI / VirusTotal API key as issued: 64 lowercase hex characters. */
export function fakeGtiKey(): string {
  return randomBytes(32).toString('hex');
}

/** A Google OAuth access token of realistic shape and length: `ya29.` and ~250 URL-safe characters. */
export function fakeAccessToken(length = 250): string {
  const body = randomBytes(length)
    .toString('base64url')
    .slice(0, length - 'ya29.'.length);
  return `ya29.${body}`;
}

/** Where the first FRAGMENT_CHARS-long piece of `secret` occurs in `text`, or undefined. */
export function findSecretFragment(
  text: string,
  secret: string,
  minChars = FRAGMENT_CHARS,
): { secretOffset: number; textOffset: number } | undefined {
  if (secret.length < minChars) {
    const at = text.indexOf(secret);
    return at < 0 ? undefined : { secretOffset: 0, textOffset: at };
  }
  for (let i = 0; i + minChars <= secret.length; i++) {
    const at = text.indexOf(secret.slice(i, i + minChars));
    if (at >= 0) return { secretOffset: i, textOffset: at };
  }
  return undefined;
}

/** Text of anything a test collects: strings as they are, errors with stack, cause and fields. */
export function textOf(value: unknown): string {
  if (typeof value === 'string') return value;
  if (Buffer.isBuffer(value)) return value.toString('utf8');
  return inspect(value, { depth: 8, breakLength: Number.POSITIVE_INFINITY, maxStringLength: null });
}

/**
 * Fails when any 12+ character fragment of any of `secrets` appears in `output` (a string, a
 * Buffer, an error, an object of attributes, an array of log lines...). `where` names the output.
 */
export function assertNoSecretFragment(
  output: unknown,
  secrets: string | readonly string[],
  where: string,
): void {
  const text = textOf(output);
  for (const [n, secret] of (typeof secrets === 'string' ? [secrets] : secrets).entries()) {
    const found = findSecretFragment(text, secret);
    assert.equal(
      found,
      undefined,
      found &&
        `${where}: characters ${found.secretOffset}..${found.secretOffset + FRAGMENT_CHARS - 1} of secret #${n} ` +
          `(${secret.length} chars) appear at offset ${found.textOffset} of ${text.length}`,
    );
  }
}
