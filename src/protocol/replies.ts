// Reply encoders. Each writes one reply body into a WireBuffer at `off` (normally 16, after the out header)
// and returns the body length; writeOutHeader then fills the header. Buffers are preallocated by the caller,
// so encoding allocates nothing.

import { LAYOUT as L, OUT_HEADER_SIZE } from './abi.js';
import type { Attr, CreateReply, Entry, FileLock, OpenReply, StatFs, Statx } from './types.js';
import type { WireBuffer } from './wire.js';

export function writeOutHeader(w: WireBuffer, len: number, error: number, uniqueLo: number, uniqueHi: number): void {
  const u = w.u32;
  u[0] = len;
  w.i32[1] = error;
  u[2] = uniqueLo;
  u[3] = uniqueHi;
}

/** Splits a timeout in seconds into (sec, nsec) at off (u64) and nsecOff (u32). */
function writeTimeout(w: WireBuffer, off: number, nsecOff: number, seconds: number): void {
  if (!(seconds > 0)) {
    w.setU64(off, 0);
    w.setU32(nsecOff, 0);
    return;
  }
  if (seconds >= Number.MAX_SAFE_INTEGER) {
    // "forever" (Infinity, huge values): cap like libfuse does instead of letting setU64 wrap to garbage
    w.setU64(off, Number.MAX_SAFE_INTEGER);
    w.setU32(nsecOff, 0);
    return;
  }
  let sec = Math.floor(seconds);
  let nsec = Math.round((seconds - sec) * 1e9);
  if (nsec >= 1e9) {
    // 0.9999999999 rounds up to a whole second: carry it instead of dropping it
    sec += 1;
    nsec -= 1e9;
  }
  w.setU64(off, sec);
  w.setU32(nsecOff, nsec);
}

export function encodeAttr(w: WireBuffer, off: number, a: Attr): number {
  const u = w.u32;
  const i = off >>> 2;
  w.setU64(off, a.ino);
  w.setU64(off + 8, a.size);
  w.setU64(off + 16, a.blocks ?? Math.ceil(a.size / 512));
  w.setI64(off + 24, a.atime);
  w.setI64(off + 32, a.mtime);
  w.setI64(off + 40, a.ctime);
  u[i + 12] = a.atimeNsec ?? 0;
  u[i + 13] = a.mtimeNsec ?? 0;
  u[i + 14] = a.ctimeNsec ?? 0;
  u[i + 15] = a.mode;
  u[i + 16] = a.nlink;
  u[i + 17] = a.uid;
  u[i + 18] = a.gid;
  u[i + 19] = a.rdev ?? 0;
  u[i + 20] = a.blksize ?? 4096;
  u[i + 21] = a.flags ?? 0;
  return L.fuse_attr.size;
}

export interface CacheDefaults {
  /** Seconds. */
  entryTimeout: number;
  attrTimeout: number;
}

export function encodeEntryOut(w: WireBuffer, off: number, e: Entry, d: CacheDefaults): number {
  const E = L.fuse_entry_out;
  w.setU64(off + E.nodeid, e.ino);
  w.setU64(off + E.generation, e.generation ?? 0);
  writeTimeout(w, off + E.entry_valid, off + E.entry_valid_nsec, e.entryTimeout ?? d.entryTimeout);
  writeTimeout(w, off + E.attr_valid, off + E.attr_valid_nsec, e.attrTimeout ?? e.attr.timeout ?? d.attrTimeout);
  encodeAttr(w, off + E.attr, e.attr);
  return L.fuse_entry_out.size;
}

/** A negative entry (nodeid 0): the kernel caches the absence of the name for `timeout` seconds. */
export function encodeNegativeEntryOut(w: WireBuffer, off: number, timeout: number): number {
  w.zero(off, L.fuse_entry_out.size);
  writeTimeout(w, off + L.fuse_entry_out.entry_valid, off + L.fuse_entry_out.entry_valid_nsec, timeout);
  return L.fuse_entry_out.size;
}

export function encodeAttrOut(w: WireBuffer, off: number, a: Attr, d: CacheDefaults): number {
  const A = L.fuse_attr_out;
  writeTimeout(w, off + A.attr_valid, off + A.attr_valid_nsec, a.timeout ?? d.attrTimeout);
  w.setU32(off + A.attr_valid_nsec + 4, 0); // padding
  encodeAttr(w, off + A.attr, a);
  return L.fuse_attr_out.size;
}

export function encodeOpenOut(w: WireBuffer, off: number, r: OpenReply | undefined): number {
  const O = L.fuse_open_out;
  w.setU64(off + O.fh, r?.fh ?? 0);
  w.setU32(off + O.open_flags, r?.flags ?? 0);
  w.setI32(off + O.backing_id, r?.backingId ?? 0);
  return L.fuse_open_out.size;
}

export function encodeCreateOut(w: WireBuffer, off: number, r: CreateReply, d: CacheDefaults): number {
  encodeEntryOut(w, off, r.entry, d);
  encodeOpenOut(w, off + L.fuse_entry_out.size, r);
  return L.fuse_entry_out.size + L.fuse_open_out.size;
}

export function encodeWriteOut(w: WireBuffer, off: number, size: number): number {
  w.setU32(off + L.fuse_write_out.size_, size);
  w.setU32(off + 4, 0);
  return L.fuse_write_out.size;
}

export function encodeStatfsOut(w: WireBuffer, off: number, s: StatFs): number {
  const S = L.fuse_kstatfs;
  w.setU64(off + S.blocks, s.blocks);
  w.setU64(off + S.bfree, s.bfree);
  w.setU64(off + S.bavail, s.bavail);
  w.setU64(off + S.files, s.files);
  w.setU64(off + S.ffree, s.ffree);
  w.setU32(off + S.bsize, s.bsize);
  w.setU32(off + S.namelen, s.namelen);
  w.setU32(off + S.frsize, s.frsize ?? s.bsize);
  w.zero(off + S.frsize + 4, S.size - S.frsize - 4); // padding and spare
  return L.fuse_kstatfs.size;
}

/** GETXATTR/LISTXATTR with size 0: the size the value would need. */
export function encodeXattrSizeOut(w: WireBuffer, off: number, size: number): number {
  w.setU32(off + L.fuse_getxattr_out.size_, size);
  w.setU32(off + 4, 0);
  return L.fuse_getxattr_out.size;
}

export const OFFSET_MAX = 0x7fffffffffffffffn;

function setLockEnd(w: WireBuffer, off: number, end: number): void {
  // OFFSET_MAX (to EOF) does not survive a Number: anything at or past 2^53 means "to EOF".
  if (end >= Number.MAX_SAFE_INTEGER) {
    w.setU32(off, 0xffffffff);
    w.setU32(off + 4, 0x7fffffff);
  } else w.setU64(off, end);
}

export function encodeFileLock(w: WireBuffer, off: number, lk: FileLock): number {
  const F = L.fuse_file_lock;
  w.setU64(off + F.start, lk.start);
  setLockEnd(w, off + F.end, lk.end);
  w.setU32(off + F.type, lk.type);
  w.setU32(off + F.pid, lk.pid);
  return L.fuse_file_lock.size;
}

export function encodeLkOut(w: WireBuffer, off: number, lk: FileLock): number {
  return encodeFileLock(w, off, lk);
}

export function encodeBmapOut(w: WireBuffer, off: number, block: number): number {
  w.setU64(off + L.fuse_bmap_out.block, block);
  return L.fuse_bmap_out.size;
}

export function encodeIoctlOut(w: WireBuffer, off: number, result: number, data?: Uint8Array): number {
  const I = L.fuse_ioctl_out;
  w.setI32(off + I.result, result);
  w.setU32(off + I.flags, 0);
  w.setU32(off + I.in_iovs, 0);
  w.setU32(off + I.out_iovs, 0);
  let n = L.fuse_ioctl_out.size;
  if (data && data.length) {
    w.buf.set(data, off + n);
    n += data.length;
  }
  return n;
}

export function encodePollOut(w: WireBuffer, off: number, revents: number): number {
  w.setU32(off + L.fuse_poll_out.revents, revents);
  w.setU32(off + 4, 0);
  return L.fuse_poll_out.size;
}

export function encodeLseekOut(w: WireBuffer, off: number, offset: number): number {
  w.setI64(off + L.fuse_lseek_out.offset, offset);
  return L.fuse_lseek_out.size;
}

export function encodeCopyFileRange64Out(w: WireBuffer, off: number, copied: number): number {
  w.setU64(off + L.fuse_copy_file_range_out.bytes_copied, copied);
  return L.fuse_copy_file_range_out.size;
}

function writeSxTime(w: WireBuffer, off: number, t: { sec: number; nsec: number } | undefined): void {
  w.setI64(off + L.fuse_sx_time.tv_sec, t?.sec ?? 0);
  w.setU32(off + L.fuse_sx_time.tv_nsec, t?.nsec ?? 0);
  w.setU32(off + L.fuse_sx_time.tv_nsec + 4, 0);
}

export function encodeStatxOut(w: WireBuffer, off: number, s: Statx, d: CacheDefaults): number {
  w.zero(off, L.fuse_statx_out.size);
  writeTimeout(w, off + L.fuse_statx_out.attr_valid, off + L.fuse_statx_out.attr_valid_nsec, s.timeout ?? d.attrTimeout);
  const o = off + L.fuse_statx_out.stat;
  const S = L.fuse_statx;
  w.setU32(o + S.mask, s.mask);
  w.setU32(o + S.blksize, s.blksize ?? 4096);
  w.setU64(o + S.attributes, s.attributes ?? 0);
  w.setU32(o + S.nlink, s.nlink);
  w.setU32(o + S.uid, s.uid);
  w.setU32(o + S.gid, s.gid);
  w.setU16(o + S.mode, s.mode);
  w.setU64(o + S.ino, s.ino);
  w.setU64(o + S.size_, s.size);
  w.setU64(o + S.blocks, s.blocks ?? Math.ceil(s.size / 512));
  w.setU64(o + S.attributes_mask, s.attributesMask ?? 0);
  writeSxTime(w, o + S.atime, s.atime);
  writeSxTime(w, o + S.btime, s.btime);
  writeSxTime(w, o + S.ctime, s.ctime);
  writeSxTime(w, o + S.mtime, s.mtime);
  w.setU32(o + S.rdev_major, s.rdevMajor ?? 0);
  w.setU32(o + S.rdev_minor, s.rdevMinor ?? 0);
  w.setU32(o + S.dev_major, s.devMajor ?? 0);
  w.setU32(o + S.dev_minor, s.devMinor ?? 0);
  return L.fuse_statx_out.size;
}

export interface InitOut {
  major: number;
  minor: number;
  maxReadahead: number;
  /** flags | flags2 << 32 as a Number. */
  flags: number;
  maxBackground: number;
  congestionThreshold: number;
  maxWrite: number;
  timeGran: number;
  maxPages: number;
  mapAlignment: number;
  maxStackDepth: number;
  requestTimeout: number;
}

/** `compatSize`: kernels before 7.23 take a shorter init_out; pass the size from negotiateInit. */
export function encodeInitOut(w: WireBuffer, off: number, o: InitOut, size: number = L.fuse_init_out.size): number {
  const I = L.fuse_init_out;
  w.zero(off, I.size);
  w.setU32(off + I.major, o.major);
  w.setU32(off + I.minor, o.minor);
  w.setU32(off + I.max_readahead, o.maxReadahead);
  w.setU32(off + I.flags, o.flags % 4294967296);
  w.setU16(off + I.max_background, Math.min(0xffff, o.maxBackground));
  w.setU16(off + I.congestion_threshold, Math.min(0xffff, o.congestionThreshold));
  w.setU32(off + I.max_write, o.maxWrite);
  w.setU32(off + I.time_gran, o.timeGran);
  w.setU16(off + I.max_pages, Math.min(0xffff, o.maxPages));
  w.setU16(off + I.map_alignment, o.mapAlignment);
  w.setU32(off + I.flags2, Math.floor(o.flags / 4294967296));
  w.setU32(off + I.max_stack_depth, o.maxStackDepth);
  w.setU16(off + I.request_timeout, Math.min(0xffff, o.requestTimeout));
  return size;
}

/** Copies raw bytes (READ, READLINK, GETXATTR, LISTXATTR data) after the header; returns the length. */
export function encodeBytes(w: WireBuffer, off: number, data: Uint8Array): number {
  w.buf.set(data, off);
  return data.length;
}

export { OUT_HEADER_SIZE };
