/** The IOC Stream notification as GTI returns it in `GET /ioc_stream` `data[]`. */
import type { JsonObject, JsonValue } from '../core/json.js';

export interface NotificationSource {
  type?: string;
  id?: string;
  label?: string;
}

export interface ContextAttributes {
  notification_id: string;
  notification_date: number;
  origin?: string;
  sources?: NotificationSource[];
  tags?: string[];
  hunting_info?: JsonObject | null;
  [key: string]: JsonValue | NotificationSource[] | undefined;
}

export interface Notification {
  type: string;
  id: string;
  links?: { self?: string };
  attributes?: JsonObject;
  context_attributes: ContextAttributes;
  [key: string]: unknown;
}

/** 9999-12-31T23:59:59Z. */
const MAX_DATE_SECONDS = 253402300799;

/** The fields the pipeline relies on, as named in `invalid_fields` labels. */
export const NOTIFICATION_ID_FIELD = 'context_attributes.notification_id';
export const NOTIFICATION_DATE_FIELD = 'context_attributes.notification_date';
/** An item that is not a JSON object at all. */
export const ITEM_FIELD = 'item';

/** The notification_id when it is a non-empty string. */
export function notificationId(context: Record<string, unknown> | undefined): string | undefined {
  const id = context?.notification_id;
  return typeof id === 'string' && id !== '' ? id : undefined;
}

/** The notification_date when it is unix seconds as the checkpoint stores them (an integer) and as dates can be written (year ≤ 9999). */
export function notificationDate(context: Record<string, unknown> | undefined): number | undefined {
  const date = context?.notification_date;
  return typeof date === 'number' && Number.isInteger(date) && date >= 0 && date <= MAX_DATE_SECONDS
    ? date
    : undefined;
}

/** The item's context_attributes when it is an object. */
export function contextOf(record: Record<string, unknown>): Record<string, unknown> | undefined {
  const ctx = record.context_attributes;
  return ctx !== null && typeof ctx === 'object' && !Array.isArray(ctx)
    ? (ctx as Record<string, unknown>)
    : undefined;
}

/**
 * The fields of a page item that are missing or malformed: `item` (not an object), `type`, `id`,
 * and the context's notification_id / notification_date. Empty for a well-formed notification.
 */
export function invalidFields(item: unknown): string[] {
  if (item === null || typeof item !== 'object' || Array.isArray(item)) return [ITEM_FIELD];
  const record = item as Record<string, unknown>;
  const context = contextOf(record);
  // Checked for every item of every page: nothing allocated beyond the result.
  const invalid: string[] = [];
  if (typeof record.type !== 'string') invalid.push('type');
  if (typeof record.id !== 'string') invalid.push('id');
  if (notificationId(context) === undefined) invalid.push(NOTIFICATION_ID_FIELD);
  if (notificationDate(context) === undefined) invalid.push(NOTIFICATION_DATE_FIELD);
  return invalid;
}

/** Light shape check for one page item; returns a reason when the item is not a well-formed notification. */
export function notificationProblem(item: unknown): string | undefined {
  const invalid = invalidFields(item);
  return invalid.length === 0 ? undefined : `missing or malformed: ${invalid.join(', ')}`;
}
