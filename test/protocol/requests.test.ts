// Request decoding: for every opcode 1..53 a request written byte by byte with Buffer writes (never with our
// encoders), decoded through decodeRequest and through the opcode's own decoder, with every field checked.
// Also: the in-header (unique with the resend bit, nodeid above 2^32, total_extlen), extensions after the
// op body, short bodies, and that every opcode has a row in OPCODES and a handler in the server.

import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { InitFlags, Opcode, OpcodeName } from '../../src/protocol/abi.js';
import { OPCODES, OPCODE_TABLE, decodeRequest, opcodeName, type Decoder } from '../../src/protocol/opcodes.js';
import * as R from '../../src/protocol/requests.js';
import { DecodeError } from '../../src/protocol/requests.js';
import { encodeFileLock } from '../../src/protocol/replies.js';
import { WireBuffer } from '../../src/protocol/wire.js';
import { servedOpcodes } from '../../src/server/dispatch.js';

// ---- byte builders (plain Buffer writes) ----

class Bytes {
  private parts: Buffer[] = [];
  private put(n: number, f: (b: Buffer) => void): this {
    const b = Buffer.alloc(n);
    f(b);
    this.parts.push(b);
    return this;
  }
  u16(v: number): this { return this.put(2, (b) => b.writeUInt16LE(v)); }
  u32(v: number): this { return this.put(4, (b) => b.writeUInt32LE(v)); }
  i32(v: number): this { return this.put(4, (b) => b.writeInt32LE(v)); }
  u64(v: number | bigint): this { return this.put(8, (b) => b.writeBigUInt64LE(BigInt(v))); }
  i64(v: number | bigint): this { return this.put(8, (b) => b.writeBigInt64LE(BigInt(v))); }
  /** NUL-terminated UTF-8. */
  str(s: string): this { return this.raw(Buffer.concat([Buffer.from(s, 'utf8'), Buffer.from([0])])); }
  raw(b: Uint8Array): this { this.parts.push(Buffer.from(b)); return this; }
  zeros(n: number): this { return this.put(n, () => {}); }
  get buf(): Buffer { return Buffer.concat(this.parts); }
}
const b = () => new Bytes();

interface Hdr {
  unique?: bigint;
  nodeid?: bigint;
  uid?: number;
  gid?: number;
  pid?: number;
  /** Extension bytes after the op body (a multiple of 8). */
  ext?: Buffer;
  /** Override fuse_in_header.len. */
  len?: number;
  /** Override total_extlen (8-byte units). */
  extUnits?: number;
}

const UNIQUE = 0x1_2345_6789n; // above 2^32
const NODEID = 2n ** 40n + 17n;

function request(opcode: number, body: Buffer, h: Hdr = {}): { w: WireBuffer; n: number; end: number } {
  const ext = h.ext ?? Buffer.alloc(0);
  const n = 40 + body.length + ext.length;
  const hdr = Buffer.alloc(40);
  hdr.writeUInt32LE(h.len ?? n, 0);
  hdr.writeUInt32LE(opcode, 4);
  hdr.writeBigUInt64LE(h.unique ?? UNIQUE, 8);
  hdr.writeBigUInt64LE(h.nodeid ?? NODEID, 16);
  hdr.writeUInt32LE(h.uid ?? 1000, 24);
  hdr.writeUInt32LE(h.gid ?? 100, 28);
  hdr.writeUInt32LE(h.pid ?? 4242, 32);
  hdr.writeUInt16LE(h.extUnits ?? ext.length / 8, 36);
  hdr.writeUInt16LE(0xbeef, 38); // padding: must be ignored
  return { w: WireBuffer.from(Buffer.concat([hdr, body, ext])), n, end: 40 + body.length };
}

/**
 * Decodes through decodeRequest and through `decoder` directly; checks the table row uses `decoder`, the
 * header fields, and that both bodies deep-equal `expected`. Returns the body.
 */
const exercised = new Set<number>();

function check<T>(op: OpcodeName, decoder: Decoder<T>, body: Buffer, expected: T, h: Hdr = {}): T {
  const code = Opcode[op];
  exercised.add(code);
  const { w, n, end } = request(code, body, h);
  assert.is(OPCODE_TABLE[code]?.decode, decoder as Decoder<unknown>, `${op}: table row uses the decoder`);
  const r = decodeRequest(w, n);
  assert.is(r.name, op);
  assert.is(r.header.opcode, code);
  assert.is(r.header.len, n);
  assert.is(r.header.unique, Number(h.unique ?? UNIQUE));
  assert.is(r.header.nodeid, Number(h.nodeid ?? NODEID));
  assert.is(r.header.uid, h.uid ?? 1000);
  assert.is(r.header.gid, h.gid ?? 100);
  assert.is(r.header.pid, h.pid ?? 4242);
  assert.is(r.header.extLen, h.ext?.length ?? 0);
  assert.equal(r.body, expected, `${op} via decodeRequest`);
  const direct = decoder(w, 40, end);
  assert.equal(direct, expected, `${op} via its decoder`);
  return direct;
}

function short<T>(decoder: Decoder<T>, body: Buffer, what: string): void {
  const { w, end } = request(1, body);
  assert.throws(() => decoder(w, 40, end), (e: unknown) => e instanceof DecodeError, `${what}: short body throws DecodeError`);
}

const NAME = 'héllo wörld ✓ 🎉 日本語';
const BIG = 2 ** 40 + 0x1234; // a u64 above 2^32, exact as a Number
const OFFSET_MAX = 0x7fffffffffffffffn;

// ---- the in-header ----

test('header: len, opcode, unique above 2^32, nodeid above 2^32, uid/gid/pid, padding ignored', () => {
  const { w, n } = request(Opcode.GETATTR, b().u32(0).u32(0).u64(0).buf, { unique: 2n ** 52n + 3n, nodeid: 2n ** 52n + 1n, uid: 0xfffffffe, gid: 0, pid: 1 });
  const r = decodeRequest(w, n);
  assert.is(r.header.len, 56);
  assert.is(r.header.unique, 2 ** 52 + 3);
  assert.is(r.header.uniqueLo, 3);
  assert.is(r.header.uniqueHi, 0x100000);
  assert.is(r.header.nodeid, 2 ** 52 + 1);
  assert.is(r.header.uid, 0xfffffffe);
  assert.is(r.header.gid, 0);
  assert.is(r.header.pid, 1);
  assert.is(r.header.extLen, 0);
});

test('header: FUSE_UNIQUE_RESEND (bit 63) is masked off unique but kept in uniqueHi for the reply', () => {
  const { w, n } = request(Opcode.STATFS, Buffer.alloc(0), { unique: (1n << 63n) | 0x5_0000_0007n });
  const h = decodeRequest(w, n).header;
  assert.is(h.unique, 0x5_0000_0007);
  assert.is(h.uniqueLo, 7);
  assert.is(h.uniqueHi, 0x80000005);
});

test('header: a buffer shorter than fuse_in_header, or len beyond the bytes read, throws DecodeError', () => {
  const w = WireBuffer.from(Buffer.alloc(32));
  assert.throws(() => decodeRequest(w, 32), (e: unknown) => e instanceof DecodeError);
  const { w: w2, n } = request(Opcode.LOOKUP, b().str('x').buf, { len: 200 });
  assert.throws(() => decodeRequest(w2, n), (e: unknown) => e instanceof DecodeError);
});

test('header: unknown opcodes decode to a name and no body (7, 19, 54, CUSE_INIT)', () => {
  for (const op of [7, 19, 54, 4096]) {
    const { w, n } = request(op, Buffer.alloc(8));
    const r = decodeRequest(w, n);
    assert.is(r.body, undefined);
    assert.is(r.name, op === 4096 ? 'CUSE_INIT' : `OPCODE_${op}`);
    assert.is(opcodeName(op), r.name);
  }
});

// ---- every opcode ----

test('LOOKUP (1): UTF-8 name', () => {
  check('LOOKUP', R.decodeName, b().str(NAME).buf, { name: NAME });
});

test('FORGET (2): nlookup above 2^32', () => {
  check('FORGET', R.decodeForget, b().u64(BIG).buf, { nlookup: BIG });
  short(R.decodeForget, b().u32(1).buf, 'FORGET');
});

test('GETATTR (3): getattr_flags and fh above 2^32; an empty body (old kernels) reads as zeros', () => {
  check('GETATTR', R.decodeGetattr, b().u32(1).u32(0xdeadbeef).u64(BIG).buf, { getattrFlags: 1, fh: BIG });
  check('GETATTR', R.decodeGetattr, Buffer.alloc(0), { getattrFlags: 0, fh: 0 });
});

test('SETATTR (4): every field, size above 2^32, negative (pre-1970) times', () => {
  const body = b()
    .u32(0xfff).u32(0xaaaaaaaa) // valid, padding
    .u64(BIG + 1).u64(BIG + 2).u64(BIG + 3) // fh, size, lock_owner
    .i64(-86400).i64(1_700_000_000).i64(2 ** 33) // atime, mtime, ctime
    .u32(999_999_999).u32(1).u32(2) // nsecs
    .u32(0o104755).u32(0xbbbbbbbb).u32(0xfffffffe).u32(12345).u32(0xcccccccc) // mode, unused4, uid, gid, unused5
    .buf;
  assert.is(body.length, 88);
  check('SETATTR', R.decodeSetattr, body, {
    valid: 0xfff, fh: BIG + 1, size: BIG + 2, lockOwner: BIG + 3, atime: -86400, mtime: 1_700_000_000, ctime: 2 ** 33,
    atimensec: 999_999_999, mtimensec: 1, ctimensec: 2, mode: 0o104755, uid: 0xfffffffe, gid: 12345,
  });
  short(R.decodeSetattr, body.subarray(0, 87), 'SETATTR');
});

test('READLINK (5): empty body', () => {
  check('READLINK', R.decodeEmpty, Buffer.alloc(0), {});
});

test('SYMLINK (6): the entry name comes first, then the target', () => {
  check('SYMLINK', R.decodeSymlink, b().str('lïnk').str('../tärget/dir/файл').buf, { name: 'lïnk', target: '../tärget/dir/файл' });
});

test('MKNOD (8): mode, rdev, umask, name', () => {
  const body = b().u32(0o20644).u32(0x0801).u32(0o022).u32(0).str(NAME).buf;
  check('MKNOD', R.decodeMknod, body, { mode: 0o20644, rdev: 0x0801, umask: 0o022, name: NAME });
  short(R.decodeMknod, b().u32(0o20644).u32(0).buf, 'MKNOD');
});

test('MKDIR (9): mode, umask, name', () => {
  check('MKDIR', R.decodeMkdir, b().u32(0o40755).u32(0o027).str('dïr').buf, { mode: 0o40755, umask: 0o027, name: 'dïr' });
  short(R.decodeMkdir, b().u32(0o40755).buf, 'MKDIR');
});

test('UNLINK (10) and RMDIR (11): name', () => {
  check('UNLINK', R.decodeName, b().str('🗑 file').buf, { name: '🗑 file' });
  check('RMDIR', R.decodeName, b().str('d').buf, { name: 'd' });
});

test('RENAME (12): newdir above 2^32, old and new name in that order', () => {
  check('RENAME', R.decodeRename, b().u64(BIG).str('äld').str('nëw').buf, { newdir: BIG, flags: 0, oldname: 'äld', newname: 'nëw' });
  short(R.decodeRename, b().u32(1).buf, 'RENAME');
});

test('LINK (13): oldnodeid above 2^32, new name', () => {
  check('LINK', R.decodeLink, b().u64(BIG).str('hård').buf, { oldnodeid: BIG, newname: 'hård' });
  short(R.decodeLink, b().u32(1).buf, 'LINK');
});

test('OPEN (14): flags and open_flags', () => {
  check('OPEN', R.decodeOpen, b().u32(0o100002).u32(1).buf, { flags: 0o100002, openFlags: 1 });
  short(R.decodeOpen, b().u32(2).buf, 'OPEN');
});

test('READ (15): fh/offset above 2^32, size, read_flags, lock_owner, flags; 24-byte compat body', () => {
  const body = b().u64(BIG).u64(BIG * 2).u32(131072).u32(2).u64(0xabcdef0123).u32(0o100000).u32(0).buf;
  check('READ', R.decodeRead, body, { fh: BIG, offset: BIG * 2, size: 131072, readFlags: 2, lockOwner: 0xabcdef0123, flags: 0o100000 });
  check('READ', R.decodeRead, body.subarray(0, 24), { fh: BIG, offset: BIG * 2, size: 131072, readFlags: 2, lockOwner: 0, flags: 0 });
  short(R.decodeRead, body.subarray(0, 23), 'READ');
});

test('WRITE (16): every field and the data offset (header 40 + write_in 40 = 80)', () => {
  const data = Buffer.from('payload ✓ bytes');
  const body = b().u64(7).u64(BIG).u32(data.length).u32(7).u64(99).u32(0o2).u32(0).raw(data).buf;
  const r = check('WRITE', R.decodeWrite, body, { fh: 7, offset: BIG, size: data.length, writeFlags: 7, lockOwner: 99, flags: 2, dataOffset: 80 });
  const { w } = request(Opcode.WRITE, body);
  assert.equal(Buffer.from(w.buf.subarray(r.dataOffset, r.dataOffset + r.size)), data);
  // data shorter than size, and a short write_in
  const lying = b().u64(7).u64(0).u32(100).u32(0).u64(0).u32(0).u32(0).raw(data).buf;
  short(R.decodeWrite, lying, 'WRITE data');
  short(R.decodeWrite, body.subarray(0, 39), 'WRITE');
});

test('STATFS (17): empty body', () => {
  check('STATFS', R.decodeEmpty, Buffer.alloc(0), {});
});

test('RELEASE (18): fh, flags, release_flags, lock_owner', () => {
  check('RELEASE', R.decodeRelease, b().u64(BIG).u32(0o2).u32(3).u64(BIG + 9).buf, { fh: BIG, flags: 2, releaseFlags: 3, lockOwner: BIG + 9 });
  short(R.decodeRelease, Buffer.alloc(16), 'RELEASE');
});

test('FSYNC (20): fh, fsync_flags', () => {
  check('FSYNC', R.decodeFsync, b().u64(BIG).u32(1).u32(0).buf, { fh: BIG, fsyncFlags: 1 });
  short(R.decodeFsync, Buffer.alloc(8), 'FSYNC');
});

test('SETXATTR (21): compat 8-byte header: size, flags, name, value offset', () => {
  const value = Buffer.from([1, 2, 3, 0, 255]);
  const body = b().u32(value.length).u32(2).str('user.ñame').raw(value).buf;
  const r = check('SETXATTR', R.decodeSetxattr, body, { size: 5, flags: 2, setxattrFlags: 0, name: 'user.ñame', valueOffset: 40 + 8 + 11 });
  const { w } = request(Opcode.SETXATTR, body);
  assert.equal(Buffer.from(w.buf.subarray(r.valueOffset, r.valueOffset + r.size)), value);
});

test('SETXATTR (21): with FUSE_SETXATTR_EXT: 16-byte header with setxattr_flags', () => {
  const value = Buffer.from('välue');
  const body = b().u32(value.length).u32(1).u32(1).u32(0).str('system.posix_acl_access').raw(value).buf;
  const { w, end } = request(Opcode.SETXATTR, body);
  const r = R.decodeSetxattr(w, 40, end, undefined, true);
  assert.equal(r, { size: value.length, flags: 1, setxattrFlags: 1, name: 'system.posix_acl_access', valueOffset: 40 + 16 + 24 });
  assert.equal(Buffer.from(w.buf.subarray(r.valueOffset, r.valueOffset + r.size)), value);
  // the value may be empty
  const empty = request(Opcode.SETXATTR, b().u32(0).u32(0).u32(0).u32(0).str('user.e').buf);
  assert.equal(R.decodeSetxattr(empty.w, 40, empty.end, undefined, true), { size: 0, flags: 0, setxattrFlags: 0, name: 'user.e', valueOffset: 40 + 16 + 7 });
  short((w2, o, e) => R.decodeSetxattr(w2, o, e, undefined, true), b().u32(0).u32(0).u32(0).buf, 'SETXATTR ext');
  short(R.decodeSetxattr, b().u32(10).u32(0).str('user.x').raw(Buffer.from('short')).buf, 'SETXATTR value');
});

test('GETXATTR (22): size and name', () => {
  check('GETXATTR', R.decodeGetxattr, b().u32(4096).u32(0).str('trusted.överlay').buf, { size: 4096, name: 'trusted.överlay' });
  short(R.decodeGetxattr, b().u32(1).buf, 'GETXATTR');
});

test('LISTXATTR (23): size', () => {
  check('LISTXATTR', R.decodeListxattr, b().u32(0).u32(0).buf, { size: 0 });
  short(R.decodeListxattr, b().u32(1).buf, 'LISTXATTR');
});

test('REMOVEXATTR (24): name', () => {
  check('REMOVEXATTR', R.decodeName, b().str('user.gone').buf, { name: 'user.gone' });
});

test('FLUSH (25): fh and lock_owner (after two unused words)', () => {
  check('FLUSH', R.decodeFlush, b().u64(BIG).u32(0xffffffff).u32(0xffffffff).u64(BIG + 5).buf, { fh: BIG, lockOwner: BIG + 5 });
  short(R.decodeFlush, Buffer.alloc(20), 'FLUSH');
});

test('INIT (26): 64-byte body of a 7.45 kernel: flags2 counted because INIT_EXT is set', () => {
  const body = b().u32(7).u32(45).u32(131072).u32(0x73fffffb).u32(0x5fd).zeros(44).buf;
  assert.is(body.length, 64);
  const r = check('INIT', R.decodeInit, body, { major: 7, minor: 45, maxReadahead: 131072, flags: 0x5fd * 2 ** 32 + 0x73fffffb });
  assert.ok(InitFlags.has(r.flags, 'INIT_EXT'));
  assert.ok(InitFlags.has(r.flags, 'PASSTHROUGH'));
  assert.ok(InitFlags.has(r.flags, 'REQUEST_TIMEOUT'));
});

test('INIT (26): flags2 is ignored without INIT_EXT', () => {
  const body = b().u32(7).u32(45).u32(65536).u32(0x3ffffffb).u32(0x5fd).zeros(44).buf;
  check('INIT', R.decodeInit, body, { major: 7, minor: 45, maxReadahead: 65536, flags: 0x3ffffffb });
});

test('INIT (26): 16-byte body of an old kernel (7.22), no flags2', () => {
  check('INIT', R.decodeInit, b().u32(7).u32(22).u32(32768).u32(0x0000fffb).buf, { major: 7, minor: 22, maxReadahead: 32768, flags: 0xfffb });
  short(R.decodeInit, b().u32(7).buf, 'INIT');
});

test('OPENDIR (27): open_in', () => {
  check('OPENDIR', R.decodeOpen, b().u32(0o200000).u32(0).buf, { flags: 0o200000, openFlags: 0 });
});

test('READDIR (28): read_in with offset above 2^32', () => {
  check('READDIR', R.decodeRead, b().u64(3).u64(BIG).u32(4096).u32(0).u64(0).u32(0o200000).u32(0).buf,
    { fh: 3, offset: BIG, size: 4096, readFlags: 0, lockOwner: 0, flags: 0o200000 });
});

test('RELEASEDIR (29): release_in', () => {
  check('RELEASEDIR', R.decodeRelease, b().u64(3).u32(0o200000).u32(0).u64(0).buf, { fh: 3, flags: 0o200000, releaseFlags: 0, lockOwner: 0 });
});

test('FSYNCDIR (30): fsync_in', () => {
  check('FSYNCDIR', R.decodeFsync, b().u64(3).u32(0).u32(0).buf, { fh: 3, fsyncFlags: 0 });
});

function lkBody(start: bigint, end: bigint, type: number, flags: number): Buffer {
  return b().u64(BIG).u64(0xfeedface_cafen).u64(start).u64(end).u32(type).u32(31337).u32(flags).u32(0).buf;
}

test('GETLK (31), SETLK (32), SETLKW (33): fh, owner, lock range, type, pid, lk_flags', () => {
  for (const op of ['GETLK', 'SETLK', 'SETLKW'] as const) {
    check(op, R.decodeLk, lkBody(BigInt(BIG), BigInt(BIG) + 99n, 1, 1), {
      fh: BIG, owner: 0xfeedface_cafe, lk: { start: BIG, end: BIG + 99, type: 1, pid: 31337 }, lkFlags: 1,
    });
  }
  short(R.decodeLk, lkBody(0n, 0n, 0, 0).subarray(0, 44), 'LK');
});

test('SETLK: end = OFFSET_MAX ("to EOF") decodes at or past 2^53 and re-encodes as OFFSET_MAX', () => {
  const { w, end } = request(Opcode.SETLK, lkBody(0n, OFFSET_MAX, 0, 0));
  const r = R.decodeLk(w, 40, end);
  assert.ok(r.lk.end >= Number.MAX_SAFE_INTEGER);
  const out = new WireBuffer(64);
  encodeFileLock(out, 0, r.lk);
  assert.is(out.buf.readBigUInt64LE(8), OFFSET_MAX);
});

test('ACCESS (34): mask', () => {
  check('ACCESS', R.decodeAccess, b().u32(7).u32(0).buf, { mask: 7 });
  short(R.decodeAccess, b().u16(7).buf, 'ACCESS');
});

test('CREATE (35): flags, mode, umask, open_flags, name', () => {
  check('CREATE', R.decodeCreate, b().u32(0o100101).u32(0o100644).u32(0o022).u32(1).str(NAME).buf,
    { flags: 0o100101, mode: 0o100644, umask: 0o022, openFlags: 1, name: NAME });
  short(R.decodeCreate, b().u32(0).u32(0).u32(0).buf, 'CREATE');
});

test('INTERRUPT (36): the unique of the interrupted request, above 2^32', () => {
  check('INTERRUPT', R.decodeInterrupt, b().u64(0x7_0000_0001n).buf, { unique: 0x7_0000_0001 });
  short(R.decodeInterrupt, b().u32(1).buf, 'INTERRUPT');
});

test('BMAP (37): block above 2^32, blocksize', () => {
  check('BMAP', R.decodeBmap, b().u64(BIG).u32(4096).u32(0).buf, { block: BIG, blocksize: 4096 });
  short(R.decodeBmap, b().u64(1).buf, 'BMAP');
});

test('DESTROY (38): empty body', () => {
  check('DESTROY', R.decodeEmpty, Buffer.alloc(0), {});
});

test('IOCTL (39): fh, flags, cmd above 2^31, arg above 2^32, in/out sizes, data offset; in_size clamped to the body', () => {
  const data = Buffer.from([9, 8, 7, 6]);
  const body = b().u64(BIG).u32(0x10 | 0x2).u32(0xc0186601).u64(2 ** 47 + 8).u32(4).u32(24).raw(data).buf;
  const r = check('IOCTL', R.decodeIoctl, body, { fh: BIG, flags: 0x12, cmd: 0xc0186601, arg: 2 ** 47 + 8, inSize: 4, outSize: 24, dataOffset: 72 });
  const { w } = request(Opcode.IOCTL, body);
  assert.equal(Buffer.from(w.buf.subarray(r.dataOffset, r.dataOffset + r.inSize)), data);
  const lying = request(Opcode.IOCTL, b().u64(1).u32(0).u32(1).u64(0).u32(100).u32(0).raw(data).buf);
  assert.is(R.decodeIoctl(lying.w, 40, lying.end).inSize, 4);
  short(R.decodeIoctl, Buffer.alloc(28), 'IOCTL');
});

test('POLL (40): fh, kh, flags, events', () => {
  check('POLL', R.decodePoll, b().u64(BIG).u64(BIG + 1).u32(1).u32(0x1 | 0x4).buf, { fh: BIG, kh: BIG + 1, flags: 1, events: 5 });
  short(R.decodePoll, Buffer.alloc(20), 'POLL');
});

test('NOTIFY_REPLY (41): retrieve_in offset/size and the data after it', () => {
  const data = Buffer.from('retrieved');
  const body = b().u64(0).u64(BIG).u32(data.length).u32(0).u64(0).u64(0).raw(data).buf;
  const r = check('NOTIFY_REPLY', R.decodeNotifyReply, body, { offset: BIG, size: data.length, dataOffset: 80 });
  const { w } = request(Opcode.NOTIFY_REPLY, body);
  assert.equal(Buffer.from(w.buf.subarray(r.dataOffset, r.dataOffset + r.size)), data);
  short(R.decodeNotifyReply, Buffer.alloc(32), 'NOTIFY_REPLY');
});

test('BATCH_FORGET (42): several (nodeid, nlookup) entries, through forgetItems and forEachBatchForget', () => {
  const items = [{ nodeid: 2, nlookup: 1 }, { nodeid: BIG, nlookup: BIG + 1 }, { nodeid: 2 ** 52, nlookup: 7 }];
  const body = b().u32(items.length).u32(0);
  for (const it of items) body.u64(it.nodeid).u64(it.nlookup);
  const r = check('BATCH_FORGET', R.decodeBatchForget, body.buf, { count: 3, first: 48 });
  const { w, end } = request(Opcode.BATCH_FORGET, body.buf);
  assert.equal(R.forgetItems(w, r), items);
  const seen: [number, number][] = [];
  R.forEachBatchForget(w, 40, end, (id, n) => seen.push([id, n]));
  assert.equal(seen, items.map((i) => [i.nodeid, i.nlookup]));
  // a count larger than the entries present stops at the body end
  const trunc = request(Opcode.BATCH_FORGET, b().u32(5).u32(0).u64(9).u64(1).buf);
  assert.equal(R.forgetItems(trunc.w, R.decodeBatchForget(trunc.w, 40, trunc.end)), [{ nodeid: 9, nlookup: 1 }]);
  short(R.decodeBatchForget, b().u32(1).buf, 'BATCH_FORGET');
});

test('FALLOCATE (43): fh, offset, length above 2^32, mode', () => {
  check('FALLOCATE', R.decodeFallocate, b().u64(1).u64(BIG).u64(BIG * 3).u32(0x3).u32(0).buf, { fh: 1, offset: BIG, length: BIG * 3, mode: 3 });
  short(R.decodeFallocate, Buffer.alloc(24), 'FALLOCATE');
});

test('READDIRPLUS (44): read_in', () => {
  check('READDIRPLUS', R.decodeRead, b().u64(8).u64(17).u32(8192).u32(0).u64(0).u32(0).u32(0).buf,
    { fh: 8, offset: 17, size: 8192, readFlags: 0, lockOwner: 0, flags: 0 });
});

test('RENAME2 (45): newdir, flags (RENAME_EXCHANGE), old and new name', () => {
  check('RENAME2', R.decodeRename2, b().u64(BIG).u32(2).u32(0).str('ä').str('b/ø').buf, { newdir: BIG, flags: 2, oldname: 'ä', newname: 'b/ø' });
  short(R.decodeRename2, b().u64(1).buf, 'RENAME2');
});

test('LSEEK (46): negative offsets (SEEK_CUR back) and offsets above 2^32', () => {
  check('LSEEK', R.decodeLseek, b().u64(5).i64(-10).u32(1).u32(0).buf, { fh: 5, offset: -10, whence: 1 });
  check('LSEEK', R.decodeLseek, b().u64(5).i64(-(2 ** 40)).u32(2).u32(0).buf, { fh: 5, offset: -(2 ** 40), whence: 2 });
  check('LSEEK', R.decodeLseek, b().u64(5).i64(BIG).u32(3).u32(0).buf, { fh: 5, offset: BIG, whence: 3 });
  short(R.decodeLseek, Buffer.alloc(16), 'LSEEK');
});

function cfrBody(): Buffer {
  return b().u64(1).u64(BIG).u64(BIG + 1).u64(2).u64(BIG + 2).u64(2 ** 33).u64(0).buf;
}
const CFR = { fhIn: 1, offIn: BIG, nodeidOut: BIG + 1, fhOut: 2, offOut: BIG + 2, len: 2 ** 33, flags: 0 };

test('COPY_FILE_RANGE (47): both files, offsets and a length above 4 GiB', () => {
  check('COPY_FILE_RANGE', R.decodeCopyFileRange, cfrBody(), CFR);
  short(R.decodeCopyFileRange, cfrBody().subarray(0, 48), 'COPY_FILE_RANGE');
});

test('SETUPMAPPING (48): fh, foffset, len, flags, moffset', () => {
  check('SETUPMAPPING', R.decodeSetupmapping, b().u64(1).u64(BIG).u64(2 ** 21).u64(3).u64(BIG * 2).buf,
    { fh: 1, foffset: BIG, len: 2 ** 21, flags: 3, moffset: BIG * 2 });
  short(R.decodeSetupmapping, Buffer.alloc(32), 'SETUPMAPPING');
});

test('REMOVEMAPPING (49): count then entries right after the 4-byte count', () => {
  check('REMOVEMAPPING', R.decodeRemovemapping, b().u32(2).u64(BIG).u64(4096).u64(0).u64(2 ** 21).buf,
    { items: [{ moffset: BIG, len: 4096 }, { moffset: 0, len: 2 ** 21 }] });
  short(R.decodeRemovemapping, b().u16(1).buf, 'REMOVEMAPPING');
});

test('SYNCFS (50): 8-byte padding body, nothing decoded', () => {
  check('SYNCFS', R.decodeEmpty, b().u64(0).buf, {});
});

test('TMPFILE (51): create_in and the name "/"', () => {
  check('TMPFILE', R.decodeCreate, b().u32(0o20000002).u32(0o100600).u32(0o077).u32(0).str('/').buf,
    { flags: 0o20000002, mode: 0o100600, umask: 0o077, openFlags: 0, name: '/' });
});

test('STATX (52): getattr_flags, fh, sx_flags, sx_mask', () => {
  check('STATX', R.decodeStatx, b().u32(1).u32(0).u64(BIG).u32(0x800).u32(0xfff).buf, { getattrFlags: 1, fh: BIG, sxFlags: 0x800, sxMask: 0xfff });
  short(R.decodeStatx, Buffer.alloc(20), 'STATX');
});

test('COPY_FILE_RANGE_64 (53): same body as COPY_FILE_RANGE', () => {
  check('COPY_FILE_RANGE_64', R.decodeCopyFileRange, cfrBody(), CFR);
});

// ---- extensions (total_extlen) ----

function suppGroups(groups: number[]): Buffer {
  const size = (8 + 4 + 4 * groups.length + 7) & ~7;
  const x = b().u32(size).u32(32).u32(groups.length);
  for (const g of groups) x.u32(g);
  const buf = x.buf;
  return Buffer.concat([buf, Buffer.alloc(size - buf.length)]);
}

test('extensions: total_extlen * 8 bytes after the body are not part of it; supp groups decode', () => {
  const ext = suppGroups([10, 20, 0xfffffffe]);
  assert.is(ext.length, 24);
  const body = b().u32(0o100644).u32(0o100644).u32(0o022).u32(0).str('new').buf;
  const r = check('CREATE', R.decodeCreate, body, { flags: 0o100644, mode: 0o100644, umask: 0o022, openFlags: 0, name: 'new' }, { ext });
  assert.is(r.name, 'new');
  const { w, n } = request(Opcode.CREATE, body, { ext });
  const h = decodeRequest(w, n).header;
  assert.equal(R.decodeSuppGroups(w, h.len - h.extLen, h.len), [10, 20, 0xfffffffe]);
});

test('extensions: a name without NUL stops at the body end, not inside the extension', () => {
  const ext = suppGroups([5]);
  const { w, n } = request(Opcode.MKDIR, b().u32(0o40755).u32(0).raw(Buffer.from('abc')).buf, { ext });
  assert.equal(decodeRequest(w, n).body, { mode: 0o40755, umask: 0, name: 'abc' });
});

test('extensions: supp groups decode whatever the name length (the extension start is not aligned)', () => {
  const ext = suppGroups([1000, 27]);
  for (let len = 1; len <= 9; len++) {
    const name = 'n'.repeat(len - 1) + 'é'; // multibyte last char
    const { w, n } = request(Opcode.MKDIR, b().u32(0o40700).u32(0o022).str(name).buf, { ext });
    const r = decodeRequest(w, n);
    assert.equal(r.body, { mode: 0o40700, umask: 0o022, name });
    const h = r.header;
    assert.equal(R.decodeSuppGroups(w, h.len - h.extLen, h.len), [1000, 27], `name length ${len}`);
  }
});

test('extensions: unknown extension types are skipped, malformed ones give undefined', () => {
  const other = b().u32(16).u32(0).u64(0).buf; // a secctx-style block (type 0)
  const ext = Buffer.concat([other, suppGroups([7, 8])]);
  const { w, n } = request(Opcode.MKNOD, b().u32(0o10644).u32(0).u32(0).u32(0).str('fifo').buf, { ext });
  const h = decodeRequest(w, n).header;
  assert.is(h.extLen, 40);
  assert.equal(R.decodeSuppGroups(w, h.len - h.extLen, h.len), [7, 8]);
  const bad = request(Opcode.MKNOD, b().u32(0).u32(0).u32(0).u32(0).str('x').buf, { ext: b().u32(64).u32(32).u32(1).u32(1).buf });
  assert.is(R.decodeSuppGroups(bad.w, bad.end, bad.n), undefined);
  assert.is(R.decodeSuppGroups(w, h.len - h.extLen, h.len - h.extLen), undefined, 'no extension at all');
});

test('extensions: total_extlen larger than the body throws DecodeError', () => {
  const { w, n } = request(Opcode.LOOKUP, b().str('name').buf, { extUnits: 4 });
  assert.throws(() => decodeRequest(w, n), (e: unknown) => e instanceof DecodeError);
});

// ---- tables ----

const ALL = Array.from({ length: 53 }, (_, i) => i + 1).filter((op) => op !== 7 && op !== 19);

test('tables: every opcode 1..53 except 7 and 19 has an OPCODES row named after abi Opcode', () => {
  const byValue = Object.fromEntries(Object.entries(Opcode).map(([k, v]) => [v, k]));
  assert.equal(OPCODES.map((r) => r.opcode).sort((a, z) => a - z), ALL);
  for (const op of ALL) {
    const row = OPCODE_TABLE[op];
    assert.ok(row, `row for ${op}`);
    assert.is(row.name, byValue[op]);
    assert.is(opcodeName(op), byValue[op]);
  }
  assert.is(OPCODE_TABLE[7], undefined);
  assert.is(OPCODE_TABLE[19], undefined);
});

test('tables: exactly FORGET, BATCH_FORGET and NOTIFY_REPLY are noReply', () => {
  const noReply = OPCODES.filter((r) => r.noReply).map((r) => r.name).sort();
  assert.equal(noReply, ['BATCH_FORGET', 'FORGET', 'NOTIFY_REPLY']);
});

test('tables: the server dispatch table serves every opcode 1..53 except 7 and 19', () => {
  const served = new Set(servedOpcodes());
  const missing = ALL.filter((op) => !served.has(op)).map(opcodeName);
  assert.equal(missing, []);
  assert.ok(!served.has(7) && !served.has(19));
});

test('tables: every opcode 1..53 (except 7 and 19) was decoded from a hand-written vector above', () => {
  assert.equal([...exercised].sort((a, z) => a - z), ALL);
});

test('tables: decoders reuse a caller-kept out object', () => {
  const out = {} as R.OpenIn;
  const { w, end } = request(Opcode.OPEN, b().u32(1).u32(0).buf);
  assert.is(R.decodeOpen(w, 40, end, out), out);
  const lk = {} as R.LkIn;
  const l = request(Opcode.GETLK, lkBody(1n, 2n, 0, 0));
  const first = R.decodeLk(l.w, 40, l.end, lk).lk;
  assert.is(R.decodeLk(l.w, 40, l.end, lk).lk, first, 'nested lock object reused');
});

test.run();
