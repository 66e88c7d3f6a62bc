// memfs's state and the bookkeeping every operation shares: the inode and handle tables, lookup counts and
// when an inode is freed, building Attr/Entry replies, creating inodes (ownership, setgid inheritance) and
// the directory timestamps a change touches.
//
// Lifetime: an inode is freed when nlink == 0, no handle is open and the kernel's lookup count is 0. Inode
// numbers are never reused (generation stays 0).

import { Errno } from '../../protocol/errno.js';
import { negativeEntry } from '../entries.js';
import { S_IFDIR, S_IFMT, S_IFREG, S_ISGID, type Attr, type Entry, type RequestContext, type Timespec } from '../types.js';
import { ChunkStore } from './chunks.js';
import { atimeDue, Clock } from './clock.js';
import { BLOCK_SIZE, checkName, DIR_SIZE, DirData, type Handle, isDotName, Node, ROOT_INO } from './node.js';

/** The settings MemStore needs, resolved from MemFsOptions. */
export interface MemStoreSettings {
  entryTimeout: number;
  attrTimeout: number;
  negativeTimeout: number;
  totalBytes: number;
  maxInodes: number;
  chunkSize: number;
  copyReads: boolean;
  /** FOPEN_* answered to OPEN/CREATE and to OPENDIR. */
  openFlags: number;
  opendirFlags: number;
  root: { mode: number; uid: number; gid: number };
}

export class MemStore {
  readonly nodes = new Map<number, Node>();
  readonly handles = new Map<number, Handle>();
  readonly clock = new Clock();
  readonly data: ChunkStore;
  private nextIno = ROOT_INO + 1;
  private nextFh = 1;

  constructor(readonly settings: MemStoreSettings) {
    this.data = new ChunkStore(settings.chunkSize, settings.totalBytes, settings.copyReads);
    const { mode, uid, gid } = settings.root;
    const root = new Node(ROOT_INO, S_IFDIR | (mode & 0o7777), uid, gid, 2, this.clock.now());
    root.dir = new DirData();
    root.parent = ROOT_INO;
    root.size = DIR_SIZE;
    this.nodes.set(ROOT_INO, root);
  }

  node(ino: number): Node {
    const n = this.nodes.get(ino);
    if (!n) throw new Errno('ENOENT');
    return n;
  }

  dirNode(ino: number): Node {
    const n = this.node(ino);
    if (!n.dir) throw new Errno('ENOTDIR');
    return n;
  }

  attrOf(n: Node): Attr {
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
      timeout: this.settings.attrTimeout,
    };
  }

  /** An Entry for n, counting one lookup. */
  entryOf(n: Node): Entry {
    n.lookups++;
    return this.entryNoCount(n);
  }

  entryNoCount(n: Node): Entry {
    return {
      ino: n.ino,
      generation: n.generation,
      attr: this.attrOf(n),
      entryTimeout: this.settings.entryTimeout,
      attrTimeout: this.settings.attrTimeout,
    };
  }

  /** The answer to a lookup of a missing name: a cached negative entry when configured, else ENOENT. */
  missing(): Entry {
    if (this.settings.negativeTimeout > 0) return negativeEntry(this.settings.negativeTimeout);
    throw new Errno('ENOENT');
  }

  maybeFree(n: Node): void {
    if (n.nlink > 0 || n.opens > 0 || n.lookups > 0 || n.ino === ROOT_INO) return;
    this.nodes.delete(n.ino);
    this.data.release(n);
    n.dir = null;
    n.xattrs = null;
    n.target = null;
  }

  touchDir(dir: Node, now: Timespec): void {
    dir.mtime = now;
    dir.ctime = now;
  }

  touchAtime(n: Node): void {
    const now = this.clock.now();
    if (atimeDue(n, now)) n.atime = now;
  }

  /** Creates a new inode in `parent` (or unnamed when name is undefined), owned by the caller. */
  newNode(ctx: RequestContext, parent: Node, name: string | undefined, mode: number): Node {
    if (this.nodes.size >= this.settings.maxInodes) throw new Errno('ENOSPC');
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

  /** The parent directory a new `name` goes into, after checking the name is valid and free. */
  prepareCreate(parentIno: number, name: string): Node {
    const parent = this.dirNode(parentIno);
    checkName(name);
    if (isDotName(name) || parent.dir!.get(name)) throw new Errno('EEXIST');
    return parent;
  }

  openHandle(n: Node, flags: number, dir: boolean): number {
    const fh = this.nextFh++;
    this.handles.set(fh, { ino: n.ino, flags, dir });
    n.opens++;
    return fh;
  }

  /** Drops an open file (dir = false) or directory handle; the inode may go once nothing holds it. */
  closeHandle(fh: number, dir: boolean): void {
    const h = this.handles.get(fh);
    if (!h || h.dir !== dir) return;
    this.handles.delete(fh);
    const n = this.nodes.get(h.ino);
    if (!n) return;
    n.opens--;
    this.maybeFree(n);
  }

  /** True when `anc` is `n` or one of its ancestors (both directories). */
  isAncestor(anc: Node, n: Node): boolean {
    let cur = n;
    for (;;) {
      if (cur.ino === anc.ino) return true;
      if (cur.ino === ROOT_INO || cur.parent === cur.ino) return false;
      const p = this.nodes.get(cur.parent);
      if (!p) return false;
      cur = p;
    }
  }
}
