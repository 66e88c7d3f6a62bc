// Constants of the FUSE kernel ABI 7.45 (reference/fuse_kernel.h), as data.

import { defineFlags } from './flags.js';

export const FUSE_KERNEL_VERSION = 7;
export const FUSE_KERNEL_MINOR_VERSION = 45;
export const FUSE_ROOT_ID = 1;
export const FUSE_MIN_READ_BUFFER = 8192;

export const Opcode = {
  LOOKUP: 1, FORGET: 2, GETATTR: 3, SETATTR: 4, READLINK: 5, SYMLINK: 6, MKNOD: 8, MKDIR: 9, UNLINK: 10,
  RMDIR: 11, RENAME: 12, LINK: 13, OPEN: 14, READ: 15, WRITE: 16, STATFS: 17, RELEASE: 18, FSYNC: 20,
  SETXATTR: 21, GETXATTR: 22, LISTXATTR: 23, REMOVEXATTR: 24, FLUSH: 25, INIT: 26, OPENDIR: 27, READDIR: 28,
  RELEASEDIR: 29, FSYNCDIR: 30, GETLK: 31, SETLK: 32, SETLKW: 33, ACCESS: 34, CREATE: 35, INTERRUPT: 36,
  BMAP: 37, DESTROY: 38, IOCTL: 39, POLL: 40, NOTIFY_REPLY: 41, BATCH_FORGET: 42, FALLOCATE: 43,
  READDIRPLUS: 44, RENAME2: 45, LSEEK: 46, COPY_FILE_RANGE: 47, SETUPMAPPING: 48, REMOVEMAPPING: 49,
  SYNCFS: 50, TMPFILE: 51, STATX: 52, COPY_FILE_RANGE_64: 53,
  CUSE_INIT: 4096,
} as const;
export type OpcodeName = keyof typeof Opcode;
export const MAX_OPCODE = 53;

export const NotifyCode = {
  POLL: 1, INVAL_INODE: 2, INVAL_ENTRY: 3, STORE: 4, RETRIEVE: 5, DELETE: 6, RESEND: 7, INC_EPOCH: 8, PRUNE: 9,
} as const;

/** INIT capability bits (bit index; bits >= 32 travel in flags2). */
export const InitFlags = defineFlags('init', {
  ASYNC_READ: 0, POSIX_LOCKS: 1, FILE_OPS: 2, ATOMIC_O_TRUNC: 3, EXPORT_SUPPORT: 4, BIG_WRITES: 5,
  DONT_MASK: 6, SPLICE_WRITE: 7, SPLICE_MOVE: 8, SPLICE_READ: 9, FLOCK_LOCKS: 10, HAS_IOCTL_DIR: 11,
  AUTO_INVAL_DATA: 12, DO_READDIRPLUS: 13, READDIRPLUS_AUTO: 14, ASYNC_DIO: 15, WRITEBACK_CACHE: 16,
  NO_OPEN_SUPPORT: 17, PARALLEL_DIROPS: 18, HANDLE_KILLPRIV: 19, POSIX_ACL: 20, ABORT_ERROR: 21,
  MAX_PAGES: 22, CACHE_SYMLINKS: 23, NO_OPENDIR_SUPPORT: 24, EXPLICIT_INVAL_DATA: 25, MAP_ALIGNMENT: 26,
  SUBMOUNTS: 27, HANDLE_KILLPRIV_V2: 28, SETXATTR_EXT: 29, INIT_EXT: 30, INIT_RESERVED: 31,
  SECURITY_CTX: 32, HAS_INODE_DAX: 33, CREATE_SUPP_GROUP: 34, HAS_EXPIRE_ONLY: 35, DIRECT_IO_ALLOW_MMAP: 36,
  PASSTHROUGH: 37, NO_EXPORT_SUPPORT: 38, HAS_RESEND: 39, ALLOW_IDMAP: 40, OVER_IO_URING: 41,
  REQUEST_TIMEOUT: 42,
});
export type InitFlag = keyof typeof InitFlags.bits;

export const FopenFlags = defineFlags('fopen', {
  DIRECT_IO: 0, KEEP_CACHE: 1, NONSEEKABLE: 2, CACHE_DIR: 3, STREAM: 4, NOFLUSH: 5,
  PARALLEL_DIRECT_WRITES: 6, PASSTHROUGH: 7,
});
/** FOPEN_* values for OpenReply.flags. */
export const FOPEN = FopenFlags.mask;

/** fuse_setattr_in.valid */
export const SetattrValid = defineFlags('fattr', {
  MODE: 0, UID: 1, GID: 2, SIZE: 3, ATIME: 4, MTIME: 5, FH: 6, ATIME_NOW: 7, MTIME_NOW: 8, LOCKOWNER: 9,
  CTIME: 10, KILL_SUIDGID: 11,
});
/** FATTR_* values of fuse_setattr_in.valid. */
export const FATTR = SetattrValid.mask;

export const ReleaseFlags = defineFlags('release', { FLUSH: 0, FLOCK_UNLOCK: 1 });
export const GetattrFlags = defineFlags('getattr', { FH: 0 });
export const LkFlags = defineFlags('lk', { FLOCK: 0 });
export const WriteFlags = defineFlags('write', { CACHE: 0, LOCKOWNER: 1, KILL_SUIDGID: 2 });
export const ReadFlags = defineFlags('read', { LOCKOWNER: 1 });
export const IoctlFlags = defineFlags('ioctl', { COMPAT: 0, UNRESTRICTED: 1, RETRY: 2, BIT32: 3, DIR: 4, COMPAT_X32: 5 });
export const PollFlags = defineFlags('poll', { SCHEDULE_NOTIFY: 0 });
export const FsyncFlags = defineFlags('fsync', { FDATASYNC: 0 });
export const AttrFlags = defineFlags('attr', { SUBMOUNT: 0, DAX: 1 });
export const OpenInFlags = defineFlags('open_in', { KILL_SUIDGID: 0 });
export const SetxattrFlags = defineFlags('setxattr', { ACL_KILL_SGID: 0 });
export const InvalEntryFlags = defineFlags('inval_entry', { EXPIRE_ONLY: 0 });

/** The header spells this one without a set prefix; checked against it by name. */
export const FUSE_EXPIRE_ONLY = InvalEntryFlags.mask.EXPIRE_ONLY;
export const FUSE_IOCTL_MAX_IOV = 256;
export const FUSE_UNIQUE_RESEND_HI = 0x80000000;
export const FUSE_INVALID_UIDGID = 0xffffffff;
export const FUSE_EXT_GROUPS = 32;

/** Device ioctls. */
export const FUSE_DEV_IOC_CLONE = 0x8004e500;
export const FUSE_DEV_IOC_BACKING_OPEN = 0x4010e501;
export const FUSE_DEV_IOC_BACKING_CLOSE = 0x4004e502;
export const FUSE_DEV_IOC_SYNC_INIT = 0xe503;

/**
 * Struct sizes and field offsets the codecs use. test/protocol/layout.test.ts compiles a C program against
 * the reference header and checks every entry here.
 */
export const LAYOUT = {
  fuse_in_header: { size: 40, len: 0, opcode: 4, unique: 8, nodeid: 16, uid: 24, gid: 28, pid: 32, total_extlen: 36 },
  fuse_out_header: { size: 16, len: 0, error: 4, unique: 8 },
  fuse_attr: {
    size: 88, ino: 0, size_: 8, blocks: 16, atime: 24, mtime: 32, ctime: 40, atimensec: 48, mtimensec: 52,
    ctimensec: 56, mode: 60, nlink: 64, uid: 68, gid: 72, rdev: 76, blksize: 80, flags: 84,
  },
  fuse_entry_out: { size: 128, nodeid: 0, generation: 8, entry_valid: 16, attr_valid: 24, entry_valid_nsec: 32, attr_valid_nsec: 36, attr: 40 },
  fuse_attr_out: { size: 104, attr_valid: 0, attr_valid_nsec: 8, attr: 16 },
  fuse_forget_in: { size: 8, nlookup: 0 },
  fuse_forget_one: { size: 16, nodeid: 0, nlookup: 8 },
  fuse_batch_forget_in: { size: 8, count: 0 },
  fuse_getattr_in: { size: 16, getattr_flags: 0, fh: 8 },
  fuse_setattr_in: {
    size: 88, valid: 0, fh: 8, size_: 16, lock_owner: 24, atime: 32, mtime: 40, ctime: 48, atimensec: 56,
    mtimensec: 60, ctimensec: 64, mode: 68, uid: 76, gid: 80,
  },
  fuse_mknod_in: { size: 16, mode: 0, rdev: 4, umask: 8 },
  fuse_mkdir_in: { size: 8, mode: 0, umask: 4 },
  fuse_rename_in: { size: 8, newdir: 0 },
  fuse_rename2_in: { size: 16, newdir: 0, flags: 8 },
  fuse_link_in: { size: 8, oldnodeid: 0 },
  fuse_open_in: { size: 8, flags: 0, open_flags: 4 },
  fuse_create_in: { size: 16, flags: 0, mode: 4, umask: 8, open_flags: 12 },
  fuse_open_out: { size: 16, fh: 0, open_flags: 8, backing_id: 12 },
  fuse_release_in: { size: 24, fh: 0, flags: 8, release_flags: 12, lock_owner: 16 },
  fuse_flush_in: { size: 24, fh: 0, lock_owner: 16 },
  fuse_read_in: { size: 40, fh: 0, offset: 8, size_: 16, read_flags: 20, lock_owner: 24, flags: 32 },
  fuse_write_in: { size: 40, fh: 0, offset: 8, size_: 16, write_flags: 20, lock_owner: 24, flags: 32 },
  fuse_write_out: { size: 8, size_: 0 },
  fuse_kstatfs: { size: 80, blocks: 0, bfree: 8, bavail: 16, files: 24, ffree: 32, bsize: 40, namelen: 44, frsize: 48 },
  fuse_fsync_in: { size: 16, fh: 0, fsync_flags: 8 },
  fuse_setxattr_in: { size: 16, size_: 0, flags: 4, setxattr_flags: 8 },
  fuse_getxattr_in: { size: 8, size_: 0 },
  fuse_getxattr_out: { size: 8, size_: 0 },
  fuse_file_lock: { size: 24, start: 0, end: 8, type: 16, pid: 20 },
  fuse_lk_in: { size: 48, fh: 0, owner: 8, lk: 16, lk_flags: 40 },
  fuse_lk_out: { size: 24, lk: 0 },
  fuse_access_in: { size: 8, mask: 0 },
  fuse_init_in: { size: 64, major: 0, minor: 4, max_readahead: 8, flags: 12, flags2: 16 },
  fuse_init_out: {
    size: 64, major: 0, minor: 4, max_readahead: 8, flags: 12, max_background: 16, congestion_threshold: 18,
    max_write: 20, time_gran: 24, max_pages: 28, map_alignment: 30, flags2: 32, max_stack_depth: 36,
    request_timeout: 40,
  },
  fuse_interrupt_in: { size: 8, unique: 0 },
  fuse_bmap_in: { size: 16, block: 0, blocksize: 8 },
  fuse_bmap_out: { size: 8, block: 0 },
  fuse_ioctl_in: { size: 32, fh: 0, flags: 8, cmd: 12, arg: 16, in_size: 24, out_size: 28 },
  fuse_ioctl_out: { size: 16, result: 0, flags: 4, in_iovs: 8, out_iovs: 12 },
  fuse_poll_in: { size: 24, fh: 0, kh: 8, flags: 16, events: 20 },
  fuse_poll_out: { size: 8, revents: 0 },
  fuse_fallocate_in: { size: 32, fh: 0, offset: 8, length: 16, mode: 24 },
  fuse_lseek_in: { size: 24, fh: 0, offset: 8, whence: 16 },
  fuse_lseek_out: { size: 8, offset: 0 },
  fuse_copy_file_range_in: { size: 56, fh_in: 0, off_in: 8, nodeid_out: 16, fh_out: 24, off_out: 32, len: 40, flags: 48 },
  fuse_copy_file_range_out: { size: 8, bytes_copied: 0 },
  fuse_setupmapping_in: { size: 40, fh: 0, foffset: 8, len: 16, flags: 24, moffset: 32 },
  fuse_removemapping_in: { size: 4, count: 0 },
  fuse_removemapping_one: { size: 16, moffset: 0, len: 8 },
  fuse_syncfs_in: { size: 8 },
  fuse_statx_in: { size: 24, getattr_flags: 0, fh: 8, sx_flags: 16, sx_mask: 20 },
  fuse_sx_time: { size: 16, tv_sec: 0, tv_nsec: 8 },
  fuse_statx: {
    size: 256, mask: 0, blksize: 4, attributes: 8, nlink: 16, uid: 20, gid: 24, mode: 28, ino: 32, size_: 40,
    blocks: 48, attributes_mask: 56, atime: 64, btime: 80, ctime: 96, mtime: 112, rdev_major: 128,
    rdev_minor: 132, dev_major: 136, dev_minor: 140,
  },
  fuse_statx_out: { size: 288, attr_valid: 0, attr_valid_nsec: 8, flags: 12, stat: 32 },
  fuse_dirent: { size: 24, ino: 0, off: 8, namelen: 16, type: 20 },
  fuse_direntplus: { size: 152, entry_out: 0, dirent: 128 },
  fuse_notify_poll_wakeup_out: { size: 8, kh: 0 },
  fuse_notify_inval_inode_out: { size: 24, ino: 0, off: 8, len: 16 },
  fuse_notify_inval_entry_out: { size: 16, parent: 0, namelen: 8, flags: 12 },
  fuse_notify_delete_out: { size: 24, parent: 0, child: 8, namelen: 16 },
  fuse_notify_store_out: { size: 24, nodeid: 0, offset: 8, size_: 16 },
  fuse_notify_retrieve_out: { size: 32, notify_unique: 0, nodeid: 8, offset: 16, size_: 24 },
  fuse_notify_retrieve_in: { size: 40, offset: 8, size_: 16 },
  fuse_notify_prune_out: { size: 16, count: 0 },
  fuse_backing_map: { size: 16, fd: 0, flags: 4, padding: 8 },
  fuse_ext_header: { size: 8, size_: 0, type: 4 },
  fuse_supp_groups: { size: 4, nr_groups: 0 },
  fuse_secctx: { size: 8, size_: 0 },
  fuse_secctx_header: { size: 8, size_: 0, nr_secctx: 4 },
} as const;

export const IN_HEADER_SIZE = 40;
export const OUT_HEADER_SIZE = 16;
/** Smallest fuse_init_in a kernel older than 7.36 sends (no flags2). */
export const INIT_IN_COMPAT_SIZE = 16;
