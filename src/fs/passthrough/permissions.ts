// The mode and owner fixes passthrough applies itself because this process (root, CAP_FSETID) does the
// calls: new objects get the requester's owner and the mode asked for (why create-then-chown, see
// PassthroughFs.finishNew), and suid/sgid are dropped where the kernel leaves that to the server.

import fs, { type BigIntStats } from 'node:fs';
import { S_IXGRP } from '../../protocol/posix.js';
import { S_IFDIR, S_IFLNK, S_IFMT, S_IFREG, S_ISGID, S_ISUID, type RequestContext } from '../types.js';
import { check } from './fd.js';
import type { FileHandle } from './handles.js';
import type { Inode, InodeTable } from './inodes.js';
import * as sys from './sys.js';
import type { Xattrs } from './xattrs.js';

export class PermissionFixes {
  /** New files are created by this process and then given to the requester (chown), which only root may do. */
  private readonly asRoot = typeof process.geteuid === 'function' && process.geteuid() === 0;
  /**
   * Reading the umask is allowed in workers too (only setting it is not). Files are created with
   * mode & ~umask(request) and this process's umask applies on top: when it removes bits, a chmod follows.
   */
  private readonly procUmask = readUmask();

  constructor(private readonly t: InodeTable, private readonly xattrs: Xattrs) {}

  /**
   * FATTR_KILL_SUIDGID / FUSE_WRITE_KILL_SUIDGID: drop S_ISUID, and S_ISGID when group-executable. This
   * process usually has CAP_FSETID, so the source filesystem would not do it for us.
   */
  killSuidgid(inode: Inode, st: BigIntStats, h: FileHandle | undefined): boolean {
    const mode = Number(st.mode);
    if ((mode & S_IFMT) !== S_IFREG) return false;
    const kill = S_ISUID | (mode & S_IXGRP ? S_ISGID : 0);
    if (!(mode & kill)) return false;
    const m = mode & 0o7777 & ~kill;
    check(h ? sys.chmodFd(h.fd, m) : this.t.withFd(inode, (fd) => sys.chmodFd(fd, m)));
    return true;
  }

  /**
   * Gives a new object to the requester (uid, and gid unless the directory is set-group-ID); true when changed.
   * `dirMode` is asked only when the owner is not already right (most creates: the requester is this user).
   */
  fixOwner(ctx: RequestContext, dirMode: () => number, st: BigIntStats, chown: (uid: number, gid: number) => void): boolean {
    if (!this.asRoot) return false;
    if (Number(st.uid) === ctx.uid && Number(st.gid) === ctx.gid) return false;
    const gid = dirMode() & S_ISGID ? -1 : ctx.gid;
    if (Number(st.uid) === ctx.uid && (gid === -1 || Number(st.gid) === gid)) return false;
    chown(ctx.uid, gid);
    return true;
  }

  /** perm = mode & ~umask & 07777 as asked; returns true when a chmod was needed. */
  fixPerm(st: BigIntStats, perm: number, chmod: (mode: number) => void): boolean {
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
  createPerm(dir: Inode, mode: number, umask: number): { perm: number; fix: number | undefined } {
    const raw = mode & 0o7777;
    if ((raw & umask & 0o777) === 0 && this.procUmaskHarmless(raw)) return { perm: raw, fix: raw };
    if (this.xattrs.hasDefaultAcl(dir)) return { perm: raw, fix: undefined };
    const perm = raw & ~umask;
    return { perm, fix: perm };
  }

  /** True when this process's umask cannot have removed bits from `perm` (then no check is needed). */
  private procUmaskHarmless(perm: number): boolean {
    return (perm & this.procUmask) === 0;
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
