/**
 * Small factories for notifications used by unit tests, in the documented ioc_stream shape
 * (https://docs.virustotal.com/reference/get-objects-from-the-ioc-stream): a Livehunt notification has
 * origin `hunting`, its ruleset as source and a `hunting_info` with exactly its five documented keys.
 */
import type { Notification } from '../../shared/gti/notification.js';

export function fileNotification(
  id: string,
  date: number,
  extra: Record<string, unknown> = {},
): Notification {
  return {
    type: 'file',
    id: `sha256-${id}`,
    links: { self: `https://www.virustotal.com/api/v3/files/sha256-${id}` },
    attributes: {
      md5: 'a'.repeat(32),
      size: 1234,
      names: ['x.exe', ''],
      pe_info: null,
      ...extra,
    } as Notification['attributes'] & object,
    context_attributes: {
      notification_id: id,
      notification_date: date,
      origin: 'hunting',
      sources: [{ type: 'hunting_ruleset', id: 'rs1', label: 'My rules' }],
      hunting_info: {
        rule_name: 'rule_x',
        rule_tags: ['apt'],
        snippet: '4D 5A *begin_highlight*90 00*end_highlight*',
        source_country: 'US',
        source_key: 'a1b2c3d4',
      },
    },
  };
}

export function decodeBody(
  body: string,
): Array<{ data: Record<string, unknown>; entry: Record<string, unknown> }> {
  const parsed = JSON.parse(body) as { inlineSource: { logs: Array<Record<string, unknown>> } };
  return parsed.inlineSource.logs.map((entry) => ({
    entry,
    data: JSON.parse(Buffer.from(String(entry.data), 'base64').toString('utf8')) as Record<string, unknown>,
  }));
}
