/**
 * One GTI page item made ready for de-duplication and entry building: either its cleaned JSON
 * bytes with the notification id and date (the byte cleaner's fast path), or, for the rare item
 * that cleaner leaves to the object path, its raw bytes, parsed and checked only when the
 * pipeline reaches it. Both give the same entry bytes; an item that is not a well-formed
 * notification always takes the object path, which imports it labelled rather than failing.
 */

import { createHash } from 'node:crypto';
import type { JsonCleaner } from './clean_json.js';
import type { EntityView, NotificationHead } from './entity_view.js';
import {
  contextOf,
  ITEM_FIELD,
  invalidFields,
  notificationDate,
  notificationId,
  notificationProblem,
} from './notification.js';

export type PageItem =
  | {
      readonly kind: 'cleaned';
      readonly id: string;
      readonly date: number;
      readonly cleaned: Buffer;
      /**
       * What its entity is built from (entity_view.ts), taken from the cleaner right after it
       * cleaned the item, when the page was read with entity views; else undefined.
       */
      readonly view?: EntityView | undefined;
    }
  | { readonly kind: 'raw'; readonly raw: Buffer };

/**
 * The notification id and date of the object the cleaner just cleaned, with its parsed descriptor
 * members, when the descriptor passes the object path's checks; undefined sends the item to the
 * object path (which then reports the problem, with the same outcome as if every item took that
 * path).
 */
export function cleanedDescriptor(
  cleaner: JsonCleaner,
): { id: string; date: number; head: NotificationHead } | undefined {
  // Only the descriptor is parsed.
  const head = {
    type: member(cleaner, 'type'),
    id: member(cleaner, 'id'),
    context_attributes: member(cleaner, 'context_attributes'),
  };
  if (notificationProblem(head) !== undefined) return undefined;
  const context = head.context_attributes as { notification_id: string; notification_date: number };
  return { id: context.notification_id, date: context.notification_date, head };
}

/** Top-level field holding, as text, an item that is not a JSON object (imported as it came). */
export const UNPARSED_FIELD = 'ioc_stream_unparsed';

/** One item on the object path, ready to import whatever shape it came in. */
export interface ReadItem {
  /** What is cleaned and imported: the notification, or `{ioc_stream_unparsed: text}`. */
  readonly object: Record<string, unknown>;
  /** notification_id, or `derived-` + 32 hex digits of the item bytes' SHA-256 when it has none. */
  readonly id: string;
  /** notification_date, or undefined when missing or malformed. */
  readonly date: number | undefined;
  /** What was missing or malformed (see invalidFields); empty for a well-formed notification. */
  readonly invalid: readonly string[];
}

/**
 * The object path: parses one item and says what is wrong with it, never throwing. A notification
 * without a usable id or date, or an item that is not even JSON, must not stop the stream (every
 * later run would stop at it again) nor vanish: it is imported, labelled, and reported.
 */
export function readItem(raw: Buffer): ReadItem {
  let parsed: unknown;
  let json = true;
  try {
    parsed = JSON.parse(raw.toString('utf8'));
  } catch {
    json = false;
  }
  const invalid = json ? invalidFields(parsed) : [ITEM_FIELD];
  const isObject = invalid[0] !== ITEM_FIELD;
  const object = isObject ? (parsed as Record<string, unknown>) : { [UNPARSED_FIELD]: raw.toString('utf8') };
  const ctx = isObject ? contextOf(object) : undefined;
  return {
    object,
    id: notificationId(ctx) ?? `derived-${createHash('sha256').update(raw).digest('hex').slice(0, 32)}`,
    date: notificationDate(ctx),
    invalid,
  };
}

function member(cleaner: JsonCleaner, key: string): unknown {
  const bytes = cleaner.member(key);
  return bytes === undefined ? undefined : JSON.parse(bytes.toString('utf8'));
}
