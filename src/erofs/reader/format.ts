// EROFS on-disk constants (mirrors reference/erofs_fs.h): magic numbers, feature bits, layouts, flags. The struct
// offsets and sizes live in ondisk.ts (one table, checked against the header) and are re-exported here, so a
// decoder imports one module and reads like the header instead of like a hex dump.

export * from './ondisk.js';

export const EROFS_SUPER_MAGIC_V1 = 0xe0f5e1e2;
/** The superblock sits 1024 bytes in, leaving room for boot sectors (and the composefs header). */
export const EROFS_SUPER_OFFSET = 1024;
/** Base superblock size ("128 + sb_extslots * 16"): metabox_nid sits in the first extension slot. */
export const EROFS_SB_BASE_SIZE = 128;
export const EROFS_SB_EXTSLOT_SIZE = 16;

export const COMPAT_SB_CHKSUM = 0x1;
export const COMPAT_MTIME = 0x2;
export const COMPAT_XATTR_FILTER = 0x4;
export const COMPAT_SHARED_EA_IN_METABOX = 0x8;
export const COMPAT_PLAIN_XATTR_PFX = 0x10;
export const COMPAT_ISHARE_XATTRS = 0x20;

export const INCOMPAT_LZ4_0PADDING = 0x1;
export const INCOMPAT_COMPR_CFGS = 0x2;
export const INCOMPAT_BIG_PCLUSTER = 0x2;
export const INCOMPAT_CHUNKED_FILE = 0x4;
export const INCOMPAT_DEVICE_TABLE = 0x8;
export const INCOMPAT_COMPR_HEAD2 = 0x8;
export const INCOMPAT_ZTAILPACKING = 0x10;
export const INCOMPAT_FRAGMENTS = 0x20;
export const INCOMPAT_DEDUPE = 0x20;
export const INCOMPAT_XATTR_PREFIXES = 0x40;
export const INCOMPAT_48BIT = 0x80;
export const INCOMPAT_METABOX = 0x100;
/** Every incompat bit this reader knows; any other bit means "do not serve this image". */
export const ALL_INCOMPAT = (INCOMPAT_METABOX << 1) - 1;

/** Feature names for `erofs info`; several bits have two names because the kernel reused them. */
export const COMPAT_NAMES: ReadonlyArray<[number, string]> = [
  [COMPAT_SB_CHKSUM, 'sb_csum'],
  [COMPAT_MTIME, 'mtime'],
  [COMPAT_XATTR_FILTER, 'xattr_filter'],
  [COMPAT_SHARED_EA_IN_METABOX, 'shared_ea_in_metabox'],
  [COMPAT_PLAIN_XATTR_PFX, 'plain_xattr_pfx'],
  [COMPAT_ISHARE_XATTRS, 'ishare_xattrs'],
];
export const INCOMPAT_NAMES: ReadonlyArray<[number, string]> = [
  [INCOMPAT_LZ4_0PADDING, '0padding'],
  [INCOMPAT_COMPR_CFGS, 'compr_cfgs/big_pcluster'],
  [INCOMPAT_CHUNKED_FILE, 'chunked_file'],
  [INCOMPAT_DEVICE_TABLE, 'device_table/compr_head2'],
  [INCOMPAT_ZTAILPACKING, 'ztailpacking'],
  [INCOMPAT_FRAGMENTS, 'fragments/dedupe'],
  [INCOMPAT_XATTR_PREFIXES, 'xattr_prefixes'],
  [INCOMPAT_48BIT, '48bit'],
  [INCOMPAT_METABOX, 'metabox'],
];

// Inode data layouts (i_format bits 1..3).
export const LAYOUT_FLAT_PLAIN = 0;
export const LAYOUT_COMPRESSED_FULL = 1;
export const LAYOUT_FLAT_INLINE = 2;
export const LAYOUT_COMPRESSED_COMPACT = 3;
export const LAYOUT_CHUNK_BASED = 4;
export const LAYOUT_NAMES = ['flat-plain', 'compressed-full', 'flat-inline', 'compressed-compact', 'chunk-based'];

export const I_VERSION_MASK = 0x1;
export const I_DATALAYOUT_BIT = 1;
export const I_DATALAYOUT_MASK = 0x7;
/** Non-directory compact inodes: nlink is 1 and i_nb carries startblk_hi instead. */
export const I_NLINK_1_BIT = 4;
/** Directories: the "." dirent was left out to save space. */
export const I_DOT_OMITTED_BIT = 4;
export const I_ALL = (1 << (I_NLINK_1_BIT + 1)) - 1;

export const INODE_SLOT_BITS = 5;
/** A nid counts 32-byte slots (from meta_blkaddr, or in the metabox). */
export const INODE_SLOT_SIZE = 1 << INODE_SLOT_BITS;

export const CHUNK_FORMAT_BLKBITS_MASK = 0x1f;
export const CHUNK_FORMAT_INDEXES = 0x20;
export const CHUNK_FORMAT_48BIT = 0x40;
export const CHUNK_FORMAT_ALL = (CHUNK_FORMAT_48BIT << 1) - 1;
export const BLOCK_MAP_ENTRY_SIZE = 4;

/** i_xattr_icount counts 4-byte slots; shared xattr ids are le32 slots of the shared area. */
export const XATTR_SLOT_SIZE = 4;
export const XATTR_INDEX_USER = 1;
export const XATTR_INDEX_POSIX_ACL_ACCESS = 2;
export const XATTR_INDEX_POSIX_ACL_DEFAULT = 3;
export const XATTR_INDEX_TRUSTED = 4;
export const XATTR_INDEX_LUSTRE = 5;
export const XATTR_INDEX_SECURITY = 6;
export const XATTR_LONG_PREFIX = 0x80;
export const XATTR_LONG_PREFIX_MASK = 0x7f;
export const XATTR_FILTER_BITS = 32;
export const XATTR_FILTER_SEED = 0x25bbe08f;

/** Short name prefixes by e_name_index. Lustre (5) has no handler in the kernel, so it is never shown. */
export const XATTR_PREFIXES: Readonly<Record<number, string>> = {
  [XATTR_INDEX_USER]: 'user.',
  [XATTR_INDEX_POSIX_ACL_ACCESS]: 'system.posix_acl_access',
  [XATTR_INDEX_POSIX_ACL_DEFAULT]: 'system.posix_acl_default',
  [XATTR_INDEX_TRUSTED]: 'trusted.',
  [XATTR_INDEX_SECURITY]: 'security.',
};

export const NAME_LEN = 255;
export const FT_UNKNOWN = 0;
export const FT_REG_FILE = 1;
export const FT_DIR = 2;
export const FT_CHRDEV = 3;
export const FT_BLKDEV = 4;
export const FT_FIFO = 5;
export const FT_SOCK = 6;
export const FT_SYMLINK = 7;

// Compression.
export const PCLUSTER_MAX_SIZE = 1024 * 1024;
export const PCLUSTER_MAX_DSIZE = 12 * 1024 * 1024;
/** Z_EROFS_LZMA_MAX_DICT_SIZE: the largest lzma dictionary the kernel accepts. */
export const LZMA_MAX_DICT_SIZE = 8 * PCLUSTER_MAX_SIZE;
export const COMPRESSION_LZ4 = 0;
export const COMPRESSION_LZMA = 1;
export const COMPRESSION_DEFLATE = 2;
export const COMPRESSION_ZSTD = 3;
export const COMPRESSION_MAX = 4;
/** Pseudo algorithms for uncompressed (PLAIN) pclusters, as the kernel names them. */
export const COMPRESSION_SHIFTED = COMPRESSION_MAX;
export const COMPRESSION_INTERLACED = COMPRESSION_MAX + 1;
export const COMPRESSION_NAMES = ['lz4', 'lzma', 'deflate', 'zstd', 'plain(shifted)', 'plain(interlaced)'];

export const ADVISE_COMPACTED_2B = 0x1;
export const ADVISE_EXTENTS = 0x1;
export const ADVISE_BIG_PCLUSTER_1 = 0x2;
export const ADVISE_BIG_PCLUSTER_2 = 0x4;
export const ADVISE_INLINE_PCLUSTER = 0x8;
export const ADVISE_INTERLACED_PCLUSTER = 0x10;
export const ADVISE_FRAGMENT_PCLUSTER = 0x20;
export const ADVISE_EXTRECSZ_BIT = 1;
export const ADVISE_EXTRECSZ_MASK = 0x3;
export const FRAGMENT_INODE_BIT = 7;

export const LCLUSTER_TYPE_PLAIN = 0;
export const LCLUSTER_TYPE_HEAD1 = 1;
export const LCLUSTER_TYPE_NONHEAD = 2;
export const LCLUSTER_TYPE_HEAD2 = 3;
export const LI_PARTIAL_REF = 1 << 15;
export const LI_D0_CBLKCNT = 1 << 11;

/** Z_EROFS_MAP_HEADER_START: the map header starts at the next 8-byte boundary after inode and xattrs. */
export const MAP_HEADER_ALIGN = 8;
/** Z_EROFS_FULL_INDEX_START: full lcluster indexes begin this many bytes after the map header ends. */
export const FULL_INDEX_GAP = 8;

export const EXTENT_PLEN_PARTIAL = 1 << 27;
export const EXTENT_PLEN_FMT_BIT = 28;
export const EXTENT_PLEN_MASK = (PCLUSTER_MAX_SIZE << 1) - 1;

/** composefs images start with this header (libcomposefs lcfs_erofs_header_s) before the EROFS superblock. */
export const LCFS_EROFS_MAGIC = 0xd078629a;
// lcfs_erofs_header_s (libcomposefs lcfs-erofs.h, not in erofs_fs.h): four le32 then unused[4].
export const LCFS_H_MAGIC = 0;
export const LCFS_H_VERSION = 4;
export const LCFS_H_FLAGS = 8;
export const LCFS_H_COMPOSEFS_VERSION = 12;
export const LCFS_EROFS_FLAGS_HAS_ACL = 1;

// File type bits: POSIX, from the protocol layer (the reader stays free of the FUSE server layers).
export { S_IFMT, S_IFSOCK, S_IFLNK, S_IFREG, S_IFBLK, S_IFDIR, S_IFCHR, S_IFIFO } from '../../protocol/types.js';

// Writer-side constants (src/erofs/writer).
/** "No block" in a block map entry or raw_blkaddr. */
export const NULL_ADDR = 0xffffffff;
/** An xattr bloom filter with every bit set: "no xattr of any hash here". */
export const XATTR_FILTER_DEFAULT = 0xffffffff;
/** Size of the composefs header (lcfs_erofs_header_s) and the version its `version` field carries. */
export const LCFS_EROFS_HEADER_SIZE = 32;
export const LCFS_EROFS_VERSION = 1;
