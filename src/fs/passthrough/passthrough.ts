// PassthroughFs: mirrors a SOURCE directory read-write — tsfuse's counterpart of libfuse's
// example/passthrough_hp.cc.
//
// How inodes are found again without an fd per inode, and why nothing outside SOURCE is reachable: see
// inodes.ts. Everything here is synchronous node:fs (plus ffi-rs for what node:fs lacks, see
// src/kernel/fsops.ts), except waiting for a contended lock (SETLKW), which polls asynchronously.
//
// One instance must serve a whole mount (embedded mode, or a single worker): nodeids and file handles live
// in this object, so several workers each with their own instance would disagree about them.

import fs, { type BigIntStats } from 'node:fs';
import { Errno } from '../../protocol/errno.js';
import { FOPEN, InitFlags, ReleaseFlags, WriteFlags } from '../../protocol/abi.js';
import * as ops from '../../kernel/fsops.js';
import type {
  Attr,
  ConnectionInfo,
  CreateReply,
  DirentPlusSink,
  DirentSink,
  Entry,
  FileLock,
  Filesystem,
  OpenReply,
  RequestContext,
  SetAttr,
  StatFs,
} from '../types.js';
import {
  RENAME_EXCHANGE,
  S_IFDIR,
  S_IFLNK,
  S_IFMT,
  S_IFREG,
  S_ISGID,
  S_ISUID,
} from '../types.js';
import { splitKernelDev, toAttr } from './attr.js';
import { DirStream } from './dirstream.js';
import {
  Inode,
  InodeTable,
  O_ACCMODE,
  O_APPEND,
  O_CREAT,
  O_DIRECT,
  O_DIRECTORY,
  O_EXCL,
  O_NOCTTY,
  O_NOFOLLOW,
  O_NONBLOCK,
  O_PATH,
  O_RDONLY,
  O_RDWR,
  O_TMPFILE,
  O_TRUNC,
  O_WRONLY,
  sameFile,
} from './inodes.js';

export interface PassthroughOptions {
  /** The directory to mirror. */
  source: string;
  /**
   * The source may change behind the filesystem's back: entry/attr timeouts 0, no FOPEN_KEEP_CACHE, no
   * negative entries (passthrough_hp --nocache).
   */
  nocache?: boolean;
  /** Kernel passthrough (FOPEN_PASSTHROUGH) for regular files when the connection offers it; default true. */
  passthrough?: boolean;
  /** Entry and attribute timeout in seconds; default 86400 (0 with nocache). */
  timeout?: number;
  /** How many directory O_PATH fds to keep open (LRU); default 1024. */
  maxDirFds?: number;
  /** Where one-time warnings go; default console.warn. */
  log?: (msg: string) => void;
}

interface FileHandle {
  fd: number;
  inode: Inode;
  /** The flags the fd was opened with. */
  flags: number;
  /** This open holds a reference on inode.backingId. */
  backing: boolean;
}

const BIG = { bigint: true } as const;
const BIG_NOTHROW = { bigint: true, throwIfNoEntry: false } as const;

const F_RDLCK = 0;
const F_UNLCK = 2;
const LOCK_EOF = Number.MAX_SAFE_INTEGER;
const S_IXGRP = 0o10;
const XATTR_SIZE_MAX = 65536;
const ERANGE = 34;
const ENODATA = 61;
const ENOENT = 2;
/** fuse_open_in.open_flags: drop suid/sgid with this O_TRUNC (HANDLE_KILLPRIV_V2, caller without CAP_FSETID). */
const FUSE_OPEN_KILL_SUIDGID = 1;
/** Thrown for every xattr miss: one shared object, no stack trace to build each time (server reads .errno). */
const ENODATA_ERR = new Errno('ENODATA');
const NO_NAMES: ReadonlySet<string> = new Set();

function errCode(e: unknown): string | undefined {
  return (e as { code?: string } | null)?.code;
}

/** Runs a non-blocking lock attempt: true when taken, false when it conflicts. */
function tryLock(fn: () => void): boolean {
  try {
    fn();
    return true;
  } catch (e) {
    const c = errCode(e);
    if (c === 'EAGAIN' || c === 'EACCES' || c === 'EWOULDBLOCK') return false;
    throw e;
  }
}

export class PassthroughFs implements Filesystem {
  readonly source: string;
  readonly timeout: number;
  readonly nocache: boolean;
  private readonly t: InodeTable;
  private readonly files = new Map<number, FileHandle>();
  private readonly dirs = new Map<number, DirStream>();
  private readonly asRoot: boolean;
  private readonly log: (msg: string) => void;
  private readonly warned = new Set<string>();
  private conn: ConnectionInfo | undefined;
  private passthroughWanted: boolean;
  private passthroughOn = false;
  private writeback = false;
  private xbuf: Buffer | undefined;
  private readonly procUmask: number;

  constructor(opts: PassthroughOptions) {
    this.source = fs.realpathSync(opts.source);
    if (!fs.statSync(this.source).isDirectory()) throw new Errno('ENOTDIR', `${opts.source} is not a directory`);
    this.nocache = !!opts.nocache;
    this.timeout = this.nocache ? 0 : (opts.timeout ?? 86400);
    this.passthroughWanted = opts.passthrough !== false;
    this.log = opts.log ?? ((m) => console.warn(m));
    this.t = new InodeTable(this.source, Math.max(16, opts.maxDirFds ?? 1024));
    // New files are created by this process and then given to the requester (chown), which only root may do.
    this.asRoot = typeof process.geteuid === 'function' && process.geteuid() === 0;
    // Reading the umask is allowed in workers too (only setting it is not). Files are created with
    // mode & ~umask(request) and this process's umask applies on top: when it removes bits, a chmod follows.
    this.procUmask = readUmask();
  }

  /** For tests and diagnostics: inodes known, dir fds cached, open handles. */
  stats(): { inodes: number; dirFds: number; files: number; dirs: number } {
    return { inodes: this.t.size, dirFds: this.t.cachedDirFds, files: this.files.size, dirs: this.dirs.size };
  }

  private warnOnce(key: string, msg: string): void {
    if (this.warned.has(key)) return;
    this.warned.add(key);
    this.log(`tsfuse passthrough: ${msg}`);
  }

  // ---- lifecycle -------------------------------------------------------------------------------------

  init(conn: ConnectionInfo): void {
    this.conn = conn;
    this.passthroughOn = this.passthroughWanted && conn.passthrough && typeof conn.backingOpen === 'function';
    this.writeback = InitFlags.has(conn.flags, 'WRITEBACK_CACHE');
  }

  destroy(): void {
    for (const h of this.files.values()) {
      this.closeQuiet(h.fd);
      for (const fd of h.inode.lockFds?.values() ?? []) this.closeQuiet(fd);
      h.inode.lockFds = undefined;
    }
    for (const d of this.dirs.values()) this.closeQuiet(d.fd);
    this.files.clear();
    this.dirs.clear();
    this.t.close();
  }

  private closeQuiet(fd: number): void {
    try {
      fs.closeSync(fd);
    } catch {
      /* ignore */
    }
  }

  // ---- replies ---------------------------------------------------------------------------------------

  private entry(inode: Inode, st: BigIntStats): Entry {
    return {
      ino: inode.id,
      generation: 0,
      attr: toAttr(st, this.timeout),
      entryTimeout: this.timeout,
      attrTimeout: this.timeout,
    };
  }

  private negative(): Entry {
    return {
      ino: 0,
      attr: { ino: 0, mode: 0, nlink: 0, uid: 0, gid: 0, size: 0, atime: 0, mtime: 0, ctime: 0 },
      entryTimeout: this.timeout,
      attrTimeout: this.timeout,
    };
  }

  private file(fh: number): FileHandle {
    const h = this.files.get(fh);
    if (!h) throw new Errno('EBADF', `unknown file handle ${fh}`);
    return h;
  }

  private dir(fh: number): DirStream {
    const d = this.dirs.get(fh);
    if (!d) throw new Errno('EBADF', `unknown directory handle ${fh}`);
    return d;
  }

  // ---- names -----------------------------------------------------------------------------------------

  private checkName(name: string): void {
    if (name.length === 0 || name.includes('/') || name.includes('\0')) throw new Errno('EINVAL', 'bad name');
    if (name === '.' || name === '..') throw new Errno('EINVAL', `'${name}' cannot be created or removed here`);
  }

  lookup(_ctx: RequestContext, parent: number, name: string): Entry {
    const p = this.t.getDir(parent);
    if (name === '.' || name === '..') {
      // With export support the kernel may ask for these; answer from the table so the root's '..' stays the
      // root and nothing above SOURCE is ever named.
      let target = p;
      if (name === '..' && p !== this.t.root) {
        const a = p.aliases[0];
        if (!a) throw new Errno('ESTALE', 'parent unknown');
        target = this.t.revive(a.parent);
      }
      const st = this.t.stat(target);
      target.nlookup++;
      return this.entry(target, st);
    }
    // '' would name the directory itself, '/' would walk further: the kernel sends neither
    if (name.length === 0 || name.includes('/') || name.includes('\0')) throw new Errno('EINVAL', 'bad name');
    const st = fs.lstatSync(`${this.t.procDir(p)}/${name}`, BIG_NOTHROW);
    if (!st) {
      if (this.timeout > 0) return this.negative();
      throw new Errno('ENOENT');
    }
    const inode = this.t.intern(st, p, name);
    inode.nlookup++;
    return this.entry(inode, st);
  }

  forget(ino: number, nlookup: number): void {
    let inode: Inode;
    try {
      inode = this.t.get(ino);
    } catch {
      return;
    }
    this.t.forget(inode, nlookup);
  }

  getattr(_ctx: RequestContext, ino: number, fh: number | undefined): Attr {
    if (fh !== undefined) {
      const h = this.files.get(fh);
      if (h) return toAttr(fs.fstatSync(h.fd, BIG), this.timeout);
    }
    return toAttr(this.t.stat(this.t.get(ino)), this.timeout);
  }

  setattr(_ctx: RequestContext, ino: number, set: SetAttr): Attr {
    const inode = this.t.get(ino);
    inode.xattrNames = undefined; // chown/truncate drop security.capability, chmod rewrites an ACL
    const h = set.fh !== undefined ? this.files.get(set.fh) : undefined;
    if (set.mode !== undefined) {
      const mode = set.mode & 0o7777;
      if (h) fs.fchmodSync(h.fd, mode);
      else if (inode.type === S_IFLNK) throw new Errno('EOPNOTSUPP', 'symlinks have no mode');
      else this.t.withPath(inode, (p) => fs.chmodSync(p, mode));
    }
    if (set.uid !== undefined || set.gid !== undefined) {
      const uid = set.uid ?? -1;
      const gid = set.gid ?? -1;
      // chown on the magic link of an O_PATH fd changes a symlink itself, not its target (measured)
      if (h) fs.fchownSync(h.fd, uid, gid);
      else this.t.withPath(inode, (p) => fs.chownSync(p, uid, gid));
    }
    if (set.size !== undefined) {
      const size = set.size;
      if (h && (h.flags & O_ACCMODE) !== O_RDONLY) fs.ftruncateSync(h.fd, size);
      else this.t.withPath(inode, (p) => fs.truncateSync(p, size));
    }
    if (set.atime !== undefined || set.mtime !== undefined) {
      // utimensat with a timespec pair: node's utimes take float seconds and lose nanoseconds
      const ts = ops.timespecPair(
        typeof set.atime === 'object' ? set.atime.sec : 0,
        set.atime === undefined ? ops.UTIME_OMIT : set.atime === 'now' ? ops.UTIME_NOW : set.atime.nsec,
        typeof set.mtime === 'object' ? set.mtime.sec : 0,
        set.mtime === undefined ? ops.UTIME_OMIT : set.mtime === 'now' ? ops.UTIME_NOW : set.mtime.nsec,
      );
      if (h) ops.futimens(h.fd, ts);
      else this.t.withPath(inode, (p) => ops.utimensat(ops.AT_FDCWD, p, ts, 0));
    }
    // ctime cannot be set; the calls above update it.
    let st = h ? fs.fstatSync(h.fd, BIG) : this.t.stat(inode);
    if (set.killSuidgid && set.mode === undefined && this.killSuidgid(inode, st, h)) {
      st = h ? fs.fstatSync(h.fd, BIG) : this.t.stat(inode);
    }
    return toAttr(st, this.timeout);
  }

  /**
   * FATTR_KILL_SUIDGID / FUSE_WRITE_KILL_SUIDGID: drop S_ISUID, and S_ISGID when group-executable. This
   * process usually has CAP_FSETID, so the source filesystem would not do it for us.
   */
  private killSuidgid(inode: Inode, st: BigIntStats, h: FileHandle | undefined): boolean {
    const mode = Number(st.mode);
    if ((mode & S_IFMT) !== S_IFREG) return false;
    const kill = S_ISUID | (mode & S_IXGRP ? S_ISGID : 0);
    if (!(mode & kill)) return false;
    const m = mode & 0o7777 & ~kill;
    if (h) fs.fchmodSync(h.fd, m);
    else this.t.withPath(inode, (p) => fs.chmodSync(p, m));
    return true;
  }

  readlink(_ctx: RequestContext, ino: number): Uint8Array {
    const inode = this.t.get(ino);
    if (inode.type !== S_IFLNK) throw new Errno('EINVAL');
    // readlink of the magic link would give the fd's path, not the content: read through the parent and
    // check that the name still is this symlink (a swap in between could only yield another symlink's
    // text from the same directory, never anything outside SOURCE).
    for (const a of inode.aliases.slice()) {
      const path = `${this.t.procDir(a.parent)}/${a.name}`;
      const st = fs.lstatSync(path, BIG_NOTHROW);
      if (st && sameFile(st, inode)) return fs.readlinkSync(path, { encoding: 'buffer' });
      this.t.removeAlias(inode, a.parent, a.name);
    }
    throw new Errno('ESTALE');
  }

  // ---- creating --------------------------------------------------------------------------------------

  /**
   * Gives a new object to the requester: owner ctx.uid, group ctx.gid unless the parent directory is
   * set-group-ID (then the group the source filesystem gave it, the directory's), and the permission bits
   * asked for (this process's own umask may have removed some).
   *
   * Why create-then-chown rather than setfsuid/setfsgid around the call: setfsuid is per thread and ffi-rs
   * runs on the JS thread, so it would work, but it costs four FFI calls (~20 µs) per create, and it drops
   * this process's capabilities without taking on the requester's supplementary groups, so a create the
   * kernel allowed through a supplementary group (default_permissions) would fail here with EACCES. The
   * kernel has already checked the requester's permission to create; the chown only fixes the owner. A
   * non-root server cannot chown, and files then belong to it, as with passthrough_hp run by a user.
   */
  private finishNew(ctx: RequestContext, parent: Inode, name: string, type: number, perm: number | undefined): Entry {
    const dirMode = Number(fs.fstatSync(this.t.dirFd(parent), BIG).mode);
    const fd = fs.openSync(`${this.t.procDir(parent)}/${name}`, O_PATH | O_NOFOLLOW | (type === S_IFDIR ? O_DIRECTORY : 0));
    let keep = false;
    try {
      let st = fs.fstatSync(fd, BIG);
      if ((Number(st.mode) & S_IFMT) !== type) throw new Errno('EIO', `${name} changed type while being created`);
      const magic = `/proc/self/fd/${fd}`;
      if (this.fixOwner(ctx, dirMode, st, (u, g) => fs.chownSync(magic, u, g))) st = fs.fstatSync(fd, BIG);
      if (perm !== undefined && this.fixPerm(st, perm, (m) => fs.chmodSync(magic, m))) st = fs.fstatSync(fd, BIG);
      const inode = this.t.intern(st, parent, name);
      inode.nlookup++;
      if (type === S_IFDIR && inode.dirFd < 0) {
        this.t.cacheDirFd(inode, fd); // likely used next (mkdir -p, untar)
        keep = true;
      }
      return this.entry(inode, st);
    } finally {
      if (!keep) fs.closeSync(fd);
    }
  }

  private fixOwner(ctx: RequestContext, dirMode: number, st: BigIntStats, chown: (uid: number, gid: number) => void): boolean {
    if (!this.asRoot) return false;
    const gid = dirMode & S_ISGID ? -1 : ctx.gid;
    if (Number(st.uid) === ctx.uid && (gid === -1 || Number(st.gid) === gid)) return false;
    chown(ctx.uid, gid);
    return true;
  }

  /** perm = mode & ~umask & 07777 as asked; returns true when a chmod was needed. */
  private fixPerm(st: BigIntStats, perm: number, chmod: (mode: number) => void): boolean {
    const mode = Number(st.mode);
    const type = mode & S_IFMT;
    if (type === S_IFLNK) return false;
    const actual = mode & 0o7777;
    // mkdir keeps only rwx and sticky from the mode and inherits set-group-ID from its parent (Linux)
    const want = type === S_IFDIR ? (perm & 0o1777) | (actual & S_ISGID) : perm;
    if (actual === want) return false;
    chmod(want);
    return true;
  }

  /**
   * The permission bits to create with: mode & ~umask, except below a directory with a default ACL, where
   * POSIX says the umask is not applied (the ACL masks the mode; the source filesystem does that), and no
   * chmod may follow (it would overwrite the ACL's mask). Returns undefined perm-fix in that case.
   */
  private createPerm(dir: Inode, mode: number, umask: number): { perm: number; fix: number | undefined } {
    const raw = mode & 0o7777;
    if ((raw & umask & 0o777) === 0 && this.procUmaskHarmless(raw)) return { perm: raw, fix: raw };
    if (this.hasDefaultAcl(dir)) return { perm: raw, fix: undefined };
    const perm = raw & ~umask;
    return { perm, fix: perm };
  }

  /** True when this process's umask cannot have removed bits from `perm` (then no check is needed). */
  private procUmaskHarmless(perm: number): boolean {
    return (perm & this.procUmask) === 0;
  }

  private hasDefaultAcl(dir: Inode): boolean {
    if (dir.defaultAcl === undefined) {
      // cached per directory; setxattr/removexattr of the ACL through this filesystem reset it
      try {
        this.t.withPath(dir, (p) => ops.getxattr(p, 'system.posix_acl_default', this.xattrBuf()));
        dir.defaultAcl = true;
      } catch (e) {
        dir.defaultAcl = errCode(e) === 'ERANGE';
      }
    }
    return dir.defaultAcl;
  }

  mknod(ctx: RequestContext, parent: number, name: string, mode: number, rdev: number, umask: number): Entry {
    const p = this.t.getDir(parent);
    this.checkName(name);
    const type = mode & S_IFMT || S_IFREG;
    if (type === S_IFDIR) return this.mkdir(ctx, parent, name, mode, umask);
    const { perm, fix } = this.createPerm(p, mode, umask);
    const { major, minor } = splitKernelDev(rdev);
    ops.mknodat(this.t.dirFd(p), name, type | perm, ops.makedev(major, minor));
    return this.finishNew(ctx, p, name, type, fix);
  }

  mkdir(ctx: RequestContext, parent: number, name: string, mode: number, umask: number): Entry {
    const p = this.t.getDir(parent);
    this.checkName(name);
    const { perm, fix } = this.createPerm(p, mode, umask);
    fs.mkdirSync(`${this.t.procDir(p)}/${name}`, perm & 0o1777);
    return this.finishNew(ctx, p, name, S_IFDIR, fix);
  }

  symlink(ctx: RequestContext, parent: number, name: string, target: string): Entry {
    const p = this.t.getDir(parent);
    this.checkName(name);
    fs.symlinkSync(target, `${this.t.procDir(p)}/${name}`);
    return this.finishNew(ctx, p, name, S_IFLNK, undefined);
  }

  link(_ctx: RequestContext, ino: number, newParent: number, newName: string): Entry {
    const inode = this.t.get(ino);
    const np = this.t.getDir(newParent);
    this.checkName(newName);
    if (inode.isDir) throw new Errno('EPERM', 'hard link to a directory');
    const npfd = this.t.dirFd(np);
    this.t.pin(np);
    try {
      // linkat through the magic link with AT_SYMLINK_FOLLOW links exactly this inode (also a symlink)
      this.t.withPath(inode, (src) => ops.linkat(ops.AT_FDCWD, src, npfd, newName, ops.AT_SYMLINK_FOLLOW));
      const st = fs.lstatSync(`/proc/self/fd/${npfd}/${newName}`, BIG);
      if (!sameFile(st, inode)) throw new Errno('EIO', `${newName} changed while being linked`);
      this.t.addAlias(inode, np, newName);
      this.t.rekey(inode);
      inode.nlookup++;
      return this.entry(inode, st);
    } finally {
      this.t.unpin(np);
    }
  }

  // ---- removing and renaming -------------------------------------------------------------------------

  unlink(_ctx: RequestContext, parent: number, name: string): void {
    this.remove(parent, name, false);
  }

  rmdir(_ctx: RequestContext, parent: number, name: string): void {
    this.remove(parent, name, true);
  }

  private remove(parent: number, name: string, isDir: boolean): void {
    const p = this.t.getDir(parent);
    this.checkName(name);
    const path = `${this.t.procDir(p)}/${name}`;
    // who is going away: needed so a reused inode number gets a new nodeid (ext4 reuses them at once)
    const st = fs.lstatSync(path, BIG);
    if (isDir) fs.rmdirSync(path);
    else fs.unlinkSync(path);
    this.gone(p, name, st);
  }

  /** Bookkeeping after (parent, name), which was `st`, stopped existing. */
  private gone(parent: Inode, name: string, st: BigIntStats): void {
    const victim = this.t.find(st);
    if (!victim) return;
    this.t.removeAlias(victim, parent, name);
    if (victim.isDir || Number(st.nlink) <= 1) {
      this.t.detach(victim);
      if (victim.isDir) this.t.dropDirFd(victim);
    }
  }

  rename(_ctx: RequestContext, parent: number, name: string, newParent: number, newName: string, flags: number): void {
    const p = this.t.getDir(parent);
    const np = this.t.getDir(newParent);
    this.checkName(name);
    this.checkName(newName);
    const pfd = this.t.dirFd(p);
    this.t.pin(p);
    try {
      const npfd = this.t.dirFd(np);
      const from = `/proc/self/fd/${pfd}/${name}`;
      const to = `/proc/self/fd/${npfd}/${newName}`;
      const sst = fs.lstatSync(from, BIG);
      const dst = fs.lstatSync(to, BIG_NOTHROW);
      if (flags === 0) fs.renameSync(from, to);
      else ops.renameat2(pfd, name, npfd, newName, flags);
      if (dst && dst.ino === sst.ino && dst.dev === sst.dev) return; // two links of one file: nothing moved
      const src = this.t.find(sst);
      if (flags & RENAME_EXCHANGE) {
        const other = dst && this.t.find(dst);
        if (src) this.t.moveAlias(src, p, name, np, newName);
        if (other) this.t.moveAlias(other, np, newName, p, name);
        return;
      }
      if (dst) this.gone(np, newName, dst);
      if (src) this.t.moveAlias(src, p, name, np, newName);
      // RENAME_WHITEOUT left a whiteout at (p, name): nothing known about it until looked up
    } finally {
      this.t.unpin(p);
    }
  }

  // ---- files -----------------------------------------------------------------------------------------

  /** Flag adjustments shared by open and create. */
  private openFlags(flags: number): number {
    let f = flags & ~(O_CREAT | O_EXCL | O_NOCTTY | O_NOFOLLOW);
    if (this.writeback) {
      // The writeback cache may READ through a write-only open, and does O_APPEND itself (as passthrough_hp).
      if ((f & O_ACCMODE) === O_WRONLY) f = (f & ~O_ACCMODE) | O_RDWR;
      f &= ~O_APPEND;
    }
    return f;
  }

  private newHandle(inode: Inode, fd: number, flags: number): OpenReply {
    const h: FileHandle = { fd, inode, flags, backing: false };
    this.files.set(fd, h);
    (inode.openFds ??= new Set()).add(fd);
    const reply: OpenReply = { fh: fd, flags: 0 };
    if (this.passthroughOn && inode.type === S_IFREG && inode.backingRefs === 0 && this.mayLoseSuidgid(fd)) {
      // Writes through a passthrough file never reach us, and with HANDLE_KILLPRIV_V2 the kernel leaves
      // dropping suid/sgid on write to us (the backing file is written with our CAP_FSETID, which keeps
      // them): serve such a file ourselves (WRITE carries FUSE_WRITE_KILL_SUIDGID). Readers too, since once
      // an inode has a passthrough open the kernel wants FOPEN_PASSTHROUGH for every later open (EIO
      // otherwise), and direct I/O, because a cached-I/O open would make later passthrough opens fail. Left
      // open: a file that becomes suid while it already has passthrough opens.
      reply.flags = FOPEN.DIRECT_IO;
      return reply;
    }
    if (this.passthroughOn && inode.type === S_IFREG && this.backing(h)) {
      // open in passthrough mode must not keep a stale page cache (passthrough_hp does the same)
      reply.flags = FOPEN.PASSTHROUGH;
      reply.backingId = inode.backingId;
      return reply;
    }
    let f = 0;
    if (flags & O_DIRECT) f |= FOPEN.DIRECT_IO | FOPEN.PARALLEL_DIRECT_WRITES;
    else if (this.timeout > 0) f |= FOPEN.KEEP_CACHE;
    reply.flags = f;
    return reply;
  }

  /** The file is set-user-ID, or set-group-ID and group-executable: a write by a non-owner must drop that. */
  private mayLoseSuidgid(fd: number): boolean {
    const mode = Number(fs.fstatSync(fd, BIG).mode);
    return (mode & S_ISUID) !== 0 || (mode & (S_ISGID | S_IXGRP)) === (S_ISGID | S_IXGRP);
  }

  /** One backing id per inode, shared by its opens; false (serve I/O ourselves) when it cannot be had. */
  private backing(h: FileHandle): boolean {
    const inode = h.inode;
    if (inode.backingRefs > 0) {
      inode.backingRefs++;
      h.backing = true;
      return true;
    }
    try {
      inode.backingId = this.conn!.backingOpen!(h.fd);
      inode.backingRefs = 1;
      h.backing = true;
      return true;
    } catch (e) {
      const c = errCode(e);
      // a property of the connection (no privilege, no support): stop asking; otherwise (e.g. stacking depth
      // of one file) keep trying for other files
      if (c === 'EPERM' || c === 'ENOTTY' || c === 'ENOSYS' || c === 'EOPNOTSUPP' || c === 'EINVAL') this.passthroughOn = false;
      this.warnOnce('backing', `FUSE_DEV_IOC_BACKING_OPEN failed (${c ?? String(e)}); reads and writes are served by tsfuse`);
      return false;
    }
  }

  private dropBacking(h: FileHandle): void {
    if (!h.backing) return;
    h.backing = false;
    const inode = h.inode;
    if (--inode.backingRefs > 0) return;
    const id = inode.backingId;
    inode.backingId = 0;
    try {
      this.conn?.backingClose?.(id);
    } catch (e) {
      this.warnOnce('backing-close', `FUSE_DEV_IOC_BACKING_CLOSE failed (${errCode(e) ?? String(e)})`);
    }
  }

  open(_ctx: RequestContext, ino: number, flags: number, openFlags = 0): OpenReply {
    const inode = this.t.get(ino);
    const f = this.openFlags(flags);
    if (f & O_TRUNC) inode.xattrNames = undefined;
    const fd = this.t.openExact(inode, f, true);
    if (f & O_TRUNC && openFlags & FUSE_OPEN_KILL_SUIDGID) this.killSuidgidFd(inode, fd, f);
    return this.newHandle(inode, fd, f);
  }

  /** FUSE_OPEN_KILL_SUIDGID with O_TRUNC: this process (CAP_FSETID) truncating keeps the bits otherwise. */
  private killSuidgidFd(inode: Inode, fd: number, flags: number): void {
    try {
      this.killSuidgid(inode, fs.fstatSync(fd, BIG), { fd, inode, flags, backing: false });
    } catch (e) {
      this.closeQuiet(fd);
      throw e;
    }
  }

  create(ctx: RequestContext, parent: number, name: string, mode: number, umask: number, flags: number, openFlags = 0): CreateReply {
    const p = this.t.getDir(parent);
    this.checkName(name);
    const { perm, fix } = this.createPerm(p, mode, umask);
    const f = this.openFlags(flags);
    const path = `${this.t.procDir(p)}/${name}`;
    let fd: number;
    let created = true;
    try {
      fd = fs.openSync(path, f | O_CREAT | O_EXCL | O_NOFOLLOW, perm);
    } catch (e) {
      if (errCode(e) !== 'EEXIST' || flags & O_EXCL) throw e;
      // open(O_CREAT) of an existing file (the kernel's dentry was negative or stale): a plain open
      fd = fs.openSync(path, f | O_NOFOLLOW | O_NONBLOCK);
      created = false;
    }
    try {
      let st = created ? this.adoptCreated(ctx, p, fd, fix) : fs.fstatSync(fd, BIG);
      const inode = this.t.intern(st, p, name);
      if (!created) inode.xattrNames = undefined; // O_TRUNC
      if (!created && f & O_TRUNC && openFlags & FUSE_OPEN_KILL_SUIDGID && this.killSuidgid(inode, st, { fd, inode, flags: f, backing: false })) {
        st = fs.fstatSync(fd, BIG);
      }
      return this.createReply(inode, st, fd, f);
    } catch (e) {
      this.closeQuiet(fd);
      throw e;
    }
  }

  /** CREATE/TMPFILE answer: the entry (one lookup) and the open handle of the same file. */
  private createReply(inode: Inode, st: BigIntStats, fd: number, flags: number): CreateReply {
    inode.nlookup++;
    const entry = this.entry(inode, st);
    return { ...this.newHandle(inode, fd, flags), entry };
  }

  /** A file this server just created (open fd) goes to the caller's uid/gid and gets the mode asked for. */
  private adoptCreated(ctx: RequestContext, p: Inode, fd: number, fix: number | undefined): BigIntStats {
    let st = fs.fstatSync(fd, BIG);
    const dirMode = Number(fs.fstatSync(this.t.dirFd(p), BIG).mode);
    if (this.fixOwner(ctx, dirMode, st, (u, g) => fs.fchownSync(fd, u, g))) st = fs.fstatSync(fd, BIG);
    if (fix !== undefined && this.fixPerm(st, fix, (m) => fs.fchmodSync(fd, m))) st = fs.fstatSync(fd, BIG);
    return st;
  }

  tmpfile(ctx: RequestContext, parent: number, mode: number, umask: number, flags: number): CreateReply {
    const p = this.t.getDir(parent);
    const { perm, fix } = this.createPerm(p, mode, umask);
    const f = this.openFlags(flags);
    const fd = fs.openSync(this.t.procDir(p), f | O_TMPFILE, perm);
    try {
      const st = this.adoptCreated(ctx, p, fd, fix);
      const inode = this.t.intern(st, undefined, '');
      return this.createReply(inode, st, fd, f);
    } catch (e) {
      this.closeQuiet(fd);
      throw e;
    }
  }

  read(_ctx: RequestContext, _ino: number, fh: number, offset: number, size: number): Uint8Array {
    const h = this.file(fh);
    const buf = Buffer.allocUnsafe(size);
    const n = fs.readSync(h.fd, buf, 0, size, offset);
    return n === size ? buf : buf.subarray(0, n);
  }

  write(_ctx: RequestContext, _ino: number, fh: number, offset: number, data: Uint8Array, writeFlags: number, _flags: number): number {
    const h = this.file(fh);
    h.inode.xattrNames = undefined; // a write drops security.capability
    const n = fs.writeSync(h.fd, data, 0, data.length, offset);
    if (writeFlags & WriteFlags.mask.KILL_SUIDGID) this.killSuidgid(h.inode, fs.fstatSync(h.fd, BIG), h);
    return n;
  }

  /**
   * FLUSH comes with every close(2) of the file by a client. libfuse's passthrough_hp does close(dup(fd)),
   * which matters only where close reports delayed write errors (NFS) — node has no dup, and a source on a
   * local filesystem gains nothing from it, so data-wise this is a no-op. What close(2) must do here is POSIX
   * lock semantics: closing any fd releases all of that process's locks on the file. The kernel does not send
   * an unlock for FUSE-held POSIX locks at close, so the owner's lock description is closed here.
   */
  flush(_ctx: RequestContext, _ino: number, fh: number, lockOwner: number): void {
    const h = this.files.get(fh);
    if (h) this.dropLockOwner(h.inode, lockOwner);
  }

  release(_ctx: RequestContext, _ino: number, fh: number, _flags: number, releaseFlags: number, _lockOwner: number): void {
    const h = this.files.get(fh);
    if (!h) return;
    this.files.delete(fh);
    const inode = h.inode;
    inode.openFds?.delete(h.fd);
    this.dropBacking(h);
    if (releaseFlags & ReleaseFlags.mask.FLOCK_UNLOCK) {
      try {
        ops.flock(h.fd, ops.LOCK_UN);
      } catch {
        /* closing releases it anyway */
      }
    }
    fs.closeSync(h.fd);
    if (!inode.openFds?.size && inode.lockFds) {
      for (const fd of inode.lockFds.values()) this.closeQuiet(fd);
      inode.lockFds = undefined;
      inode.lockPids = undefined;
    }
  }

  fsync(_ctx: RequestContext, _ino: number, fh: number, datasync: boolean): void {
    const h = this.file(fh);
    if (datasync) fs.fdatasyncSync(h.fd);
    else fs.fsyncSync(h.fd);
  }

  fallocate(_ctx: RequestContext, _ino: number, fh: number, offset: number, length: number, mode: number): void {
    const h = this.file(fh);
    h.inode.xattrNames = undefined;
    ops.fallocate(h.fd, mode, offset, length);
  }

  lseek(_ctx: RequestContext, _ino: number, fh: number, offset: number, whence: number): number {
    return ops.lseek(this.file(fh).fd, offset, whence);
  }

  copyFileRange(
    _ctx: RequestContext,
    _inoIn: number,
    fhIn: number,
    offIn: number,
    _inoOut: number,
    fhOut: number,
    offOut: number,
    len: number,
    flags: number,
  ): number {
    const out = this.file(fhOut);
    out.inode.xattrNames = undefined;
    return ops.copyFileRange(this.file(fhIn).fd, offIn, out.fd, offOut, len, flags);
  }

  // ---- directories -----------------------------------------------------------------------------------

  opendir(_ctx: RequestContext, ino: number, _flags: number): OpenReply {
    const inode = this.t.getDir(ino);
    const fd = fs.openSync(this.t.procDir(inode), O_RDONLY | O_DIRECTORY);
    const rootIno = inode === this.t.root ? this.t.root.ino : undefined;
    this.dirs.set(fd, new DirStream(fd, inode, rootIno));
    return { fh: fd, flags: this.timeout > 0 ? FOPEN.KEEP_CACHE | FOPEN.CACHE_DIR : 0 };
  }

  readdir(_ctx: RequestContext, _ino: number, fh: number, offset: number, out: DirentSink): void {
    const d = this.dir(fh);
    if (!d.seek(offset)) return;
    let added = 0;
    for (;;) {
      try {
        if (!d.more()) return;
      } catch (e) {
        if (added === 0) throw e;
        return; // report what fits; the error comes back on the next call
      }
      if (!out.add(d.ino, d.name, d.mode, d.next)) return;
      d.consume();
      added++;
    }
  }

  readdirplus(_ctx: RequestContext, _ino: number, fh: number, offset: number, out: DirentPlusSink): void {
    const d = this.dir(fh);
    if (!d.seek(offset)) return;
    const dirPath = `/proc/self/fd/${d.fd}`;
    let added = 0;
    for (;;) {
      try {
        if (!d.more()) return;
      } catch (e) {
        if (added === 0) throw e;
        return;
      }
      const name = d.name;
      if (name === '.' || name === '..') {
        // the kernel ignores the attributes of these and counts no lookup (ino 0)
        const e: Entry = {
          ino: 0,
          attr: { ino: d.ino, mode: d.mode, nlink: 0, uid: 0, gid: 0, size: 0, atime: 0, mtime: 0, ctime: 0 },
        };
        if (!out.add(name, e, d.next)) return;
        d.consume();
        added++;
        continue;
      }
      let st: BigIntStats | undefined;
      try {
        st = fs.lstatSync(`${dirPath}/${name}`, BIG_NOTHROW);
      } catch (e) {
        if (added === 0) throw e;
        return;
      }
      if (!st) {
        d.consume(); // removed since getdents: skip it
        continue;
      }
      const inode = this.t.intern(st, d.inode, name);
      inode.nlookup++;
      if (!out.add(name, this.entry(inode, st), d.next)) {
        this.t.forget(inode, 1); // did not fit: not counted by the kernel
        return;
      }
      d.consume();
      added++;
    }
  }

  releasedir(_ctx: RequestContext, _ino: number, fh: number, _flags: number): void {
    const d = this.dirs.get(fh);
    if (!d) return;
    this.dirs.delete(fh);
    fs.closeSync(d.fd);
  }

  fsyncdir(_ctx: RequestContext, _ino: number, fh: number, datasync: boolean): void {
    const d = this.dir(fh);
    if (datasync) fs.fdatasyncSync(d.fd);
    else fs.fsyncSync(d.fd);
  }

  // ---- filesystem-wide -------------------------------------------------------------------------------

  statfs(_ctx: RequestContext, ino: number): StatFs {
    const s = this.t.withPath(this.t.get(ino), (p) => ops.statfs(p));
    return {
      blocks: s.blocks,
      bfree: s.bfree,
      bavail: s.bavail,
      files: s.files,
      ffree: s.ffree,
      bsize: s.bsize,
      namelen: s.namelen,
      frsize: s.frsize,
    };
  }

  syncfs(_ctx: RequestContext, _ino: number): void {
    const fd = fs.openSync(`/proc/self/fd/${this.t.rootFd}`, O_RDONLY | O_DIRECTORY);
    try {
      ops.syncfs(fd);
    } finally {
      fs.closeSync(fd);
    }
  }

  // ---- extended attributes ---------------------------------------------------------------------------
  // Through the inode's magic link with the following variants: exact, also for symlinks (a symlink's own
  // xattrs, as lgetxattr would give).

  private xattrBuf(): Buffer {
    // most values are small (ACLs, capabilities, labels); larger ones take a second call after ERANGE
    return (this.xbuf ??= Buffer.allocUnsafe(1024));
  }

  /**
   * Runs a read-only xattr call. Directories and open files go through their fd's magic link (exact). Other
   * inodes go through `/proc/self/fd/<parent>/<name>` with the l* variant: it cannot leave SOURCE (the last
   * component is not followed) and it saves the temporary O_PATH fd that an exact path costs (~7 µs on top
   * of ~8 µs of FFI; ls -l asks two xattrs per file). If the name was replaced directly in the source since
   * the kernel's lookup, the answer is the new file's: the same staleness any path-based passthrough has.
   * ENOENT (the name is gone) retries the exact way, which also repairs the aliases.
   */
  private readXattr(inode: Inode, call: (path: string, nofollow: boolean) => number): number {
    if (!inode.isDir && !inode.openFds?.size && inode.aliases.length) {
      const a = inode.aliases[0];
      const r = call(`${this.t.procDir(a.parent)}/${a.name}`, true);
      if (r !== -ENOENT) return r;
    }
    return this.t.withPath(inode, (p) => call(p, false));
  }

  /** listxattr; throws an Errno. */
  private listNames(inode: Inode): string[] {
    let buf = this.xattrBuf();
    let n = this.readXattr(inode, (p, nf) => ops.listxattrRaw(p, buf, nf));
    if (n === -ERANGE) {
      buf = Buffer.allocUnsafe(XATTR_SIZE_MAX);
      n = this.readXattr(inode, (p, nf) => ops.listxattrRaw(p, buf, nf));
    }
    if (n < 0) throw new Errno(-n);
    const names: string[] = [];
    let start = 0;
    for (let i = 0; i < n; i++) {
      if (buf[i] === 0) {
        if (i > start) names.push(buf.toString('utf8', start, i));
        start = i + 1;
      }
    }
    return names;
  }

  /** The cached name set (filled by one listxattr), or undefined with nocache or when listing fails. */
  private xattrNames(inode: Inode): ReadonlySet<string> | undefined {
    if (this.nocache) return undefined;
    if (inode.xattrNames) return inode.xattrNames;
    let names: string[];
    try {
      names = this.listNames(inode);
    } catch {
      return undefined;
    }
    inode.xattrNames = names.length ? new Set(names) : NO_NAMES;
    return inode.xattrNames;
  }

  getxattr(_ctx: RequestContext, ino: number, name: string): Uint8Array {
    const inode = this.t.get(ino);
    const known = this.xattrNames(inode);
    if (known && !known.has(name)) throw ENODATA_ERR;
    let buf = this.xattrBuf();
    let n = this.readXattr(inode, (p, nf) => ops.getxattrRaw(p, name, buf, nf));
    if (n === -ERANGE) {
      buf = Buffer.allocUnsafe(XATTR_SIZE_MAX);
      n = this.readXattr(inode, (p, nf) => ops.getxattrRaw(p, name, buf, nf));
    }
    if (n >= 0) return Buffer.from(buf.subarray(0, n));
    if (n === -ENODATA) throw ENODATA_ERR;
    throw new Errno(-n);
  }

  listxattr(_ctx: RequestContext, ino: number): string[] {
    const inode = this.t.get(ino);
    const known = this.xattrNames(inode);
    if (known) return [...known];
    return this.listNames(inode);
  }

  setxattr(_ctx: RequestContext, ino: number, name: string, value: Uint8Array, flags: number): void {
    const inode = this.t.get(ino);
    inode.xattrNames = undefined;
    if (name === 'system.posix_acl_default') inode.defaultAcl = undefined;
    this.t.withPath(inode, (p) => ops.setxattr(p, name, value, flags));
  }

  removexattr(_ctx: RequestContext, ino: number, name: string): void {
    const inode = this.t.get(ino);
    inode.xattrNames = undefined;
    if (name === 'system.posix_acl_default') inode.defaultAcl = undefined;
    this.t.withPath(inode, (p) => ops.removexattr(p, name));
  }

  // ---- access ----------------------------------------------------------------------------------------

  /**
   * ACCESS is only sent without default_permissions. This process is usually root, so access(2) here would
   * say yes to everything: the check is done on the source's mode bits for the requester instead, with its
   * supplementary groups read from /proc/<pid>/status (as libfuse's fuse_req_getgroups does).
   */
  access(ctx: RequestContext, ino: number, mask: number): void {
    const st = this.t.stat(this.t.get(ino));
    const want = mask & 7;
    if (want === 0) return;
    const mode = Number(st.mode);
    if (ctx.uid === 0) {
      if (want & 1 && (mode & S_IFMT) !== S_IFDIR && !(mode & 0o111)) throw new Errno('EACCES');
      return;
    }
    let bits: number;
    if (Number(st.uid) === ctx.uid) bits = (mode >> 6) & 7;
    else if (this.inGroup(ctx, Number(st.gid))) bits = (mode >> 3) & 7;
    else bits = mode & 7;
    if ((bits & want) !== want) throw new Errno('EACCES');
  }

  private inGroup(ctx: RequestContext, gid: number): boolean {
    if (ctx.gid === gid) return true;
    try {
      const status = fs.readFileSync(`/proc/${ctx.pid}/status`, 'latin1');
      const m = /^Groups:\s*(.*)$/m.exec(status);
      return !!m && m[1].split(/\s+/).some((g) => g !== '' && Number(g) === gid);
    } catch {
      return false;
    }
  }

  // ---- locks -----------------------------------------------------------------------------------------
  //
  // POSIX locks (fcntl F_SETLK...) belong to a lock owner (a client process); conflicts are between owners,
  // an owner's own locks merge and split, and closing any of the owner's fds drops them all. Classic fcntl
  // locks taken here would all belong to this one server process, so owners could never conflict. Instead
  // each (inode, owner) gets its own open file description, reopened from the handle's fd through its magic
  // link, and the locks go on it with OFD locks (F_OFD_SETLK): OFD locks conflict between descriptions and
  // not within one, which is exactly the owner semantics. FLUSH (the owner closed an fd) closes that
  // description; the last release of the inode closes them all.
  // flock(2) locks belong to the open file, which is the client's open = our file handle: flock on its fd.
  // Nothing here blocks the thread: SETLKW and blocking flock poll with a growing delay and give up with EINTR
  // when the kernel interrupts the request.

  private lockFd(h: FileHandle, owner: number): number {
    const inode = h.inode;
    const m = (inode.lockFds ??= new Map());
    let fd = m.get(owner);
    if (fd !== undefined) return fd;
    // read and write: the owner may take read locks through one fd and write locks through another; the
    // kernel has already checked the client's fd mode (EBADF) before sending the request
    try {
      fd = fs.openSync(`/proc/self/fd/${h.fd}`, O_RDWR);
    } catch {
      fd = fs.openSync(`/proc/self/fd/${h.fd}`, h.flags & O_ACCMODE);
    }
    m.set(owner, fd);
    return fd;
  }

  private dropLockOwner(inode: Inode, owner: number): void {
    const fd = inode.lockFds?.get(owner);
    if (fd === undefined) return;
    inode.lockFds!.delete(owner);
    inode.lockPids?.delete(owner);
    this.closeQuiet(fd);
  }

  getlk(_ctx: RequestContext, _ino: number, fh: number, owner: number, lock: FileLock): FileLock {
    const h = this.file(fh);
    // the handle's own fd holds no fcntl locks, so it tests against everybody
    const fd = h.inode.lockFds?.get(owner) ?? h.fd;
    const b = ops.makeFlock(lock.type, lock.start, lockLen(lock));
    ops.fcntlLock(fd, ops.F_OFD_GETLK, b);
    const r = ops.readFlock(b);
    if (r.type === F_UNLCK) return { type: F_UNLCK, start: lock.start, end: lock.end, pid: 0 };
    return {
      type: r.type,
      start: r.start,
      end: r.len === 0 ? LOCK_EOF : r.start + r.len - 1,
      pid: this.holderPid(h.inode, owner),
    };
  }

  /** OFD locks report no pid; when exactly one other owner holds locks on the inode, it is the holder. */
  private holderPid(inode: Inode, owner: number): number {
    let pid = 0;
    let n = 0;
    for (const [o, p] of inode.lockPids ?? []) {
      if (o === owner) continue;
      pid = p;
      n++;
    }
    return n === 1 ? pid : 0;
  }

  setlk(ctx: RequestContext, _ino: number, fh: number, owner: number, lock: FileLock, sleep: boolean, isFlock: boolean): void | Promise<void> {
    const h = this.file(fh);
    if (isFlock) {
      const op = lock.type === F_UNLCK ? ops.LOCK_UN : lock.type === F_RDLCK ? ops.LOCK_SH : ops.LOCK_EX;
      if (op === ops.LOCK_UN) return ops.flock(h.fd, ops.LOCK_UN);
      const attempt = () => tryLock(() => ops.flock(this.liveFd(h), op | ops.LOCK_NB));
      if (attempt()) return;
      if (!sleep) throw new Errno('EAGAIN');
      return this.waitFor(ctx, attempt);
    }
    if (lock.type === F_UNLCK) {
      const fd = h.inode.lockFds?.get(owner);
      if (fd !== undefined) ops.fcntlLock(fd, ops.F_OFD_SETLK, ops.makeFlock(F_UNLCK, lock.start, lockLen(lock)));
      return;
    }
    const attempt = () =>
      tryLock(() => {
        this.liveFd(h);
        const fd = this.lockFd(h, owner);
        ops.fcntlLock(fd, ops.F_OFD_SETLK, ops.makeFlock(lock.type, lock.start, lockLen(lock)));
        (h.inode.lockPids ??= new Map()).set(owner, lock.pid);
      });
    if (attempt()) return;
    if (!sleep) throw new Errno('EAGAIN');
    return this.waitFor(ctx, attempt);
  }

  /** The handle's fd while the handle is still open (a waiting lock must not touch a reused fd number). */
  private liveFd(h: FileHandle): number {
    if (this.files.get(h.fd) !== h) throw new Errno('EBADF', 'file released while waiting for a lock');
    return h.fd;
  }

  private async waitFor(ctx: RequestContext, attempt: () => boolean): Promise<void> {
    let delay = 1;
    for (;;) {
      await new Promise((r) => setTimeout(r, delay));
      if (ctx.interrupted) throw new Errno('EINTR');
      if (attempt()) return;
      delay = Math.min(delay * 2, 50);
    }
  }
}

/** This process's umask, from /proc/self/status (process.umask() without an argument is deprecated). */
function readUmask(): number {
  try {
    const m = /^Umask:\s*([0-7]+)/m.exec(fs.readFileSync('/proc/self/status', 'latin1'));
    if (m) return parseInt(m[1], 8);
  } catch {
    /* fall through */
  }
  return process.umask();
}

function lockLen(lock: FileLock): number {
  return lock.end >= LOCK_EOF ? 0 : lock.end - lock.start + 1;
}

export function createPassthroughFs(opts: PassthroughOptions): PassthroughFs {
  return new PassthroughFs(opts);
}
