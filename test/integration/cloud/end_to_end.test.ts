/**
 * The cloud pipeline end to end on the emulators: GTI simulator → fetcher (functions-framework) →
 * chunks topic → sender (functions-framework, push) → Chronicle simulator.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { arrayDataset, generatedDataset } from '../../../sim/dataset.js';
import { assertSameEntries } from '../../helpers/entries.js';
import { waitFor } from '../../helpers/wait.js';
import { allArrived, datasetIds, missingIds, PROJECT_ID, settle, skipReason, useCloud } from './harness.js';

const skip = skipReason();

describe('cloud pipeline end to end', { skip }, () => {
  const cloud = useCloud();

  it('delivers 5,000 notifications to Chronicle exactly once in a clean run', {
    timeout: 150_000,
  }, async () => {
    const dataset = generatedDataset({ count: Number(process.env.E2E_COUNT ?? 5000), seed: 11 });
    const s = await cloud.start({ dataset, env: { CHUNK_MAX_BYTES: '1000000' } });
    const expected = datasetIds(dataset);
    await s.trigger();
    await waitFor('the fetch run', () => s.fetchRuns().length > 0, 120_000);
    const run = s.fetchRuns()[0];
    assert.equal(run?.outcome, 'ok', JSON.stringify(run));
    assert.equal(run?.notifications, dataset.size);
    await waitFor(
      'every notification in Chronicle',
      () => s.chronicle.acceptedIds.size === dataset.size,
      120_000,
      () => `(${s.chronicle.acceptedIds.size} so far)`,
    );
    await settle(s, 1500);
    assert.deepEqual(missingIds(expected, s.chronicle), []);
    const duplicated = [...s.chronicle.acceptedIds].filter(([, n]) => n !== 1);
    assert.deepEqual(duplicated, [], 'a clean run imports each notification exactly once');
    const lines = s.chunkLines();
    assert.equal(
      lines.length,
      Number(run?.chunks) + Number(run?.entity_chunks),
      'one sender invocation per chunk, of either kind',
    );
    assert.equal(lines.filter((l) => l.kind === 'entities').length, run?.entity_chunks);
    assert.ok(lines.every((l) => l.outcome === 'sent'));
    // One entity per notification (every generated item is a file, URL, domain or IP address).
    await waitFor(
      'every entity in Chronicle',
      () => s.chronicle.entityImports.acceptedIds.size === dataset.size,
      30_000,
    );
    assert.equal(run?.entities, dataset.size);
    assert.ok([...s.chronicle.entityImports.acceptedIds.values()].every((n) => n === 1));
    assert.equal(s.deadLetters.length, 0);
    assert.ok(s.metadata.tokenRequests >= 1, 'the sender authenticated through the metadata server');
    // Never the API key, the token or payload contents in a log line.
    const logText = JSON.stringify([...s.cloud.fetcher.logs, ...s.cloud.sender.logs]);
    assert.ok(!logText.includes('test-key-'), 'API key logged');
    assert.ok(!logText.includes('token-'), 'access token logged');
    assert.ok(!logText.includes(expected[0] ?? '-'), 'payload (notification ids) logged');
  });

  it('with CHRONICLE_FORWARDER_ID, every import names the forwarder by its full resource name', {
    timeout: 90_000,
  }, async () => {
    // Each function gets only what terraform deploys on it: the fetcher builds the request bodies,
    // so it needs the SecOps instance (project, region, customer id) to name the forwarder.
    const dataset = generatedDataset({ count: 300, seed: 5 });
    const forwarderId = '5e4d3c2b-1a09-4f8e-8d7c-6b5a49382716';
    const secopsProject = 'secops-project-e2e';
    const s = await cloud.start({
      dataset,
      env: {
        CHRONICLE_FORWARDER_ID: forwarderId,
        CHRONICLE_PROJECT_ID: secopsProject,
        CHRONICLE_REGION: 'europe-west2',
        CHUNK_MAX_BYTES: '200000',
      },
    });
    await s.trigger();
    await waitFor('the fetch run', () => s.fetchRuns().length > 0, 60_000);
    assert.equal(s.fetchRuns()[0]?.outcome, 'ok', JSON.stringify(s.fetchRuns()[0]));
    await allArrived(s, dataset, 60_000);
    const instance = `projects/${secopsProject}/locations/europe-west2/instances/${s.customerId}`;
    assert.notEqual(secopsProject, PROJECT_ID, 'the SecOps project differs from the pipeline project');
    const requests = s.chronicle.requests;
    assert.ok(requests.length > 1, `several chunks (${requests.length})`);
    for (const request of requests) {
      assert.equal(request.status, 200);
      assert.equal(request.forwarder, `${instance}/forwarders/${forwarderId}`);
      assert.ok(request.path.includes(`/${instance}/logTypes/`), request.path);
    }
    assert.equal(s.deadLetters.length, 0);
  });

  it('delivers one entity per indicator notification of a mixed backlog, next to the logs a run without entities delivers', {
    timeout: 120_000,
  }, async () => {
    const generated = generatedDataset({ count: 300, seed: 29, oversizedEvery: 0 });
    const items = Array.from({ length: generated.size }, (_, i) => generated.get(i));
    const url = items.find((n) => n.type === 'url');
    assert.ok(url);
    const descriptorOnly = structuredClone(url);
    delete descriptorOnly.attributes;
    descriptorOnly.context_attributes.notification_id = 'descriptor-only-url';
    const unknown = structuredClone(items[0] as (typeof items)[number]);
    unknown.type = 'graph';
    unknown.context_attributes.notification_id = 'unknown-type';
    const dataset = arrayDataset([...items, descriptorOnly, unknown]);
    const indicators = items.map((n) => n.context_attributes.notification_id).sort();

    const s = await cloud.start({ dataset, env: { CHUNK_MAX_BYTES: '150000' } });
    const plain = await cloud.start({
      dataset,
      env: { CHUNK_MAX_BYTES: '150000', CHRONICLE_ENTITY_CONTEXT: 'false' },
    });
    await Promise.all([s.trigger(), plain.trigger()]);
    await Promise.all([allArrived(s, dataset, 60_000), allArrived(plain, dataset, 60_000)]);
    await waitFor(
      'every entity in Chronicle',
      () => s.chronicle.entityImports.acceptedIds.size === indicators.length,
      30_000,
      () => `(${s.chronicle.entityImports.acceptedIds.size} of ${indicators.length})`,
    );
    await settle(s, 1000);
    const run = s.fetchRuns()[0];
    assert.equal(run?.outcome, 'ok', JSON.stringify(run));
    assert.equal(run?.notifications, dataset.size);
    assert.equal(run?.entities, indicators.length);
    assert.equal(run?.entities_skipped, 2);
    assert.ok(Number(run?.entity_chunks) > 1, `${run?.entity_chunks} entity chunks`);
    const imports = s.chronicle.entityImports;
    assert.deepEqual([...imports.acceptedIds.keys()].sort(), indicators);
    assert.ok([...imports.acceptedIds.values()].every((n) => n === 1));
    // Every request was valid against the protos (the simulator checks every field name and type).
    assert.ok(imports.requests.every((r) => r.status === 200 && r.logType === 'GTI_IOC_STREAM'));
    assert.equal(s.deadLetters.length, 0);
    // The log entries are those of a pipeline without entities.
    assert.equal(plain.chronicle.entityImports.requests.length, 0);
    assert.equal(plain.fetchRuns()[0]?.entities, 0);
    assertSameEntries(s.chronicle.entries, plain.chronicle.entries, 'log entries with and without entities');
    assert.ok([...s.chronicle.acceptedIds.values()].every((n) => n === 1));
    // The checkpoint covers the newest notification: both kinds were published.
    assert.equal(run?.checkpoint, new Date(dataset.dateOf(dataset.size - 1) * 1000).toISOString());
  });
});
