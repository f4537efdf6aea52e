/**
 * The entities:import handler (sim/chronicle_entities.ts) behind a loopback HTTP server, fed with
 * request bodies built the way the pipeline builds them (entity bytes in the envelope).
 */
import assert from 'node:assert/strict';
import type { IncomingMessage } from 'node:http';
import { after, before, beforeEach, describe, it } from 'node:test';
import { entitiesImportEnvelope } from '../../../shared/chronicle/request_body.js';
import type { Notification } from '../../../shared/gti/notification.js';
import { createEntityBuilder, type PreparedEntity } from '../../../shared/pipeline/entities.js';
import {
  createEntityRecorder,
  type EntityImportOptions,
  type EntityImportRecorder,
  handleEntitiesImport,
  matchEntitiesImport,
} from '../../../sim/chronicle_entities.js';
import { generatedDataset } from '../../../sim/dataset.js';
import { sendJson } from '../../../sim/http_util.js';
import { type LoopbackServer, startLoopbackServer } from '../../helpers/loopback.js';
import { fileNotification } from '../../helpers/notifications.js';

const PATH =
  '/v1alpha/projects/my-proj/locations/us/instances/0f3c1b2a-1111-4222-8333-444455556666/entities:import';
const builder = createEntityBuilder({
  validityDays: 30,
  fetchTime: new Date('2026-02-01T00:00:00Z'),
  logType: 'GTI_IOC_STREAM',
});

async function readAll(req: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

/** The request body exactly as a chunker would write it: envelope around comma-joined entity bytes. */
function requestBody(entities: readonly PreparedEntity[], logType = 'GTI_IOC_STREAM'): Buffer {
  const envelope = entitiesImportEnvelope(logType);
  const parts: Buffer[] = [Buffer.from(envelope.prefix)];
  entities.forEach((e, i) => {
    if (i > 0) parts.push(Buffer.from(','));
    parts.push(e.json);
  });
  parts.push(Buffer.from(envelope.suffix));
  const body = Buffer.concat(parts);
  const expected =
    envelope.overheadBytes + entities.reduce((sum, e) => sum + e.bytes, 0) + Math.max(0, entities.length - 1);
  assert.equal(body.length, expected, 'sized exactly');
  return body;
}

function prepared(notification: Notification): PreparedEntity {
  const result = builder.buildFromNotification(notification);
  assert.equal(result.kind, 'entity');
  return (result as { entity: PreparedEntity }).entity;
}

describe('Chronicle entities:import simulator', () => {
  let server: LoopbackServer;
  let recorder: EntityImportRecorder;
  let options: EntityImportOptions = {};

  before(async () => {
    server = await startLoopbackServer(async (req, res) => {
      const body = await readAll(req);
      const target = matchEntitiesImport(new URL(req.url ?? '/', 'http://x').pathname);
      if (req.method !== 'POST' || target === undefined) {
        sendJson(res, 404, { error: { code: 404, message: 'Method not found', status: 'NOT_FOUND' } });
        return;
      }
      const reply = handleEntitiesImport(body, target, recorder, options);
      sendJson(res, reply.status, reply.body);
    });
  });
  after(async () => {
    await server.close();
  });
  beforeEach(() => {
    recorder = createEntityRecorder();
    options = {};
  });

  async function post(body: Buffer | string | object, path = PATH) {
    const res = await fetch(`${server.origin}${path}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: Buffer.isBuffer(body) || typeof body === 'string' ? body : JSON.stringify(body),
    });
    return {
      status: res.status,
      body: (await res.json()) as { error?: { code: number; status: string; message: string } },
    };
  }

  it('accepts what the builder writes and counts entities per notification id', async () => {
    const dataset = generatedDataset({ count: 300 });
    const entities: PreparedEntity[] = [];
    for (let i = 0; i < dataset.size; i++) entities.push(prepared(dataset.get(i)));
    // Two requests, the second repeating one notification (a redelivered chunk).
    const first = await post(requestBody(entities.slice(0, 200)));
    const second = await post(requestBody([...entities.slice(200), entities[0] as PreparedEntity]));
    assert.deepEqual([first.status, second.status], [200, 200]);
    assert.deepEqual(first.body, {});
    assert.equal(recorder.acceptedEntityCount, 301);
    assert.equal(recorder.acceptedIds.size, 300);
    assert.equal(recorder.acceptedIds.get(entities[0]?.id as string), 2);
    assert.equal(recorder.acceptedIds.get(entities[1]?.id as string), 1);
    assert.equal(recorder.entities.length, 301);
    assert.deepEqual(
      new Set(recorder.entities.map((e) => e.entityType)),
      new Set(['FILE', 'URL', 'DOMAIN_NAME', 'IP_ADDRESS']),
    );
    assert.deepEqual(
      recorder.requests.map((r) => [r.status, r.entityCount, r.logType]),
      [
        [200, 200, 'GTI_IOC_STREAM'],
        [200, 101, 'GTI_IOC_STREAM'],
      ],
    );
    assert.deepEqual(recorder.requests[0]?.target, {
      version: 'v1alpha',
      project: 'my-proj',
      region: 'us',
      instance: '0f3c1b2a-1111-4222-8333-444455556666',
    });
  });

  it('takes v1beta and proto field names too (proto3 JSON parsers accept both)', async () => {
    const res = await post(
      {
        inline_source: {
          log_type: 'GTI_IOC_STREAM',
          entities: [
            {
              metadata: {
                product_entity_id: 'n-snake',
                entity_type: 'DOMAIN_NAME',
                interval: { start_time: '2026-01-01T00:00:00Z', end_time: '2026-01-31T00:00:00Z' },
                source_type: 'ENTITY_CONTEXT',
              },
              entity: { hostname: 'a.example' },
            },
          ],
        },
      },
      PATH.replace('v1alpha', 'v1beta'),
    );
    assert.equal(res.status, 200, JSON.stringify(res.body));
    assert.equal(recorder.acceptedIds.get('n-snake'), 1);
  });

  it('rejects the whole request for one bad entity, naming it, and records none of it', async () => {
    const good = prepared(fileNotification('good', 1767225600));
    const entity = (patch: (e: Record<string, Record<string, unknown>>) => void) => {
      const e = JSON.parse(good.json.toString()) as Record<string, Record<string, unknown>>;
      (e.metadata as Record<string, unknown>).productEntityId = 'bad-one';
      patch(e);
      return e;
    };
    const cases: [string, Record<string, unknown>, RegExp][] = [
      [
        'unknown field',
        entity((e) => Object.assign(e.entity as object, { hashes: ['x'] })),
        /Noun has no field "hashes"/,
      ],
      ['no entity type', entity((e) => delete e.metadata?.entityType), /entity_type is required/],
      [
        'unknown entity type',
        entity((e) => Object.assign(e.metadata as object, { entityType: 'HASH' })),
        /not a EntityMetadata.EntityType/,
      ],
      [
        'UNKNOWN_ENTITYTYPE',
        entity((e) => Object.assign(e.metadata as object, { entityType: 'UNKNOWN_ENTITYTYPE' })),
        /entity_type is required/,
      ],
      ['no interval', entity((e) => delete e.metadata?.interval), /interval is required/],
      [
        'empty interval',
        entity((e) =>
          Object.assign(e.metadata as object, {
            interval: { startTime: '2026-01-02T00:00:00Z', endTime: '2026-01-01T00:00:00Z' },
          }),
        ),
        /end_time must be after start_time/,
      ],
      [
        'creation timestamp',
        entity((e) => Object.assign(e.metadata as object, { creationTimestamp: '2026-01-01T00:00:00Z' })),
        /creation_timestamp is not supported/,
      ],
      [
        'bad timestamp',
        entity((e) => Object.assign(e.metadata as object, { collectedTimestamp: 'yesterday' })),
        /RFC3339/,
      ],
      ['not repeated', entity((e) => Object.assign(e.metadata as object, { threat: {} })), /JSON array/],
    ];
    for (const [what, bad, message] of cases) {
      const body = {
        inlineSource: { entities: [JSON.parse(good.json.toString()), bad], logType: 'GTI_IOC_STREAM' },
      };
      const res = await post(body);
      assert.equal(res.status, 400, what);
      assert.equal(res.body.error?.status, 'INVALID_ARGUMENT', what);
      assert.match(
        res.body.error?.message ?? '',
        /inline_source\.entities\[1\] \(product_entity_id "bad-one"\)/,
        what,
      );
      assert.match(res.body.error?.message ?? '', message, what);
    }
    assert.equal(recorder.acceptedEntityCount, 0);
    assert.equal(recorder.acceptedIds.size, 0, 'the good entity in the same request is not recorded either');
    assert.ok(recorder.requests.every((r) => r.status === 400 && r.entityCount === 2));
  });

  it('checks the request around the entities', async () => {
    const good = JSON.parse(prepared(fileNotification('g', 1767225600)).json.toString()) as unknown;
    const cases: [string | object, RegExp][] = [
      ['{"inlineSource":', /Invalid JSON payload/],
      ['[]', /must be a JSON object/],
      [{}, /inline_source is required/],
      [{ inlineSource: { entities: [], logType: 'GTI_IOC_STREAM' } }, /non-empty list/],
      [{ inlineSource: { entities: {}, logType: 'GTI_IOC_STREAM' } }, /non-empty list/],
      [{ inlineSource: { entities: [good] } }, /log_type is required/],
      [{ inlineSource: { entities: [good], logType: '' } }, /log_type is required/],
      [{ inlineSource: { entities: [good], logType: 'X', forwarder: 'f' } }, /Unknown name "forwarder"/],
      [{ inlineSource: { entities: [good], logType: 'X' }, hint: 'h' }, /Unknown name "hint"/],
      [{ inlineSource: { entities: ['x'], logType: 'X' } }, /entities\[0\]: an entity must be a JSON object/],
    ];
    for (const [body, message] of cases) {
      const res = await post(body);
      assert.equal(res.status, 400, String(message));
      assert.match(res.body.error?.message ?? '', message);
    }
    assert.equal(recorder.acceptedEntityCount, 0);
    const wrongPath = await post(
      { inlineSource: { entities: [good], logType: 'X' } },
      PATH.replace('entities:import', 'entities'),
    );
    assert.equal(wrongPath.status, 404);
    assert.equal(matchEntitiesImport('/v1/projects/p/locations/l/instances/i/entities:import'), undefined);
  });

  it('makes the unconfirmed requirements optional, and can count without keeping entities', async () => {
    const bare = {
      inlineSource: {
        entities: [{ metadata: { productEntityId: 'bare' }, entity: { hostname: 'b.example' } }],
        logType: 'GTI_IOC_STREAM',
      },
    };
    assert.equal((await post(bare)).status, 400);
    options = { requireEntityType: false, requireInterval: false, keepEntities: false };
    assert.equal((await post(bare)).status, 200);
    assert.equal(recorder.acceptedIds.get('bare'), 1);
    assert.equal(recorder.entities.length, 0);
    // The cheaper mode skips the field check, not the required metadata.
    const unknownField = {
      inlineSource: {
        entities: [{ metadata: { productEntityId: 'loose', entityType: 'URL' }, entity: { link: 'x' } }],
        logType: 'GTI_IOC_STREAM',
      },
    };
    options = { requireInterval: false };
    assert.equal((await post(unknownField)).status, 400);
    options = { requireInterval: false, checkFields: false };
    assert.equal((await post(unknownField)).status, 200);
    const noType = {
      inlineSource: { ...unknownField.inlineSource, entities: [{ metadata: {}, entity: {} }] },
    };
    assert.equal((await post(noType)).status, 400);
  });
});
