// The opcode table: one row per opcode with everything the server needs to serve it, as data (like
// libfuse's fuse_ll_ops[] and go-fuse's operationHandlers): its name, its decoder, the Filesystem method it
// calls, what a filesystem without that method answers, the call itself (request fields -> method
// arguments), the reply encoder, and which request fields are flag sets (the debug trace names their bits).
// src/server/dispatch.ts serves every opcode through its row and knows no opcode by itself except the two
// the server answers on its own (INTERRUPT, NOTIFY_REPLY).

import {
  FATTR, FsyncFlags, GetattrFlags, InitFlags, IoctlFlags,
  LkFlags, Opcode, OpenInFlags, OUT_HEADER_SIZE, PollFlags, ReadFlags, ReleaseFlags, SetattrValid, SetxattrFlags,
  WriteFlags,
} from './abi.js';
import { Errno, errnoOf, ERRNO, type ErrnoName } from './errno.js';
import type { FlagSpec } from './flags.js';
import { encodeName } from './names.js';
import * as Rp from './replies.js';
import * as R from './requests.js';
import type { DirentPlusWriter, DirentWriter } from './dirents.js';
import type { Entry, StatFs } from './types.js';
import type { WireBuffer } from './wire.js';
import type { Filesystem, MaybePromise, RequestContext, SetAttr } from '../fs/types.js';

/** Reads one op body [off, end) into `out` (or a fresh object). Only SETXATTR reads `setxattrExt`. */
export type Decoder<T> = (w: WireBuffer, off: number, end: number, out?: T, setxattrExt?: boolean) => T;

/** What a row's call and encoder see of the request being served (src/server/lane.ts implements it). */
export interface ServeScope {
  readonly ctx: RequestContext;
  readonly header: R.InHeader;
  /** The request as read from the device (WRITE data, xattr values and ioctl input are views into it). */
  readonly input: WireBuffer;
  /** The reply buffer: encoders write the body at OUT_HEADER_SIZE. */
  readonly out: WireBuffer;
  readonly dirents: DirentWriter;
  readonly direntsPlus: DirentPlusWriter;
}

/** Per-connection settings the calls and encoders need. */
export interface ServeSettings {
  readonly cache: Rp.CacheDefaults;
  /** Seconds a failed lookup (ENOENT) is cached as a negative entry; 0 = none. */
  readonly negativeTimeout: number;
  /** FUSE_SETXATTR_EXT was negotiated (16-byte fuse_setxattr_in). */
  readonly setxattrExt: boolean;
}

/** An encoded reply: a body length already written into scope.out, or bytes to send after the header. */
export type ReplyBody = number | Uint8Array;

/**
 * What a filesystem without the row's method answers: an errno, an empty success, or a default reply that
 * goes through the row's encoder.
 */
export type Missing = ErrnoName | 'success' | { readonly reply: unknown };

export interface OpcodeInfo<In = any, T = any> {
  readonly opcode: number;
  readonly name: string;
  readonly decode: Decoder<In>;
  /** The Filesystem method this opcode calls; absent when no method serves it. */
  readonly method?: keyof Filesystem;
  readonly missing: Missing;
  /** Calls `fs[method]` with the decoded request (only when the method exists). */
  readonly call?: (fs: Filesystem, s: ServeScope, r: In, cfg: ServeSettings) => MaybePromise<T>;
  readonly encode: (s: ServeScope, value: T, r: In, cfg: ServeSettings) => ReplyBody;
  /** The kernel expects no reply (FORGET, BATCH_FORGET, NOTIFY_REPLY). */
  readonly noReply?: boolean;
  /** Request fields that hold flag sets: the debug trace prints their bits by name. */
  readonly flags?: { readonly [field: string]: FlagSpec<string> };
}

/**
 * A method's answer is deferred when it is a native Promise (what an async function returns). Tested with
 * instanceof, not by reading `then`: that load sees every reply shape a filesystem returns, so it goes
 * megamorphic and missed V8's stub cache on about one request in five of a passthrough rename loop.
 */
export function isPromise(v: unknown): v is Promise<unknown> {
  return v instanceof Promise;
}

const H = OUT_HEADER_SIZE;

// ---- encoders (module constants: the request path makes no closures) ----------------------------------

const none = (): number => 0;
const entry = (s: ServeScope, e: Entry, _r: unknown, c: ServeSettings): number => Rp.encodeEntryOut(s.out, H, e, c.cache);
const lookupEntry = (s: ServeScope, e: Entry, _r: unknown, c: ServeSettings): number =>
  e.ino === 0 ? Rp.encodeNegativeEntryOut(s.out, H, e.entryTimeout ?? c.cache.entryTimeout) : Rp.encodeEntryOut(s.out, H, e, c.cache);
const attr = (s: ServeScope, a: Parameters<typeof Rp.encodeAttrOut>[2], _r: unknown, c: ServeSettings): number => Rp.encodeAttrOut(s.out, H, a, c.cache);
const open = (s: ServeScope, o: Parameters<typeof Rp.encodeOpenOut>[2]): number => Rp.encodeOpenOut(s.out, H, o);
const create = (s: ServeScope, o: Parameters<typeof Rp.encodeCreateOut>[2], _r: unknown, c: ServeSettings): number => Rp.encodeCreateOut(s.out, H, o, c.cache);
const bytes = (_s: ServeScope, v: string | Uint8Array): Uint8Array => (typeof v === 'string' ? encodeName(v) : v);
const written = (s: ServeScope, n: number): number => Rp.encodeWriteOut(s.out, H, n);
const direntLength = (s: ServeScope): number => s.dirents.length;
const direntPlusLength = (s: ServeScope): number => s.direntsPlus.length;

/** GETXATTR/LISTXATTR: size 0 asks for the size; a value larger than size is ERANGE. */
function xattrValue(s: ServeScope, value: Uint8Array, size: number): ReplyBody {
  if (size === 0) return Rp.encodeXattrSizeOut(s.out, H, value.length);
  if (value.length > size) throw new Errno('ERANGE');
  return value;
}

function xattrNames(names: string[]): Uint8Array {
  const parts: Buffer[] = [];
  const nul = Buffer.of(0);
  for (const n of names) parts.push(encodeName(n), nul);
  return Buffer.concat(parts);
}

/** The answer of STATFS when the filesystem has no statfs: zero blocks, 255-byte names (as libfuse). */
const DEFAULT_STATFS: StatFs = { blocks: 0, bfree: 0, bavail: 0, files: 0, ffree: 0, bsize: 512, namelen: 255, frsize: 512 };

/** Lock ends at or past 2^53 (OFFSET_MAX, "to EOF") stay "to EOF" as a Number. */
function lockEnd(end: number): number {
  return end >= Number.MAX_SAFE_INTEGER ? Number.MAX_SAFE_INTEGER : end;
}

function lockOf(r: R.LkIn): { start: number; end: number; type: number; pid: number } {
  return { start: r.lk.start, end: lockEnd(r.lk.end), type: r.lk.type, pid: r.lk.pid };
}

/** LOOKUP with a negative timeout: ENOENT becomes a negative entry the kernel caches. */
function lookupOrNegative(fs: Filesystem, s: ServeScope, name: string, timeout: number): MaybePromise<Entry> {
  const negative = (err: unknown): Entry => {
    if (errnoOf(err) === ERRNO.ENOENT) return { ino: 0, entryTimeout: timeout } as Entry;
    throw err;
  };
  let v: MaybePromise<Entry>;
  try {
    v = fs.lookup!(s.ctx, s.header.nodeid, name);
  } catch (err) {
    return negative(err);
  }
  return isPromise(v) ? v.catch(negative) : v;
}

function setAttrOf(r: R.SetattrIn): SetAttr {
  const v = r.valid;
  const set: SetAttr = {};
  if (v & FATTR.MODE) set.mode = r.mode;
  if (v & FATTR.UID) set.uid = r.uid;
  if (v & FATTR.GID) set.gid = r.gid;
  if (v & FATTR.SIZE) set.size = r.size;
  if (v & FATTR.ATIME_NOW) set.atime = 'now';
  else if (v & FATTR.ATIME) set.atime = { sec: r.atime, nsec: r.atimensec };
  if (v & FATTR.MTIME_NOW) set.mtime = 'now';
  else if (v & FATTR.MTIME) set.mtime = { sec: r.mtime, nsec: r.mtimensec };
  if (v & FATTR.CTIME) set.ctime = { sec: r.ctime, nsec: r.ctimensec };
  if (v & FATTR.FH) set.fh = r.fh;
  if (v & FATTR.LOCKOWNER) set.lockOwner = r.lockOwner;
  if (v & FATTR.KILL_SUIDGID) set.killSuidgid = true;
  return set;
}

// ---- the table ------------------------------------------------------------------------------------------

type Row<In, T> = Omit<OpcodeInfo<In, T>, 'opcode' | 'name' | 'encode'> & { encode?: OpcodeInfo<In, T>['encode'] };

/** Every row gets the same keys in the same order: one hidden class, so the dispatcher's loads stay monomorphic. */
function op<In, T>(name: keyof typeof Opcode, row: Row<In, T>): OpcodeInfo {
  return {
    opcode: Opcode[name], name, decode: row.decode, method: row.method, missing: row.missing, call: row.call,
    encode: row.encode ?? none, noReply: row.noReply ?? false, flags: row.flags,
  } as OpcodeInfo;
}

const enosys = 'ENOSYS' as const;
const success = 'success' as const;

export const OPCODES: readonly OpcodeInfo[] = [
  op('LOOKUP', {
    decode: R.decodeName, method: 'lookup', missing: enosys, encode: lookupEntry,
    call: (fs, s, r: R.NameIn, c) => (c.negativeTimeout > 0 ? lookupOrNegative(fs, s, r.name, c.negativeTimeout) : fs.lookup!(s.ctx, s.header.nodeid, r.name)),
  }),
  op('FORGET', {
    decode: R.decodeForget, method: 'forget', missing: success, noReply: true,
    call: (fs, s, r: R.ForgetIn) => fs.forget!(s.header.nodeid, r.nlookup),
  }),
  op('GETATTR', {
    decode: R.decodeGetattr, method: 'getattr', missing: enosys, encode: attr, flags: { getattrFlags: GetattrFlags },
    call: (fs, s, r: R.GetattrIn) => fs.getattr!(s.ctx, s.header.nodeid, (r.getattrFlags & GetattrFlags.mask.FH) !== 0 ? r.fh : undefined),
  }),
  op('SETATTR', {
    decode: R.decodeSetattr, method: 'setattr', missing: enosys, encode: attr, flags: { valid: SetattrValid },
    call: (fs, s, r: R.SetattrIn) => fs.setattr!(s.ctx, s.header.nodeid, setAttrOf(r)),
  }),
  op('READLINK', {
    decode: R.decodeEmpty, method: 'readlink', missing: enosys, encode: bytes,
    call: (fs, s) => fs.readlink!(s.ctx, s.header.nodeid),
  }),
  op('SYMLINK', {
    decode: R.decodeSymlink, method: 'symlink', missing: enosys, encode: entry,
    call: (fs, s, r: R.SymlinkIn) => fs.symlink!(s.ctx, s.header.nodeid, r.name, r.target),
  }),
  op('MKNOD', {
    decode: R.decodeMknod, method: 'mknod', missing: enosys, encode: entry,
    call: (fs, s, r: R.MknodIn) => fs.mknod!(s.ctx, s.header.nodeid, r.name, r.mode, r.rdev, r.umask),
  }),
  op('MKDIR', {
    decode: R.decodeMkdir, method: 'mkdir', missing: enosys, encode: entry,
    call: (fs, s, r: R.MkdirIn) => fs.mkdir!(s.ctx, s.header.nodeid, r.name, r.mode, r.umask),
  }),
  op('UNLINK', {
    decode: R.decodeName, method: 'unlink', missing: enosys,
    call: (fs, s, r: R.NameIn) => fs.unlink!(s.ctx, s.header.nodeid, r.name),
  }),
  op('RMDIR', {
    decode: R.decodeName, method: 'rmdir', missing: enosys,
    call: (fs, s, r: R.NameIn) => fs.rmdir!(s.ctx, s.header.nodeid, r.name),
  }),
  op('RENAME', {
    decode: R.decodeRename, method: 'rename', missing: enosys,
    call: (fs, s, r: R.RenameIn) => fs.rename!(s.ctx, s.header.nodeid, r.oldname, r.newdir, r.newname, r.flags),
  }),
  op('LINK', {
    decode: R.decodeLink, method: 'link', missing: enosys, encode: entry,
    call: (fs, s, r: R.LinkIn) => fs.link!(s.ctx, r.oldnodeid, s.header.nodeid, r.newname),
  }),
  op('OPEN', {
    // No open method: every open succeeds with fh 0 (stateless filesystems need not implement it).
    decode: R.decodeOpen, method: 'open', missing: { reply: { fh: 0 } }, encode: open, flags: { openFlags: OpenInFlags },
    call: (fs, s, r: R.OpenIn) => fs.open!(s.ctx, s.header.nodeid, r.flags, r.openFlags),
  }),
  op('READ', {
    decode: R.decodeRead, method: 'read', missing: enosys, flags: { readFlags: ReadFlags },
    call: (fs, s, r: R.ReadIn) => fs.read!(s.ctx, s.header.nodeid, r.fh, r.offset, r.size),
    encode: (_s, data: Uint8Array, r: R.ReadIn) => (data.length > r.size ? data.subarray(0, r.size) : data),
  }),
  op('WRITE', {
    decode: R.decodeWrite, method: 'write', missing: enosys, encode: written, flags: { writeFlags: WriteFlags },
    call: (fs, s, r: R.WriteIn) =>
      fs.write!(s.ctx, s.header.nodeid, r.fh, r.offset, s.input.buf.subarray(r.dataOffset, r.dataOffset + r.size), r.writeFlags, r.flags),
  }),
  op('STATFS', {
    decode: R.decodeEmpty, method: 'statfs', missing: { reply: DEFAULT_STATFS },
    call: (fs, s) => fs.statfs!(s.ctx, s.header.nodeid),
    encode: (s, v: StatFs) => Rp.encodeStatfsOut(s.out, H, v),
  }),
  op('RELEASE', {
    decode: R.decodeRelease, method: 'release', missing: success, flags: { releaseFlags: ReleaseFlags },
    call: (fs, s, r: R.ReleaseIn) => fs.release!(s.ctx, s.header.nodeid, r.fh, r.flags, r.releaseFlags, r.lockOwner),
  }),
  op('FSYNC', {
    decode: R.decodeFsync, method: 'fsync', missing: enosys, flags: { fsyncFlags: FsyncFlags },
    call: (fs, s, r: R.FsyncIn) => fs.fsync!(s.ctx, s.header.nodeid, r.fh, (r.fsyncFlags & FsyncFlags.mask.FDATASYNC) !== 0),
  }),
  op('SETXATTR', {
    decode: R.decodeSetxattr, method: 'setxattr', missing: enosys, flags: { setxattrFlags: SetxattrFlags },
    call: (fs, s, r: R.SetxattrIn) =>
      fs.setxattr!(s.ctx, s.header.nodeid, r.name, s.input.buf.subarray(r.valueOffset, r.valueOffset + r.size), r.flags),
  }),
  op('GETXATTR', {
    decode: R.decodeGetxattr, method: 'getxattr', missing: enosys,
    call: (fs, s, r: R.GetxattrIn) => fs.getxattr!(s.ctx, s.header.nodeid, r.name),
    encode: (s, v: Uint8Array, r: R.GetxattrIn) => xattrValue(s, v, r.size),
  }),
  op('LISTXATTR', {
    decode: R.decodeListxattr, method: 'listxattr', missing: enosys,
    call: (fs, s) => fs.listxattr!(s.ctx, s.header.nodeid),
    encode: (s, names: string[], r: R.ListxattrIn) => xattrValue(s, xattrNames(names), r.size),
  }),
  op('REMOVEXATTR', {
    decode: R.decodeName, method: 'removexattr', missing: enosys,
    call: (fs, s, r: R.NameIn) => fs.removexattr!(s.ctx, s.header.nodeid, r.name),
  }),
  op('FLUSH', {
    // ENOSYS: the kernel stops sending FLUSH on this connection.
    decode: R.decodeFlush, method: 'flush', missing: enosys,
    call: (fs, s, r: R.FlushIn) => fs.flush!(s.ctx, s.header.nodeid, r.fh, r.lockOwner),
  }),
  // The session answers INIT before any request is served; a second one is a protocol error.
  op('INIT', { decode: R.decodeInit, missing: 'EPROTO', flags: { flags: InitFlags } }),
  op('OPENDIR', {
    decode: R.decodeOpen, method: 'opendir', missing: { reply: { fh: 0 } }, encode: open,
    call: (fs, s, r: R.OpenIn) => fs.opendir!(s.ctx, s.header.nodeid, r.flags),
  }),
  op('READDIR', {
    decode: R.decodeRead, method: 'readdir', missing: enosys, encode: direntLength,
    call: (fs, s, r: R.ReadIn) => fs.readdir!(s.ctx, s.header.nodeid, r.fh, r.offset, s.dirents.reset(s.out, H, r.size)),
  }),
  op('RELEASEDIR', {
    decode: R.decodeRelease, method: 'releasedir', missing: success,
    call: (fs, s, r: R.ReleaseIn) => fs.releasedir!(s.ctx, s.header.nodeid, r.fh, r.flags),
  }),
  op('FSYNCDIR', {
    decode: R.decodeFsync, method: 'fsyncdir', missing: enosys, flags: { fsyncFlags: FsyncFlags },
    call: (fs, s, r: R.FsyncIn) => fs.fsyncdir!(s.ctx, s.header.nodeid, r.fh, (r.fsyncFlags & FsyncFlags.mask.FDATASYNC) !== 0),
  }),
  op('GETLK', {
    decode: R.decodeLk, method: 'getlk', missing: enosys, flags: { lkFlags: LkFlags },
    call: (fs, s, r: R.LkIn) => fs.getlk!(s.ctx, s.header.nodeid, r.fh, r.owner, lockOf(r)),
    encode: (s, lk: Parameters<typeof Rp.encodeLkOut>[2]) => Rp.encodeLkOut(s.out, H, lk),
  }),
  op('SETLK', {
    decode: R.decodeLk, method: 'setlk', missing: enosys, flags: { lkFlags: LkFlags },
    call: (fs, s, r: R.LkIn) => fs.setlk!(s.ctx, s.header.nodeid, r.fh, r.owner, lockOf(r), false, (r.lkFlags & LkFlags.mask.FLOCK) !== 0),
  }),
  op('SETLKW', {
    decode: R.decodeLk, method: 'setlk', missing: enosys, flags: { lkFlags: LkFlags },
    call: (fs, s, r: R.LkIn) => fs.setlk!(s.ctx, s.header.nodeid, r.fh, r.owner, lockOf(r), true, (r.lkFlags & LkFlags.mask.FLOCK) !== 0),
  }),
  op('ACCESS', {
    decode: R.decodeAccess, method: 'access', missing: enosys,
    call: (fs, s, r: R.AccessIn) => fs.access!(s.ctx, s.header.nodeid, r.mask),
  }),
  op('CREATE', {
    decode: R.decodeCreate, method: 'create', missing: enosys, encode: create, flags: { openFlags: OpenInFlags },
    call: (fs, s, r: R.CreateIn) => fs.create!(s.ctx, s.header.nodeid, r.name, r.mode, r.umask, r.flags, r.openFlags),
  }),
  // Served by the server itself (the interrupt table); never answered.
  op('INTERRUPT', { decode: R.decodeInterrupt, missing: success }),
  op('BMAP', {
    decode: R.decodeBmap, method: 'bmap', missing: enosys,
    call: (fs, s, r: R.BmapIn) => fs.bmap!(s.ctx, s.header.nodeid, r.blocksize, r.block),
    encode: (s, block: number) => Rp.encodeBmapOut(s.out, H, block),
  }),
  op('DESTROY', { decode: R.decodeEmpty, method: 'destroy', missing: success, call: (fs) => fs.destroy!() }),
  op('IOCTL', {
    decode: R.decodeIoctl, method: 'ioctl', missing: enosys, flags: { flags: IoctlFlags },
    call: (fs, s, r: R.IoctlIn) =>
      fs.ioctl!(s.ctx, s.header.nodeid, r.fh, r.flags, r.cmd, r.arg, Buffer.from(s.input.buf.subarray(r.dataOffset, r.dataOffset + r.inSize)), r.outSize),
    encode: (s, v: { result: number; data?: Uint8Array }, r: R.IoctlIn) => Rp.encodeIoctlOut(s.out, H, v.result, v.data?.subarray(0, r.outSize)),
  }),
  op('POLL', {
    decode: R.decodePoll, method: 'poll', missing: enosys, flags: { flags: PollFlags },
    call: (fs, s, r: R.PollIn) => fs.poll!(s.ctx, s.header.nodeid, r.fh, r.kh, r.flags, r.events),
    encode: (s, revents: number) => Rp.encodePollOut(s.out, H, revents),
  }),
  // Served by the server itself (answers to retrieve notifications); never answered.
  op('NOTIFY_REPLY', { decode: R.decodeNotifyReply, missing: success, noReply: true }),
  op('BATCH_FORGET', {
    decode: R.decodeBatchForget, method: 'forget', missing: success, noReply: true,
    call: (fs, s, r: R.BatchForgetIn) => R.forEachForgetOne(s.input, r, (id, n) => fs.forget!(id, n)),
  }),
  op('FALLOCATE', {
    decode: R.decodeFallocate, method: 'fallocate', missing: enosys,
    call: (fs, s, r: R.FallocateIn) => fs.fallocate!(s.ctx, s.header.nodeid, r.fh, r.offset, r.length, r.mode),
  }),
  op('READDIRPLUS', {
    decode: R.decodeRead, method: 'readdirplus', missing: enosys, encode: direntPlusLength,
    call: (fs, s, r: R.ReadIn, c) => {
      const writer = s.direntsPlus.reset(s.out, H, r.size);
      writer.defaults = c.cache;
      return fs.readdirplus!(s.ctx, s.header.nodeid, r.fh, r.offset, writer);
    },
  }),
  op('RENAME2', {
    decode: R.decodeRename2, method: 'rename', missing: enosys,
    call: (fs, s, r: R.RenameIn) => fs.rename!(s.ctx, s.header.nodeid, r.oldname, r.newdir, r.newname, r.flags),
  }),
  op('LSEEK', {
    decode: R.decodeLseek, method: 'lseek', missing: enosys,
    call: (fs, s, r: R.LseekIn) => fs.lseek!(s.ctx, s.header.nodeid, r.fh, r.offset, r.whence),
    encode: (s, offset: number) => Rp.encodeLseekOut(s.out, H, offset),
  }),
  op('COPY_FILE_RANGE', {
    // The 32-bit reply of COPY_FILE_RANGE cannot say more than 4 GiB - 1.
    decode: R.decodeCopyFileRange, method: 'copyFileRange', missing: enosys, encode: written,
    call: (fs, s, r: R.CopyFileRangeIn) =>
      fs.copyFileRange!(s.ctx, s.header.nodeid, r.fhIn, r.offIn, r.nodeidOut, r.fhOut, r.offOut, Math.min(r.len, 0xfffff000), r.flags),
  }),
  // DAX windows exist only for virtiofs.
  op('SETUPMAPPING', { decode: R.decodeSetupmapping, missing: enosys }),
  op('REMOVEMAPPING', { decode: R.decodeRemovemapping, missing: enosys }),
  op('SYNCFS', {
    decode: R.decodeEmpty, method: 'syncfs', missing: enosys,
    call: (fs, s) => fs.syncfs!(s.ctx, s.header.nodeid),
  }),
  op('TMPFILE', {
    decode: R.decodeCreate, method: 'tmpfile', missing: enosys, encode: create,
    call: (fs, s, r: R.CreateIn) => fs.tmpfile!(s.ctx, s.header.nodeid, r.mode, r.umask, r.flags),
  }),
  op('STATX', {
    decode: R.decodeStatx, method: 'statx', missing: enosys, flags: { getattrFlags: GetattrFlags },
    call: (fs, s, r: R.StatxIn) =>
      fs.statx!(s.ctx, s.header.nodeid, (r.getattrFlags & GetattrFlags.mask.FH) !== 0 ? r.fh : undefined, r.sxFlags, r.sxMask),
    encode: (s, v: Parameters<typeof Rp.encodeStatxOut>[2], _r, c) => Rp.encodeStatxOut(s.out, H, v, c.cache),
  }),
  op('COPY_FILE_RANGE_64', {
    decode: R.decodeCopyFileRange, method: 'copyFileRange', missing: enosys,
    call: (fs, s, r: R.CopyFileRangeIn) =>
      fs.copyFileRange!(s.ctx, s.header.nodeid, r.fhIn, r.offIn, r.nodeidOut, r.fhOut, r.offOut, r.len, r.flags),
    encode: (s, n: number) => Rp.encodeCopyFileRange64Out(s.out, H, n),
  }),
];

/** Indexed by opcode number (sparse). */
export const OPCODE_TABLE: readonly (OpcodeInfo | undefined)[] = (() => {
  const t: (OpcodeInfo | undefined)[] = [];
  for (const r of OPCODES) t[r.opcode] = r;
  return t;
})();

export function opcodeName(op: number): string {
  return OPCODE_TABLE[op]?.name ?? (op === Opcode.CUSE_INIT ? 'CUSE_INIT' : `OPCODE_${op}`);
}

/** A decoded body as text for traces: JSON, with every flag field of the row spelled by bit name. */
export function formatBody(row: OpcodeInfo, body: unknown): string {
  const flags = row.flags;
  return JSON.stringify(body, (k, v) => {
    if (typeof v === 'bigint') return v.toString();
    if (flags !== undefined && typeof v === 'number' && Object.hasOwn(flags, k)) return flags[k].format(v);
    return v;
  });
}

/** A whole request decoded into fresh objects: for tests, tools and debug output (not the hot path). */
export interface DecodedRequest {
  header: R.InHeader;
  name: string;
  body: unknown;
}

export function decodeRequest(w: WireBuffer, len = w.length, setxattrExt = false): DecodedRequest {
  if (len < 40) throw new R.DecodeError(`request shorter than fuse_in_header (${len})`);
  const header = R.decodeInHeader(w, 0, R.newInHeader());
  if (header.len > len) throw new R.DecodeError(`header length ${header.len} exceeds ${len} bytes read`);
  if (header.len < 40 || header.extLen > header.len - 40) {
    throw new R.DecodeError(`header length ${header.len} leaves no room for the header and ${header.extLen} bytes of extensions`);
  }
  const info = OPCODE_TABLE[header.opcode];
  if (!info) return { header, name: opcodeName(header.opcode), body: undefined };
  const body = info.decode(w, 40, header.len - header.extLen, undefined, setxattrExt);
  return { header, name: info.name, body };
}
