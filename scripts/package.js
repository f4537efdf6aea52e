#!/usr/bin/env node
// Builds the Cloud Functions source archive that terraform uploads (`npm run package`, after
// `npm run build`):
//   terraform/build/function-source/      staging directory (what the archive holds)
//   terraform/build/function-source.zip   the archive (terraform: var.source_archive_path)
// Contents: the compiled dist/functions and dist/shared .js files (no tests, sim, bench, cli, no
// source maps), package.json rewritten for deployment (main kept, scripts, bin and
// devDependencies dropped) and package-lock.json pruned of dev-only packages, so Cloud Build's
// `npm ci` installs the runtime dependencies only and never runs a build script.
// The zip is written here (node:zlib deflateRaw + crc32, fixed timestamps, sorted entries), so the
// same input gives the same bytes and terraform redeploys only when the code changes.
//
// Usage: node scripts/package.js [--root DIR] [--out DIR]   (defaults: the repository, DIR/terraform/build)
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join, posix, relative, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { crc32, deflateRawSync } from 'node:zlib';

const INCLUDED_DIRS = ['dist/functions', 'dist/shared'];
const MAIN = 'dist/functions/index.js';

function parseArgs(argv) {
  const args = { root: resolve(dirname(fileURLToPath(import.meta.url)), '..'), out: undefined };
  for (let i = 0; i < argv.length; i += 1) {
    const flag = argv[i];
    const value = argv[i + 1];
    if ((flag === '--root' || flag === '--out') && value !== undefined) {
      args[flag.slice(2)] = resolve(value);
      i += 1;
    } else {
      throw new Error(`package: unknown argument ${flag}`);
    }
  }
  args.out ??= join(args.root, 'terraform', 'build');
  return args;
}

function walk(dir) {
  return readdirSync(dir)
    .sort()
    .flatMap((name) => {
      const path = join(dir, name);
      return statSync(path).isDirectory() ? walk(path) : [path];
    });
}

/** The compiled runtime files: .js under dist/functions and dist/shared, minus tests. */
function collectRuntimeFiles(root) {
  const files = [];
  for (const dir of INCLUDED_DIRS) {
    const abs = join(root, dir);
    if (!existsSync(abs)) continue;
    for (const file of walk(abs)) {
      const rel = relative(root, file).split(sep).join('/');
      if (!rel.endsWith('.js') || /\.test\.js$|\.spec\.js$/.test(rel)) continue;
      files.push(rel);
    }
  }
  return files.sort();
}

/** Fails when an included file imports a relative path the archive does not hold. */
function checkRelativeImports(root, files) {
  const included = new Set(files);
  const problems = [];
  for (const rel of files) {
    const text = readFileSync(join(root, rel), 'utf8');
    for (const m of text.matchAll(/(?:\bfrom\s*|\bimport\s*\(\s*|\bimport\s+)['"](\.{1,2}\/[^'"]+)['"]/g)) {
      const target = posix.normalize(posix.join(posix.dirname(rel), m[1]));
      if (!included.has(target)) problems.push(`${rel} imports ${m[1]} (${target}), which is not packaged`);
    }
  }
  if (problems.length > 0) throw new Error(`package: ${problems.join('; ')}`);
}

function deployPackageJson(pkg) {
  const out = {};
  for (const key of [
    'name',
    'version',
    'description',
    'license',
    'type',
    'main',
    'engines',
    'dependencies',
  ]) {
    if (pkg[key] !== undefined) out[key] = pkg[key];
  }
  out.main = MAIN;
  return out;
}

/** Drops dev-only packages from a v2/v3 lockfile so it matches the deploy package.json. */
function pruneLockfile(lock, deployPkg) {
  const pruned = { ...lock };
  if (lock.packages) {
    pruned.packages = {};
    for (const [path, entry] of Object.entries(lock.packages)) {
      if (path === '') {
        const { devDependencies: _dev, bin: _bin, ...rootEntry } = entry;
        pruned.packages[path] = { ...rootEntry, dependencies: deployPkg.dependencies };
      } else if (!entry.dev) {
        pruned.packages[path] = entry;
      }
    }
  }
  delete pruned.dependencies; // v1 section; npm 7+ reads `packages`
  return pruned;
}

// --- zip ---------------------------------------------------------------------------------------

const DOS_TIME = 0; // 00:00:00
const DOS_DATE = (0 << 9) | (1 << 5) | 1; // 1980-01-01, the zip epoch: reproducible archives

function zip(entries) {
  const chunks = [];
  const central = [];
  let offset = 0;
  for (const { name, data } of entries) {
    const nameBytes = Buffer.from(name, 'utf8');
    const deflated = deflateRawSync(data, { level: 9 });
    const stored = deflated.length >= data.length;
    const body = stored ? data : deflated;
    const crc = crc32(data);
    const local = Buffer.alloc(30);
    local.writeUInt32LE(0x04034b50, 0);
    local.writeUInt16LE(20, 4); // version needed
    local.writeUInt16LE(0x0800, 6); // UTF-8 names
    local.writeUInt16LE(stored ? 0 : 8, 8);
    local.writeUInt16LE(DOS_TIME, 10);
    local.writeUInt16LE(DOS_DATE, 12);
    local.writeUInt32LE(crc, 14);
    local.writeUInt32LE(body.length, 18);
    local.writeUInt32LE(data.length, 22);
    local.writeUInt16LE(nameBytes.length, 26);
    local.writeUInt16LE(0, 28);
    chunks.push(local, nameBytes, body);

    const header = Buffer.alloc(46);
    header.writeUInt32LE(0x02014b50, 0);
    header.writeUInt16LE((3 << 8) | 20, 4); // made by unix, spec 2.0
    header.writeUInt16LE(20, 6);
    header.writeUInt16LE(0x0800, 8);
    header.writeUInt16LE(stored ? 0 : 8, 10);
    header.writeUInt16LE(DOS_TIME, 12);
    header.writeUInt16LE(DOS_DATE, 14);
    header.writeUInt32LE(crc, 16);
    header.writeUInt32LE(body.length, 20);
    header.writeUInt32LE(data.length, 24);
    header.writeUInt16LE(nameBytes.length, 28);
    header.writeUInt16LE(0, 30); // extra
    header.writeUInt16LE(0, 32); // comment
    header.writeUInt16LE(0, 34); // disk
    header.writeUInt16LE(0, 36); // internal attributes
    header.writeUInt32LE((0o100644 << 16) >>> 0, 38); // regular file, rw-r--r--
    header.writeUInt32LE(offset, 42);
    central.push(header, nameBytes);
    offset += local.length + nameBytes.length + body.length;
  }
  const centralBytes = Buffer.concat(central);
  const end = Buffer.alloc(22);
  end.writeUInt32LE(0x06054b50, 0);
  end.writeUInt16LE(entries.length, 8);
  end.writeUInt16LE(entries.length, 10);
  end.writeUInt32LE(centralBytes.length, 12);
  end.writeUInt32LE(offset, 16);
  return Buffer.concat([...chunks, centralBytes, end]);
}

// --- main --------------------------------------------------------------------------------------

function main() {
  const { root, out } = parseArgs(process.argv.slice(2));
  if (!existsSync(join(root, MAIN))) {
    throw new Error(`package: ${MAIN} is missing; run \`npm run build\` first (npm run package does)`);
  }
  const files = collectRuntimeFiles(root);
  checkRelativeImports(root, files);

  const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));
  const deployPkg = deployPackageJson(pkg);
  const entries = files.map((name) => ({ name, data: readFileSync(join(root, name)) }));
  entries.push({ name: 'package.json', data: Buffer.from(`${JSON.stringify(deployPkg, null, 2)}\n`) });
  const lockPath = join(root, 'package-lock.json');
  if (existsSync(lockPath)) {
    const lock = pruneLockfile(JSON.parse(readFileSync(lockPath, 'utf8')), deployPkg);
    entries.push({ name: 'package-lock.json', data: Buffer.from(`${JSON.stringify(lock, null, 2)}\n`) });
  }
  entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));

  const staging = join(out, 'function-source');
  rmSync(staging, { recursive: true, force: true });
  for (const { name, data } of entries) {
    const target = join(staging, ...name.split('/'));
    mkdirSync(dirname(target), { recursive: true });
    writeFileSync(target, data);
  }
  const archive = zip(entries);
  const zipPath = join(out, 'function-source.zip');
  mkdirSync(out, { recursive: true });
  writeFileSync(zipPath, archive);
  const raw = entries.reduce((sum, e) => sum + e.data.length, 0);
  console.log(
    `package: ${relative(process.cwd(), zipPath) || zipPath}: ${entries.length} files, ${raw} bytes raw, ${archive.length} bytes zipped`,
  );
}

try {
  main();
} catch (error) {
  console.error(error instanceof Error ? error.message : error);
  process.exit(1);
}
