/**
 * Turns one notification into one logs:import entry, serialised once, with its exact byte size.
 *
 * Entry: data = base64 of the cleaned notification JSON; logEntryTime = notification_date;
 * collectionTime = when the GTI page holding it was received, kept strictly after logEntryTime
 * (collectionTimeMs); environmentNamespace when set; labels use_case_name (and trimmed_fields when
 * trimmed). Both times are written as RFC 3339 UTC with milliseconds (`toISOString`). A notification whose id or date is
 * missing or malformed is imported all the same: logEntryTime falls back to the fetch time and the
 * label invalid_fields names what was wrong (the pipeline reports it with its position).
 *
 * Values nested deeper than MAX_CLEAN_DEPTH are removed by cleaning and listed like trims.
 *
 * A notification too large for one request is trimmed, never dropped: the attributes in
 * TRIM_ORDER go first, then the remaining attributes largest first (keeping KEEP_ATTRIBUTES),
 * then everything in `attributes`. Removed paths are listed in the top-level `ioc_stream_trimmed`
 * field and the `trimmed_fields` label. Only when even the descriptor cannot fit is an
 * OversizeError thrown, naming the notification.
 */

import { type EntryParts, logsImportEnvelope, type RequestEnvelope } from '../chronicle/request_body.js';
import { configuredForwarder } from '../chronicle/resources.js';
import type { Config } from '../core/config.js';
import { OversizeError } from '../core/errors.js';
import type { JsonValue } from '../core/json.js';
import { cleanNotification, cleanObject } from '../gti/clean.js';
import type { Notification } from '../gti/notification.js';
import type { EntityContextOptions } from './entities.js';

/** Bulkiest file attributes first; documented in the README. */
export const TRIM_ORDER: readonly string[] = [
  'last_analysis_results',
  'pe_info',
  'crowdsourced_yara_results',
  'sigma_analysis_results',
  'crowdsourced_ids_results',
  'sandbox_verdicts',
  'exiftool',
  'elf_info',
  'macho_info',
  'androguard',
  'bundle_info',
  'trid',
  'names',
];

/** Never removed before the final "descriptor only" step: what the parser and YARA-L rules join on. */
export const KEEP_ATTRIBUTES: ReadonlySet<string> = new Set([
  'md5',
  'sha1',
  'sha256',
  'size',
  'ssdeep',
  'vhash',
  'tlsh',
  'type_tags',
  'meaningful_name',
  'last_analysis_stats',
  'gti_assessment',
  'threat_severity',
  'mandiant_ic_score',
  'url',
  'last_final_url',
  'network',
  'asn',
  'as_owner',
  'country',
  'first_submission_date',
  'last_submission_date',
  'last_analysis_date',
  'name',
]);

export const TRIMMED_FIELD = 'ioc_stream_trimmed';
/** Label naming the fields of a notification found missing or malformed (it was imported anyway). */
export const INVALID_LABEL = 'invalid_fields';

/**
 * How far collectionTime is kept after logEntryTime at least. The REST reference of the Log
 * resource says collectionTime "Must be after the logEntryTime"
 * (https://cloud.google.com/chronicle/docs/reference/rest/v1alpha/projects.locations.instances.logTypes.logs#Log);
 * whether the service enforces it, and at which resolution it compares, is *unconfirmed*.
 * notification_date is whole seconds, so a full second keeps collectionTime strictly after at
 * any resolution (seconds, milliseconds, nanoseconds) for a notification dated at or after our
 * clock (GTI's clock may run a few seconds ahead of ours).
 */
export const COLLECTION_AFTER_ENTRY_MS = 1000;

/** The latest instant an RFC 3339 / google.protobuf.Timestamp can hold at millisecond precision. */
const MAX_TIMESTAMP_MS = Date.UTC(9999, 11, 31, 23, 59, 59, 999);

/**
 * collectionTime (epoch ms) of an entry dated `entrySeconds` whose page was received at
 * `receivedMs`: the receive time, or logEntryTime + COLLECTION_AFTER_ENTRY_MS when that is later.
 * Capped at 9999-12-31T23:59:59.999Z (still after any valid notification_date), so a notification
 * dated at the very end of the range still gets a writable time.
 */
export function collectionTimeMs(entrySeconds: number, receivedMs: number): number {
  return Math.min(Math.max(receivedMs, entrySeconds * 1000 + COLLECTION_AFTER_ENTRY_MS), MAX_TIMESTAMP_MS);
}

export interface EntryOptions {
  /**
   * Collection time for entries built without one. A fetch run passes each GTI page's receive time
   * instead (fetch_run.ts); either way collectionTimeMs keeps it after logEntryTime.
   */
  readonly fetchTime: Date;
  readonly namespace: string | undefined;
  readonly useCaseName: string;
  readonly chunkMaxBytes: number;
  /** Full forwarder resource name, or undefined. */
  readonly forwarder: string | undefined;
  /**
   * Entities beside the log entries (entities:import, shared/pipeline/entities.ts), or undefined
   * when CHRONICLE_ENTITY_CONTEXT is false.
   */
  readonly entityContext?: EntityContextOptions | undefined;
}

/**
 * Entry options as the configuration gives them (sync and the fetcher build them the same way),
 * entities included.
 */
export function entryOptions(config: Config, fetchTime: Date): EntryOptions {
  return {
    fetchTime,
    namespace: config.entries.namespace,
    useCaseName: config.entries.useCaseName,
    chunkMaxBytes: config.entries.chunkMaxBytes,
    forwarder: configuredForwarder(config.chronicle),
    entityContext: config.entityContext.enabled
      ? { validityDays: config.entityContext.validityDays, logType: config.chronicle.logType }
      : undefined,
  };
}

/** One serialised logs:import entry. */
export interface PreparedEntry extends EntryParts {
  readonly id: string;
  /** notification_date; undefined when it is missing, malformed or far ahead (it then never moves the checkpoint). */
  readonly date: number | undefined;
  /** Base64 of the cleaned notification JSON (ASCII). */
  readonly data: string;
  /** The entry text after the data: times, namespace, labels. */
  readonly tail: string;
  /** The JSON text of the entry object, exactly as it goes into the request: ENTRY_PREFIX + data + tail. */
  readonly json: string;
  /** UTF-8 byte length of `json`. */
  readonly bytes: number;
  /** Dotted paths removed to make it fit; empty when untouched. */
  readonly trimmed: readonly string[];
  /** Fields found missing or malformed (label `invalid_fields`); empty for a good notification. */
  readonly invalid: readonly string[];
}

/**
 * How an item that is not a well-formed notification is still imported: its id (derived when it
 * has none), its date (undefined = logEntryTime falls back to the fetch time) and what was wrong.
 */
export interface EntryMeta {
  readonly id: string;
  readonly date: number | undefined;
  readonly invalid: readonly string[];
  /** When its GTI page was received (epoch ms): its collectionTime; default the builder's fetchTime. */
  readonly receivedMs?: number;
}

/** The entry text before the base64 data. */
const ENTRY_PREFIX = '{"data":"';
const SCRATCH_MAX_BYTES = 1 << 20;

export interface EntryBuilder {
  /** The request body around this builder's entries (logsImportEnvelope(forwarder)). */
  readonly envelope: RequestEnvelope;
  /**
   * From a notification object: cleans it (shared/gti/clean.ts), then as buildCleaned. Without
   * `meta` its id and date are its context_attributes' (which must be valid); `meta.receivedMs` is
   * when its GTI page was received.
   */
  build(notification: Notification | Record<string, unknown>, meta?: EntryMeta): PreparedEntry;
  /** From the notification's cleaned JSON bytes (what shared/gti/clean_json.ts writes). */
  buildCleaned(
    cleaned: Buffer,
    id: string,
    date: number | undefined,
    invalid?: readonly string[],
    receivedMs?: number,
  ): PreparedEntry;
}

export function createEntryBuilder(options: EntryOptions): EntryBuilder {
  const envelope = logsImportEnvelope(options.forwarder);
  const maxEntryBytes = options.chunkMaxBytes - envelope.overheadBytes;
  const fetchMs = options.fetchTime.getTime();
  const nsPart =
    options.namespace === undefined ? '' : `,"environmentNamespace":${JSON.stringify(options.namespace)}`;
  const useCaseLabel = `"use_case_name":{"value":${JSON.stringify(options.useCaseName)}}`;

  /** The entry text after the base64 data; small, so measuring its UTF-8 bytes is cheap. */
  const afterData = (meta: EntryMeta, trimmed: readonly string[]): string => {
    // Without a usable notification_date the entry is dated when it was fetched (and labelled).
    const receivedMs = meta.receivedMs ?? fetchMs;
    const entryMs = meta.date === undefined ? receivedMs : meta.date * 1000;
    const logEntryTime = new Date(entryMs).toISOString();
    const collectionTime = new Date(collectionTimeMs(entryMs / 1000, receivedMs)).toISOString();
    const trimmedLabel =
      trimmed.length === 0 ? '' : `,"trimmed_fields":{"value":${JSON.stringify(trimmed.join(','))}}`;
    const invalidLabel =
      meta.invalid.length === 0
        ? ''
        : `,"${INVALID_LABEL}":{"value":${JSON.stringify(meta.invalid.join(','))}}`;
    return `","logEntryTime":"${logEntryTime}","collectionTime":"${collectionTime}"${nsPart},"labels":{${useCaseLabel}${trimmedLabel}${invalidLabel}}}`;
  };

  /** The entry around already-cleaned JSON bytes. */
  const encodeBytes = (raw: Buffer, meta: EntryMeta, trimmed: readonly string[]): Encoded => {
    const data = raw.toString('base64');
    const tail = afterData(meta, trimmed);
    return {
      head: ENTRY_PREFIX,
      data,
      tail,
      json: ENTRY_PREFIX + data + tail,
      // Base64 is ASCII, so only the small tail needs a UTF-8 count: no pass over the whole entry.
      bytes: ENTRY_PREFIX.length + data.length + Buffer.byteLength(tail),
    };
  };

  // One scratch buffer for the UTF-8 bytes of serialised objects, reused across entries: no
  // ArrayBuffer allocated (and later collected) per entry. Outliers beyond SCRATCH_MAX_BYTES get
  // their own buffer, so the builder never keeps more than that.
  let scratch = Buffer.allocUnsafe(1 << 16);
  const encode = (
    cleaned: Record<string, JsonValue>,
    meta: EntryMeta,
    trimmed: readonly string[],
  ): Encoded => {
    const text = JSON.stringify(cleaned);
    // A UTF-16 code unit takes at most 3 UTF-8 bytes.
    const worst = text.length * 3;
    if (worst > SCRATCH_MAX_BYTES) return encodeBytes(Buffer.from(text, 'utf8'), meta, trimmed);
    if (scratch.length < worst) scratch = Buffer.allocUnsafe(Math.max(worst, scratch.length * 2));
    return encodeBytes(scratch.subarray(0, scratch.write(text, 0, 'utf8')), meta, trimmed);
  };

  return {
    envelope,
    build(notification, given) {
      const context = (notification as Notification).context_attributes;
      const meta: EntryMeta = given ?? {
        id: context.notification_id,
        date: context.notification_date,
        invalid: [],
      };
      const { cleaned, trimmed: tooDeep } = cleanNotification(notification as Record<string, unknown>);
      if (tooDeep.length === 0) {
        const first = encode(cleaned, meta, []);
        if (first.bytes <= maxEntryBytes) return { ...meta, ...first, trimmed: [] };
      }
      return trim(cleaned, meta, tooDeep, encode, maxEntryBytes, options.chunkMaxBytes);
    },
    buildCleaned(cleaned, id, date, invalid = [], receivedMs = fetchMs) {
      const meta: EntryMeta = { id, date, invalid, receivedMs };
      const first = encodeBytes(cleaned, meta, []);
      if (first.bytes <= maxEntryBytes) return { ...meta, ...first, trimmed: [] };
      // Too large: trimming works on the object (rare, and removing whole attributes is simplest there).
      const object = JSON.parse(cleaned.toString('utf8')) as Record<string, JsonValue>;
      return trim(object, meta, [], encode, maxEntryBytes, options.chunkMaxBytes);
    },
  };
}

interface Encoded {
  readonly data: string;
  readonly tail: string;
  readonly json: string;
  readonly bytes: number;
  readonly head: string;
}

type Encoder = (cleaned: Record<string, JsonValue>, meta: EntryMeta, trimmed: readonly string[]) => Encoded;

/**
 * Removes attributes until the entry fits. `already` lists what cleaning removed (values nested
 * too deep): they are reported with the rest, so an entry with any is built here too.
 */
function trim(
  cleaned: Record<string, JsonValue>,
  meta: EntryMeta,
  already: readonly string[],
  encode: Encoder,
  maxEntryBytes: number,
  chunkMaxBytes: number,
): PreparedEntry {
  const original = cleaned.attributes;
  const attributes: Record<string, JsonValue> =
    original !== null && typeof original === 'object' && !Array.isArray(original) ? { ...original } : {};
  const removed: string[] = [...already];
  const attempt = (): PreparedEntry | undefined => {
    const copy: Record<string, JsonValue> = { ...cleaned };
    if (Object.keys(attributes).length > 0) copy.attributes = attributes;
    else delete copy.attributes;
    copy[TRIMMED_FIELD] = [...removed];
    const ordered = cleanObject(copy);
    const encoded = encode(ordered, meta, removed);
    return encoded.bytes <= maxEntryBytes ? { ...meta, ...encoded, trimmed: [...removed] } : undefined;
  };
  const remove = (key: string): PreparedEntry | undefined => {
    delete attributes[key];
    removed.push(`attributes.${key}`);
    return attempt();
  };

  if (already.length > 0) {
    const fitted = attempt();
    if (fitted) return fitted;
  }
  for (const key of TRIM_ORDER) {
    if (!(key in attributes)) continue;
    const fitted = remove(key);
    if (fitted) return fitted;
  }
  const bySize = Object.keys(attributes)
    .filter((key) => !KEEP_ATTRIBUTES.has(key))
    .map((key) => ({ key, size: JSON.stringify(attributes[key]).length }))
    .sort((a, b) => b.size - a.size || (a.key < b.key ? -1 : 1));
  for (const { key } of bySize) {
    const fitted = remove(key);
    if (fitted) return fitted;
  }
  // Descriptor only: type, id, links, context_attributes.
  for (const key of Object.keys(attributes).sort()) {
    delete attributes[key];
    removed.push(`attributes.${key}`);
  }
  const descriptor = attempt();
  if (descriptor) return descriptor;
  const copy: Record<string, JsonValue> = { ...cleaned, [TRIMMED_FIELD]: removed };
  delete copy.attributes;
  throw new OversizeError(meta.id, encode(cleanObject(copy), meta, removed).bytes, chunkMaxBytes);
}
