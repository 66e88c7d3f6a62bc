// File-system syscalls that node:fs does not offer, through ffi-rs (src/kernel/libc.ts).
//
// Every call here costs 3-12 µs (ffi-rs), so these are for rare or per-open operations: renameat2 with flags,
// mknodat, utimensat with nanoseconds, linkat through /proc/self/fd, fallocate, lseek(SEEK_DATA/HOLE),
// copy_file_range, getdents64 (one call per 32 KiB of directory), fcntl OFD locks, flock, xattrs, statfs.
// The read/write/getattr paths use node:fs.
//
// Layouts are those of x86_64 and the generic 64-bit ABI (aarch64): struct flock, struct statfs, struct
// timespec, struct linux_dirent64.

import { callLibc, callLibcRaw, ffiTypes } from './libc.js';

export { AT_FDCWD, AT_SYMLINK_NOFOLLOW, AT_REMOVEDIR, AT_SYMLINK_FOLLOW, AT_EMPTY_PATH } from '../protocol/posix.js';

/** tv_nsec values for utimensat. */
export { UTIME_NOW, UTIME_OMIT } from '../protocol/posix.js';

export const F_OFD_GETLK = 36;
export const F_OFD_SETLK = 37;
export const F_OFD_SETLKW = 38;

export const LOCK_SH = 1;
export const LOCK_EX = 2;
export const LOCK_NB = 4;
export const LOCK_UN = 8;

export const SEEK_SET = 0;
export const SEEK_DATA = 3;
export const SEEK_HOLE = 4;

// Parameter type lists are built once (ffi-rs takes them per call).
let P: ReturnType<typeof buildParams> | undefined;
function buildParams() {
  const T = ffiTypes();
  return {
    T,
    renameat2: [T.I32, T.String, T.I32, T.String, T.U32],
    mknodat: [T.I32, T.String, T.U32, T.U64],
    utimensat: [T.I32, T.String, T.U8Array, T.I32],
    futimens: [T.I32, T.U8Array],
    linkat: [T.I32, T.String, T.I32, T.String, T.I32],
    fallocate: [T.I32, T.I32, T.I64, T.I64],
    lseek: [T.I32, T.I64, T.I32],
    lseekBig: [T.I32, T.BigInt, T.I32],
    copyFileRange: [T.I32, T.U8Array, T.I32, T.U8Array, T.I64, T.U32],
    getdents64: [T.I32, T.U8Array, T.I64],
    fcntlPtr: [T.I32, T.I32, T.U8Array],
    flock: [T.I32, T.I32],
    getxattr: [T.String, T.String, T.U8Array, T.I64],
    setxattr: [T.String, T.String, T.U8Array, T.I64, T.I32],
    listxattr: [T.String, T.U8Array, T.I64],
    removexattr: [T.String, T.String],
    statfs: [T.String, T.U8Array],
    fd: [T.I32],
  };
}
function params() {
  return (P ??= buildParams());
}

/** True when ffi-rs can be used in this thread (it refuses to be opened first in a worker). */
export function fsopsAvailable(): boolean {
  try {
    params();
    return true;
  } catch {
    return false;
  }
}

/** renameat2(2). flags: RENAME_NOREPLACE 1, RENAME_EXCHANGE 2, RENAME_WHITEOUT 4. */
export function renameat2(olddirfd: number, oldpath: string, newdirfd: number, newpath: string, flags: number): void {
  const p = params();
  callLibc('renameat2', p.T.I32, p.renameat2, [olddirfd, oldpath, newdirfd, newpath, flags >>> 0]);
}

/** glibc's makedev(): dev_t from major and minor. */
export function makedev(major: number, minor: number): number {
  // (minor & 0xff) | ((major & 0xfff) << 8) | ((minor & ~0xff) << 12) | ((major & ~0xfff) << 32)
  return (minor & 0xff) + (major & 0xfff) * 0x100 + Math.floor(minor / 0x100) * 0x100000 + Math.floor(major / 0x1000) * 0x100000000000;
}

/** mknodat(2); dev is a glibc dev_t (see makedev). */
export function mknodat(dirfd: number, path: string, mode: number, dev: number): void {
  const p = params();
  callLibc('mknodat', p.T.I32, p.mknodat, [dirfd, path, mode >>> 0, dev]);
}

/** Two struct timespec (atime, mtime) for utimensat/futimens; nsec may be UTIME_NOW or UTIME_OMIT. */
export function timespecPair(aSec: number, aNsec: number, mSec: number, mNsec: number): Buffer {
  const b = Buffer.alloc(32);
  b.writeBigInt64LE(BigInt(aSec), 0);
  b.writeBigInt64LE(BigInt(aNsec), 8);
  b.writeBigInt64LE(BigInt(mSec), 16);
  b.writeBigInt64LE(BigInt(mNsec), 24);
  return b;
}

export function utimensat(dirfd: number, path: string, times: Buffer, flags: number): void {
  const p = params();
  callLibc('utimensat', p.T.I32, p.utimensat, [dirfd, path, times, flags]);
}

export function futimens(fd: number, times: Buffer): void {
  const p = params();
  callLibc('futimens', p.T.I32, p.futimens, [fd, times]);
}

export function linkat(olddirfd: number, oldpath: string, newdirfd: number, newpath: string, flags: number): void {
  const p = params();
  callLibc('linkat', p.T.I32, p.linkat, [olddirfd, oldpath, newdirfd, newpath, flags]);
}

export function fallocate(fd: number, mode: number, offset: number, length: number): void {
  const p = params();
  callLibc('fallocate', p.T.I32, p.fallocate, [fd, mode, offset, length]);
}

/** lseek(2) with a number offset (< 2^53); returns the new offset. */
export function lseek(fd: number, offset: number, whence: number): number {
  const p = params();
  return callLibc('lseek', p.T.I64, p.lseek, [fd, offset, whence]);
}

/** lseek(fd, cookie, SEEK_SET) with a full 64-bit directory cookie (ext4 hash cookies exceed 2^53). */
export function seekDirCookie(fd: number, cookie: bigint): void {
  const p = params();
  callLibc('lseek', p.T.I64, p.lseekBig, [fd, cookie, SEEK_SET]);
}

/** copy_file_range(2) with explicit offsets; returns the bytes copied. */
export function copyFileRange(fdIn: number, offIn: number, fdOut: number, offOut: number, len: number, flags: number): number {
  const p = params();
  const a = Buffer.alloc(8);
  const b = Buffer.alloc(8);
  a.writeBigInt64LE(BigInt(offIn));
  b.writeBigInt64LE(BigInt(offOut));
  return callLibc('copy_file_range', p.T.I64, p.copyFileRange, [fdIn, a, fdOut, b, len, flags >>> 0]);
}

/** getdents64(2) into buf; returns the bytes filled (0 at end of directory). */
export function getdents64(fd: number, buf: Buffer): number {
  const p = params();
  return callLibc('getdents64', p.T.I64, p.getdents64, [fd, buf, buf.length]);
}

/**
 * fcntl(fd, cmd, struct flock *) for the OFD lock commands. `lock` is a 32-byte struct flock, updated in place
 * by F_OFD_GETLK. Throws an Errno (EAGAIN when a non-blocking lock conflicts).
 */
export function fcntlLock(fd: number, cmd: number, lock: Buffer): void {
  const p = params();
  callLibc('fcntl', p.T.I32, p.fcntlPtr, [fd, cmd, lock]);
}

/** struct flock { short l_type; short l_whence; off_t l_start; off_t l_len; pid_t l_pid; } (32 bytes). */
export function makeFlock(type: number, start: number, len: number): Buffer {
  const b = Buffer.alloc(32);
  b.writeInt16LE(type, 0);
  b.writeInt16LE(SEEK_SET, 2);
  b.writeBigInt64LE(BigInt(start), 8);
  b.writeBigInt64LE(BigInt(len), 16);
  return b; // l_pid = 0, as OFD locks require
}

export function readFlock(b: Buffer): { type: number; start: number; len: number; pid: number } {
  return { type: b.readInt16LE(0), start: Number(b.readBigInt64LE(8)), len: Number(b.readBigInt64LE(16)), pid: b.readInt32LE(24) };
}

export function flock(fd: number, op: number): void {
  const p = params();
  callLibc('flock', p.T.I32, p.flock, [fd, op]);
}

/**
 * getxattr/lgetxattr without throwing: the value length, or -errno (ENODATA is the common answer and an
 * Error per miss costs more than the call).
 */
export function getxattrRaw(path: string, name: string, buf: Buffer, nofollow = false): number {
  const p = params();
  const r = callLibcRaw(nofollow ? 'lgetxattr' : 'getxattr', p.T.I64, p.getxattr, [path, name, buf, buf.length]);
  return r.errno ? -r.errno : r.value;
}

/** listxattr/llistxattr without throwing: the list length, or -errno. */
export function listxattrRaw(path: string, buf: Buffer, nofollow = false): number {
  const p = params();
  const r = callLibcRaw(nofollow ? 'llistxattr' : 'listxattr', p.T.I64, p.listxattr, [path, buf, buf.length]);
  return r.errno ? -r.errno : r.value;
}

/** getxattr (follow) / lgetxattr (nofollow): returns the value length; ERANGE when buf is too small. */
export function getxattr(path: string, name: string, buf: Buffer, nofollow = false): number {
  const p = params();
  return callLibc(nofollow ? 'lgetxattr' : 'getxattr', p.T.I64, p.getxattr, [path, name, buf, buf.length]);
}

export function setxattr(path: string, name: string, value: Uint8Array, flags: number, nofollow = false): void {
  const p = params();
  const v = Buffer.isBuffer(value) ? value : Buffer.from(value.buffer, value.byteOffset, value.byteLength);
  callLibc(nofollow ? 'lsetxattr' : 'setxattr', p.T.I32, p.setxattr, [path, name, v.length ? v : Buffer.alloc(1), v.length, flags]);
}

export function listxattr(path: string, buf: Buffer, nofollow = false): number {
  const p = params();
  return callLibc(nofollow ? 'llistxattr' : 'listxattr', p.T.I64, p.listxattr, [path, buf, buf.length]);
}

export function removexattr(path: string, name: string, nofollow = false): void {
  const p = params();
  callLibc(nofollow ? 'lremovexattr' : 'removexattr', p.T.I32, p.removexattr, [path, name]);
}

export interface StatfsResult {
  type: number;
  bsize: number;
  blocks: number;
  bfree: number;
  bavail: number;
  files: number;
  ffree: number;
  namelen: number;
  frsize: number;
}

/** statfs(2) (follows the path, so /proc/self/fd/N works on any fd). */
export function statfs(path: string): StatfsResult {
  const p = params();
  const b = Buffer.alloc(120);
  callLibc('statfs', p.T.I32, p.statfs, [path, b]);
  const n = (o: number) => Number(b.readBigUInt64LE(o));
  return {
    type: n(0), bsize: n(8), blocks: n(16), bfree: n(24), bavail: n(32), files: n(40), ffree: n(48),
    // f_fsid at 56
    namelen: n(64), frsize: n(72),
  };
}

export function syncfs(fd: number): void {
  const p = params();
  callLibc('syncfs', p.T.I32, p.fd, [fd]);
}
