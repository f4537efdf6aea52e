/**
 * One GTI page item made ready for de-duplication and entry building: either its cleaned JSON
 * bytes with the notification id and date (the byte cleaner's fast path), or, for the rare item
 * that cleaner leaves to the object path, its raw bytes, parsed and checked only when the
 * pipeline reaches it. Both give the same entry bytes and the same errors.
 */

import { ValidationError } from '../core/errors.js';
import type { JsonCleaner } from './clean_json.js';
import type { EntityView, NotificationHead } from './entity_view.js';
import { type Notification, notificationProblem } from './notification.js';

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

/** The object path: parses and checks one item; throws ValidationError for an unusable one. */
export function parseItem(raw: Buffer): Notification {
  let parsed: unknown;
  try {
    parsed = JSON.parse(raw.toString('utf8'));
  } catch {
    // JSON.parse's message quotes the payload: only the size is reported.
    throw new ValidationError(`GTI returned a data item that is not valid JSON (${raw.length} bytes)`);
  }
  const problem = notificationProblem(parsed);
  if (problem !== undefined) throw new ValidationError(`GTI returned an unusable notification: ${problem}`);
  return parsed as Notification;
}

function member(cleaner: JsonCleaner, key: string): unknown {
  const bytes = cleaner.member(key);
  return bytes === undefined ? undefined : JSON.parse(bytes.toString('utf8'));
}
