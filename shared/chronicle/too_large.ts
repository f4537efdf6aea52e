/**
 * Chronicle refused a request holding a single entry (or entity) as too large: it cannot be split
 * further, so the error names the notification (context_attributes.notification_id inside a log
 * entry's data; an entity's metadata.productEntityId) and its size, which tells the operator
 * whether the size is the cause at all (a 600-byte entry is far below any request limit; a
 * multi-megabyte one is not).
 */
import { type ChronicleError, ChroniclePermanentError } from '../core/errors.js';
import { excerpt } from '../core/redact.js';
import { type BodyKind, parseImportBody } from './request_body.js';

export interface RefusedEntry {
  /** A log entry (logs) or an entity (entities). */
  readonly kind: BodyKind;
  /** Undefined when the entry's data does not hold a notification id. */
  readonly notificationId: string | undefined;
  /** UTF-8 bytes of the entry as it stands in the request. */
  readonly entryBytes: number;
  readonly requestBytes: number;
}

/** The one entry of a request body, or undefined when it has none or several. */
export function singleEntryOf(body: string): RefusedEntry | undefined {
  let parsed: ReturnType<typeof parseImportBody>;
  try {
    parsed = parseImportBody(body);
  } catch {
    return undefined;
  }
  if (parsed.items.length !== 1) return undefined;
  const entry: unknown = parsed.items[0];
  let notificationId: string | undefined;
  const data = (entry as { data?: unknown } | null)?.data;
  if (parsed.kind === 'entities') {
    const id = (entry as { metadata?: { productEntityId?: unknown } }).metadata?.productEntityId;
    if (typeof id === 'string' && id !== '') notificationId = excerpt(id, 200);
  } else if (typeof data === 'string') {
    try {
      const decoded = JSON.parse(Buffer.from(data, 'base64').toString('utf8')) as {
        context_attributes?: { notification_id?: unknown };
      } | null;
      const id = decoded?.context_attributes?.notification_id;
      // From the payload: bounded like anything echoed from input.
      if (typeof id === 'string' && id !== '') notificationId = excerpt(id, 200);
    } catch {
      // Not a notification: reported without an id.
    }
  }
  return {
    kind: parsed.kind,
    notificationId,
    entryBytes: Buffer.byteLength(JSON.stringify(entry) ?? ''),
    requestBytes: Buffer.byteLength(body),
  };
}

/** The permanent error for a too-large answer to a request that holds one entry. */
export function singleEntryTooLarge(error: ChronicleError, entry: RefusedEntry): ChroniclePermanentError {
  const what = entry.kind === 'entities' ? 'entity' : 'entry';
  const who =
    entry.notificationId === undefined
      ? `an ${what} without a notification id`
      : `${entry.kind === 'entities' ? 'the entity of ' : ''}notification ${entry.notificationId}`;
  return new ChroniclePermanentError(
    `Chronicle refused ${who} as too large on its own (a ${entry.entryBytes}-byte ${what} in a ${entry.requestBytes}-byte request); it cannot be split further: ${error.message}`,
    {
      ...(error.status === undefined ? {} : { status: error.status }),
      ...(error.rpcStatus ? { rpcStatus: error.rpcStatus } : {}),
    },
    { cause: error },
  );
}
