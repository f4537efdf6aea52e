/**
 * Parser validation against the SecOps API: runs custom_parser/ioc_stream.parser on the sample raw
 * logs through `logTypes/{logType}:runParser` (the only faithful executor of a parser), normalises the
 * UDM events it returns and diffs them against the golden events, or rewrites the goldens.
 *
 * Wire format (from Google's public client code and the REST reference of logTypes.runParser):
 *   POST {base}/{version}/projects/{p}/locations/{r}/instances/{c}/logTypes/{logType}:runParser
 *   {"parser":{"cbn":"<base64 parser>"},"log":["<base64 raw log>",...],"statedumpAllowed":false}
 *   -> {"runParserResults":[{"log":"<base64>","parsedEvents":{"events":[{"event":{UDM}}]},
 *       "error":{"code":3,"message":"..."}}, ...]}   (one result per log, in request order)
 * Golden files (custom_parser/events/<sample>.json) hold `{"events":[{"event":{UDM}}]}` in that shape.
 */

import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ValidationError } from '../core/errors.js';
import type { JsonValue } from '../core/json.js';
import { chronicleRequest, type HttpSettings } from './api.js';
import type { AuthHeaders } from './auth.js';
import { type ChronicleTarget, logTypeUrl } from './resources.js';

export const PARSER_FILE = 'ioc_stream.parser';
export const LOGS_DIR = 'logs';
export const EVENTS_DIR = 'events';
export const LOG_SUFFIX = '.log';
export const EVENT_SUFFIX = '.json';

/**
 * Fields Chronicle sets itself (at ingestion or when running the parser), never the parser: they are
 * left out of the comparison and of rewritten goldens. Paths use snake_case; keys are compared after
 * converting to snake_case, so camelCase answers match too.
 */
export const IGNORED_EVENT_FIELDS: readonly string[] = [
  'metadata.id',
  'metadata.ingested_timestamp',
  'metadata.collected_timestamp',
  'metadata.log_type',
  'metadata.base_labels',
  'metadata.enrichment_labels',
  'metadata.enrichment_state',
  'metadata.ingestion_labels',
  'metadata.tags',
  'metadata.parser_version',
];

/** UDM fields of type google.protobuf.Struct: their keys are data, never renamed. */
const STRUCT_FIELDS = new Set([
  'additional',
  'extracted',
  'structured_fields',
  'html_meta',
  'last_http_response_cookies',
  'last_http_response_headers',
  'cert_extensions',
]);

export interface ParserSample {
  /** Base name shared by logs/<name>.log and events/<name>.json. */
  readonly name: string;
  /** The raw log bytes exactly as the sender emits them. */
  readonly log: Buffer;
  /** The golden file content, or undefined when it does not exist yet. */
  readonly golden: GoldenFile | undefined;
}

export interface GoldenFile {
  readonly events: readonly { readonly event: JsonValue }[];
}

export interface ParserSuite {
  readonly dir: string;
  readonly parser: string;
  readonly samples: readonly ParserSample[];
  /** Golden files without a sample (reported, never sent). */
  readonly orphanGoldens: readonly string[];
}

/** Reads the parser, the samples and their goldens from a custom_parser directory. */
export function loadParserSuite(dir: string): ParserSuite {
  let parser: string;
  try {
    parser = readFileSync(join(dir, PARSER_FILE), 'utf8');
  } catch (error) {
    throw new ValidationError(`Cannot read ${join(dir, PARSER_FILE)}`, { cause: error });
  }
  const names = listBaseNames(join(dir, LOGS_DIR), LOG_SUFFIX);
  const goldens = new Set(listBaseNames(join(dir, EVENTS_DIR), EVENT_SUFFIX));
  if (names.length === 0)
    throw new ValidationError(`No sample logs (*${LOG_SUFFIX}) in ${join(dir, LOGS_DIR)}`);
  const samples = names.map((name): ParserSample => {
    const log = readFileSync(join(dir, LOGS_DIR, `${name}${LOG_SUFFIX}`));
    let golden: GoldenFile | undefined;
    if (goldens.has(name)) {
      const path = join(dir, EVENTS_DIR, `${name}${EVENT_SUFFIX}`);
      const parsed = JSON.parse(readFileSync(path, 'utf8')) as unknown;
      if (!isGolden(parsed)) throw new ValidationError(`${path} is not {"events":[{"event":{...}}]}`);
      golden = parsed;
    }
    return { name, log, golden };
  });
  const orphanGoldens = [...goldens].filter((g) => !names.includes(g)).sort();
  return { dir, parser, samples, orphanGoldens };
}

function listBaseNames(dir: string, suffix: string): string[] {
  let entries: string[];
  try {
    entries = readdirSync(dir);
  } catch {
    return [];
  }
  return entries
    .filter((f) => f.endsWith(suffix))
    .map((f) => f.slice(0, -suffix.length))
    .sort();
}

function isGolden(value: unknown): value is GoldenFile {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return false;
  const events = (value as { events?: unknown }).events;
  return (
    Array.isArray(events) &&
    events.every((e) => e !== null && typeof e === 'object' && 'event' in (e as Record<string, unknown>))
  );
}

/** URL of `logTypes/{logType}:runParser` for the configured instance. */
export function runParserUrl(target: ChronicleTarget): string {
  return logTypeUrl(target, ':runParser');
}

export interface RunParserRequest {
  readonly parser: { readonly cbn: string };
  readonly log: readonly string[];
  readonly statedumpAllowed: boolean;
}

/** Builds the request body: the parser and every log as base64 of their UTF-8 bytes. */
export function buildRunParserRequest(parser: string, logs: readonly Buffer[]): RunParserRequest {
  return {
    parser: { cbn: Buffer.from(parser, 'utf8').toString('base64') },
    log: logs.map((l) => l.toString('base64')),
    statedumpAllowed: false,
  };
}

/** What the parser made of one log. */
export interface RunParserResult {
  readonly events: readonly { readonly event: JsonValue }[];
  /** The parser's error for this log (google.rpc.Status message), if any. */
  readonly error: string | undefined;
}

/** Reads a runParser answer; accepts camelCase and snake_case keys. One result per submitted log. */
export function parseRunParserResponse(body: unknown, logCount: number): RunParserResult[] {
  const root = asRecord(body);
  const results = root?.runParserResults ?? root?.run_parser_results;
  if (!Array.isArray(results)) throw new ValidationError('runParser answer has no runParserResults list');
  if (results.length !== logCount) {
    throw new ValidationError(`runParser returned ${results.length} results for ${logCount} logs`);
  }
  return results.map((raw, index) => {
    const result = asRecord(raw);
    if (!result) throw new ValidationError(`runParser result ${index} is not an object`);
    const parsed = asRecord(result.parsedEvents ?? result.parsed_events);
    const list = parsed?.events;
    const events = (Array.isArray(list) ? list : []).map((wrapper, i) => {
      const w = asRecord(wrapper);
      if (!w || w.event === undefined)
        throw new ValidationError(`runParser result ${index} event ${i} has no event`);
      return { event: w.event as JsonValue };
    });
    const errorRecord = asRecord(result.error);
    const errors = Array.isArray(result.errors) ? result.errors.map((e) => asRecord(e)?.message ?? e) : [];
    const error =
      errorRecord !== undefined
        ? String(errorRecord.message ?? JSON.stringify(errorRecord))
        : errors.length > 0
          ? errors.map(String).join('; ')
          : undefined;
    return { events, error };
  });
}

function asRecord(value: unknown): Record<string, unknown> | undefined {
  return value !== null && typeof value === 'object' && !Array.isArray(value)
    ? (value as Record<string, unknown>)
    : undefined;
}

export function toSnakeCase(key: string): string {
  return key.replace(/([a-z0-9])([A-Z])/g, '$1_$2').toLowerCase();
}

export function toCamelCase(key: string): string {
  return key.replace(/_([a-z0-9])/g, (_, c: string) => c.toUpperCase());
}

/**
 * Canonical form of one UDM event for comparison and for goldens: keys in camelCase (the API's JSON
 * names) except inside Struct fields, keys sorted, ignored (ingestion-set) fields removed.
 */
export function normalizeEvent(event: JsonValue): JsonValue {
  return normalizeValue(event, '', false);
}

function normalizeValue(value: JsonValue, snakePath: string, inStruct: boolean): JsonValue {
  if (Array.isArray(value)) return value.map((v) => normalizeValue(v, snakePath, inStruct));
  if (value === null || typeof value !== 'object') return value;
  const out: { [key: string]: JsonValue } = {};
  const entries = Object.entries(value).map(([key, v]) => {
    if (inStruct) return [key, key, v] as const;
    const snake = toSnakeCase(key);
    return [toCamelCase(snake), snake, v] as const;
  });
  entries.sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
  for (const [key, snake, v] of entries) {
    const path = inStruct ? snakePath : snakePath === '' ? snake : `${snakePath}.${snake}`;
    if (!inStruct && IGNORED_EVENT_FIELDS.includes(path)) continue;
    out[key] = normalizeValue(v, path, inStruct || STRUCT_FIELDS.has(snake));
  }
  return out;
}

/** Normalises a list of `{event}` wrappers. */
export function normalizeEvents(events: readonly { readonly event: JsonValue }[]): { event: JsonValue }[] {
  return events.map((e) => ({ event: normalizeEvent(e.event) }));
}

/** Differences between two JSON values, one line per differing path (empty when equal). */
export function diffJson(expected: unknown, actual: unknown, path = '$'): string[] {
  if (Object.is(expected, actual)) return [];
  const show = (v: unknown) => (v === undefined ? '<missing>' : JSON.stringify(v));
  if (Array.isArray(expected) && Array.isArray(actual)) {
    const lines: string[] = [];
    for (let i = 0; i < Math.max(expected.length, actual.length); i++) {
      lines.push(...diffJson(expected[i], actual[i], `${path}[${i}]`));
    }
    return lines;
  }
  const e = asRecord(expected);
  const a = asRecord(actual);
  if (e && a) {
    const keys = [...new Set([...Object.keys(e), ...Object.keys(a)])].sort();
    return keys.flatMap((k) => diffJson(e[k], a[k], `${path}.${k}`));
  }
  return [`${path}: expected ${show(expected)}, got ${show(actual)}`];
}

/**
 * POSTs the request with the credential headers. runParser has no side effects, so POST is retried
 * on 408, 429 and 5xx (Retry-After honoured) and on network errors. Errors are typed like
 * logs:import's: ChroniclePermanentError for 4xx (with the google.rpc status), ChronicleRetryableError
 * otherwise.
 */
export async function callRunParser(
  url: string,
  request: RunParserRequest,
  headers: AuthHeaders,
  http: HttpSettings,
): Promise<unknown> {
  return chronicleRequest(
    { what: 'runParser', method: 'POST', url, body: request, repeatable: true },
    headers,
    http,
  );
}

export interface SampleOutcome {
  readonly name: string;
  /**
   * pass / fail: compared; updated: golden rewritten; would-update: differs, and would be rewritten
   * with --yes; unchanged: already equal (update modes).
   */
  readonly status: 'pass' | 'fail' | 'updated' | 'would-update' | 'unchanged';
  /** Diff lines, parser error or missing golden, for failures and updates. */
  readonly details: readonly string[];
}

/** `compare`: diff only; `preview`: say which goldens would change; `write`: rewrite them. */
export type GoldenUpdate = 'compare' | 'preview' | 'write';

/**
 * Compares the goldens against what the parser produced, or (update `write`) rewrites those that
 * differ. A parser error for a log is always a failure and never rewrites that golden.
 */
export function compareResults(
  suite: ParserSuite,
  results: readonly RunParserResult[],
  options: { update: GoldenUpdate },
): SampleOutcome[] {
  return suite.samples.map((sample, index): SampleOutcome => {
    const result = results[index];
    if (!result) return { name: sample.name, status: 'fail', details: ['no result for this log'] };
    if (result.error !== undefined) {
      return { name: sample.name, status: 'fail', details: [`parser error: ${result.error}`] };
    }
    const actual = normalizeEvents(result.events);
    const expected = sample.golden ? normalizeEvents(sample.golden.events) : undefined;
    const lines = expected === undefined ? ['no golden file'] : diffJson(expected, actual, 'events');
    if (options.update === 'compare') {
      return { name: sample.name, status: lines.length === 0 ? 'pass' : 'fail', details: lines };
    }
    if (lines.length === 0) return { name: sample.name, status: 'unchanged', details: [] };
    if (options.update === 'preview') return { name: sample.name, status: 'would-update', details: lines };
    writeGolden(suite.dir, sample.name, actual);
    return { name: sample.name, status: 'updated', details: lines };
  });
}

/** Writes a golden file in the repository's JSON style (2 spaces, final newline). */
export function writeGolden(dir: string, name: string, events: readonly { event: JsonValue }[]): void {
  const text = `${JSON.stringify({ events }, null, 2)}\n`;
  writeFileSync(join(dir, EVENTS_DIR, `${name}${EVENT_SUFFIX}`), text);
}
