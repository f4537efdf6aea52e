/**
 * `ioc-stream parser validate` against the Chronicle simulator's runParser endpoint
 * (sim/chronicle_parsers.ts) and the metadata server fake (the real google-auth-library and got
 * code paths, no mocks).
 */
import assert from 'node:assert/strict';
import { cpSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import type { CliContext } from '../../cli/context.js';
import { parserCommand } from '../../cli/parser_command.js';
import { type ChronicleApi, startChronicleApi } from '../helpers/chronicle_api.js';
import { cliContext } from '../helpers/cli.js';
import { type MetadataFake, startMetadataFake } from '../helpers/metadata_fake.js';
import { assertNoSecretFragment } from '../helpers/secrets.js';

const DIR = fileURLToPath(new URL('../../../custom_parser/', import.meta.url));
const TOKEN = 'fake-token-that-must-never-be-printed';
const CUSTOMER = '0b1c2d3e-4f50-4617-8293-a4b5c6d7e8f9';

interface Captured {
  ctx: CliContext;
  out: () => string;
  err: () => string;
}

const everything: string[] = [];

function capture(env: NodeJS.ProcessEnv): Captured {
  const c = cliContext(env, undefined, everything);
  return { ctx: c.ctx, out: () => c.out().stdout, err: () => c.out().stderr };
}

function sampleNames(dir: string): string[] {
  return readdirSync(join(dir, 'logs'))
    .filter((f) => f.endsWith('.log'))
    .map((f) => f.slice(0, -4))
    .sort();
}

function golden(dir: string, name: string): { events: { event: Record<string, unknown> }[] } {
  return JSON.parse(readFileSync(join(dir, 'events', `${name}.json`), 'utf8'));
}

function log(dir: string, name: string): Buffer {
  return readFileSync(join(dir, 'logs', `${name}.log`));
}

/** Makes the simulator answer each sample with its golden events (as a perfect parser would). */
function answerWithGoldens(fake: ChronicleApi, dir: string): void {
  for (const name of sampleNames(dir)) fake.parsers.setEvents(log(dir, name), golden(dir, name).events);
}

/** The runParser requests the simulator received, with their JSON bodies. */
function runParserRequests(fake: ChronicleApi) {
  return fake.requestsTo(':runParser').map((r) => ({
    ...r,
    body: r.body as { parser?: { cbn?: string }; log?: string[]; statedumpAllowed?: boolean },
  }));
}

function snakeKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(snakeKeys);
  if (value === null || typeof value !== 'object') return value;
  return Object.fromEntries(
    Object.entries(value).map(([k, v]) => [
      k.replace(/([a-z0-9])([A-Z])/g, '$1_$2').toLowerCase(),
      k === 'additional' ? v : snakeKeys(v),
    ]),
  );
}

describe('ioc-stream parser validate', () => {
  let metadata: MetadataFake;
  let fake: ChronicleApi;
  let env: NodeJS.ProcessEnv;
  let scratch: string;

  before(async () => {
    metadata = await startMetadataFake({ token: TOKEN, projectId: 'test-project' });
    fake = await startChronicleApi({ logTypes: ['GTI_IOC_STREAM'] });
    scratch = mkdtempSync(join(tmpdir(), 'parser-validate-'));
    // google-auth-library reads process.env itself: point it at the metadata fake, and away from any
    // Application Default Credentials file on this machine.
    process.env.METADATA_SERVER_DETECTION = 'assume-present';
    process.env.GCE_METADATA_HOST = metadata.host;
    process.env.CLOUDSDK_CONFIG = join(scratch, 'gcloud');
    delete process.env.GOOGLE_APPLICATION_CREDENTIALS;
    env = {
      CHRONICLE_CUSTOMER_ID: CUSTOMER,
      CHRONICLE_PROJECT_ID: 'secops-project',
      CHRONICLE_REGION: 'eu',
      CHRONICLE_API_BASE_URL: fake.baseUrl,
      CHRONICLE_API_VERSION: 'v1alpha',
      HTTP_TIMEOUT_SECONDS: '10',
      RETRY_MAX_ATTEMPTS: '1',
    };
  });

  after(async () => {
    await fake.close();
    await metadata.close();
    rmSync(scratch, { recursive: true, force: true });
    assertNoSecretFragment(everything.join(''), TOKEN, 'parser validate output');
  });

  test('passes when the endpoint returns the golden events, and sends the real wire format', async () => {
    answerWithGoldens(fake, DIR);
    const before = runParserRequests(fake).length;
    const c = capture(env);
    const code = await parserCommand(['validate', '--dir', DIR], c.ctx);
    assert.equal(code, 0, c.out() + c.err());
    const names = sampleNames(DIR);
    for (const name of names) assert.match(c.out(), new RegExp(`PASS\\s+${name}\\n`));
    assert.match(c.out(), new RegExp(`${names.length} sample\\(s\\) match the goldens, 0 differ`));

    const requests = runParserRequests(fake);
    assert.equal(requests.length, before + 1, 'one runParser call for all samples');
    const request = requests[requests.length - 1];
    assert.ok(request);
    assert.equal(
      request.path,
      `/v1alpha/projects/secops-project/locations/eu/instances/${CUSTOMER}/logTypes/GTI_IOC_STREAM:runParser`,
    );
    assert.equal(request.authorization, `Bearer ${TOKEN}`);
    assert.equal(
      Buffer.from(request.body.parser?.cbn ?? '', 'base64').toString('utf8'),
      readFileSync(join(DIR, 'ioc_stream.parser'), 'utf8'),
    );
    assert.deepEqual(
      request.body.log?.map((b) => Buffer.from(b, 'base64')),
      names.map((n) => log(DIR, n)),
      'logs are the exact sample bytes, in order',
    );
    assert.equal(request.body.statedumpAllowed, false);
    assert.ok(metadata.tokenRequests >= 1, 'the token came from the metadata server');
    assertNoSecretFragment(c.out() + c.err(), TOKEN, 'parser validate output');
  });

  test('ignores key case and ingestion-set timestamps', async () => {
    const name = 'domain_hunting';
    const events = golden(DIR, name).events.map((e) => {
      const event = snakeKeys(e.event) as { metadata: Record<string, unknown> };
      event.metadata.ingested_timestamp = '2026-11-27T10:00:00.123456Z';
      event.metadata.collected_timestamp = '2026-11-27T10:00:00Z';
      event.metadata.id = 'AAAAAE2nC+Xb8r0xGvBq3FhMIiQAAAAABwAAAAAAAAA=';
      return { event };
    });
    answerWithGoldens(fake, DIR);
    fake.parsers.setEvents(log(DIR, name), events);
    const c = capture(env);
    assert.equal(await parserCommand(['validate', '--dir', DIR], c.ctx), 0, c.out());
  });

  test('fails with a diff naming the field when an event differs', async () => {
    answerWithGoldens(fake, DIR);
    const changed = golden(DIR, 'file_hunting');
    const event = changed.events[0]?.event as {
      securityResult: Record<string, unknown>[];
      target: { file: Record<string, unknown> };
    };
    (event.securityResult[0] as Record<string, unknown>).ruleName = 'some_other_rule';
    delete event.target.file.md5;
    fake.parsers.setEvents(log(DIR, 'file_hunting'), changed.events);
    const c = capture(env);
    const code = await parserCommand(['validate', '--dir', DIR], c.ctx);
    assert.equal(code, 1);
    assert.match(c.out(), /FAIL\s+file_hunting\n/);
    assert.match(
      c.out(),
      /events\[0\]\.event\.securityResult\[0\]\.ruleName: expected "eicar_test_rule", got "some_other_rule"/,
    );
    assert.match(
      c.out(),
      /events\[0\]\.event\.target\.file\.md5: expected "44d88612fea8a8f36de82e1278abb02f", got <missing>/,
    );
    assert.match(c.out(), /PASS\s+url_hunting\n/);
    assert.match(c.out(), /1 differ or failed/);
  });

  test('a log without events or with a parser error fails', async () => {
    answerWithGoldens(fake, DIR);
    fake.parsers.setEvents(log(DIR, 'edge_unicode'), []);
    fake.parsers.forget(log(DIR, 'collection_hunting'));
    const c = capture(env);
    assert.equal(await parserCommand(['validate', '--dir', DIR], c.ctx), 1);
    assert.match(c.out(), /FAIL\s+edge_unicode\n\s+events\[0\]: expected \{/);
    assert.match(c.out(), /FAIL\s+collection_hunting\n\s+parser error: simulator: no events recorded/);
  });

  test('--update shows what would change and writes nothing; --update --yes rewrites, in a copy given with --dir', async () => {
    const copy = join(scratch, 'custom_parser');
    cpSync(DIR, copy, { recursive: true });
    answerWithGoldens(fake, copy);
    const changed = golden(copy, 'ip_address_hunting');
    const meta = changed.events[0]?.event.metadata as Record<string, unknown>;
    meta.description = 'rewritten by --update';
    fake.parsers.setEvents(log(copy, 'ip_address_hunting'), changed.events);
    const untouched = readFileSync(join(copy, 'events', 'url_hunting.json'), 'utf8');
    const before = readFileSync(join(copy, 'events', 'ip_address_hunting.json'), 'utf8');

    const preview = capture(env);
    assert.equal(await parserCommand(['validate', '--update', '--dir', copy], preview.ctx), 1);
    assert.match(
      preview.out(),
      /WOULD-UPDATE\s+ip_address_hunting\n\s+events\[0\]\.event\.metadata\.description: expected ".*", got "rewritten by --update"/,
    );
    assert.match(preview.out(), /UNCHANGED\s+url_hunting\n/);
    assert.match(
      preview.out(),
      /1 golden\(s\) would be rewritten, 0 with errors; nothing was written \(run again with --update --yes/,
    );
    assert.equal(
      readFileSync(join(copy, 'events', 'ip_address_hunting.json'), 'utf8'),
      before,
      'nothing written without --yes',
    );

    const c = capture(env);
    assert.equal(
      await parserCommand(['validate', '--update', '--yes', '--dir', copy], c.ctx),
      0,
      c.out() + c.err(),
    );
    assert.match(c.out(), /UPDATED\s+ip_address_hunting\n/);
    assert.match(c.out(), /UNCHANGED\s+url_hunting\n/);
    assert.match(c.out(), /1 golden\(s\) rewritten/);
    const rewritten = golden(copy, 'ip_address_hunting');
    assert.equal(
      (rewritten.events[0]?.event.metadata as Record<string, unknown> | undefined)?.description,
      'rewritten by --update',
    );
    assert.equal(readFileSync(join(copy, 'events', 'url_hunting.json'), 'utf8'), untouched);
    assert.equal(
      readFileSync(join(DIR, 'events', 'ip_address_hunting.json'), 'utf8').includes('rewritten by --update'),
      false,
      'the repository goldens are untouched',
    );

    const again = capture(env);
    assert.equal(await parserCommand(['validate', '--dir', copy], again.ctx), 0, again.out());
  });

  test('a google.rpc 4xx error fails with its status, without retrying', async () => {
    fake.parsers.failWith({
      status: 403,
      rpcStatus: 'PERMISSION_DENIED',
      message: `Permission denied for ${TOKEN}`,
    });
    const before = runParserRequests(fake).length;
    try {
      const c = capture({ ...env, RETRY_MAX_ATTEMPTS: '3' });
      assert.equal(await parserCommand(['validate', '--dir', DIR], c.ctx), 1);
      assert.match(c.err(), /runParser failed: .*403 PERMISSION_DENIED/);
      assertNoSecretFragment(c.err(), TOKEN, 'a token echoed by the server');
      assert.equal(runParserRequests(fake).length, before + 1, '4xx is not retried');
    } finally {
      fake.parsers.failWith(undefined);
    }
  });

  test('without a SecOps instance it says the parser was not executed and exits 2', async () => {
    const before = fake.parsers.requests.length;
    const c = capture({ CHRONICLE_API_BASE_URL: fake.baseUrl });
    assert.equal(await parserCommand(['validate', '--dir', DIR], c.ctx), 2);
    assert.match(c.err(), /parser was NOT executed/);
    assert.match(c.err(), /CHRONICLE_CUSTOMER_ID/);
    assert.equal(fake.parsers.requests.length, before);
  });

  test('usage and unknown subcommands', async () => {
    const help = capture(env);
    assert.equal(await parserCommand(['--help'], help.ctx), 0);
    assert.match(help.out(), /ioc-stream parser validate \[--update \[--yes\]\]/);
    assert.match(help.out(), /ioc-stream parser install \[--no-validate\] \[--dry-run\]/);
    const yesAlone = capture(env);
    assert.equal(await parserCommand(['validate', '--yes', '--dir', DIR], yesAlone.ctx), 2);
    assert.match(yesAlone.err(), /--yes applies to --update only/);
    const bad = capture(env);
    assert.equal(await parserCommand(['frobnicate'], bad.ctx), 2);
    const missingGolden = join(scratch, 'orphan');
    cpSync(DIR, missingGolden, { recursive: true });
    writeFileSync(join(missingGolden, 'events', 'no_such_sample.json'), '{"events":[{"event":{}}]}\n');
    answerWithGoldens(fake, missingGolden);
    const orphan = capture(env);
    assert.equal(await parserCommand(['validate', '--dir', missingGolden], orphan.ctx), 1);
    assert.match(orphan.out(), /no_such_sample: golden file without a sample log/);
  });
});
