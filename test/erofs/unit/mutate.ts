// Deterministic damage for the corruption tests: truncations and seeded byte flips aimed at the structures
// the reader parses (superblock, inodes, xattr bodies, compression indexes, directory blocks, shared xattrs).

import { ErofsReader } from '../../../src/erofs/reader/reader.js';
import { BufferByteSource } from '../../../src/erofs/buffer-byte-source.js';
import { crc32cRaw } from '../../../src/erofs/reader/hash.js';

/** mulberry32: small, fast, seedable. */
export function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export interface Region {
  kind: string;
  start: number;
  end: number;
}

/** Where the metadata of a pristine image lives, found by walking it with the reader. */
export function metadataRegions(image: Uint8Array): Region[] {
  const r = new ErofsReader(new BufferByteSource(image));
  const bs = r.blockSize;
  const regions: Region[] = [{ kind: 'superblock', start: 1024, end: 1024 + r.sb.sbSize }];
  const seen = new Set<number>();
  const stack = [r.rootNid];
  while (stack.length) {
    const nid = stack.pop()!;
    if (seen.has(nid)) continue;
    seen.add(nid);
    const ino = r.inode(nid);
    if (!ino.inMetabox) {
      regions.push({ kind: 'inode', start: ino.iloc, end: ino.iloc + ino.inodeSize });
      if (ino.xattrSize) regions.push({ kind: 'xattr', start: ino.iloc + ino.inodeSize, end: ino.dataStart });
      if (ino.layout === 1 || ino.layout === 3 || ino.layout === 4) {
        regions.push({ kind: 'index', start: ino.dataStart, end: Math.min(image.length, ino.dataStart + 64) });
      }
    }
    if ((ino.mode & 0o170000) === 0o040000) {
      if (ino.layout === 0 || ino.layout === 2) {
        const full = ino.layout === 2 ? Math.floor(ino.size / bs) : Math.ceil(ino.size / bs);
        if (ino.startBlk >= 0 && full > 0) regions.push({ kind: 'dirent', start: ino.startBlk * bs, end: Math.min(image.length, ino.startBlk * bs + full * bs) });
        if (ino.layout === 2 && !ino.inMetabox) regions.push({ kind: 'dirent', start: ino.dataStart, end: Math.min(image.length, ino.dataStart + (ino.size % bs)) });
      }
      for (const e of r.entries(ino)) if (!seen.has(e.nid)) stack.push(e.nid);
    }
  }
  if (r.sb.xattrBlkaddr || r.sb.featureCompat) {
    const s = r.sb.xattrBlkaddr * bs;
    regions.push({ kind: 'shared-xattr', start: s, end: Math.min(image.length, s + 512) });
  }
  return regions.filter((g) => g.end > g.start && g.end <= image.length);
}

/** Recomputes the superblock checksum so that damage gets past it and reaches the rest of the reader. */
export function fixChecksum(img: Uint8Array): void {
  if (img.length < 1024 + 128) return;
  const compat = img[1032]! | (img[1033]! << 8);
  if (!(compat & 1)) return;
  const bits = img[1036]!;
  if (bits < 9 || bits > 16) return;
  const bs = 2 ** bits;
  const len = bs > 1024 ? bs - 1024 : bs;
  if (1024 + len > img.length) return;
  const copy = img.slice(1024, 1024 + len);
  copy[4] = copy[5] = copy[6] = copy[7] = 0;
  const crc = crc32cRaw(0xffffffff, copy);
  img[1028] = crc & 0xff;
  img[1029] = (crc >>> 8) & 0xff;
  img[1030] = (crc >>> 16) & 0xff;
  img[1031] = (crc >>> 24) & 0xff;
}

export interface Mutation {
  id: string;
  image: Uint8Array;
}

export function truncations(name: string, image: Uint8Array, seed: number, count: number): Mutation[] {
  const rand = rng(seed);
  const points = new Set<number>([0, 1, 512, 1023, 1024, 1100, 1151, 1152, 1200, 2048, 4095, 4096, 4097, 8192]);
  while (points.size < count) points.add(Math.floor(rand() * image.length));
  return [...points].filter((p) => p < image.length).map((p) => ({ id: `${name} truncated at ${p}`, image: image.slice(0, p) }));
}

export function flips(name: string, image: Uint8Array, seed: number, count: number): Mutation[] {
  const rand = rng(seed);
  const regions = metadataRegions(image);
  const out: Mutation[] = [];
  for (let i = 0; i < count; i++) {
    const img = image.slice();
    const n = 1 + Math.floor(rand() * 6);
    const kinds: string[] = [];
    for (let k = 0; k < n; k++) {
      // mostly parsed structures; sometimes anywhere (compressed streams, data, padding)
      const g = rand() < 0.2 ? { kind: 'anywhere', start: 0, end: image.length } : regions[Math.floor(rand() * regions.length)]!;
      const pos = g.start + Math.floor(rand() * (g.end - g.start));
      const how = rand();
      // a mix of flipped bits, random bytes and the extremes parsers mishandle most
      img[pos] = how < 0.4 ? img[pos]! ^ (1 << Math.floor(rand() * 8)) : how < 0.7 ? Math.floor(rand() * 256) : how < 0.85 ? 0xff : 0;
      kinds.push(`${g.kind}@${pos}`);
    }
    const fix = rand() < 0.8;
    if (fix) fixChecksum(img);
    out.push({ id: `${name} seed ${seed}#${i} ${kinds.join(',')}${fix ? ' (csum fixed)' : ''}`, image: img });
  }
  return out;
}
