/**
 * scripts/package.js: the deploy archive holds only the compiled runtime (dist/functions,
 * dist/shared .js), a deploy package.json and a lockfile without dev packages; the zip is valid
 * (read back here with inflateRaw + crc32) and byte-for-byte reproducible.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { crc32, inflateRawSync } from 'node:zlib';
import { ROOT } from './tf.js';

interface Entry {
  name: string;
  data: Buffer;
}

/** Minimal zip reader: central directory → local headers → inflate, checking each CRC. */
function readZip(buf: Buffer): Entry[] {
  const eocd = buf.lastIndexOf(Buffer.from([0x50, 0x4b, 0x05, 0x06]));
  assert.ok(eocd >= 0, 'end of central directory');
  const count = buf.readUInt16LE(eocd + 10);
  let p = buf.readUInt32LE(eocd + 16);
  const entries: Entry[] = [];
  for (let i = 0; i < count; i += 1) {
    assert.equal(buf.readUInt32LE(p), 0x02014b50);
    const method = buf.readUInt16LE(p + 10);
    const crc = buf.readUInt32LE(p + 16);
    const compressed = buf.readUInt32LE(p + 20);
    const size = buf.readUInt32LE(p + 24);
    const nameLen = buf.readUInt16LE(p + 28);
    const extraLen = buf.readUInt16LE(p + 30);
    const commentLen = buf.readUInt16LE(p + 32);
    const offset = buf.readUInt32LE(p + 42);
    const name = buf.subarray(p + 46, p + 46 + nameLen).toString('utf8');
    assert.equal(buf.readUInt32LE(offset), 0x04034b50, name);
    const start = offset + 30 + buf.readUInt16LE(offset + 26) + buf.readUInt16LE(offset + 28);
    const body = buf.subarray(start, start + compressed);
    const data = method === 8 ? inflateRawSync(body) : Buffer.from(body);
    assert.equal(data.length, size, name);
    assert.equal(crc32(data), crc, name);
    entries.push({ name, data });
    p += 46 + nameLen + extraLen + commentLen;
  }
  return entries;
}

let root = '';

function write(rel: string, text: string) {
  const path = join(root, rel);
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, text);
}

function runPackage(): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(
    process.execPath,
    [join(ROOT, 'scripts', 'package.js'), '--root', root, '--out', join(root, 'out')],
    { encoding: 'utf8' },
  );
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

describe('scripts/package.js', () => {
  before(() => {
    root = mkdtempSync(join(tmpdir(), 'ioc-package-'));
    copyFileSync(join(ROOT, 'package.json'), join(root, 'package.json'));
    copyFileSync(join(ROOT, 'package-lock.json'), join(root, 'package-lock.json'));
    write(
      'dist/functions/index.js',
      "import { x } from '../shared/util.js';\nexport const fetchIocStream = () => x;\n",
    );
    write('dist/functions/index.js.map', '{}');
    write('dist/shared/util.js', 'export const x = 1;\n');
    write('dist/shared/util.test.js', 'throw new Error("test");\n');
    write('dist/test/unit/a.test.js', '');
    write('dist/sim/run.js', '');
    write('dist/bench/run.js', '');
    write('dist/cli/main.js', '');
  });
  after(() => rmSync(root, { recursive: true, force: true }));

  it('packages only the compiled runtime and the deploy manifests', () => {
    const r = runPackage();
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /bytes zipped/);
    const entries = readZip(readFileSync(join(root, 'out', 'function-source.zip')));
    assert.deepEqual(
      entries.map((e) => e.name),
      ['dist/functions/index.js', 'dist/shared/util.js', 'package-lock.json', 'package.json'],
    );
    const staged = readFileSync(join(root, 'out', 'function-source', 'dist', 'shared', 'util.js'), 'utf8');
    assert.equal(staged, 'export const x = 1;\n');
  });

  it('rewrites package.json (main kept; scripts, bin and devDependencies dropped) and prunes the lockfile', () => {
    runPackage();
    const entries = readZip(readFileSync(join(root, 'out', 'function-source.zip')));
    const byName = new Map(
      entries
        .filter((e) => e.name.endsWith('.json'))
        .map((e) => [e.name, JSON.parse(e.data.toString('utf8')) as Record<string, unknown>]),
    );
    const pkg = byName.get('package.json') ?? {};
    const original = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as Record<string, unknown>;
    assert.equal(pkg.main, 'dist/functions/index.js');
    assert.equal(pkg.type, 'module');
    assert.deepEqual(pkg.dependencies, original.dependencies);
    assert.equal(pkg.devDependencies, undefined);
    assert.equal(pkg.scripts, undefined);
    assert.equal(pkg.bin, undefined);
    const lock = byName.get('package-lock.json') as { packages: Record<string, { dev?: boolean }> };
    const devEntries = Object.entries(lock.packages).filter(([, e]) => e.dev);
    assert.deepEqual(devEntries, []);
    const rootEntry = lock.packages[''] as Record<string, unknown>;
    assert.equal(rootEntry.devDependencies, undefined);
    assert.deepEqual(rootEntry.dependencies, original.dependencies);
  });

  it('is reproducible: the same input gives the same bytes', () => {
    runPackage();
    const first = readFileSync(join(root, 'out', 'function-source.zip'));
    runPackage();
    assert.ok(first.equals(readFileSync(join(root, 'out', 'function-source.zip'))));
  });

  it('refuses an archive whose code imports something it does not hold', () => {
    write('dist/functions/index.js', "import { main } from '../cli/main.js';\nexport const f = main;\n");
    const r = runPackage();
    assert.equal(r.status, 1);
    assert.match(r.stderr, /imports \.\.\/cli\/main\.js/);
    write('dist/functions/index.js', "import { x } from '../shared/util.js';\nexport const f = () => x;\n");
  });

  it('fails clearly without a build', () => {
    rmSync(join(root, 'dist', 'functions', 'index.js'));
    const r = runPackage();
    assert.equal(r.status, 1);
    assert.match(r.stderr, /npm run build/);
  });
});
