// The EROFS on-disk structs as data: for each struct of reference/erofs_fs.h its size and, per member, its
// [offset, size] in bytes. Members of unions and nested structs are named by their C access path ("rb.blocks_hi",
// "i_u.c.format"); zero-length trailing arrays have size 0. test/erofs/unit/ondisk.test.ts compiles a C program
// against the header and checks every entry, and that every named member of the header is here.
//
// The decoders (this folder) and the encoders (src/erofs/writer) read offsets only through the constants below,
// derived from the table once at module load, so a field read in a loop is a plain number, not a lookup.

type Field = readonly [offset: number, size: number];

export const EROFS_LAYOUT = {
  erofs_deviceslot: {
    size: 128,
    fields: { tag: [0, 64], blocks_lo: [64, 4], uniaddr_lo: [68, 4], blocks_hi: [72, 2], uniaddr_hi: [74, 2] },
  },
  erofs_super_block: {
    size: 144,
    fields: {
      magic: [0, 4], checksum: [4, 4], feature_compat: [8, 4], blkszbits: [12, 1], sb_extslots: [13, 1],
      'rb.rootnid_2b': [14, 2], 'rb.blocks_hi': [14, 2], inos: [16, 8], epoch: [24, 8], fixed_nsec: [32, 4],
      blocks_lo: [36, 4], meta_blkaddr: [40, 4], xattr_blkaddr: [44, 4], uuid: [48, 16], volume_name: [64, 16],
      feature_incompat: [80, 4], 'u1.available_compr_algs': [84, 2], 'u1.lz4_max_distance': [84, 2],
      extra_devices: [86, 2], devt_slotoff: [88, 2], dirblkbits: [90, 1], xattr_prefix_count: [91, 1],
      xattr_prefix_start: [92, 4], packed_nid: [96, 8], xattr_filter_reserved: [104, 1],
      ishare_xattr_prefix_id: [105, 1], build_time: [108, 4], rootnid_8b: [112, 8], metabox_nid: [128, 8],
    },
  },
  erofs_inode_chunk_info: { size: 4, fields: { format: [0, 2] } },
  erofs_inode_compact: {
    size: 32,
    fields: {
      i_format: [0, 2], i_xattr_icount: [2, 2], i_mode: [4, 2], 'i_nb.nlink': [6, 2], 'i_nb.blocks_hi': [6, 2],
      'i_nb.startblk_hi': [6, 2], i_size: [8, 4], i_mtime: [12, 4], 'i_u.blocks_lo': [16, 4],
      'i_u.startblk_lo': [16, 4], 'i_u.rdev': [16, 4], 'i_u.c.format': [16, 2], i_ino: [20, 4], i_uid: [24, 2],
      i_gid: [26, 2],
    },
  },
  erofs_inode_extended: {
    size: 64,
    fields: {
      i_format: [0, 2], i_xattr_icount: [2, 2], i_mode: [4, 2], 'i_nb.nlink': [6, 2], 'i_nb.blocks_hi': [6, 2],
      'i_nb.startblk_hi': [6, 2], i_size: [8, 8], 'i_u.blocks_lo': [16, 4], 'i_u.startblk_lo': [16, 4],
      'i_u.rdev': [16, 4], 'i_u.c.format': [16, 2], i_ino: [20, 4], i_uid: [24, 4], i_gid: [28, 4],
      i_mtime: [32, 8], i_mtime_nsec: [40, 4], i_nlink: [44, 4],
    },
  },
  erofs_xattr_ibody_header: {
    size: 12,
    fields: { h_name_filter: [0, 4], h_shared_count: [4, 1], h_shared_xattrs: [12, 0] },
  },
  erofs_xattr_entry: {
    size: 4,
    fields: { e_name_len: [0, 1], e_name_index: [1, 1], e_value_size: [2, 2], e_name: [4, 0] },
  },
  erofs_xattr_long_prefix: { size: 1, fields: { base_index: [0, 1], infix: [1, 0] } },
  erofs_inode_chunk_index: { size: 8, fields: { startblk_hi: [0, 2], device_id: [2, 2], startblk_lo: [4, 4] } },
  erofs_dirent: { size: 12, fields: { nid: [0, 8], nameoff: [8, 2], file_type: [10, 1] } },
  z_erofs_lz4_cfgs: { size: 14, fields: { max_distance: [0, 2], max_pclusterblks: [2, 2] } },
  z_erofs_lzma_cfgs: { size: 14, fields: { dict_size: [0, 4], format: [4, 2] } },
  z_erofs_deflate_cfgs: { size: 6, fields: { windowbits: [0, 1] } },
  z_erofs_zstd_cfgs: { size: 6, fields: { format: [0, 1], windowlog: [1, 1] } },
  z_erofs_map_header: {
    size: 8,
    fields: {
      h_fragmentoff: [0, 4], h_idata_size: [2, 2], h_extents_lo: [0, 4], h_advise: [4, 2],
      h_algorithmtype: [6, 1], h_clusterbits: [7, 1], h_extents_hi: [6, 2],
    },
  },
  z_erofs_lcluster_index: {
    size: 8,
    fields: { di_advise: [0, 2], di_clusterofs: [2, 2], 'di_u.blkaddr': [4, 4], 'di_u.delta': [4, 4] },
  },
  z_erofs_extent: {
    size: 32,
    fields: { plen: [0, 4], pstart_lo: [4, 4], pstart_hi: [8, 4], lstart_lo: [12, 4], lstart_hi: [16, 4] },
  },
} as const satisfies Record<string, { size: number; fields: Record<string, Field> }>;

const SB = EROFS_LAYOUT.erofs_super_block.fields;
const IC = EROFS_LAYOUT.erofs_inode_compact.fields;
const IE = EROFS_LAYOUT.erofs_inode_extended.fields;
const XH = EROFS_LAYOUT.erofs_xattr_ibody_header.fields;
const XE = EROFS_LAYOUT.erofs_xattr_entry.fields;
const DE = EROFS_LAYOUT.erofs_dirent.fields;
const CI = EROFS_LAYOUT.erofs_inode_chunk_index.fields;
const MH = EROFS_LAYOUT.z_erofs_map_header.fields;
const LI = EROFS_LAYOUT.z_erofs_lcluster_index.fields;
const EX = EROFS_LAYOUT.z_erofs_extent.fields;

// erofs_super_block (offsets from the start of the superblock, EROFS_SUPER_OFFSET into the image).
export const SB_MAGIC = SB.magic[0];
export const SB_CHECKSUM = SB.checksum[0];
export const SB_FEATURE_COMPAT = SB.feature_compat[0];
export const SB_BLKSZBITS = SB.blkszbits[0];
export const SB_EXTSLOTS = SB.sb_extslots[0];
/** rootnid_2b, or (48BIT) blocks_hi: the same le16. */
export const SB_RB = SB['rb.rootnid_2b'][0];
export const SB_INOS = SB.inos[0];
export const SB_EPOCH = SB.epoch[0];
export const SB_FIXED_NSEC = SB.fixed_nsec[0];
export const SB_BLOCKS_LO = SB.blocks_lo[0];
export const SB_META_BLKADDR = SB.meta_blkaddr[0];
export const SB_XATTR_BLKADDR = SB.xattr_blkaddr[0];
export const SB_UUID = SB.uuid[0];
export const SB_UUID_SIZE = SB.uuid[1];
export const SB_VOLUME_NAME = SB.volume_name[0];
export const SB_VOLUME_NAME_SIZE = SB.volume_name[1];
export const SB_FEATURE_INCOMPAT = SB.feature_incompat[0];
/** available_compr_algs (COMPR_CFGS), or lz4_max_distance: the same le16. */
export const SB_U1 = SB['u1.available_compr_algs'][0];
export const SB_EXTRA_DEVICES = SB.extra_devices[0];
export const SB_DEVT_SLOTOFF = SB.devt_slotoff[0];
export const SB_DIRBLKBITS = SB.dirblkbits[0];
export const SB_XATTR_PREFIX_COUNT = SB.xattr_prefix_count[0];
export const SB_XATTR_PREFIX_START = SB.xattr_prefix_start[0];
export const SB_PACKED_NID = SB.packed_nid[0];
export const SB_XATTR_FILTER_RESERVED = SB.xattr_filter_reserved[0];
export const SB_ISHARE_XATTR_PREFIX_ID = SB.ishare_xattr_prefix_id[0];
export const SB_BUILD_TIME = SB.build_time[0];
export const SB_ROOTNID_8B = SB.rootnid_8b[0];
export const SB_METABOX_NID = SB.metabox_nid[0];

/** A member both inode forms hold at the same offset (what is read before the form is known). */
function common(name: keyof typeof IC & keyof typeof IE): number {
  if (IC[name][0] !== IE[name][0] || IC[name][1] !== IE[name][1]) throw new Error(`${name} differs between inode forms`);
  return IC[name][0];
}

// Both inode forms.
export const I_FORMAT = common('i_format');
export const I_XATTR_ICOUNT = common('i_xattr_icount');
export const I_MODE = common('i_mode');
/** nlink (compact), or blocks_hi / startblk_hi: the same le16. */
export const I_NB = common('i_nb.nlink');
/** startblk_lo / blocks_lo / rdev, or the chunk format in its low half. */
export const I_U = common('i_u.startblk_lo');
export const I_U_CHUNK_FORMAT = common('i_u.c.format');
export const I_INO = common('i_ino');
export const COMPACT_INODE_SIZE = EROFS_LAYOUT.erofs_inode_compact.size;
export const EXTENDED_INODE_SIZE = EROFS_LAYOUT.erofs_inode_extended.size;

// erofs_inode_compact.
export const IC_SIZE = IC.i_size[0];
export const IC_MTIME = IC.i_mtime[0];
export const IC_UID = IC.i_uid[0];
export const IC_GID = IC.i_gid[0];

// erofs_inode_extended.
export const IE_SIZE = IE.i_size[0];
export const IE_UID = IE.i_uid[0];
export const IE_GID = IE.i_gid[0];
export const IE_MTIME = IE.i_mtime[0];
export const IE_MTIME_NSEC = IE.i_mtime_nsec[0];
export const IE_NLINK = IE.i_nlink[0];

// erofs_xattr_ibody_header, erofs_xattr_entry, erofs_xattr_long_prefix.
export const XATTR_IBODY_HEADER_SIZE = EROFS_LAYOUT.erofs_xattr_ibody_header.size;
export const XH_NAME_FILTER = XH.h_name_filter[0];
export const XH_SHARED_COUNT = XH.h_shared_count[0];
/** The shared xattr ids (le32 each) follow the header. */
export const XH_SHARED_XATTRS = XH.h_shared_xattrs[0];
export const XATTR_ENTRY_SIZE = EROFS_LAYOUT.erofs_xattr_entry.size;
export const XE_NAME_LEN = XE.e_name_len[0];
export const XE_NAME_INDEX = XE.e_name_index[0];
export const XE_VALUE_SIZE = XE.e_value_size[0];
/** The name (then the value) follows the entry header. */
export const XE_NAME = XE.e_name[0];
export const XLP_BASE_INDEX = EROFS_LAYOUT.erofs_xattr_long_prefix.fields.base_index[0];
export const XLP_INFIX = EROFS_LAYOUT.erofs_xattr_long_prefix.fields.infix[0];

// erofs_dirent.
export const DIRENT_SIZE = EROFS_LAYOUT.erofs_dirent.size;
export const DE_NID = DE.nid[0];
export const DE_NAMEOFF = DE.nameoff[0];
export const DE_FILE_TYPE = DE.file_type[0];

// erofs_inode_chunk_index.
export const CHUNK_INDEX_SIZE = EROFS_LAYOUT.erofs_inode_chunk_index.size;
export const CI_STARTBLK_HI = CI.startblk_hi[0];
export const CI_DEVICE_ID = CI.device_id[0];
export const CI_STARTBLK_LO = CI.startblk_lo[0];

// Compression configuration records (after the superblock, one per available algorithm).
export const LZ4_CFG_MAX_DISTANCE = EROFS_LAYOUT.z_erofs_lz4_cfgs.fields.max_distance[0];
export const LZ4_CFG_MAX_PCLUSTERBLKS = EROFS_LAYOUT.z_erofs_lz4_cfgs.fields.max_pclusterblks[0];
export const LZMA_CFG_DICT_SIZE = EROFS_LAYOUT.z_erofs_lzma_cfgs.fields.dict_size[0];
export const LZMA_CFG_FORMAT = EROFS_LAYOUT.z_erofs_lzma_cfgs.fields.format[0];
export const DEFLATE_CFG_WINDOWBITS = EROFS_LAYOUT.z_erofs_deflate_cfgs.fields.windowbits[0];
export const ZSTD_CFG_FORMAT = EROFS_LAYOUT.z_erofs_zstd_cfgs.fields.format[0];
export const ZSTD_CFG_WINDOWLOG = EROFS_LAYOUT.z_erofs_zstd_cfgs.fields.windowlog[0];
/** Record payload size per algorithm (Z_EROFS_COMPRESSION_* order): what the length field must say. */
export const COMPR_CFG_SIZES: readonly number[] = [
  EROFS_LAYOUT.z_erofs_lz4_cfgs.size,
  EROFS_LAYOUT.z_erofs_lzma_cfgs.size,
  EROFS_LAYOUT.z_erofs_deflate_cfgs.size,
  EROFS_LAYOUT.z_erofs_zstd_cfgs.size,
];

// z_erofs_map_header.
export const MAP_HEADER_SIZE = EROFS_LAYOUT.z_erofs_map_header.size;
export const MH_FRAGMENTOFF = MH.h_fragmentoff[0];
export const MH_IDATA_SIZE = MH.h_idata_size[0];
export const MH_EXTENTS_LO = MH.h_extents_lo[0];
export const MH_ADVISE = MH.h_advise[0];
export const MH_ALGORITHMTYPE = MH.h_algorithmtype[0];
export const MH_CLUSTERBITS = MH.h_clusterbits[0];
export const MH_EXTENTS_HI = MH.h_extents_hi[0];

// z_erofs_lcluster_index.
export const LCLUSTER_INDEX_SIZE = EROFS_LAYOUT.z_erofs_lcluster_index.size;
export const LI_ADVISE = LI.di_advise[0];
export const LI_CLUSTEROFS = LI.di_clusterofs[0];
export const LI_BLKADDR = LI['di_u.blkaddr'][0];
/** delta[0]; delta[1] is the le16 after it. */
export const LI_DELTA = LI['di_u.delta'][0];

// z_erofs_extent (records of 4, 8, 16 or 32 bytes keep only the leading members).
export const EXTENT_SIZE = EROFS_LAYOUT.z_erofs_extent.size;
export const EXT_PLEN = EX.plen[0];
export const EXT_PSTART_LO = EX.pstart_lo[0];
export const EXT_PSTART_HI = EX.pstart_hi[0];
export const EXT_LSTART_LO = EX.lstart_lo[0];
export const EXT_LSTART_HI = EX.lstart_hi[0];
