// PassthroughFs: mirrors a SOURCE directory read-write — tsfuse's counterpart of libfuse's
// example/passthrough_hp.cc.
//
// How inodes are found again without an fd per inode, and why nothing outside SOURCE is reachable: see
// inodes.ts. Everything here is synchronous node:fs (plus ffi-rs for what node:fs lacks, see
// src/kernel/fsops.ts), except waiting for a contended lock (SETLKW), which polls asynchronously.
//
// This file holds the operations; the parts with a job of their own are beside it: inodes.ts (the inode
// table), handles.ts (open files, FOPEN_* answers, backing ids), dir-handles.ts (open directories and the
// READDIR fill loop), xattrs.ts, locks.ts, permissions.ts (owner/mode fixes for new objects, suid/sgid
// dropping), dirstream.ts, attr.ts.
//
// One instance must serve a whole mount (embedded mode, or a single worker): nodeids and file handles live
// in this object, so several workers each with their own instance would disagree about them.

import fs, { type BigIntStats } from 'node:fs';
import { Errno, ERRNO } from '../../protocol/errno.js';
import {
  O_ACCMODE, O_CREAT, O_DIRECTORY, O_EXCL, O_NOFOLLOW, O_NONBLOCK, O_PATH, O_RDONLY, O_TMPFILE, O_TRUNC,
  RENAME_EXCHANGE, UTIME_NOW, UTIME_OMIT,
} from '../../protocol/posix.js';
import { FOPEN, ReleaseFlags, WriteFlags } from '../../protocol/abi.js';
import * as ops from '../../kernel/fsops.js';
import * as sys from './sys.js';
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
import { S_IFDIR, S_IFLNK, S_IFMT, S_IFREG } from '../types.js';
import { checkAccess, inSupplementaryGroups } from '../access.js';
import { scratchDir } from '../../kernel/scratch-dir.js';
import { negativeEntry, STABLE_TREE_TIMEOUT } from '../entries.js';
import { splitKernelDev, toAttr } from './attr.js';
import { DirHandles } from './dir-handles.js';
import { check, closeInBackground, closeQuiet } from './fd.js';
import { FileHandles } from './handles.js';
import { Inode, InodeTable, sameFile } from './inodes.js';
import { Locks } from './locks.js';
import { PermissionFixes } from './permissions.js';
import { dropCapability, Xattrs } from './xattrs.js';

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
  /** Entry and attribute timeout in seconds; default STABLE_TREE_TIMEOUT, a day (0 with nocache). */
  timeout?: number;
  /** How many directory O_PATH fds to keep open (LRU); default 1024 (an eighth of RLIMIT_NOFILE when that is lower). */
  maxDirFds?: number;
  /**
   * How many O_PATH fds of other files to keep open (LRU, filled by creates, setattr and xattr calls); default
   * half of RLIMIT_NOFILE less the directory cap, at least 16 and at most 262144 (8976 with this machine's
   * 20000): the other half is for open files, the image and the device.
   */
  maxFileFds?: number;
  /** Where one-time warnings go; default console.warn. */
  log?: (msg: string) => void;
}

const BIG = { bigint: true } as const;
const BIG_NOTHROW = { bigint: true, throwIfNoEntry: false } as const;
/** fuse_open_in.open_flags: drop suid/sgid with this O_TRUNC (HANDLE_KILLPRIV_V2, caller without CAP_FSETID). */
const FUSE_OPEN_KILL_SUIDGID = 1;

export class PassthroughFs implements Filesystem {
  readonly source: string;
  readonly timeout: number;
  readonly nocache: boolean;
  private readonly t: InodeTable;
  private readonly handles: FileHandles;
  private readonly dirs = new DirHandles();
  private readonly xattrs: Xattrs;
  private readonly fixes: PermissionFixes;
  private readonly locks: Locks;
  private readonly log: (msg: string) => void;
  private readonly warned = new Set<string>();
  /** What this instance was made from (warmUpTwin makes one alike). */
  private readonly options: PassthroughOptions;
  /** A warm-up twin's own scratch SOURCE, removed with it (destroy). */
  private scratch: string | undefined;

  constructor(opts: PassthroughOptions) {
    this.options = opts;
    this.source = fs.realpathSync(opts.source);
    if (!fs.statSync(this.source).isDirectory()) throw new Errno('ENOTDIR', `${opts.source} is not a directory`);
    this.nocache = !!opts.nocache;
    // the one place the cache lifetime is chosen: entries, attributes, negative entries, FOPEN_KEEP_CACHE
    this.timeout = this.nocache ? 0 : (opts.timeout ?? STABLE_TREE_TIMEOUT);
    this.log = opts.log ?? ((m) => console.warn(m));
    const limit = openFileLimit();
    const dirCap = Math.max(16, opts.maxDirFds ?? Math.min(1024, Math.floor(limit / 8)));
    const fileCap = Math.max(16, opts.maxFileFds ?? Math.min(262144, Math.floor(limit / 2) - dirCap));
    this.t = new InodeTable(this.source, dirCap, fileCap);
    this.handles = new FileHandles(opts.passthrough !== false, this.timeout > 0, (k, m) => this.warnOnce(k, m));
    this.xattrs = new Xattrs(this.t, this.nocache);
    this.fixes = new PermissionFixes(this.t, this.xattrs);
    this.locks = new Locks(this.handles);
  }

  /** For tests and diagnostics: inodes known, dir fds cached, open handles. */
  stats(): { inodes: number; dirFds: number; fileFds: number; files: number; dirs: number } {
    return { inodes: this.t.size, dirFds: this.t.cachedDirFds, fileFds: this.t.cachedFileFds, files: this.handles.size, dirs: this.dirs.size };
  }

  private warnOnce(key: string, msg: string): void {
    if (this.warned.has(key)) return;
    this.warned.add(key);
    this.log(`tsfuse passthrough: ${msg}`);
  }

  // ---- lifecycle -------------------------------------------------------------------------------------

  init(conn: ConnectionInfo): void {
    this.handles.init(conn);
  }

  destroy(): void {
    for (const h of this.handles.all()) {
      closeQuiet(h.fd);
      this.locks.closeAll(h.inode);
    }
    this.dirs.closeAll();
    this.handles.clear();
    this.t.close();
    if (this.scratch !== undefined) fs.rmSync(this.scratch, { recursive: true, force: true });
    this.scratch = undefined;
  }

  /** Filesystem.warmUpWrites: a twin works in its own scratch directory, so it takes the write walk. */
  warmUpWrites(): boolean {
    return this.scratch !== undefined;
  }

  /**
   * Filesystem.warmUpTwin: an instance with this one's settings (cache lifetime, kernel passthrough, fd caps)
   * over a fresh empty scratch directory of its own (src/kernel/scratch-dir.ts), never this one's SOURCE; its
   * destroy removes that directory and whatever the warm-up left in it.
   */
  warmUpTwin(): PassthroughFs {
    const dir = scratchDir('tsfuse-warm-pt-');
    try {
      const twin = new PassthroughFs({ ...this.options, source: dir });
      twin.scratch = twin.source;
      return twin;
    } catch (e) {
      fs.rmSync(dir, { recursive: true, force: true });
      throw e;
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
    // statx relative to the directory's fd, into a reused buffer: no procfs walk, no BigInt Stats (see rename)
    const r = sys.statAt(this.t.dirFd(p), name);
    if (r === -ERRNO.ENOENT) {
      if (this.timeout > 0) return negativeEntry(this.timeout);
      throw Errno.shared(ERRNO.ENOENT);
    }
    if (r < 0) throw new Errno(-r);
    const inode = this.t.internKey(sys.nameStat.dev, sys.nameStat.ino, sys.statMode() & S_IFMT, p, name);
    inode.nlookup++;
    return this.statxEntry(inode);
  }

  /** The entry of `inode` from the statx just made (sys.statAt/statFd): no Stats object, no BigInt. */
  private statxEntry(inode: Inode): Entry {
    return { ino: inode.id, generation: 0, attr: sys.statAttr(this.timeout), entryTimeout: this.timeout, attrTimeout: this.timeout };
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
      const h = this.handles.find(fh);
      if (h) return this.attrOfFd(h.fd);
    }
    const inode = this.t.get(ino);
    const fd = this.t.heldFd(inode);
    return fd >= 0 ? this.attrOfFd(fd) : toAttr(this.t.stat(inode), this.timeout);
  }

  /** fstat of `fd` as attributes: statx into a reused buffer, no BigInt Stats (see lookup). */
  private attrOfFd(fd: number): Attr {
    const r = sys.statFd(fd);
    if (r < 0) throw new Errno(-r);
    return sys.statAttr(this.timeout);
  }

  /**
   * Every change goes to the inode itself: through the open handle's fd when the kernel names one, else
   * through the magic link of the inode's cached O_PATH fd (inodes.ts), so a chmod, utimens or truncate of a
   * file used before is the call itself plus one fstat.
   */
  setattr(_ctx: RequestContext, ino: number, set: SetAttr): Attr {
    const inode = this.t.get(ino);
    // chown and truncate drop security.capability (chmod and times change no xattr names)
    if (set.uid !== undefined || set.gid !== undefined || set.size !== undefined) dropCapability(inode);
    const h = set.fh !== undefined ? this.handles.find(set.fh) : undefined;
    if (set.mode !== undefined) {
      const mode = set.mode & 0o7777;
      if (h) check(sys.chmodFd(h.fd, mode));
      else if (inode.type === S_IFLNK) throw new Errno('EOPNOTSUPP', 'symlinks have no mode');
      else check(this.t.withFd(inode, (fd) => sys.chmodFd(fd, mode)));
    }
    if (set.uid !== undefined || set.gid !== undefined) {
      const uid = set.uid ?? -1;
      const gid = set.gid ?? -1;
      // on an O_PATH fd with AT_EMPTY_PATH: a symlink's own owner, not its target's
      check(h ? sys.chownFd(h.fd, uid, gid) : this.t.withFd(inode, (fd) => sys.chownFd(fd, uid, gid)));
    }
    if (set.size !== undefined) {
      const size = set.size;
      if (h && (h.flags & O_ACCMODE) !== O_RDONLY) fs.ftruncateSync(h.fd, size);
      else check(this.t.withPath(inode, (p) => sys.truncate(p, size)));
    }
    if (set.atime !== undefined || set.mtime !== undefined) {
      // utimensat with a timespec pair: node's utimes take float seconds and lose nanoseconds
      const { atime, mtime } = set;
      const aSec = typeof atime === 'object' ? atime.sec : 0;
      const aNsec = atime === undefined ? UTIME_OMIT : atime === 'now' ? UTIME_NOW : atime.nsec;
      const mSec = typeof mtime === 'object' ? mtime.sec : 0;
      const mNsec = mtime === undefined ? UTIME_OMIT : mtime === 'now' ? UTIME_NOW : mtime.nsec;
      const at = (fd: number): number => sys.utimensFd(fd, aSec, aNsec, mSec, mNsec);
      check(h ? at(h.fd) : this.t.withFd(inode, at));
    }
    // ctime cannot be set; the calls above update it.
    if (!(set.killSuidgid && set.mode === undefined)) {
      const fd = h ? h.fd : this.t.heldFd(inode);
      if (fd >= 0) return this.attrOfFd(fd);
    }
    let st = h ? fs.fstatSync(h.fd, BIG) : this.t.stat(inode);
    if (set.killSuidgid && set.mode === undefined && this.fixes.killSuidgid(inode, st, h)) {
      st = h ? fs.fstatSync(h.fd, BIG) : this.t.stat(inode);
    }
    return toAttr(st, this.timeout);
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
    const dirMode = (): number => Number(fs.fstatSync(this.t.dirFd(parent), BIG).mode);
    const fd = check(sys.openAt(this.t.dirFd(parent), name, O_PATH | O_NOFOLLOW | (type === S_IFDIR ? O_DIRECTORY : 0), 0));
    let keep = false;
    try {
      let st = fs.fstatSync(fd, BIG);
      if ((Number(st.mode) & S_IFMT) !== type) throw new Errno('EIO', `${name} changed type while being created`);
      if (this.fixes.fixOwner(ctx, dirMode, st, (u, g) => check(sys.chownFd(fd, u, g)))) st = fs.fstatSync(fd, BIG);
      if (perm !== undefined && this.fixes.fixPerm(st, perm, (m) => check(sys.chmodFd(fd, m)))) st = fs.fstatSync(fd, BIG);
      const inode = this.t.intern(st, parent, name);
      inode.nlookup++;
      // likely used next (mkdir -p, untar, cp -p): kept, as the exact fd it is
      if (inode.pathFd < 0) {
        if (type === S_IFDIR) this.t.cacheDirFd(inode, fd);
        else this.t.cacheFileFd(inode, fd);
        keep = true;
      }
      return this.entry(inode, st);
    } finally {
      if (!keep) fs.closeSync(fd);
    }
  }

  mknod(ctx: RequestContext, parent: number, name: string, mode: number, rdev: number, umask: number): Entry {
    const p = this.t.getDir(parent);
    this.checkName(name);
    const type = mode & S_IFMT || S_IFREG;
    if (type === S_IFDIR) return this.mkdir(ctx, parent, name, mode, umask);
    const { perm, fix } = this.fixes.createPerm(p, mode, umask);
    const { major, minor } = splitKernelDev(rdev);
    ops.mknodat(this.t.dirFd(p), name, type | perm, ops.makedev(major, minor));
    return this.finishNew(ctx, p, name, type, fix);
  }

  mkdir(ctx: RequestContext, parent: number, name: string, mode: number, umask: number): Entry {
    const p = this.t.getDir(parent);
    this.checkName(name);
    const { perm, fix } = this.fixes.createPerm(p, mode, umask);
    check(sys.mkdirAt(this.t.dirFd(p), name, perm & 0o1777));
    return this.finishNew(ctx, p, name, S_IFDIR, fix);
  }

  symlink(ctx: RequestContext, parent: number, name: string, target: string): Entry {
    const p = this.t.getDir(parent);
    this.checkName(name);
    check(sys.symlinkAt(target, this.t.dirFd(p), name));
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

  /**
   * unlink or rmdir with an fd of the victim held across it: ext4 evicts a removed inode (frees its blocks
   * and the inode) in its last close, which is then ours, in the background (fd.ts closeInBackground),
   * instead of inside unlink(2)/rmdir(2) while the client waits; passthrough_hp holds an fd per inode, which
   * gives it the same. A removed directory keeps its fd until FORGET (it answers a process still in it).
   */
  private remove(parent: number, name: string, isDir: boolean): void {
    const p = this.t.getDir(parent);
    this.checkName(name);
    if (this.removeCached(p, name, isDir)) return;
    const dirfd = this.t.dirFd(p);
    const fd = check(sys.openAt(dirfd, name, O_PATH | O_NOFOLLOW | (isDir ? O_DIRECTORY : 0), 0));
    // who is going away: needed so a reused inode number gets a new nodeid (ext4 reuses them at once)
    let dev: number, ino: number, nlink: number;
    try {
      check(sys.identityFd(fd));
      ({ dev, ino, nlink } = sys.nameStat);
      check(sys.unlinkAt(dirfd, name, isDir));
    } catch (e) {
      closeQuiet(fd);
      throw e;
    }
    const victim = isDir ? this.t.findKey(dev, ino) : undefined;
    if (victim) this.t.cacheDirFd(victim, fd);
    else closeInBackground(fd);
    this.goneKey(p, name, dev, ino, nlink);
  }

  /**
   * unlink or rmdir of a name whose O_PATH fd is cached: that fd already outlives the unlink(2), so an lstat says who
   * is going away and the open, fstat and second close of `remove` are not needed (the cached fd is then
   * the last one, closed at FORGET, see `goneKey`). false, nothing done, when the name is not
   * a file we hold an fd for.
   */
  private removeCached(p: Inode, name: string, isDir: boolean): boolean {
    // relative to the directory's fd, not through /proc/self/fd/N/name (see rename)
    const dirfd = this.t.dirFd(p);
    const sr = sys.lstatAt(dirfd, name);
    if (sr < 0) throw new Errno(-sr);
    const { dev, ino, nlink } = sys.nameStat;
    const victim = this.t.findKey(dev, ino);
    // (a directory's cached fd is the one it keeps until FORGET, as `remove` would keep its own)
    if (!victim || victim.pathFd < 0 || victim.isDir !== isDir) return false;
    const ur = sys.unlinkAt(dirfd, name, isDir);
    if (ur < 0) throw new Errno(-ur);
    this.goneKey(p, name, dev, ino, nlink);
    return true;
  }

  /** Bookkeeping after (parent, name) stopped existing: the (dev, ino) it was, and its link count before. */
  private goneKey(parent: Inode, name: string, dev: number, ino: number, nlink: number): void {
    const victim = this.t.findKey(dev, ino);
    if (!victim) return;
    this.t.removeAlias(victim, parent, name);
    if (victim.isDir || nlink <= 1) {
      this.t.detach(victim);
      // A file's cached fd leaves the cache (a nameless file without a handle answers ESTALE); it is
      // closed at the kernel's FORGET (Inode.lastFd), or now, in the background, for a file the kernel
      // does not know (no FORGET will come). A removed directory is empty and has no name any more:
      // its fd is the only way left to answer fstat and READDIR (ENOENT, as the source gives) for a process
      // that still has it open or as its cwd.
      if (victim.isDir) return;
      if (victim.nlookup > 0) this.t.keepUntilForget(victim);
      else this.t.dropFd(victim, true);
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
      // Names relative to the directories' fds (statx, renameat2), not /proc/self/fd/N/name paths: each of
      // those walked procfs (/proc, self, fd, N, each revalidated) before the name, three times a RENAME,
      // and a BigInt Stats object was built for each lstat (bench/results/passthrough-writes.md, round 8).
      const sr = sys.lstatAt(pfd, name);
      if (sr < 0) throw new Errno(-sr);
      const { dev: sDev, ino: sIno } = sys.nameStat;
      const dr = sys.lstatAt(npfd, newName);
      if (dr < 0 && dr !== -ERRNO.ENOENT) throw new Errno(-dr);
      const replaced = dr === 0;
      const { dev: dDev, ino: dIno, nlink: dNlink } = sys.nameStat;
      const rr = sys.renameAt(pfd, name, npfd, newName, flags);
      if (rr < 0) throw new Errno(-rr);
      if (replaced && dIno === sIno && dDev === sDev) return; // two links of one file: nothing moved
      const src = this.t.findKey(sDev, sIno);
      if (flags & RENAME_EXCHANGE) {
        const other = replaced ? this.t.findKey(dDev, dIno) : undefined;
        if (src) this.t.moveAlias(src, p, name, np, newName);
        if (other) this.t.moveAlias(other, np, newName, p, name);
        return;
      }
      if (replaced) this.goneKey(np, newName, dDev, dIno, dNlink);
      if (src) this.t.moveAlias(src, p, name, np, newName);
      // RENAME_WHITEOUT left a whiteout at (p, name): nothing known about it until looked up
    } finally {
      this.t.unpin(p);
    }
  }

  // ---- files -----------------------------------------------------------------------------------------

  open(_ctx: RequestContext, ino: number, flags: number, openFlags = 0): OpenReply {
    const inode = this.t.get(ino);
    const f = this.handles.openFlags(flags);
    if (f & O_TRUNC) dropCapability(inode);
    const fd = this.t.openExact(inode, f, true);
    if (f & O_TRUNC && openFlags & FUSE_OPEN_KILL_SUIDGID) this.killSuidgidFd(inode, fd, f);
    return this.handles.add(inode, fd, f);
  }

  /** FUSE_OPEN_KILL_SUIDGID with O_TRUNC: this process (CAP_FSETID) truncating keeps the bits otherwise. */
  private killSuidgidFd(inode: Inode, fd: number, flags: number): void {
    try {
      this.fixes.killSuidgid(inode, fs.fstatSync(fd, BIG), { fd, inode, flags, backing: false });
    } catch (e) {
      closeQuiet(fd);
      throw e;
    }
  }

  create(ctx: RequestContext, parent: number, name: string, mode: number, umask: number, flags: number, openFlags = 0): CreateReply {
    const p = this.t.getDir(parent);
    this.checkName(name);
    const { perm, fix } = this.fixes.createPerm(p, mode, umask);
    const f = this.handles.openFlags(flags);
    const dirfd = this.t.dirFd(p);
    let fd = sys.openAt(dirfd, name, f | O_CREAT | O_EXCL | O_NOFOLLOW, perm);
    let created = true;
    if (fd === -ERRNO.EEXIST && !(flags & O_EXCL)) {
      // open(O_CREAT) of an existing file (the kernel's dentry was negative or stale): a plain open
      fd = sys.openAt(dirfd, name, f | O_NOFOLLOW | O_NONBLOCK, 0);
      created = false;
    }
    check(fd);
    try {
      let st = created ? this.adoptCreated(ctx, p, fd, fix) : fs.fstatSync(fd, BIG);
      const inode = this.t.intern(st, p, name);
      if (created) this.keepPathFd(inode, dirfd, name);
      if (!created) dropCapability(inode); // O_TRUNC
      if (!created && f & O_TRUNC && openFlags & FUSE_OPEN_KILL_SUIDGID && this.fixes.killSuidgid(inode, st, { fd, inode, flags: f, backing: false })) {
        st = fs.fstatSync(fd, BIG);
      }
      return this.createReply(inode, st, fd, f);
    } catch (e) {
      closeQuiet(fd);
      throw e;
    }
  }

  /**
   * A new file's O_PATH fd, for the setattrs that usually follow a create (tar, cp -p, install: mode and
   * times); they then skip the open and check of a first touch. Opened by its name in the directory fd and
   * checked by (dev, ino), which costs the kernel less than reopening the open fd's magic link. LOOKUP does
   * not do this (round 3 of bench/results/passthrough-writes.md): a find or ls -l would pay an open and a
   * close per file it never changes.
   */
  private keepPathFd(inode: Inode, dirfd: number, name: string): void {
    if (inode.pathFd >= 0) return;
    const pathFd = sys.openAt(dirfd, name, O_PATH | O_NOFOLLOW, 0);
    if (pathFd < 0) return; // out of fds, or renamed meanwhile: the first setattr opens one as before
    if (sys.identityFd(pathFd) < 0 || sys.nameStat.ino !== inode.ino || sys.nameStat.dev !== inode.dev) {
      closeQuiet(pathFd);
      return;
    }
    this.t.cacheFileFd(inode, pathFd);
  }

  /** CREATE/TMPFILE answer: the entry (one lookup) and the open handle of the same file. */
  private createReply(inode: Inode, st: BigIntStats, fd: number, flags: number): CreateReply {
    inode.nlookup++;
    const entry = this.entry(inode, st);
    const open = this.handles.add(inode, fd, flags, Number(st.mode));
    // Spelled out, not spread: a spread clone plus a new field made a fresh hidden class per create.
    return { fh: open.fh, flags: open.flags, backingId: open.backingId, entry };
  }

  /** A file this server just created (open fd) goes to the caller's uid/gid and gets the mode asked for. */
  private adoptCreated(ctx: RequestContext, p: Inode, fd: number, fix: number | undefined): BigIntStats {
    let st = fs.fstatSync(fd, BIG);
    const dirMode = (): number => Number(fs.fstatSync(this.t.dirFd(p), BIG).mode);
    if (this.fixes.fixOwner(ctx, dirMode, st, (u, g) => fs.fchownSync(fd, u, g))) st = fs.fstatSync(fd, BIG);
    if (fix !== undefined && this.fixes.fixPerm(st, fix, (m) => fs.fchmodSync(fd, m))) st = fs.fstatSync(fd, BIG);
    return st;
  }

  tmpfile(ctx: RequestContext, parent: number, mode: number, umask: number, flags: number): CreateReply {
    const p = this.t.getDir(parent);
    const { perm, fix } = this.fixes.createPerm(p, mode, umask);
    const f = this.handles.openFlags(flags);
    const fd = fs.openSync(this.t.procDir(p), f | O_TMPFILE, perm);
    try {
      const st = this.adoptCreated(ctx, p, fd, fix);
      const inode = this.t.intern(st, undefined, '');
      return this.createReply(inode, st, fd, f);
    } catch (e) {
      closeQuiet(fd);
      throw e;
    }
  }

  read(_ctx: RequestContext, _ino: number, fh: number, offset: number, size: number): Uint8Array {
    const h = this.handles.get(fh);
    const buf = Buffer.allocUnsafe(size);
    const n = fs.readSync(h.fd, buf, 0, size, offset);
    return n === size ? buf : buf.subarray(0, n);
  }

  write(_ctx: RequestContext, _ino: number, fh: number, offset: number, data: Uint8Array, writeFlags: number, _flags: number): number {
    const h = this.handles.get(fh);
    dropCapability(h.inode);
    const n = fs.writeSync(h.fd, data, 0, data.length, offset);
    if (writeFlags & WriteFlags.mask.KILL_SUIDGID) this.fixes.killSuidgid(h.inode, fs.fstatSync(h.fd, BIG), h);
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
    const h = this.handles.find(fh);
    if (h) this.locks.dropOwner(h.inode, lockOwner);
  }

  release(_ctx: RequestContext, _ino: number, fh: number, _flags: number, releaseFlags: number, _lockOwner: number): void {
    const h = this.handles.remove(fh);
    if (!h) return;
    const inode = h.inode;
    if (releaseFlags & ReleaseFlags.mask.FLOCK_UNLOCK) {
      try {
        ops.flock(h.fd, ops.LOCK_UN);
      } catch {
        /* closing releases it anyway */
      }
    }
    fs.closeSync(h.fd);
    if (!inode.openFds?.size && inode.lockFds) this.locks.closeAll(inode);
  }

  fsync(_ctx: RequestContext, _ino: number, fh: number, datasync: boolean): void {
    const h = this.handles.get(fh);
    if (datasync) fs.fdatasyncSync(h.fd);
    else fs.fsyncSync(h.fd);
  }

  fallocate(_ctx: RequestContext, _ino: number, fh: number, offset: number, length: number, mode: number): void {
    const h = this.handles.get(fh);
    dropCapability(h.inode);
    ops.fallocate(h.fd, mode, offset, length);
  }

  lseek(_ctx: RequestContext, _ino: number, fh: number, offset: number, whence: number): number {
    return ops.lseek(this.handles.get(fh).fd, offset, whence);
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
    const out = this.handles.get(fhOut);
    dropCapability(out.inode);
    return ops.copyFileRange(this.handles.get(fhIn).fd, offIn, out.fd, offOut, len, flags);
  }

  // ---- directories -----------------------------------------------------------------------------------

  opendir(_ctx: RequestContext, ino: number, _flags: number): OpenReply {
    const inode = this.t.getDir(ino);
    const fd = fs.openSync(this.t.procDir(inode), O_RDONLY | O_DIRECTORY);
    const rootIno = inode === this.t.root ? this.t.root.ino : undefined;
    return { fh: this.dirs.add(fd, inode, rootIno), flags: this.timeout > 0 ? FOPEN.KEEP_CACHE | FOPEN.CACHE_DIR : 0 };
  }

  readdir(_ctx: RequestContext, _ino: number, fh: number, offset: number, out: DirentSink): void {
    this.dirs.fill(fh, offset, (d) => out.add(d.ino, d.name, d.mode, d.next));
  }

  readdirplus(_ctx: RequestContext, _ino: number, fh: number, offset: number, out: DirentPlusSink): void {
    this.dirs.fill(fh, offset, (d) => {
      const name = d.name;
      if (name === '.' || name === '..') {
        // the kernel ignores the attributes of these and counts no lookup (ino 0)
        const e: Entry = {
          ino: 0,
          attr: { ino: d.ino, mode: d.mode, nlink: 0, uid: 0, gid: 0, size: 0, atime: 0, mtime: 0, ctime: 0 },
        };
        return out.add(name, e, d.next);
      }
      // relative to the listed directory's fd, into statx's reused buffer (see lookup)
      const r = sys.statAt(d.fd, name);
      if (r === -ERRNO.ENOENT) return 'skip'; // removed since getdents
      if (r < 0) throw new Errno(-r);
      const inode = this.t.internKey(sys.nameStat.dev, sys.nameStat.ino, sys.statMode() & S_IFMT, d.inode, name);
      inode.nlookup++;
      if (out.add(name, this.statxEntry(inode), d.next)) return true;
      this.t.forget(inode, 1); // did not fit: not counted by the kernel
      return false;
    });
  }

  releasedir(_ctx: RequestContext, _ino: number, fh: number, _flags: number): void {
    this.dirs.release(fh);
  }

  fsyncdir(_ctx: RequestContext, _ino: number, fh: number, datasync: boolean): void {
    const d = this.dirs.get(fh);
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

  // ---- extended attributes (xattrs.ts) ----------------------------------------------------------------

  getxattr(_ctx: RequestContext, ino: number, name: string): Uint8Array {
    return this.xattrs.get(this.t.get(ino), name);
  }

  listxattr(_ctx: RequestContext, ino: number): string[] {
    return this.xattrs.list(this.t.get(ino));
  }

  setxattr(_ctx: RequestContext, ino: number, name: string, value: Uint8Array, flags: number): void {
    this.xattrs.set(this.t.get(ino), name, value, flags);
  }

  removexattr(_ctx: RequestContext, ino: number, name: string): void {
    this.xattrs.remove(this.t.get(ino), name);
  }

  // ---- access ----------------------------------------------------------------------------------------

  /** Mode bits of the source for the requester, with its supplementary groups (see ../access.ts). */
  access(ctx: RequestContext, ino: number, mask: number): void {
    const st = this.t.stat(this.t.get(ino));
    checkAccess(ctx, { mode: Number(st.mode), uid: Number(st.uid), gid: Number(st.gid) }, mask, inSupplementaryGroups);
  }



  // ---- locks (locks.ts) ---------------------------------------------------------------------------------

  getlk(_ctx: RequestContext, _ino: number, fh: number, owner: number, lock: FileLock): FileLock {
    return this.locks.getlk(this.handles.get(fh), owner, lock);
  }

  setlk(ctx: RequestContext, _ino: number, fh: number, owner: number, lock: FileLock, sleep: boolean, isFlock: boolean): void | Promise<void> {
    return this.locks.setlk(ctx, this.handles.get(fh), owner, lock, sleep, isFlock);
  }
}

export function createPassthroughFs(opts: PassthroughOptions): PassthroughFs {
  return new PassthroughFs(opts);
}

/**
 * This process's RLIMIT_NOFILE soft limit (Node raises it to the hard limit at start), from /proc/self/limits;
 * 8192 when it cannot be read or is unlimited, which gives the caps of earlier versions (1024 and 3072).
 */
function openFileLimit(): number {
  try {
    const m = /^Max open files\s+(\d+)/m.exec(fs.readFileSync('/proc/self/limits', 'latin1'));
    if (m) return Number(m[1]);
  } catch {
    /* no procfs */
  }
  return 8192;
}
