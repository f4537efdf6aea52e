/**
 * Turns one notification into one UDM Entity for Chronicle `entities:import`, serialised once as
 * compact JSON bytes with their exact size, so a chunker can fill requests exactly as it does for
 * log entries (log_entries.ts).
 *
 * The entity is threat-intelligence context (`metadata.sourceType` ENTITY_CONTEXT) about the
 * notification's indicator — a file, URL, domain or IP address — valid from the notification date
 * for a number of days (`metadata.interval`). Detection rules join telemetry to it through the entity
 * graph (`$ioc.graph.entity.file.sha256 = …`); the engine joins an event only while the event's time
 * lies inside the entity's interval ("Create context-aware analytics",
 * https://cloud.google.com/chronicle/docs/detection/context-aware-analytics).
 *
 * Field names and types: googleapis `backstory/entity.proto` and `backstory/udm.proto`, in their
 * proto3 JSON names (custom_parser/entity_fields.txt; every path written is listed in
 * custom_parser/entity_paths.txt and checked against the protos by
 * test/unit/custom_parser/entity_fields.test.ts). The threat details follow the parser's
 * security_result mapping (custom_parser/ioc_stream.parser), so rules read the same values from an
 * entity as from an event: one SecurityResult per source of the notification.
 *
 * Input is a small EntityView (entity_view.ts), never the whole notification: a trimmed
 * notification, or one reduced to its descriptor, still gives its entity (a URL notification without
 * `attributes.url` cannot: its id is a hash of the URL).
 */

import { entitiesImportEnvelope, type RequestEnvelope } from '../chronicle/request_body.js';
import { OversizeError } from '../core/errors.js';
import {
  type EntitySourceView,
  type EntityView,
  entityViewFromCleaned,
  entityViewFromNotification,
} from '../gti/entity_view.js';
import type { Notification } from '../gti/notification.js';

/** Written to metadata.vendor_name / product_name, as the parser writes them on the event. */
export const ENTITY_VENDOR_NAME = 'Google';
export const ENTITY_PRODUCT_NAME = 'Google Threat Intelligence IOC Stream';

/** Item type → EntityMetadata.EntityType. Other item types yield no entity. */
export const ENTITY_TYPES: Readonly<Record<string, string>> = {
  file: 'FILE',
  url: 'URL',
  domain: 'DOMAIN_NAME',
  ip_address: 'IP_ADDRESS',
};

/** Item type → path segment of the GUI link https://www.virustotal.com/gui/{segment}/{id}. */
export const GUI_SEGMENTS: Readonly<Record<string, string>> = {
  file: 'file',
  url: 'url',
  domain: 'domain',
  ip_address: 'ip-address',
};

/** gti_assessment.verdict.value → ThreatVerdict (the parser's mapping; other values: none). */
export const THREAT_VERDICTS: Readonly<Record<string, string>> = {
  VERDICT_MALICIOUS: 'MALICIOUS',
  VERDICT_SUSPICIOUS: 'SUSPICIOUS',
  VERDICT_UNDETECTED: 'UNDETECTED',
};

/** GTI severity → SecurityResult.ProductSeverity (the parser's mapping; other values: none). */
export const SEVERITIES: Readonly<Record<string, string>> = {
  SEVERITY_CRITICAL: 'CRITICAL',
  SEVERITY_HIGH: 'HIGH',
  SEVERITY_MEDIUM: 'MEDIUM',
  SEVERITY_LOW: 'LOW',
  SEVERITY_NONE: 'NONE',
};

/** The Livehunt snippet is cut to this many characters, as the parser cuts it. */
export const MAX_DESCRIPTION_CHARS = 1000;

/** 9999-12-31T23:59:59Z: the largest google.protobuf.Timestamp second. */
const MAX_TIMESTAMP_SECONDS = 253402300799;
const INT32_MAX = 2147483647;
const DAY_SECONDS = 86400;
/** Bytes of each buffer entities are encoded into (about a hundred entities). */
const ENTITY_SLAB_BYTES = 256 * 1024;

export interface EntityOptions {
  /** Days an indicator applies from its notification date (interval end = date + days). */
  readonly validityDays: number;
  /** When the notifications were fetched: metadata.collectedTimestamp. */
  readonly fetchTime: Date;
  /** EntitiesInlineSource.logType: the log type the entities come from (CHRONICLE_LOG_TYPE). */
  readonly logType: string;
  /**
   * Request size limit (CHUNK_MAX_BYTES). An entity that cannot fit in one request with the
   * envelope loses its optional parts (file names, snippets, labels); if it still does not fit, the
   * build throws OversizeError naming the notification. Default: no limit.
   */
  readonly chunkMaxBytes?: number;
}

/**
 * Whether and how a run builds entities beside its log entries (CHRONICLE_ENTITY_CONTEXT,
 * ENTITY_VALIDITY_DAYS, CHRONICLE_LOG_TYPE); the run adds its fetch time and request limit.
 */
export type EntityContextOptions = Pick<EntityOptions, 'validityDays' | 'logType'>;

/** One serialised entity. */
export interface PreparedEntity {
  /** notification_id (also metadata.productEntityId). */
  readonly id: string;
  /** notification_date, unix seconds. */
  readonly date: number;
  /** The compact JSON of the entity object, exactly as it goes into the request. */
  readonly json: Buffer;
  /** json.length. */
  readonly bytes: number;
  /** Optional parts removed to fit chunkMaxBytes (ENTITY_TRIM_ORDER paths); empty when untouched. */
  readonly trimmed: readonly string[];
}

/**
 * Why a notification has no entity: its item type has no entity type, a URL without its URL
 * (descriptor only), or (fetch_run.ts) an entity that cannot fit in one request even trimmed.
 */
export type EntitySkipReason = 'unsupported_type' | 'no_indicator' | 'too_large';

export type EntityResult =
  | { readonly kind: 'entity'; readonly entity: PreparedEntity }
  | {
      readonly kind: 'skipped';
      readonly id: string;
      readonly reason: EntitySkipReason;
      /** Names the notification and what is missing; no payload. */
      readonly detail: string;
    };

export interface EntityBuilder {
  /** The request body around this builder's entities (entitiesImportEnvelope(logType)). */
  readonly envelope: RequestEnvelope;
  build(view: EntityView): EntityResult;
  /** entityViewFromNotification, then build. */
  buildFromNotification(notification: Notification): EntityResult;
  /** entityViewFromCleaned (the notification's cleaned JSON bytes), then build. */
  buildFromCleaned(cleaned: Buffer): EntityResult;
}

/** Two digits. */
function pad2(n: number): string {
  return n < 10 ? `0${n}` : `${n}`;
}

/**
 * RFC3339 of whole unix seconds (0 … 9999-12-31T23:59:59), e.g. 2026-01-01T00:00:00Z: the civil date
 * from the day number (the days-from-civil inverse in H. Hinnant's "chrono-compatible low-level date
 * algorithms"), several times cheaper than Date#toISOString, which shows in a 10k-entity run.
 */
export function timestamp(seconds: number): string {
  const days = Math.floor(seconds / DAY_SECONDS);
  const rest = seconds - days * DAY_SECONDS;
  const z = days + 719468;
  const era = Math.floor(z / 146097);
  const doe = z - era * 146097;
  const yoe = Math.floor(
    (doe - Math.floor(doe / 1460) + Math.floor(doe / 36524) - Math.floor(doe / 146096)) / 365,
  );
  const doy = doe - (365 * yoe + Math.floor(yoe / 4) - Math.floor(yoe / 100));
  const mp = Math.floor((5 * doy + 2) / 153);
  const day = doy - Math.floor((153 * mp + 2) / 5) + 1;
  const month = mp < 10 ? mp + 3 : mp - 9;
  const year = yoe + era * 400 + (month <= 2 ? 1 : 0);
  const hour = Math.floor(rest / 3600);
  const minute = Math.floor((rest % 3600) / 60);
  return `${String(year).padStart(4, '0')}-${pad2(month)}-${pad2(day)}T${pad2(hour)}:${pad2(minute)}:${pad2(rest % 60)}Z`;
}

/** The first `max` characters (code points, as RE2's `.` counts them in the parser). */
function firstChars(value: string, max: number): string {
  if (value.length <= max) return value;
  let out = '';
  let n = 0;
  for (const ch of value) {
    if (n === max) break;
    out += ch;
    n++;
  }
  return out;
}

const q = JSON.stringify;

/** Optional parts an entity too large for one request loses, in this order (camelCase paths). */
export const ENTITY_TRIM_ORDER = [
  'entity.file.names',
  'metadata.threat.description',
  'metadata.threat.detectionFields',
  'metadata.threat.ruleLabels',
] as const;
type TrimPath = (typeof ENTITY_TRIM_ORDER)[number];
type Dropped = ReadonlySet<TrimPath>;

/** One Label as JSON, after a comma unless it is the first; `key` is one of this module's plain key names. */
function label(first: boolean, key: string, value: string): string {
  return `${first ? '' : ','}{"key":"${key}","value":${q(value)}}`;
}

/**
 * The members (JSON text, without braces) of the SecurityResult fields every source of the
 * notification shares. The entity is written as text, not built as an object and stringified: the
 * shared part is written once however many sources there are.
 */
function sharedThreat(view: EntityView, guiLink: string, dropped: Dropped): string {
  const parts: string[] = [];
  if (view.verdict !== undefined) {
    const verdict = THREAT_VERDICTS[view.verdict];
    if (verdict !== undefined) parts.push(`"threatVerdict":"${verdict}"`);
  }
  if (view.severity !== undefined) {
    const severity = SEVERITIES[view.severity];
    if (severity !== undefined) parts.push(`"severity":"${severity}"`);
    parts.push(`"severityDetails":${q(view.severity)}`);
  }
  if (view.threatScore !== undefined) parts.push(`"riskScore":${view.threatScore}`);
  if (view.confidence !== undefined) parts.push(`"confidenceScore":${view.confidence}`);
  const stats = view.stats;
  if (stats !== undefined && (stats.malicious !== undefined || stats.harmless !== undefined)) {
    // The engines' counts as VirusTotal's verdict (VerdictInfo counts are int32).
    let info = '"sourceProvider":"VirusTotal"';
    if (stats.malicious !== undefined && stats.malicious <= INT32_MAX)
      info += `,"maliciousCount":${stats.malicious}`;
    if (stats.harmless !== undefined && stats.harmless <= INT32_MAX)
      info += `,"benignCount":${stats.harmless}`;
    const responses =
      (stats.malicious ?? 0) + (stats.suspicious ?? 0) + (stats.harmless ?? 0) + (stats.undetected ?? 0);
    if (responses <= INT32_MAX) info += `,"responseCount":${responses}`;
    parts.push(`"verdictInfo":[{${info}}]`);
  }
  if (view.lastModificationDate !== undefined && view.lastModificationDate <= MAX_TIMESTAMP_SECONDS) {
    parts.push(`"lastUpdatedTime":"${timestamp(view.lastModificationDate)}"`);
  }
  if (view.origin !== undefined) parts.push(`"summary":${q(`IOC Stream ${view.origin} notification`)}`);
  if (view.snippet !== undefined && !dropped.has('metadata.threat.description')) {
    parts.push(`"description":${q(firstChars(view.snippet, MAX_DESCRIPTION_CHARS))}`);
  }
  if (!dropped.has('metadata.threat.detectionFields')) {
    let fields = '';
    if (view.verdict !== undefined) fields += label(fields === '', 'gti_verdict', view.verdict);
    if (view.sourceCountry !== undefined)
      fields += label(fields === '', 'source_country', view.sourceCountry);
    if (view.sourceKey !== undefined) fields += label(fields === '', 'source_key', view.sourceKey);
    if (view.matchInSubfile !== undefined)
      fields += label(fields === '', 'match_in_subfile', String(view.matchInSubfile));
    for (const tag of view.tags) fields += label(fields === '', 'notification_tag', tag);
    if (fields !== '') parts.push(`"detectionFields":[${fields}]`);
  }
  parts.push(`"urlBackToProduct":${q(guiLink)}`);
  return parts.join(',');
}

/** The members (JSON text, without braces) that say what one source of the notification is. */
function sourceThreat(view: EntityView, source: EntitySourceView, dropped: Dropped): string {
  const parts: string[] = [];
  let ruleLabels = '';
  if (source.type !== undefined) ruleLabels += label(ruleLabels === '', 'source_type', source.type);
  if (source.id !== undefined) ruleLabels += label(ruleLabels === '', 'source_id', source.id);
  if (source.label !== undefined) ruleLabels += label(ruleLabels === '', 'source_label', source.label);
  const feed = source.label ?? source.id;
  if (feed !== undefined) parts.push(`"threatFeedName":${q(feed)}`);
  if (source.type === 'hunting_ruleset' || source.type === 'retrohunt_job') {
    // A Livehunt ruleset or a Retrohunt job: a set of YARA rules, one of which matched.
    parts.push('"ruleType":"YARA"');
    if (source.id !== undefined) parts.push(`"ruleSet":${q(source.id)}`);
    if (source.label !== undefined) parts.push(`"ruleSetDisplayName":${q(source.label)}`);
    if (view.ruleName !== undefined) parts.push(`"ruleName":${q(view.ruleName)}`);
    for (const tag of view.ruleTags) ruleLabels += label(ruleLabels === '', 'rule_tag', tag);
  } else if (source.type === 'collection') {
    // A subscribed collection; its type follows from GTI's id convention, as in the parser.
    const item: string[] = [];
    if (source.id !== undefined) item.push(`"id":${q(source.id)}`);
    if (source.id?.startsWith('report--')) item.push('"type":"REPORT"');
    else if (source.id?.startsWith('campaign--')) item.push('"type":"CAMPAIGN"');
    if (source.label !== undefined) item.push(`"altNames":[${q(source.label)}]`);
    if (item.length > 0) parts.push(`"threatCollections":[{${item.join(',')}}]`);
  } else if (source.type === 'threat_actor') {
    let association = '"type":"THREAT_ACTOR"';
    if (source.id !== undefined) association += `,"id":${q(source.id)}`;
    if (source.label !== undefined) association += `,"name":${q(source.label)}`;
    parts.push(`"associations":[{${association}}]`);
  }
  if (ruleLabels !== '' && !dropped.has('metadata.threat.ruleLabels')) {
    parts.push(`"ruleLabels":[${ruleLabels}]`);
  }
  return parts.join(',');
}

/** The indicator as a UDM Noun (JSON text), with the fields Google's entity-graph rules join on. */
function noun(view: EntityView, dropped: Dropped): string | undefined {
  switch (view.type) {
    case 'file': {
      let file = `"sha256":${q(view.sha256 ?? view.id)}`;
      if (view.md5 !== undefined) file += `,"md5":${q(view.md5)}`;
      if (view.sha1 !== undefined) file += `,"sha1":${q(view.sha1)}`;
      // uint64: a string in proto3 JSON.
      if (view.size !== undefined) file += `,"size":"${view.size}"`;
      if (view.names.length > 0 && !dropped.has('entity.file.names')) file += `,"names":${q(view.names)}`;
      if (view.mimeType !== undefined) file += `,"mimeType":${q(view.mimeType)}`;
      return `{"file":{${file}}}`;
    }
    case 'domain':
      // hostname "doubles as the domain for remote entities" (udm.proto Noun.hostname); Google's
      // rules join either graph.entity.hostname or graph.entity.domain.name.
      return `{"hostname":${q(view.id)},"domain":{"name":${q(view.id)}}}`;
    case 'ip_address':
      // Noun.ip as MISP-style IOC rules join it; Artifact.ip "can be used as an entity indicator
      // for an external destination IP entity" (udm.proto), as Google's GCTI feed rules join it.
      return `{"ip":[${q(view.id)}],"artifact":{"ip":${q(view.id)}}}`;
    case 'url':
      return view.url === undefined ? undefined : `{"url":${q(view.url)}}`;
    default:
      return undefined;
  }
}

export function createEntityBuilder(options: EntityOptions): EntityBuilder {
  const days = options.validityDays;
  if (!Number.isSafeInteger(days) || days < 1) {
    throw new RangeError(`validityDays must be a positive whole number of days, got ${days}`);
  }
  const fetchMs = options.fetchTime.getTime();
  if (!Number.isFinite(fetchMs)) throw new RangeError('fetchTime is not a valid date');
  const envelope = entitiesImportEnvelope(options.logType);
  const chunkMaxBytes = options.chunkMaxBytes ?? Number.POSITIVE_INFINITY;
  const maxBytes = chunkMaxBytes - envelope.overheadBytes;
  const collected = `"collectedTimestamp":"${timestamp(Math.floor(fetchMs / 1000))}"`;
  const product = `"vendorName":${q(ENTITY_VENDOR_NAME)},"productName":${q(ENTITY_PRODUCT_NAME)}`;

  /** The entity's JSON text, without the parts in `dropped`; undefined when there is no indicator. */
  const write = (view: EntityView, entityType: string, dropped: Dropped): string | undefined => {
    const indicator = noun(view, dropped);
    if (indicator === undefined) return undefined;
    // The interval's end is exclusive (google.type.Interval); both ends stay valid Timestamps.
    const start = Math.min(view.date, MAX_TIMESTAMP_SECONDS - 1);
    const end = Math.min(start + days * DAY_SECONDS, MAX_TIMESTAMP_SECONDS);
    const shared = sharedThreat(
      view,
      `https://www.virustotal.com/gui/${GUI_SEGMENTS[view.type]}/${view.id}`,
      dropped,
    );
    let threats = '';
    if (view.sources.length === 0) threats = `{${shared}}`;
    for (const source of view.sources) {
      const own = sourceThreat(view, source, dropped);
      threats += `${threats === '' ? '' : ','}{${own === '' ? '' : `${own},`}${shared}}`;
    }
    const description =
      view.origin === undefined
        ? ''
        : `"description":${q(`IOC Stream ${view.origin} notification for ${view.type} ${view.id}`)},`;
    return (
      `{"metadata":{"productEntityId":${q(view.notificationId)},${collected},` +
      `"interval":{"startTime":"${timestamp(start)}","endTime":"${timestamp(end)}"},${product},` +
      `"entityType":"${entityType}",${description}"threat":[${threats}],"sourceType":"ENTITY_CONTEXT"},` +
      `"entity":${indicator}}`
    );
  };

  // Entities are encoded into shared slabs rather than a Buffer each: one UTF-8 pass per entity and
  // no allocation per entity (Buffer.from measures the text, then allocates, then encodes). A slab
  // stays alive while an entity in it does: at most the entities of the chunks being assembled or
  // delivered, which also hold their bytes.
  let slab = Buffer.alloc(0);
  let used = 0;
  const encode = (text: string): Buffer => {
    // At most 3 UTF-8 bytes per UTF-16 code unit: the text always fits, never cut short.
    const most = text.length * 3;
    if (slab.length - used < most) {
      slab = Buffer.allocUnsafe(Math.max(ENTITY_SLAB_BYTES, most));
      used = 0;
    }
    const written = slab.write(text, used, 'utf8');
    const bytes = slab.subarray(used, used + written);
    used += written;
    return bytes;
  };

  const build = (view: EntityView): EntityResult => {
    const entityType = ENTITY_TYPES[view.type];
    const id = view.notificationId;
    if (entityType === undefined) {
      return {
        kind: 'skipped',
        id,
        reason: 'unsupported_type',
        detail: `notification ${id} is about a ${q(view.type.slice(0, 64))} item: no entity type for it`,
      };
    }
    const dropped = new Set<TrimPath>();
    const text = write(view, entityType, dropped);
    if (text === undefined) {
      return {
        kind: 'skipped',
        id,
        reason: 'no_indicator',
        detail: `notification ${id} (${view.type}) has no attributes.url: the URL is unknown`,
      };
    }
    let json = encode(text);
    const trimmed: string[] = [];
    // Rare: drop optional parts one at a time until the entity fits.
    for (const path of ENTITY_TRIM_ORDER) {
      if (json.length <= maxBytes) break;
      dropped.add(path);
      const smaller = encode(write(view, entityType, dropped) as string);
      if (smaller.length === json.length) continue;
      trimmed.push(path);
      json = smaller;
    }
    if (json.length > maxBytes) throw new OversizeError(id, json.length, chunkMaxBytes);
    return { kind: 'entity', entity: { id, date: view.date, json, bytes: json.length, trimmed } };
  };

  return {
    envelope,
    build,
    buildFromNotification: (notification) => build(entityViewFromNotification(notification)),
    buildFromCleaned: (cleaned) => build(entityViewFromCleaned(cleaned)),
  };
}
