// On-disk inode decoding: compact (32-byte) and extended (64-byte) forms, checked field by field. The result
// is a small plain object, cheap enough to cache by the thousand.

import { le16, le32, le64Safe, le64SignedSafe } from './bytes.js';
import { UnsupportedFeatureError, corrupt } from './errors.js';
import * as F from './format.js';
import { formatNid, nidInMetabox, nidLow, type Superblock } from './superblock.js';

/** The lazily loaded compression map state of a compressed inode (see zmap.ts). */
export interface ZInfo {
  advise: number;
  algorithms: [number, number];
  lclusterBits: number;
  /** 2 ** lclusterBits, kept so the per-READ walks do not compute a power. */
  lclusterSize: number;
  /** Fragment offset in the packed inode, or (ztailpacking) position of the inline tail pcluster. */
  fragmentOff: number;
  idataSize: number;
  tailExtentHeadLcn: number;
  extents: number;
  /** The whole file is a fragment in the packed inode (map header bit 63). */
  wholeFragment: boolean;
}

export interface ErofsInode {
  /** Encoded nid (metabox nids carry METABOX_NID_FLAG). */
  readonly nid: number;
  readonly inMetabox: boolean;
  /** Byte position of the inode in its space (the image, or the metabox data). */
  readonly iloc: number;
  readonly format: number;
  readonly extended: boolean;
  readonly inodeSize: number;
  readonly layout: number;
  readonly mode: number;
  readonly nlink: number;
  readonly uid: number;
  readonly gid: number;
  readonly size: number;
  readonly mtime: number;
  readonly mtimeNsec: number;
  /** Raw (new_encode_dev) device number for char/block devices, else 0. */
  readonly rdev: number;
  readonly xattrIcount: number;
  /** Bytes of the inline xattr region right after the inode (0 when none). */
  readonly xattrSize: number;
  /** First data block for flat layouts; -1 = no blocks (EROFS_NULL_ADDR). */
  readonly startBlk: number;
  /** i_blocks as stat reports it, in 512-byte units. */
  readonly blocks512: number;
  readonly chunkFormat: number;
  readonly chunkBits: number;
  /** Directories only: the "." entry is not stored. */
  readonly dotOmitted: boolean;
  /** Position right after inode + inline xattrs: where inline data, chunk indexes or zmap headers begin. */
  readonly dataStart: number;
  /** Filled on first compressed access. */
  z?: ZInfo;
}

export function isCompressedLayout(layout: number): boolean {
  return layout === F.LAYOUT_COMPRESSED_FULL || layout === F.LAYOUT_COMPRESSED_COMPACT;
}

export function inodeLocation(sb: Superblock, nid: number): number {
  const lo = nidLow(nid);
  return nidInMetabox(nid) ? lo * F.INODE_SLOT_SIZE : sb.metaBlkaddr * sb.blockSize + lo * F.INODE_SLOT_SIZE;
}

/**
 * Decodes an inode from `raw` (64 bytes starting at the inode, or fewer when the space ends first: a compact
 * inode needs only 32).
 */
export function decodeInode(sb: Superblock, nid: number, iloc: number, raw: Uint8Array): ErofsInode {
  const where = `inode ${formatNid(nid)}`;
  if (raw.length < F.COMPACT_INODE_SIZE) corrupt(`${where}: lies past the end of its area`);
  const format = le16(raw, F.I_FORMAT);
  if (format & ~F.I_ALL) throw new UnsupportedFeatureError(`${where}: i_format 0x${format.toString(16)}`);
  const layout = (format >> F.I_DATALAYOUT_BIT) & F.I_DATALAYOUT_MASK;
  if (layout > F.LAYOUT_CHUNK_BASED) throw new UnsupportedFeatureError(`${where}: data layout ${layout}`);
  const extended = (format & F.I_VERSION_MASK) === 1;
  const xattrIcount = le16(raw, F.I_XATTR_ICOUNT);
  const mode = le16(raw, F.I_MODE);
  const type = mode & F.S_IFMT;

  let nlink: number, size: number, uid: number, gid: number, mtime: number, mtimeNsec: number;
  let startHi = 0;
  let addrBits48 = true;
  const iu = le32(raw, F.I_U);
  if (extended) {
    if (raw.length < F.EXTENDED_INODE_SIZE) corrupt(`${where}: extended inode runs past the end of its area`);
    size = le64Safe(raw, F.IE_SIZE, `${where} size`);
    uid = le32(raw, F.IE_UID);
    gid = le32(raw, F.IE_GID);
    mtime = le64SignedSafe(raw, F.IE_MTIME, `${where} mtime`);
    mtimeNsec = le32(raw, F.IE_MTIME_NSEC);
    nlink = le32(raw, F.IE_NLINK);
    startHi = le16(raw, F.I_NB);
  } else {
    size = le32(raw, F.IC_SIZE);
    uid = le16(raw, F.IC_UID);
    gid = le16(raw, F.IC_GID);
    mtime = sb.epoch + le32(raw, F.IC_MTIME);
    mtimeNsec = sb.fixedNsec;
    if (type !== F.S_IFDIR && (format >> F.I_NLINK_1_BIT) & 1) {
      nlink = 1;
      startHi = le16(raw, F.I_NB);
    } else {
      nlink = le16(raw, F.I_NB);
      addrBits48 = false;
    }
  }
  if (mtimeNsec >= 1e9) corrupt(`${where}: mtime nanoseconds ${mtimeNsec} are not below one second`);

  let rdev = 0;
  let startBlk = -1;
  let dotOmitted = false;
  if (type === F.S_IFDIR) dotOmitted = ((format >> F.I_DOT_OMITTED_BIT) & 1) === 1;
  switch (type) {
    case F.S_IFDIR:
    case F.S_IFREG:
    case F.S_IFLNK: {
      const blk = startHi * 0x1_0000_0000 + iu;
      const nullAddr = addrBits48 ? blk === 0xffff_ffff_ffff : blk === 0xffff_ffff;
      // Only FLAT_PLAIN may say "no blocks at all"; the field means other things in other layouts.
      startBlk = layout === F.LAYOUT_FLAT_PLAIN && nullAddr ? -1 : blk;
      break;
    }
    case F.S_IFCHR:
    case F.S_IFBLK:
      rdev = iu;
      break;
    case F.S_IFIFO:
    case F.S_IFSOCK:
      break;
    default:
      corrupt(`${where}: bogus mode 0o${mode.toString(8)}`);
  }
  if (type === F.S_IFLNK && size > 4095) corrupt(`${where}: symlink target of ${size} bytes`);
  if (type !== F.S_IFREG && type !== F.S_IFDIR && type !== F.S_IFLNK && size !== 0 && isCompressedLayout(layout)) {
    corrupt(`${where}: special file with compressed data`);
  }

  const inodeSize = extended ? F.EXTENDED_INODE_SIZE : F.COMPACT_INODE_SIZE;
  // erofs_xattr_ibody_size: the header counts as one of the icount 4-byte slots.
  const xattrSize = xattrIcount === 0 ? 0 : F.XATTR_IBODY_HEADER_SIZE + F.XATTR_SLOT_SIZE * (xattrIcount - 1);

  let chunkFormat = 0;
  let chunkBits = 0;
  if (layout === F.LAYOUT_CHUNK_BASED) {
    chunkFormat = le16(raw, F.I_U_CHUNK_FORMAT);
    if (chunkFormat & ~F.CHUNK_FORMAT_ALL) throw new UnsupportedFeatureError(`${where}: chunk format 0x${chunkFormat.toString(16)}`);
    chunkBits = sb.blkszbits + (chunkFormat & F.CHUNK_FORMAT_BLKBITS_MASK);
    if (chunkBits > 47) corrupt(`${where}: chunk size 2^${chunkBits}`);
  }

  const blockSize = sb.blockSize;
  const blocks512 = isCompressedLayout(layout)
    ? iu * (blockSize / 512) // the kernel reports blocks_lo only
    : (Math.ceil(size / blockSize) * blockSize) / 512;

  return {
    nid,
    inMetabox: nidInMetabox(nid),
    iloc,
    format,
    extended,
    inodeSize,
    layout,
    mode,
    nlink,
    uid,
    gid,
    size,
    mtime,
    mtimeNsec,
    rdev,
    xattrIcount,
    xattrSize,
    startBlk,
    blocks512,
    chunkFormat,
    chunkBits,
    dotOmitted,
    dataStart: iloc + inodeSize + xattrSize,
  };
}
