// Data shapes that cross the wire: what a Filesystem returns and the reply encoders read.
// src/fs/types.ts re-exports them with the Filesystem interface.

export interface Timespec {
  sec: number;
  nsec: number;
}


/** File attributes, as struct fuse_attr. `mode` includes the S_IFMT type bits. */
export interface Attr {
  ino: number;
  mode: number;
  nlink: number;
  uid: number;
  gid: number;
  size: number;
  /** 512-byte blocks; defaults to ceil(size / 512). */
  blocks?: number;
  rdev?: number;
  blksize?: number;
  atime: number;
  atimeNsec?: number;
  mtime: number;
  mtimeNsec?: number;
  ctime: number;
  ctimeNsec?: number;
  /** FUSE_ATTR_* flags (submount, dax). */
  flags?: number;
  /** Attribute cache timeout in seconds for this reply; defaults to the session's attrTimeout. */
  timeout?: number;
}


/** A LOOKUP-style reply. Returning an Entry counts one lookup of `ino` (FORGET gives it back). */
export interface Entry {
  /** 0 makes a negative entry: the kernel caches "does not exist" for entryTimeout. */
  ino: number;
  generation?: number;
  attr: Attr;
  /** Name cache timeout in seconds; defaults to the session's entryTimeout. */
  entryTimeout?: number;
  /** Attribute cache timeout in seconds; defaults to attr.timeout, then the session's attrTimeout. */
  attrTimeout?: number;
}


/** The answer to OPEN/OPENDIR. */
export interface OpenReply {
  fh?: number;
  /** FOPEN_* bits (protocol/abi FOPEN): KEEP_CACHE, DIRECT_IO, CACHE_DIR, PASSTHROUGH, ... */
  flags?: number;
  /** With FOPEN_PASSTHROUGH: the id from FUSE_DEV_IOC_BACKING_OPEN. */
  backingId?: number;
}


export interface CreateReply extends OpenReply {
  entry: Entry;
}

export interface StatFs {
  blocks: number;
  bfree: number;
  bavail: number;
  files: number;
  ffree: number;
  bsize: number;
  namelen: number;
  frsize?: number;
}

/** POSIX lock as struct fuse_file_lock; type is F_RDLCK (0), F_WRLCK (1) or F_UNLCK (2). */
export interface FileLock {
  start: number;
  /** Inclusive end; 0x7fffffffffffffff (as Number.MAX_SAFE_INTEGER here) = to EOF. */
  end: number;
  type: number;
  pid: number;
}

/** statx result (FUSE_STATX); mask says which fields are valid. */
export interface Statx {
  mask: number;
  blksize?: number;
  attributes?: number;
  attributesMask?: number;
  nlink: number;
  uid: number;
  gid: number;
  mode: number;
  ino: number;
  size: number;
  blocks?: number;
  atime: Timespec;
  btime?: Timespec;
  ctime: Timespec;
  mtime: Timespec;
  rdevMajor?: number;
  rdevMinor?: number;
  devMajor?: number;
  devMinor?: number;
  timeout?: number;
}

/**
 * READDIR output. `add` appends one entry and returns false (adding nothing) when the reply buffer is full;
 * `nextOffset` is the offset the kernel sends back to continue after this entry. `mode` needs only the
 * S_IFMT bits.
 */
export interface DirentSink {
  add(ino: number, name: string | Uint8Array, mode: number, nextOffset: number): boolean;
}

/**
 * READDIRPLUS output. An entry that `add` accepted (returned true) counts one lookup of entry.ino, except
 * for "." and ".." and entries with ino 0; an entry that did not fit is not counted. `entry` (and a name
 * given as bytes) is only valid during the call: a filesystem may refill one object for every record.
 */
export interface DirentPlusSink {
  add(name: string | Uint8Array, entry: Entry, nextOffset: number): boolean;
}

// File type and permission bits of fuse_attr.mode (POSIX S_IF*), shared by every layer.
export const S_IFMT = 0o170000;
export const S_IFSOCK = 0o140000;
export const S_IFLNK = 0o120000;
export const S_IFREG = 0o100000;
export const S_IFBLK = 0o060000;
export const S_IFDIR = 0o040000;
export const S_IFCHR = 0o020000;
export const S_IFIFO = 0o010000;
export const S_ISUID = 0o4000;
export const S_ISGID = 0o2000;
export const S_ISVTX = 0o1000;
