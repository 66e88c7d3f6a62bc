// The Filesystem that serves a PuzzleFS image over FUSE. Read-only: every write answers EROFS. Inode numbers
// are the image's own (root = 1), so they are stable across mounts and every worker agrees on them without
// sharing state; each worker opens the same layout and keeps its own caches.
//
// What the format leaves out is made up consistently: times are 0 (the format has none), nlink is counted
// from the directory entries when the image is opened, directory sizes are 4096.
//
// Errors: a corrupt image answers EIO and logs its reason once.

import { ReadOnlyFilesystem } from '../fs/read-only.js';
import { LogOnce, imageFailure } from '../fs/image-errors.js';
import { checkAccess } from '../fs/access.js';
import { NAME_MAX, O_ACCMODE, O_TRUNC, W_OK } from '../protocol/posix.js';
import { isMainThread, parentPort } from 'node:worker_threads';
import { zstdReady } from '../compress/zstd.js';
import type { Attr, DirentPlusSink, DirentSink, Entry, Filesystem, OpenReply, RequestContext, StatFs } from '../fs/types.js';
import { FOPEN } from '../protocol/abi.js';
import { Errno, ERRNO } from '../protocol/errno.js';
import { S_IFBLK, S_IFCHR, S_IFDIR, S_IFIFO, S_IFLNK, S_IFREG, S_IFSOCK } from '../protocol/types.js';
import { BytesPending } from '../erofs/bytesource.js';
import type { PuzzleBlobStore } from './blob-store.js';
import { type ImageInode, PuzzleImage, ROOT_INO } from './image.js';
import type { InodeKind } from './schema.js';

const BLOCK = 4096;

/** File type bits of each inode kind ('unknown' is served as a regular file with no content). */
const TYPE_BITS: Record<InodeKind, number> = {
  unknown: S_IFREG, fifo: S_IFIFO, chr: S_IFCHR, dir: S_IFDIR, blk: S_IFBLK, file: S_IFREG, lnk: S_IFLNK, sock: S_IFSOCK, wht: 0,
};

export interface PuzzleFilesystemOptions {
  /** The OCI layout directory (or, for a remote image, its name). */
  dir: string;
  tag?: string;
  verity?: boolean;
  manifestDigest?: string;
  /** Entry and attribute cache timeout in seconds (default 86400: the image never changes). */
  timeout?: number;
  /** Decoded chunk cache per worker, bytes (default 64 MiB). */
  cacheBytes?: number;
  log?: (message: string) => void;
}

/** Linux's new_encode_dev, as the kernel expects fuse_attr.rdev. */
function encodeDev(major: number, minor: number): number {
  return ((minor & 0xff) | ((major & 0xfff) << 8) | ((minor & ~0xff) << 12)) >>> 0;
}

export class PuzzleFilesystem extends ReadOnlyFilesystem implements Filesystem {
  readonly image: PuzzleImage;
  private readonly timeout: number;
  private readonly log: (message: string) => void;
  private readonly logs: LogOnce;
  private readBuf = Buffer.allocUnsafe(128 * 1024);

  /** `store`: where the blobs come from when not the local layout `options.dir` (a remote store). */
  constructor(options: PuzzleFilesystemOptions, store?: PuzzleBlobStore) {
    super();
    this.image = PuzzleImage.open(store ?? options.dir, {
      tag: options.tag, verity: options.verity, manifestDigest: options.manifestDigest, cacheBytes: options.cacheBytes,
    });
    this.timeout = options.timeout ?? 86400;
    this.log = options.log ?? defaultLog();
    this.logs = new LogOnce(this.log);
  }

  // ---- errors -------------------------------------------------------------------------------------------------

  private fail(op: string, ino: number, e: unknown): unknown {
    // A remote blob still being fetched: not an error, the request runs again once it is local (awaitingBytes).
    if (e instanceof BytesPending) return e;
    return imageFailure(this.logs, 'tsfuse puzzlefs', op, () => `inode ${ino}`, e);
  }

  private guard<T>(op: string, ino: number, fn: () => T): T {
    try {
      return fn();
    } catch (e) {
      throw this.fail(op, ino, e);
    }
  }

  private node(ino: number): ImageInode {
    if (!Number.isSafeInteger(ino) || ino < 1) throw new Errno(ERRNO.ESTALE);
    const n = this.image.inode(ino);
    if (!n) throw new Errno(ERRNO.ESTALE, `inode ${ino}`);
    return n;
  }

  private dir(ino: number): ImageInode {
    const n = this.node(ino);
    if (n.kind !== 'dir') throw new Errno(ERRNO.ENOTDIR);
    return n;
  }

  attrOf(n: ImageInode): Attr {
    const size = n.kind === 'dir' ? BLOCK : n.size;
    return {
      ino: n.ino,
      mode: TYPE_BITS[n.kind] | (n.permissions & 0o7777),
      nlink: this.image.nlink(n.ino),
      uid: n.uid,
      gid: n.gid,
      size,
      blocks: Math.ceil(size / 512),
      rdev: n.kind === 'chr' || n.kind === 'blk' ? encodeDev(n.major, n.minor) : 0,
      blksize: BLOCK,
      atime: 0,
      mtime: 0,
      ctime: 0,
      timeout: this.timeout,
    };
  }

  private entryOf(n: ImageInode): Entry {
    return { ino: n.ino, generation: 0, attr: this.attrOf(n), entryTimeout: this.timeout, attrTimeout: this.timeout };
  }

  // ---- Filesystem ---------------------------------------------------------------------------------------------

  lookup(_ctx: RequestContext, parent: number, name: string): Entry {
    try {
      const d = this.dir(parent);
      const ino = name === '.' ? parent : name === '..' ? this.image.parentOf(parent) : this.image.lookup(d, name);
      if (ino === 0) {
        return { ino: 0, attr: { ino: 0, mode: 0, nlink: 0, uid: 0, gid: 0, size: 0, atime: 0, mtime: 0, ctime: 0 }, entryTimeout: this.timeout };
      }
      return this.entryOf(this.node(ino));
    } catch (e) {
      throw this.fail('lookup', parent, e);
    }
  }

  forget(): void {
    // inode numbers are the image's: nothing to release
  }

  getattr(_ctx: RequestContext, ino: number): Attr {
    try {
      return this.attrOf(this.node(ino));
    } catch (e) {
      throw this.fail('getattr', ino, e);
    }
  }

  readlink(_ctx: RequestContext, ino: number): Uint8Array {
    return this.guard('readlink', ino, () => {
      const n = this.node(ino);
      if (n.kind !== 'lnk' || !n.symlinkTarget) throw new Errno(ERRNO.EINVAL);
      return n.symlinkTarget;
    });
  }

  open(_ctx: RequestContext, ino: number, flags: number): OpenReply {
    return this.guard('open', ino, () => {
      if ((flags & O_ACCMODE) !== 0 || flags & O_TRUNC) throw new Errno(ERRNO.EROFS);
      if (this.node(ino).kind === 'dir') throw new Errno(ERRNO.EISDIR);
      return { fh: 0, flags: FOPEN.KEEP_CACHE };
    });
  }

  read(_ctx: RequestContext, ino: number, _fh: number, offset: number, size: number): Uint8Array {
    return this.guard('read', ino, () => {
      const n = this.node(ino);
      if (n.kind === 'dir') throw new Errno(ERRNO.EISDIR);
      if (n.kind !== 'file') return this.readBuf.subarray(0, 0);
      // The reply goes out before this thread serves another request: one buffer serves every READ.
      if (this.readBuf.length < size) this.readBuf = Buffer.allocUnsafe(size);
      return this.readBuf.subarray(0, this.image.read(n, offset, size, this.readBuf));
    });
  }

  release(): void {
    // stateless
  }

  opendir(_ctx: RequestContext, ino: number): OpenReply {
    return this.guard('opendir', ino, () => {
      this.dir(ino);
      return { fh: 0, flags: FOPEN.CACHE_DIR | FOPEN.KEEP_CACHE };
    });
  }

  releasedir(): void {
    // stateless
  }

  /** Offsets: 1 after ".", 2 after "..", i + 3 after visible entry i. */
  readdir(_ctx: RequestContext, ino: number, _fh: number, offset: number, out: DirentSink): void {
    this.guard('readdir', ino, () => {
      const d = this.dir(ino);
      if (offset < 1 && !out.add(ino, '.', S_IFDIR, 1)) return;
      if (offset < 2 && !out.add(this.image.parentOf(ino), '..', S_IFDIR, 2)) return;
      for (let i = Math.max(0, offset - 2); i < d.visible.length; i++) {
        const e = d.visible[i]!;
        if (!out.add(e.ino, e.name, TYPE_BITS[e.kind], i + 3)) return;
      }
    });
  }

  readdirplus(_ctx: RequestContext, ino: number, _fh: number, offset: number, out: DirentPlusSink): void {
    this.guard('readdirplus', ino, () => {
      const d = this.dir(ino);
      if (offset < 1 && !out.add('.', this.entryOf(d), 1)) return;
      if (offset < 2 && !out.add('..', this.entryOf(this.node(this.image.parentOf(ino))), 2)) return;
      for (let i = Math.max(0, offset - 2); i < d.visible.length; i++) {
        const e = d.visible[i]!;
        let entry: Entry;
        try {
          entry = this.entryOf(this.node(e.ino));
        } catch (err) {
          if (err instanceof BytesPending) throw err;
          // One unreadable inode must not make its directory unlistable: a plain dirent (nodeid 0); a LOOKUP
          // of the name reports the error.
          this.fail('readdirplus', e.ino, err);
          entry = { ino: 0, attr: { ino: e.ino, mode: TYPE_BITS[e.kind], nlink: 0, uid: 0, gid: 0, size: 0, atime: 0, mtime: 0, ctime: 0 } };
        }
        if (!out.add(e.name, entry, i + 3)) return;
      }
    });
  }

  getxattr(_ctx: RequestContext, ino: number, name: string): Uint8Array {
    return this.guard('getxattr', ino, () => {
      const want = Buffer.from(name);
      for (const x of this.node(ino).xattrs) if (want.equals(x.key)) return x.val;
      throw Errno.shared(ERRNO.ENODATA);
    });
  }

  listxattr(ctx: RequestContext, ino: number): string[] {
    return this.guard('listxattr', ino, () => {
      const names = this.node(ino).xattrs.map((x) => Buffer.from(x.key.buffer, x.key.byteOffset, x.key.byteLength).toString('utf8'));
      // trusted.* is listed only to CAP_SYS_ADMIN by the kernel's own filesystems; uid 0 stands in for it.
      return ctx.uid === 0 ? names : names.filter((n) => !n.startsWith('trusted.'));
    });
  }

  statfs(): StatFs {
    const img = this.image;
    return { blocks: Math.ceil(img.imageBytes / BLOCK), bfree: 0, bavail: 0, files: img.reachable, ffree: 0, bsize: BLOCK, frsize: BLOCK, namelen: NAME_MAX };
  }

  access(ctx: RequestContext, ino: number, mask: number): void {
    this.guard('access', ino, () => {
      if (mask & W_OK) throw new Errno(ERRNO.EROFS);
      if (!mask) return;
      checkAccess(ctx, this.attrOf(this.node(ino)), mask);
    });
  }

}

/** console.error, or in a session worker the worker's {type: 'log'} message (console waits for an idle loop). */
function defaultLog(): (message: string) => void {
  const port = isMainThread ? null : parentPort;
  if (port) return (message) => port.postMessage({ type: 'log', message });
  return (message) => console.error(message);
}

/** Opens the image (after zstd is ready). Also the worker-mode factory. */
export async function createFilesystem(options: PuzzleFilesystemOptions): Promise<PuzzleFilesystem> {
  await zstdReady;
  return new PuzzleFilesystem(options);
}

export { ROOT_INO };
