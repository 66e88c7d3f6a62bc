// memfs: a complete read-write in-memory filesystem.
//
// Everything is synchronous (plain return values), so the server's fast path applies, and the filesystem
// object is single-threaded state: in embedded mode requests arrive from reader threads but are all handled
// on the owning thread.
//
// Layout of this folder, one job per file:
//   node.ts       inodes, the cookie-ordered directory store, name rules
//   chunks.ts     sparse chunk storage of file data (holes, ENOSPC accounting)
//   clock.ts      nanosecond wall clock, timestamp checks, relatime
//   store.ts      the inode/handle tables and the bookkeeping every operation shares (lookup counts, freeing)
//   attributes.ts, namespace.ts, fileio.ts, dirs.ts, xattrs.ts: the operations, by family
// This file holds the options and the MemFs class, which hands each Filesystem method to its family.
//
// Permissions: memfs expects the session to mount with default_permissions (the kernel checks modes itself);
// only ACCESS evaluates mode bits here. Ownership of new inodes follows the request (ctx.uid/ctx.gid) with
// BSD-style setgid-directory inheritance.

import * as os from 'node:os';
import { FOPEN } from '../../protocol/abi.js';
import type {
  Attr, CreateReply, DirentPlusSink, DirentSink, Entry, Filesystem, OpenReply, RequestContext, SetAttr,
  StatFs, Statx,
} from '../types.js';
import * as attributes from './attributes.js';
import * as dirs from './dirs.js';
import * as fileIo from './fileio.js';
import * as namespace from './namespace.js';
import { BLOCK_SIZE } from './node.js';
import { MemStore } from './store.js';
import * as xattrs from './xattrs.js';

export interface MemFsOptions {
  /** Mode of the root directory (type bits optional); default 0o40755. */
  rootMode?: number;
  /** Owner of the root directory; default 0:0. */
  uid?: number;
  gid?: number;
  /** Name cache timeout in seconds returned in entries; default 1 (0 allowed). */
  entryTimeout?: number;
  /**
   * Attribute cache timeout in seconds; default 1 (0 allowed). memfs changes only through the mount, and the
   * kernel refreshes or marks stale the attributes each request changes (test/fs/memfs-attr-cache.test.ts), so
   * they can stay cached even with entryTimeout 0 (every path still LOOKUPs each name, and each LOOKUP brings
   * fresh attributes). 0 makes every stat, and every default_permissions check of a directory on a path, a
   * GETATTR. Changes made by calling this object directly, not through the mount, show only after it.
   */
  attrTimeout?: number;
  /**
   * When > 0, a lookup of a missing name answers a negative entry (ino 0) cached for this many seconds
   * instead of ENOENT. Default 0 (ENOENT).
   */
  negativeTimeout?: number;
  /** Capacity in bytes reported by statfs and enforced (ENOSPC) for file data; default half of RAM. */
  totalBytes?: number;
  /** Maximum number of inodes (statfs files, ENOSPC beyond); default totalBytes / 4096. */
  maxInodes?: number;
  /** Chunk size of file storage in bytes, a power of two >= 4096; default 131072 (128 KiB). */
  chunkSize?: number;
  /** Answer OPEN with FOPEN.KEEP_CACHE (memfs is the only writer, so the page cache stays valid); default true. */
  keepCache?: boolean;
  /** Answer OPEN with FOPEN.DIRECT_IO; default false. */
  directIo?: boolean;
  /** Answer OPENDIR with FOPEN.CACHE_DIR|FOPEN.KEEP_CACHE; default false. */
  cacheDir?: boolean;
  /**
   * READ returns a copy instead of a view of the file storage when the range lies in one chunk. The view is
   * safe as long as the server encodes a plain (non-Promise) reply before running another handler, which is
   * the documented fast path; set this when wrapping memfs in something that defers replies. Default false.
   */
  copyReads?: boolean;
}

export class MemFs implements Filesystem {
  private readonly s: MemStore;

  readonly entryTimeout: number;
  readonly attrTimeout: number;
  readonly negativeTimeout: number;
  readonly totalBytes: number;
  readonly maxInodes: number;
  readonly chunkSize: number;

  constructor(opts: MemFsOptions = {}) {
    this.entryTimeout = opts.entryTimeout ?? 1;
    this.attrTimeout = opts.attrTimeout ?? 1;
    this.negativeTimeout = opts.negativeTimeout ?? 0;
    const total = opts.totalBytes ?? Math.floor(os.totalmem() / 2);
    this.totalBytes = Math.max(BLOCK_SIZE, Math.floor(total / BLOCK_SIZE) * BLOCK_SIZE);
    this.maxInodes = opts.maxInodes ?? Math.max(1024, Math.floor(this.totalBytes / BLOCK_SIZE));
    const cs = opts.chunkSize ?? 131072;
    if (!Number.isInteger(cs) || cs < 4096 || (cs & (cs - 1)) !== 0 || cs > 1 << 30) {
      throw new RangeError('memfs: chunkSize must be a power of two between 4096 and 2^30');
    }
    this.chunkSize = cs;
    this.s = new MemStore({
      entryTimeout: this.entryTimeout,
      attrTimeout: this.attrTimeout,
      negativeTimeout: this.negativeTimeout,
      totalBytes: this.totalBytes,
      maxInodes: this.maxInodes,
      chunkSize: cs,
      copyReads: opts.copyReads ?? false,
      openFlags: (opts.keepCache ?? true ? FOPEN.KEEP_CACHE : 0) | (opts.directIo ? FOPEN.DIRECT_IO : 0),
      opendirFlags: opts.cacheDir ? FOPEN.CACHE_DIR | FOPEN.KEEP_CACHE : 0,
      root: { mode: opts.rootMode ?? 0o755, uid: opts.uid ?? 0, gid: opts.gid ?? 0 },
    });
  }

  // ---- introspection (tests, embedders) ----

  /** Number of live inodes (including the root). */
  get inodeCount(): number {
    return this.s.nodes.size;
  }
  /** True while the inode exists (not yet freed). */
  hasInode(ino: number): boolean {
    return this.s.nodes.has(ino);
  }
  /** The kernel's outstanding lookup count of an inode, as memfs tracks it. */
  lookupCount(ino: number): number {
    return this.s.nodes.get(ino)?.lookups ?? 0;
  }
  /** Number of open file and directory handles. */
  get openHandles(): number {
    return this.s.handles.size;
  }
  /** Bytes of file storage allocated. */
  get bytesUsed(): number {
    return this.s.data.usedBytes;
  }

  // ---- attributes (attributes.ts) ----

  getattr(ctx: RequestContext, ino: number, fh: number | undefined): Attr {
    return attributes.getattr(this.s, ctx, ino, fh);
  }

  setattr(ctx: RequestContext, ino: number, set: SetAttr): Attr {
    return attributes.setattr(this.s, ctx, ino, set);
  }

  statx(ctx: RequestContext, ino: number, fh: number | undefined, flags: number, mask: number): Statx {
    return attributes.statx(this.s, ctx, ino, fh, flags, mask);
  }

  statfs(ctx: RequestContext, ino: number): StatFs {
    return attributes.statfs(this.s, ctx, ino);
  }

  access(ctx: RequestContext, ino: number, mask: number): void {
    attributes.access(this.s, ctx, ino, mask);
  }

  // ---- namespace (namespace.ts) ----

  lookup(ctx: RequestContext, parent: number, name: string): Entry {
    return namespace.lookup(this.s, ctx, parent, name);
  }

  forget(ino: number, nlookup: number): void {
    namespace.forget(this.s, ino, nlookup);
  }

  mknod(ctx: RequestContext, parent: number, name: string, mode: number, rdev: number, umask: number): Entry {
    return namespace.mknod(this.s, ctx, parent, name, mode, rdev, umask);
  }

  mkdir(ctx: RequestContext, parent: number, name: string, mode: number, umask: number): Entry {
    return namespace.mkdir(this.s, ctx, parent, name, mode, umask);
  }

  symlink(ctx: RequestContext, parent: number, name: string, target: string): Entry {
    return namespace.symlink(this.s, ctx, parent, name, target);
  }

  readlink(ctx: RequestContext, ino: number): Uint8Array {
    return namespace.readlink(this.s, ctx, ino);
  }

  link(ctx: RequestContext, ino: number, newParent: number, newName: string): Entry {
    return namespace.link(this.s, ctx, ino, newParent, newName);
  }

  unlink(ctx: RequestContext, parent: number, name: string): void {
    namespace.unlink(this.s, ctx, parent, name);
  }

  rmdir(ctx: RequestContext, parent: number, name: string): void {
    namespace.rmdir(this.s, ctx, parent, name);
  }

  rename(ctx: RequestContext, parent: number, name: string, newParent: number, newName: string, flags: number): void {
    namespace.rename(this.s, ctx, parent, name, newParent, newName, flags);
  }

  // ---- fileio (fileio.ts) ----

  open(ctx: RequestContext, ino: number, flags: number): OpenReply {
    return fileIo.open(this.s, ctx, ino, flags);
  }

  create(ctx: RequestContext, parent: number, name: string, mode: number, umask: number, flags: number): CreateReply {
    return fileIo.create(this.s, ctx, parent, name, mode, umask, flags);
  }

  tmpfile(ctx: RequestContext, parent: number, mode: number, umask: number, flags: number): CreateReply {
    return fileIo.tmpfile(this.s, ctx, parent, mode, umask, flags);
  }

  read(ctx: RequestContext, ino: number, fh: number, offset: number, size: number): Uint8Array {
    return fileIo.read(this.s, ctx, ino, fh, offset, size);
  }

  write(
    ctx: RequestContext, ino: number, fh: number, offset: number, data: Uint8Array, writeFlags: number, flags: number,
  ): number {
    return fileIo.write(this.s, ctx, ino, fh, offset, data, writeFlags, flags);
  }

  flush(ctx: RequestContext, ino: number, fh: number, lockOwner: number): void {
    fileIo.flush(this.s, ctx, ino, fh, lockOwner);
  }

  release(
    ctx: RequestContext, ino: number, fh: number, flags: number, releaseFlags: number, lockOwner: number,
  ): void {
    fileIo.release(this.s, ctx, ino, fh, flags, releaseFlags, lockOwner);
  }

  fsync(ctx: RequestContext, ino: number, fh: number, datasync: boolean): void {
    fileIo.fsync(this.s, ctx, ino, fh, datasync);
  }

  fallocate(ctx: RequestContext, ino: number, fh: number, offset: number, length: number, mode: number): void {
    fileIo.fallocate(this.s, ctx, ino, fh, offset, length, mode);
  }

  lseek(ctx: RequestContext, ino: number, fh: number, offset: number, whence: number): number {
    return fileIo.lseek(this.s, ctx, ino, fh, offset, whence);
  }

  copyFileRange(
    ctx: RequestContext, inoIn: number, fhIn: number, offIn: number, inoOut: number, fhOut: number, offOut: number, 
    len: number, flags: number,
  ): number {
    return fileIo.copyFileRange(this.s, ctx, inoIn, fhIn, offIn, inoOut, fhOut, offOut, len, flags);
  }

  // ---- dirs (dirs.ts) ----

  opendir(ctx: RequestContext, ino: number, flags: number): OpenReply {
    return dirs.opendir(this.s, ctx, ino, flags);
  }

  readdir(ctx: RequestContext, ino: number, fh: number, offset: number, out: DirentSink): void {
    dirs.readdir(this.s, ctx, ino, fh, offset, out);
  }

  readdirplus(ctx: RequestContext, ino: number, fh: number, offset: number, out: DirentPlusSink): void {
    dirs.readdirplus(this.s, ctx, ino, fh, offset, out);
  }

  releasedir(ctx: RequestContext, ino: number, fh: number, flags: number): void {
    dirs.releasedir(this.s, ctx, ino, fh, flags);
  }

  fsyncdir(ctx: RequestContext, ino: number, fh: number, datasync: boolean): void {
    dirs.fsyncdir(this.s, ctx, ino, fh, datasync);
  }

  // ---- xattrs (xattrs.ts) ----

  setxattr(ctx: RequestContext, ino: number, name: string, value: Uint8Array, flags: number): void {
    xattrs.setxattr(this.s, ctx, ino, name, value, flags);
  }

  getxattr(ctx: RequestContext, ino: number, name: string): Uint8Array {
    return xattrs.getxattr(this.s, ctx, ino, name);
  }

  listxattr(ctx: RequestContext, ino: number): string[] {
    return xattrs.listxattr(this.s, ctx, ino);
  }

  removexattr(ctx: RequestContext, ino: number, name: string): void {
    xattrs.removexattr(this.s, ctx, ino, name);
  }

  /** Nothing to write back: the data lives only here. */
  syncfs(_ctx: RequestContext, _ino: number): void {}
}

export function createMemFs(opts?: MemFsOptions): MemFs {
  return new MemFs(opts);
}

/** Factory for worker mode / FilesystemModule (`export: 'createFilesystem'`). */
export const createFilesystem = createMemFs;

export default MemFs;
