/**
 * One GTI page item made ready for de-duplication and entry building: its notification id and
 * date, and either its cleaned JSON bytes (the byte cleaner's fast path) or, for the rare item
 * that cleaner leaves to the object path, the parsed notification. Both give the same entry bytes.
 */
import type { JsonCleaner } from './clean_json.js';
import { ValidationError } from './errors.js';
import { type Notification, notificationProblem } from './notification.js';

export type PageItem =
  | {
      readonly id: string;
      readonly date: number;
      /** A view of the cleaner's buffer: use it before the cleaner's next item. */
      readonly cleaned: Buffer;
      readonly notification?: undefined;
    }
  | {
      readonly id: string;
      readonly date: number;
      readonly cleaned?: undefined;
      readonly notification: Notification;
    };

/** Throws ValidationError for an item that is not JSON or not a usable notification. */
export function readPageItem(cleaner: JsonCleaner, raw: Buffer): PageItem {
  const cleaned = cleaner.clean(raw);
  if (cleaned !== undefined) {
    // Only the descriptor is parsed; the same checks as on the object path.
    const head = {
      type: member(cleaner, 'type'),
      id: member(cleaner, 'id'),
      context_attributes: member(cleaner, 'context_attributes'),
    };
    if (notificationProblem(head) === undefined) {
      const context = head.context_attributes as { notification_id: string; notification_date: number };
      return { id: context.notification_id, date: context.notification_date, cleaned };
    }
  }
  // The object path: whatever the byte cleaner left (or found wrong) is decided by JSON.parse and
  // the same checks, with the same outcome as if every item took this path.
  let parsed: unknown;
  try {
    parsed = JSON.parse(raw.toString('utf8'));
  } catch {
    // JSON.parse's message quotes the payload: only the size is reported.
    throw new ValidationError(`GTI returned a data item that is not valid JSON (${raw.length} bytes)`);
  }
  const problem = notificationProblem(parsed);
  if (problem !== undefined) throw new ValidationError(`GTI returned an unusable notification: ${problem}`);
  const notification = parsed as Notification;
  return {
    id: notification.context_attributes.notification_id,
    date: notification.context_attributes.notification_date,
    notification,
  };
}

function member(cleaner: JsonCleaner, key: string): unknown {
  const bytes = cleaner.member(key);
  return bytes === undefined ? undefined : JSON.parse(bytes.toString('utf8'));
}
