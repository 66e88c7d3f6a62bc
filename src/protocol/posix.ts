// POSIX / Linux (x86_64, generic) constants the filesystems compare request fields against: open(2) flags, *at(2) flags,
// lseek whence, xattr flags and limits, access(2) modes, renameat2 flags, utimensat's special nsec values,
// fcntl lock types, fallocate modes, statx masks and name limits. One home for each, so memfs, passthrough,
// the EROFS server and the examples agree; errno numbers live in errno.ts, FUSE wire bits in abi.ts.

// ---- open(2) flags (asm-generic/fcntl.h) ----
export const O_ACCMODE = 0o3;
export const O_RDONLY = 0;
export const O_WRONLY = 1;
export const O_RDWR = 2;
export const O_CREAT = 0o100;
export const O_EXCL = 0o200;
export const O_NOCTTY = 0o400;
export const O_TRUNC = 0o1000;
export const O_APPEND = 0o2000;
export const O_NONBLOCK = 0o4000;
export const O_DIRECT = 0o40000;
export const O_DIRECTORY = 0o200000;
export const O_NOFOLLOW = 0o400000;
export const O_PATH = 0o10000000;
/** __O_TMPFILE | O_DIRECTORY, as userspace passes it. */
export const O_TMPFILE = 0o20000000 | O_DIRECTORY;
export const O_CLOEXEC = 0o2000000;

// ---- *at(2) calls (linux/fcntl.h) ----
export const AT_FDCWD = -100;
export const AT_SYMLINK_NOFOLLOW = 0x100;
export const AT_REMOVEDIR = 0x200;
export const AT_SYMLINK_FOLLOW = 0x400;
export const AT_EMPTY_PATH = 0x1000;

// ---- lseek(2) whence ----
export const SEEK_SET = 0;
export const SEEK_CUR = 1;
export const SEEK_END = 2;
export const SEEK_DATA = 3;
export const SEEK_HOLE = 4;

// ---- extended attributes (linux/xattr.h, linux/limits.h) ----
export const XATTR_CREATE = 1;
export const XATTR_REPLACE = 2;
export const XATTR_NAME_MAX = 255;
export const XATTR_SIZE_MAX = 65536;

// ---- access(2) modes ----
export const F_OK = 0;
export const X_OK = 1;
export const W_OK = 2;
export const R_OK = 4;

// ---- renameat2(2) flags ----
export const RENAME_NOREPLACE = 1;
export const RENAME_EXCHANGE = 2;
export const RENAME_WHITEOUT = 4;

// ---- utimensat(2) special tv_nsec values ----
export const UTIME_NOW = 0x3fffffff;
export const UTIME_OMIT = 0x3ffffffe;

// ---- fcntl(2) lock types (struct flock.l_type) ----
export const F_RDLCK = 0;
export const F_WRLCK = 1;
export const F_UNLCK = 2;

// ---- fallocate(2) modes ----
export const FALLOC_FL_KEEP_SIZE = 1;
export const FALLOC_FL_PUNCH_HOLE = 2;

// ---- statx(2) masks ----
export const STATX_BASIC_STATS = 0x7ff;
export const STATX_BTIME = 0x800;

// ---- limits (linux/limits.h) ----
export const NAME_MAX = 255;
export const PATH_MAX = 4096;

// ---- mode bits not in protocol/types.ts ----
export const S_IXGRP = 0o10;
