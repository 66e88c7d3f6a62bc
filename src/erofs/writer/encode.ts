// Byte encoders for the on-disk structures (reference/erofs_fs.h): superblock, compact and extended inodes,
// the inline xattr body and directory blocks. Field offsets come from the on-disk table (reader/ondisk.ts).

import { modeToFileType } from '../reader/dir.js';
import * as F from '../reader/format.js';
import type { Layout } from './layout.js';
import { stubChunkBits } from './layout.js';
import type { WNode } from './node.js';
import { encodeXattrEntry, xattrFilter } from './xattr-entry.js';

function le64(v: DataView, off: number, n: number): void {
  v.setUint32(off, n % 0x1_0000_0000 >>> 0, true);
  v.setUint32(off + 4, Math.floor(n / 0x1_0000_0000) >>> 0, true);
}

/** Signed 64-bit (mtimes before 1970). */
function le64s(v: DataView, off: number, n: number): void {
  v.setBigInt64(off, BigInt(n), true);
}

export interface SuperblockFields {
  featureCompat: number;
  featureIncompat: number;
  inos: number;
  blocks: number;
  /** available_compr_algs / lz4_max_distance; 0 leaves the default. */
  u1?: number;
}

export function encodeSuperblock(l: Layout, f: SuperblockFields): Uint8Array {
  const out = new Uint8Array(F.EROFS_SB_BASE_SIZE);
  const v = new DataView(out.buffer);
  v.setUint32(F.SB_MAGIC, F.EROFS_SUPER_MAGIC_V1, true);
  v.setUint32(F.SB_FEATURE_COMPAT, f.featureCompat, true);
  out[F.SB_BLKSZBITS] = l.blockBits;
  v.setUint16(F.SB_RB, l.root.nid, true);
  le64(v, F.SB_INOS, f.inos);
  le64s(v, F.SB_EPOCH, l.minMtimeSec); // build time = epoch of compact inodes' mtimes
  v.setUint32(F.SB_FIXED_NSEC, l.minMtimeNsec, true);
  v.setUint32(F.SB_BLOCKS_LO, f.blocks, true);
  v.setUint32(F.SB_META_BLKADDR, l.metaBlkaddr, true);
  v.setUint32(F.SB_XATTR_BLKADDR, Math.floor(l.inodesEnd / l.blockSize), true);
  v.setUint32(F.SB_FEATURE_INCOMPAT, f.featureIncompat, true);
  v.setUint16(F.SB_U1, f.u1 ?? 0, true);
  return out;
}

/** The data layout an inode gets. */
export function dataLayout(n: WNode): number {
  if (n.type === F.S_IFREG && n.size > 0 && (n.data?.kind === 'stub' || n.data?.kind === 'chunked')) return F.LAYOUT_CHUNK_BASED;
  if (n.data?.kind === 'compressed') return F.LAYOUT_COMPRESSED_COMPACT;
  return n.tailSize > 0 ? F.LAYOUT_FLAT_INLINE : F.LAYOUT_FLAT_PLAIN;
}

function inodeSizeField(n: WNode, bs: number): number {
  if (n.isDir()) return n.nBlocks * bs + n.tailSize;
  if (n.type === F.S_IFREG) return n.size;
  if (n.type === F.S_IFLNK) return n.nBlocks === 0 ? n.tailSize : n.size;
  return 0;
}

/** The i_u union: first block, device number, or chunk format. */
function inodeUnion(n: WNode, l: Layout): number {
  const t = n.type;
  if (t === F.S_IFCHR || t === F.S_IFBLK) return n.rdev >>> 0;
  if (t !== F.S_IFDIR && t !== F.S_IFREG && t !== F.S_IFLNK) return 0;
  let u = n.nBlocks > 0 ? n.blkaddr : 0;
  const d = n.data;
  if (t === F.S_IFREG && n.size > 0 && d) {
    if (d.kind === 'chunked') u = d.chunkBits - l.blockBits;
    // compressed inodes keep their block count here (what stat's st_blocks shows)
    else if (d.kind === 'compressed') u = n.nBlocks;
    // libcomposefs writes the chunk format over the low half of raw_blkaddr (a union): keep that exactly
    else if (d.kind === 'stub') u = ((u & 0xffff0000) | (stubChunkBits(n.size, l.blockBits) - l.blockBits)) >>> 0;
  }
  return u;
}

/** The inode (32 or 64 bytes) followed by its xattr body. */
export function encodeInode(n: WNode, l: Layout): Uint8Array {
  const bs = l.blockSize;
  const isize = n.compact ? F.COMPACT_INODE_SIZE : F.EXTENDED_INODE_SIZE;
  const out = new Uint8Array(isize + n.xattrSize);
  const v = new DataView(out.buffer);
  const icount = n.xattrSize === 0 ? 0 : (n.xattrSize - F.XATTR_IBODY_HEADER_SIZE) / F.XATTR_SLOT_SIZE + 1;
  const format = (dataLayout(n) << F.I_DATALAYOUT_BIT) | (n.compact ? 0 : 1);
  v.setUint16(F.I_FORMAT, format, true);
  v.setUint16(F.I_XATTR_ICOUNT, icount, true);
  v.setUint16(F.I_MODE, n.mode & 0xffff, true);
  v.setUint32(F.I_U, inodeUnion(n, l), true);
  v.setUint32(F.I_INO, n.inodeNum >>> 0, true);
  const size = inodeSizeField(n, bs);
  if (n.compact) {
    v.setUint16(F.I_NB, n.nlink, true);
    v.setUint32(F.IC_SIZE, size, true);
    v.setUint16(F.IC_UID, n.uid, true);
    v.setUint16(F.IC_GID, n.gid, true);
  } else {
    le64(v, F.IE_SIZE, size);
    v.setUint32(F.IE_UID, n.uid >>> 0, true);
    v.setUint32(F.IE_GID, n.gid >>> 0, true);
    le64s(v, F.IE_MTIME, n.mtimeSec);
    v.setUint32(F.IE_MTIME_NSEC, n.mtimeNsec, true);
    v.setUint32(F.IE_NLINK, n.nlink >>> 0, true);
  }
  if (n.xattrSize) {
    let p = isize;
    v.setUint32(p + F.XH_NAME_FILTER, xattrFilter(n.xattrs), true);
    const shared = n.xattrs.filter((x) => x.sharedOffset >= 0);
    out[p + F.XH_SHARED_COUNT] = shared.length;
    p += F.XH_SHARED_XATTRS;
    const base = l.inodesEnd % bs;
    for (const x of shared) {
      v.setUint32(p, (base + x.sharedOffset) / F.XATTR_SLOT_SIZE, true);
      p += F.XATTR_SLOT_SIZE;
    }
    for (const x of n.xattrs) {
      if (x.sharedOffset >= 0) continue;
      const e = encodeXattrEntry(x);
      out.set(e, p);
      p += e.length;
    }
  }
  return out;
}

/** Groups of children that share a directory block: [first, count] each, in order. */
export function dirBlocks(n: WNode, bs: number): Array<[number, number]> {
  const out: Array<[number, number]> = [];
  let used = 0;
  let first = 0;
  n.children.forEach((c, i) => {
    const len = F.DIRENT_SIZE + c.name!.length;
    if (used + len > bs) {
      out.push([first, i - first]);
      used = 0;
      first = i;
    }
    used += len;
  });
  if (first < n.children.length) out.push([first, n.children.length - first]);
  return out;
}

/** One directory block (or the inline tail): dirents, then the names. */
export function encodeDirChunk(n: WNode, first: number, count: number): Uint8Array {
  let namesLen = 0;
  for (let i = first; i < first + count; i++) namesLen += n.children[i]!.name!.length;
  const out = new Uint8Array(count * F.DIRENT_SIZE + namesLen);
  const v = new DataView(out.buffer);
  let nameoff = count * F.DIRENT_SIZE;
  for (let i = 0; i < count; i++) {
    const c = n.children[first + i]!;
    const t = c.target();
    const de = i * F.DIRENT_SIZE;
    le64(v, de + F.DE_NID, t.nid);
    v.setUint16(de + F.DE_NAMEOFF, nameoff, true);
    out[de + F.DE_FILE_TYPE] = modeToFileType(t.mode);
    out.set(c.name!, nameoff);
    nameoff += c.name!.length;
  }
  return out;
}
