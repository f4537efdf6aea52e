/**
 * The small part of a notification the entity builder (shared/pipeline/entities.ts) needs: the
 * descriptor, the context attributes and a dozen attributes. A file notification is 15–40 KB of JSON,
 * of which the view needs well under 1 KB; three ways to get it, all giving the same view (the byte
 * paths pick out the wanted members and hand them to the one normaliser):
 * - entityViewFromNotification: from a parsed notification (the object path);
 * - entityViewFromCleaner: right after JsonCleaner cleaned the item (the GTI page reader's fast
 *   path), from the members the cleaner recorded: no extra pass over the bytes;
 * - entityViewFromCleaned: from cleaned JSON bytes alone, skipping what it does not need (one pass
 *   over the bytes, faster than parsing them but not free; for bytes whose cleaner state is gone).
 *
 * Normalising follows cleaning (shared/gti/clean.ts): null, "", [] and {} count as absent, so a view
 * from a raw notification equals the view from its cleaned bytes. A value of the wrong JSON type (a
 * string where a number belongs, …) only leaves that one field out; a notification without its
 * descriptor (type, id, notification id and date), or malformed bytes, throw a ValidationError.
 */

import { ValidationError } from '../core/errors.js';
import type { JsonObject, JsonValue } from '../core/json.js';
import type { JsonCleaner } from './clean_json.js';
import { type Notification, notificationProblem } from './notification.js';

export interface EntitySourceView {
  readonly type?: string;
  readonly id?: string;
  readonly label?: string;
}

/** last_analysis_stats: engine counts (non-negative integers). */
export interface EntityStatsView {
  readonly malicious?: number;
  readonly suspicious?: number;
  readonly harmless?: number;
  readonly undetected?: number;
}

export interface EntityView {
  /** Item type: file, url, domain, ip_address (others are kept but yield no entity). */
  readonly type: string;
  /** Item id: SHA-256, URL id, domain name, IP address. */
  readonly id: string;
  readonly notificationId: string;
  /** notification_date, unix seconds. */
  readonly date: number;
  readonly origin?: string;
  readonly sources: readonly EntitySourceView[];
  /** context_attributes.tags. */
  readonly tags: readonly string[];
  /** context_attributes.hunting_info (hunting origin only). */
  readonly ruleName?: string;
  readonly ruleTags: readonly string[];
  readonly snippet?: string;
  readonly sourceCountry?: string;
  readonly sourceKey?: string;
  readonly matchInSubfile?: boolean;
  /** File attributes. */
  readonly md5?: string;
  readonly sha1?: string;
  readonly sha256?: string;
  readonly size?: number;
  /** attributes.names, at most MAX_FILE_NAMES of them. */
  readonly names: readonly string[];
  /** attributes.exiftool.MIMEType. */
  readonly mimeType?: string;
  /** attributes.url (URL items). */
  readonly url?: string;
  /** gti_assessment.verdict.value, e.g. VERDICT_MALICIOUS. */
  readonly verdict?: string;
  /** gti_assessment.severity.value, else threat_severity.threat_severity_level, e.g. SEVERITY_HIGH. */
  readonly severity?: string;
  /** gti_assessment.threat_score.value (0–100). */
  readonly threatScore?: number;
  /** mandiant_ic_score, else gti_assessment.contributing_factors.mandiant_confidence_score. */
  readonly confidence?: number;
  readonly stats?: EntityStatsView;
  /** attributes.last_modification_date, unix seconds. */
  readonly lastModificationDate?: number;
}

/**
 * Names kept per file. GTI lists every name a file was submitted under (hundreds for common
 * malware); the entity is for joining on hashes, and the full list stays in the log event.
 */
export const MAX_FILE_NAMES = 20;

/** The attributes the view reads; everything else in `attributes` is skipped unread. */
const WANTED_ATTRIBUTES: ReadonlySet<string> = new Set([
  'exiftool',
  'gti_assessment',
  'last_analysis_stats',
  'last_modification_date',
  'mandiant_ic_score',
  'md5',
  'names',
  'sha1',
  'sha256',
  'size',
  'threat_severity',
  'url',
]);

type Json = JsonValue | undefined;

function object(value: Json): JsonObject | undefined {
  return value !== null && typeof value === 'object' && !Array.isArray(value) ? value : undefined;
}

function text(value: Json): string | undefined {
  return typeof value === 'string' && value !== '' ? value : undefined;
}

function count(value: Json): number | undefined {
  return typeof value === 'number' && Number.isSafeInteger(value) && value >= 0 ? value : undefined;
}

function score(value: Json): number | undefined {
  return typeof value === 'number' && Number.isFinite(value) ? value : undefined;
}

function texts(value: Json, max = Number.POSITIVE_INFINITY): string[] {
  if (!Array.isArray(value)) return [];
  const out: string[] = [];
  for (const item of value) {
    if (out.length >= max) break;
    const s = text(item);
    if (s !== undefined) out.push(s);
  }
  return out;
}

/** One attribute's value by name; byte paths parse only what is asked for. */
type Attribute = (name: string) => Json;

/**
 * The one normaliser. Every key of EntityView is always present (undefined when absent), so views
 * from different paths compare equal and keep one object shape.
 */
function normalise(
  type: string,
  id: string,
  context: Notification['context_attributes'],
  attribute: Attribute,
): EntityView {
  const ctx = context as unknown as JsonObject;
  const hunting = object(ctx.hunting_info);
  const sources: EntitySourceView[] = [];
  if (Array.isArray(ctx.sources)) {
    for (const item of ctx.sources) {
      const source = object(item);
      if (source === undefined) continue;
      const view = { type: text(source.type), id: text(source.id), label: text(source.label) };
      if (view.type !== undefined || view.id !== undefined || view.label !== undefined) sources.push(view);
    }
  }
  const statsObject = object(attribute('last_analysis_stats'));
  let stats: EntityStatsView | undefined;
  if (statsObject !== undefined) {
    stats = {
      malicious: count(statsObject.malicious),
      suspicious: count(statsObject.suspicious),
      harmless: count(statsObject.harmless),
      undetected: count(statsObject.undetected),
    };
    if (Object.values(stats).every((v) => v === undefined)) stats = undefined;
  }
  const gti = object(attribute('gti_assessment'));
  const matchInSubfile = hunting?.match_in_subfile;
  return {
    type,
    id,
    notificationId: context.notification_id,
    date: context.notification_date,
    origin: text(ctx.origin),
    sources,
    tags: texts(ctx.tags),
    ruleName: text(hunting?.rule_name),
    ruleTags: texts(hunting?.rule_tags),
    snippet: text(hunting?.snippet),
    sourceCountry: text(hunting?.source_country),
    sourceKey: text(hunting?.source_key),
    matchInSubfile: typeof matchInSubfile === 'boolean' ? matchInSubfile : undefined,
    md5: text(attribute('md5')),
    sha1: text(attribute('sha1')),
    sha256: text(attribute('sha256')),
    size: count(attribute('size')),
    names: texts(attribute('names'), MAX_FILE_NAMES),
    mimeType: text(object(attribute('exiftool'))?.MIMEType),
    url: text(attribute('url')),
    verdict: text(object(gti?.verdict)?.value),
    // threat_severity is read only when the assessment has no severity.
    severity:
      text(object(gti?.severity)?.value) ?? text(object(attribute('threat_severity'))?.threat_severity_level),
    threatScore: score(object(gti?.threat_score)?.value),
    confidence:
      score(attribute('mandiant_ic_score')) ??
      score(object(gti?.contributing_factors)?.mandiant_confidence_score),
    stats,
    lastModificationDate: count(attribute('last_modification_date')),
  };
}

/** The view of a parsed notification (raw or cleaned: the result is the same). */
export function entityViewFromNotification(notification: Notification): EntityView {
  const problem = notificationProblem(notification);
  if (problem !== undefined) throw new ValidationError(`cannot build an entity: ${problem}`);
  const attributes = object(notification.attributes as Json);
  return normalise(notification.type, notification.id, notification.context_attributes, (name) =>
    attributes === undefined || !Object.hasOwn(attributes, name) ? undefined : attributes[name],
  );
}

// ---------------------------------------------------------------------------------------------
// From cleaned JSON bytes

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const COMMA = 0x2c;
const COLON = 0x3a;
const LBRACE = 0x7b;
const RBRACE = 0x7d;
const LBRACKET = 0x5b;
const RBRACKET = 0x5d;

/** 1 for JSON whitespace. */
const SPACE = new Uint8Array(256);
for (const c of [0x20, 0x09, 0x0a, 0x0d]) SPACE[c] = 1;
/** What the skipper must look at inside a container: quotes and brackets (2 = open, 3 = close). */
const STRUCTURAL = new Uint8Array(256);
STRUCTURAL[QUOTE] = 1;
STRUCTURAL[LBRACE] = 2;
STRUCTURAL[LBRACKET] = 2;
STRUCTURAL[RBRACE] = 3;
STRUCTURAL[RBRACKET] = 3;

const MALFORMED = 'notification JSON is malformed';

/**
 * A forward reader over one JSON document. It checks structure only as far as it needs to find
 * the members it is asked for (the bytes come from the cleaner, which wrote valid JSON); every loop
 * is bounded by the buffer's length, so malformed input ends in a ValidationError, never a hang.
 */
class Reader {
  p: number;
  constructor(
    readonly buf: Buffer,
    start: number,
    readonly end: number,
  ) {
    this.p = start;
  }

  ws(): void {
    const { buf, end } = this;
    let p = this.p;
    while (p < end && SPACE[buf[p] as number] === 1) p++;
    this.p = p;
  }

  fail(): never {
    throw new ValidationError(`${MALFORMED} near byte ${this.p}`);
  }

  /** Past the string starting at p (at its opening quote); returns the offset after the closing one. */
  stringEnd(p: number): number {
    const { buf, end } = this;
    p += 1;
    while (p < end) {
      const c = buf[p] as number;
      if (c === QUOTE) return p + 1;
      p += c === BACKSLASH ? 2 : 1;
    }
    this.p = end;
    return this.fail();
  }

  /** Skips the value at p (after whitespace); leaves p just past it. */
  skip(): void {
    this.ws();
    const { buf, end } = this;
    let p = this.p;
    if (p >= end) this.fail();
    const first = buf[p] as number;
    if (first === QUOTE) {
      this.p = this.stringEnd(p);
      return;
    }
    if (first !== LBRACE && first !== LBRACKET) {
      // A number, true, false or null: up to the next delimiter.
      while (p < end) {
        const c = buf[p] as number;
        if (c === COMMA || c === RBRACE || c === RBRACKET || SPACE[c] === 1) break;
        p++;
      }
      this.p = p;
      return;
    }
    let depth = 0;
    while (p < end) {
      const kind = STRUCTURAL[buf[p] as number] as number;
      if (kind === 0) {
        p++;
      } else if (kind === 1) {
        p = this.stringEnd(p);
      } else if (kind === 2) {
        depth++;
        p++;
      } else {
        depth--;
        p++;
        if (depth === 0) {
          this.p = p;
          return;
        }
      }
    }
    this.p = end;
    this.fail();
  }

  /**
   * Calls `visit` for each member of the object at p with its key (undefined for a key with
   * escapes, which no wanted key has) and the value's offsets; leaves p past the object.
   */
  members(visit: (key: string | undefined, start: number, end: number) => void): void {
    this.ws();
    const { buf } = this;
    if (buf[this.p] !== LBRACE) this.fail();
    this.p++;
    this.ws();
    if (buf[this.p] === RBRACE) {
      this.p++;
      return;
    }
    for (;;) {
      this.ws();
      if (buf[this.p] !== QUOTE) this.fail();
      const keyStart = this.p + 1;
      const keyEnd = this.stringEnd(this.p) - 1;
      this.p = keyEnd + 1;
      let escaped = false;
      for (let i = keyStart; i < keyEnd; i++) if (buf[i] === BACKSLASH) escaped = true;
      const key = escaped ? undefined : buf.toString('latin1', keyStart, keyEnd);
      this.ws();
      if (buf[this.p] !== COLON) this.fail();
      this.p++;
      this.ws();
      const valueStart = this.p;
      this.skip();
      visit(key, valueStart, this.p);
      this.ws();
      const c = buf[this.p];
      this.p++;
      if (c === RBRACE) return;
      if (c !== COMMA) this.fail();
    }
  }

  /**
   * The first `max` elements of the array at p, parsed in one go (the rest is skipped, not
   * parsed); leaves p past the array.
   */
  elements(max: number): JsonValue[] {
    this.ws();
    const { buf } = this;
    const start = this.p;
    if (buf[start] !== LBRACKET) this.fail();
    this.p++;
    this.ws();
    if (buf[this.p] === RBRACKET) {
      this.p++;
      return [];
    }
    let n = 0;
    let cut = -1;
    for (;;) {
      this.skip();
      n++;
      if (n === max) cut = this.p;
      this.ws();
      const c = buf[this.p];
      this.p++;
      if (c === RBRACKET) break;
      if (c !== COMMA) this.fail();
      this.ws();
    }
    if (cut < 0) return parseSlice(buf, start, this.p) as JsonValue[];
    return parseText(`${buf.toString('utf8', start, cut)}]`, start, cut) as JsonValue[];
  }
}

function parseText(text: string, start: number, end: number): JsonValue {
  try {
    return JSON.parse(text) as JsonValue;
  } catch {
    // JSON.parse's message quotes the text: only the position is reported.
    throw new ValidationError(`${MALFORMED} at bytes ${start}..${end}`);
  }
}

function parseSlice(buf: Buffer, start: number, end: number): JsonValue {
  return parseText(buf.toString('utf8', start, end), start, end);
}

/**
 * One member's cleaned JSON, parsed. Plain strings and numbers (most members) are decoded without
 * JSON.parse; anything else, and anything unusual, goes through it.
 */
function parseMember(bytes: Buffer): JsonValue {
  const last = bytes.length - 1;
  const first = bytes[0];
  if (first === QUOTE && last > 0 && bytes[last] === QUOTE) {
    let plain = true;
    for (let i = 1; i < last; i++) {
      const c = bytes[i] as number;
      if (c === BACKSLASH || c < 0x20) {
        plain = false;
        break;
      }
    }
    if (plain) return bytes.toString('utf8', 1, last);
  } else if (first !== undefined && ((first >= 0x30 && first <= 0x39) || first === 0x2d)) {
    const n = Number(bytes.toString('latin1'));
    if (Number.isFinite(n)) return n;
  }
  return parseSlice(bytes, 0, bytes.length);
}

/** An Attribute over members' cleaned JSON (`get` returns a member's bytes), parsed on demand. */
function attributeReader(get: (key: string) => Buffer | undefined): Attribute {
  return (name) => {
    if (!WANTED_ATTRIBUTES.has(name)) return undefined;
    const bytes = get(name);
    if (bytes === undefined) return undefined;
    if (name === 'names') {
      return bytes[0] === LBRACKET ? new Reader(bytes, 0, bytes.length).elements(MAX_FILE_NAMES) : undefined;
    }
    if (name === 'exiftool') {
      // Only MIMEType is read; the rest of exiftool (which can be large) is skipped.
      if (bytes[0] !== LBRACE) return undefined;
      let mime: Json;
      new Reader(bytes, 0, bytes.length).members((field, s, e) => {
        if (field === 'MIMEType') mime = parseMember(bytes.subarray(s, e));
      });
      return mime === undefined ? undefined : { MIMEType: mime };
    }
    return parseMember(bytes);
  };
}

function fromParts(type: Json, id: Json, context: Json, attribute: Attribute): EntityView {
  const notification = { type, id, context_attributes: context };
  const problem = notificationProblem(notification);
  if (problem !== undefined) throw new ValidationError(`cannot build an entity: ${problem}`);
  const checked = notification as unknown as Notification;
  return normalise(checked.type, checked.id, checked.context_attributes, attribute);
}

/** The descriptor members of a notification, parsed (what page_item.ts's cleanedDescriptor parses). */
export interface NotificationHead {
  readonly type: unknown;
  readonly id: unknown;
  readonly context_attributes: unknown;
}

/**
 * The view of the object `cleaner` cleaned last (call it before the cleaner's next use): from the
 * top-level members and the `attributes` members the cleaner recorded while cleaning. `head`, when
 * the caller already parsed the descriptor, saves parsing it again.
 */
export function entityViewFromCleaner(cleaner: JsonCleaner, head?: NotificationHead): EntityView {
  const member = (key: string): Json => {
    const bytes = cleaner.member(key);
    return bytes === undefined ? undefined : parseMember(bytes);
  };
  const attribute = attributeReader((key) => cleaner.attributeMember(key));
  if (head !== undefined) {
    return fromParts(head.type as Json, head.id as Json, head.context_attributes as Json, attribute);
  }
  return fromParts(member('type'), member('id'), member('context_attributes'), attribute);
}

/**
 * The view from a notification's cleaned JSON bytes (one JSON object, as shared/gti/clean_json.ts
 * or JSON.stringify writes it; whitespace is tolerated). Only the descriptor, context_attributes
 * and the wanted attributes are parsed; the rest is skipped. Throws ValidationError when the bytes
 * are not a notification object.
 */
export function entityViewFromCleaned(cleaned: Buffer): EntityView {
  const reader = new Reader(cleaned, 0, cleaned.length);
  const top: Record<string, JsonValue> = {};
  const offsets = new Map<string, [number, number]>();
  reader.members((key, start, end) => {
    if (key === 'attributes') {
      if (cleaned[start] !== LBRACE) return;
      new Reader(cleaned, start, end).members((name, s, e) => {
        if (name !== undefined && WANTED_ATTRIBUTES.has(name)) offsets.set(name, [s, e]);
      });
    } else if (key === 'type' || key === 'id' || key === 'context_attributes') {
      top[key] = parseMember(cleaned.subarray(start, end));
    }
  });
  return fromParts(
    top.type,
    top.id,
    top.context_attributes,
    attributeReader((key) => {
      const at = offsets.get(key);
      return at === undefined ? undefined : cleaned.subarray(at[0], at[1]);
    }),
  );
}
