// The passthrough filesystem's inode table and how an inode is turned back into something the OS can use.
//
// Why not one fd per inode (libfuse's passthrough_hp keeps an O_PATH fd for every inode the kernel knows):
// RLIMIT_NOFILE is capped at 20000 here, and a client that stats a 100k-file tree makes the kernel hold 100k
// inodes, so that design fails with EMFILE. Instead each inode remembers
//   - its identity in the source: (st_dev, st_ino), checked after every resolution, and
//   - where it was last seen: one or more aliases (parent inode, name). Directories have exactly one alias
//     (they cannot be hard-linked); files keep a few (hard links), most recent first.
// and the table keeps two bounded caches of verified O_PATH fds (fd-cache.ts): directories (default 1024)
// and other files (default: half of RLIMIT_NOFILE less that, 8976 here), the latter filled when a file is made here (CREATE, MKNOD, SYMLINK: the fd
// comes from the new file itself) or on first exact use (setattr, xattrs), so that a chmod, utimens or
// truncate of a recently used file is one call on its magic link plus an fstat, as with an fd per inode,
// while a tree of 100k inodes still needs no more fds than the caps.
//
// Resolving, from cheapest to most exact:
//   - getattr: statx(fd, "", AT_EMPTY_PATH) of the cached fd when there is one (sys.ts: into a reused buffer,
//     no BigInt Stats); else lstat(fullPath) where fullPath joins the aliases up to SOURCE (a string, cached per inode and
//     invalidated by a global epoch whenever a directory moves). lstat never follows the last component, and
//     the result is used only when its (dev, ino) equals the inode's, so even if someone swapped a directory
//     in SOURCE for a symlink, nothing outside SOURCE is revealed: a mismatch falls back to the exact path.
//     ~2.4 µs against ~4 µs through /proc/self/fd.
//   - lookup/readdirplus/create/mkdir/symlink/mknod/unlink/rmdir/rename: the single component `name` relative
//     to the directory's fd, which never contains '/' and is never '.' or '..' (those are answered from the
//     table), through the *at syscalls with the fd itself (statx, openat, mkdirat, symlinkat, renameat2,
//     unlinkat through koffi, sys.ts; mknodat through fsops). What is left of `/proc/self/fd/<dirfd>/<name>`
//     (the first open of an inode through an alias, readlink, link's check, uncached xattr reads) makes the
//     kernel walk procfs first, ~2.7 µs a call (bench/micro/proc-paths.ts). Calls that do not follow the last
//     component (lstat, unlink, rmdir, rename, mkdir, symlink, mknod, O_NOFOLLOW opens) cannot leave SOURCE,
//     whatever the source tree contains.
//   - everything that must act on the inode itself (chmod, chown, truncate, utimens, xattrs, statfs, link):
//     a verified fd for the inode (its cached O_PATH fd, a file handle's fd, or a new O_PATH|O_NOFOLLOW fd
//     opened through an alias, checked, and cached). chmod, chown and utimens take that fd with AT_EMPTY_PATH
//     (withFd); the others go through its magic link `/proc/self/fd/<fd>` (withPath). Either way the call
//     lands on exactly that inode (for a symlink: the symlink itself, measured), so it cannot be redirected.
//   A directory fd is opened from its parent's fd the same way (O_PATH|O_NOFOLLOW|O_DIRECTORY) and its
//   (dev, ino) is checked before it is cached, so a rename race cannot redirect it. Renames done through the
//   filesystem update the aliases; renames done behind our back show up as a mismatch: the alias is dropped
//   and the operation answers ESTALE (the kernel then looks the name up again).
//
// All of this is synchronous: a filesystem method runs to completion before the next one starts, so a cached
// fd cannot be closed under a caller, except by the caller itself resolving another directory (rename and
// link pin the first directory while they resolve the second).

import fs, { type BigIntStats } from 'node:fs';
import { Errno } from '../../protocol/errno.js';
import { O_DIRECTORY, O_NOFOLLOW, O_NONBLOCK, O_PATH } from '../../protocol/posix.js';
import { S_IFDIR, S_IFLNK, S_IFMT } from '../types.js';
import { FdCache } from './fd-cache.js';

const BIG = { bigint: true } as const;
const BIG_NOTHROW = { bigint: true, throwIfNoEntry: false } as const;
const MAX_FILE_ALIASES = 8;
const NO_ALIASES: readonly Alias[] = Object.freeze([]);

export interface Alias {
  parent: Inode;
  name: string;
}

export class Inode {
  /** Lookups the kernel holds (LOOKUP, CREATE, MKDIR... and accepted READDIRPLUS entries; FORGET gives back). */
  nlookup = 0;
  /** Where the inode was last seen, most recent first; at most one for a directory. Replaced, not mutated,
   * while it has at most one element (the empty one is shared). */
  aliases: readonly Alias[] | Alias[] = NO_ALIASES;
  /** Cached verified O_PATH fd of the inode itself (fd-cache.ts), -1 when not cached. */
  pathFd = -1;
  /**
   * A removed file's cached fd, out of the cache (nothing resolves through it) and closed at FORGET, which
   * follows the UNLINK's reply: its close (ext4's eviction) then runs on the serving thread once the client
   * has its answer, cheaper than the pool's wake-ups (bench/results/passthrough-writes.md, round 7). -1: none.
   */
  lastFd = -1;
  /** Second-chance bit of the fd cache. */
  ref = false;
  /** While > 0 the cached fd is not evicted. */
  pins = 0;
  /** Cached absolute path (valid while pathEpoch matches the table's). */
  path: string | undefined = undefined;
  pathEpoch = -1;
  /** fds of open file handles on this inode (used to reach an unlinked file, and for exact reopen). */
  openFds: Set<number> | undefined = undefined;
  /** Kernel passthrough backing id shared by all opens of this inode, and how many opens use it. */
  backingId = 0;
  backingRefs = 0;
  /** POSIX lock owner -> the open file description that holds that owner's locks (see PassthroughFs.setlk). */
  lockFds: Map<number, number> | undefined = undefined;
  lockPids: Map<number, number> | undefined = undefined;
  /**
   * The inode's xattr names as last listed (not with nocache): GETXATTR of a name not in it answers ENODATA
   * without a syscall (ls -l asks two per file). Reset by anything that may change xattrs through us.
   */
  xattrNames: ReadonlySet<string> | undefined = undefined;
  /** Directories: whether system.posix_acl_default is set (undefined = not checked yet). */
  defaultAcl: boolean | undefined = undefined;
  /** In the (dev, ino) map; false once the last link is gone (the inode number may be reused). */
  keyed = true;
  /** In the nodeid map; false after the last FORGET. */
  live = true;

  constructor(
    readonly id: number,
    readonly dev: number,
    readonly ino: number,
    readonly type: number,
  ) {}

  get isDir(): boolean {
    return this.type === S_IFDIR;
  }
}

export function sameFile(st: BigIntStats, inode: Inode): boolean {
  return Number(st.ino) === inode.ino && Number(st.dev) === inode.dev;
}

function stale(what: string): Errno {
  return new Errno('ESTALE', what);
}

/** Errors from resolving a path component that mean "this alias no longer leads to the inode". */
function isGone(err: unknown): boolean {
  const code = (err as { code?: string }).code;
  return code === 'ENOENT' || code === 'ENOTDIR' || code === 'ELOOP' || code === 'ESTALE';
}

export class InodeTable {
  readonly root: Inode;
  readonly rootFd: number;
  private readonly byId = new Map<number, Inode>();
  private readonly byKey = new Map<number, Map<number, Inode>>();
  private nextId = 2;
  private readonly dirFds: FdCache<Inode>;
  private readonly fileFds: FdCache<Inode>;
  /** Bumped whenever a directory changes place: cached paths below it are then stale. */
  private pathEpoch = 0;

  constructor(
    readonly source: string,
    maxDirFds: number,
    maxFileFds: number,
  ) {
    this.dirFds = new FdCache(maxDirFds);
    this.fileFds = new FdCache(maxFileFds);
    this.rootFd = fs.openSync(source, O_PATH | O_DIRECTORY);
    const st = fs.fstatSync(this.rootFd, BIG);
    this.root = new Inode(1, Number(st.dev), Number(st.ino), S_IFDIR);
    this.root.nlookup = 1;
    this.byId.set(1, this.root);
    this.keyOf(this.root.dev).set(this.root.ino, this.root);
  }

  get size(): number {
    return this.byId.size;
  }

  get cachedDirFds(): number {
    return this.dirFds.size;
  }

  get cachedFileFds(): number {
    return this.fileFds.size;
  }

  private keyOf(dev: number): Map<number, Inode> {
    let m = this.byKey.get(dev);
    if (!m) this.byKey.set(dev, (m = new Map()));
    return m;
  }

  /** The inode for a FUSE nodeid; ESTALE for an id the table does not know. */
  get(id: number): Inode {
    const i = this.byId.get(id);
    if (!i) throw stale(`unknown nodeid ${id}`);
    return i;
  }

  getDir(id: number): Inode {
    const i = this.get(id);
    if (!i.isDir) throw new Errno('ENOTDIR');
    return i;
  }

  find(st: BigIntStats): Inode | undefined {
    return this.byKey.get(Number(st.dev))?.get(Number(st.ino));
  }

  /** find, by the numbers (sys.lstatAt's nameStat). */
  findKey(dev: number, ino: number): Inode | undefined {
    return this.byKey.get(dev)?.get(ino);
  }

  /**
   * The inode for a stat result, created when new, with (parent, name) recorded as its latest alias. The
   * caller counts the lookup (nlookup++) when it hands an Entry to the kernel.
   */
  intern(st: BigIntStats, parent: Inode | undefined, name: string): Inode {
    return this.internKey(Number(st.dev), Number(st.ino), Number(st.mode) & S_IFMT, parent, name);
  }

  /** intern, by the numbers: the file's (dev, ino) and its S_IFMT type. */
  internKey(dev: number, ino: number, type: number, parent: Inode | undefined, name: string): Inode {
    const m = this.keyOf(dev);
    let inode = m.get(ino);
    if (inode && inode.type !== type) {
      // The source reused the inode number for a different kind of file behind our back.
      this.detach(inode);
      inode = undefined;
    }
    if (!inode) {
      inode = new Inode(this.nextId++, dev, ino, type);
      m.set(ino, inode);
      this.byId.set(inode.id, inode);
    } else if (!inode.live) {
      this.revive(inode);
    }
    if (parent) this.addAlias(inode, parent, name);
    return inode;
  }

  /** Puts a forgotten inode object back (lookup of '..' through a child's alias). */
  revive(inode: Inode): Inode {
    if (inode.live) return inode;
    const m = this.keyOf(inode.dev);
    const other = m.get(inode.ino);
    if (other && other !== inode) return other;
    inode.live = true;
    inode.keyed = true;
    m.set(inode.ino, inode);
    this.byId.set(inode.id, inode);
    return inode;
  }

  addAlias(inode: Inode, parent: Inode, name: string): void {
    if (inode === this.root) return;
    const a = inode.aliases;
    if (a.length && a[0].parent === parent && a[0].name === name) return;
    inode.path = undefined;
    if (inode.isDir || a.length === 0) {
      if (inode.isDir && a.length) this.pathEpoch++; // it moved: paths below it change
      inode.aliases = [{ parent, name }];
      return;
    }
    const rest = a.filter((x) => x.parent !== parent || x.name !== name);
    rest.unshift({ parent, name });
    if (rest.length > MAX_FILE_ALIASES) rest.length = MAX_FILE_ALIASES;
    inode.aliases = rest;
  }

  removeAlias(inode: Inode, parent: Inode, name: string): void {
    const k = inode.aliases.findIndex((x) => x.parent === parent && x.name === name);
    if (k < 0) return;
    inode.aliases = inode.aliases.length === 1 ? NO_ALIASES : inode.aliases.filter((_, i) => i !== k);
    inode.path = undefined;
    if (inode.isDir) this.pathEpoch++;
  }

  /** After a rename: the alias (from, fromName) becomes (to, toName). */
  moveAlias(inode: Inode, from: Inode, fromName: string, to: Inode, toName: string): void {
    if (inode.isDir) {
      inode.aliases = [{ parent: to, name: toName }];
      inode.path = undefined;
      this.pathEpoch++;
      return;
    }
    this.removeAlias(inode, from, fromName);
    this.addAlias(inode, to, toName);
  }

  /** The last link is gone: a new file may get the same (dev, ino) and must get a new nodeid. */
  detach(inode: Inode): void {
    if (!inode.keyed) return;
    inode.keyed = false;
    const m = this.byKey.get(inode.dev);
    if (m?.get(inode.ino) === inode) m.delete(inode.ino);
  }

  /** A detached inode got a name again (link of an O_TMPFILE): make it findable by (dev, ino) again. */
  rekey(inode: Inode): void {
    if (inode.keyed || !inode.live) return;
    const m = this.keyOf(inode.dev);
    if (m.has(inode.ino)) return;
    m.set(inode.ino, inode);
    inode.keyed = true;
  }

  forget(inode: Inode, n: number): void {
    if (inode === this.root) return;
    inode.nlookup -= n;
    if (inode.nlookup > 0) return;
    inode.nlookup = 0;
    if (!inode.live) return;
    inode.live = false;
    this.byId.delete(inode.id);
    const removed = !inode.keyed;
    this.detach(inode);
    this.dropFd(inode, removed);
    this.closeLastFd(inode);
    // Aliases are kept: children that still name this object as their parent can resolve through it.
  }

  // ---- directory fds ---------------------------------------------------------------------------------

  pin(inode: Inode): void {
    inode.pins++;
  }

  unpin(inode: Inode): void {
    inode.pins--;
  }

  /** A verified O_PATH fd for a directory inode (cached). ESTALE when its alias chain no longer leads to it. */
  dirFd(inode: Inode): number {
    if (inode === this.root) return this.rootFd;
    if (inode.pathFd >= 0) {
      inode.ref = true;
      return inode.pathFd;
    }
    if (!inode.isDir) throw new Errno('ENOTDIR');
    const chain: Inode[] = [];
    let cur = inode;
    while (cur !== this.root && cur.pathFd < 0) {
      chain.push(cur);
      const a = cur.aliases[0];
      if (!a) throw stale('directory has no known name');
      cur = a.parent;
      if (chain.length > 65536) throw new Errno('ELOOP', 'alias chain too long');
    }
    for (let i = chain.length - 1; i >= 0; i--) {
      const node = chain[i];
      const a = node.aliases[0];
      const pfd = a.parent === this.root ? this.rootFd : a.parent.pathFd;
      let fd: number;
      try {
        fd = fs.openSync(`/proc/self/fd/${pfd}/${a.name}`, O_PATH | O_NOFOLLOW | O_DIRECTORY);
      } catch (e) {
        if (isGone(e)) throw stale(`directory ${a.name} is gone`);
        throw e;
      }
      const st = fs.fstatSync(fd, BIG);
      if (!sameFile(st, node)) {
        fs.closeSync(fd);
        throw stale(`directory ${a.name} was replaced`);
      }
      this.cacheDirFd(node, fd);
    }
    if (inode.pathFd < 0) throw new Errno('EIO', 'directory fd cache lost the fd being resolved');
    return inode.pathFd;
  }

  /** `/proc/self/fd/N` of a directory inode: append `/${name}` to reach one entry without a path walk. */
  procDir(inode: Inode): string {
    return `/proc/self/fd/${this.dirFd(inode)}`;
  }

  /** Takes ownership of an O_PATH directory fd already verified to be `inode`. */
  cacheDirFd(inode: Inode, fd: number): void {
    if (inode === this.root || inode.pathFd >= 0) {
      if (fd !== inode.pathFd && fd !== this.rootFd) fs.closeSync(fd);
      return;
    }
    this.dirFds.add(inode, fd);
  }

  /**
   * Takes ownership of an O_PATH fd of a non-directory known to be `inode` (opened through a new file's own
   * fd, or verified), so that the first chmod, utimens or truncate of a file just created needs no open and
   * check of its own. An inode that has one already keeps it.
   */
  cacheFileFd(inode: Inode, fd: number): void {
    if (inode.isDir || inode.pathFd >= 0) {
      if (fd !== inode.pathFd) fs.closeSync(fd);
      return;
    }
    this.fileFds.add(inode, fd);
  }

  /**
   * A verified O_PATH fd for a non-directory inode (cached): opened through an alias with O_NOFOLLOW and
   * checked, or, for a file that has no name any more, reopened through one of its open handles.
   */
  fileFd(inode: Inode): number {
    if (inode.pathFd >= 0) {
      inode.ref = true;
      return inode.pathFd;
    }
    let fd: number;
    try {
      fd = this.openExact(inode, O_PATH);
    } catch (e) {
      const open = inode.openFds?.values().next();
      if (!open || open.done) throw e;
      fd = fs.openSync(`/proc/self/fd/${open.value}`, O_PATH);
    }
    this.fileFds.add(inode, fd);
    return fd;
  }

  /** Closes the inode's cached fd, if any; `removed`: in the background (its last close evicts it). */
  dropFd(inode: Inode, removed = false): void {
    if (inode.pathFd < 0 || inode === this.root) return;
    if (inode.isDir) this.dirFds.drop(inode, removed);
    else this.fileFds.drop(inode, removed);
  }

  /** A removed file the kernel still knows: its cached fd is held, unused, until FORGET (Inode.lastFd). */
  keepUntilForget(inode: Inode): void {
    if (inode.pathFd < 0 || inode.isDir) return;
    inode.lastFd = this.fileFds.take(inode);
  }

  private closeLastFd(inode: Inode): void {
    if (inode.lastFd < 0) return;
    try {
      fs.closeSync(inode.lastFd);
    } catch {
      /* already closed */
    }
    inode.lastFd = -1;
  }

  // ---- paths and stats -------------------------------------------------------------------------------

  /** Absolute path through the aliases (for lstat with verification only); undefined when unknown. */
  fullPath(inode: Inode): string | undefined {
    if (inode === this.root) return this.source;
    if (inode.pathEpoch === this.pathEpoch && inode.path !== undefined) return inode.path;
    const a = inode.aliases[0];
    if (!a) return undefined;
    const pp = this.fullPath(a.parent);
    if (pp === undefined) return undefined;
    const p = pp === '/' ? `/${a.name}` : `${pp}/${a.name}`;
    inode.path = p;
    inode.pathEpoch = this.pathEpoch;
    return p;
  }

  /** The fd `stat` would fstat without any check (the root's, a cached O_PATH fd), else -1. */
  heldFd(inode: Inode): number {
    if (inode === this.root) return this.rootFd;
    if (inode.pathFd < 0) return -1;
    inode.ref = true;
    return inode.pathFd;
  }

  /** lstat of the inode itself, verified; ESTALE when it cannot be reached any more. */
  stat(inode: Inode): BigIntStats {
    if (inode === this.root) return fs.fstatSync(this.rootFd, BIG);
    if (inode.pathFd >= 0) {
      inode.ref = true;
      return fs.fstatSync(inode.pathFd, BIG);
    }
    const p = this.fullPath(inode);
    if (p !== undefined) {
      try {
        const st = fs.lstatSync(p, BIG_NOTHROW);
        if (st && sameFile(st, inode)) return st;
      } catch {
        // ENAMETOOLONG, ENOTDIR, ELOOP...: take the exact way
      }
    }
    return this.statExact(inode);
  }

  private statExact(inode: Inode): BigIntStats {
    if (inode.isDir) {
      try {
        return fs.fstatSync(this.dirFd(inode), BIG);
      } catch (e) {
        if (!inode.openFds?.size) throw e;
      }
    } else {
      for (const a of inode.aliases.slice()) {
        let st: BigIntStats | undefined;
        try {
          st = fs.lstatSync(`${this.procDir(a.parent)}/${a.name}`, BIG_NOTHROW);
        } catch (e) {
          if (!isGone(e)) throw e;
        }
        if (st && sameFile(st, inode)) return st;
        this.removeAlias(inode, a.parent, a.name);
      }
    }
    if (inode.openFds) for (const fd of inode.openFds) return fs.fstatSync(fd, BIG);
    throw stale(`inode ${inode.ino} is gone from the source`);
  }

  /**
   * Runs fn with a path that reaches exactly this inode: `/proc/self/fd/N` of a verified fd. Follow-the-path
   * calls (truncate, getxattr, linkat...) on it act on the inode itself, also for symlinks. Calls that take
   * the fd with AT_EMPTY_PATH use withFd and save the procfs walk.
   */
  withPath<T>(inode: Inode, fn: (path: string) => T): T {
    return this.withFd(inode, (fd) => fn(`/proc/self/fd/${fd}`));
  }

  /**
   * Runs fn with a verified fd of this inode (its cached O_PATH fd, or an open handle's fd for a file with no
   * name left), for the calls that take one with AT_EMPTY_PATH (sys.ts chmodFd, chownFd, utimensFd): they act
   * on the inode itself, a symlink too, without withPath's magic-link walk.
   */
  withFd<T>(inode: Inode, fn: (fd: number) => T): T {
    if (inode.isDir) {
      const fd = this.dirFd(inode);
      inode.pins++;
      try {
        return fn(fd);
      } finally {
        inode.pins--;
      }
    }
    if (inode.pathFd < 0 && inode.openFds) for (const fd of inode.openFds) return fn(fd);
    const fd = this.fileFd(inode);
    inode.pins++;
    try {
      return fn(fd);
    } finally {
      inode.pins--;
    }
  }

  /**
   * Opens the inode itself with `flags` (O_NOFOLLOW is added where a name is resolved, then (dev, ino) is
   * checked). The caller owns the returned fd.
   */
  openExact(inode: Inode, flags: number, nonblock = false): number {
    if (inode.isDir) return fs.openSync(`/proc/self/fd/${this.dirFd(inode)}`, flags);
    // the cached fd is exact: reopening through it needs no name and no check
    if (!(flags & O_PATH) && inode.pathFd >= 0) return fs.openSync(`/proc/self/fd/${inode.pathFd}`, flags);
    if (!(flags & O_PATH) && inode.openFds) {
      // An open handle on the same inode reopens exactly it, even when it has no name any more.
      for (const fd of inode.openFds) return fs.openSync(`/proc/self/fd/${fd}`, flags);
    }
    // O_NONBLOCK: if someone swapped the name for a FIFO behind our back, the open must not hang the server
    // (the (dev, ino) check then rejects it). It has no effect on regular files.
    const f = flags | O_NOFOLLOW | (nonblock ? O_NONBLOCK : 0);
    for (const a of inode.aliases.slice()) {
      let fd: number;
      try {
        fd = fs.openSync(`${this.procDir(a.parent)}/${a.name}`, f);
      } catch (e) {
        if (!isGone(e)) throw e;
        // ELOOP is what opening a symlink without O_PATH gives: the name is still right
        if ((e as { code?: string }).code === 'ELOOP' && inode.type === S_IFLNK) throw e;
        this.removeAlias(inode, a.parent, a.name);
        continue;
      }
      const st = fs.fstatSync(fd, BIG);
      if (sameFile(st, inode)) return fd;
      fs.closeSync(fd);
      this.removeAlias(inode, a.parent, a.name);
    }
    throw stale(`inode ${inode.ino} is gone from the source`);
  }

  /** Closes every cached fd (destroy). */
  close(): void {
    this.dirFds.closeAll();
    this.fileFds.closeAll();
    for (const inode of this.byId.values()) this.closeLastFd(inode);
    try {
      fs.closeSync(this.rootFd);
    } catch {
      /* ignore */
    }
  }
}
