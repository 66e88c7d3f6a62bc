// passthrough's extended attributes, through the inode's magic link with the following variants: exact, also
// for symlinks (a symlink's own xattrs, as lgetxattr would give). Without nocache the inode's name list is
// cached, so a GETXATTR of a name not in it answers ENODATA without a syscall (ls -l asks for ACLs and
// capabilities of every file); every change through this filesystem drops the cache. Reads go through koffi
// (sys.ts): the kernel asks for security.capability before every truncate and write.

import { ERRNO, Errno } from '../../protocol/errno.js';
import { XATTR_SIZE_MAX } from '../../protocol/posix.js';
import * as ops from '../../kernel/fsops.js';
import * as sys from './sys.js';
import type { Inode, InodeTable } from './inodes.js';

const NO_NAMES: ReadonlySet<string> = new Set();
const CAPABILITY = 'security.capability';

/**
 * A write, truncate or chown (and fallocate, copy_file_range, O_TRUNC) removes security.capability and no
 * other xattr: a cached name list without it stays right, so the GETXATTR of security.capability the kernel
 * sends before the next truncate or write is answered from it (ENODATA) instead of a listxattr.
 */
export function dropCapability(inode: Inode): void {
  if (inode.xattrNames?.has(CAPABILITY)) inode.xattrNames = undefined;
}

export class Xattrs {
  /**
   * A reusable buffer for one xattr call; most values are small (ACLs, capabilities, labels), larger ones
   * take a second call after ERANGE. Made here, not at the first call: the warm-up's twin would have taken
   * the making branch and the real instance not yet, so the compiled buf() deoptimized at the first real
   * GETXATTR ("insufficient type feedback", --trace-deopt).
   */
  private readonly xbuf = Buffer.allocUnsafe(1024);

  constructor(private readonly t: InodeTable, private readonly nocache: boolean) {}

  // Through the inode's magic link with the following variants: exact, also for symlinks (a symlink's own
  // xattrs, as lgetxattr would give).

  buf(): Buffer {
    return this.xbuf;
  }

  /**
   * Runs a read-only xattr call. Directories, open files and files with a cached fd go through their fd's
   * magic link (exact). Other inodes go through `/proc/self/fd/<parent>/<name>` with the l* variant: it cannot leave SOURCE (the last
   * component is not followed) and it saves the temporary O_PATH fd that an exact path costs (~7 µs on top
   * of ~8 µs of FFI; ls -l asks two xattrs per file). If the name was replaced directly in the source since
   * the kernel's lookup, the answer is the new file's: the same staleness any path-based passthrough has.
   * ENOENT (the name is gone) retries the exact way, which also repairs the aliases.
   */
  private readXattr(inode: Inode, call: (path: string, nofollow: boolean) => number): number {
    if (!inode.isDir && inode.pathFd < 0 && !inode.openFds?.size && inode.aliases.length) {
      const a = inode.aliases[0];
      const r = call(`${this.t.procDir(a.parent)}/${a.name}`, true);
      if (r !== -ERRNO.ENOENT) return r;
    }
    return this.t.withPath(inode, (p) => call(p, false));
  }

  /** listxattr; throws an Errno. */
  private listNames(inode: Inode): string[] {
    let buf = this.buf();
    let n = this.readXattr(inode, (p, nf) => sys.listxattr(p, buf, nf));
    if (n === -ERRNO.ERANGE) {
      buf = Buffer.allocUnsafe(XATTR_SIZE_MAX);
      n = this.readXattr(inode, (p, nf) => sys.listxattr(p, buf, nf));
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

  get(inode: Inode, name: string): Uint8Array {
    const known = this.xattrNames(inode);
    if (known && !known.has(name)) throw Errno.shared(ERRNO.ENODATA);
    let buf = this.buf();
    let n = this.readXattr(inode, (p, nf) => sys.getxattr(p, name, buf, nf));
    if (n === -ERRNO.ERANGE) {
      buf = Buffer.allocUnsafe(XATTR_SIZE_MAX);
      n = this.readXattr(inode, (p, nf) => sys.getxattr(p, name, buf, nf));
    }
    if (n >= 0) return Buffer.from(buf.subarray(0, n));
    if (n === -ERRNO.ENODATA) throw Errno.shared(ERRNO.ENODATA);
    throw new Errno(-n);
  }

  list(inode: Inode): string[] {
    const known = this.xattrNames(inode);
    if (known) return [...known];
    return this.listNames(inode);
  }

  set(inode: Inode, name: string, value: Uint8Array, flags: number): void {
    inode.xattrNames = undefined;
    if (name === 'system.posix_acl_default') inode.defaultAcl = undefined;
    this.t.withPath(inode, (p) => ops.setxattr(p, name, value, flags));
  }

  remove(inode: Inode, name: string): void {
    inode.xattrNames = undefined;
    if (name === 'system.posix_acl_default') inode.defaultAcl = undefined;
    this.t.withPath(inode, (p) => ops.removexattr(p, name));
  }

  /** Whether directory `dir` has a default ACL (cached per directory; set/remove of the ACL here reset it). */
  hasDefaultAcl(dir: Inode): boolean {
    if (dir.defaultAcl === undefined) {
      try {
        const r = this.t.withPath(dir, (p) => sys.getxattr(p, 'system.posix_acl_default', this.buf(), false));
        dir.defaultAcl = r >= 0 || r === -ERRNO.ERANGE;
      } catch {
        dir.defaultAcl = false;
      }
    }
    return dir.defaultAcl;
  }
}
