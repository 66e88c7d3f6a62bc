// Shared by the `tsfuse erofs build --compress zstd|deflate` tests: a source tree on tmpfs (the generated tree
// with every inode type, xattrs and hardlinks, plus files around the block size, incompressible and highly
// compressible data, a file of many pclusters and hardlinks to compressed files), the build, and the oracle
// check: the kernel's mount dumps like the source, tsfuse's (1 and 2 workers) like the kernel's, with nothing
// logged; every file that should shrink is compressed with the expected algorithm, every one that cannot is
// flat. fsck.erofs runs too; Debian's 1.5 does not know zstd or DEFLATE, which is reported, not hidden.

import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as assert from 'uvu/assert';
import { openImage } from '../../../src/erofs/index.js';
import * as F from '../../../src/erofs/reader/format.js';
import { assertSameDump, kernelDump, tsfuseDump } from '../conformance/oracle.js';
import { Prng, diffDumps, dumpTreeInChild, generateTree, run } from '../kit/index.js';
import { tsfuse } from './helpers.js';

const MIB = 1 << 20;

/** Text-like bytes from a small vocabulary (compresses 2-3x, like source code). */
export function wordy(n: number, seed: number): Buffer {
  const p = new Prng(seed);
  const words = ['erofs', 'zstd', 'deflate', 'pcluster', 'block', 'inode', 'the', 'of', 'a', 'kernel', '\n', '0x1f'];
  const out = Buffer.alloc(n);
  let o = 0;
  while (o < n) o += out.write(words[p.int(words.length)]! + (p.int(4) === 0 ? String(p.int(100000)) : '') + ' ', o);
  return out;
}

export function random(n: number, seed: number): Buffer {
  const p = new Prng(seed);
  const out = Buffer.alloc(n);
  for (let i = 0; i < n; i++) out[i] = p.int(256);
  return out;
}

/** Files under edges/ that must end up compressed, and ones that cannot shrink and must stay flat. */
export const COMPRESSED = [`text-${MIB + 1}`, 'zeros-5000', `zeros-${3 * MIB + 7}`, 'mixed', 'many-6m', 'many-6m-link'];
export const FLAT = ['text-1', 'text-100', 'text-4095', 'text-4096', 'zeros-4097', 'random-300k'];

export interface Source {
  base: string;
  src: string;
  dump: string;
}

export async function makeSource(tag: string): Promise<Source> {
  const base = fs.mkdtempSync(path.join(os.tmpdir(), `tsfuse-${tag}-`));
  await run('mount', ['-t', 'tmpfs', '-o', 'size=512m,mode=0755', `tsfuse-${tag}-test`, base]);
  const src = generateTree(path.join(base, 'tree'), { seed: 23, maxNameLength: 255 }).root;
  const edge = path.join(src, 'edges');
  fs.mkdirSync(edge);
  for (const n of [0, 1, 100, 4095, 4096, 4097, 8193, MIB + 1]) fs.writeFileSync(path.join(edge, `text-${n}`), wordy(n, n));
  for (const n of [4097, 5000, 3 * MIB + 7]) fs.writeFileSync(path.join(edge, `zeros-${n}`), Buffer.alloc(n));
  fs.writeFileSync(path.join(edge, 'random-300k'), random(300_000, 1));
  // compressible and incompressible stretches in one file: PLAIN blocks between compressed ones
  fs.writeFileSync(path.join(edge, 'mixed'), Buffer.concat([wordy(70_000, 2), random(50_001, 3), wordy(40_000, 4), Buffer.alloc(9000, 'a'), random(5000, 5)]));
  // hundreds of pclusters, and names that share its inode
  fs.writeFileSync(path.join(edge, 'many-6m'), Buffer.concat([wordy(4 * MIB, 6), random(MIB, 7), Buffer.alloc(MIB + 123, 7)]));
  fs.linkSync(path.join(edge, 'many-6m'), path.join(edge, 'many-6m-link'));
  fs.linkSync(path.join(edge, `text-${MIB + 1}`), path.join(src, 'text-link-at-root'));
  return { base, src, dump: await dumpTreeInChild(src, 300_000) };
}

export async function dropSource(s: Source): Promise<void> {
  await run('umount', [s.base], { check: false });
  fs.rmSync(s.base, { recursive: true, force: true });
}

export async function build(s: Source, args: string[], image: string): Promise<void> {
  const r = await tsfuse(['erofs', 'build', s.src, image, ...args], { timeoutMs: 600_000 });
  assert.is(r.status, 0, r.stderr);
}

/** For each file under edges/: its layout and, when compressed, the algorithm of its first extent. */
export function edgeLayouts(image: string): Map<string, { layout: number; algorithm?: number }> {
  const img = openImage(image);
  try {
    const dir = img.inode(img.lookup(img.root(), 'edges')!.nid);
    const out = new Map<string, { layout: number; algorithm?: number }>();
    for (const e of img.entries(dir)) {
      const name = Buffer.from(e.name).toString();
      if (name === '.' || name === '..') continue;
      const ino = img.inode(e.nid);
      out.set(name, { layout: ino.layout, algorithm: ino.layout === F.LAYOUT_COMPRESSED_COMPACT ? img.extentAt(ino, 0).algorithm : undefined });
    }
    return out;
  } finally {
    img.close();
  }
}

/** The whole oracle check of one image built from `s` with `algorithm` (F.COMPRESSION_*). */
export async function checkImage(s: Source, image: string, algorithm: number, label: string): Promise<void> {
  const fsck = await run('fsck.erofs', [image], { check: false, timeoutMs: 300_000 });
  const fsckOut = `${fsck.stdout.toString()}${fsck.stderr}`;
  // Debian 12's fsck.erofs 1.5 predates zstd and DEFLATE; a newer one must pass
  if (!/unknown compression format/.test(fsckOut)) assert.is(fsck.status, 0, `fsck.erofs: ${fsckOut}`);

  const k = await kernelDump(image, { content: true });
  const d = diffDumps(s.dump, k, 20, ['source', 'kernel']);
  assert.ok(d === '', `${label}: the kernel's mount differs from the source\n${d}`);
  for (const workers of [1, 2]) {
    const t = await tsfuseDump(image, { workers });
    assertSameDump(k, t.dump, `${label}, ${workers} worker(s)`);
    assert.equal(t.serverLog, [], 'the reader logged no complaint');
  }
  const l = edgeLayouts(image);
  for (const name of COMPRESSED) {
    assert.is(l.get(name)?.layout, F.LAYOUT_COMPRESSED_COMPACT, `${name} is compressed`);
    assert.is(l.get(name)?.algorithm, algorithm, `${name}'s map header names ${F.COMPRESSION_NAMES[algorithm]}`);
  }
  for (const name of FLAT) {
    const lay = l.get(name)?.layout;
    assert.ok(lay === F.LAYOUT_FLAT_INLINE || lay === F.LAYOUT_FLAT_PLAIN, `${name} is flat (layout ${lay})`);
  }
}

/**
 * The first pcluster of edges/many-6m: its stream (zero padding stripped) and the bytes it must decode to,
 * for checking the stream with a reference decoder.
 */
export function firstPcluster(s: Source, image: string): { stream: Buffer; expected: Buffer; pa: number; padding: number } {
  const img = openImage(image);
  try {
    const edges = img.inode(img.lookup(img.root(), 'edges')!.nid);
    const m = img.extentAt(img.inode(img.lookup(edges, 'many-6m')!.nid), 0);
    const raw = Buffer.from(img.readImage(m.pa, m.plen));
    let padding = 0;
    while (padding < raw.length && raw[padding] === 0) padding++;
    const expected = fs.readFileSync(path.join(s.src, 'edges', 'many-6m')).subarray(0, m.llen);
    return { stream: raw.subarray(padding), expected, pa: m.pa, padding };
  } finally {
    img.close();
  }
}
