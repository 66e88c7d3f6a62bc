// Reply encoders, byte by byte: each encoder writes into a buffer pre-filled with garbage, and its whole body
// is compared with an expected body built independently with Buffer writes at the LAYOUT offsets (which
// layout.test.ts checks against the C header). So every field lands at the right offset with the right width,
// every padding byte is zeroed, and 64-bit values above 2^32 and timeouts split into sec + nsec come out right.

import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { FOPEN, LAYOUT as L } from '../../src/protocol/abi.js';
import * as Rp from '../../src/protocol/replies.js';
import type { Attr, Entry, Statx } from '../../src/protocol/types.js';
import { WireBuffer } from '../../src/protocol/wire.js';

const OFF = 16; // replies start after the out header
const BIG = 2 ** 40 + 0x1234; // a u64 above 2^32
const D: Rp.CacheDefaults = { entryTimeout: 7, attrTimeout: 3 };

function dirty(): WireBuffer {
  const w = new WireBuffer(8192);
  w.buf.fill(0xaa);
  return w;
}

function body(w: WireBuffer, n: number, off = OFF): Buffer {
  return Buffer.from(w.buf.subarray(off, off + n));
}

/** Compares byte by byte, reporting the first differing offsets. */
function same(actual: Buffer, expected: Buffer, what: string): void {
  assert.is(actual.length, expected.length, `${what}: length`);
  const diffs: string[] = [];
  for (let i = 0; i < expected.length && diffs.length < 8; i++) {
    if (actual[i] !== expected[i]) diffs.push(`@${i}: ${actual[i]} != ${expected[i]}`);
  }
  assert.equal(diffs, [], `${what}: bytes differ`);
}

// ---- expected bodies, built with Buffer writes ----

function u64(b: Buffer, off: number, v: number | bigint): void {
  b.writeBigUInt64LE(BigInt(v), off);
}
function i64(b: Buffer, off: number, v: number | bigint): void {
  b.writeBigInt64LE(BigInt(v), off);
}

const ATTR: Attr = {
  ino: BIG, mode: 0o100644, nlink: 3, uid: 0xfffffffe, gid: 1234, size: 2 ** 33 + 1, blocks: 2 ** 34, rdev: 0x0801,
  blksize: 65536, atime: -86400, atimeNsec: 1, mtime: 2 ** 35, mtimeNsec: 999_999_999, ctime: 1_700_000_000,
  ctimeNsec: 500, flags: 1,
};

function expectAttr(b: Buffer, off: number, a: Attr): void {
  const A = L.fuse_attr;
  u64(b, off + A.ino, a.ino);
  u64(b, off + A.size_, a.size);
  u64(b, off + A.blocks, a.blocks ?? Math.ceil(a.size / 512));
  i64(b, off + A.atime, a.atime);
  i64(b, off + A.mtime, a.mtime);
  i64(b, off + A.ctime, a.ctime);
  b.writeUInt32LE(a.atimeNsec ?? 0, off + A.atimensec);
  b.writeUInt32LE(a.mtimeNsec ?? 0, off + A.mtimensec);
  b.writeUInt32LE(a.ctimeNsec ?? 0, off + A.ctimensec);
  b.writeUInt32LE(a.mode, off + A.mode);
  b.writeUInt32LE(a.nlink, off + A.nlink);
  b.writeUInt32LE(a.uid, off + A.uid);
  b.writeUInt32LE(a.gid, off + A.gid);
  b.writeUInt32LE(a.rdev ?? 0, off + A.rdev);
  b.writeUInt32LE(a.blksize ?? 4096, off + A.blksize);
  b.writeUInt32LE(a.flags ?? 0, off + A.flags);
}

// ---- out header ----

test('out header: len, negative error, unique words', () => {
  const w = dirty();
  Rp.writeOutHeader(w, 16, -2, 0x89abcdef, 0x80000001);
  const e = Buffer.alloc(16);
  e.writeUInt32LE(16, L.fuse_out_header.len);
  e.writeInt32LE(-2, L.fuse_out_header.error);
  u64(e, L.fuse_out_header.unique, 0x80000001_89abcdefn);
  same(body(w, 16, 0), e, 'out header');
  assert.is(w.buf.readInt32LE(4), -2);
});

// ---- attributes and entries ----

test('attr: every fuse_attr field, size/blocks/ino above 2^32, negative atime', () => {
  const w = dirty();
  assert.is(Rp.encodeAttr(w, OFF, ATTR), L.fuse_attr.size);
  const e = Buffer.alloc(L.fuse_attr.size);
  expectAttr(e, 0, ATTR);
  same(body(w, L.fuse_attr.size), e, 'fuse_attr');
  assert.is(w.buf.readBigInt64LE(OFF + L.fuse_attr.atime), -86400n);
});

test('attr: defaults: blocks = ceil(size/512), blksize 4096, rdev/nsec/flags 0', () => {
  const w = dirty();
  const a: Attr = { ino: 5, mode: 0o40755, nlink: 2, uid: 0, gid: 0, size: 1025, atime: 1, mtime: 2, ctime: 3 };
  Rp.encodeAttr(w, OFF, a);
  const e = Buffer.alloc(L.fuse_attr.size);
  expectAttr(e, 0, a);
  same(body(w, L.fuse_attr.size), e, 'fuse_attr defaults');
  assert.is(w.buf.readBigUInt64LE(OFF + L.fuse_attr.blocks), 3n);
  assert.is(w.buf.readUInt32LE(OFF + L.fuse_attr.blksize), 4096);
});

test('attr_out: timeout split into sec + nsec, dummy zeroed, attr at offset 16', () => {
  const w = dirty();
  assert.is(Rp.encodeAttrOut(w, OFF, { ...ATTR, timeout: 1.5 }, D), L.fuse_attr_out.size);
  const e = Buffer.alloc(L.fuse_attr_out.size);
  u64(e, L.fuse_attr_out.attr_valid, 1);
  e.writeUInt32LE(500_000_000, L.fuse_attr_out.attr_valid_nsec);
  expectAttr(e, L.fuse_attr_out.attr, ATTR);
  same(body(w, L.fuse_attr_out.size), e, 'fuse_attr_out');
  // without attr.timeout: the session default
  Rp.encodeAttrOut(w, OFF, { ...ATTR, timeout: undefined }, D);
  assert.is(w.buf.readBigUInt64LE(OFF), 3n);
  assert.is(w.buf.readUInt32LE(OFF + 8), 0);
});

test('entry_out: nodeid/generation above 2^32, entry and attr timeouts split, attr at 40', () => {
  const w = dirty();
  const ent: Entry = { ino: BIG, generation: 2 ** 36 + 1, attr: ATTR, entryTimeout: 2.25, attrTimeout: 0.000000001 };
  assert.is(Rp.encodeEntryOut(w, OFF, ent, D), L.fuse_entry_out.size);
  const E = L.fuse_entry_out;
  const e = Buffer.alloc(E.size);
  u64(e, E.nodeid, BIG);
  u64(e, E.generation, 2 ** 36 + 1);
  u64(e, E.entry_valid, 2);
  u64(e, E.attr_valid, 0);
  e.writeUInt32LE(250_000_000, E.entry_valid_nsec);
  e.writeUInt32LE(1, E.attr_valid_nsec);
  expectAttr(e, E.attr, ATTR);
  same(body(w, E.size), e, 'fuse_entry_out');
});

test('entry_out: timeout precedence: entry.attrTimeout, then attr.timeout, then the defaults', () => {
  const w = dirty();
  const E = L.fuse_entry_out;
  Rp.encodeEntryOut(w, OFF, { ino: 9, attr: { ...ATTR, timeout: 11 } }, D);
  assert.is(w.buf.readBigUInt64LE(OFF + E.entry_valid), 7n);
  assert.is(w.buf.readBigUInt64LE(OFF + E.attr_valid), 11n);
  assert.is(w.buf.readBigUInt64LE(OFF + E.generation), 0n);
  Rp.encodeEntryOut(w, OFF, { ino: 9, attr: { ...ATTR, timeout: 11 }, attrTimeout: 12 }, D);
  assert.is(w.buf.readBigUInt64LE(OFF + E.attr_valid), 12n);
  Rp.encodeEntryOut(w, OFF, { ino: 9, attr: ATTR }, D);
  assert.is(w.buf.readBigUInt64LE(OFF + E.attr_valid), 3n);
});

test('entry_out: negative entry is all zero but entry_valid', () => {
  const w = dirty();
  assert.is(Rp.encodeNegativeEntryOut(w, OFF, 30.75), L.fuse_entry_out.size);
  const e = Buffer.alloc(L.fuse_entry_out.size);
  u64(e, L.fuse_entry_out.entry_valid, 30);
  e.writeUInt32LE(750_000_000, L.fuse_entry_out.entry_valid_nsec);
  same(body(w, L.fuse_entry_out.size), e, 'negative entry');
  Rp.encodeNegativeEntryOut(w, OFF, 0);
  same(body(w, L.fuse_entry_out.size), Buffer.alloc(L.fuse_entry_out.size), 'negative entry without caching');
});

test('timeouts: 0, negative and NaN mean no caching; whole seconds have nsec 0; above 2^32 s', () => {
  const w = dirty();
  const at = (t: number) => {
    Rp.encodeAttrOut(w, OFF, { ...ATTR, timeout: t }, D);
    return [w.buf.readBigUInt64LE(OFF), w.buf.readUInt32LE(OFF + 8)];
  };
  assert.equal(at(0), [0n, 0]);
  assert.equal(at(-5), [0n, 0]);
  assert.equal(at(NaN), [0n, 0]);
  assert.equal(at(86400), [86400n, 0]);
  assert.equal(at(0.001), [0n, 1_000_000]);
  assert.equal(at(2 ** 33 + 0.5), [2n ** 33n + 0n, 500_000_000]);
});

test('timeouts: a fraction that rounds to a whole second carries into sec (nsec stays < 1e9)', () => {
  const w = dirty();
  Rp.encodeAttrOut(w, OFF, { ...ATTR, timeout: 0.9999999999 }, D);
  assert.is(w.buf.readBigUInt64LE(OFF), 1n);
  assert.is(w.buf.readUInt32LE(OFF + 8), 0);
  Rp.encodeAttrOut(w, OFF, { ...ATTR, timeout: 4.99999999995 }, D);
  assert.is(w.buf.readBigUInt64LE(OFF), 5n);
  assert.is(w.buf.readUInt32LE(OFF + 8), 0);
});

test('timeouts: Infinity ("cache forever") is capped, not wrapped to 0', () => {
  const w = dirty();
  Rp.encodeEntryOut(w, OFF, { ino: 2, attr: ATTR, entryTimeout: Infinity, attrTimeout: 2 ** 64 }, D);
  assert.is(w.buf.readBigUInt64LE(OFF + L.fuse_entry_out.entry_valid), BigInt(Number.MAX_SAFE_INTEGER));
  assert.is(w.buf.readUInt32LE(OFF + L.fuse_entry_out.entry_valid_nsec), 0);
  assert.is(w.buf.readBigUInt64LE(OFF + L.fuse_entry_out.attr_valid), BigInt(Number.MAX_SAFE_INTEGER));
});

// ---- open / create ----

test('open_out: fh above 2^32, FOPEN flags, backing id for passthrough', () => {
  const w = dirty();
  assert.is(Rp.encodeOpenOut(w, OFF, { fh: BIG, flags: FOPEN.PASSTHROUGH | FOPEN.KEEP_CACHE, backingId: 3 }), L.fuse_open_out.size);
  const e = Buffer.alloc(L.fuse_open_out.size);
  u64(e, L.fuse_open_out.fh, BIG);
  e.writeUInt32LE(0x82, L.fuse_open_out.open_flags);
  e.writeInt32LE(3, L.fuse_open_out.backing_id);
  same(body(w, 16), e, 'fuse_open_out');
});

test('open_out: no reply object means fh 0, no flags, no backing id', () => {
  const w = dirty();
  Rp.encodeOpenOut(w, OFF, undefined);
  same(body(w, 16), Buffer.alloc(16), 'empty open_out');
  Rp.encodeOpenOut(w, OFF, { flags: FOPEN.DIRECT_IO });
  assert.is(w.buf.readUInt32LE(OFF + 8), 1);
  assert.is(w.buf.readBigUInt64LE(OFF), 0n);
});

test('create: entry_out (128) followed by open_out (16)', () => {
  const w = dirty();
  const r = { entry: { ino: BIG, generation: 4, attr: ATTR, entryTimeout: 1, attrTimeout: 2 }, fh: BIG + 1, flags: FOPEN.DIRECT_IO, backingId: 0 };
  assert.is(Rp.encodeCreateOut(w, OFF, r, D), 144);
  const e = Buffer.alloc(144);
  const E = L.fuse_entry_out;
  u64(e, E.nodeid, BIG);
  u64(e, E.generation, 4);
  u64(e, E.entry_valid, 1);
  u64(e, E.attr_valid, 2);
  expectAttr(e, E.attr, ATTR);
  u64(e, E.size + L.fuse_open_out.fh, BIG + 1);
  e.writeUInt32LE(FOPEN.DIRECT_IO, E.size + L.fuse_open_out.open_flags);
  same(body(w, 144), e, 'create');
});

// ---- small replies ----

test('write_out: size (u32) and zero padding', () => {
  const w = dirty();
  assert.is(Rp.encodeWriteOut(w, OFF, 0xfffff000), 8);
  const e = Buffer.alloc(8);
  e.writeUInt32LE(0xfffff000, L.fuse_write_out.size_);
  same(body(w, 8), e, 'write_out');
});

test('statfs: kstatfs with counts above 2^32, frsize defaulting to bsize, spare zeroed', () => {
  const w = dirty();
  const s = { blocks: BIG, bfree: BIG - 1, bavail: BIG - 2, files: 2 ** 33, ffree: 2 ** 32, bsize: 4096, namelen: 255 };
  assert.is(Rp.encodeStatfsOut(w, OFF, s), L.fuse_kstatfs.size);
  const K = L.fuse_kstatfs;
  const e = Buffer.alloc(K.size);
  u64(e, K.blocks, BIG);
  u64(e, K.bfree, BIG - 1);
  u64(e, K.bavail, BIG - 2);
  u64(e, K.files, 2 ** 33);
  u64(e, K.ffree, 2 ** 32);
  e.writeUInt32LE(4096, K.bsize);
  e.writeUInt32LE(255, K.namelen);
  e.writeUInt32LE(4096, K.frsize);
  same(body(w, K.size), e, 'kstatfs');
  Rp.encodeStatfsOut(w, OFF, { ...s, frsize: 512 });
  assert.is(w.buf.readUInt32LE(OFF + K.frsize), 512);
});

test('xattr size reply: getxattr_out size and zero padding', () => {
  const w = dirty();
  assert.is(Rp.encodeXattrSizeOut(w, OFF, 65536), 8);
  const e = Buffer.alloc(8);
  e.writeUInt32LE(65536, L.fuse_getxattr_out.size_);
  same(body(w, 8), e, 'getxattr_out');
});

test('lk_out: start, end, type, pid; end at or past 2^53 becomes OFFSET_MAX (0x7fffffffffffffff)', () => {
  const w = dirty();
  assert.is(Rp.encodeLkOut(w, OFF, { start: BIG, end: BIG + 100, type: 1, pid: 4242 }), L.fuse_lk_out.size);
  const F = L.fuse_file_lock;
  const e = Buffer.alloc(24);
  u64(e, L.fuse_lk_out.lk + F.start, BIG);
  u64(e, L.fuse_lk_out.lk + F.end, BIG + 100);
  e.writeUInt32LE(1, F.type);
  e.writeUInt32LE(4242, F.pid);
  same(body(w, 24), e, 'lk_out');
  for (const end of [Number.MAX_SAFE_INTEGER, 2 ** 63, Infinity]) {
    Rp.encodeLkOut(w, OFF, { start: 0, end, type: 2, pid: 0 });
    assert.is(w.buf.readBigUInt64LE(OFF + F.end), Rp.OFFSET_MAX, `end ${end}`);
    assert.is(w.buf.readBigUInt64LE(OFF + F.start), 0n);
  }
  assert.is(Rp.OFFSET_MAX, 0x7fffffffffffffffn);
});

test('bmap_out: block above 2^32', () => {
  const w = dirty();
  assert.is(Rp.encodeBmapOut(w, OFF, BIG), 8);
  assert.is(w.buf.readBigUInt64LE(OFF + L.fuse_bmap_out.block), BigInt(BIG));
});

test('ioctl_out: result, zero flags/iovs, then the out data', () => {
  const w = dirty();
  const data = Buffer.from([1, 2, 3, 4, 5]);
  assert.is(Rp.encodeIoctlOut(w, OFF, 42, data), 16 + 5);
  const e = Buffer.alloc(21);
  e.writeInt32LE(42, L.fuse_ioctl_out.result);
  data.copy(e, L.fuse_ioctl_out.size);
  same(body(w, 21), e, 'ioctl_out with data');
  assert.is(Rp.encodeIoctlOut(w, OFF, -1), 16);
  const e2 = Buffer.alloc(16);
  e2.writeInt32LE(-1, 0);
  same(body(w, 16), e2, 'ioctl_out without data');
});

test('poll_out: revents and zero padding', () => {
  const w = dirty();
  assert.is(Rp.encodePollOut(w, OFF, 0x41), 8);
  const e = Buffer.alloc(8);
  e.writeUInt32LE(0x41, L.fuse_poll_out.revents);
  same(body(w, 8), e, 'poll_out');
});

test('lseek_out: offset above 2^32', () => {
  const w = dirty();
  assert.is(Rp.encodeLseekOut(w, OFF, BIG), 8);
  assert.is(w.buf.readBigInt64LE(OFF + L.fuse_lseek_out.offset), BigInt(BIG));
  Rp.encodeLseekOut(w, OFF, 0);
  assert.is(w.buf.readBigInt64LE(OFF), 0n);
});

test('copy_file_range_64 out: bytes_copied above 4 GiB', () => {
  const w = dirty();
  assert.is(Rp.encodeCopyFileRange64Out(w, OFF, 2 ** 33 + 7), L.fuse_copy_file_range_out.size);
  assert.is(w.buf.readBigUInt64LE(OFF + L.fuse_copy_file_range_out.bytes_copied), 2n ** 33n + 7n);
});

test('raw bytes: copied after the header, length returned', () => {
  const w = dirty();
  const data = Buffer.from('link → target');
  assert.is(Rp.encodeBytes(w, OFF, data), data.length);
  same(body(w, data.length), data, 'bytes');
});

// ---- statx ----

test('statx_out: timeout, every fuse_statx field (mode u16, times with tv_nsec), spares zeroed', () => {
  const w = dirty();
  const s: Statx = {
    mask: 0x7ff, blksize: 8192, attributes: 2 ** 35 + 0x20, attributesMask: 2 ** 35 + 0x30, nlink: 7, uid: 1000, gid: 0xfffffffe,
    mode: 0o120777, ino: BIG, size: 2 ** 34 + 5, blocks: 99, atime: { sec: -1, nsec: 999_999_999 },
    btime: { sec: 2 ** 33, nsec: 5 }, ctime: { sec: 1_700_000_000, nsec: 0 }, mtime: { sec: 0, nsec: 1 },
    rdevMajor: 8, rdevMinor: 1, devMajor: 0, devMinor: 0x2a, timeout: 2.5,
  };
  const O = L.fuse_statx_out;
  assert.is(Rp.encodeStatxOut(w, OFF, s, D), O.size);
  const e = Buffer.alloc(O.size);
  u64(e, O.attr_valid, 2);
  e.writeUInt32LE(500_000_000, O.attr_valid_nsec);
  const S = L.fuse_statx;
  const x = O.stat;
  e.writeUInt32LE(0x7ff, x + S.mask);
  e.writeUInt32LE(8192, x + S.blksize);
  u64(e, x + S.attributes, 2 ** 35 + 0x20);
  e.writeUInt32LE(7, x + S.nlink);
  e.writeUInt32LE(1000, x + S.uid);
  e.writeUInt32LE(0xfffffffe, x + S.gid);
  e.writeUInt16LE(0o120777, x + S.mode);
  u64(e, x + S.ino, BIG);
  u64(e, x + S.size_, 2 ** 34 + 5);
  u64(e, x + S.blocks, 99);
  u64(e, x + S.attributes_mask, 2 ** 35 + 0x30);
  const T = L.fuse_sx_time;
  const time = (at: number, t: { sec: number; nsec: number }) => {
    i64(e, x + at + T.tv_sec, t.sec);
    e.writeUInt32LE(t.nsec, x + at + T.tv_nsec);
  };
  time(S.atime, s.atime);
  time(S.btime, s.btime!);
  time(S.ctime, s.ctime);
  time(S.mtime, s.mtime);
  e.writeUInt32LE(8, x + S.rdev_major);
  e.writeUInt32LE(1, x + S.rdev_minor);
  e.writeUInt32LE(0, x + S.dev_major);
  e.writeUInt32LE(0x2a, x + S.dev_minor);
  same(body(w, O.size), e, 'statx_out');
  assert.is(w.buf.readBigInt64LE(OFF + x + S.atime), -1n);
});

test('statx_out: defaults: blksize 4096, blocks = ceil(size/512), no btime, session timeout', () => {
  const w = dirty();
  const s: Statx = { mask: 0x7ff, nlink: 1, uid: 0, gid: 0, mode: 0o100600, ino: 3, size: 513, atime: { sec: 1, nsec: 0 }, ctime: { sec: 2, nsec: 0 }, mtime: { sec: 3, nsec: 0 } };
  Rp.encodeStatxOut(w, OFF, s, D);
  const x = OFF + L.fuse_statx_out.stat;
  const S = L.fuse_statx;
  assert.is(w.buf.readBigUInt64LE(OFF), 3n);
  assert.is(w.buf.readUInt32LE(x + S.blksize), 4096);
  assert.is(w.buf.readBigUInt64LE(x + S.blocks), 2n);
  assert.is(w.buf.readBigInt64LE(x + S.btime), 0n);
  assert.is(w.buf.readUInt16LE(x + S.mode + 2), 0, '__spare0 zeroed');
  assert.is(w.buf.readUInt32LE(OFF + L.fuse_statx_out.flags), 0);
});

// ---- init ----

test('init_out: every field at its offset; flags low word, flags2 high word; u16 fields', () => {
  const w = dirty();
  const o: Rp.InitOut = {
    major: 7, minor: 45, maxReadahead: 131072, flags: 0x25 * 2 ** 32 + 0x4000_1001, maxBackground: 0xfff0,
    congestionThreshold: 0xbff0, maxWrite: 1 << 20, timeGran: 1, maxPages: 256, mapAlignment: 12, maxStackDepth: 2,
    requestTimeout: 0xfffe,
  };
  assert.is(Rp.encodeInitOut(w, OFF, o), L.fuse_init_out.size);
  const I = L.fuse_init_out;
  const e = Buffer.alloc(I.size);
  e.writeUInt32LE(7, I.major);
  e.writeUInt32LE(45, I.minor);
  e.writeUInt32LE(131072, I.max_readahead);
  e.writeUInt32LE(0x4000_1001, I.flags);
  e.writeUInt16LE(0xfff0, I.max_background);
  e.writeUInt16LE(0xbff0, I.congestion_threshold);
  e.writeUInt32LE(1 << 20, I.max_write);
  e.writeUInt32LE(1, I.time_gran);
  e.writeUInt16LE(256, I.max_pages);
  e.writeUInt16LE(12, I.map_alignment);
  e.writeUInt32LE(0x25, I.flags2);
  e.writeUInt32LE(2, I.max_stack_depth);
  e.writeUInt16LE(0xfffe, I.request_timeout);
  same(body(w, I.size), e, 'init_out');
});

test('init_out: a compat size is returned as the reply length (the bytes after it are not sent)', () => {
  const w = dirty();
  const o: Rp.InitOut = {
    major: 7, minor: 22, maxReadahead: 4096, flags: 1, maxBackground: 1, congestionThreshold: 1, maxWrite: 4096,
    timeGran: 0, maxPages: 0, mapAlignment: 0, maxStackDepth: 0, requestTimeout: 0,
  };
  assert.is(Rp.encodeInitOut(w, OFF, o, 24), 24);
  assert.is(w.buf.readUInt32LE(OFF + L.fuse_init_out.max_write), 4096);
  assert.is(Rp.encodeInitOut(w, OFF, o, 8), 8);
  assert.is(w.buf.readUInt32LE(OFF + 4), 22);
});

test.run();
