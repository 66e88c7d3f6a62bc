// Superblock decoding and validation. Everything later trusts these numbers only as far as they are checked
// here (block size, areas inside the image, known incompat bits); per-object checks happen on each read.

import { le16, le32, le64Parts, le64Safe, le64SignedSafe } from './bytes.js';
import { CorruptImageError, UnsupportedFeatureError, corrupt } from './errors.js';
import { crc32cRaw } from './hash.js';
import * as F from './format.js';

export interface CompressionConfigs {
  /** Bitmap of algorithms with on-disk configuration records (or just LZ4 for old images). */
  availableAlgorithms: number;
  lz4MaxDistance?: number;
  lz4MaxPclusterBlocks?: number;
  lzmaDictSize?: number;
  deflateWindowBits?: number;
  zstdWindowLog?: number;
}

export interface Superblock {
  checksum: number;
  featureCompat: number;
  featureIncompat: number;
  blkszbits: number;
  blockSize: number;
  sbExtslots: number;
  /** 128 + 16 * sb_extslots */
  sbSize: number;
  /** Encoded like every nid in this reader: a metabox nid has METABOX_NID_FLAG added. */
  rootNid: number;
  inos: number;
  /** Base seconds for compact inodes' mtime (signed). */
  epoch: number;
  fixedNsec: number;
  /** Seconds after epoch when mkfs ran. */
  buildTime: number;
  blocks: number;
  metaBlkaddr: number;
  xattrBlkaddr: number;
  uuid: Uint8Array;
  volumeName: string;
  extraDevices: number;
  devtSlotoff: number;
  xattrPrefixCount: number;
  xattrPrefixStart: number;
  /** 0 when there is no packed inode. */
  packedNid: number;
  xattrFilterReserved: number;
  ishareXattrPrefixId: number;
  /** Only with INCOMPAT_METABOX. */
  metaboxNid: number | undefined;
  compression: CompressionConfigs;
  /** The composefs header flags, when the image starts with one (composefs images do). */
  composefs: { version: number; flags: number } | undefined;
}

/**
 * A nid with bit 63 set lives in the metabox inode. JS numbers cannot hold bit 63, so the reader encodes
 * such nids as (low bits + 2^52): still a safe integer, still unique, still cheap to test.
 */
export const METABOX_NID_FLAG = 2 ** 52;
/** Low nid bits beyond this cannot address anything in an image smaller than 2^53 bytes. */
export const MAX_NID_LO = 2 ** 48;

export function encodeNid(hi: number, lo: number, what: string): number {
  const metabox = (hi & 0x8000_0000) !== 0;
  const hiLo = hi & 0x7fff_ffff;
  if (hiLo >= 0x1_0000) corrupt(`${what}: nid 0x${hi.toString(16)}${lo.toString(16).padStart(8, '0')} is out of range`);
  const n = hiLo * 0x1_0000_0000 + lo;
  return metabox ? METABOX_NID_FLAG + n : n;
}

export function nidInMetabox(nid: number): boolean {
  return nid >= METABOX_NID_FLAG;
}

export function nidLow(nid: number): number {
  return nid >= METABOX_NID_FLAG ? nid - METABOX_NID_FLAG : nid;
}

/** Human form of an encoded nid (the on-disk value, with bit 63 when it is in the metabox). */
export function formatNid(nid: number): string {
  return nidInMetabox(nid) ? `metabox:${nidLow(nid)}` : String(nid);
}

/**
 * Parses the superblock from `head`, the first bytes of the image (at least 1024 + 4096 when the image is
 * that large; the checksum covers up to one block after offset 1024).
 */
export function parseSuperblock(head: Uint8Array, imageSize: number): Superblock {
  const O = F.EROFS_SUPER_OFFSET;
  if (imageSize < O + F.EROFS_SB_BASE_SIZE || head.length < O + F.EROFS_SB_BASE_SIZE) {
    corrupt(`image is ${imageSize} bytes, too small to hold a superblock`);
  }
  const magic = le32(head, O + F.SB_MAGIC);
  if (magic !== F.EROFS_SUPER_MAGIC_V1) corrupt(`bad superblock magic 0x${magic.toString(16)} at offset 1024`);

  const blkszbits = head[O + F.SB_BLKSZBITS]!;
  // The kernel accepts 512 bytes up to PAGE_SIZE; 64 KiB covers every page size Linux has.
  if (blkszbits < 9 || blkszbits > 16) corrupt(`block size 2^${blkszbits} is not supported`);
  const blockSize = 2 ** blkszbits;
  const dirblkbits = head[O + F.SB_DIRBLKBITS]!;
  if (dirblkbits !== 0) corrupt(`dirblkbits ${dirblkbits} is not supported`);

  const featureCompat = le32(head, O + F.SB_FEATURE_COMPAT);
  const checksum = le32(head, O + F.SB_CHECKSUM);
  if (featureCompat & F.COMPAT_SB_CHKSUM) {
    const len = blockSize > O ? blockSize - O : blockSize;
    if (O + len > head.length || O + len > imageSize) corrupt('image too short for the superblock checksum');
    const copy = head.slice(O, O + len);
    copy.fill(0, F.SB_CHECKSUM, F.SB_CHECKSUM + 4);
    const crc = crc32cRaw(0xffffffff, copy);
    if (crc !== checksum) corrupt(`superblock checksum 0x${crc.toString(16)} != 0x${checksum.toString(16)}`);
  }

  const featureIncompat = le32(head, O + F.SB_FEATURE_INCOMPAT);
  if (featureIncompat & ~F.ALL_INCOMPAT) {
    throw new UnsupportedFeatureError(`incompatible feature bits 0x${(featureIncompat & ~F.ALL_INCOMPAT).toString(16)}`);
  }

  const sbExtslots = head[O + F.SB_EXTSLOTS]!;
  const sbSize = F.EROFS_SB_BASE_SIZE + sbExtslots * F.EROFS_SB_EXTSLOT_SIZE;
  if (sbSize > 4096 - O) corrupt(`sb_extslots ${sbExtslots} makes the superblock larger than a page`);
  if (O + sbSize > imageSize || O + sbSize > head.length) corrupt('superblock extension slots run past the image');

  const is48 = (featureIncompat & F.INCOMPAT_48BIT) !== 0;
  const rb = le16(head, O + F.SB_RB);
  let blocks = le32(head, O + F.SB_BLOCKS_LO);
  let rootNid: number;
  const [r8hi, r8lo] = le64Parts(head, O + F.SB_ROOTNID_8B);
  if (is48 && (r8hi !== 0 || r8lo !== 0)) {
    rootNid = encodeNid(r8hi, r8lo, 'root');
    blocks += rb * 0x1_0000_0000;
  } else {
    rootNid = rb;
  }

  let metaboxNid: number | undefined;
  if (featureIncompat & F.INCOMPAT_METABOX) {
    if (sbSize <= F.SB_METABOX_NID) corrupt('metabox feature without the superblock slot that holds its nid');
    const [mhi, mlo] = le64Parts(head, O + F.SB_METABOX_NID);
    // A metabox inode inside the metabox would need itself to be read: refuse the loop up front.
    if (mhi & 0x8000_0000) corrupt('metabox inode claims to live in the metabox');
    metaboxNid = encodeNid(mhi, mlo, 'metabox');
  }
  if (rootNid >= 2 ** 52 && metaboxNid === undefined) corrupt('root nid points into a metabox the image does not have');

  const [phi, plo] = le64Parts(head, O + F.SB_PACKED_NID);
  const packedNid = featureIncompat & F.INCOMPAT_FRAGMENTS ? encodeNid(phi, plo, 'packed inode') : 0;
  if (packedNid >= 2 ** 52 && metaboxNid === undefined) corrupt('packed nid points into a metabox the image does not have');

  const fixedNsec = le32(head, O + F.SB_FIXED_NSEC);
  if (fixedNsec >= 1e9) corrupt(`fixed_nsec ${fixedNsec} is not below one second`);

  const volBytes = head.subarray(O + F.SB_VOLUME_NAME, O + F.SB_VOLUME_NAME + F.SB_VOLUME_NAME_SIZE);
  const nul = volBytes.indexOf(0);
  const volumeName = new TextDecoder('utf-8', { fatal: false }).decode(nul >= 0 ? volBytes.subarray(0, nul) : volBytes);

  const metaBlkaddr = le32(head, O + F.SB_META_BLKADDR);
  const xattrBlkaddr = le32(head, O + F.SB_XATTR_BLKADDR);
  if (metaBlkaddr * blockSize >= imageSize) {
    corrupt(`metadata area (block ${metaBlkaddr}) starts past the end of the image`);
  }

  let composefs: Superblock['composefs'];
  if (le32(head, F.LCFS_H_MAGIC) === F.LCFS_EROFS_MAGIC) {
    composefs = { version: le32(head, F.LCFS_H_VERSION), flags: le32(head, F.LCFS_H_FLAGS) };
  }

  const sb: Superblock = {
    checksum,
    featureCompat,
    featureIncompat,
    blkszbits,
    blockSize,
    sbExtslots,
    sbSize,
    rootNid,
    inos: le64Safe(head, O + F.SB_INOS, 'inos'),
    epoch: le64SignedSafe(head, O + F.SB_EPOCH, 'epoch'),
    fixedNsec,
    buildTime: le32(head, O + F.SB_BUILD_TIME),
    blocks,
    metaBlkaddr,
    xattrBlkaddr,
    uuid: head.slice(O + F.SB_UUID, O + F.SB_UUID + F.SB_UUID_SIZE),
    volumeName,
    extraDevices: featureIncompat & F.INCOMPAT_DEVICE_TABLE ? le16(head, O + F.SB_EXTRA_DEVICES) : 0,
    devtSlotoff: le16(head, O + F.SB_DEVT_SLOTOFF),
    xattrPrefixCount: featureIncompat & F.INCOMPAT_XATTR_PREFIXES ? head[O + F.SB_XATTR_PREFIX_COUNT]! : 0,
    xattrPrefixStart: le32(head, O + F.SB_XATTR_PREFIX_START),
    packedNid,
    xattrFilterReserved: head[O + F.SB_XATTR_FILTER_RESERVED]!,
    ishareXattrPrefixId: head[O + F.SB_ISHARE_XATTR_PREFIX_ID]!,
    metaboxNid,
    compression: { availableAlgorithms: 0 },
    composefs,
  };
  sb.compression = parseCompressionConfigs(head, imageSize, sb);
  return sb;
}

/**
 * The compression configuration records that follow the superblock (one per available algorithm, each a
 * le16 length plus payload, 4-byte aligned). Without COMPR_CFGS the image can only use LZ4.
 */
function parseCompressionConfigs(head: Uint8Array, imageSize: number, sb: Superblock): CompressionConfigs {
  const O = F.EROFS_SUPER_OFFSET;
  const u1 = le16(head, O + F.SB_U1);
  if (!(sb.featureIncompat & F.INCOMPAT_COMPR_CFGS)) {
    return { availableAlgorithms: 1 << F.COMPRESSION_LZ4, lz4MaxDistance: u1 };
  }
  const cfg: CompressionConfigs = { availableAlgorithms: u1 };
  if (u1 & ~((1 << F.COMPRESSION_MAX) - 1)) {
    throw new UnsupportedFeatureError(`unknown compression algorithms 0x${u1.toString(16)}`);
  }
  let pos = O + sb.sbSize;
  for (let alg = 0; alg < F.COMPRESSION_MAX; alg++) {
    if (!(u1 & (1 << alg))) continue;
    pos = Math.ceil(pos / 4) * 4;
    if (pos + 2 > imageSize || pos + 2 > head.length) corrupt('compression configs run past the superblock block');
    const len = le16(head, pos);
    pos += 2;
    if (pos + len > imageSize || pos + len > head.length) corrupt('compression config record runs past the superblock block');
    if (len !== F.COMPR_CFG_SIZES[alg]) {
      throw new CorruptImageError(`${F.COMPRESSION_NAMES[alg]} config record is ${len} bytes, expected ${F.COMPR_CFG_SIZES[alg]}`);
    }
    const rec = head.subarray(pos, pos + len);
    pos += len;
    switch (alg) {
      case F.COMPRESSION_LZ4:
        cfg.lz4MaxDistance = le16(rec, F.LZ4_CFG_MAX_DISTANCE);
        cfg.lz4MaxPclusterBlocks = le16(rec, F.LZ4_CFG_MAX_PCLUSTERBLKS);
        break;
      case F.COMPRESSION_LZMA:
        // As the kernel's z_erofs_load_lzma_config: format 0 only, 4 KiB <= dictionary <= 8 MiB.
        const format = le16(rec, F.LZMA_CFG_FORMAT);
        if (format !== 0) throw new UnsupportedFeatureError(`lzma config format ${format}`);
        cfg.lzmaDictSize = le32(rec, F.LZMA_CFG_DICT_SIZE);
        if (cfg.lzmaDictSize < 4096 || cfg.lzmaDictSize > F.LZMA_MAX_DICT_SIZE) corrupt(`lzma dictionary size ${cfg.lzmaDictSize}`);
        break;
      case F.COMPRESSION_DEFLATE:
        cfg.deflateWindowBits = rec[F.DEFLATE_CFG_WINDOWBITS]!;
        break;
      case F.COMPRESSION_ZSTD:
        if (rec[F.ZSTD_CFG_FORMAT] !== 0) throw new UnsupportedFeatureError(`zstd config format ${rec[F.ZSTD_CFG_FORMAT]}`);
        cfg.zstdWindowLog = rec[F.ZSTD_CFG_WINDOWLOG]! + 10;
        break;
    }
  }
  return cfg;
}
