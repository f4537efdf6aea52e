/**
 * Loopback stand-in for Chronicle `entities:import`: the request handler the Chronicle simulator
 * (sim/chronicle_simulator.ts) calls for
 * `POST {base}/{v1alpha|v1beta}/projects/{p}/locations/{r}/instances/{c}/entities:import`, after its
 * own checks (bearer token, body size, injected faults).
 *
 * What it follows (REST reference "Method: entities.import", projects.locations.instances.entities.import,
 * https://cloud.google.com/chronicle/docs/reference/rest/v1alpha/projects.locations.instances.entities/import
 * and .../v1beta/...):
 * - the body is `{"inlineSource": EntitiesInlineSource}`, the only member of the `source` union;
 *   EntitiesInlineSource is `{"entities": [Entity], "logType": string}`, both documented as required;
 * - "All entities need to be valid for the request to be successful. An error in one entity will
 *   cause the entire request to be rejected.": one bad entity answers 400 INVALID_ARGUMENT naming
 *   it, and nothing of the request is recorded;
 * - "Setting metadata.creation_timestamp on an entity is not supported." (v1alpha page): rejected;
 * - success answers an empty body (`{}`);
 * - field names and value types: the Entity proto (custom_parser/entity_fields.txt +
 *   udm_fields.txt) in proto3 JSON, either lowerCamelCase or proto names (sim/udm_schema.ts names
 *   the JSON-mapping source). Unknown fields are rejected, as Google APIs reject unknown JSON names.
 *
 * *Unconfirmed* (no page states them; each is an option, on by default):
 * - `requireEntityType`: metadata.entityType must be set (not UNKNOWN_ENTITYTYPE);
 * - `requireInterval`: metadata.interval must have startTime < endTime. Without an interval an
 *   entity can never apply: rules join an event to an entity only while the event's time lies in
 *   the entity's interval ("Create context-aware analytics",
 *   https://cloud.google.com/chronicle/docs/detection/context-aware-analytics);
 * - the wording of the error messages.
 */
import { fileURLToPath } from 'node:url';
import { UdmSchema } from './udm_schema.js';

export const ENTITIES_IMPORT_PATH =
  /^\/(v1alpha|v1beta)\/projects\/([^/]+)\/locations\/([^/]+)\/instances\/([^/]+)\/entities:import$/;

export interface EntitiesImportTarget {
  readonly version: string;
  readonly project: string;
  readonly region: string;
  readonly instance: string;
}

/** The path's parts when `pathname` is an entities:import path, else undefined. */
export function matchEntitiesImport(pathname: string): EntitiesImportTarget | undefined {
  const m = ENTITIES_IMPORT_PATH.exec(pathname);
  if (!m) return undefined;
  const part = (i: number) => decodeURIComponent(m[i] ?? '');
  return { version: part(1), project: part(2), region: part(3), instance: part(4) };
}

export interface ImportedEntity {
  /** metadata.productEntityId (the pipeline writes the notification id there). */
  readonly productEntityId: string | undefined;
  readonly entityType: string;
  readonly logType: string;
  /** The entity as sent (only with keepEntities). */
  readonly entity?: unknown;
}

export interface EntityImportRecord {
  /** Where the request was sent. */
  readonly target: EntitiesImportTarget;
  readonly status: number;
  readonly bytes: number;
  readonly entityCount: number;
  readonly logType?: string;
  /** The error message of a rejected request. */
  readonly error?: string;
}

/** What the handler accepted; shared across requests (one per simulator). */
export interface EntityImportRecorder {
  readonly requests: EntityImportRecord[];
  /** Accepted entities in order (empty when keepEntities is false). */
  readonly entities: ImportedEntity[];
  /** metadata.productEntityId → how many accepted entities carried it. */
  readonly acceptedIds: Map<string, number>;
  acceptedEntityCount: number;
  /** Sum of the body bytes of accepted requests. */
  acceptedBytes: number;
}

export function createEntityRecorder(): EntityImportRecorder {
  return { requests: [], entities: [], acceptedIds: new Map(), acceptedEntityCount: 0, acceptedBytes: 0 };
}

export interface EntityImportOptions {
  /** Default: the committed field lists in custom_parser/, loaded on first use. */
  readonly schema?: UdmSchema;
  /** Default true; false keeps counts and ids only (benchmarks). */
  readonly keepEntities?: boolean;
  /**
   * Default true: every field name and value is checked against the field lists. false checks
   * only the request and the required metadata (a benchmark's cheaper mode).
   */
  readonly checkFields?: boolean;
  /** Default true (*unconfirmed*): metadata.entityType is required. */
  readonly requireEntityType?: boolean;
  /** Default true (*unconfirmed*): metadata.interval with startTime < endTime is required. */
  readonly requireInterval?: boolean;
}

export interface EntityImportReply {
  readonly status: number;
  /** JSON body: `{}` on success, a google.rpc error otherwise. */
  readonly body: unknown;
}

let committedSchema: UdmSchema | undefined;

/** The committed field lists (custom_parser/ next to dist/ or the sources), loaded once. */
export function committedEntitySchema(): UdmSchema {
  committedSchema ??= UdmSchema.loadDir(fileURLToPath(new URL('../../custom_parser/', import.meta.url)));
  return committedSchema;
}

class InvalidArgument extends Error {}

function rpcError(message: string): EntityImportReply {
  return { status: 400, body: { error: { code: 400, message, status: 'INVALID_ARGUMENT' } } };
}

function pick(obj: Record<string, unknown>, camel: string, snake: string): unknown {
  return obj[camel] !== undefined ? obj[camel] : obj[snake];
}

function isObject(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

/** Rejects members other than `allowed` (JSON and proto names), as unknown JSON names are rejected. */
function onlyKnown(obj: Record<string, unknown>, allowed: readonly string[], where: string): void {
  for (const key of Object.keys(obj)) {
    if (!allowed.includes(key)) {
      throw new InvalidArgument(
        `Invalid JSON payload received. Unknown name "${key}" at '${where}': Cannot find field.`,
      );
    }
  }
}

/** Why entity `entity` cannot be imported, or undefined. */
function entityProblem(entity: unknown, schema: UdmSchema, options: EntityImportOptions): string | undefined {
  if (!isObject(entity)) return 'an entity must be a JSON object';
  if (options.checkFields !== false) {
    const problems = schema.validate(entity, 'Entity', {}, 5);
    if (problems.length > 0) return problems.join('; ');
  }
  const metadata = pick(entity, 'metadata', 'metadata');
  if (!isObject(metadata)) return 'metadata is required';
  if (pick(metadata, 'creationTimestamp', 'creation_timestamp') != null) {
    return 'metadata.creation_timestamp is not supported on import';
  }
  const type = pick(metadata, 'entityType', 'entity_type');
  if (options.requireEntityType !== false && (type == null || type === 'UNKNOWN_ENTITYTYPE' || type === 0)) {
    return 'metadata.entity_type is required';
  }
  if (options.requireInterval !== false) {
    const interval = metadata.interval;
    if (!isObject(interval)) return 'metadata.interval is required';
    const start = pick(interval, 'startTime', 'start_time');
    const end = pick(interval, 'endTime', 'end_time');
    if (typeof start !== 'string' || typeof end !== 'string') {
      return 'metadata.interval needs a start_time and an end_time';
    }
    if (!(Date.parse(start) < Date.parse(end))) return 'metadata.interval.end_time must be after start_time';
  }
  return undefined;
}

/**
 * Handles one entities:import request body (already read, within the size limit). Records the
 * request in `recorder`, and its entities when every one of them is valid.
 */
export function handleEntitiesImport(
  body: Buffer,
  target: EntitiesImportTarget,
  recorder: EntityImportRecorder,
  options: EntityImportOptions = {},
): EntityImportReply {
  let entityCount = 0;
  let logType: string | undefined;
  const reject = (message: string): EntityImportReply => {
    recorder.requests.push({
      target,
      status: 400,
      bytes: body.length,
      entityCount,
      ...(logType === undefined ? {} : { logType }),
      error: message,
    });
    return rpcError(message);
  };
  try {
    let json: unknown;
    try {
      json = JSON.parse(body.toString('utf8'));
    } catch {
      return reject('Invalid JSON payload received.');
    }
    if (!isObject(json)) return reject('Request body must be a JSON object.');
    onlyKnown(json, ['inlineSource', 'inline_source'], '');
    const source = pick(json, 'inlineSource', 'inline_source');
    if (!isObject(source)) return reject('inline_source is required.');
    onlyKnown(source, ['entities', 'logType', 'log_type'], 'inline_source');
    const entities = source.entities;
    const type = pick(source, 'logType', 'log_type');
    if (typeof type === 'string' && type !== '') logType = type;
    if (!Array.isArray(entities) || entities.length === 0) {
      return reject('inline_source.entities must be a non-empty list.');
    }
    entityCount = entities.length;
    if (logType === undefined) return reject('inline_source.log_type is required.');
    const schema = options.schema ?? committedEntitySchema();
    for (let i = 0; i < entities.length; i++) {
      const problem = entityProblem(entities[i], schema, options);
      if (problem === undefined) continue;
      const metadata = isObject(entities[i]) ? (entities[i] as Record<string, unknown>).metadata : undefined;
      const id = isObject(metadata) ? pick(metadata, 'productEntityId', 'product_entity_id') : undefined;
      const named = typeof id === 'string' ? ` (product_entity_id ${JSON.stringify(id)})` : '';
      return reject(`Invalid entity at inline_source.entities[${i}]${named}: ${problem}`);
    }
    const keep = options.keepEntities !== false;
    for (const entity of entities as Record<string, unknown>[]) {
      const metadata = entity.metadata as Record<string, unknown>;
      const id = pick(metadata, 'productEntityId', 'product_entity_id');
      const productEntityId = typeof id === 'string' ? id : undefined;
      if (productEntityId !== undefined) {
        recorder.acceptedIds.set(productEntityId, (recorder.acceptedIds.get(productEntityId) ?? 0) + 1);
      }
      if (keep) {
        recorder.entities.push({
          productEntityId,
          entityType: String(pick(metadata, 'entityType', 'entity_type')),
          logType,
          entity,
        });
      }
    }
    recorder.acceptedEntityCount += entities.length;
    recorder.acceptedBytes += body.length;
    recorder.requests.push({ target, status: 200, bytes: body.length, entityCount, logType });
    return { status: 200, body: {} };
  } catch (error) {
    if (error instanceof InvalidArgument) return reject(error.message);
    throw error;
  }
}
