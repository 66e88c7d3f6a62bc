// A tiny, independent EROFS metadata mapper for the test kit (not the project's reader): just enough of the
// format to find where the superblock, inodes, directory blocks and xattrs of an uncompressed-metadata image
// live, so that corrupt.ts can aim its damage. It trusts the image; use it on intact images only.

export const EROFS_SUPER_OFFSET = 1024;
export const EROFS_SUPER_MAGIC = 0xe0f5e1e2;
export const EROFS_FEATURE_COMPAT_SB_CHKSUM = 0x1;

/** Byte offsets of superblock fields, relative to the start of the image. */
export const SB = {
  magic: 1024 + 0,
  checksum: 1024 + 4,
  featureCompat: 1024 + 8,
  blkszbits: 1024 + 12,
  extslots: 1024 + 13,
  rootNid: 1024 + 14,
  inos: 1024 + 16,
  buildTime: 1024 + 24,
  buildTimeNsec: 1024 + 32,
  blocks: 1024 + 36,
  metaBlkaddr: 1024 + 40,
  xattrBlkaddr: 1024 + 44,
  uuid: 1024 + 48,
  volumeName: 1024 + 64,
  featureIncompat: 1024 + 80,
  end: 1024 + 128,
} as const;

export interface Superblock {
  checksum: number;
  featureCompat: number;
  featureIncompat: number;
  blkszbits: number;
  blockSize: number;
  rootNid: number;
  inos: bigint;
  blocks: number;
  metaBlkaddr: number;
  xattrBlkaddr: number;
}

export interface Region {
  offset: number;
  length: number;
}

export interface InodeMap {
  nid: number;
  offset: number;
  /** 32 (compact) or 64 (extended). */
  isize: number;
  layout: number;
  mode: number;
  size: bigint;
  rawBlkaddr: number;
  xattr: Region;
  sharedXattrIds: number[];
  /** Inline (tail) data for FLAT_INLINE, else length 0. */
  inline: Region;
}

export interface ImageMap {
  sb: Superblock;
  root: InodeMap;
  inodes: InodeMap[];
  /** Every region holding dirents (directory blocks and inline directory tails). */
  dirents: Region[];
  /** Inline xattr bodies of inodes and the shared xattr entries they reference. */
  xattrs: Region[];
  /**
   * Per inode: the inode, its inline xattrs and inline data (mkfs.erofs 1.5 interleaves inodes with data
   * blocks, so there is no single inode table), in offset order.
   */
  metadata: Region[];
}

export const LAYOUT = { FLAT_PLAIN: 0, COMPRESSED_FULL: 1, FLAT_INLINE: 2, COMPRESSED_COMPACT: 3, CHUNK_BASED: 4 } as const;

let table: Uint32Array | undefined;

/** CRC32C register as Linux's crc32c(~0, ...) returns it (no final inversion), as EROFS stores it. */
export function crc32cRaw(buf: Uint8Array, seed = 0xffffffff): number {
  if (!table) {
    table = new Uint32Array(256);
    for (let i = 0; i < 256; i++) {
      let c = i;
      for (let k = 0; k < 8; k++) c = c & 1 ? (c >>> 1) ^ 0x82f63b78 : c >>> 1;
      table[i] = c >>> 0;
    }
  }
  let crc = seed >>> 0;
  for (let i = 0; i < buf.length; i++) crc = (table[(crc ^ buf[i]!) & 0xff]! ^ (crc >>> 8)) >>> 0;
  return crc >>> 0;
}

export function parseSuperblock(img: Buffer): Superblock {
  if (img.length < SB.end) throw new Error('image too small for a superblock');
  if (img.readUInt32LE(SB.magic) !== EROFS_SUPER_MAGIC) throw new Error('not an EROFS image (bad magic)');
  const blkszbits = img[SB.blkszbits]!;
  return {
    checksum: img.readUInt32LE(SB.checksum),
    featureCompat: img.readUInt32LE(SB.featureCompat),
    featureIncompat: img.readUInt32LE(SB.featureIncompat),
    blkszbits,
    blockSize: 2 ** blkszbits,
    rootNid: img.readUInt16LE(SB.rootNid),
    inos: img.readBigUInt64LE(SB.inos),
    blocks: img.readUInt32LE(SB.blocks),
    metaBlkaddr: img.readUInt32LE(SB.metaBlkaddr),
    xattrBlkaddr: img.readUInt32LE(SB.xattrBlkaddr),
  };
}

/** The superblock checksum the kernel expects (crc32c over [1024, blockSize) with the checksum field 0). */
export function superblockChecksum(img: Buffer): number {
  const bs = 2 ** img[SB.blkszbits]!;
  const end = Math.min(Math.max(bs, SB.end), img.length);
  const copy = Buffer.from(img.subarray(EROFS_SUPER_OFFSET, end));
  copy.writeUInt32LE(0, 4);
  return crc32cRaw(copy);
}

/** Rewrites the superblock checksum if the image declares one (after an edit of superblock fields). */
export function fixSuperblockChecksum(img: Buffer): void {
  if (img.readUInt32LE(SB.featureCompat) & EROFS_FEATURE_COMPAT_SB_CHKSUM) {
    img.writeUInt32LE(superblockChecksum(img), SB.checksum);
  }
}

export function readInode(img: Buffer, sb: Superblock, nid: number): InodeMap {
  const offset = sb.metaBlkaddr * sb.blockSize + nid * 32;
  if (offset + 32 > img.length) throw new Error(`inode ${nid} beyond the image`);
  const format = img.readUInt16LE(offset);
  const extended = (format & 1) === 1;
  const isize = extended ? 64 : 32;
  const layout = (format >> 1) & 7;
  const icount = img.readUInt16LE(offset + 2);
  const mode = img.readUInt16LE(offset + 4);
  const size = extended ? img.readBigUInt64LE(offset + 8) : BigInt(img.readUInt32LE(offset + 8));
  const rawBlkaddr = img.readUInt32LE(offset + 16);
  const xsize = icount === 0 ? 0 : 12 + (icount - 1) * 4;
  const xoff = offset + isize;
  const sharedCount = xsize > 0 ? img[xoff + 4]! : 0;
  const sharedXattrIds: number[] = [];
  for (let i = 0; i < sharedCount && xoff + 12 + i * 4 + 4 <= img.length; i++) sharedXattrIds.push(img.readUInt32LE(xoff + 12 + i * 4));
  let inline: Region = { offset: xoff + xsize, length: 0 };
  if (layout === LAYOUT.FLAT_INLINE) {
    const bs = BigInt(sb.blockSize);
    const nblocks = (size + bs - 1n) / bs;
    const tail = nblocks === 0n ? 0 : Number(size - (nblocks - 1n) * bs);
    inline = { offset: xoff + xsize, length: tail };
  }
  return { nid, offset, isize, layout, mode, size, rawBlkaddr, xattr: { offset: xoff, length: xsize }, sharedXattrIds, inline };
}

function direntRegions(sb: Superblock, ino: InodeMap): Region[] {
  const out: Region[] = [];
  const size = Number(ino.size);
  const bs = sb.blockSize;
  const nblocks = Math.ceil(size / bs);
  for (let i = 0; i < nblocks; i++) {
    const len = Math.min(bs, size - i * bs);
    if (ino.layout === LAYOUT.FLAT_INLINE && i === nblocks - 1) out.push({ offset: ino.inline.offset, length: len });
    else out.push({ offset: (ino.rawBlkaddr + i) * bs, length: len });
  }
  return out;
}

export interface Dirent {
  nid: number;
  name: Buffer;
  type: number;
}

export function parseDirents(img: Buffer, r: Region): Dirent[] {
  const block = img.subarray(r.offset, r.offset + r.length);
  if (block.length < 12) return [];
  const first = block.readUInt16LE(8);
  const n = Math.floor(first / 12);
  const out: Dirent[] = [];
  for (let i = 0; i < n && i * 12 + 12 <= block.length; i++) {
    const nid = Number(block.readBigUInt64LE(i * 12));
    const nameoff = block.readUInt16LE(i * 12 + 8);
    const type = block[i * 12 + 10]!;
    let end = i + 1 < n ? block.readUInt16LE((i + 1) * 12 + 8) : block.length;
    if (i + 1 === n) {
      const z = block.indexOf(0, nameoff);
      if (z >= 0 && z < end) end = z;
    }
    out.push({ nid, name: Buffer.from(block.subarray(nameoff, end)), type });
  }
  return out;
}

/** Maps the metadata of an intact image (directories must be uncompressed, as mkfs.erofs 1.5 writes them). */
export function mapImage(img: Buffer): ImageMap {
  const sb = parseSuperblock(img);
  const root = readInode(img, sb, sb.rootNid);
  const inodes = new Map<number, InodeMap>([[root.nid, root]]);
  const dirents: Region[] = [];
  const queue = [root];
  while (queue.length > 0) {
    const dir = queue.shift()!;
    if ((dir.mode & 0o170000) !== 0o040000) continue;
    for (const r of direntRegions(sb, dir)) {
      dirents.push(r);
      for (const d of parseDirents(img, r)) {
        if (inodes.has(d.nid)) continue;
        const name = d.name.toString('latin1');
        if (name === '.' || name === '..') continue;
        const ino = readInode(img, sb, d.nid);
        inodes.set(d.nid, ino);
        queue.push(ino);
      }
    }
  }
  const all = [...inodes.values()].sort((a, b) => a.offset - b.offset);
  const xattrs: Region[] = [];
  const shared = new Set<number>();
  for (const ino of all) {
    if (ino.xattr.length > 0) xattrs.push(ino.xattr);
    for (const id of ino.sharedXattrIds) shared.add(id);
  }
  for (const id of [...shared].sort((a, b) => a - b)) {
    const off = sb.xattrBlkaddr * sb.blockSize + id * 4;
    if (off + 4 > img.length) continue;
    const len = 4 + img[off]! + img.readUInt16LE(off + 2);
    xattrs.push({ offset: off, length: Math.ceil(len / 4) * 4 });
  }
  const metadata = all.map((i) => ({ offset: i.offset, length: i.inline.offset + i.inline.length - i.offset }));
  return { sb, root, inodes: all, dirents, xattrs, metadata };
}
