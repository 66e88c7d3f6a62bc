// corruptCopies: damaged copies of an intact EROFS image for robustness tests (a reader must fail with an
// error, never crash, hang or read outside the image). Three families:
//  - truncations at fixed points (inside the superblock, after it, inside the root inode, in the middle of
//    the inode table, the middle of the file, without the last block, one byte short);
//  - superblock field edits with the checksum recomputed, so they get past the checksum check (bad root
//    nid, block size, meta/xattr block address, unknown incompat features, ...);
//  - `count` seeded random byte flips aimed at one region each: superblock (checksum fixed or not), root
//    inode, any inode, dirent blocks, xattr areas (inline bodies and shared entries), the metadata region.
// Regions are found with erofsmap.ts. The same (image, seed, count) gives the same copies.

import * as fs from 'node:fs';
import * as path from 'node:path';
import { type Region, SB, fixSuperblockChecksum, mapImage } from './erofsmap.js';
import { Prng } from './prng.js';

export type CorruptionKind = 'truncate' | 'sb-field' | 'flip';

export interface CorruptCopy {
  file: string;
  kind: CorruptionKind;
  /** Which region was aimed at ('superblock', 'root-inode', 'inode', 'dirents', 'xattrs', 'metadata', ...). */
  target: string;
  description: string;
  /** Offsets changed (flips, sb-field) or the new length (truncate). */
  offsets: number[];
}

function pickIn(rng: Prng, regions: Region[]): number | undefined {
  const nonEmpty = regions.filter((r) => r.length > 0);
  if (nonEmpty.length === 0) return undefined;
  const r = rng.pick(nonEmpty);
  return r.offset + rng.int(r.length);
}

export function corruptCopies(image: string, outDir: string, seed: number | string, count: number): CorruptCopy[] {
  const img = fs.readFileSync(image);
  const map = mapImage(img);
  const bs = map.sb.blockSize;
  const rng = new Prng(`corrupt:${seed}`);
  const base = path.basename(image).replace(/\.[^.]*$/, '');
  fs.mkdirSync(outDir, { recursive: true });
  const out: CorruptCopy[] = [];
  let n = 0;
  const write = (buf: Buffer, c: Omit<CorruptCopy, 'file'>): void => {
    const file = path.join(outDir, `${base}-${String(n++).padStart(3, '0')}-${c.kind}-${c.target}.erofs`);
    fs.writeFileSync(file, buf);
    out.push({ file, ...c });
  };

  // ---- truncations
  const meta = map.metadata;
  const mid = meta[Math.floor(meta.length / 2)]!;
  const lastMeta = meta.reduce((m, r) => Math.max(m, r.offset + r.length), 0);
  const cuts: Array<[number, string]> = [
    [0, 'empty file'],
    [1023, 'ends before the superblock'],
    [SB.rootNid + 1, 'ends inside the superblock'],
    [bs, 'only the superblock block'],
    [map.root.offset + 8, 'ends inside the root inode'],
    [mid.offset + 20, 'ends inside the middle inode (by offset)'],
    [lastMeta - 1, 'ends one byte before the end of the last inode (with its inline data)'],
    [Math.floor(img.length / 2), 'half the image'],
    [img.length - bs, 'without the last block'],
    [img.length - 1, 'one byte short'],
  ];
  const seen = new Set<number>();
  for (const [len, why] of cuts) {
    if (len < 0 || len >= img.length || seen.has(len)) continue;
    seen.add(len);
    write(img.subarray(0, len), { kind: 'truncate', target: 'length', description: `truncated to ${len} bytes: ${why}`, offsets: [len] });
  }

  // ---- superblock fields with a valid checksum
  const fields: Array<[string, (b: Buffer) => void, number]> = [
    ['root_nid=0xffff', (b) => b.writeUInt16LE(0xffff, SB.rootNid), SB.rootNid],
    ['root_nid=root+1 (not an inode start)', (b) => b.writeUInt16LE(map.sb.rootNid + 1, SB.rootNid), SB.rootNid],
    ['root_nid points at a regular file', (b) => {
      const f = map.inodes.find((i) => (i.mode & 0o170000) === 0o100000);
      b.writeUInt16LE(f ? f.nid : 0, SB.rootNid);
    }, SB.rootNid],
    ['blkszbits=9 (512-byte blocks)', (b) => (b[SB.blkszbits] = 9), SB.blkszbits],
    ['blkszbits=16', (b) => (b[SB.blkszbits] = 16), SB.blkszbits],
    ['blkszbits=255', (b) => (b[SB.blkszbits] = 255), SB.blkszbits],
    ['meta_blkaddr beyond the image', (b) => b.writeUInt32LE(0x7fffffff, SB.metaBlkaddr), SB.metaBlkaddr],
    ['meta_blkaddr+1 (inodes shifted by a block)', (b) => b.writeUInt32LE(map.sb.metaBlkaddr + 1, SB.metaBlkaddr), SB.metaBlkaddr],
    ['xattr_blkaddr beyond the image', (b) => b.writeUInt32LE(0x7fffffff, SB.xattrBlkaddr), SB.xattrBlkaddr],
    ['blocks=1', (b) => b.writeUInt32LE(1, SB.blocks), SB.blocks],
    ['inos=0', (b) => b.writeBigUInt64LE(0n, SB.inos), SB.inos],
    ['unknown incompat features', (b) => b.writeUInt32LE((0xffff0000 | map.sb.featureIncompat) >>> 0, SB.featureIncompat), SB.featureIncompat],
    ['sb_extslots=255', (b) => (b[SB.extslots] = 255), SB.extslots],
  ];
  for (const [what, edit, off] of fields) {
    const b = Buffer.from(img);
    edit(b);
    fixSuperblockChecksum(b);
    if (b.equals(img)) continue; // the field already had that value
    write(b, { kind: 'sb-field', target: 'superblock', description: `${what} (checksum recomputed)`, offsets: [off] });
  }
  {
    const b = Buffer.from(img);
    b[SB.checksum] = b[SB.checksum]! ^ 0xff;
    write(b, { kind: 'sb-field', target: 'superblock', description: 'wrong superblock checksum', offsets: [SB.checksum] });
  }

  // ---- seeded flips, round-robin over the targets
  const targets: Array<{ name: string; regions: Region[]; fixCsum?: boolean }> = [
    { name: 'superblock', regions: [{ offset: SB.checksum + 4, length: SB.end - SB.checksum - 4 }], fixCsum: true },
    { name: 'root-inode', regions: [{ offset: map.root.offset, length: map.root.isize + map.root.xattr.length }] },
    { name: 'dirents', regions: map.dirents },
    { name: 'xattrs', regions: map.xattrs },
    { name: 'inode', regions: map.inodes.map((i) => ({ offset: i.offset, length: i.isize })) },
    { name: 'metadata', regions: meta },
    { name: 'superblock-raw', regions: [{ offset: 1024, length: SB.end - 1024 }] },
  ].filter((t) => t.regions.some((r) => r.length > 0));
  for (let k = 0; k < count; k++) {
    const t = targets[k % targets.length]!;
    const b = Buffer.from(img);
    const flips = 1 + rng.int(4);
    const offsets: number[] = [];
    const parts: string[] = [];
    for (let f = 0; f < flips; f++) {
      const off = pickIn(rng, t.regions);
      if (off === undefined || off >= b.length) continue;
      const x = 1 + rng.int(255);
      b[off] = b[off]! ^ x;
      offsets.push(off);
      parts.push(`@${off}^0x${x.toString(16)}`);
    }
    if (t.fixCsum) fixSuperblockChecksum(b);
    if (b.equals(img)) continue; // no offset in the region (cannot happen for a non-empty region)
    write(b, {
      kind: 'flip',
      target: t.name,
      description: `${t.name}: ${parts.join(' ')}${t.fixCsum ? ' (checksum recomputed)' : ''}`,
      offsets,
    });
  }
  return out;
}
