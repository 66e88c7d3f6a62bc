// The path-based filesystem interface (libfuse's high-level API, go-fuse's pathfs, fuse-native): every
// method gets a path instead of an inode number. PathLayer (layer.ts) turns it into the low-level Filesystem.
// Every method is optional and may return a Promise; errors as for the low-level interface (throw an Errno or
// a Node error with `.code`). A missing method answers ENOSYS unless noted.
//
// Paths are absolute within the mount ('/', '/a/b'). Methods that take a file handle get `path: null` when the
// open file has been unlinked with `hardRemove` (libfuse's nullpath): use the handle then.

import type { ConnectionInfo, FileLock, MaybePromise, OpenReply, RequestContext, StatFs, Timespec } from '../types.js';
import type { Attr } from '../../protocol/types.js';

/** Attributes as for the low-level interface; `ino` is optional (with it, stat shows it: use_ino). */
export type PathAttr = Omit<Attr, 'ino'> & { ino?: number };

/** A readdir entry: a name, or a name with attributes (then READDIRPLUS answers without a LOOKUP each). */
export type PathDirent = string | { name: string; attr?: PathAttr };

export interface PathFilesystem {
  init?(conn: ConnectionInfo): MaybePromise<void>;
  destroy?(): MaybePromise<void>;

  /** fh is set when the kernel asks about an open file (fstat). Required for anything but an empty root. */
  getattr?(ctx: RequestContext, path: string | null, fh?: number): MaybePromise<PathAttr>;
  /** The whole listing; the layer keeps it per open directory and serves READDIR offsets from it. */
  readdir?(ctx: RequestContext, path: string, fh: number): MaybePromise<PathDirent[]>;
  readlink?(ctx: RequestContext, path: string): MaybePromise<string | Uint8Array>;
  mknod?(ctx: RequestContext, path: string, mode: number, rdev: number): MaybePromise<void>;
  mkdir?(ctx: RequestContext, path: string, mode: number): MaybePromise<void>;
  unlink?(ctx: RequestContext, path: string): MaybePromise<void>;
  rmdir?(ctx: RequestContext, path: string): MaybePromise<void>;
  symlink?(ctx: RequestContext, target: string, path: string): MaybePromise<void>;
  /** flags: RENAME_NOREPLACE (1), RENAME_EXCHANGE (2), RENAME_WHITEOUT (4). */
  rename?(ctx: RequestContext, from: string, to: string, flags: number): MaybePromise<void>;
  link?(ctx: RequestContext, existing: string, path: string): MaybePromise<void>;
  /** mode as the kernel sends it (with the file type bits, as libfuse passes it). */
  chmod?(ctx: RequestContext, path: string | null, mode: number, fh?: number): MaybePromise<void>;
  /** -1 for the id that does not change. */
  chown?(ctx: RequestContext, path: string | null, uid: number, gid: number, fh?: number): MaybePromise<void>;
  truncate?(ctx: RequestContext, path: string | null, size: number, fh?: number): MaybePromise<void>;
  /** undefined = leave as is (UTIME_OMIT). */
  utimens?(ctx: RequestContext, path: string | null, atime: Timespec | 'now' | undefined, mtime: Timespec | 'now' | undefined, fh?: number): MaybePromise<void>;

  /** No open method: opens succeed with fh 0. */
  open?(ctx: RequestContext, path: string, flags: number): MaybePromise<OpenReply | void>;
  /** No create method: the kernel falls back to mknod + open. */
  create?(ctx: RequestContext, path: string, mode: number, flags: number): MaybePromise<OpenReply | void>;
  read?(ctx: RequestContext, path: string | null, fh: number, offset: number, size: number): MaybePromise<Uint8Array>;
  /** `data` is valid until the returned value settles. Returns the bytes written. */
  write?(ctx: RequestContext, path: string | null, fh: number, offset: number, data: Uint8Array): MaybePromise<number>;
  flush?(ctx: RequestContext, path: string | null, fh: number): MaybePromise<void>;
  release?(ctx: RequestContext, path: string | null, fh: number, flags: number): MaybePromise<void>;
  fsync?(ctx: RequestContext, path: string | null, fh: number, datasync: boolean): MaybePromise<void>;
  opendir?(ctx: RequestContext, path: string, flags: number): MaybePromise<OpenReply | void>;
  releasedir?(ctx: RequestContext, path: string | null, fh: number): MaybePromise<void>;
  fsyncdir?(ctx: RequestContext, path: string | null, fh: number, datasync: boolean): MaybePromise<void>;
  fallocate?(ctx: RequestContext, path: string | null, fh: number, offset: number, length: number, mode: number): MaybePromise<void>;
  lseek?(ctx: RequestContext, path: string | null, fh: number, offset: number, whence: number): MaybePromise<number>;
  getlk?(ctx: RequestContext, path: string | null, fh: number, owner: number, lock: FileLock): MaybePromise<FileLock>;
  setlk?(ctx: RequestContext, path: string | null, fh: number, owner: number, lock: FileLock, sleep: boolean): MaybePromise<void>;

  /** No statfs method: libfuse's default (bsize 512, namelen 255, the rest 0). */
  statfs?(ctx: RequestContext, path: string): MaybePromise<StatFs>;
  setxattr?(ctx: RequestContext, path: string, name: string, value: Uint8Array, flags: number): MaybePromise<void>;
  getxattr?(ctx: RequestContext, path: string, name: string): MaybePromise<Uint8Array>;
  listxattr?(ctx: RequestContext, path: string): MaybePromise<string[]>;
  removexattr?(ctx: RequestContext, path: string, name: string): MaybePromise<void>;
  access?(ctx: RequestContext, path: string, mask: number): MaybePromise<void>;
}

export interface PathLayerOptions {
  /**
   * libfuse's hard_remove. false (default, as libfuse): unlinking or renaming over a file that is open renames
   * it to `.fuse_hiddenXXXXXXXXYYYYYYYY` in the same directory and unlinks it at the last release, so path
   * based reads keep working. true: unlink at once; the open file's handle methods get path null.
   */
  hardRemove?: boolean;
  /** Report the filesystem's attr.ino in stat when it gives one (default true); otherwise the node id. */
  useIno?: boolean;
}
