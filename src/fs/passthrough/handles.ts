// passthrough's open files: the handle table (fh = the fd), the flag adjustments OPEN and CREATE share, the
// FOPEN_* answer, and kernel backing ids (FOPEN_PASSTHROUGH), one per inode shared by its opens.

import fs from 'node:fs';
import { FOPEN, InitFlags } from '../../protocol/abi.js';
import { Errno } from '../../protocol/errno.js';
import {
  O_ACCMODE, O_APPEND, O_CREAT, O_DIRECT, O_EXCL, O_NOCTTY, O_NOFOLLOW, O_RDWR, O_WRONLY, S_IXGRP,
} from '../../protocol/posix.js';
import { S_IFREG, S_ISGID, S_ISUID, type ConnectionInfo, type OpenReply } from '../types.js';
import { errCode } from './fd.js';
import type { Inode } from './inodes.js';

const BIG = { bigint: true } as const;

export interface FileHandle {
  fd: number;
  inode: Inode;
  /** The flags the fd was opened with. */
  flags: number;
  /** This open holds a reference on inode.backingId. */
  backing: boolean;
}

export class FileHandles {
  private readonly files = new Map<number, FileHandle>();
  private conn: ConnectionInfo | undefined;
  private passthroughOn = false;
  private writeback = false;

  constructor(
    /** Use kernel passthrough when the connection offers it. */
    private readonly passthroughWanted: boolean,
    /** Answer FOPEN_KEEP_CACHE (the page cache outlives the open: not with nocache). */
    private readonly keepCache: boolean,
    private readonly warnOnce: (key: string, msg: string) => void,
  ) {}

  get size(): number {
    return this.files.size;
  }

  init(conn: ConnectionInfo): void {
    this.conn = conn;
    this.passthroughOn = this.passthroughWanted && conn.passthrough && typeof conn.backingOpen === 'function';
    this.writeback = InitFlags.has(conn.flags, 'WRITEBACK_CACHE');
  }

  /** The open handle `fh`, undefined when there is none. */
  find(fh: number): FileHandle | undefined {
    return this.files.get(fh);
  }

  /** The open handle `fh`; EBADF when there is none. */
  get(fh: number): FileHandle {
    const h = this.files.get(fh);
    if (!h) throw new Errno('EBADF', `unknown file handle ${fh}`);
    return h;
  }

  /** True while `h` is still the open handle of its fd (fd numbers are reused after a release). */
  isOpen(h: FileHandle): boolean {
    return this.files.get(h.fd) === h;
  }

  all(): IterableIterator<FileHandle> {
    return this.files.values();
  }

  clear(): void {
    this.files.clear();
  }

  /** Ends handle `fh` (its backing reference too); the caller closes the fd. Undefined when unknown. */
  remove(fh: number): FileHandle | undefined {
    const h = this.files.get(fh);
    if (!h) return undefined;
    this.files.delete(fh);
    h.inode.openFds?.delete(h.fd);
    this.dropBacking(h);
    return h;
  }

  /** Flag adjustments shared by open and create. */
  openFlags(flags: number): number {
    let f = flags & ~(O_CREAT | O_EXCL | O_NOCTTY | O_NOFOLLOW);
    if (this.writeback) {
      // The writeback cache may READ through a write-only open, and does O_APPEND itself (as passthrough_hp).
      if ((f & O_ACCMODE) === O_WRONLY) f = (f & ~O_ACCMODE) | O_RDWR;
      f &= ~O_APPEND;
    }
    return f;
  }

  /** Registers a new open of `inode` on `fd` and builds the OPEN answer; `mode`: st_mode when known already. */
  add(inode: Inode, fd: number, flags: number, mode?: number): OpenReply {
    const h: FileHandle = { fd, inode, flags, backing: false };
    this.files.set(fd, h);
    (inode.openFds ??= new Set()).add(fd);
    const reply: OpenReply = { fh: fd, flags: 0, backingId: 0 }; // one shape for every answer
    if (this.passthroughOn && inode.type === S_IFREG && inode.backingRefs === 0 && mayLoseSuidgid(mode ?? Number(fs.fstatSync(fd, BIG).mode))) {
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
    else if (this.keepCache) f |= FOPEN.KEEP_CACHE;
    reply.flags = f;
    return reply;
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
}

/** The file is set-user-ID, or set-group-ID and group-executable: a write by a non-owner must drop that. */
function mayLoseSuidgid(mode: number): boolean {
  return (mode & S_ISUID) !== 0 || (mode & (S_ISGID | S_IXGRP)) === (S_ISGID | S_IXGRP);
}
