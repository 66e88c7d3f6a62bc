// Writes a laid-out tree (layout.ts) as an EROFS image, front to back in one pass: optional header (the
// composefs one) padded to the superblock, the superblock and its compression configs, every inode with its xattrs and inline tail, the
// shared xattrs, then the full data blocks (directory blocks, file blocks copied from the source in pieces,
// chunk data, long symlink targets). Every area's end is checked against what the layout promised.

import * as F from '../reader/format.js';
import type { Layout } from './layout.js';
import { dirBlocks, encodeDirChunk, encodeInode, encodeSuperblock } from './encode.js';
import { encodeCompactIndex } from './compact-index.js';
import { copyFdRange, copyFileRange, readFileRange } from './file-copy.js';
import type { WNode } from './node.js';
import type { ImageOutput } from './output.js';
import { encodeXattrEntry } from './xattr-entry.js';

export interface ImageOptions {
  /** Bytes at offset 0, before the superblock (at most 1024). */
  header?: Uint8Array;
  featureCompat: number;
  featureIncompat: number;
  /** Compression configuration records written right after the superblock (with INCOMPAT_COMPR_CFGS). */
  comprConfigs?: Uint8Array;
  /** available_compr_algs (the superblock's u1 field; with INCOMPAT_COMPR_CFGS). */
  availableComprAlgs?: number;
}

class LayoutMismatch extends Error {}

function expectAt(out: ImageOutput, offset: number, what: string): void {
  if (out.offset !== offset) throw new LayoutMismatch(`internal error: ${what} at ${out.offset}, layout said ${offset}`);
}

const NULL_ENTRY = new Uint8Array([0xff, 0xff, 0xff, 0xff]);

function writeNullEntries(out: ImageOutput, count: number): void {
  const b = new Uint8Array(count * F.BLOCK_MAP_ENTRY_SIZE).fill(0xff);
  out.write(b);
}

function writeTail(out: ImageOutput, n: WNode, l: Layout): void {
  if (n.tailSize === 0) return;
  const bs = l.blockSize;
  if (n.isDir()) {
    const blocks = dirBlocks(n, bs);
    const [first, count] = blocks[blocks.length - 1]!;
    out.write(encodeDirChunk(n, first, count));
    return;
  }
  if (n.type === F.S_IFLNK) {
    out.write(n.payload!);
    return;
  }
  const d = n.data!;
  if (d.kind === 'compressed') {
    out.write(encodeCompactIndex((n.compact ? F.COMPACT_INODE_SIZE : F.EXTENDED_INODE_SIZE) + n.xattrSize, d.file.types, n.blkaddr, d.file.algorithm));
    return;
  }
  const start = n.nBlocks * bs;
  if (d.kind === 'content') out.write(d.bytes.subarray(start, n.size));
  else if (d.kind === 'file') out.write(readFileRange(d.path, start, n.size - start));
  else if (d.kind === 'stub') writeNullEntries(out, n.tailSize / F.BLOCK_MAP_ENTRY_SIZE);
  else {
    const b = new Uint8Array(n.chunkMap!.length * F.BLOCK_MAP_ENTRY_SIZE);
    const v = new DataView(b.buffer);
    n.chunkMap!.forEach((a, i) => v.setUint32(i * F.BLOCK_MAP_ENTRY_SIZE, a, true));
    out.write(b);
  }
}

function writeDataBlocks(out: ImageOutput, n: WNode, l: Layout): void {
  const bs = l.blockSize;
  if (n.nBlocks === 0) return;
  expectAt(out, n.blkaddr * bs, `data of ${n.origin}`);
  if (n.isDir()) {
    const blocks = dirBlocks(n, bs);
    for (let i = 0; i < n.nBlocks; i++) {
      const [first, count] = blocks[i]!;
      out.write(encodeDirChunk(n, first, count));
      out.align(bs);
    }
    return;
  }
  if (n.type === F.S_IFLNK) {
    out.write(n.payload!);
    out.align(bs);
    return;
  }
  const d = n.data!;
  if (d.kind === 'compressed') {
    copyFdRange(out, d.spill.fd, d.spill.path, d.file.spillOffset, n.nBlocks * bs);
    return;
  }
  const len = Math.min(n.size, n.nBlocks * bs);
  if (d.kind === 'content') out.write(d.bytes.subarray(0, len));
  else if (d.kind === 'file') copyFileRange(out, d.path, 0, len);
  else if (d.kind === 'stub') {
    // a stub table that did not fit inline: libcomposefs writes one block of NULL_ADDR entries
    for (let i = 0; i < bs / F.BLOCK_MAP_ENTRY_SIZE; i++) out.write(NULL_ENTRY);
  } else {
    const chunk = 2 ** d.chunkBits;
    n.chunkMap!.forEach((a, i) => {
      if (a === F.NULL_ADDR) return;
      expectAt(out, a * bs, `chunk ${i} of ${n.origin}`);
      copyFileRange(out, d.path, i * chunk, Math.min(chunk, n.size - i * chunk));
      out.align(bs);
    });
  }
  out.align(bs);
}

export function writeImage(out: ImageOutput, l: Layout, opts: ImageOptions): void {
  const bs = l.blockSize;
  if (opts.header) out.write(opts.header);
  out.pad(F.EROFS_SUPER_OFFSET - out.offset);
  out.write(
    encodeSuperblock(l, {
      featureCompat: opts.featureCompat,
      featureIncompat: opts.featureIncompat,
      inos: l.order.length,
      blocks: l.dataBlockStart / bs + l.nDataBlocks,
      u1: opts.availableComprAlgs ?? 0,
    }),
  );
  if (opts.comprConfigs) out.write(opts.comprConfigs);
  const metaStart = l.metaBlkaddr * bs;
  for (const n of l.order) {
    out.pad(n.ipad);
    expectAt(out, metaStart + n.nid * 32, `inode of ${n.origin}`);
    out.write(encodeInode(n, l));
    writeTail(out, n, l);
  }
  out.align(32);
  expectAt(out, l.inodesEnd, 'end of the inodes');
  for (const x of l.sharedXattrs) out.write(encodeXattrEntry(x));
  out.align(bs);
  expectAt(out, l.dataBlockStart, 'start of the data blocks');
  for (const n of l.order) writeDataBlocks(out, n, l);
  expectAt(out, l.dataBlockStart + l.nDataBlocks * bs, 'end of the image');
}
