// --cache-size: the reader's caches (metadata pages, inodes, directory blocks, decoded extents) together
// never hold more bytes than the budget while a filesystem serves a whole compressed image, and still cache
// something (the bound is not met by caching nothing). Content is checked against the source tree, read
// both in whole-extent-sized chunks (decoded straight into the reply) and in small odd chunks (partial
// extents, decoded once into the cache).

import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { createErofsFilesystem, type ErofsFilesystem } from '../../../src/erofs/filesystem.js';
import { parseSize, splitBudget } from '../../../src/erofs/reader/cache-budget.js';
import { ctx, readdirAll } from './fsapi.js';
import { haveMkfs, mkfs, tempDir } from './mkfs.js';
import { rng } from './mutate.js';

const BUDGET = 1 << 20;

/** Compressible text of a given size (words from a small vocabulary), distinct per seed. */
function text(seed: number, size: number): Buffer {
  const r = rng(seed);
  const words = ['erofs', 'cluster', 'inode', 'block', 'fuse', 'kernel', 'page', 'cache', 'tar', 'read'];
  const parts: string[] = [];
  let n = 0;
  while (n < size) {
    const w = words[Math.floor(r() * words.length)]! + (r() < 0.1 ? String(Math.floor(r() * 1000)) : '') + ' ';
    parts.push(w);
    n += w.length;
  }
  return Buffer.from(parts.join('')).subarray(0, size);
}

function buildSource(root: string): void {
  for (let d = 0; d < 24; d++) {
    const dir = path.join(root, `d${d}`);
    fs.mkdirSync(dir, { recursive: true });
    for (let f = 0; f < 40; f++) fs.writeFileSync(path.join(dir, `f${f}`), text(d * 100 + f, 200 + ((d * 7919 + f * 104729) % 60000)));
  }
  fs.writeFileSync(path.join(root, 'big.txt'), text(99, 3 << 20));
}

/** Every regular file below dir: its ino and relative path. */
async function walk(fsys: ErofsFilesystem, ino: number, rel: string, out: Array<{ ino: number; rel: string; size: number }>, check: () => void): Promise<void> {
  for (const e of await readdirAll(fsys, ino, 64)) {
    check();
    if (e.name === '.' || e.name === '..') continue;
    const entry = await fsys.lookup(ctx, ino, e.name);
    check();
    const childRel = rel ? `${rel}/${e.name}` : e.name;
    if ((entry.attr.mode & 0o170000) === 0o040000) await walk(fsys, entry.ino, childRel, out, check);
    else out.push({ ino: entry.ino, rel: childRel, size: entry.attr.size });
  }
}

async function readIn(fsys: ErofsFilesystem, ino: number, size: number, chunk: number, check: () => void): Promise<Buffer> {
  const parts: Buffer[] = [];
  for (let off = 0; off < size; off += chunk) {
    parts.push(Buffer.from(await fsys.read(ctx, ino, 0, off, chunk)));
    check();
  }
  return Buffer.concat(parts);
}

for (const [name, args] of [
  ['lz4hc', ['-zlz4hc']],
  ['lz4hc, 64 KiB pclusters', ['-zlz4hc', '-C65536']],
  ['lz4', ['-zlz4']],
] as const) {
  test(`${name}: caches stay within --cache-size while serving every file`, async () => {
    if (!haveMkfs()) throw new Error('mkfs.erofs is needed (scripts/debian-packages.txt: erofs-utils)');
    const dir = tempDir('cachebudget');
    try {
      const src = path.join(dir, 'src');
      buildSource(src);
      const image = mkfs(dir, 'img.erofs', src, [...args]);
      const fsys = createErofsFilesystem({ image, cacheSize: BUDGET });
      let peak = 0;
      const check = (): void => {
        const u = fsys.reader.cacheUsage();
        peak = Math.max(peak, u.total);
        if (u.total > BUDGET) assert.unreachable(`caches hold ${u.total} bytes (${JSON.stringify(u)}), budget ${BUDGET}`);
      };
      try {
        const files: Array<{ ino: number; rel: string; size: number }> = [];
        await walk(fsys, 1, '', files, check);
        assert.is(files.length, 24 * 40 + 1);
        for (const [i, f] of files.entries()) {
          const want = fs.readFileSync(path.join(src, f.rel));
          // whole 128 KiB reads (as tar asks) for most files, small odd reads (partial extents) for the rest
          const got = await readIn(fsys, f.ino, f.size, i % 3 === 0 ? 3000 : 128 * 1024, check);
          if (!got.equals(want)) assert.unreachable(`${f.rel}: content differs`);
        }
        const split = splitBudget(BUDGET);
        assert.ok(peak > split.extentBytes / 4, `the caches were used (peak ${peak} bytes)`);
      } finally {
        fsys.destroy?.();
      }
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
}

test('parseSize: binary units, bad input is undefined', () => {
  assert.is(parseSize('64M'), 64 << 20);
  assert.is(parseSize('512k'), 512 << 10);
  assert.is(parseSize('1GiB'), 1 << 30);
  assert.is(parseSize('1048576'), 1 << 20);
  assert.is(parseSize('1.5m'), 1.5 * (1 << 20));
  assert.is(parseSize('12x'), undefined);
  assert.is(parseSize('-1M'), undefined);
  assert.is(parseSize(''), undefined);
});

test('tsfuse erofs mount --cache-size with a bad size: one line, exit 2', () => {
  if (!haveMkfs()) throw new Error('mkfs.erofs is needed');
  const dir = tempDir('cachebudget-cli');
  try {
    const src = path.join(dir, 'src');
    fs.mkdirSync(src);
    fs.writeFileSync(path.join(src, 'a'), 'a');
    const image = mkfs(dir, 'img.erofs', src, []);
    fs.mkdirSync(path.join(dir, 'mnt'));
    const cli = fileURLToPath(new URL('../../../src/cli/main.js', import.meta.url));
    for (const bad of ['12x', '100k']) {
      const r = spawnSync(process.execPath, [cli, 'erofs', 'mount', image, path.join(dir, 'mnt'), '--cache-size', bad, '--foreground'], { encoding: 'utf8', timeout: 20_000 });
      assert.is(r.status, 2, `--cache-size ${bad}: ${r.stderr}`);
      assert.is(r.stderr.trim().split('\n').length, 1);
      assert.match(r.stderr, /--cache-size/);
    }
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test.run();
