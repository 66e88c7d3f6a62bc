// passthrough's file locks.
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

import fs from 'node:fs';
import { Errno } from '../../protocol/errno.js';
import { F_RDLCK, F_UNLCK, O_ACCMODE, O_RDWR } from '../../protocol/posix.js';
import * as ops from '../../kernel/fsops.js';
import type { FileLock, RequestContext } from '../types.js';
import { closeQuiet, errCode } from './fd.js';
import type { FileHandle, FileHandles } from './handles.js';
import type { Inode } from './inodes.js';

/** FileLock.end of a lock that runs to the end of the file. */
const LOCK_EOF = Number.MAX_SAFE_INTEGER;

export class Locks {
  constructor(private readonly handles: FileHandles) {}

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

  /** The owner closed an fd (FLUSH): POSIX drops all its locks on the file. */
  dropOwner(inode: Inode, owner: number): void {
    const fd = inode.lockFds?.get(owner);
    if (fd === undefined) return;
    inode.lockFds!.delete(owner);
    inode.lockPids?.delete(owner);
    closeQuiet(fd);
  }

  getlk(h: FileHandle, owner: number, lock: FileLock): FileLock {
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

  setlk(ctx: RequestContext, h: FileHandle, owner: number, lock: FileLock, sleep: boolean, isFlock: boolean): void | Promise<void> {
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
    if (!this.handles.isOpen(h)) throw new Errno('EBADF', 'file released while waiting for a lock');
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

  /** The last open of `inode` is gone: close every owner's lock description. */
  closeAll(inode: Inode): void {
    for (const fd of inode.lockFds?.values() ?? []) closeQuiet(fd);
    inode.lockFds = undefined;
    inode.lockPids = undefined;
  }
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

function lockLen(lock: FileLock): number {
  return lock.end >= LOCK_EOF ? 0 : lock.end - lock.start + 1;
}
