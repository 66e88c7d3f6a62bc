// A bounded set of O_PATH fds held by inodes (inodes.ts keeps one for directories and one for other files):
// each fd was verified to be its inode's (dev, ino) before it was added, so `/proc/self/fd/N` reaches exactly
// that inode, whatever happens to names in the source. Eviction is second-chance LRU; an inode in use
// (pins > 0) and the one just added are never evicted.

import fs from 'node:fs';
import { closeInBackground } from './fd.js';

/** What the cache needs of an inode. */
export interface FdHolder {
  /** The cached fd, -1 when none. */
  pathFd: number;
  /** Second-chance bit: used since it last came to the front of the queue. */
  ref: boolean;
  /** While > 0 the fd is not evicted. */
  pins: number;
}

export class FdCache<T extends FdHolder> {
  /** Insertion-ordered: the front is the eviction candidate. */
  private readonly held = new Map<T, true>();

  constructor(private readonly max: number) {}

  get size(): number {
    return this.held.size;
  }

  /** Takes ownership of `fd`, already verified to be `inode`. */
  add(inode: T, fd: number): void {
    inode.pathFd = fd;
    inode.ref = false;
    this.held.set(inode, true);
    if (this.held.size > this.max) this.evict(inode);
  }

  private evict(keep: T): void {
    for (const n of this.held.keys()) {
      if (this.held.size <= this.max) break;
      if (n.pins > 0 || n === keep) continue;
      if (n.ref) {
        n.ref = false;
        this.held.delete(n);
        this.held.set(n, true); // second chance: to the back of the queue
        continue;
      }
      this.drop(n);
    }
  }

  /** Takes the inode's fd out of the cache without closing it: the caller owns it now. */
  take(inode: T): number {
    const fd = inode.pathFd;
    this.held.delete(inode);
    inode.pathFd = -1;
    return fd;
  }

  /** Closes the inode's fd if it holds one; `background`: the inode was removed (fd.ts closeInBackground). */
  drop(inode: T, background = false): void {
    if (inode.pathFd < 0) return;
    this.held.delete(inode);
    if (background) closeInBackground(inode.pathFd);
    else {
      try {
        fs.closeSync(inode.pathFd);
      } catch {
        /* already closed */
      }
    }
    inode.pathFd = -1;
  }

  closeAll(): void {
    for (const n of [...this.held.keys()]) this.drop(n);
  }
}
