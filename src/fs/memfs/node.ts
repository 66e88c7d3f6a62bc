// memfs's inode and directory store: what one inode holds, a directory's cookie-ordered entry list, and the
// name rules every namespace operation applies.
//
// Directories: a name -> entry map plus an append-only list ordered by a per-directory, monotonically
// increasing cookie. READDIR offsets are positions: "." is 0, ".." is 1, an entry with cookie c is at c
// (cookies start at 2), and the next offset after a position p is p + 1. Resuming at offset o emits the
// surviving entries with cookie >= o, so entries added/removed between calls never make a reader repeat or
// skip an entry that survived. Removed entries are tombstoned and the list is compacted now and then
// (compaction keeps the cookies, and a binary search finds the resume point).

import { Errno } from '../../protocol/errno.js';
import { NAME_MAX } from '../../protocol/posix.js';
import { S_IFDIR, S_IFMT, S_IFREG, S_ISGID, S_ISUID, type Timespec } from '../types.js';

export const ROOT_INO = 1;
export const BLOCK_SIZE = 4096;
/** st_size and st_blocks*512 of every directory. */
export const DIR_SIZE = 4096;
/** Largest file size/offset (numbers stay exact below 2^53). */
export const MAX_FILE_SIZE = Number.MAX_SAFE_INTEGER;
/** First cookie of a directory entry ("." is position 0, ".." position 1). */
const FIRST_COOKIE = 2;

export interface DirEnt {
  name: string;
  ino: number;
  cookie: number;
  removed: boolean;
}

export class DirData {
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

export class Node {
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

/** An open file or directory. */
export interface Handle {
  ino: number;
  flags: number;
  dir: boolean;
}

export function checkName(name: string): void {
  if (name.length === 0 || name.includes('/') || name.includes('\0')) throw new Errno('EINVAL');
  checkNameLength(name);
}

export function checkNameLength(name: string): void {
  if (name.length > NAME_MAX / 3 && Buffer.byteLength(name, 'utf8') > NAME_MAX) throw new Errno('ENAMETOOLONG');
}

export function isDotName(name: string): boolean {
  return name === '.' || name === '..';
}

export function killSuidgid(node: Node): void {
  if (node.isDir) return;
  let mode = node.mode & ~S_ISUID;
  // like the kernel: sgid without group-exec means mandatory locking, not setgid-exec; keep it
  if (mode & 0o010) mode &= ~S_ISGID;
  node.mode = mode;
}
