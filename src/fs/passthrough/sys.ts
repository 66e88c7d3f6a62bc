// The system calls on passthrough's request path that node:fs lacks (utimensat with nanoseconds, truncate of
// an exact inode, the xattr reads the kernel asks before every truncate and write, and the *at calls that
// name a file by fd: the O_PATH fd itself with AT_EMPTY_PATH, or one name in a directory fd), through koffi:
// ~0.25 µs a call here, where ffi-rs (src/kernel/fsops.ts) costs 3-12 µs. A `/proc/self/fd/N` path costs the
// kernel ~2.7 µs more than the same call on the fd (procfs lookup and magic-link walk; bench/micro/proc-paths.ts). Rare calls (setxattr, renameat2 with flags,
// mknodat, linkat...) stay in fsops. Each call returns 0 / a length, or -errno, and allocates nothing: the
// timespec pair is one buffer reused by every call (the filesystem's methods run one at a time per thread).

import { createRequire } from 'node:module';
import { ERRNO } from '../../protocol/errno.js';
import { AT_EMPTY_PATH, AT_REMOVEDIR, AT_SYMLINK_NOFOLLOW, O_CLOEXEC } from '../../protocol/posix.js';
import type { Attr } from '../types.js';

const require = createRequire(import.meta.url);

type Koffi = typeof import('koffi');

interface Bindings {
  koffi: Koffi;
  utimensat: (dirfd: number, path: string, times: Buffer, flags: number) => number;
  truncate: (path: string, length: number) => number;
  getxattr: (path: string, name: string, buf: Buffer, size: number) => number;
  lgetxattr: (path: string, name: string, buf: Buffer, size: number) => number;
  listxattr: (path: string, buf: Buffer, size: number) => number;
  llistxattr: (path: string, buf: Buffer, size: number) => number;
  statx: (dirfd: number, path: string, flags: number, mask: number, buf: Buffer) => number;
  renameat2: (olddirfd: number, oldpath: string, newdirfd: number, newpath: string, flags: number) => number;
  unlinkat: (dirfd: number, path: string, flags: number) => number;
  openat: (dirfd: number, path: string, flags: number, mode: number) => number;
  mkdirat: (dirfd: number, path: string, mode: number) => number;
  symlinkat: (target: string, dirfd: number, path: string) => number;
  fchownat: (dirfd: number, path: string, uid: number, gid: number, flags: number) => number;
  chmod: (path: string, mode: number) => number;
  /** syscall(2) with fchmodat2's arguments (glibc 2.36 has no wrapper for it). */
  fchmodat2: (nr: number, dirfd: number, path: string, mode: number, flags: number) => number;
}

let bindings: Bindings | undefined;

function load(): Bindings {
  if (bindings) return bindings;
  const koffi = require('koffi') as Koffi;
  const libc = koffi.load('libc.so.6');
  bindings = {
    koffi,
    utimensat: libc.func('int utimensat(int dirfd, const char *path, void *times, int flags)') as Bindings['utimensat'],
    truncate: libc.func('int truncate(const char *path, int64_t length)') as Bindings['truncate'],
    getxattr: libc.func('intptr_t getxattr(const char *path, const char *name, void *value, size_t size)') as Bindings['getxattr'],
    lgetxattr: libc.func('intptr_t lgetxattr(const char *path, const char *name, void *value, size_t size)') as Bindings['lgetxattr'],
    listxattr: libc.func('intptr_t listxattr(const char *path, void *list, size_t size)') as Bindings['listxattr'],
    llistxattr: libc.func('intptr_t llistxattr(const char *path, void *list, size_t size)') as Bindings['llistxattr'],
    statx: libc.func('int statx(int dirfd, const char *path, int flags, unsigned int mask, void *buf)') as Bindings['statx'],
    renameat2: libc.func('int renameat2(int olddirfd, const char *oldpath, int newdirfd, const char *newpath, unsigned int flags)') as Bindings['renameat2'],
    unlinkat: libc.func('int unlinkat(int dirfd, const char *path, int flags)') as Bindings['unlinkat'],
    openat: libc.func('int openat(int dirfd, const char *path, int flags, unsigned int mode)') as Bindings['openat'],
    mkdirat: libc.func('int mkdirat(int dirfd, const char *path, unsigned int mode)') as Bindings['mkdirat'],
    symlinkat: libc.func('int symlinkat(const char *target, int dirfd, const char *path)') as Bindings['symlinkat'],
    fchownat: libc.func('int fchownat(int dirfd, const char *path, unsigned int uid, unsigned int gid, int flags)') as Bindings['fchownat'],
    chmod: libc.func('int chmod(const char *path, unsigned int mode)') as Bindings['chmod'],
    // syscall(2) is variadic; its integer arguments are passed as for a fixed prototype on Linux's ABIs
    fchmodat2: libc.func('long syscall(long nr, int dirfd, const char *path, unsigned int mode, int flags)') as Bindings['fchmodat2'],
  };
  return bindings;
}

function result(b: Bindings, r: number | bigint): number {
  const n = Number(r);
  return n < 0 ? -b.koffi.errno() : n;
}

/** struct timespec[2] for utimensat, reused by every call. */
const times = Buffer.alloc(32);

function writeI64(buf: Buffer, off: number, v: number): void {
  const lo = v % 2 ** 32;
  const hi = Math.floor(v / 2 ** 32);
  buf.writeUInt32LE(lo < 0 ? lo + 2 ** 32 : lo, off);
  buf.writeInt32LE(hi, off + 4);
}

/**
 * A name's identity, from statx(2) relative to a directory fd: what RENAME needs to know of the source and
 * the target it replaces (which inode moved, which went away). statx's layout is the same on every
 * architecture; the fields are numbers read from one reused buffer, so no Stats object or BigInt is made.
 * Valid until the next lstatAt.
 */
export const nameStat = { dev: 0, ino: 0, nlink: 0 };

/** STATX_NLINK | STATX_INO: dev is always filled. */
const STATX_IDENTITY = 0x4 | 0x100;
const statxBuf = Buffer.alloc(256);

/** STATX_BASIC_STATS: every field of struct stat. */
const STATX_BASIC_STATS = 0x7ff;

/** statx(2) into the shared buffer, never following a last symlink; on success `nameStat` is filled. 0, or -errno. */
function statxInto(dirfd: number, path: string, flags: number, mask: number): number {
  const b = load();
  if (b.statx(dirfd, path, flags | AT_SYMLINK_NOFOLLOW, mask, statxBuf) < 0) return -b.koffi.errno();
  nameStat.nlink = statxBuf.readUInt32LE(16);
  nameStat.ino = statxBuf.readUInt32LE(32) + statxBuf.readUInt32LE(36) * 2 ** 32;
  nameStat.dev = makedev(statxBuf.readUInt32LE(136), statxBuf.readUInt32LE(140));
  return 0;
}

/** statx(dirfd, name, AT_SYMLINK_NOFOLLOW) of the identity only, into `nameStat`: 0, or -errno. */
export function lstatAt(dirfd: number, name: string): number {
  return statxInto(dirfd, name, 0, STATX_IDENTITY);
}

/**
 * statx(dirfd, name, AT_SYMLINK_NOFOLLOW) of every basic field: 0, or -errno. On success `nameStat` holds the
 * identity and `statAttr(timeout)` builds the attributes from the same buffer (valid until the next call).
 */
export function statAt(dirfd: number, name: string): number {
  return statxInto(dirfd, name, 0, STATX_BASIC_STATS);
}

/** statAt of the file an fd (an O_PATH one too) refers to: statx(fd, "", AT_EMPTY_PATH). 0, or -errno. */
export function statFd(fd: number): number {
  return statxInto(fd, '', AT_EMPTY_PATH, STATX_BASIC_STATS);
}

/** The file type and permission bits of the last statAt. */
export function statMode(): number {
  return statxBuf.readUInt16LE(28);
}

/** struct statx_timestamp at `off`: tv_sec (i64), tv_nsec (u32). */
function secAt(off: number): number {
  return statxBuf.readUInt32LE(off) + statxBuf.readInt32LE(off + 4) * 2 ** 32;
}

/** The attributes of the last statAt, as toAttr gives them for a Stats object (times to the nanosecond). */
export function statAttr(timeout: number): Attr {
  const rdevMajor = statxBuf.readUInt32LE(128);
  const rdevMinor = statxBuf.readUInt32LE(132);
  return {
    ino: nameStat.ino,
    mode: statxBuf.readUInt16LE(28),
    nlink: nameStat.nlink,
    uid: statxBuf.readUInt32LE(20),
    gid: statxBuf.readUInt32LE(24),
    size: statxBuf.readUInt32LE(40) + statxBuf.readUInt32LE(44) * 2 ** 32,
    blocks: statxBuf.readUInt32LE(48) + statxBuf.readUInt32LE(52) * 2 ** 32,
    // the kernel's u32 dev encoding (fuse_attr.rdev), as attr.ts kernelDev makes it
    rdev: ((rdevMinor & 0xff) | ((rdevMajor & 0xfff) << 8) | ((rdevMinor & ~0xff) << 12)) >>> 0,
    blksize: statxBuf.readUInt32LE(4),
    atime: secAt(64),
    atimeNsec: statxBuf.readUInt32LE(72),
    mtime: secAt(112),
    mtimeNsec: statxBuf.readUInt32LE(120),
    ctime: secAt(96),
    ctimeNsec: statxBuf.readUInt32LE(104),
    timeout,
  };
}

/** glibc's makedev, as a number: what Node's stat reports as `dev` (libuv builds it from statx the same way). */
function makedev(major: number, minor: number): number {
  return (major & 0xfff) * 256 + (minor & 0xff) + (minor >>> 8) * 2 ** 20 + (major >>> 12) * 2 ** 44;
}

/** renameat2(2) of single names relative to directory fds: 0, or -errno. */
export function renameAt(olddirfd: number, oldName: string, newdirfd: number, newName: string, flags: number): number {
  const b = load();
  return result(b, b.renameat2(olddirfd, oldName, newdirfd, newName, flags));
}

/** unlinkat(2) of a single name relative to a directory fd (rmdir with `dir`): 0, or -errno. */
export function unlinkAt(dirfd: number, name: string, dir: boolean): number {
  const b = load();
  return result(b, b.unlinkat(dirfd, name, dir ? AT_REMOVEDIR : 0));
}

/** truncate(2): follows the path (give it an exact inode's magic link). */
export function truncate(path: string, length: number): number {
  const b = load();
  return result(b, b.truncate(path, length));
}

/** getxattr, or lgetxattr with nofollow: the value length or -errno (ERANGE when buf is too small). */
export function getxattr(path: string, name: string, buf: Buffer, nofollow: boolean): number {
  const b = load();
  return result(b, nofollow ? b.lgetxattr(path, name, buf, buf.length) : b.getxattr(path, name, buf, buf.length));
}

/** listxattr, or llistxattr with nofollow: the list length or -errno. */
export function listxattr(path: string, buf: Buffer, nofollow: boolean): number {
  const b = load();
  return result(b, nofollow ? b.llistxattr(path, buf, buf.length) : b.listxattr(path, buf, buf.length));
}

/** openat(2) of one name in a directory fd, close-on-exec: the fd, or -errno. */
export function openAt(dirfd: number, name: string, flags: number, mode: number): number {
  const b = load();
  return result(b, b.openat(dirfd, name, flags | O_CLOEXEC, mode)); // as node:fs opens every fd
}

/** mkdirat(2) of one name in a directory fd: 0, or -errno. */
export function mkdirAt(dirfd: number, name: string, mode: number): number {
  const b = load();
  return result(b, b.mkdirat(dirfd, name, mode));
}

/** symlinkat(2): a symlink `name` in a directory fd whose content is `target`. 0, or -errno. */
export function symlinkAt(target: string, dirfd: number, name: string): number {
  const b = load();
  return result(b, b.symlinkat(target, dirfd, name));
}

/** chown of the file `fd` refers to (an O_PATH fd too; a symlink's own owner): -1 keeps a field. 0, or -errno. */
export function chownFd(fd: number, uid: number, gid: number): number {
  const b = load();
  return result(b, b.fchownat(fd, '', uid >>> 0, gid >>> 0, AT_EMPTY_PATH | AT_SYMLINK_NOFOLLOW));
}

/** fchmodat2's number on x86_64 and in asm-generic (aarch64, riscv64) alike. */
const SYS_FCHMODAT2 = 452;
/** fchmodat2 answered ENOSYS once (a kernel before 6.6): chmod through the magic link from then on. */
let noFchmodat2 = false;

/**
 * chmod of the file `fd` refers to (an O_PATH fd too): fchmodat2(fd, "", mode, AT_EMPTY_PATH). A symlink's
 * mode cannot be changed (EOPNOTSUPP). 0, or -errno.
 */
export function chmodFd(fd: number, mode: number): number {
  const b = load();
  if (!noFchmodat2) {
    const r = result(b, b.fchmodat2(SYS_FCHMODAT2, fd, '', mode, AT_EMPTY_PATH));
    if (r !== -ERRNO.ENOSYS) return r;
    noFchmodat2 = true;
  }
  return result(b, b.chmod(`/proc/self/fd/${fd}`, mode));
}

/** utimensat(fd, "", {atime, mtime}, AT_EMPTY_PATH): the times of the file `fd` refers to (a symlink's own). */
export function utimensFd(fd: number, aSec: number, aNsec: number, mSec: number, mNsec: number): number {
  const b = load();
  writeI64(times, 0, aSec);
  writeI64(times, 8, aNsec);
  writeI64(times, 16, mSec);
  writeI64(times, 24, mNsec);
  return result(b, b.utimensat(fd, '', times, AT_EMPTY_PATH));
}

/** statx(fd, "", AT_EMPTY_PATH) of the identity only, into `nameStat`: 0, or -errno. */
export function identityFd(fd: number): number {
  return statxInto(fd, '', AT_EMPTY_PATH, STATX_IDENTITY);
}
