// The benchmark data, built once and cached under SCRATCH/data-<key> (key = a hash of the parameters and of
// the generator version): a tree with a big directory and a big file, an EROFS image (mkfs.erofs) and a
// squashfs image (mksquashfs) of it, a composefs-style image + object store of it, and a 10-entry tree with
// the same three images for start-up. Deterministic: the same parameters give the same bytes.

import { createHash } from 'node:crypto';
import { closeSync, existsSync, mkdirSync, openSync, readFileSync, renameSync, rmSync, symlinkSync, utimesSync, writeFileSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { built, SCRATCH } from './paths.js';
import { runSync } from './proc.js';

export interface DataParams {
  /** Entries in the tree (files, directories, symlinks), about. */
  entries: number;
  /** Entries in the one big directory. */
  bigDir: number;
  /** Size of the big file. */
  bigFileBytes: number;
  /** Files copied into memfs for its stat loop (a part of the tree). */
  memfsFiles: number;
}

export const FULL: DataParams = { entries: 100_000, bigDir: 20_000, bigFileBytes: 1 << 30, memfsFiles: 10_000 };
export const QUICK: DataParams = { entries: 10_000, bigDir: 2_000, bigFileBytes: 128 << 20, memfsFiles: 2_000 };

const GENERATOR_VERSION = 3;
const FILES_PER_LEAF = 50;
const MTIME = 1_700_000_000;

export interface Dataset {
  params: DataParams;
  dir: string;
  tree: string;
  /** Relative paths of every entry below the root (for the stat loops). */
  listFile: string;
  entries: number;
  /** The big directory, relative. */
  bigDir: string;
  /** The big file, relative. */
  bigFile: string;
  erofs: string;
  squashfs: string;
  /** composefs image + object store, or why there is none. */
  cfs?: { image: string; objects: string };
  cfsError?: string;
  small: { tree: string; erofs: string; squashfs: string; cfs?: { image: string; objects: string }; probe: string };
  /** A file that exists in every image (start-up probe), relative. */
  probe: string;
  /** Top-level directories copied into memfs, and the list of their entries. */
  memfs: { dirs: string[]; listFile: string; entries: number };
  buildMs: Record<string, number>;
}

function keyOf(p: DataParams): string {
  return createHash('sha256').update(JSON.stringify({ ...p, v: GENERATOR_VERSION })).digest('hex').slice(0, 10);
}

/** Deterministic bytes: a 1 MiB pool from a xorshift generator. */
function makePool(seed: number, size = 1 << 20): Buffer {
  const b = Buffer.alloc(size);
  let x = (seed ^ 0x9e3779b9) >>> 0 || 1;
  for (let i = 0; i < size; i += 4) {
    x ^= x << 13;
    x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    b.writeUInt32LE(x, i);
  }
  return b;
}

function sizeFor(i: number): number {
  // 25% tiny (<= 64 bytes: kept inline by composefs), 65% 65 B..4 KiB, 10% 4..16 KiB
  const h = Math.imul(i + 1, 2654435761) >>> 0;
  const r = h % 100;
  const v = (h >>> 8) % 4096;
  if (r < 25) return v % 65;
  if (r < 90) return 65 + (v % 4032);
  return 4097 + ((h >>> 4) % 12288);
}

function writeFileFromPool(path: string, pool: Buffer, i: number, size: number): void {
  const off = (Math.imul(i, 7919) >>> 0) % (pool.length - 16384);
  const fd = openSync(path, 'w', 0o644);
  try {
    if (size > 0) {
      const b = Buffer.from(pool.subarray(off, off + size));
      if (size >= 4) b.writeUInt32LE(i >>> 0, 0); // every file's content distinct (nothing deduplicated)
      writeSync(fd, b);
    }
  } finally {
    closeSync(fd);
  }
}

interface TreeInfo {
  list: string[];
  topDirs: string[];
  perTop: Map<string, number>;
}

function buildTree(root: string, p: DataParams, log: (s: string) => void): TreeInfo {
  const pool = makePool(42);
  const list: string[] = [];
  mkdirSync(root, { recursive: true });
  // the big directory
  const bigDir = 'bigdir';
  mkdirSync(join(root, bigDir));
  list.push(bigDir);
  let n = 0;
  for (let i = 0; i < p.bigDir - 1; i++, n++) {
    const rel = `${bigDir}/e${String(i).padStart(6, '0')}`;
    writeFileFromPool(join(root, rel), pool, n, sizeFor(n) % 1024);
    list.push(rel);
  }
  // the big file
  const bigFile = 'big.bin';
  {
    const fd = openSync(join(root, bigFile), 'w', 0o644);
    const chunk = Buffer.from(pool);
    try {
      for (let off = 0, k = 0; off < p.bigFileBytes; off += chunk.length, k++) {
        // every 4 KiB page distinct
        for (let j = 0; j < chunk.length; j += 4096) chunk.writeUInt32LE((k * 256 + j / 4096) >>> 0, j);
        writeSync(fd, chunk, 0, Math.min(chunk.length, p.bigFileBytes - off));
      }
    } finally {
      closeSync(fd);
    }
    list.push(bigFile);
  }
  // the rest: top/sub/leaf files
  const rest = Math.max(0, p.entries - p.bigDir - 2);
  const leaves = Math.max(1, Math.round(rest / (FILES_PER_LEAF + 1)));
  const tops = Math.max(1, Math.round(Math.sqrt(leaves)));
  const subs = Math.max(1, Math.ceil(leaves / tops));
  const topDirs: string[] = [];
  const perTop = new Map<string, number>();
  let made = 0;
  for (let t = 0; t < tops && made < rest; t++) {
    const top = `d${String(t).padStart(3, '0')}`;
    mkdirSync(join(root, top));
    list.push(top);
    topDirs.push(top);
    let count = 1;
    made++;
    for (let s = 0; s < subs && made < rest; s++) {
      const sub = `${top}/s${String(s).padStart(3, '0')}`;
      mkdirSync(join(root, sub));
      list.push(sub);
      made++;
      count++;
      for (let f = 0; f < FILES_PER_LEAF && made < rest; f++, n++) {
        const rel = `${sub}/f${String(f).padStart(4, '0')}`;
        if (n % 97 === 0 && f > 0) {
          symlinkSync(`f${String(f - 1).padStart(4, '0')}`, join(root, rel));
        } else {
          writeFileFromPool(join(root, rel), pool, n, sizeFor(n));
        }
        list.push(rel);
        made++;
        count++;
      }
    }
    perTop.set(top, count);
    if (t % 10 === 9) log(`  tree: ${list.length} entries`);
  }
  // fixed mtimes so images are reproducible
  runSync('find', [root, '-exec', 'touch', '-h', '-d', `@${MTIME}`, '{}', '+'], { timeoutMs: 600_000 });
  return { list, topDirs, perTop };
}

function buildSmall(root: string): string[] {
  mkdirSync(join(root, 'dir'), { recursive: true });
  const list = ['dir'];
  const pool = makePool(7, 1 << 16);
  for (let i = 0; i < 8; i++) {
    const rel = i < 4 ? `f${i}` : `dir/f${i}`;
    writeFileFromPool(join(root, rel), pool, i, 100 + i * 1000);
    list.push(rel);
  }
  symlinkSync('f0', join(root, 'link'));
  list.push('link');
  runSync('find', [root, '-exec', 'touch', '-h', '-d', `@${MTIME}`, '{}', '+']);
  return list; // 10 entries below the root
}

function mkErofs(src: string, out: string): void {
  // uncompressed, default layout (inline tail data), like a plain `mkfs.erofs IMG DIR`
  runSync('mkfs.erofs', ['--quiet', '-T', String(MTIME), '-U', '6d2b3a4c-1111-4222-8333-944455556666', out + '.tmp', src], { timeoutMs: 1_800_000 });
  renameSync(out + '.tmp', out);
}

function mkSquashfs(src: string, out: string): void {
  // uncompressed too (inodes, data, fragments, xattrs), so both formats measure the server, not a decompressor
  rmSync(out + '.tmp', { force: true });
  runSync('mksquashfs', [src, out + '.tmp', '-noappend', '-no-progress', '-quiet', '-noI', '-noD', '-noF', '-noX', '-mkfs-time', String(MTIME)], { timeoutMs: 1_800_000 });
  renameSync(out + '.tmp', out);
}

async function mkComposefs(src: string, out: string, objects: string): Promise<void> {
  const kit = built('test/erofs/kit/composefs.js');
  if (!existsSync(kit)) throw new Error(`the composefs builder ${kit} is not built`);
  const mod = (await import(pathToFileURL(kit).href)) as {
    buildComposefsImage: (src: string, out: string, objects: string, o?: object) => Promise<unknown>;
  };
  rmSync(objects, { recursive: true, force: true });
  rmSync(out, { force: true });
  await mod.buildComposefsImage(src, out + '.tmp', objects);
  renameSync(out + '.tmp', out);
}

function timed<T>(ms: Record<string, number>, name: string, fn: () => T): T {
  const t = Date.now();
  const r = fn();
  ms[name] = Date.now() - t;
  return r;
}

/** Builds (or finds in the cache) the data for these parameters. */
export async function ensureDataset(p: DataParams, log: (s: string) => void): Promise<Dataset> {
  const key = keyOf(p);
  const dir = join(SCRATCH, `data-${key}`);
  const manifest = join(dir, 'manifest.json');
  if (existsSync(manifest)) {
    const ds = JSON.parse(readFileSync(manifest, 'utf8')) as Dataset;
    if (!ds.cfs && ds.cfsError && existsSync(built('test/erofs/kit/composefs.js'))) {
      // the composefs builder may have appeared since: retry it
      try {
        const image = join(dir, 'cfs.img');
        const objects = join(dir, 'objects');
        await mkComposefs(ds.tree, image, objects);
        ds.cfs = { image, objects };
        const si = join(dir, 'small-cfs.img');
        const so = join(dir, 'small-objects');
        await mkComposefs(ds.small.tree, si, so);
        ds.small.cfs = { image: si, objects: so };
        delete ds.cfsError;
        writeFileSync(manifest, JSON.stringify(ds, null, 2));
      } catch (err) {
        log(`composefs image still not buildable: ${err instanceof Error ? err.message : String(err)}`);
      }
    }
    return ds;
  }
  log(`building bench data in ${dir} (${p.entries} entries, ${p.bigDir}-entry directory, ${p.bigFileBytes >> 20} MiB file); cached for later runs`);
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  const ms: Record<string, number> = {};
  const tree = join(dir, 'tree');
  const info = timed(ms, 'tree', () => buildTree(tree, p, log));
  const listFile = join(dir, 'entries.txt');
  writeFileSync(listFile, info.list.join('\n') + '\n');
  // memfs gets whole top-level directories until it has about memfsFiles entries
  const memDirs: string[] = [];
  let memCount = 0;
  for (const t of info.topDirs) {
    if (memCount >= p.memfsFiles) break;
    memDirs.push(t);
    memCount += info.perTop.get(t) ?? 0;
  }
  const memSet = new Set(memDirs);
  const memList = info.list.filter((r) => memSet.has(r.split('/')[0]));
  const memListFile = join(dir, 'memfs-entries.txt');
  writeFileSync(memListFile, memList.join('\n') + '\n');
  const small = join(dir, 'small');
  buildSmall(small);
  log('  mkfs.erofs ...');
  timed(ms, 'erofs', () => mkErofs(tree, join(dir, 'tree.erofs')));
  timed(ms, 'erofsSmall', () => mkErofs(small, join(dir, 'small.erofs')));
  log('  mksquashfs ...');
  timed(ms, 'squashfs', () => mkSquashfs(tree, join(dir, 'tree.sqfs')));
  timed(ms, 'squashfsSmall', () => mkSquashfs(small, join(dir, 'small.sqfs')));
  const ds: Dataset = {
    params: p,
    dir,
    tree,
    listFile,
    entries: info.list.length,
    bigDir: 'bigdir',
    bigFile: 'big.bin',
    erofs: join(dir, 'tree.erofs'),
    squashfs: join(dir, 'tree.sqfs'),
    small: { tree: small, erofs: join(dir, 'small.erofs'), squashfs: join(dir, 'small.sqfs'), probe: 'dir/f4' },
    probe: 'd000/s000/f0001',
    memfs: { dirs: memDirs, listFile: memListFile, entries: memList.length },
    buildMs: ms,
  };
  log('  composefs image + object store ...');
  try {
    const t = Date.now();
    await mkComposefs(tree, join(dir, 'cfs.img'), join(dir, 'objects'));
    await mkComposefs(small, join(dir, 'small-cfs.img'), join(dir, 'small-objects'));
    ms.composefs = Date.now() - t;
    ds.cfs = { image: join(dir, 'cfs.img'), objects: join(dir, 'objects') };
    ds.small.cfs = { image: join(dir, 'small-cfs.img'), objects: join(dir, 'small-objects') };
  } catch (err) {
    ds.cfsError = err instanceof Error ? err.message : String(err);
    log(`  composefs image not built: ${ds.cfsError}`);
  }
  runSync('sync', []);
  utimesSync(dir, new Date(), new Date());
  writeFileSync(manifest, JSON.stringify(ds, null, 2));
  log(`  data ready (${Object.entries(ms).map(([k, v]) => `${k} ${(v / 1000).toFixed(1)} s`).join(', ')})`);
  return ds;
}
