// Where everything goes, decided before a byte is written (libcomposefs' lcfs_compute_tree,
// compute_erofs_shared_xattrs and compute_erofs_inodes, generalised to any block size):
//  - inodes in breadth-first order of the name-sorted tree, numbered in that order;
//  - xattrs sorted by name; a (name, value) pair used by more than one inode goes to the shared area;
//  - each inode on a 32-byte slot right after the previous one, padded so that an inline tail (directory
//    tail, file tail, symlink target, chunk stub table) never straddles a block;
//  - the shared xattrs right after the inodes, then full data blocks, in inode order.

import { compareBytes } from '../reader/bytes.js';
import * as F from '../reader/format.js';
import { compactIndexSize } from './compact-index.js';
import { WNode, bytes, type WXattr } from './node.js';
import { xattrBodySize, xattrEntrySize } from './xattr-entry.js';

export interface LayoutOptions {
  blockBits: number;
  /** Bytes between the superblock and the first inode (compression configuration records). */
  afterSuperblock?: number;
}

export interface Layout {
  blockSize: number;
  blockBits: number;
  /** Inodes in breadth-first order (hardlinks and "."/".." are not inodes of their own). */
  order: WNode[];
  root: WNode;
  minMtimeSec: number;
  minMtimeNsec: number;
  hasAcl: boolean;
  /** Image offset where the inode area ends and the shared xattrs begin (32-byte aligned). */
  inodesEnd: number;
  sharedXattrs: WXattr[];
  sharedXattrSize: number;
  metaBlkaddr: number;
  dataBlockStart: number;
  nDataBlocks: number;
}

export class LayoutError extends Error {}

const ACL_ACCESS = bytes(F.XATTR_PREFIXES[F.XATTR_INDEX_POSIX_ACL_ACCESS]!);
const ACL_DEFAULT = bytes(F.XATTR_PREFIXES[F.XATTR_INDEX_POSIX_ACL_DEFAULT]!);
const SLOT = F.INODE_SLOT_SIZE;
/** libcomposefs caps stub chunk tables at one block's worth (LCFS_MAX_NONINLINE_CHUNKS). */
export const MAX_STUB_CHUNKS = 1024;

const roundUp = (x: number, to: number): number => Math.ceil(x / to) * to;

/** Chunk size bits for a composefs stub: as few chunks as possible, at least one block, at most 2^31 blocks. */
export function stubChunkBits(size: number, blockBits: number): number {
  let bits = size <= 1 ? 1 : Math.floor(Math.log2(size - 1)) + 1;
  // Math.log2 can round just below an exact power of two for huge sizes: correct it
  while (2 ** bits < size) bits++;
  while (bits > 1 && 2 ** (bits - 1) >= size) bits--;
  if (bits < blockBits) bits = blockBits;
  if (bits - blockBits > F.CHUNK_FORMAT_BLKBITS_MASK) bits = F.CHUNK_FORMAT_BLKBITS_MASK + blockBits;
  return bits;
}

export function chunkCount(size: number, chunkBits: number): number {
  return Math.ceil(size / 2 ** chunkBits);
}

/** Breadth-first order, directory nlink, sorted xattrs, inode numbers, the oldest mtime. */
function computeTree(root: WNode): Pick<Layout, 'order' | 'minMtimeSec' | 'minMtimeNsec' | 'hasAcl'> {
  const order: WNode[] = [];
  let minSec = root.mtimeSec;
  let minNsec = root.mtimeNsec;
  let hasAcl = false;
  const inTree = new Set<WNode>();
  order.push(root);
  inTree.add(root);
  for (let i = 0; i < order.length; i++) {
    const node = order[i]!;
    if (!node.isDir() && node.children.length) throw new LayoutError(`${node.origin}: only directories can have children`);
    if (node.isDir()) {
      let n = 2;
      for (const c of node.children) if (c.isDir()) n++;
      node.nlink = n;
    }
    node.xattrs.sort((a, b) => compareBytes(a.key, b.key));
    if (node.mtimeSec < minSec || (node.mtimeSec === minSec && node.mtimeNsec < minNsec)) {
      minSec = node.mtimeSec;
      minNsec = node.mtimeNsec;
    }
    node.inodeNum = i;
    if (node.getXattr(ACL_ACCESS) || node.getXattr(ACL_DEFAULT)) hasAcl = true;
    for (const c of node.children) {
      // hardlinks (and "." / "..") are dirents, not inodes
      if (c.linkTo) continue;
      if (inTree.has(c)) throw new LayoutError(`${c.origin}: node is in the tree twice`);
      inTree.add(c);
      order.push(c);
    }
  }
  for (const node of order) for (const c of node.children) if (c.linkTo && !inTree.has(c.target())) throw new LayoutError(`${c.origin}: hardlink to a file outside the tree`);
  return { order, minMtimeSec: minSec, minMtimeNsec: minNsec, hasAcl };
}

function xattrPairKey(x: WXattr): string {
  return Buffer.from(x.key).toString('latin1') + '\0' + Buffer.from(x.value).toString('latin1');
}

/** Descending by name, then value length, then value bytes: libcomposefs' canonical shared order. */
function sharedOrder(a: WXattr, b: WXattr): number {
  const r = compareBytes(b.key, a.key);
  if (r !== 0) return r;
  if (a.value.length !== b.value.length) return b.value.length - a.value.length;
  return compareBytes(b.value, a.value);
}

function computeSharedXattrs(order: WNode[]): { shared: WXattr[]; size: number } {
  const counts = new Map<string, { x: WXattr; count: number; offset: number }>();
  for (const node of order) {
    for (const x of node.xattrs) {
      const k = xattrPairKey(x);
      const e = counts.get(k);
      if (e) e.count++;
      else counts.set(k, { x, count: 1, offset: -1 });
    }
  }
  const sorted = [...counts.values()].sort((a, b) => sharedOrder(a.x, b.x));
  const shared: WXattr[] = [];
  let offset = 0;
  for (const e of sorted) {
    if (e.count > 1) {
      e.offset = offset;
      shared.push(e.x);
      offset += xattrEntrySize(e.x);
    }
  }
  for (const node of order) {
    let nShared = 0;
    for (const x of node.xattrs) {
      const e = counts.get(xattrPairKey(x))!;
      // h_shared_count is one byte, and libcomposefs stops at 127
      if (e.offset >= 0 && nShared < F.XATTR_LONG_PREFIX) {
        x.sharedOffset = e.offset;
        nShared++;
      } else x.sharedOffset = -1;
    }
  }
  return { shared, size: offset };
}

function dirSize(node: WNode, bs: number): void {
  let nBlocks = 0;
  let used = 0;
  for (const c of node.children) {
    const len = F.DIRENT_SIZE + c.name!.length;
    if (used + len > bs) {
      nBlocks++;
      used = 0;
    }
    used += len;
  }
  // never inline more than half a block (libcomposefs' heuristic)
  if (used > bs / 2) {
    nBlocks++;
    used = 0;
  }
  node.nBlocks = nBlocks;
  node.tailSize = used;
}

function inodeDataSize(node: WNode, bs: number, blockBits: number): void {
  node.nBlocks = 0;
  node.tailSize = 0;
  if (node.isDir()) return dirSize(node, bs);
  if (node.type === F.S_IFLNK) {
    node.tailSize = node.payload!.length;
    return;
  }
  if (node.type !== F.S_IFREG || node.size === 0) return;
  const d = node.data;
  if (!d) throw new LayoutError(`${node.origin}: regular file without data`);
  if (d.kind === 'content' || d.kind === 'file') {
    node.nBlocks = Math.floor(node.size / bs);
    node.tailSize = node.size % bs;
    if (node.tailSize > bs / 2) {
      node.nBlocks++;
      node.tailSize = 0;
    }
  } else if (d.kind === 'compressed') {
    // the index's size depends on the xattrs before it: computeLayout sets tailSize
    node.nBlocks = d.file.blocks;
  } else if (d.kind === 'stub') {
    const n = chunkCount(node.size, stubChunkBits(node.size, blockBits));
    if (n > MAX_STUB_CHUNKS) throw new LayoutError(`${node.origin}: file too large for a composefs stub`);
    node.tailSize = n * F.BLOCK_MAP_ENTRY_SIZE;
  } else {
    // chunk table right after the inode (it may cross blocks: entries are read one by one)
    const map = node.chunkMap!;
    node.tailSize = map.length * F.BLOCK_MAP_ENTRY_SIZE;
    node.nBlocks = map.reduce((n, b, i) => (b === F.NULL_ADDR ? n : n + chunkBlocks(node.size, d.chunkBits, i, blockBits)), 0);
  }
}

/** Blocks that chunk `i` of a file takes (the last one may be short). */
export function chunkBlocks(size: number, chunkBits: number, i: number, blockBits: number): number {
  const chunk = 2 ** chunkBits;
  const len = Math.min(chunk, size - i * chunk);
  return Math.ceil(len / 2 ** blockBits);
}

function fitsCompact(node: WNode, l: Pick<Layout, 'minMtimeSec' | 'minMtimeNsec'>, bs: number): boolean {
  if (node.mtimeSec !== l.minMtimeSec || node.mtimeNsec !== l.minMtimeNsec) return false;
  if (node.nlink > 0xffff || node.uid > 0xffff || node.gid > 0xffff) return false;
  const size = node.isDir() ? node.nBlocks * bs + node.tailSize : node.size;
  return size <= 0xffffffff;
}

/** Padding before the inode so its inline tail stays inside one block (may move the tail out instead). */
function tailPadding(node: WNode, pos: number, inodeSize: number, xattrSize: number, bs: number): number {
  const nonTail = inodeSize + xattrSize;
  const total = nonTail + node.tailSize;
  // chunk tables and compressed indexes are read entry by entry (packs never straddle a block)
  if (node.data?.kind === 'chunked' || node.data?.kind === 'compressed') return 0;
  if (node.type === F.S_IFLNK) {
    // inode and target together in one block if they fit; a target that cannot goes to a block of its own
    const posBlock = Math.floor(pos / bs);
    const endBlock = Math.floor((pos + total - 1) / bs);
    if (Math.floor(total / bs) > 0) {
      // one block with 4096-byte blocks (libcomposefs); as many as the target needs with smaller ones
      node.nBlocks += Math.ceil(node.tailSize / bs);
      node.tailSize = 0;
    }
    return posBlock !== endBlock ? roundUp(pos, bs) - pos : 0;
  }
  let remainder = bs - ((pos + nonTail) % bs);
  if (remainder >= node.tailSize) return 0;
  const extra = roundUp(remainder, SLOT);
  remainder = bs - ((pos + nonTail + extra) % bs);
  if (node.tailSize <= remainder) return extra;
  node.nBlocks++;
  node.tailSize = 0;
  return roundUp(pos, bs) - pos;
}

export function computeLayout(root: WNode, opts: LayoutOptions): Layout {
  const blockBits = opts.blockBits;
  const bs = 2 ** blockBits;
  const tree = computeTree(root);
  const { shared, size: sharedSize } = computeSharedXattrs(tree.order);
  let pos = F.EROFS_SUPER_OFFSET + F.EROFS_SB_BASE_SIZE + (opts.afterSuperblock ?? 0);
  const metaStart = Math.floor(pos / bs) * bs;
  let nDataBlocks = 0;
  for (const node of tree.order) {
    inodeDataSize(node, bs, blockBits);
    node.compact = fitsCompact(node, tree, bs);
    const inodeSize = node.compact ? F.COMPACT_INODE_SIZE : F.EXTENDED_INODE_SIZE;
    let nShared = 0;
    let unshared = 0;
    for (const x of node.xattrs) {
      if (x.sharedOffset >= 0) nShared++;
      else unshared += xattrEntrySize(x);
    }
    node.xattrSize = xattrBodySize(nShared, unshared);
    if (node.data?.kind === 'compressed') node.tailSize = compactIndexSize(inodeSize + node.xattrSize, node.data.file.types.length);
    if (node.xattrSize > 0 && (node.xattrSize - F.XATTR_IBODY_HEADER_SIZE) / F.XATTR_SLOT_SIZE + 1 > 0xffff) {
      throw new LayoutError(`${node.origin}: xattrs too large for one inode`);
    }
    const start = roundUp(pos, SLOT);
    node.ipad = start - pos;
    pos = start;
    const extra = tailPadding(node, pos, inodeSize, node.xattrSize, bs);
    node.ipad += extra;
    pos += extra;
    node.isize = inodeSize + node.xattrSize + node.tailSize;
    nDataBlocks += node.nBlocks;
    node.nid = (pos - metaStart) / SLOT;
    pos += node.isize;
  }
  const inodesEnd = roundUp(pos, SLOT);
  const dataBlockStart = roundUp(inodesEnd + sharedSize, bs);
  // data blocks in inode order
  let cur = dataBlockStart / bs;
  for (const node of tree.order) {
    if (node.nBlocks === 0) continue;
    node.blkaddr = cur;
    const d = node.data;
    if (d?.kind === 'chunked') {
      // the map held "data" (0) or NULL_ADDR per chunk: give each data chunk its blocks, in file order
      let b = cur;
      node.chunkMap = node.chunkMap!.map((rel, i) => {
        if (rel === F.NULL_ADDR) return rel;
        const at = b;
        b += chunkBlocks(node.size, d.chunkBits, i, blockBits);
        return at;
      });
    }
    cur += node.nBlocks;
  }
  if (cur > 0xffffffff) throw new LayoutError('image too large (more than 2^32 blocks)');
  return {
    blockSize: bs,
    blockBits,
    order: tree.order,
    root,
    minMtimeSec: tree.minMtimeSec,
    minMtimeNsec: tree.minMtimeNsec,
    hasAcl: tree.hasAcl,
    inodesEnd,
    sharedXattrs: shared,
    sharedXattrSize: sharedSize,
    metaBlkaddr: metaStart / bs,
    dataBlockStart,
    nDataBlocks,
  };
}
