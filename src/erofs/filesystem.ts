// The Filesystem that serves an EROFS (or composefs) image over FUSE. Read-only by construction: every
// write operation answers EROFS. Inode numbers come straight from nids (root = 1, others nid + 2), so the
// filesystem keeps no per-inode state for the kernel to forget, and every worker agrees on them.
//
// Errors: a corrupt image answers EIO and logs its reason once; unsupported features (extra devices, unknown
// formats) answer EOPNOTSUPP and log the path once.

import { ReadOnlyFilesystem } from '../fs/read-only.js';
import { LogOnce, imageFailure } from '../fs/image-errors.js';
import * as fs from 'node:fs';
import { isMainThread, parentPort } from 'node:worker_threads';
import type {
  Attr, ConnectionInfo, DirentPlusSink, DirentSink, Entry, Filesystem, OpenReply, RequestContext, StatFs,
} from '../fs/types.js';
import { FOPEN, InitFlags } from '../protocol/abi.js';
import { Errno, ERRNO } from '../protocol/errno.js';
import { O_ACCMODE, O_TRUNC, W_OK } from '../protocol/posix.js';
import { checkAccess } from '../fs/access.js';
import { DirentPlusWriter, DirentWriter } from '../protocol/dirents.js';
import { negativeEntry, STABLE_TREE_TIMEOUT } from '../fs/entries.js';
import {
  OVERLAY_REDIRECT, type Metacopy, type NamedXattr, type Redirect, type ViewMode, isMetacopyError, isWhiteout, isXWhiteout,
  metacopyOf, rawXattrs, viewXattrs,
} from './composefs.js';
import { BytesPending, type ByteSource } from './bytesource.js';
import { ObjectStore, type ObjectSource } from './object-store.js';
import { type DirBlock, fileTypeToMode } from './reader/dir.js';
import { decodersReady } from './reader/decompress.js';
import { UnsupportedFeatureError } from './reader/errors.js';
import * as F from './reader/format.js';
import type { ErofsInode } from './reader/inode.js';
import { LruCache } from './reader/lru.js';
import { ErofsReader, type ReaderOptions } from './reader/reader.js';
import { formatNid } from './reader/superblock.js';
import { ObjectVerifier, VerityError, type VerityMode } from './verity-check.js';
import { LogPaths } from './log-paths.js';
import { PlusPolicy } from './plus-policy.js';
import { withWarmUpImage } from './warm-up-image.js';

/** Synthetic readdir offset of a "." the image omitted (real offsets are dirent positions + 12 >= 12). */
const OFFSET_SYNTH_DOT = 1;

const DOT = Uint8Array.of(0x2e);

function isDotName(blk: DirBlock, i: number): boolean {
  return blk.compareName(i, DOT, 1) === 0;
}

const DOTDOT = Uint8Array.of(0x2e, 0x2e);

function isDotDot(blk: DirBlock, i: number, ft: number): boolean {
  return ft === F.FT_DIR && blk.compareName(i, DOTDOT, 2) === 0;
}

/** The index, in its block, of the first dirent at or after byte position `from` of a directory. */
function firstDirentIn(from: number, blockSize: number): number {
  return Math.ceil((from % blockSize) / F.DIRENT_SIZE);
}

/**
 * Reused for every READDIRPLUS record of every instance in this thread: a record is filled and encoded by
 * the sink before the next one is (see fillEntry), and requests run one at a time. One object per thread,
 * not per instance: its time and size fields turn from integers into doubles on first use, which gives it a
 * new shape, and a field of each instance holding it would then make a second instance (a worker's real
 * filesystem after a warm-up one, bench/erofs-cold-walk's walk 2) deoptimize the listing code compiled for
 * the first (bench/results/metadata.md, Round 5b).
 */
const PLUS_ATTR: Attr = { ino: 0, mode: 0, nlink: 0, uid: 0, gid: 0, size: 0, blocks: 0, rdev: 0, blksize: 0, atime: 0, atimeNsec: 0, mtime: 0, mtimeNsec: 0, ctime: 0, ctimeNsec: 0, timeout: 0 };
const PLUS_ENTRY: Entry = { ino: 0, generation: 0, attr: PLUS_ATTR, entryTimeout: 0, attrTimeout: 0 };

export interface ErofsFilesystemOptions {
  /** Image path (read with pread), or the image itself (a SharedArrayBuffer is shared between workers). */
  image: string | SharedArrayBuffer | ArrayBuffer | Uint8Array | ByteSource;
  /** composefs object store: redirected files are opened as basedir/<redirect>. */
  basedir?: string;
  /** An object source other than a local basedir (a remote prefix); wins over basedir. */
  objectSource?: ObjectSource;
  /** 'plain' (default): the original tree; 'overlay': metadata for overlayfs with userxattr; 'raw': as the kernel. */
  mode?: ViewMode;
  /** Apply composefs conventions; default: when the image starts with the composefs header or a basedir is given. */
  composefs?: boolean;
  /** Hand redirected files to the kernel with FOPEN_PASSTHROUGH when the connection allows it. */
  passthrough?: boolean;
  /** Entry and attribute cache timeout in seconds (default 86400: the image never changes). */
  timeout?: number;
  reader?: ReaderOptions;
  /** Bytes this instance's image caches may hold (reader.cacheBytes; --cache-size divided by the workers). */
  cacheSize?: number;
  /** fs-verity of composefs objects (verity-check.ts): 'off', 'check' (default: when the image has a digest), 'require'. */
  verity?: VerityMode;
  /** Log how each object's fs-verity digest was checked (measured by the kernel or computed). */
  debug?: boolean;
  /** Where problems are reported (default console.error). */
  log?: (message: string) => void;
}

interface ObjectFile {
  /** A local object's fd, or -1 when the object is remote (bytes). */
  fd: number;
  bytes: ByteSource | undefined;
  /** Open handles of this instance on it; closed when the last one is released here. */
  refs: number;
  backingId: number | undefined;
}

/**
 * Object files kept open per filesystem instance (per worker). In worker mode the OPEN, READs and RELEASE of
 * one open file may each go to a different worker (the kernel queue is shared by the cloned fds), so a READ
 * never depends on this instance's handles: objects are found by nid and opened on demand by whichever
 * worker serves it. Handles only count references for a prompt close; a RELEASE that reaches another worker
 * leaves the object open until it falls out of these bounded tables.
 */
const MAX_OPEN_OBJECTS = 256;
/** The warm-up twin's cache budget: its image is small, and its buffers are allocated at their full size. */
const WARM_UP_CACHE_BYTES = 4 * 1024 * 1024;
/**
 * ...and its caches hold few entries, so that the walk's requests keep missing them: a real image's first
 * requests are cache misses (decoding inodes and directory blocks, evicting, the read-ahead hints), and
 * code that ran only for the twin's first few misses was compiled during the first real find.
 */
const WARM_UP_READER: ReaderOptions = { inodeCacheEntries: 64, dirCacheBlocks: 4, metaCachePages: 16 };
const MAX_HANDLES = 65536;

/** Per-inode facts derived from xattrs, computed once. */
interface ViewInfo {
  /** Plain composefs view: the object of a metacopy file, or why overlayfs refuses the file. */
  metacopy: Metacopy;
  xattrs: NamedXattr[] | undefined;
}

export class ErofsFilesystem extends ReadOnlyFilesystem implements Filesystem {
  readonly reader: ErofsReader;
  readonly mode: ViewMode;
  readonly composefs: boolean;
  private readonly timeout: number;
  private readonly store: ObjectSource | undefined;
  private readonly verifier: ObjectVerifier;
  private readonly wantPassthrough: boolean;
  private readonly log: (message: string) => void;
  private conn: ConnectionInfo | undefined;
  /** READDIRPLUS_AUTO negotiated: a READDIRPLUS past offset 0 means an entry was looked up. */
  private autoPlus = false;
  private readonly plusPolicy = new PlusPolicy();
  private passthroughBroken = false;
  /**
   * OPEN / OPENDIR answered ENOSYS (the kernel offered NO_OPEN_SUPPORT / NO_OPENDIR_SUPPORT and the mount is
   * read-only, see init): the kernel then opens every file itself with KEEP_CACHE (and CACHE_DIR), sending no
   * OPEN and no RELEASE, two requests fewer per file a tar reads.
   */
  private noOpen = false;
  private noOpendir = false;
  /** nid -> open object file, in least-recently-used order (see MAX_OPEN_OBJECTS). */
  private readonly objects = new Map<number, ObjectFile>();
  /** fh -> nid of the handles this instance handed out, oldest first (see MAX_HANDLES). */
  private readonly handles = new Map<number, number>();
  private nextFh = 1;
  // Bounded small (a few MiB per worker): with one copy per worker these were most of the RSS on a /usr image.
  private readonly views = new LruCache<number, ViewInfo>(16384);
  private readonly logs: LogOnce;
  /** Paths for log lines (numbers only on the request path). */
  private readonly paths: LogPaths;
  /** What this instance was made from (warmUpTwin makes one alike). */
  private readonly options: ErofsFilesystemOptions;


  constructor(options: ErofsFilesystemOptions) {
    super();
    this.options = options;
    this.reader = ErofsReader.open(options.image, options.cacheSize !== undefined ? { ...options.reader, cacheBytes: options.cacheSize } : options.reader);
    this.mode = options.mode ?? 'plain';
    // An object store means a composefs image, header or not (mkfs.erofs-built composefs images have none).
    this.composefs = options.composefs ?? (this.reader.isComposefs || options.basedir !== undefined || options.objectSource !== undefined);
    this.timeout = options.timeout ?? STABLE_TREE_TIMEOUT;
    this.log = options.log ?? defaultLog();
    this.logs = new LogOnce(this.log);
    this.paths = new LogPaths(this.reader, (ino) => this.nidOf(ino));
    this.wantPassthrough = options.passthrough ?? false;
    this.store = options.objectSource ?? (options.basedir ? new ObjectStore(options.basedir) : undefined);
    this.verifier = new ObjectVerifier(options.verity ?? 'check', options.debug ? this.log : undefined);
    // Fail at start (not at first stat) if the root is unreadable.
    this.reader.root();
  }

  // ---- inode numbers ------------------------------------------------------------------------------------------

  inoOf(nid: number): number {
    return nid === this.reader.rootNid ? 1 : nid + 2;
  }

  nidOf(ino: number): number {
    if (ino === 1) return this.reader.rootNid;
    if (!Number.isSafeInteger(ino) || ino < 2) throw new Errno(ERRNO.ESTALE, `inode ${ino}`);
    return ino - 2;
  }

  private node(ino: number): ErofsInode {
    return this.reader.inode(this.nidOf(ino));
  }

  // ---- error handling -------------------------------------------------------------------------------------------

  private pathOf(ino: number): string {
    return this.paths.pathOf(ino);
  }

  /** Runs an operation, turning reader errors into the errno FUSE should see (and one log line). */
  private guard<T>(op: string, ino: number, fn: () => T): T {
    try {
      return fn();
    } catch (e) {
      throw this.mapError(op, ino, e);
    }
  }

  /** What a failed operation answers: corrupt data -> EIO (logged once with the path), errnos as they are. */
  private mapError(op: string, ino: number, e: unknown): unknown {
    // A remote image's bytes on their way: the operation is run again when they arrive (src/remote/await-bytes.ts).
    if (e instanceof BytesPending) return e;
    if (e instanceof UnsupportedFeatureError) {
      this.logs.once(`unsupported:${ino}:${e.feature}`, `tsfuse erofs: ${op} ${this.pathOf(ino)}: ${e.message}`);
      return e;
    }
    return imageFailure(this.logs, 'tsfuse erofs', op, () => this.pathOf(ino), e);
  }

  // ---- views --------------------------------------------------------------------------------------------------

  /** Plain or overlay mode over a composefs image: the modes that follow overlayfs' rules. */
  private composefsView(): boolean {
    return this.mode !== 'raw' && this.composefs;
  }

  private plainComposefs(): boolean {
    return this.mode === 'plain' && this.composefs;
  }

  private view(inode: ErofsInode): ViewInfo {
    let v = this.views.get(inode.nid);
    if (!v) {
      v = {
        metacopy: this.composefsView() ? metacopyOf(this.reader, inode) : undefined,
        xattrs: undefined,
      };
      this.views.set(inode.nid, v);
    }
    return v;
  }

  private xattrsOf(inode: ErofsInode): NamedXattr[] {
    if (inode.xattrSize === 0) return [];
    const v = this.view(inode);
    if (!v.xattrs) {
      let raw = rawXattrs(this.reader, inode);
      // A directory redirect leads nowhere with one layer (the kernel's view ignores it), but overlayfs in
      // userxattr mode refuses to follow it (EPERM): the overlay-mode FUSE view leaves it out.
      if (this.mode === 'overlay' && this.composefs && (inode.mode & F.S_IFMT) !== F.S_IFREG) raw = raw.filter((x) => x.name !== OVERLAY_REDIRECT);
      v.xattrs = viewXattrs(raw, this.mode, this.composefs);
    }
    return v.xattrs;
  }

  /** A whiteout of the plain composefs view: overlayfs answers ENOENT for it (see composefs.ts). */
  private hidden(inode: ErofsInode): boolean {
    return this.plainComposefs() && (isWhiteout(inode) || isXWhiteout(this.reader, inode));
  }

  /** The redirect of a metacopy file in the plain composefs view. */
  private redirectOf(inode: ErofsInode): Redirect | undefined {
    if ((inode.mode & F.S_IFMT) !== F.S_IFREG || !this.plainComposefs() || inode.xattrSize === 0) return undefined;
    const m = this.view(inode).metacopy;
    return isMetacopyError(m) ? undefined : m;
  }

  /** The entry of `child` of `dir` as the view answers a LOOKUP: ENOENT for whiteouts, overlayfs' refusals. */
  private childEntry(child: ErofsInode): Entry | undefined {
    if (this.hidden(child)) return undefined;
    this.checkMetacopy(child);
    return this.entryOf(child);
  }

  /** Throws the errno overlayfs answers for a file whose metacopy xattrs it refuses. */
  private checkMetacopy(child: ErofsInode): void {
    // In overlay mode too: overlayfs with userxattr would answer EPERM for these, the kernel's view EIO/EINVAL.
    if (this.composefsView() && (child.mode & F.S_IFMT) === F.S_IFREG && child.xattrSize > 0) {
      const m = this.view(child).metacopy;
      if (isMetacopyError(m)) {
        this.logs.once(`metacopy:${child.nid}`, `tsfuse erofs: lookup ${this.pathOf(this.inoOf(child.nid))}: ${m.reason}`);
        throw new Errno(m.errno, m.reason);
      }
    }
  }

  attrOf(inode: ErofsInode): Attr {
    const bs = this.reader.blockSize;
    return {
      ino: this.inoOf(inode.nid),
      mode: inode.mode,
      nlink: inode.nlink,
      uid: inode.uid,
      gid: inode.gid,
      size: inode.size,
      blocks: inode.blocks512,
      rdev: inode.rdev,
      blksize: bs,
      atime: inode.mtime,
      atimeNsec: inode.mtimeNsec,
      mtime: inode.mtime,
      mtimeNsec: inode.mtimeNsec,
      ctime: inode.mtime,
      ctimeNsec: inode.mtimeNsec,
      timeout: this.timeout,
    };
  }

  private entryOf(inode: ErofsInode): Entry {
    const attr = this.attrOf(inode);
    return { ino: attr.ino, generation: 0, attr, entryTimeout: this.timeout, attrTimeout: this.timeout };
  }

  private negativeEntry(): Entry {
    return negativeEntry(this.timeout);
  }

  private dirOf(ino: number): ErofsInode {
    const d = this.node(ino);
    if ((d.mode & F.S_IFMT) !== F.S_IFDIR) throw new Errno(ERRNO.ENOTDIR);
    return d;
  }

  // ---- Filesystem ---------------------------------------------------------------------------------------------

  init(conn: ConnectionInfo): Promise<void> {
    this.conn = conn;
    // READs never depend on a handle (objects are found by nid), but a plain composefs view checks each
    // object's fs-verity digest before its first open succeeds and may hand it over with passthrough: it keeps OPEN.
    this.noOpen = InitFlags.has(conn.flags, 'NO_OPEN_SUPPORT') && !this.plainComposefs();
    this.noOpendir = InitFlags.has(conn.flags, 'NO_OPENDIR_SUPPORT');
    this.autoPlus = InitFlags.has(conn.flags, 'READDIRPLUS_AUTO');
    // Both hosting modes await init before serving: zstd's WebAssembly decoder is ready by the first read.
    return decodersReady(this.reader.sb);
  }

  /**
   * Filesystem.warmUpTwin: an instance with this one's settings (view mode, composefs, object store, verity)
   * over the built-in warm-up image (warm-up-image.ts), read with pread as this one's image is, so that what
   * the warm-up compiles is what this one's requests run. Only for an image read from a file: another source
   * class would make the reader's call sites polymorphic.
   */
  warmUpTwin(): ErofsFilesystem | undefined {
    if (typeof this.options.image !== 'string') return undefined;
    return withWarmUpImage((image) => new ErofsFilesystem({ ...this.options, image, cacheSize: WARM_UP_CACHE_BYTES, reader: { ...this.options.reader, ...WARM_UP_READER }, composefs: this.composefs }));
  }

  destroy(): void {
    for (const o of this.objects.values()) this.closeObject(o);
    this.objects.clear();
    this.handles.clear();
    this.reader.close();
  }

  // lookup and getattr are the hottest requests: a plain try/catch, not a closure through guard().
  lookup(_ctx: RequestContext, parent: number, name: string): Entry {
    try {
      const dir = this.dirOf(parent);
      if (name === '.') return this.entryOf(dir);
      const e = this.reader.lookup(dir, name);
      if (!e) return this.negativeEntry();
      const child = this.reader.inode(e.nid);
      this.paths.looked(this.inoOf(child.nid), parent);
      if ((child.mode & F.S_IFMT) !== F.S_IFDIR) this.plusPolicy.lookedUpFile(parent);
      const entry = this.childEntry(child);
      if (!entry) return this.negativeEntry();
      return entry;
    } catch (e) {
      throw this.mapError('lookup', parent, e);
    }
  }

  // No forget(): inode numbers are nids, nothing to release, and without the method the dispatcher drops
  // FORGET and BATCH_FORGET unread (no call per forgotten inode).

  getattr(_ctx: RequestContext, ino: number, _fh?: number): Attr {
    try {
      return this.attrOf(this.node(ino));
    } catch (e) {
      throw this.mapError('getattr', ino, e);
    }
  }

  readlink(_ctx: RequestContext, ino: number): Uint8Array {
    return this.guard('readlink', ino, () => {
      const n = this.node(ino);
      if ((n.mode & F.S_IFMT) !== F.S_IFLNK) throw new Errno(ERRNO.EINVAL);
      return this.reader.readlink(n);
    });
  }

  open(_ctx: RequestContext, ino: number, flags: number): OpenReply {
    return this.guard('open', ino, () => {
      if ((flags & O_ACCMODE) !== 0 || flags & O_TRUNC) throw new Errno(ERRNO.EROFS);
      // Not before the write check: the first OPEN answered ENOSYS ends OPENs for the connection.
      if (this.noOpen) throw new Errno(ERRNO.ENOSYS, 'no open needed');
      const n = this.node(ino);
      const type = n.mode & F.S_IFMT;
      if (type === F.S_IFDIR) throw new Errno(ERRNO.EISDIR);
      const redirect = this.redirectOf(n);
      if (!redirect) return { fh: 0, flags: FOPEN.KEEP_CACHE };
      return this.openObject(ino, n, redirect);
    });
  }

  private openObject(ino: number, n: ErofsInode, redirect: Redirect): OpenReply {
    const obj = this.objectOf(ino, n, redirect);
    obj.refs++;
    const fh = this.nextFh++;
    this.handles.set(fh, n.nid);
    if (this.handles.size > MAX_HANDLES) this.handles.delete(this.handles.keys().next().value as number);
    const conn = this.conn;
    if (this.wantPassthrough && !this.passthroughBroken && obj.fd >= 0 && conn?.passthrough && conn.backingOpen) {
      if (obj.backingId === undefined) {
        try {
          obj.backingId = conn.backingOpen(obj.fd);
        } catch (e) {
          this.passthroughBroken = true;
          this.log(`tsfuse erofs: passthrough unavailable (${(e as Error).message}); serving reads instead`);
        }
      }
      // The kernel holds its own reference to the backing file once it has this reply.
      if (obj.backingId !== undefined) return { fh, flags: FOPEN.PASSTHROUGH, backingId: obj.backingId };
    }
    return { fh, flags: FOPEN.KEEP_CACHE };
  }

  /** The open object file of a redirected inode: from the cache, or opened now (by any worker). */
  private objectOf(ino: number, n: ErofsInode, redirect: Redirect): ObjectFile {
    let obj = this.objects.get(n.nid);
    if (obj) {
      this.objects.delete(n.nid); // most recently used goes last
      this.objects.set(n.nid, obj);
    } else {
      if (!this.store) {
        this.logs.once(`nostore:${ino}`, `tsfuse erofs: open ${this.pathOf(ino)}: content is in the object store (${redirect.path}) but no basedir was given`);
        throw new Errno(ERRNO.EIO, 'no object store');
      }
      let opened: ReturnType<ObjectSource['openObject']>;
      try {
        opened = this.store.openObject(redirect.path);
      } catch (e) {
        if (e instanceof BytesPending) throw e; // a remote object being looked up: the request runs again
        const msg = (e as Error).message;
        this.logs.once(`object:${ino}`, `tsfuse erofs: open ${this.pathOf(ino)}: ${msg}`);
        // the store's refusals carry the errno overlayfs answers for the same redirect
        if (e instanceof Errno) throw e;
        throw new Errno(ERRNO.EIO, msg);
      }
      this.verify(ino, redirect, opened);
      obj = { fd: opened.fd ?? -1, bytes: opened.bytes, refs: 0, backingId: undefined };
      this.objects.set(n.nid, obj);
      if (this.objects.size > MAX_OPEN_OBJECTS) {
        const [oldest, old] = this.objects.entries().next().value as [number, ObjectFile];
        this.objects.delete(oldest);
        this.closeObject(old);
      }
    }
    return obj;
  }

  /** The object's fs-verity check (verity-check.ts) before anything is served from it; EIO, logged once, if it fails. */
  private verify(ino: number, redirect: Redirect, opened: ReturnType<ObjectSource['openObject']>): void {
    try {
      this.verifier.check(opened, redirect);
    } catch (e) {
      if (e instanceof BytesPending) throw e; // a remote object's digest being computed: the request runs again
      if (opened.fd !== undefined) fs.closeSync(opened.fd); // a remote source stays with its store
      const msg = (e as Error).message;
      this.logs.once(`verity:${redirect.path}`, `tsfuse erofs: open ${this.pathOf(ino)}: ${msg}`);
      throw e instanceof VerityError ? e : new Errno(ERRNO.EIO, msg);
    }
  }

  private closeObject(obj: ObjectFile): void {
    if (obj.backingId !== undefined) {
      try {
        this.conn?.backingClose?.(obj.backingId);
      } catch (e) {
        this.log(`tsfuse erofs: backing close failed: ${(e as Error).message}`);
      }
      obj.backingId = undefined;
    }
    try {
      if (obj.bytes) obj.bytes.close?.();
      else fs.closeSync(obj.fd);
    } catch {
      // already closed
    }
  }

  read(_ctx: RequestContext, ino: number, _fh: number, offset: number, size: number): Uint8Array {
    return this.guard('read', ino, () => {
      const n = this.node(ino);
      if ((n.mode & F.S_IFMT) === F.S_IFDIR) throw new Errno(ERRNO.EISDIR);
      const len = Math.max(0, Math.min(size, n.size - offset));
      // The reply is written before this thread serves anything else (a plain value goes out at once), so
      // one buffer per filesystem instance serves every READ: no 1 MiB allocation and page faults per request.
      const buf = this.scratch(len);
      const redirect = this.redirectOf(n);
      if (redirect) {
        // Found by nid, never by fh: the OPEN may have been answered by another worker.
        const obj = this.objectOf(ino, n, redirect);
        if (obj.bytes) {
          // A remote object: its own size bounds the read (a short object reads short, like EOF).
          const got = Math.max(0, Math.min(len, obj.bytes.size - offset));
          if (got > 0) obj.bytes.readInto(buf, 0, offset, got);
          return buf.subarray(0, got);
        }
        let got = 0;
        while (got < len) {
          const r = fs.readSync(obj.fd, buf, got, len - got, offset + got);
          if (r <= 0) break; // the object is shorter than the image says: a short read, like EOF
          got += r;
        }
        return buf.subarray(0, got);
      }
      const got = len > 0 ? this.reader.readDataInto(n, offset, len, buf, 0) : 0;
      return buf.subarray(0, got);
    });
  }

  private readBuf = Buffer.allocUnsafe(0);

  private scratch(len: number): Buffer {
    if (this.readBuf.length < len) this.readBuf = Buffer.allocUnsafe(Math.max(len, 128 * 1024));
    return this.readBuf;
  }


  release(_ctx: RequestContext, ino: number, fh: number, _flags?: number, _releaseFlags?: number, _lockOwner?: number): void {
    const nid = this.handles.get(fh);
    // Not ours (another worker's handle with the same number, or fh 0): the object stays cached.
    if (nid === undefined || ino !== this.inoOf(nid)) return;
    this.handles.delete(fh);
    const obj = this.objects.get(nid);
    if (obj && --obj.refs <= 0) {
      this.objects.delete(nid);
      this.closeObject(obj);
    }
  }

  opendir(_ctx: RequestContext, ino: number, _flags?: number): OpenReply {
    return this.guard('opendir', ino, () => {
      this.dirOf(ino);
      if (this.noOpendir) throw new Errno(ERRNO.ENOSYS, 'no opendir needed');
      return { fh: 0, flags: FOPEN.CACHE_DIR | FOPEN.KEEP_CACHE };
    });
  }

  releasedir(): void {
    // stateless
  }

  readdir(_ctx: RequestContext, ino: number, _fh: number, offset: number, out: DirentSink): void {
    try {
      const dir = this.dirOf(ino);
      if (offset === 0 && dir.dotOmitted && !out.add(ino, DOT, F.S_IFDIR, OFFSET_SYNTH_DOT)) return;
      this.listPlain(dir, offset, out);
    } catch (e) {
      throw this.mapError('readdir', ino, e);
    }
  }

  readdirplus(_ctx: RequestContext, ino: number, _fh: number, offset: number, out: DirentPlusSink): void {
    try {
      const dir = this.dirOf(ino);
      this.paths.listedDir(ino);
      if (offset === 0 && dir.dotOmitted && !out.add(DOT, this.bareEntry(dir.nid, F.FT_DIR), OFFSET_SYNTH_DOT)) return;
      // past the first reply, 'auto' mode sends READDIRPLUS only when an entry was looked up (plus-policy.ts)
      this.plusPolicy.begin(this.autoPlus && offset > OFFSET_SYNTH_DOT);
      this.plusPolicy.listedBare(ino, this.listPlus(dir, offset, out));
    } catch (e) {
      throw this.mapError('readdirplus', ino, e);
    }
  }

  // READDIR and READDIRPLUS records from a FUSE offset. Offsets handed out are a dirent's position + 12 (never
  // 0), and OFFSET_SYNTH_DOT for a "." the image omitted, so the kernel can resume at any entry. Each is one
  // loop over the directory's blocks (no generator, no callback, no object per entry), and each has its own:
  // one loop serving both was optimized with one path's feedback, thrown away the first time the other path
  // ran through it (a fresh worker's first cold find did both) and optimized again; each loop is also smaller
  // to compile and runs only its own work.

  private listPlain(dir: ErofsInode, offset: number, out: DirentSink): void {
    const filterRoot = this.filtersRoot(dir);
    // Our own writer takes the name straight from the directory block; other sinks get a view.
    const raw = out instanceof DirentWriter ? out : undefined;
    const bs = this.reader.blockSize;
    const blocks = this.reader.dirBlockCount(dir);
    const from = offset <= OFFSET_SYNTH_DOT ? 0 : offset;
    let i = firstDirentIn(from, bs);
    for (let b = Math.floor(from / bs); b < blocks; b++, i = 0) {
      const blk = this.reader.dirBlockAt(dir, b);
      for (; i < blk.count; i++) {
        const ft = blk.fileType(i);
        // "." and ".." are directories: the name is compared only for those
        const nid = ft === F.FT_DIR && isDotName(blk, i) ? dir.nid : blk.nid(i);
        if (filterRoot && this.hiddenInRoot(ft, nid)) continue;
        const next = b * bs + (i + 1) * F.DIRENT_SIZE;
        const added = raw
          ? raw.addSlice(this.inoOf(nid), blk.data, blk.nameStart(i), blk.nameLength, fileTypeToMode(ft), next)
          : out.add(this.inoOf(nid), blk.name(i), fileTypeToMode(ft), next);
        if (!added) return;
      }
    }
  }

  /** As listPlain, with attributes as the policy says (plus-policy.ts); returns the files listed without. */
  private listPlus(dir: ErofsInode, offset: number, plus: DirentPlusSink): number {
    const filterRoot = this.filtersRoot(dir);
    const raw = plus instanceof DirentPlusWriter ? plus : undefined;
    const bs = this.reader.blockSize;
    const blocks = this.reader.dirBlockCount(dir);
    const from = offset <= OFFSET_SYNTH_DOT ? 0 : offset;
    let bareFiles = 0;
    let i = firstDirentIn(from, bs);
    for (let b = Math.floor(from / bs); b < blocks; b++, i = 0) {
      const blk = this.reader.dirBlockAt(dir, b);
      for (; i < blk.count; i++) {
        const ft = blk.fileType(i);
        const isDir = ft === F.FT_DIR;
        const dot = isDir && isDotName(blk, i);
        const nid = dot ? dir.nid : blk.nid(i);
        if (filterRoot && this.hiddenInRoot(ft, nid)) continue;
        const next = b * bs + (i + 1) * F.DIRENT_SIZE;
        // "." and ".." are never linked by the kernel: no attributes; directories always (the walk descends
        // into them); files as the policy says
        const bare = isDir ? dot || isDotDot(blk, i, ft) : this.plusPolicy.bareFile();
        let added: boolean;
        if (bare && raw) added = raw.addBare(blk.data, blk.nameStart(i), blk.nameLength, this.inoOf(nid), fileTypeToMode(ft), next);
        else {
          const entry = bare ? this.bareEntry(nid, ft) : this.plusEntryOf(nid, ft);
          added = raw ? raw.addSlice(blk.data, blk.nameStart(i), blk.nameLength, entry, next) : plus.add(blk.name(i), entry, next);
        }
        if (!added) return bareFiles;
        if (bare && !isDir) bareFiles++;
      }
    }
    return bareFiles;
  }

  /** overlayfs leaves char 0:0 whiteouts out of the root's listing only (see composefs.ts); LOOKUP hides them all. */
  private filtersRoot(dir: ErofsInode): boolean {
    return this.plainComposefs() && dir.nid === this.reader.rootNid;
  }

  private hiddenInRoot(ft: number, nid: number): boolean {
    return ft === F.FT_CHRDEV && isWhiteout(this.reader.inode(nid));
  }

  /**
   * The READDIRPLUS record of one child, in the reused PLUS_ENTRY. A child that cannot be read (or a whiteout
   * listed outside the root, which LOOKUP answers ENOENT for) is a plain dirent without attributes (nodeid
   * 0): one unreadable inode must not make its directory unlistable (the kernel's readdir never reads child
   * inodes), and a LOOKUP of the name reports the error.
   */
  private plusEntryOf(nid: number, ft: number): Entry {
    let child: ErofsInode | undefined;
    try {
      child = this.reader.inode(nid);
      if (this.hidden(child)) child = undefined;
      else this.checkMetacopy(child);
    } catch (e) {
      const mapped = this.mapError('readdirplus', this.inoOf(nid), e);
      if (mapped instanceof BytesPending) throw mapped;
      child = undefined;
    }
    if (child) return this.fillEntry(child);
    return this.bareEntry(nid, ft);
  }

  /** A READDIRPLUS record without attributes (nodeid 0): the kernel lists the name and instantiates nothing. */
  private bareEntry(nid: number, ft: number): Entry {
    const a = PLUS_ATTR;
    a.ino = this.inoOf(nid);
    a.mode = fileTypeToMode(ft);
    a.nlink = a.uid = a.gid = a.size = a.blocks = a.rdev = a.blksize = 0;
    a.atime = a.atimeNsec = a.mtime = a.mtimeNsec = a.ctime = a.ctimeNsec = 0;
    PLUS_ENTRY.ino = 0;
    return PLUS_ENTRY;
  }

  /** The reused READDIRPLUS entry filled with an inode's attributes, as entryOf would build them. */
  private fillEntry(inode: ErofsInode): Entry {
    const a = PLUS_ATTR;
    a.ino = this.inoOf(inode.nid);
    a.mode = inode.mode;
    a.nlink = inode.nlink;
    a.uid = inode.uid;
    a.gid = inode.gid;
    a.size = inode.size;
    a.blocks = inode.blocks512;
    a.rdev = inode.rdev;
    a.blksize = this.reader.blockSize;
    a.atime = a.mtime = a.ctime = inode.mtime;
    a.atimeNsec = a.mtimeNsec = a.ctimeNsec = inode.mtimeNsec;
    a.timeout = this.timeout;
    const e = PLUS_ENTRY;
    e.ino = a.ino;
    e.entryTimeout = this.timeout;
    e.attrTimeout = this.timeout;
    return e;
  }

  getxattr(_ctx: RequestContext, ino: number, name: string): Uint8Array {
    return this.guard('getxattr', ino, () => {
      const n = this.node(ino);
      if (n.xattrSize === 0) throw Errno.shared(ERRNO.ENODATA);
      if (this.mode === 'raw' || (this.mode === 'plain' && !this.composefs)) {
        // straight to the image, where the bloom filter answers most misses
        const v = this.reader.getXattr(n, name);
        if (!v || name.startsWith('lustre.')) throw Errno.shared(ERRNO.ENODATA);
        return v;
      }
      const x = this.xattrsOf(n).find((a) => a.name === name);
      if (!x) throw Errno.shared(ERRNO.ENODATA);
      return x.value;
    });
  }

  listxattr(ctx: RequestContext, ino: number): string[] {
    return this.guard('listxattr', ino, () => {
      const names = this.xattrsOf(this.node(ino)).map((x) => x.name);
      // The kernel lists trusted.* only to CAP_SYS_ADMIN (and refuses to read them to anyone else); uid 0
      // stands in for the capability, which FUSE does not tell us.
      return ctx.uid === 0 ? names : names.filter((n) => !n.startsWith('trusted.'));
    });
  }

  statfs(_ctx: RequestContext, ino: number): StatFs {
    return this.guard('statfs', ino, () => {
      const sb = this.reader.sb;
      return { blocks: sb.blocks, bfree: 0, bavail: 0, files: sb.inos, ffree: 0, bsize: sb.blockSize, frsize: sb.blockSize, namelen: F.NAME_LEN };
    });
  }

  access(ctx: RequestContext, ino: number, mask: number): void {
    this.guard('access', ino, () => {
      if (mask & W_OK) throw new Errno(ERRNO.EROFS);
      if (!mask) return;
      checkAccess(ctx, this.attrOf(this.node(ino)), mask);
    });
  }

  /** For tests and tools: the nid (formatted) behind a FUSE inode number. */
  describeIno(ino: number): string {
    return formatNid(this.nidOf(ino));
  }
}

/**
 * console.error, except in a session worker: there console output waits for the worker's event loop, which a
 * thread blocked serving /dev/fuse rarely runs, so lines go to the session's log at once as the worker's own
 * {type: 'log'} messages (src/server/worker.ts) do.
 */
export function defaultLog(): (message: string) => void {
  const port = isMainThread ? null : parentPort;
  if (port) return (message) => port.postMessage({ type: 'log', message });
  return (message) => console.error(message);
}

export function createErofsFilesystem(options: ErofsFilesystemOptions): ErofsFilesystem {
  return new ErofsFilesystem(options);
}

/** Worker-mode factory (FilesystemModule.export default name). */
export const createFilesystem = createErofsFilesystem;
