// The Filesystem interface that embedders implement. Low-level (inode numbers, like libfuse's lowlevel ops
// and fuser's trait), async-capable (any method may return a Promise), every method optional: a missing
// method answers ENOSYS (or the kernel's documented default, e.g. no OPEN handler = open succeeds with fh 0).
//
// Errors: throw/reject with an Errno (src/protocol/errno.ts) or a Node error carrying `.code` ('ENOENT'...).
// Anything else answers EIO and is logged once with the opcode.
//
// Numbers: inode numbers, offsets and sizes are plain numbers (safe up to 2^53); the server never builds a
// BigInt on the request path. Times are split into whole seconds and nanoseconds.

/**
 * A method answers with a plain value (written at once) or a native Promise (an async function's result).
 * Other thenables are not awaited: wrap them in Promise.resolve().
 */
export type MaybePromise<T> = T | Promise<T>;

/** Who is asking: from the request header. Valid for the whole life of the request (also across awaits). */
export interface RequestContext {
  readonly uid: number;
  readonly gid: number;
  readonly pid: number;
  /** The opcode being served (see protocol/opcodes). */
  readonly opcode: number;
  /** True once the kernel sent INTERRUPT for this request; a long handler may give up with EINTR. */
  readonly interrupted: boolean;
}

import type { Timespec, Attr, Entry, OpenReply, CreateReply, StatFs, FileLock, Statx, DirentSink, DirentPlusSink } from '../protocol/types.js';
export type { Timespec, Attr, Entry, OpenReply, CreateReply, StatFs, FileLock, Statx, DirentSink, DirentPlusSink };

/** SETATTR: only the present fields change. */
export interface SetAttr {
  mode?: number;
  uid?: number;
  gid?: number;
  size?: number;
  /** 'now' = UTIME_NOW; absent = UTIME_OMIT. */
  atime?: Timespec | 'now';
  mtime?: Timespec | 'now';
  ctime?: Timespec;
  /** Set when the change comes through an open file (ftruncate, futimens...). */
  fh?: number;
  lockOwner?: number;
  /** The kernel asks the filesystem to drop suid/sgid (FATTR_KILL_SUIDGID). */
  killSuidgid?: boolean;
}




export interface IoctlReply {
  result: number;
  data?: Uint8Array;
}



export interface ConnectionInfo {
  /** Negotiated protocol minor version (7.x). */
  minor: number;
  /** Negotiated capability flags (low 32 bits = flags, high = flags2), as a number (< 2^53). */
  flags: number;
  maxWrite: number;
  maxReadahead: number;
  /** True when kernel passthrough was negotiated (FUSE_PASSTHROUGH). */
  passthrough: boolean;
  /** Opens a backing file for FOPEN_PASSTHROUGH; present only when passthrough was negotiated. */
  backingOpen?: (fd: number) => number;
  backingClose?: (backingId: number) => void;
}

export interface Filesystem {
  init?(conn: ConnectionInfo): MaybePromise<void>;
  destroy?(): MaybePromise<void>;
  /**
   * A throw-away instance of the same class with this one's settings over small built-in sample data (never
   * this instance's data, whose caches must stay cold), or undefined when there is none. A worker-mode server
   * with SessionOptions.warmUp walks it with a request mix while idle after INIT, so that its request path is
   * compiled before real requests come (src/server/warm-up/); it is destroyed afterwards. Not given INIT's
   * ConnectionInfo: the server calls init on it with the real one.
   */
  warmUpTwin?(): Filesystem | undefined;
  /**
   * True: this filesystem, as a warm-up twin, takes writes (creates, setattrs, renames, removals) in data of
   * its own, and the warm-up sends it the write walk (src/server/warm-up/write-walk.ts) before the tree walk.
   */
  warmUpWrites?(): boolean;

  lookup?(ctx: RequestContext, parent: number, name: string): MaybePromise<Entry>;
  /** Give back nlookup lookups of ino (FORGET and BATCH_FORGET). Never answered. */
  forget?(ino: number, nlookup: number): void;
  getattr?(ctx: RequestContext, ino: number, fh: number | undefined): MaybePromise<Attr>;
  setattr?(ctx: RequestContext, ino: number, set: SetAttr): MaybePromise<Attr>;
  readlink?(ctx: RequestContext, ino: number): MaybePromise<string | Uint8Array>;
  mknod?(ctx: RequestContext, parent: number, name: string, mode: number, rdev: number, umask: number): MaybePromise<Entry>;
  mkdir?(ctx: RequestContext, parent: number, name: string, mode: number, umask: number): MaybePromise<Entry>;
  unlink?(ctx: RequestContext, parent: number, name: string): MaybePromise<void>;
  rmdir?(ctx: RequestContext, parent: number, name: string): MaybePromise<void>;
  symlink?(ctx: RequestContext, parent: number, name: string, target: string): MaybePromise<Entry>;
  /** flags: RENAME_NOREPLACE (1), RENAME_EXCHANGE (2), RENAME_WHITEOUT (4). */
  rename?(ctx: RequestContext, parent: number, name: string, newParent: number, newName: string, flags: number): MaybePromise<void>;
  link?(ctx: RequestContext, ino: number, newParent: number, newName: string): MaybePromise<Entry>;

  /**
   * flags: the open(2) flags (O_ACCMODE, O_TRUNC, O_APPEND...). openFlags: fuse_open_in.open_flags; bit 0
   * (FUSE_OPEN_KILL_SUIDGID) asks to drop suid/sgid along with O_TRUNC (HANDLE_KILLPRIV_V2, caller without
   * CAP_FSETID).
   */
  open?(ctx: RequestContext, ino: number, flags: number, openFlags?: number): MaybePromise<OpenReply>;
  /**
   * Returns at most `size` bytes; fewer means EOF. The bytes need only stay valid until the reply is written:
   * for a plain (non-Promise) value that happens before this thread serves another request, so a filesystem
   * may return a view of a buffer it reuses (memfs and the image server do).
   */
  read?(ctx: RequestContext, ino: number, fh: number, offset: number, size: number): MaybePromise<Uint8Array>;
  /** `data` is only valid until the returned value/promise settles: copy it if you keep it. */
  write?(ctx: RequestContext, ino: number, fh: number, offset: number, data: Uint8Array, writeFlags: number, flags: number): MaybePromise<number>;
  flush?(ctx: RequestContext, ino: number, fh: number, lockOwner: number): MaybePromise<void>;
  release?(ctx: RequestContext, ino: number, fh: number, flags: number, releaseFlags: number, lockOwner: number): MaybePromise<void>;
  fsync?(ctx: RequestContext, ino: number, fh: number, datasync: boolean): MaybePromise<void>;
  /** openFlags: as for open (FUSE_OPEN_KILL_SUIDGID when an existing file is truncated). */
  create?(ctx: RequestContext, parent: number, name: string, mode: number, umask: number, flags: number, openFlags?: number): MaybePromise<CreateReply>;
  tmpfile?(ctx: RequestContext, parent: number, mode: number, umask: number, flags: number): MaybePromise<CreateReply>;
  fallocate?(ctx: RequestContext, ino: number, fh: number, offset: number, length: number, mode: number): MaybePromise<void>;
  /** whence: SEEK_SET 0, SEEK_CUR 1, SEEK_END 2, SEEK_DATA 3, SEEK_HOLE 4. Returns the new offset. */
  lseek?(ctx: RequestContext, ino: number, fh: number, offset: number, whence: number): MaybePromise<number>;
  copyFileRange?(ctx: RequestContext, inoIn: number, fhIn: number, offIn: number, inoOut: number, fhOut: number, offOut: number, len: number, flags: number): MaybePromise<number>;

  opendir?(ctx: RequestContext, ino: number, flags: number): MaybePromise<OpenReply>;
  readdir?(ctx: RequestContext, ino: number, fh: number, offset: number, out: DirentSink): MaybePromise<void>;
  readdirplus?(ctx: RequestContext, ino: number, fh: number, offset: number, out: DirentPlusSink): MaybePromise<void>;
  releasedir?(ctx: RequestContext, ino: number, fh: number, flags: number): MaybePromise<void>;
  fsyncdir?(ctx: RequestContext, ino: number, fh: number, datasync: boolean): MaybePromise<void>;

  statfs?(ctx: RequestContext, ino: number): MaybePromise<StatFs>;
  /** flags: XATTR_CREATE (1), XATTR_REPLACE (2). */
  setxattr?(ctx: RequestContext, ino: number, name: string, value: Uint8Array, flags: number): MaybePromise<void>;
  /** Returns the value; the server handles size probes and ERANGE. Throw ENODATA when absent. */
  getxattr?(ctx: RequestContext, ino: number, name: string): MaybePromise<Uint8Array>;
  /** Returns the names; the server encodes them and handles size probes and ERANGE. */
  listxattr?(ctx: RequestContext, ino: number): MaybePromise<string[]>;
  removexattr?(ctx: RequestContext, ino: number, name: string): MaybePromise<void>;
  /** mask: R_OK 4, W_OK 2, X_OK 1, F_OK 0. */
  access?(ctx: RequestContext, ino: number, mask: number): MaybePromise<void>;

  getlk?(ctx: RequestContext, ino: number, fh: number, owner: number, lock: FileLock): MaybePromise<FileLock>;
  /** sleep = SETLKW; flock = the lock came from flock(2) (FUSE_LK_FLOCK). */
  setlk?(ctx: RequestContext, ino: number, fh: number, owner: number, lock: FileLock, sleep: boolean, flock: boolean): MaybePromise<void>;
  bmap?(ctx: RequestContext, ino: number, blocksize: number, block: number): MaybePromise<number>;
  ioctl?(ctx: RequestContext, ino: number, fh: number, flags: number, cmd: number, arg: number, inData: Uint8Array, outSize: number): MaybePromise<IoctlReply>;
  /** Returns revents. */
  poll?(ctx: RequestContext, ino: number, fh: number, kh: number, flags: number, events: number): MaybePromise<number>;
  statx?(ctx: RequestContext, ino: number, fh: number | undefined, flags: number, mask: number): MaybePromise<Statx>;
  syncfs?(ctx: RequestContext, ino: number): MaybePromise<void>;
}

/** What worker mode needs to build a filesystem inside each worker: a module path and a factory name. */
export interface FilesystemModule {
  /** Absolute path or file URL of an ES module. */
  module: string;
  /** Name of the exported factory `(options) => Filesystem | Promise<Filesystem>`; default 'createFilesystem'. */
  export?: string;
  /** Structured-cloneable options passed to the factory (SharedArrayBuffers are shared, not copied). */
  options?: unknown;
  /**
   * Requests one worker may have in flight (default 1: the worker serves one at a time, the fastest path for
   * filesystems that answer synchronously). Above 1 each worker keeps reading while earlier requests await I/O
   * (a remote image's fetches), up to this many, then stops reading until one finishes.
   */
  inFlight?: number;
  /**
   * With inFlight 1: a handler's Promise may wait for another request (SETLKW on a lock that another client
   * releases through the mount). While one is pending the worker goes on serving, from its event loop, up to
   * this many requests at once, and returns to blocking reads once all have settled. Default 0: the worker
   * waits for the Promise before reading on. Over io_uring this many more may be pending (inFlight + this).
   */
  serveWhileWaiting?: number;
  /**
   * At most this many workers may serve it (a filesystem whose state lives in one thread, like the path layer's
   * inode<->path table, says 1): more are refused before anything is mounted.
   */
  maxWorkers?: number;
}

export { S_IFMT, S_IFSOCK, S_IFLNK, S_IFREG, S_IFBLK, S_IFDIR, S_IFCHR, S_IFIFO, S_ISUID, S_ISGID, S_ISVTX } from '../protocol/types.js';

export { RENAME_NOREPLACE, RENAME_EXCHANGE, RENAME_WHITEOUT } from '../protocol/posix.js';
