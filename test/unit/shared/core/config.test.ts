import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { inspect } from 'node:util';
import {
  CHRONICLE_API_VERSIONS,
  CONFIG_VARIABLES,
  configValues,
  loadConfig,
  parseStartSpec,
  requireSettings,
} from '../../../../shared/core/config.js';
import { SPECS, type Spec } from '../../../../shared/core/config_table.js';
import { ConfigError } from '../../../../shared/core/errors.js';

const now = new Date('2026-03-01T12:00:00Z');

function problems(env: Record<string, string>, configFile?: string): readonly string[] {
  try {
    loadConfig(env, { now, ...(configFile ? { configFile } : {}) });
  } catch (error) {
    assert.ok(error instanceof ConfigError);
    return error.problems;
  }
  return [];
}

describe('config', () => {
  it('has sensible defaults with an empty environment', () => {
    const config = loadConfig({}, { now });
    assert.equal(config.gti.limit, 40);
    assert.equal(config.gti.order, 'date+');
    assert.equal(config.gti.baseUrl, 'https://www.virustotal.com/api/v3');
    assert.equal(config.gti.initialStartSeconds, Math.floor(now.getTime() / 1000) - 7 * 86400);
    assert.equal(config.chronicle.baseUrl, 'https://us-chronicle.googleapis.com');
    assert.equal(config.chronicle.apiVersion, 'v1alpha');
    assert.equal(config.entries.chunkMaxBytes, 3_900_000);
    assert.equal(config.firestore.database, '(default)');
    assert.ok(Object.isFrozen(config) && Object.isFrozen(config.gti));
  });

  it('derives the Chronicle base URL from the region', () => {
    const config = loadConfig({ CHRONICLE_REGION: 'europe-west2' }, { now });
    assert.equal(config.chronicle.baseUrl, 'https://europe-west2-chronicle.googleapis.com');
  });

  it('reports every problem at once, each naming its variable', () => {
    const found = problems({
      VT_LIMIT: '41',
      VT_ORDER: 'newest',
      VT_DATE_FILTER: 'yesterday',
      CHRONICLE_REGION: 'US East',
      CHRONICLE_CUSTOMER_ID: 'not-a-uuid',
      CHUNK_MAX_BYTES: '5000000',
      VT_FILTERS: 'date:2026-01-01T00:00:00+',
      LOG_LEVEL: 'loud',
    });
    for (const name of [
      'VT_LIMIT',
      'VT_ORDER',
      'VT_DATE_FILTER',
      'CHRONICLE_REGION',
      'CHRONICLE_CUSTOMER_ID',
      'CHUNK_MAX_BYTES',
      'VT_FILTERS',
      'LOG_LEVEL',
    ]) {
      assert.ok(
        found.some((p) => p.startsWith(`${name}:`)),
        `no problem reported for ${name}: ${found.join(' | ')}`,
      );
    }
    assert.ok(found.some((p) => p.includes('1 and 40')));
  });

  it('parses VT_DATE_FILTER relative and ISO forms', () => {
    const t = Math.floor(now.getTime() / 1000);
    assert.equal(parseStartSpec('-30m', now), t - 1800);
    assert.equal(parseStartSpec('-7d', now), t - 7 * 86400);
    assert.equal(parseStartSpec('-2w', now), t - 14 * 86400);
    assert.equal(parseStartSpec('2026-01-31T10:00:00Z', now), Date.parse('2026-01-31T10:00:00Z') / 1000);
    assert.equal(parseStartSpec('-1y', now), undefined);
  });

  it('reads a YAML file under the environment, rejecting unknown keys', () => {
    const dir = mkdtempSync(join(tmpdir(), 'cfg-'));
    const file = join(dir, 'c.yml');
    writeFileSync(file, 'VT_LIMIT: 20\nUSE_CASE_NAME: from_file\nNAMESPACE: ns\n');
    const config = loadConfig({ USE_CASE_NAME: 'from_env' }, { now, configFile: file });
    assert.equal(config.gti.limit, 20);
    assert.equal(config.entries.useCaseName, 'from_env');
    assert.equal(config.entries.namespace, 'ns');
    writeFileSync(file, 'VT_LIMT: 20\n');
    assert.ok(problems({}, file).some((p) => p.startsWith('VT_LIMT: unknown key')));
    assert.ok(problems({}, join(dir, 'missing.yml')).some((p) => p.startsWith('CONFIG_FILE:')));
  });

  it('configValues hands on what loadConfig reads: known variables, the environment over the file', () => {
    const dir = mkdtempSync(join(tmpdir(), 'cfg-'));
    const file = join(dir, 'c.yml');
    writeFileSync(file, 'VT_LIMIT: 20\nUSE_CASE_NAME: from_file\nNAMESPACE: " "\n');
    assert.deepEqual(configValues({ USE_CASE_NAME: 'from_env', HOME: '/home/x', CONFIG_FILE: file }), {
      VT_LIMIT: '20',
      USE_CASE_NAME: 'from_env',
      CONFIG_FILE: file,
    });
    writeFileSync(file, 'VT_LIMT: 20\n');
    assert.throws(() => configValues({}, file), ConfigError);
  });

  it('never shows the API key when printed, serialised or inspected', () => {
    const config = loadConfig({ VT_API_KEY: 'super-secret-key-123' }, { now });
    assert.equal(config.gti.apiKey?.reveal(), 'super-secret-key-123');
    assert.ok(!JSON.stringify(config).includes('super-secret-key-123'));
    assert.ok(!inspect(config, { depth: 10 }).includes('super-secret-key-123'));
    assert.ok(!`${config.gti.apiKey}`.includes('super-secret-key-123'));
  });

  it('requireSettings names every missing variable for the use', () => {
    const config = loadConfig({}, { now });
    assert.throws(
      () => requireSettings(config, 'cloud-sender'),
      (e: unknown) =>
        e instanceof ConfigError &&
        ['CHRONICLE_CUSTOMER_ID', 'GCP_PROJECT_ID', 'PUBSUB_CHUNKS_TOPIC', 'PUBSUB_DEAD_LETTER_TOPIC'].every(
          (n) => e.problems.some((p) => p.includes(n)),
        ),
    );
  });

  it('CHRONICLE_API_VERSION accepts exactly v1alpha and v1beta, the versions with logs:import', () => {
    assert.deepEqual([...CHRONICLE_API_VERSIONS], ['v1alpha', 'v1beta']);
    for (const version of CHRONICLE_API_VERSIONS) {
      assert.equal(loadConfig({ CHRONICLE_API_VERSION: version }, { now }).chronicle.apiVersion, version);
    }
    for (const bad of ['v1', 'v2', 'v1beta1', 'V1ALPHA', 'v1alpha/']) {
      const found = problems({ CHRONICLE_API_VERSION: bad });
      assert.equal(found.length, 1, bad);
      assert.match(found[0] ?? '', /^CHRONICLE_API_VERSION: must be one of v1alpha, v1beta, got "/, bad);
    }
  });

  it('requireSettings refuses a fetcher forwarder without the instance it is named under', () => {
    const base = {
      GCP_PROJECT_ID: 'pipeline-project',
      VT_API_KEY: 'k',
      PUBSUB_TRIGGER_TOPIC: 'trigger',
      PUBSUB_CHUNKS_TOPIC: 'chunks',
      CHRONICLE_FORWARDER_ID: '5e4d3c2b-1a09-4f8e-8d7c-6b5a49382716',
    };
    assert.throws(
      () => requireSettings(loadConfig(base, { now }), 'cloud-fetcher'),
      (e: unknown) =>
        e instanceof ConfigError &&
        e.problems.some((p) => p.startsWith('CHRONICLE_CUSTOMER_ID: required with')),
    );
    const withInstance = { ...base, CHRONICLE_CUSTOMER_ID: '0b9d8f4e-3c2a-4d1e-9f8a-7b6c5d4e3f2a' };
    requireSettings(loadConfig(withInstance, { now }), 'cloud-fetcher');
  });

  it('declares each variable once, with a description', () => {
    const names = CONFIG_VARIABLES.map((v) => v.name);
    assert.equal(new Set(names).size, names.length);
    for (const v of CONFIG_VARIABLES) assert.ok(v.description.length > 10, v.name);
  });

  it('reads every variable of the table through its reader, naming it when the value is bad', () => {
    const bad = 'not valid at all ~';
    let checked = 0;
    for (const [name, spec] of Object.entries(SPECS) as [string, Spec<unknown>][]) {
      if (name === 'CONFIG_FILE' || 'value' in spec.reader.read(bad)) continue;
      checked += 1;
      assert.ok(
        problems({ [name]: bad }).some((p) => p.startsWith(`${name}:`)),
        `${name} is in the table but loadConfig did not read it`,
      );
    }
    assert.ok(checked > 30, `only ${checked} variables checked`);
  });

  it('shows each typed default in the documented table', () => {
    for (const v of CONFIG_VARIABLES) {
      const spec = SPECS[v.name as keyof typeof SPECS] as Spec<unknown>;
      const expected = spec.shownDefault ?? (spec.default === undefined ? undefined : String(spec.default));
      assert.equal(v.default, expected, v.name);
    }
    assert.equal(loadConfig({}, { now }).entries.chunkMaxBytes, SPECS.CHUNK_MAX_BYTES.default);
  });

  it('never echoes a secret value in a problem', () => {
    const key = 'vt key with spaces 0123456789abcdef';
    const found = problems({ VT_API_KEY: key });
    assert.ok(found.some((p) => p.startsWith('VT_API_KEY:')));
    assert.ok(found.every((p) => !p.includes('0123456789abcdef')));
  });

  it("refuses the env examples' placeholders, naming the variable and never using them", () => {
    const found = problems({
      GCP_PROJECT_ID: 'CHANGE_ME',
      CHRONICLE_CUSTOMER_ID: 'CHANGE-ME',
      NAMESPACE: 'change me',
    });
    for (const name of ['GCP_PROJECT_ID', 'CHRONICLE_CUSTOMER_ID', 'NAMESPACE'])
      assert.ok(
        found.some((p) => p === `${name}: still the example placeholder; set a real value or remove it`),
        found.join(' | '),
      );
  });
});
