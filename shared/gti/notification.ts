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

/** Light shape check for one page item; returns a reason when the item cannot be processed. */
export function notificationProblem(item: unknown): string | undefined {
  if (item === null || typeof item !== 'object' || Array.isArray(item)) return 'item is not an object';
  const record = item as Record<string, unknown>;
  if (typeof record.type !== 'string') return 'item has no string "type"';
  if (typeof record.id !== 'string') return 'item has no string "id"';
  const ctx = record.context_attributes;
  if (ctx === null || typeof ctx !== 'object') return `item ${record.id} has no context_attributes`;
  const c = ctx as Record<string, unknown>;
  if (typeof c.notification_id !== 'string' || c.notification_id === '') {
    return `item ${record.id} has no context_attributes.notification_id`;
  }
  // Unix seconds, as the checkpoint stores them (an integer) and as dates can be written (year ≤ 9999).
  const date = c.notification_date;
  if (typeof date !== 'number' || !Number.isInteger(date) || date < 0 || date > MAX_DATE_SECONDS) {
    return `notification ${c.notification_id} has no context_attributes.notification_date in unix seconds`;
  }
  return undefined;
}
