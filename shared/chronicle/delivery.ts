/**
 * In-process delivery of one request body (logs:import or entities:import, by `kind`) to Chronicle,
 * with the error handling every in-process caller shares (standalone sync, `dlq replay --direct`):
 * retryable errors are retried with backoff honouring Retry-After; "too large" (413, or Google's
 * 400 "Request payload size exceeds the limit", classified in client.ts) splits the body in two
 * and sends both halves (a single entry or entity refused as too large throws an error naming its
 * notification and size); other permanent errors throw.
 */

import { ChronicleError, ChroniclePermanentError, ChronicleTooLargeError } from '../core/errors.js';
import { type RetryPolicy, withRetry } from '../core/retry.js';
import { type ChronicleImporter, importBody } from './client.js';
import { type BodyKind, parseImportBody, splitBody } from './request_body.js';
import { singleEntryOf, singleEntryTooLarge } from './too_large.js';

export interface DeliveryHooks {
  onRetry?: (info: { attempt: number; delayMs: number; status: number | undefined }) => void;
  /** A too-large answer split the body: `entries` in it, the answer's HTTP status (413 or 400). */
  onSplit?: (info: { entries: number; status: number | undefined }) => void;
  /** Counts requests actually made (for stats). */
  onRequest?: () => void;
  signal?: AbortSignal;
}

export async function deliverBody(
  importer: ChronicleImporter,
  kind: BodyKind,
  body: string | Buffer,
  policy: RetryPolicy,
  hooks: DeliveryHooks = {},
): Promise<void> {
  try {
    await withRetry(
      async () => {
        hooks.onRequest?.();
        await importBody(importer, kind, body);
      },
      policy,
      (error) =>
        error instanceof ChronicleError
          ? { retryable: error.retryable, retryAfterMs: error.retryAfterMs }
          : { retryable: false },
      {
        ...(hooks.signal ? { signal: hooks.signal } : {}),
        onRetry: ({ attempt, delayMs, error }) =>
          hooks.onRetry?.({
            attempt,
            delayMs,
            status: error instanceof ChronicleError ? error.status : undefined,
          }),
      },
    );
  } catch (error) {
    if (!(error instanceof ChronicleTooLargeError)) throw error;
    const text = typeof body === 'string' ? body : body.toString('utf8');
    const halves = splitBody(text, kind);
    if (halves === undefined) {
      const single = singleEntryOf(text);
      if (single !== undefined) throw singleEntryTooLarge(error, single);
      throw new ChroniclePermanentError(
        `${error.message} (the request cannot be split)`,
        {
          ...(error.status === undefined ? {} : { status: error.status }),
          ...(error.rpcStatus === undefined ? {} : { rpcStatus: error.rpcStatus }),
        },
        { cause: error },
      );
    }
    hooks.onSplit?.({
      entries: parseImportBody(text, kind).items.length,
      status: error.status,
    });
    await deliverBody(importer, kind, halves[0], policy, hooks);
    await deliverBody(importer, kind, halves[1], policy, hooks);
  }
}
