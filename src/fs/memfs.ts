// memfs: a complete read-write in-memory filesystem.
//
// Everything is synchronous (plain return values), so the server's fast path applies, and the filesystem
// object is single-threaded state: in embedded mode requests arrive from reader threads but are all handled
// on the owning thread.
//
// Storage:
// - regular files: a sparse map of fixed-size chunks (default 128 KiB). A chunk's Buffer grows by doubling up
//   to the chunk size, so small files stay small; a write far past EOF allocates only the chunks it touches.
//   Missing chunks are holes (read as zeros, reported by SEEK_HOLE at chunk granularity).
// - directories: a name -> entry map plus an append-only list ordered by a per-directory, monotonically
//   increasing cookie. READDIR offsets are positions: "." is 0, ".." is 1, an entry with cookie c is at c
//   (cookies start at 2), and the next offset after a position p is p + 1. Resuming at offset o emits the
//   surviving entries with cookie >= o, so entries added/removed between calls never make a reader repeat or
//   skip an entry that survived. Removed entries are tombstoned and the list is compacted now and then
//   (compaction keeps the cookies, and a binary search finds the resume point).
//
// Lifetime: an inode is freed when nlink == 0, no handle is open and the kernel's lookup count is 0. Inode
// numbers are never reused (generation stays 0).
//
// Permissions: memfs expects the session to mount with default_permissions (the kernel checks modes itself);
// only ACCESS evaluates mode bits here. Ownership of new inodes follows the request (ctx.uid/ctx.gid) with
// BSD-style setgid-directory inheritance.

import * as os from 'node:os';
import { Errno } from '../protocol/errno.js';
import {
  S_IFMT, S_IFSOCK, S_IFLNK, S_IFREG, S_IFBLK, S_IFDIR, S_IFCHR, S_IFIFO, S_ISUID, S_ISGID,
  RENAME_NOREPLACE, RENAME_EXCHANGE,
} from './types.js';
import type {
  Attr, CreateReply, DirentPlusSink, DirentSink, Entry, Filesystem, OpenReply, RequestContext, SetAttr,
  StatFs, Statx, Timespec,
} from './types.js';

// ---- ABI constants used here (kept local so this file depends only on fs/types and protocol/errno) ----

const O_ACCMODE = 0o3;
const O_EXCL = 0o200;
const O_TRUNC = 0o1000;
const O_APPEND = 0o2000;

const FOPEN_DIRECT_IO = 1 << 0;
const FOPEN_KEEP_CACHE = 1 << 1;
const FOPEN_CACHE_DIR = 1 << 3;

const FUSE_WRITE_KILL_SUIDGID = 1 << 2;

const XATTR_CREATE = 1;
const XATTR_REPLACE = 2;

const FALLOC_FL_KEEP_SIZE = 1;
const FALLOC_FL_PUNCH_HOLE = 2;

const SEEK_SET = 0;
const SEEK_CUR = 1;
const SEEK_END = 2;
const SEEK_DATA = 3;
const SEEK_HOLE = 4;

const R_OK = 4;
const W_OK = 2;
const X_OK = 1;

const STATX_BASIC_STATS = 0x7ff;
const STATX_BTIME = 0x800;

const NAME_MAX = 255;
const PATH_MAX = 4096;
const XATTR_NAME_MAX = 255;
const XATTR_SIZE_MAX = 65536;
const BLOCK_SIZE = 4096;
const DIR_SIZE = 4096;
/** Largest file size/offset (numbers stay exact below 2^53). */
const MAX_FILE_SIZE = Number.MAX_SAFE_INTEGER;
const ROOT_INO = 1;
/** First cookie of a directory entry ("." is position 0, ".." position 1). */
const FIRST_COOKIE = 2;

export interface MemFsOptions {
  /** Mode of the root directory (type bits optional); default 0o40755. */
  rootMode?: number;
  /** Owner of the root directory; default 0:0. */
  uid?: number;
  gid?: number;
  /** Name cache timeout in seconds returned in entries; default 1 (0 allowed). */
  entryTimeout?: number;
  /** Attribute cache timeout in seconds; default 1 (0 allowed). */
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
  /** Answer OPEN with FOPEN_KEEP_CACHE (memfs is the only writer, so the page cache stays valid); default true. */
  keepCache?: boolean;
  /** Answer OPEN with FOPEN_DIRECT_IO; default false. */
  directIo?: boolean;
  /** Answer OPENDIR with FOPEN_CACHE_DIR|FOPEN_KEEP_CACHE; default false. */
  cacheDir?: boolean;
  /**
   * READ returns a copy instead of a view of the file storage when the range lies in one chunk. The view is
   * safe as long as the server encodes a plain (non-Promise) reply before running another handler, which is
   * the documented fast path; set this when wrapping memfs in something that defers replies. Default false.
   */
  copyReads?: boolean;
}

interface DirEnt {
  name: string;
  ino: number;
  cookie: number;
  removed: boolean;
}

class DirData {
  readonly byName = new Map<string, DirEnt>();
  /** Sorted by cookie; may hold removed entries (tombstones). */
  list: DirEnt[] = [];
  dead = 0;
  nextCookie = FIRST_COOKIE;

  get size(): number {
    return this.byName.size;
  }

  get(name: string): DirEnt | undefined {
    return this.byName.get(name);
  }

  add(name: string, ino: number): void {
    const ent: DirEnt = { name, ino, cookie: this.nextCookie++, removed: false };
    this.byName.set(name, ent);
    this.list.push(ent);
  }

  remove(name: string): void {
    const ent = this.byName.get(name);
    if (!ent) return;
    this.byName.delete(name);
    ent.removed = true;
    this.dead++;
    if (this.dead > 32 && this.dead * 2 > this.list.length) {
      this.list = this.list.filter((e) => !e.removed);
      this.dead = 0;
    }
  }

  /** Index in `list` of the first entry with cookie >= pos. */
  indexFrom(pos: number): number {
    let lo = 0;
    let hi = this.list.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.list[mid]!.cookie < pos) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }
}

class Node {
  generation = 0;
  rdev = 0;
  size = 0;
  lookups = 0;
  opens = 0;
  /** Bytes of chunk storage held (regular files). */
  allocated = 0;
  chunks: Map<number, Buffer> | null = null;
  target: Buffer | null = null;
  dir: DirData | null = null;
  /** Parent directory (directories only; the root is its own parent). */
  parent = 0;
  xattrs: Map<string, Buffer> | null = null;
  /** Created by tmpfile: may be linked while nlink == 0. */
  linkable = false;
  atime: Timespec;
  mtime: Timespec;
  ctime: Timespec;
  btime: Timespec;

  constructor(
    readonly ino: number,
    public mode: number,
    public uid: number,
    public gid: number,
    public nlink: number,
    now: Timespec,
  ) {
    this.atime = now;
    this.mtime = now;
    this.ctime = now;
    this.btime = now;
  }

  get type(): number {
    return this.mode & S_IFMT;
  }
  get isDir(): boolean {
    return (this.mode & S_IFMT) === S_IFDIR;
  }
  get isReg(): boolean {
    return (this.mode & S_IFMT) === S_IFREG;
  }
}

interface Handle {
  ino: number;
  flags: number;
  dir: boolean;
}

/** Wall-clock time with nanoseconds: Date.now() as the base, process.hrtime() for the fraction. */
class Clock {
  private baseSec = 0;
  private baseNsec = 0;
  private hr0: [number, number] = [0, 0];

  constructor() {
    this.rebase();
  }

  private rebase(): void {
    const ms = Date.now();
    this.baseSec = Math.floor(ms / 1000);
    this.baseNsec = (ms - this.baseSec * 1000) * 1e6;
    this.hr0 = process.hrtime();
  }

  now(): Timespec {
    const d = process.hrtime(this.hr0);
    let sec = this.baseSec + d[0];
    let nsec = this.baseNsec + d[1];
    if (nsec >= 1e9) {
      sec += 1;
      nsec -= 1e9;
    }
    // Follow wall-clock adjustments (NTP, suspend): resync when the monotonic estimate drifts.
    const wall = Date.now();
    const est = sec * 1000 + nsec / 1e6;
    if (est - wall > 5 || wall - est > 5) {
      this.rebase();
      return this.now();
    }
    return { sec, nsec };
  }
}

function checkName(name: string): void {
  if (name.length === 0 || name.includes('/') || name.includes('\0')) throw new Errno('EINVAL');
  if (name.length > NAME_MAX / 3 && Buffer.byteLength(name, 'utf8') > NAME_MAX) throw new Errno('ENAMETOOLONG');
}

function isDotName(name: string): boolean {
  return name === '.' || name === '..';
}

function checkTime(t: Timespec): Timespec {
  if (!Number.isFinite(t.sec) || !Number.isInteger(t.nsec) || t.nsec < 0 || t.nsec >= 1e9) {
    throw new Errno('EINVAL');
  }
  return { sec: t.sec, nsec: t.nsec };
}

function killSuidgid(node: Node): void {
  if (node.isDir) return;
  let mode = node.mode & ~S_ISUID;
  // like the kernel: sgid without group-exec means mandatory locking, not setgid-exec; keep it
  if (mode & 0o010) mode &= ~S_ISGID;
  node.mode = mode;
}

export class MemFs implements Filesystem {
  private readonly nodes = new Map<number, Node>();
  private readonly handles = new Map<number, Handle>();
  private nextIno = ROOT_INO + 1;
  private nextFh = 1;
  private usedBytes = 0;
  private readonly clock = new Clock();

  readonly entryTimeout: number;
  readonly attrTimeout: number;
  readonly negativeTimeout: number;
  readonly totalBytes: number;
  readonly maxInodes: number;
  readonly chunkSize: number;
  private readonly openFlags: number;
  private readonly opendirFlags: number;
  private readonly copyReads: boolean;

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
    this.openFlags = (opts.keepCache ?? true ? FOPEN_KEEP_CACHE : 0) | (opts.directIo ? FOPEN_DIRECT_IO : 0);
    this.opendirFlags = opts.cacheDir ? FOPEN_CACHE_DIR | FOPEN_KEEP_CACHE : 0;
    this.copyReads = opts.copyReads ?? false;

    const rootMode = opts.rootMode ?? 0o755;
    const root = new Node(ROOT_INO, S_IFDIR | (rootMode & 0o7777), opts.uid ?? 0, opts.gid ?? 0, 2, this.clock.now());
    root.dir = new DirData();
    root.parent = ROOT_INO;
    root.size = DIR_SIZE;
    this.nodes.set(ROOT_INO, root);
  }

  // ---- introspection (tests, embedders) ----

  /** Number of live inodes (including the root). */
  get inodeCount(): number {
    return this.nodes.size;
  }
  /** True while the inode exists (not yet freed). */
  hasInode(ino: number): boolean {
    return this.nodes.has(ino);
  }
  /** The kernel's outstanding lookup count of an inode, as memfs tracks it. */
  lookupCount(ino: number): number {
    return this.nodes.get(ino)?.lookups ?? 0;
  }
  /** Number of open file and directory handles. */
  get openHandles(): number {
    return this.handles.size;
  }
  /** Bytes of file storage allocated. */
  get bytesUsed(): number {
    return this.usedBytes;
  }

  // ---- helpers ----

  private node(ino: number): Node {
    const n = this.nodes.get(ino);
    if (!n) throw new Errno('ENOENT');
    return n;
  }

  private dirNode(ino: number): Node {
    const n = this.node(ino);
    if (!n.dir) throw new Errno('ENOTDIR');
    return n;
  }

  private attrOf(n: Node): Attr {
    let blocks = 0;
    if (n.isReg) blocks = Math.ceil(n.allocated / 512);
    else if (n.isDir) blocks = DIR_SIZE / 512;
    return {
      ino: n.ino,
      mode: n.mode,
      nlink: n.nlink,
      uid: n.uid,
      gid: n.gid,
      size: n.size,
      blocks,
      rdev: n.rdev,
      blksize: BLOCK_SIZE,
      atime: n.atime.sec,
      atimeNsec: n.atime.nsec,
      mtime: n.mtime.sec,
      mtimeNsec: n.mtime.nsec,
      ctime: n.ctime.sec,
      ctimeNsec: n.ctime.nsec,
      timeout: this.attrTimeout,
    };
  }

  /** An Entry for n, counting one lookup. */
  private entryOf(n: Node): Entry {
    n.lookups++;
    return this.entryNoCount(n);
  }

  private entryNoCount(n: Node): Entry {
    return {
      ino: n.ino,
      generation: n.generation,
      attr: this.attrOf(n),
      entryTimeout: this.entryTimeout,
      attrTimeout: this.attrTimeout,
    };
  }

  private maybeFree(n: Node): void {
    if (n.nlink > 0 || n.opens > 0 || n.lookups > 0 || n.ino === ROOT_INO) return;
    this.nodes.delete(n.ino);
    this.usedBytes -= n.allocated;
    n.allocated = 0;
    n.chunks = null;
    n.dir = null;
    n.xattrs = null;
    n.target = null;
  }

  private touchDir(dir: Node, now: Timespec): void {
    dir.mtime = now;
    dir.ctime = now;
  }

  /** relatime: update atime when it is not newer than mtime/ctime, or older than a day. */
  private touchAtime(n: Node): void {
    const a = n.atime;
    const older = (t: Timespec) => a.sec < t.sec || (a.sec === t.sec && a.nsec <= t.nsec);
    const now = this.clock.now();
    if (older(n.mtime) || older(n.ctime) || now.sec - a.sec >= 86400) n.atime = now;
  }

  /** Creates a new inode in `parent` (or unnamed when name is undefined), owned by the caller. */
  private newNode(ctx: RequestContext, parent: Node, name: string | undefined, mode: number): Node {
    if (this.nodes.size >= this.maxInodes) throw new Errno('ENOSPC');
    if (parent.nlink === 0) throw new Errno('ENOENT');
    const now = this.clock.now();
    let gid = ctx.gid;
    if (parent.mode & S_ISGID) {
      gid = parent.gid;
      if ((mode & S_IFMT) === S_IFDIR) mode |= S_ISGID;
    }
    const isDir = (mode & S_IFMT) === S_IFDIR;
    const n = new Node(this.nextIno++, mode, ctx.uid, gid, isDir ? 2 : 1, now);
    if (isDir) {
      n.dir = new DirData();
      n.parent = parent.ino;
      n.size = DIR_SIZE;
    } else if ((mode & S_IFMT) === S_IFREG) {
      n.chunks = new Map();
    }
    this.nodes.set(n.ino, n);
    if (name !== undefined) {
      parent.dir!.add(name, n.ino);
      if (isDir) parent.nlink++;
      this.touchDir(parent, now);
    } else {
      n.nlink = 0;
    }
    return n;
  }

  private prepareCreate(parentIno: number, name: string): Node {
    const parent = this.dirNode(parentIno);
    checkName(name);
    if (isDotName(name) || parent.dir!.get(name)) throw new Errno('EEXIST');
    return parent;
  }

  private openHandle(n: Node, flags: number, dir: boolean): number {
    const fh = this.nextFh++;
    this.handles.set(fh, { ino: n.ino, flags, dir });
    n.opens++;
    return fh;
  }

  /** True when `anc` is `n` or one of its ancestors (both directories). */
  private isAncestor(anc: Node, n: Node): boolean {
    let cur = n;
    for (;;) {
      if (cur.ino === anc.ino) return true;
      if (cur.ino === ROOT_INO || cur.parent === cur.ino) return false;
      const p = this.nodes.get(cur.parent);
      if (!p) return false;
      cur = p;
    }
  }

  // ---- file data ----

  private growChunk(n: Node, idx: number, need: number): Buffer {
    const chunks = n.chunks!;
    const old = chunks.get(idx);
    const oldLen = old ? old.length : 0;
    if (oldLen >= need) return old!;
    let cap = Math.max(oldLen * 2, 64);
    while (cap < need) cap *= 2;
    if (cap > this.chunkSize) cap = this.chunkSize;
    if (this.usedBytes + cap - oldLen > this.totalBytes) throw new Errno('ENOSPC');
    const buf = Buffer.alloc(cap);
    if (old) old.copy(buf, 0, 0, oldLen);
    chunks.set(idx, buf);
    n.allocated += cap - oldLen;
    this.usedBytes += cap - oldLen;
    return buf;
  }

  private dropChunk(n: Node, idx: number): void {
    const buf = n.chunks!.get(idx);
    if (!buf) return;
    n.chunks!.delete(idx);
    n.allocated -= buf.length;
    this.usedBytes -= buf.length;
  }

  /** Copies data into the file at off; returns the bytes written (short only on ENOSPC after progress). */
  private writeData(n: Node, off: number, data: Uint8Array): number {
    const cs = this.chunkSize;
    const len = data.length;
    let done = 0;
    while (done < len) {
      const pos = off + done;
      const idx = Math.floor(pos / cs);
      const inChunk = pos - idx * cs;
      const take = Math.min(len - done, cs - inChunk);
      let buf: Buffer;
      try {
        buf = this.growChunk(n, idx, inChunk + take);
      } catch (e) {
        if (done > 0) break;
        throw e;
      }
      buf.set(data.subarray(done, done + take), inChunk);
      done += take;
    }
    if (off + done > n.size) n.size = off + done;
    return done;
  }

  private readData(n: Node, off: number, size: number): Buffer {
    if (off >= n.size || size <= 0) return Buffer.alloc(0);
    const end = Math.min(n.size, off + size);
    const cs = this.chunkSize;
    const chunks = n.chunks!;
    const first = Math.floor(off / cs);
    // Fast path: the whole range lies in one stored chunk. The view is safe to return because the reply
    // is encoded before any other request can change this storage.
    if (Math.floor((end - 1) / cs) === first) {
      const buf = chunks.get(first);
      const s = off - first * cs;
      const e = end - first * cs;
      if (buf && buf.length >= e) return this.copyReads ? Buffer.from(buf.subarray(s, e)) : buf.subarray(s, e);
    }
    const out = Buffer.alloc(end - off);
    let pos = off;
    while (pos < end) {
      const idx = Math.floor(pos / cs);
      const inChunk = pos - idx * cs;
      const take = Math.min(end - pos, cs - inChunk);
      const buf = chunks.get(idx);
      if (buf && inChunk < buf.length) buf.copy(out, pos - off, inChunk, Math.min(buf.length, inChunk + take));
      pos += take;
    }
    return out;
  }

  /** Zeroes [off, off+len) within the stored chunks, dropping chunks wholly inside; never allocates. */
  private zeroData(n: Node, off: number, len: number): void {
    const end = off + len;
    const cs = this.chunkSize;
    const chunks = n.chunks!;
    const first = Math.floor(off / cs);
    const last = Math.floor((end - 1) / cs);
    const visit = (idx: number) => {
      const buf = chunks.get(idx);
      if (!buf) return;
      const cStart = idx * cs;
      const s = Math.max(off, cStart) - cStart;
      const e = Math.min(end, cStart + cs) - cStart;
      if (s === 0 && e === cs) this.dropChunk(n, idx);
      else if (s < buf.length) buf.fill(0, s, Math.min(e, buf.length));
    };
    if (last - first < chunks.size) {
      for (let idx = first; idx <= last; idx++) visit(idx);
    } else {
      for (const idx of [...chunks.keys()]) if (idx >= first && idx <= last) visit(idx);
    }
  }

  private truncateData(n: Node, size: number): void {
    if (size < n.size) {
      const cs = this.chunkSize;
      const keep = Math.ceil(size / cs); // chunks [0, keep) stay
      for (const idx of [...n.chunks!.keys()]) if (idx >= keep) this.dropChunk(n, idx);
      const tailIdx = Math.floor(size / cs);
      const buf = n.chunks!.get(tailIdx);
      if (buf) {
        const s = size - tailIdx * cs;
        if (s < buf.length) buf.fill(0, s);
      }
    }
    n.size = size;
  }

  // ---- Filesystem ----

  lookup(_ctx: RequestContext, parent: number, name: string): Entry {
    const dir = this.dirNode(parent);
    if (name === '.') return this.entryOf(dir);
    if (name === '..') return this.entryOf(this.node(dir.parent));
    if (name.length > NAME_MAX / 3 && Buffer.byteLength(name, 'utf8') > NAME_MAX) throw new Errno('ENAMETOOLONG');
    const ent = dir.dir!.get(name);
    const n = ent && this.nodes.get(ent.ino);
    if (!n) {
      if (this.negativeTimeout > 0) {
        return {
          ino: 0,
          attr: { ino: 0, mode: 0, nlink: 0, uid: 0, gid: 0, size: 0, atime: 0, mtime: 0, ctime: 0 },
          entryTimeout: this.negativeTimeout,
          attrTimeout: 0,
        };
      }
      throw new Errno('ENOENT');
    }
    return this.entryOf(n);
  }

  forget(ino: number, nlookup: number): void {
    const n = this.nodes.get(ino);
    if (!n) return;
    n.lookups = Math.max(0, n.lookups - nlookup);
    this.maybeFree(n);
  }

  getattr(_ctx: RequestContext, ino: number, _fh: number | undefined): Attr {
    return this.attrOf(this.node(ino));
  }

  setattr(_ctx: RequestContext, ino: number, set: SetAttr): Attr {
    const n = this.node(ino);
    // validate everything first so a failing request changes nothing
    if (set.size !== undefined) {
      if (n.isDir) throw new Errno('EISDIR');
      if (!n.isReg) throw new Errno('EINVAL');
      if (!Number.isInteger(set.size) || set.size < 0) throw new Errno('EINVAL');
      if (set.size > MAX_FILE_SIZE) throw new Errno('EFBIG');
    }
    const atime = set.atime === undefined || set.atime === 'now' ? set.atime : checkTime(set.atime);
    const mtime = set.mtime === undefined || set.mtime === 'now' ? set.mtime : checkTime(set.mtime);
    const ctime = set.ctime === undefined ? undefined : checkTime(set.ctime);

    const now = this.clock.now();
    let changed = false;
    if (set.uid !== undefined && set.uid !== -1 && set.uid !== 0xffffffff) {
      n.uid = set.uid;
      changed = true;
    }
    if (set.gid !== undefined && set.gid !== -1 && set.gid !== 0xffffffff) {
      n.gid = set.gid;
      changed = true;
    }
    if (set.mode !== undefined) {
      n.mode = (n.mode & S_IFMT) | (set.mode & 0o7777);
      changed = true;
    }
    if (set.killSuidgid) {
      killSuidgid(n);
      changed = true;
    }
    if (set.size !== undefined) {
      this.truncateData(n, set.size);
      n.mtime = now;
      changed = true;
    }
    if (atime !== undefined) {
      n.atime = atime === 'now' ? now : atime;
      changed = true;
    }
    if (mtime !== undefined) {
      n.mtime = mtime === 'now' ? now : mtime;
      changed = true;
    }
    if (ctime !== undefined) n.ctime = ctime;
    else if (changed) n.ctime = now;
    return this.attrOf(n);
  }

  readlink(_ctx: RequestContext, ino: number): Uint8Array {
    const n = this.node(ino);
    if (!n.target) throw new Errno('EINVAL');
    this.touchAtime(n);
    return n.target;
  }

  mknod(ctx: RequestContext, parent: number, name: string, mode: number, rdev: number, umask: number): Entry {
    let type = mode & S_IFMT;
    if (type === 0) type = S_IFREG;
    if (type === S_IFDIR) throw new Errno('EPERM');
    if (type !== S_IFREG && type !== S_IFIFO && type !== S_IFCHR && type !== S_IFBLK && type !== S_IFSOCK) {
      throw new Errno('EINVAL');
    }
    const p = this.prepareCreate(parent, name);
    const n = this.newNode(ctx, p, name, type | (mode & 0o7777 & ~umask));
    if (type === S_IFCHR || type === S_IFBLK) n.rdev = rdev;
    return this.entryOf(n);
  }

  mkdir(ctx: RequestContext, parent: number, name: string, mode: number, umask: number): Entry {
    const p = this.prepareCreate(parent, name);
    const n = this.newNode(ctx, p, name, S_IFDIR | (mode & 0o1777 & ~umask));
    return this.entryOf(n);
  }

  symlink(ctx: RequestContext, parent: number, name: string, target: string): Entry {
    const t = Buffer.from(target, 'utf8');
    if (t.length === 0) throw new Errno('ENOENT');
    if (t.length >= PATH_MAX) throw new Errno('ENAMETOOLONG');
    const p = this.prepareCreate(parent, name);
    const n = this.newNode(ctx, p, name, S_IFLNK | 0o777);
    n.target = t;
    n.size = t.length;
    return this.entryOf(n);
  }

  link(_ctx: RequestContext, ino: number, newParent: number, newName: string): Entry {
    const n = this.node(ino);
    if (n.isDir) throw new Errno('EPERM');
    const p = this.prepareCreate(newParent, newName);
    if (p.nlink === 0) throw new Errno('ENOENT');
    if (n.nlink === 0 && !n.linkable) throw new Errno('ENOENT');
    const now = this.clock.now();
    p.dir!.add(newName, n.ino);
    n.nlink++;
    n.linkable = false;
    n.ctime = now;
    this.touchDir(p, now);
    return this.entryOf(n);
  }

  unlink(_ctx: RequestContext, parent: number, name: string): void {
    const p = this.dirNode(parent);
    if (isDotName(name)) throw new Errno('EISDIR');
    const ent = p.dir!.get(name);
    if (!ent) throw new Errno('ENOENT');
    const n = this.node(ent.ino);
    if (n.isDir) throw new Errno('EISDIR');
    const now = this.clock.now();
    p.dir!.remove(name);
    this.touchDir(p, now);
    n.nlink--;
    n.ctime = now;
    this.maybeFree(n);
  }

  rmdir(_ctx: RequestContext, parent: number, name: string): void {
    const p = this.dirNode(parent);
    if (name === '.') throw new Errno('EINVAL');
    if (name === '..') throw new Errno('ENOTEMPTY');
    const ent = p.dir!.get(name);
    if (!ent) throw new Errno('ENOENT');
    const n = this.node(ent.ino);
    if (!n.isDir) throw new Errno('ENOTDIR');
    if (n.dir!.size > 0) throw new Errno('ENOTEMPTY');
    const now = this.clock.now();
    p.dir!.remove(name);
    p.nlink--;
    this.touchDir(p, now);
    n.nlink = 0;
    n.ctime = now;
    this.maybeFree(n);
  }

  rename(_ctx: RequestContext, parent: number, name: string, newParent: number, newName: string, flags: number): void {
    if (flags & ~(RENAME_NOREPLACE | RENAME_EXCHANGE)) throw new Errno('EINVAL');
    if ((flags & RENAME_NOREPLACE) && (flags & RENAME_EXCHANGE)) throw new Errno('EINVAL');
    const op = this.dirNode(parent);
    const np = this.dirNode(newParent);
    if (isDotName(name) || isDotName(newName)) throw new Errno(flags & RENAME_NOREPLACE ? 'EEXIST' : 'EBUSY');
    checkName(newName);
    const srcEnt = op.dir!.get(name);
    if (!srcEnt) throw new Errno('ENOENT');
    const src = this.node(srcEnt.ino);
    const dstEnt = np.dir!.get(newName);
    const dst = dstEnt ? this.node(dstEnt.ino) : undefined;
    const now = this.clock.now();

    if (flags & RENAME_EXCHANGE) {
      if (!dst) throw new Errno('ENOENT');
      if (src === dst) return;
      if (src.isDir && this.isAncestor(src, np)) throw new Errno('EINVAL');
      if (dst.isDir && this.isAncestor(dst, op)) throw new Errno('EINVAL');
      srcEnt.ino = dst.ino;
      dstEnt!.ino = src.ino;
      if (op !== np) {
        if (src.isDir) {
          src.parent = np.ino;
          op.nlink--;
          np.nlink++;
        }
        if (dst.isDir) {
          dst.parent = op.ino;
          np.nlink--;
          op.nlink++;
        }
      }
      src.ctime = now;
      dst.ctime = now;
      this.touchDir(op, now);
      this.touchDir(np, now);
      return;
    }

    if (dst) {
      if (flags & RENAME_NOREPLACE) throw new Errno('EEXIST');
      // hard links to the same inode: POSIX says do nothing
      if (src === dst) return;
    }
    if (src.isDir && this.isAncestor(src, np)) throw new Errno('EINVAL');
    if (dst) {
      if (src.isDir && !dst.isDir) throw new Errno('ENOTDIR');
      if (!src.isDir && dst.isDir) throw new Errno('EISDIR');
      if (dst.isDir && dst.dir!.size > 0) throw new Errno('ENOTEMPTY');
      // the target being an ancestor of the source makes it non-empty, caught above
    }

    if (dst) {
      np.dir!.remove(newName);
      if (dst.isDir) {
        dst.nlink = 0;
        np.nlink--;
      } else {
        dst.nlink--;
      }
      dst.ctime = now;
    }
    op.dir!.remove(name);
    np.dir!.add(newName, src.ino);
    if (src.isDir && op !== np) {
      src.parent = np.ino;
      op.nlink--;
      np.nlink++;
    }
    src.ctime = now;
    this.touchDir(op, now);
    if (np !== op) this.touchDir(np, now);
    if (dst) this.maybeFree(dst);
  }

  open(_ctx: RequestContext, ino: number, flags: number): OpenReply {
    const n = this.node(ino);
    if (n.isDir) {
      if ((flags & O_ACCMODE) !== 0 || (flags & O_TRUNC)) throw new Errno('EISDIR');
    } else if (!n.isReg) {
      // the kernel opens special files itself; nothing to serve here
      throw new Errno('ENXIO');
    }
    if ((flags & O_TRUNC) && n.isReg) {
      this.truncateData(n, 0);
      const now = this.clock.now();
      n.mtime = now;
      n.ctime = now;
    }
    return { fh: this.openHandle(n, flags, false), flags: this.openFlags };
  }

  read(_ctx: RequestContext, ino: number, _fh: number, offset: number, size: number): Uint8Array {
    const n = this.node(ino);
    if (n.isDir) throw new Errno('EISDIR');
    if (!n.isReg) throw new Errno('EINVAL');
    if (offset < 0 || size < 0) throw new Errno('EINVAL');
    const out = this.readData(n, offset, size);
    this.touchAtime(n);
    return out;
  }

  write(_ctx: RequestContext, ino: number, fh: number, offset: number, data: Uint8Array, writeFlags: number, flags: number): number {
    const n = this.node(ino);
    if (n.isDir) throw new Errno('EISDIR');
    if (!n.isReg) throw new Errno('EINVAL');
    if (offset < 0) throw new Errno('EINVAL');
    const h = this.handles.get(fh);
    if (((h ? h.flags : flags) & O_APPEND) !== 0) offset = n.size;
    if (offset + data.length > MAX_FILE_SIZE) throw new Errno('EFBIG');
    const now = this.clock.now();
    if (writeFlags & FUSE_WRITE_KILL_SUIDGID) killSuidgid(n);
    const written = data.length === 0 ? 0 : this.writeData(n, offset, data);
    n.mtime = now;
    n.ctime = now;
    return written;
  }

  flush(_ctx: RequestContext, ino: number, _fh: number, _lockOwner: number): void {
    this.node(ino);
  }

  release(_ctx: RequestContext, _ino: number, fh: number, _flags: number, _releaseFlags: number, _lockOwner: number): void {
    this.closeHandle(fh, false);
  }

  /** Drops an open file (dir = false) or directory handle; the inode may go once nothing holds it. */
  private closeHandle(fh: number, dir: boolean): void {
    const h = this.handles.get(fh);
    if (!h || h.dir !== dir) return;
    this.handles.delete(fh);
    const n = this.nodes.get(h.ino);
    if (!n) return;
    n.opens--;
    this.maybeFree(n);
  }

  fsync(_ctx: RequestContext, ino: number, _fh: number, _datasync: boolean): void {
    this.node(ino);
  }

  create(ctx: RequestContext, parent: number, name: string, mode: number, umask: number, flags: number): CreateReply {
    const p = this.dirNode(parent);
    checkName(name);
    const existing = isDotName(name) ? p : p.dir!.get(name);
    if (existing) {
      if (flags & O_EXCL) throw new Errno('EEXIST');
      const n = existing instanceof Node ? existing : this.node(existing.ino);
      if (n.isDir) throw new Errno('EISDIR');
      const o = this.open(ctx, n.ino, flags);
      return { ...o, entry: this.entryOf(n) };
    }
    const type = mode & S_IFMT;
    if (type !== 0 && type !== S_IFREG) throw new Errno('EINVAL');
    const n = this.newNode(ctx, p, name, S_IFREG | (mode & 0o7777 & ~umask));
    const fh = this.openHandle(n, flags, false);
    return { fh, flags: this.openFlags, entry: this.entryOf(n) };
  }

  tmpfile(ctx: RequestContext, parent: number, mode: number, umask: number, flags: number): CreateReply {
    const p = this.dirNode(parent);
    const n = this.newNode(ctx, p, undefined, S_IFREG | (mode & 0o7777 & ~umask));
    n.linkable = (flags & O_EXCL) === 0;
    const fh = this.openHandle(n, flags, false);
    return { fh, flags: this.openFlags, entry: this.entryOf(n) };
  }

  fallocate(_ctx: RequestContext, ino: number, _fh: number, offset: number, length: number, mode: number): void {
    const n = this.node(ino);
    if (n.isDir) throw new Errno('EISDIR');
    if (!n.isReg) throw new Errno('ENODEV');
    if (offset < 0 || length <= 0) throw new Errno('EINVAL');
    if (offset + length > MAX_FILE_SIZE) throw new Errno('EFBIG');
    const now = this.clock.now();
    if (mode === 0 || mode === FALLOC_FL_KEEP_SIZE) {
      // Space is not reserved up front (holes stay holes); refuse what cannot possibly fit.
      const end = offset + length;
      const grow = end > n.size ? end - n.size : 0;
      if (grow > this.totalBytes - this.usedBytes) throw new Errno('ENOSPC');
      if (mode === 0 && end > n.size) {
        n.size = end;
        n.ctime = now;
        n.mtime = now;
      }
      return;
    }
    if (mode === (FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE)) {
      const end = Math.min(offset + length, n.size);
      if (end > offset) this.zeroData(n, offset, end - offset);
      n.mtime = now;
      n.ctime = now;
      return;
    }
    throw new Errno('EOPNOTSUPP');
  }

  lseek(_ctx: RequestContext, ino: number, _fh: number, offset: number, whence: number): number {
    const n = this.node(ino);
    switch (whence) {
      case SEEK_SET:
        if (offset < 0) throw new Errno('EINVAL');
        return offset;
      case SEEK_END: {
        const r = n.size + offset;
        if (r < 0) throw new Errno('EINVAL');
        return r;
      }
      case SEEK_CUR:
        // the file position lives in the kernel, which handles SEEK_CUR itself
        throw new Errno('EINVAL');
      case SEEK_DATA:
      case SEEK_HOLE: {
        if (!n.isReg) throw new Errno(n.isDir ? 'EISDIR' : 'EINVAL');
        if (offset < 0 || offset >= n.size) throw new Errno('ENXIO');
        const cs = this.chunkSize;
        const chunks = n.chunks!;
        const startIdx = Math.floor(offset / cs);
        const lastIdx = Math.floor((n.size - 1) / cs);
        if (whence === SEEK_DATA) {
          let best = -1;
          if (chunks.has(startIdx)) best = startIdx;
          else for (const idx of chunks.keys()) if (idx >= startIdx && idx <= lastIdx && (best < 0 || idx < best)) best = idx;
          if (best < 0) throw new Errno('ENXIO');
          return Math.max(offset, best * cs);
        }
        let idx = startIdx;
        while (idx <= lastIdx && chunks.has(idx)) idx++;
        return Math.min(n.size, Math.max(offset, idx * cs));
      }
      default:
        throw new Errno('EINVAL');
    }
  }

  copyFileRange(
    _ctx: RequestContext, inoIn: number, _fhIn: number, offIn: number, inoOut: number, _fhOut: number, offOut: number,
    len: number, flags: number,
  ): number {
    if (flags !== 0) throw new Errno('EINVAL');
    const src = this.node(inoIn);
    const dst = this.node(inoOut);
    if (src.isDir || dst.isDir) throw new Errno('EISDIR');
    if (!src.isReg || !dst.isReg) throw new Errno('EINVAL');
    if (offIn < 0 || offOut < 0 || len < 0) throw new Errno('EINVAL');
    const n = Math.max(0, Math.min(len, src.size - offIn));
    if (n === 0) return 0;
    if (offOut + n > MAX_FILE_SIZE) throw new Errno('EFBIG');
    if (src === dst && offIn < offOut + n && offOut < offIn + n) throw new Errno('EINVAL');
    const cs = this.chunkSize;
    let done = 0;
    while (done < n) {
      const pos = offIn + done;
      const idx = Math.floor(pos / cs);
      const take = Math.min(n - done, (idx + 1) * cs - pos);
      if (src.chunks!.has(idx)) {
        const piece = Buffer.from(this.readData(src, pos, take)); // copy: src and dst may share chunks' owner
        const w = this.writeData(dst, offOut + done, piece);
        done += w;
        if (w < take) break;
      } else {
        // a hole in the source stays a hole in the destination
        this.zeroData(dst, offOut + done, take);
        done += take;
        if (offOut + done > dst.size) dst.size = offOut + done;
      }
    }
    const now = this.clock.now();
    dst.mtime = now;
    dst.ctime = now;
    this.touchAtime(src);
    return done;
  }

  opendir(_ctx: RequestContext, ino: number, flags: number): OpenReply {
    const n = this.dirNode(ino);
    return { fh: this.openHandle(n, flags, true), flags: this.opendirFlags };
  }

  readdir(_ctx: RequestContext, ino: number, _fh: number, offset: number, out: DirentSink): void {
    const d = this.dirNode(ino);
    if (d.nlink === 0) throw new Errno('ENOENT');
    let pos = offset;
    if (pos === 0) {
      if (!out.add(d.ino, '.', S_IFDIR, 1)) return;
      pos = 1;
    }
    if (pos === 1) {
      if (!out.add(d.parent, '..', S_IFDIR, 2)) return;
      pos = 2;
    }
    const list = d.dir!.list;
    for (let i = d.dir!.indexFrom(pos); i < list.length; i++) {
      const e = list[i]!;
      if (e.removed) continue;
      const child = this.nodes.get(e.ino);
      if (!child) continue;
      if (!out.add(e.ino, e.name, child.mode & S_IFMT, e.cookie + 1)) break;
    }
    this.touchAtime(d);
  }

  readdirplus(_ctx: RequestContext, ino: number, _fh: number, offset: number, out: DirentPlusSink): void {
    const d = this.dirNode(ino);
    if (d.nlink === 0) throw new Errno('ENOENT');
    let pos = offset;
    if (pos === 0) {
      if (!out.add('.', this.entryNoCount(d), 1)) return;
      pos = 1;
    }
    if (pos === 1) {
      if (!out.add('..', this.entryNoCount(this.node(d.parent)), 2)) return;
      pos = 2;
    }
    const list = d.dir!.list;
    for (let i = d.dir!.indexFrom(pos); i < list.length; i++) {
      const e = list[i]!;
      if (e.removed) continue;
      const child = this.nodes.get(e.ino);
      if (!child) continue;
      if (!out.add(e.name, this.entryNoCount(child), e.cookie + 1)) break;
      child.lookups++;
    }
    this.touchAtime(d);
  }

  releasedir(_ctx: RequestContext, _ino: number, fh: number, _flags: number): void {
    this.closeHandle(fh, true);
  }

  fsyncdir(_ctx: RequestContext, ino: number, _fh: number, _datasync: boolean): void {
    this.node(ino);
  }

  statfs(_ctx: RequestContext, _ino: number): StatFs {
    const blocks = Math.floor(this.totalBytes / BLOCK_SIZE);
    const used = Math.ceil(this.usedBytes / BLOCK_SIZE);
    const bfree = Math.max(0, blocks - used);
    return {
      blocks,
      bfree,
      bavail: bfree,
      files: this.maxInodes,
      ffree: Math.max(0, this.maxInodes - this.nodes.size),
      bsize: BLOCK_SIZE,
      frsize: BLOCK_SIZE,
      namelen: NAME_MAX,
    };
  }

  private checkXattrName(n: Node, name: string, forWrite: boolean): void {
    if (name.length === 0) throw new Errno('EINVAL');
    if (Buffer.byteLength(name, 'utf8') > XATTR_NAME_MAX) throw new Errno('ERANGE');
    if (name.startsWith('user.')) {
      // like Linux: user xattrs only on regular files and directories
      if (!n.isReg && !n.isDir) throw new Errno(forWrite ? 'EPERM' : 'ENODATA');
      return;
    }
    if (name.startsWith('trusted.') || name.startsWith('security.') || name.startsWith('system.')) return;
    throw new Errno('EOPNOTSUPP');
  }

  setxattr(_ctx: RequestContext, ino: number, name: string, value: Uint8Array, flags: number): void {
    const n = this.node(ino);
    this.checkXattrName(n, name, true);
    if (value.length > XATTR_SIZE_MAX) throw new Errno('E2BIG');
    if (flags & ~(XATTR_CREATE | XATTR_REPLACE)) throw new Errno('EINVAL');
    const exists = n.xattrs?.has(name) ?? false;
    if ((flags & XATTR_CREATE) && exists) throw new Errno('EEXIST');
    if ((flags & XATTR_REPLACE) && !exists) throw new Errno('ENODATA');
    (n.xattrs ??= new Map()).set(name, Buffer.from(value));
    n.ctime = this.clock.now();
  }

  getxattr(_ctx: RequestContext, ino: number, name: string): Uint8Array {
    const n = this.node(ino);
    this.checkXattrName(n, name, false);
    const v = n.xattrs?.get(name);
    if (!v) throw new Errno('ENODATA');
    return v;
  }

  listxattr(_ctx: RequestContext, ino: number): string[] {
    const n = this.node(ino);
    return n.xattrs ? [...n.xattrs.keys()] : [];
  }

  removexattr(_ctx: RequestContext, ino: number, name: string): void {
    const n = this.node(ino);
    this.checkXattrName(n, name, true);
    if (!n.xattrs?.delete(name)) throw new Errno('ENODATA');
    n.ctime = this.clock.now();
  }

  access(ctx: RequestContext, ino: number, mask: number): void {
    const n = this.node(ino);
    mask &= R_OK | W_OK | X_OK;
    if (mask === 0) return;
    if (ctx.uid === 0) {
      if ((mask & X_OK) && !n.isDir && (n.mode & 0o111) === 0) throw new Errno('EACCES');
      return;
    }
    let bits: number;
    if (ctx.uid === n.uid) bits = (n.mode >> 6) & 7;
    else if (ctx.gid === n.gid) bits = (n.mode >> 3) & 7;
    else bits = n.mode & 7;
    if ((bits & mask) !== mask) throw new Errno('EACCES');
  }

  statx(_ctx: RequestContext, ino: number, _fh: number | undefined, _flags: number, _mask: number): Statx {
    const n = this.node(ino);
    const a = this.attrOf(n);
    return {
      mask: STATX_BASIC_STATS | STATX_BTIME,
      blksize: BLOCK_SIZE,
      nlink: n.nlink,
      uid: n.uid,
      gid: n.gid,
      mode: n.mode,
      ino: n.ino,
      size: n.size,
      blocks: a.blocks,
      atime: { ...n.atime },
      btime: { ...n.btime },
      ctime: { ...n.ctime },
      mtime: { ...n.mtime },
      // struct fuse_attr.rdev is new_encode_dev(): minor low byte, 12-bit major, then the minor's high bits
      rdevMajor: (n.rdev >>> 8) & 0xfff,
      rdevMinor: (n.rdev & 0xff) | ((n.rdev >>> 12) & 0xfff00),
      timeout: this.attrTimeout,
    };
  }

  syncfs(_ctx: RequestContext, _ino: number): void {}
}

export function createMemFs(opts?: MemFsOptions): MemFs {
  return new MemFs(opts);
}

/** Factory for worker mode / FilesystemModule (`export: 'createFilesystem'`). */
export const createFilesystem = createMemFs;

export default MemFs;
