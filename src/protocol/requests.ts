// Request decoders: one per opcode, each reading the op body that follows the 40-byte fuse_in_header.
// A decoder takes (wire, body offset, body end) and fills `out` (a caller-kept object, so the request path
// allocates nothing but strings) or a fresh object. Names arrive NUL-terminated.

import { InitFlags, LAYOUT as L } from './abi.js';
import { type WireBuffer, u64FromWords } from './wire.js';

export interface InHeader {
  len: number;
  opcode: number;
  /** The request id as a Number (resend bit masked off); for maps and interrupts. */
  unique: number;
  /** The exact low/high words of unique, copied into the reply header. */
  uniqueLo: number;
  uniqueHi: number;
  nodeid: number;
  uid: number;
  gid: number;
  pid: number;
  /** Length of the extensions after the op body, in bytes. */
  extLen: number;
}

export function newInHeader(): InHeader {
  return { len: 0, opcode: 0, unique: 0, uniqueLo: 0, uniqueHi: 0, nodeid: 0, uid: 0, gid: 0, pid: 0, extLen: 0 };
}

export function decodeInHeader(w: WireBuffer, off: number, out: InHeader): InHeader {
  const u = w.u32;
  const i = off >>> 2;
  out.len = u[i];
  out.opcode = u[i + 1];
  out.uniqueLo = u[i + 2];
  out.uniqueHi = u[i + 3];
  out.unique = u64FromWords(u[i + 3] & 0x1fffff, u[i + 2]);
  out.nodeid = u64FromWords(u[i + 5], u[i + 4]);
  out.uid = u[i + 6];
  out.gid = u[i + 7];
  out.pid = u[i + 8];
  out.extLen = (u[i + 9] & 0xffff) * 8;
  return out;
}

export interface NameIn { name: string }
export interface ForgetIn { nlookup: number }
export interface ForgetOne { nodeid: number; nlookup: number }
/** `count` entries of fuse_forget_one start at offset `first` of the request. */
export interface BatchForgetIn { count: number; first: number }
export interface GetattrIn { getattrFlags: number; fh: number }
export interface SetattrIn {
  valid: number; fh: number; size: number; lockOwner: number; atime: number; mtime: number; ctime: number;
  atimensec: number; mtimensec: number; ctimensec: number; mode: number; uid: number; gid: number;
}
export interface SymlinkIn { name: string; target: string }
export interface MknodIn { mode: number; rdev: number; umask: number; name: string }
export interface MkdirIn { mode: number; umask: number; name: string }
export interface RenameIn { newdir: number; flags: number; oldname: string; newname: string }
export interface LinkIn { oldnodeid: number; newname: string }
export interface OpenIn { flags: number; openFlags: number }
export interface ReadIn { fh: number; offset: number; size: number; readFlags: number; lockOwner: number; flags: number }
export interface WriteIn {
  fh: number; offset: number; size: number; writeFlags: number; lockOwner: number; flags: number;
  /** Offset of the data in the request buffer. */
  dataOffset: number;
}
export interface ReleaseIn { fh: number; flags: number; releaseFlags: number; lockOwner: number }
export interface FsyncIn { fh: number; fsyncFlags: number }
export interface SetxattrIn { size: number; flags: number; setxattrFlags: number; name: string; valueOffset: number }
export interface GetxattrIn { size: number; name: string }
export interface ListxattrIn { size: number }
export interface FlushIn { fh: number; lockOwner: number }
export interface InitIn { major: number; minor: number; maxReadahead: number; flags: number }
export interface FileLockIn { start: number; end: number; type: number; pid: number }
export interface LkIn { fh: number; owner: number; lk: FileLockIn; lkFlags: number }
export interface AccessIn { mask: number }
export interface CreateIn { flags: number; mode: number; umask: number; openFlags: number; name: string }
export interface InterruptIn { unique: number }
export interface BmapIn { block: number; blocksize: number }
export interface IoctlIn { fh: number; flags: number; cmd: number; arg: number; inSize: number; outSize: number; dataOffset: number }
export interface PollIn { fh: number; kh: number; flags: number; events: number }
export interface NotifyReplyIn { offset: number; size: number; dataOffset: number }
export interface FallocateIn { fh: number; offset: number; length: number; mode: number }
export interface LseekIn { fh: number; offset: number; whence: number }
export interface CopyFileRangeIn { fhIn: number; offIn: number; nodeidOut: number; fhOut: number; offOut: number; len: number; flags: number }
export interface SetupmappingIn { fh: number; foffset: number; len: number; flags: number; moffset: number }
export interface RemovemappingIn { items: { moffset: number; len: number }[] }
export interface StatxIn { getattrFlags: number; fh: number; sxFlags: number; sxMask: number }
export interface EmptyIn { }

export class DecodeError extends Error {}

function need(off: number, size: number, end: number, what: string): void {
  if (off + size > end) throw new DecodeError(`${what}: body too short (${end - off} < ${size})`);
}

export function decodeName(w: WireBuffer, off: number, end: number, out = {} as NameIn): NameIn {
  out.name = w.cstring(off, end);
  return out;
}

export function decodeForget(w: WireBuffer, off: number, end: number, out = {} as ForgetIn): ForgetIn {
  need(off, L.fuse_forget_in.size, end, 'FORGET');
  out.nlookup = w.getU64(off + L.fuse_forget_in.nlookup);
  return out;
}

/** BATCH_FORGET: the fuse_forget_one entries stay in the request buffer; forEachForgetOne walks them. */
export function decodeBatchForget(w: WireBuffer, off: number, end: number, out = {} as BatchForgetIn): BatchForgetIn {
  need(off, L.fuse_batch_forget_in.size, end, 'BATCH_FORGET');
  const count = w.getU32(off + L.fuse_batch_forget_in.count);
  const first = off + L.fuse_batch_forget_in.size;
  // only whole entries inside the body count (a count larger than the body is cut to what arrived)
  out.count = Math.min(count, Math.floor(Math.max(0, end - first) / L.fuse_forget_one.size));
  out.first = first;
  return out;
}

/** Calls fn for every (nodeid, nlookup) of a decoded BATCH_FORGET without allocating. */
export function forEachForgetOne(w: WireBuffer, r: BatchForgetIn, fn: (nodeid: number, nlookup: number) => void): void {
  const F = L.fuse_forget_one;
  for (let k = 0, p = r.first; k < r.count; k++, p += F.size) fn(w.getU64(p + F.nodeid), w.getU64(p + F.nlookup));
}

/** The entries of a decoded BATCH_FORGET as objects (tools and tests; the server uses forEachForgetOne). */
export function forgetItems(w: WireBuffer, r: BatchForgetIn): ForgetOne[] {
  const items: ForgetOne[] = [];
  forEachForgetOne(w, r, (nodeid, nlookup) => items.push({ nodeid, nlookup }));
  return items;
}

/** Calls fn for every (nodeid, nlookup) of a BATCH_FORGET body without allocating. */
export function forEachBatchForget(w: WireBuffer, off: number, end: number, fn: (nodeid: number, nlookup: number) => void): void {
  forEachForgetOne(w, decodeBatchForget(w, off, end, scratchBatch), fn);
}
const scratchBatch = {} as BatchForgetIn;

export function decodeGetattr(w: WireBuffer, off: number, end: number, out = {} as GetattrIn): GetattrIn {
  if (off + L.fuse_getattr_in.size > end) {
    out.getattrFlags = 0;
    out.fh = 0;
    return out;
  }
  out.getattrFlags = w.getU32(off + L.fuse_getattr_in.getattr_flags);
  out.fh = w.getU64(off + L.fuse_getattr_in.fh);
  return out;
}

export function decodeSetattr(w: WireBuffer, off: number, end: number, out = {} as SetattrIn): SetattrIn {
  const S = L.fuse_setattr_in;
  need(off, S.size, end, 'SETATTR');
  out.valid = w.getU32(off + S.valid);
  out.fh = w.getU64(off + S.fh);
  out.size = w.getU64(off + S.size_);
  out.lockOwner = w.getU64(off + S.lock_owner);
  out.atime = w.getI64(off + S.atime);
  out.mtime = w.getI64(off + S.mtime);
  out.ctime = w.getI64(off + S.ctime);
  out.atimensec = w.getU32(off + S.atimensec);
  out.mtimensec = w.getU32(off + S.mtimensec);
  out.ctimensec = w.getU32(off + S.ctimensec);
  out.mode = w.getU32(off + S.mode);
  out.uid = w.getU32(off + S.uid);
  out.gid = w.getU32(off + S.gid);
  return out;
}

export function decodeSymlink(w: WireBuffer, off: number, end: number, out = {} as SymlinkIn): SymlinkIn {
  out.name = w.cstring(off, end);
  out.target = w.cstring(w.lastEnd, end);
  return out;
}

export function decodeMknod(w: WireBuffer, off: number, end: number, out = {} as MknodIn): MknodIn {
  need(off, L.fuse_mknod_in.size, end, 'MKNOD');
  out.mode = w.getU32(off + L.fuse_mknod_in.mode);
  out.rdev = w.getU32(off + L.fuse_mknod_in.rdev);
  out.umask = w.getU32(off + L.fuse_mknod_in.umask);
  out.name = w.cstring(off + L.fuse_mknod_in.size, end);
  return out;
}

export function decodeMkdir(w: WireBuffer, off: number, end: number, out = {} as MkdirIn): MkdirIn {
  need(off, L.fuse_mkdir_in.size, end, 'MKDIR');
  out.mode = w.getU32(off + L.fuse_mkdir_in.mode);
  out.umask = w.getU32(off + L.fuse_mkdir_in.umask);
  out.name = w.cstring(off + L.fuse_mkdir_in.size, end);
  return out;
}

export function decodeRename(w: WireBuffer, off: number, end: number, out = {} as RenameIn): RenameIn {
  need(off, L.fuse_rename_in.size, end, 'RENAME');
  out.newdir = w.getU64(off + L.fuse_rename_in.newdir);
  out.flags = 0;
  out.oldname = w.cstring(off + L.fuse_rename_in.size, end);
  out.newname = w.cstring(w.lastEnd, end);
  return out;
}

export function decodeRename2(w: WireBuffer, off: number, end: number, out = {} as RenameIn): RenameIn {
  need(off, L.fuse_rename2_in.size, end, 'RENAME2');
  out.newdir = w.getU64(off + L.fuse_rename2_in.newdir);
  out.flags = w.getU32(off + L.fuse_rename2_in.flags);
  out.oldname = w.cstring(off + L.fuse_rename2_in.size, end);
  out.newname = w.cstring(w.lastEnd, end);
  return out;
}

export function decodeLink(w: WireBuffer, off: number, end: number, out = {} as LinkIn): LinkIn {
  need(off, L.fuse_link_in.size, end, 'LINK');
  out.oldnodeid = w.getU64(off + L.fuse_link_in.oldnodeid);
  out.newname = w.cstring(off + L.fuse_link_in.size, end);
  return out;
}

export function decodeOpen(w: WireBuffer, off: number, end: number, out = {} as OpenIn): OpenIn {
  need(off, L.fuse_open_in.size, end, 'OPEN');
  out.flags = w.getU32(off + L.fuse_open_in.flags);
  out.openFlags = w.getU32(off + L.fuse_open_in.open_flags);
  return out;
}

export function decodeRead(w: WireBuffer, off: number, end: number, out = {} as ReadIn): ReadIn {
  // kernels before 7.9 send the 24-byte head only (no lock_owner, no flags)
  need(off, L.fuse_read_in.lock_owner, end, 'READ');
  out.fh = w.getU64(off + L.fuse_read_in.fh);
  out.offset = w.getU64(off + L.fuse_read_in.offset);
  out.size = w.getU32(off + L.fuse_read_in.size_);
  out.readFlags = w.getU32(off + L.fuse_read_in.read_flags);
  if (off + L.fuse_read_in.size <= end) {
    out.lockOwner = w.getU64(off + L.fuse_read_in.lock_owner);
    out.flags = w.getU32(off + L.fuse_read_in.flags);
  } else {
    out.lockOwner = 0;
    out.flags = 0;
  }
  return out;
}

export function decodeWrite(w: WireBuffer, off: number, end: number, out = {} as WriteIn): WriteIn {
  need(off, L.fuse_write_in.size, end, 'WRITE');
  out.fh = w.getU64(off + L.fuse_write_in.fh);
  out.offset = w.getU64(off + L.fuse_write_in.offset);
  out.size = w.getU32(off + L.fuse_write_in.size_);
  out.writeFlags = w.getU32(off + L.fuse_write_in.write_flags);
  out.lockOwner = w.getU64(off + L.fuse_write_in.lock_owner);
  out.flags = w.getU32(off + L.fuse_write_in.flags);
  out.dataOffset = off + L.fuse_write_in.size;
  if (out.dataOffset + out.size > end) throw new DecodeError('WRITE: data shorter than size');
  return out;
}

export function decodeRelease(w: WireBuffer, off: number, end: number, out = {} as ReleaseIn): ReleaseIn {
  need(off, L.fuse_release_in.size, end, 'RELEASE');
  out.fh = w.getU64(off + L.fuse_release_in.fh);
  out.flags = w.getU32(off + L.fuse_release_in.flags);
  out.releaseFlags = w.getU32(off + L.fuse_release_in.release_flags);
  out.lockOwner = w.getU64(off + L.fuse_release_in.lock_owner);
  return out;
}

export function decodeFsync(w: WireBuffer, off: number, end: number, out = {} as FsyncIn): FsyncIn {
  need(off, L.fuse_fsync_in.size, end, 'FSYNC');
  out.fh = w.getU64(off + L.fuse_fsync_in.fh);
  out.fsyncFlags = w.getU32(off + L.fuse_fsync_in.fsync_flags);
  return out;
}

/** `ext` = FUSE_SETXATTR_EXT was negotiated (16-byte header instead of 8). */
export function decodeSetxattr(w: WireBuffer, off: number, end: number, out = {} as SetxattrIn, ext = false): SetxattrIn {
  const hdr = ext ? L.fuse_setxattr_in.size : L.fuse_setxattr_in.setxattr_flags; // without SETXATTR_EXT: the 8-byte compat head
  need(off, hdr, end, 'SETXATTR');
  out.size = w.getU32(off + L.fuse_setxattr_in.size_);
  out.flags = w.getU32(off + L.fuse_setxattr_in.flags);
  out.setxattrFlags = ext ? w.getU32(off + L.fuse_setxattr_in.setxattr_flags) : 0;
  out.name = w.cstring(off + hdr, end);
  out.valueOffset = w.lastEnd;
  if (out.valueOffset + out.size > end) throw new DecodeError('SETXATTR: value shorter than size');
  return out;
}

export function decodeGetxattr(w: WireBuffer, off: number, end: number, out = {} as GetxattrIn): GetxattrIn {
  need(off, L.fuse_getxattr_in.size, end, 'GETXATTR');
  out.size = w.getU32(off + L.fuse_getxattr_in.size_);
  out.name = w.cstring(off + L.fuse_getxattr_in.size, end);
  return out;
}

export function decodeListxattr(w: WireBuffer, off: number, end: number, out = {} as ListxattrIn): ListxattrIn {
  need(off, L.fuse_getxattr_in.size, end, 'LISTXATTR');
  out.size = w.getU32(off + L.fuse_getxattr_in.size_);
  return out;
}

export function decodeFlush(w: WireBuffer, off: number, end: number, out = {} as FlushIn): FlushIn {
  need(off, L.fuse_flush_in.size, end, 'FLUSH');
  out.fh = w.getU64(off + L.fuse_flush_in.fh);
  out.lockOwner = w.getU64(off + L.fuse_flush_in.lock_owner);
  return out;
}

/** INIT: kernels before 7.36 send 16 bytes (no flags2). `flags` combines flags and flags2 (when INIT_EXT). */
export function decodeInit(w: WireBuffer, off: number, end: number, out = {} as InitIn): InitIn {
  const I = L.fuse_init_in;
  need(off, I.max_readahead, end, 'INIT');
  out.major = w.getU32(off + I.major);
  out.minor = w.getU32(off + I.minor);
  out.maxReadahead = off + I.flags <= end ? w.getU32(off + I.max_readahead) : 0;
  const flags = off + I.flags2 <= end ? w.getU32(off + I.flags) : 0;
  const flags2 = off + I.flags2 + 4 <= end && (flags & InitFlags.mask.INIT_EXT) !== 0 ? w.getU32(off + I.flags2) : 0;
  out.flags = flags2 * 4294967296 + flags;
  return out;
}

function decodeFileLock(w: WireBuffer, off: number, out = {} as FileLockIn): FileLockIn {
  out.start = w.getU64(off + L.fuse_file_lock.start);
  out.end = w.getU64(off + L.fuse_file_lock.end);
  out.type = w.getU32(off + L.fuse_file_lock.type);
  out.pid = w.getU32(off + L.fuse_file_lock.pid);
  return out;
}

export function decodeLk(w: WireBuffer, off: number, end: number, out = {} as LkIn): LkIn {
  need(off, L.fuse_lk_in.size, end, 'LK');
  out.fh = w.getU64(off + L.fuse_lk_in.fh);
  out.owner = w.getU64(off + L.fuse_lk_in.owner);
  out.lk = decodeFileLock(w, off + L.fuse_lk_in.lk, out.lk);
  out.lkFlags = w.getU32(off + L.fuse_lk_in.lk_flags);
  return out;
}

export function decodeAccess(w: WireBuffer, off: number, end: number, out = {} as AccessIn): AccessIn {
  need(off, L.fuse_access_in.size, end, 'ACCESS');
  out.mask = w.getU32(off + L.fuse_access_in.mask);
  return out;
}

export function decodeCreate(w: WireBuffer, off: number, end: number, out = {} as CreateIn): CreateIn {
  need(off, L.fuse_create_in.size, end, 'CREATE');
  out.flags = w.getU32(off + L.fuse_create_in.flags);
  out.mode = w.getU32(off + L.fuse_create_in.mode);
  out.umask = w.getU32(off + L.fuse_create_in.umask);
  out.openFlags = w.getU32(off + L.fuse_create_in.open_flags);
  out.name = w.cstring(off + L.fuse_create_in.size, end);
  return out;
}

export function decodeInterrupt(w: WireBuffer, off: number, end: number, out = {} as InterruptIn): InterruptIn {
  need(off, L.fuse_interrupt_in.size, end, 'INTERRUPT');
  out.unique = (w.getU32(off + L.fuse_interrupt_in.unique + 4) & 0x1fffff) * 4294967296 + w.getU32(off + L.fuse_interrupt_in.unique);
  return out;
}

export function decodeBmap(w: WireBuffer, off: number, end: number, out = {} as BmapIn): BmapIn {
  need(off, L.fuse_bmap_in.size, end, 'BMAP');
  out.block = w.getU64(off + L.fuse_bmap_in.block);
  out.blocksize = w.getU32(off + L.fuse_bmap_in.blocksize);
  return out;
}

export function decodeIoctl(w: WireBuffer, off: number, end: number, out = {} as IoctlIn): IoctlIn {
  need(off, L.fuse_ioctl_in.size, end, 'IOCTL');
  out.fh = w.getU64(off + L.fuse_ioctl_in.fh);
  out.flags = w.getU32(off + L.fuse_ioctl_in.flags);
  out.cmd = w.getU32(off + L.fuse_ioctl_in.cmd);
  out.arg = w.getU64(off + L.fuse_ioctl_in.arg);
  out.inSize = w.getU32(off + L.fuse_ioctl_in.in_size);
  out.outSize = w.getU32(off + L.fuse_ioctl_in.out_size);
  out.dataOffset = off + L.fuse_ioctl_in.size;
  if (out.dataOffset + out.inSize > end) out.inSize = Math.max(0, end - out.dataOffset);
  return out;
}

export function decodePoll(w: WireBuffer, off: number, end: number, out = {} as PollIn): PollIn {
  need(off, L.fuse_poll_in.size, end, 'POLL');
  out.fh = w.getU64(off + L.fuse_poll_in.fh);
  out.kh = w.getU64(off + L.fuse_poll_in.kh);
  out.flags = w.getU32(off + L.fuse_poll_in.flags);
  out.events = w.getU32(off + L.fuse_poll_in.events);
  return out;
}

export function decodeNotifyReply(w: WireBuffer, off: number, end: number, out = {} as NotifyReplyIn): NotifyReplyIn {
  need(off, L.fuse_notify_retrieve_in.size, end, 'NOTIFY_REPLY');
  out.offset = w.getU64(off + L.fuse_notify_retrieve_in.offset);
  out.size = w.getU32(off + L.fuse_notify_retrieve_in.size_);
  out.dataOffset = off + L.fuse_notify_retrieve_in.size;
  if (out.dataOffset + out.size > end) out.size = Math.max(0, end - out.dataOffset);
  return out;
}

export function decodeFallocate(w: WireBuffer, off: number, end: number, out = {} as FallocateIn): FallocateIn {
  need(off, L.fuse_fallocate_in.size, end, 'FALLOCATE');
  out.fh = w.getU64(off + L.fuse_fallocate_in.fh);
  out.offset = w.getU64(off + L.fuse_fallocate_in.offset);
  out.length = w.getU64(off + L.fuse_fallocate_in.length);
  out.mode = w.getU32(off + L.fuse_fallocate_in.mode);
  return out;
}

export function decodeLseek(w: WireBuffer, off: number, end: number, out = {} as LseekIn): LseekIn {
  need(off, L.fuse_lseek_in.size, end, 'LSEEK');
  out.fh = w.getU64(off + L.fuse_lseek_in.fh);
  out.offset = w.getI64(off + L.fuse_lseek_in.offset);
  out.whence = w.getU32(off + L.fuse_lseek_in.whence);
  return out;
}

export function decodeCopyFileRange(w: WireBuffer, off: number, end: number, out = {} as CopyFileRangeIn): CopyFileRangeIn {
  const C = L.fuse_copy_file_range_in;
  need(off, C.size, end, 'COPY_FILE_RANGE');
  out.fhIn = w.getU64(off + C.fh_in);
  out.offIn = w.getU64(off + C.off_in);
  out.nodeidOut = w.getU64(off + C.nodeid_out);
  out.fhOut = w.getU64(off + C.fh_out);
  out.offOut = w.getU64(off + C.off_out);
  out.len = w.getU64(off + C.len);
  out.flags = w.getU64(off + C.flags);
  return out;
}

export function decodeSetupmapping(w: WireBuffer, off: number, end: number, out = {} as SetupmappingIn): SetupmappingIn {
  const M = L.fuse_setupmapping_in;
  need(off, M.size, end, 'SETUPMAPPING');
  out.fh = w.getU64(off + M.fh);
  out.foffset = w.getU64(off + M.foffset);
  out.len = w.getU64(off + M.len);
  out.flags = w.getU64(off + M.flags);
  out.moffset = w.getU64(off + M.moffset);
  return out;
}

export function decodeRemovemapping(w: WireBuffer, off: number, end: number, out = {} as RemovemappingIn): RemovemappingIn {
  need(off, L.fuse_removemapping_in.size, end, 'REMOVEMAPPING');
  const count = w.getU32(off + L.fuse_removemapping_in.count);
  const items: { moffset: number; len: number }[] = [];
  // fuse_removemapping_one entries follow the 4-byte count directly (the kernel sends two args).
  let p = off + L.fuse_removemapping_in.size;
  for (let k = 0; k < count && p + L.fuse_removemapping_one.size <= end; k++, p += L.fuse_removemapping_one.size) {
    items.push({ moffset: w.getU64(p + L.fuse_removemapping_one.moffset), len: w.getU64(p + L.fuse_removemapping_one.len) });
  }
  out.items = items;
  return out;
}

export function decodeStatx(w: WireBuffer, off: number, end: number, out = {} as StatxIn): StatxIn {
  need(off, L.fuse_statx_in.size, end, 'STATX');
  out.getattrFlags = w.getU32(off + L.fuse_statx_in.getattr_flags);
  out.fh = w.getU64(off + L.fuse_statx_in.fh);
  out.sxFlags = w.getU32(off + L.fuse_statx_in.sx_flags);
  out.sxMask = w.getU32(off + L.fuse_statx_in.sx_mask);
  return out;
}

export function decodeEmpty(_w: WireBuffer, _off: number, _end: number, out = {} as EmptyIn): EmptyIn {
  return out;
}

/** The supplementary group extension (FUSE_EXT_GROUPS), if present after the op body. */
export function decodeSuppGroups(w: WireBuffer, extStart: number, extEnd: number): number[] | undefined {
  // The extensions follow the NUL-terminated name directly, so extStart need not be 4-byte aligned: read
  // through the Buffer, not the aligned u32 view.
  const b = w.buf;
  let p = extStart;
  while (p + 8 <= extEnd) {
    const size = b.readUInt32LE(p);
    const type = b.readUInt32LE(p + 4);
    if (size < 8 || p + size > extEnd) return undefined;
    if (type === 32) {
      if (size < 12) return undefined;
      const n = b.readUInt32LE(p + 8);
      const groups: number[] = [];
      for (let k = 0; k < n && p + 12 + 4 * k + 4 <= p + size; k++) groups.push(b.readUInt32LE(p + 12 + 4 * k));
      return groups;
    }
    p += size;
  }
  return undefined;
}
