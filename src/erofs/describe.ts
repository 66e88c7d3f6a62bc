// `tsfuse erofs info`: what an image is, in words. The superblock part is O(1); the counts walk the tree
// (every inode once, by nid), which can be turned off for huge images.

import type { ErofsReader } from './reader/reader.js';
import * as F from './reader/format.js';
import { bytesEqual } from './reader/bytes.js';
import { formatNid } from './reader/superblock.js';
import { isCompressedLayout } from './reader/inode.js';

export interface ImageCounts {
  inodes: number;
  directories: number;
  regularFiles: number;
  symlinks: number;
  devices: number;
  fifos: number;
  sockets: number;
  /** Directory entries beyond the first for an inode (extra hardlinks). */
  extraLinks: number;
  compressedFiles: number;
  chunkedFiles: number;
  inlineFiles: number;
  /** Sum of regular file sizes. */
  fileBytes: number;
  xattrs: number;
  /** The walk stopped at the inode limit. */
  truncated: boolean;
}

export interface ImageInfo {
  imageBytes: number;
  blockSize: number;
  blocks: number;
  uuid: string;
  volumeName: string;
  composefs: { version: number; flags: number } | undefined;
  compatFeatures: string[];
  incompatFeatures: string[];
  unknownCompat: number;
  rootNid: string;
  inos: number;
  metaBlkaddr: number;
  xattrBlkaddr: number;
  packedNid: string | undefined;
  metaboxNid: string | undefined;
  epoch: number;
  fixedNsec: number;
  buildTime: number;
  compression: string[];
  longXattrPrefixes: string[];
  extraDevices: number;
  counts: ImageCounts | undefined;
  /** Problems met while walking (the image may be corrupt). */
  errors: string[];
}

function featureNames(bits: number, table: ReadonlyArray<[number, string]>): { names: string[]; unknown: number } {
  const names: string[] = [];
  let known = 0;
  for (const [bit, name] of table) {
    known |= bit;
    if (bits & bit) names.push(name);
  }
  return { names, unknown: bits & ~known };
}

function uuidString(u: Uint8Array): string {
  const h = Array.from(u, (b) => b.toString(16).padStart(2, '0')).join('');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}

export function imageInfo(reader: ErofsReader, options: { walk?: boolean; maxInodes?: number } = {}): ImageInfo {
  const sb = reader.sb;
  const compat = featureNames(sb.featureCompat, F.COMPAT_NAMES);
  const incompat = featureNames(sb.featureIncompat, F.INCOMPAT_NAMES);
  const compression: string[] = [];
  const c = sb.compression;
  for (let alg = 0; alg < F.COMPRESSION_MAX; alg++) {
    if (!(c.availableAlgorithms & (1 << alg))) continue;
    if (!(sb.featureIncompat & F.INCOMPAT_COMPR_CFGS) && alg === F.COMPRESSION_LZ4) {
      // Images without COMPR_CFGS are "LZ4-capable" but may well have no compressed file at all.
      compression.push(`lz4 (if used; max distance ${c.lz4MaxDistance || 'default'})`);
      continue;
    }
    switch (alg) {
      case F.COMPRESSION_LZ4:
        compression.push(`lz4 (max distance ${c.lz4MaxDistance || 'default'}, max pcluster ${c.lz4MaxPclusterBlocks ?? 0} blocks)`);
        break;
      case F.COMPRESSION_LZMA:
        compression.push(`lzma (MicroLZMA, dictionary ${c.lzmaDictSize} bytes)`);
        break;
      case F.COMPRESSION_DEFLATE:
        compression.push(`deflate (window 2^${c.deflateWindowBits})`);
        break;
      case F.COMPRESSION_ZSTD:
        compression.push(`zstd (window 2^${c.zstdWindowLog})`);
        break;
    }
  }
  const errors: string[] = [];
  let longXattrPrefixes: string[] = [];
  try {
    longXattrPrefixes = reader.longPrefixes().map((p) => new TextDecoder().decode(p.prefix));
  } catch (e) {
    errors.push(`long xattr prefixes: ${(e as Error).message}`);
  }
  const info: ImageInfo = {
    imageBytes: reader.imageSize,
    blockSize: sb.blockSize,
    blocks: sb.blocks,
    uuid: uuidString(sb.uuid),
    volumeName: sb.volumeName,
    composefs: sb.composefs,
    compatFeatures: compat.names,
    incompatFeatures: incompat.names,
    unknownCompat: compat.unknown,
    rootNid: formatNid(sb.rootNid),
    inos: sb.inos,
    metaBlkaddr: sb.metaBlkaddr,
    xattrBlkaddr: sb.xattrBlkaddr,
    packedNid: sb.packedNid ? formatNid(sb.packedNid) : undefined,
    metaboxNid: sb.metaboxNid !== undefined ? formatNid(sb.metaboxNid) : undefined,
    epoch: sb.epoch,
    fixedNsec: sb.fixedNsec,
    buildTime: sb.buildTime,
    compression,
    longXattrPrefixes,
    extraDevices: sb.extraDevices,
    counts: undefined,
    errors,
  };
  if (options.walk !== false) info.counts = countTree(reader, options.maxInodes ?? 10_000_000, errors);
  return info;
}

function countTree(reader: ErofsReader, maxInodes: number, errors: string[]): ImageCounts {
  const counts: ImageCounts = {
    inodes: 0, directories: 0, regularFiles: 0, symlinks: 0, devices: 0, fifos: 0, sockets: 0, extraLinks: 0,
    compressedFiles: 0, chunkedFiles: 0, inlineFiles: 0, fileBytes: 0, xattrs: 0, truncated: false,
  };
  const dot = new TextEncoder().encode('.');
  const dotdot = new TextEncoder().encode('..');
  const seen = new Set<number>();
  const stack: number[] = [reader.sb.rootNid];
  seen.add(reader.sb.rootNid);
  while (stack.length) {
    if (counts.inodes >= maxInodes) {
      counts.truncated = true;
      break;
    }
    const nid = stack.pop()!;
    try {
      const ino = reader.inode(nid);
      counts.inodes++;
      try {
        counts.xattrs += reader.xattrs(ino).length;
      } catch (e) {
        errors.push(`inode ${formatNid(nid)} xattrs: ${(e as Error).message}`);
      }
      switch (ino.mode & F.S_IFMT) {
        case F.S_IFDIR:
          counts.directories++;
          for (const e of reader.entries(ino)) {
            if (bytesEqual(e.name, dot) || bytesEqual(e.name, dotdot)) continue;
            if (seen.has(e.nid)) {
              counts.extraLinks++;
              continue;
            }
            seen.add(e.nid);
            stack.push(e.nid);
          }
          break;
        case F.S_IFREG:
          counts.regularFiles++;
          counts.fileBytes += ino.size;
          if (isCompressedLayout(ino.layout)) counts.compressedFiles++;
          else if (ino.layout === F.LAYOUT_CHUNK_BASED) counts.chunkedFiles++;
          else if (ino.layout === F.LAYOUT_FLAT_INLINE) counts.inlineFiles++;
          break;
        case F.S_IFLNK: counts.symlinks++; break;
        case F.S_IFCHR:
        case F.S_IFBLK: counts.devices++; break;
        case F.S_IFIFO: counts.fifos++; break;
        case F.S_IFSOCK: counts.sockets++; break;
      }
    } catch (e) {
      errors.push(`inode ${formatNid(nid)}: ${(e as Error).message}`);
      if (errors.length > 100) break;
    }
  }
  return counts;
}

function bytes(n: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let v = n;
  let u = 0;
  while (v >= 1024 && u < units.length - 1) {
    v /= 1024;
    u++;
  }
  return u === 0 ? `${n} B` : `${v.toFixed(1)} ${units[u]} (${n} bytes)`;
}

/** A human-readable description (several lines, ending in a newline). */
export function describeImage(reader: ErofsReader, options: { walk?: boolean; maxInodes?: number } = {}): string {
  const i = imageInfo(reader, options);
  const L: string[] = [];
  L.push(`format:            EROFS${i.composefs ? ` (composefs image, header v${i.composefs.version}${i.composefs.flags & F.LCFS_EROFS_FLAGS_HAS_ACL ? ', has ACLs' : ''})` : ''}`);
  L.push(`image size:        ${bytes(i.imageBytes)}`);
  L.push(`block size:        ${i.blockSize}`);
  L.push(`blocks:            ${i.blocks} of ${i.blockSize} bytes`);
  L.push(`uuid:              ${i.uuid}`);
  if (i.volumeName) L.push(`volume name:       ${i.volumeName}`);
  L.push(`features (compat): ${i.compatFeatures.join(' ') || '-'}${i.unknownCompat ? ` unknown:0x${i.unknownCompat.toString(16)}` : ''}`);
  L.push(`features (incompat): ${i.incompatFeatures.join(' ') || '-'}`);
  L.push(`root nid:          ${i.rootNid}`);
  L.push(`inodes (sb):       ${i.inos}`);
  L.push(`meta/xattr blkaddr: ${i.metaBlkaddr} / ${i.xattrBlkaddr}`);
  if (i.packedNid) L.push(`packed inode:      nid ${i.packedNid}`);
  if (i.metaboxNid) L.push(`metabox inode:     nid ${i.metaboxNid}`);
  const built = i.epoch + i.buildTime;
  const when = new Date(built * 1000);
  const iso = Number.isNaN(when.getTime()) ? `${built} s` : when.toISOString();
  L.push(`build time:        ${iso} (epoch ${i.epoch} + ${i.buildTime} s, fixed nsec ${i.fixedNsec})`);
  L.push(`compression:       ${i.compression.join(', ') || 'none'}`);
  if (i.longXattrPrefixes.length) L.push(`long xattr prefixes: ${i.longXattrPrefixes.map((p) => JSON.stringify(p)).join(' ')}`);
  if (i.extraDevices) L.push(`extra devices:     ${i.extraDevices} (data on them is not readable here)`);
  const c = i.counts;
  if (c) {
    L.push(`inodes (walked):   ${c.inodes}${c.truncated ? ' (stopped early)' : ''}`);
    L.push(`  directories ${c.directories}, files ${c.regularFiles}, symlinks ${c.symlinks}, devices ${c.devices}, fifos ${c.fifos}, sockets ${c.sockets}`);
    L.push(`  extra hardlinks ${c.extraLinks}, xattrs ${c.xattrs}`);
    L.push(`  file data ${bytes(c.fileBytes)}: ${c.compressedFiles} compressed, ${c.chunkedFiles} chunk-based, ${c.inlineFiles} with inline tails`);
  }
  if (i.errors.length) {
    L.push(`errors (${i.errors.length}):`);
    for (const e of i.errors.slice(0, 20)) L.push(`  ${e}`);
  }
  return L.join('\n') + '\n';
}
