// READDIR / READDIRPLUS reply writers: 8-byte aligned records with zeroed padding, `add` refusing (and
// writing nothing) when the next record does not fit, exact boundaries, UTF-8 and raw byte names, d_type from
// the mode, lookup counting for READDIRPLUS, and long listings split over several replies that round-trip
// through parseDirents / parseDirentPlus.

import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { LAYOUT as L } from '../../src/protocol/abi.js';
import { DirentPlusWriter, DirentWriter, isDotOrDotDot, parseDirentPlus, parseDirents } from '../../src/protocol/dirents.js';
import type { Attr, Entry } from '../../src/protocol/types.js';
import { WireBuffer } from '../../src/protocol/wire.js';
import { decodeName } from '../../src/protocol/names.js';

const OFF = 16;
const D = L.fuse_dirent.size; // 24
const EO = L.fuse_entry_out.size; // 128
const S_IFREG = 0o100000;
const S_IFDIR = 0o040000;

function dirty(size = 8192): WireBuffer {
  const w = new WireBuffer(size);
  w.buf.fill(0xaa);
  return w;
}

const rec = (namelen: number) => (D + namelen + 7) & ~7;
const recPlus = (namelen: number) => (EO + D + namelen + 7) & ~7;

function attr(ino: number, mode = S_IFREG | 0o644): Attr {
  return { ino, mode, nlink: 1, uid: 0, gid: 0, size: 0, atime: 0, mtime: 0, ctime: 0 };
}
function entry(ino: number, mode = S_IFREG | 0o644): Entry {
  return { ino, attr: attr(ino, mode) };
}

// ---- DirentWriter ----

test('dirent: fields at the fuse_dirent offsets (ino, off, namelen, type, name)', () => {
  const w = dirty();
  const d = new DirentWriter().reset(w, OFF, 4096);
  assert.ok(d.add(2 ** 40 + 1, 'file', S_IFREG | 0o644, 2 ** 33));
  const p = OFF;
  assert.is(w.buf.readBigUInt64LE(p + L.fuse_dirent.ino), 2n ** 40n + 1n);
  assert.is(w.buf.readBigUInt64LE(p + L.fuse_dirent.off), 2n ** 33n);
  assert.is(w.buf.readUInt32LE(p + L.fuse_dirent.namelen), 4);
  assert.is(w.buf.readUInt32LE(p + L.fuse_dirent.type), 8);
  assert.is(w.buf.toString('utf8', p + D, p + D + 4), 'file');
  assert.is(d.length, 32);
  assert.is(d.count, 1);
});

test('dirent: records are 8-byte aligned and the padding is zeroed (name lengths 1..17)', () => {
  const w = dirty();
  const d = new DirentWriter().reset(w, OFF, 4096);
  let expected = 0;
  for (let n = 1; n <= 17; n++) {
    const start = OFF + d.length;
    assert.is((start - OFF) % 8, 0, `record ${n} aligned`);
    assert.ok(d.add(n, 'x'.repeat(n), S_IFREG, n));
    expected += rec(n);
    assert.is(d.length, expected);
    for (let k = start + D + n; k < start + rec(n); k++) assert.is(w.buf[k], 0, `padding byte ${k - start} of record ${n}`);
  }
  assert.is(w.buf[OFF + d.length], 0xaa, 'nothing written past the last record');
});

test('dirent: add returns false and writes nothing when the record does not fit (exact boundary)', () => {
  // one 32-byte record ("abcdefgh": 24 + 8) fits a 32-byte reply exactly; a 31-byte reply refuses it
  const w = dirty();
  const d = new DirentWriter().reset(w, OFF, 32);
  assert.ok(d.add(1, 'abcdefgh', S_IFREG, 1));
  assert.is(d.length, 32);
  const before = Buffer.from(w.buf.subarray(OFF, OFF + 200));
  assert.not.ok(d.add(2, 'a', S_IFREG, 2));
  assert.is(d.length, 32);
  assert.is(d.count, 1);
  assert.equal(Buffer.from(w.buf.subarray(OFF, OFF + 200)), before, 'buffer untouched');

  const w2 = dirty();
  const d2 = new DirentWriter().reset(w2, OFF, 31);
  assert.not.ok(d2.add(1, 'abcdefgh', S_IFREG, 1));
  assert.is(d2.length, 0);
  assert.is(d2.count, 0);
  assert.ok(w2.buf.subarray(0, 200).every((x) => x === 0xaa), 'nothing written');

  // a 9-byte name needs 40 bytes: 39 refuses, 40 takes it
  assert.not.ok(new DirentWriter().reset(dirty(), OFF, 39).add(1, '123456789', S_IFREG, 1));
  assert.ok(new DirentWriter().reset(dirty(), OFF, 40).add(1, '123456789', S_IFREG, 1));
});

test('dirent: the reply never runs past the buffer even when size asks for more', () => {
  const w = dirty(64);
  const d = new DirentWriter().reset(w, OFF, 4096);
  assert.ok(d.add(1, 'a', S_IFREG, 1)); // 32 bytes: 16..48
  assert.not.ok(d.add(2, 'b', S_IFREG, 2)); // would end at 80 > 64
  assert.is(d.length, 32);
});

test('dirent: full is true once not even a 1..8 byte name fits', () => {
  const d = new DirentWriter().reset(dirty(), OFF, 64);
  assert.not.ok(d.full);
  d.add(1, 'a', S_IFREG, 1);
  assert.not.ok(d.full);
  d.add(2, 'b', S_IFREG, 2);
  assert.ok(d.full);
});

test('dirent: namelen counts UTF-8 bytes for multibyte names', () => {
  const names = ['é', 'ü'.repeat(4), '日本語', '🎉', 'naïve café ✓', 'Ωmega'];
  const w = dirty();
  const d = new DirentWriter().reset(w, OFF, 4096);
  let expected = 0;
  names.forEach((n, i) => {
    assert.ok(d.add(10 + i, n, S_IFREG, i + 1));
    expected += rec(Buffer.byteLength(n));
  });
  assert.is(d.length, expected);
  assert.is(rec(Buffer.byteLength('ü'.repeat(4))), 32, 'ü×4 is 8 bytes: exactly one 32-byte record');
  const parsed = parseDirents(w.buf.subarray(OFF, OFF + d.length));
  assert.equal(parsed.map((e) => e.name), names);
  assert.equal(parsed.map((e) => e.ino), names.map((_, i) => 10 + i));
  assert.equal(parsed.map((e) => e.off), names.map((_, i) => i + 1));
});

test('dirent: string names, short ASCII (copied char by char), long, and with escaped bytes, are their bytes', () => {
  // an escaped byte (decodeName's lone surrogate U+DC80..U+DCFF) is one byte, so its string length equals its
  // byte length; the ASCII fast path must not copy its char code
  const raw = Buffer.from([0x61, 0xff, 0x62]);
  const escaped = decodeName(raw, 0, raw.length);
  const names = ['f123', 'a'.repeat(32), 'b'.repeat(33), 'abcé', escaped, 'x'];
  const bytes = names.map((n) => (n === escaped ? raw : Buffer.from(n)));
  const w = dirty();
  const d = new DirentWriter().reset(w, OFF, 4096);
  names.forEach((n, i) => assert.ok(d.add(i + 2, n, S_IFREG, i + 1)));
  let p = OFF;
  bytes.forEach((b) => {
    assert.is(w.buf.readUInt32LE(p + 16), b.length);
    assert.equal(Buffer.from(w.buf.subarray(p + D, p + D + b.length)), b);
    p += rec(b.length);
  });
  assert.is(d.length, p - OFF);
});

test('dirent: Uint8Array names are copied raw (not valid UTF-8 is fine)', () => {
  const raw = new Uint8Array([0x66, 0xff, 0xfe, 0x80, 0x6f]);
  const w = dirty();
  const d = new DirentWriter().reset(w, OFF, 4096);
  assert.ok(d.add(3, raw, S_IFREG, 1));
  assert.ok(d.add(4, new TextEncoder().encode('ok'), S_IFREG, 2));
  assert.is(w.buf.readUInt32LE(OFF + 16), 5);
  assert.equal(new Uint8Array(w.buf.subarray(OFF + D, OFF + D + 5)), raw);
  assert.equal([...w.buf.subarray(OFF + D + 5, OFF + 32)], [0, 0, 0], 'padding zeroed');
  assert.is(parseDirents(w.buf.subarray(OFF, OFF + d.length))[1].name, 'ok');
});

test('dirent: type is the S_IFMT bits of the mode >> 12 (DT_*), permission bits ignored', () => {
  const modes: [number, number][] = [
    [0o010644, 1], // FIFO
    [0o020600, 2], // CHR
    [0o040755, 4], // DIR
    [0o060660, 6], // BLK
    [0o100644, 8], // REG
    [0o104755, 8], // REG with setuid
    [0o120777, 10], // LNK
    [0o140755, 12], // SOCK
    [0o000000, 0], // unknown
  ];
  const w = dirty();
  const d = new DirentWriter().reset(w, OFF, 4096);
  modes.forEach(([m], i) => d.add(i + 1, `n${i}`, m, i + 1));
  assert.equal(parseDirents(w.buf.subarray(OFF, OFF + d.length)).map((e) => e.type), modes.map(([, t]) => t));
});

test('dirent: reset starts a new reply (count and length back to 0)', () => {
  const w = dirty();
  const d = new DirentWriter().reset(w, OFF, 4096);
  d.add(1, 'a', S_IFREG, 1);
  d.reset(w, OFF, 4096);
  assert.is(d.count, 0);
  assert.is(d.length, 0);
  d.add(2, 'b', S_IFDIR, 1);
  assert.equal(parseDirents(w.buf.subarray(OFF, OFF + d.length)), [{ ino: 2, off: 1, type: 4, name: 'b' }]);
});

function longName(i: number): string {
  // 150..250 bytes, multibyte mixed in
  return `${String(i).padStart(4, '0')}-${'ü'.repeat(20)}-${'x'.repeat(100 + (i % 60))}-${'日'.repeat(i % 7)}`;
}

test('dirent: 500 long names split across 4 KiB replies round-trip through parseDirents', () => {
  const all = Array.from({ length: 500 }, (_, i) => ({ ino: 1000 + i * 2 ** 20, name: longName(i), mode: i % 3 ? S_IFREG : S_IFDIR }));
  const seen: ReturnType<typeof parseDirents> = [];
  const w = dirty(8192);
  const d = new DirentWriter();
  let next = 0; // the offset the kernel sends back: index of the next entry
  let replies = 0;
  while (next < all.length) {
    d.reset(w, OFF, 4096);
    let i = next;
    while (i < all.length && d.add(all[i].ino, all[i].name, all[i].mode, i + 1)) i++;
    assert.ok(d.count > 0, 'progress in every reply');
    assert.ok(d.length <= 4096);
    assert.ok(4096 - d.length < rec(Buffer.byteLength(all[i]?.name ?? '')) || i === all.length, 'refused only when it did not fit');
    const parsed = parseDirents(w.buf.subarray(OFF, OFF + d.length));
    assert.is(parsed.length, d.count);
    seen.push(...parsed);
    next = parsed[parsed.length - 1].off;
    replies++;
  }
  assert.ok(replies > 10, `${replies} replies`);
  assert.equal(seen.map((e) => e.name), all.map((e) => e.name));
  assert.equal(seen.map((e) => e.ino), all.map((e) => e.ino));
  assert.equal(seen.map((e) => e.off), all.map((_, i) => i + 1));
  assert.equal(seen.map((e) => e.type), all.map((e) => (e.mode === S_IFDIR ? 4 : 8)));
});

// ---- DirentPlusWriter ----

test('direntplus: entry_out (128 bytes) then the dirent; fields at their offsets', () => {
  const w = dirty();
  const d = new DirentPlusWriter().reset(w, OFF, 4096);
  d.defaults = { entryTimeout: 5, attrTimeout: 6 };
  const e: Entry = { ino: 2 ** 40 + 3, generation: 9, attr: { ...attr(2 ** 40 + 3, S_IFDIR | 0o755), size: 4096 } };
  assert.ok(d.add('sub', e, 77));
  const p = OFF;
  const E = L.fuse_entry_out;
  assert.is(w.buf.readBigUInt64LE(p + E.nodeid), 2n ** 40n + 3n);
  assert.is(w.buf.readBigUInt64LE(p + E.generation), 9n);
  assert.is(w.buf.readBigUInt64LE(p + E.entry_valid), 5n);
  assert.is(w.buf.readBigUInt64LE(p + E.attr_valid), 6n);
  assert.is(w.buf.readBigUInt64LE(p + E.attr + L.fuse_attr.ino), 2n ** 40n + 3n);
  assert.is(w.buf.readUInt32LE(p + E.attr + L.fuse_attr.mode), S_IFDIR | 0o755);
  const q = p + L.fuse_direntplus.dirent;
  assert.is(w.buf.readBigUInt64LE(q + L.fuse_dirent.ino), 2n ** 40n + 3n);
  assert.is(w.buf.readBigUInt64LE(q + L.fuse_dirent.off), 77n);
  assert.is(w.buf.readUInt32LE(q + L.fuse_dirent.namelen), 3);
  assert.is(w.buf.readUInt32LE(q + L.fuse_dirent.type), 4);
  assert.is(w.buf.toString('utf8', q + D, q + D + 3), 'sub');
  assert.is(d.length, recPlus(3));
  assert.equal([...w.buf.subarray(q + D + 3, p + recPlus(3))], [0, 0, 0, 0, 0], 'padding zeroed');
});

test('direntplus: aligned records with zeroed padding (name lengths 1..17)', () => {
  const w = dirty();
  const d = new DirentPlusWriter().reset(w, OFF, 8000);
  for (let n = 1; n <= 17; n++) {
    const start = OFF + d.length;
    assert.is((start - OFF) % 8, 0);
    assert.ok(d.add('y'.repeat(n), entry(n), n));
    assert.is(OFF + d.length - start, recPlus(n));
    for (let k = start + EO + D + n; k < start + recPlus(n); k++) assert.is(w.buf[k], 0, `padding of record ${n}`);
  }
});

test('direntplus: add returns false and writes nothing at the exact boundary', () => {
  // 128 + 24 + 8 = 160
  const w = dirty();
  const d = new DirentPlusWriter().reset(w, OFF, 160);
  let lookups = 0;
  d.onLookup = () => lookups++;
  assert.ok(d.add('12345678', entry(5), 1));
  const before = Buffer.from(w.buf.subarray(0, 400));
  assert.not.ok(d.add('z', entry(6), 2));
  assert.equal(Buffer.from(w.buf.subarray(0, 400)), before);
  assert.is(d.count, 1);
  assert.is(lookups, 1, 'the refused entry is not counted');

  const w2 = dirty();
  const d2 = new DirentPlusWriter().reset(w2, OFF, 159);
  d2.onLookup = () => lookups++;
  assert.not.ok(d2.add('12345678', entry(5), 1));
  assert.ok(w2.buf.every((x) => x === 0xaa), 'nothing written');
  assert.is(lookups, 1);
});

test('direntplus: onLookup is called for accepted entries, not for ".", "..", or ino 0', () => {
  const w = dirty();
  const d = new DirentPlusWriter().reset(w, OFF, 8000);
  const counted: number[] = [];
  d.onLookup = (ino) => counted.push(ino);
  d.add('.', entry(1, S_IFDIR), 1);
  d.add('..', entry(1, S_IFDIR), 2);
  d.add(new Uint8Array([46]), entry(1, S_IFDIR), 3);
  d.add(new Uint8Array([46, 46]), entry(1, S_IFDIR), 4);
  d.add('a', entry(10), 5);
  d.add('...', entry(11), 6);
  d.add('.hidden', entry(12), 7);
  d.add('nolookup', { ino: 0, attr: attr(13) }, 8);
  d.add(new TextEncoder().encode('bytes'), entry(14), 9);
  assert.equal(counted, [10, 11, 12, 14]);
  assert.is(d.count, 9);
  assert.ok(isDotOrDotDot('.') && isDotOrDotDot('..') && !isDotOrDotDot('...') && !isDotOrDotDot(''));
});

test('direntplus: ino 0 zeroes entry_out (no lookup) but still lists the name with attr.ino', () => {
  const w = dirty();
  const d = new DirentPlusWriter().reset(w, OFF, 4096);
  assert.ok(d.add('plain', { ino: 0, attr: attr(77, 0o120777) }, 3));
  assert.ok(w.buf.subarray(OFF, OFF + EO).every((x) => x === 0), 'entry_out all zero');
  const [r] = parseDirentPlus(w.buf.subarray(OFF, OFF + d.length));
  assert.equal(r, { nodeid: 0, attrIno: 0, mode: 0, ino: 77, off: 3, type: 10, name: 'plain' });
});

test('direntplus: addBare writes what add writes for an entry with ino 0 (name from a byte range), counts no lookup, refuses at the boundary', () => {
  const src = new TextEncoder().encode('xx-plain-file-name-longer-than-32-bytes-yy');
  const names: [number, number][] = [[3, 5], [3, 37]]; // a short name (copied byte by byte) and a long one
  for (const [start, len] of names) {
    const name = src.subarray(start, start + len);
    const viaAdd = dirty();
    const a = new DirentPlusWriter().reset(viaAdd, OFF, 4096);
    assert.ok(a.add(name, { ino: 0, attr: attr(77, 0o120777) }, 3));
    const viaBare = dirty();
    const b = new DirentPlusWriter().reset(viaBare, OFF, 4096);
    let lookups = 0;
    b.onLookup = () => lookups++;
    assert.ok(b.addBare(src, start, len, 77, 0o120777, 3));
    assert.is(b.length, a.length);
    assert.is(b.count, 1);
    assert.equal(Buffer.from(viaBare.buf.subarray(0, OFF + b.length + 8)), Buffer.from(viaAdd.buf.subarray(0, OFF + a.length + 8)), `record of a ${len}-byte name`);
    assert.is(lookups, 0);
  }
  // 128 + 24 + 5 -> 160: refused one byte short, nothing written
  const w = dirty();
  const d = new DirentPlusWriter().reset(w, OFF, 159);
  assert.not.ok(d.addBare(src, 3, 5, 77, S_IFREG, 1));
  assert.ok(w.buf.every((x) => x === 0xaa), 'nothing written');
  assert.is(d.count, 0);
  assert.ok(d.reset(w, OFF, 160).addBare(src, 3, 5, 77, S_IFREG, 1));
});

test('direntplus: multibyte and Uint8Array names', () => {
  const w = dirty();
  const d = new DirentPlusWriter().reset(w, OFF, 4096);
  d.add('日本語ファイル', entry(5), 1);
  d.add(new Uint8Array([0x61, 0xc3, 0xa9]), entry(6), 2);
  const parsed = parseDirentPlus(w.buf.subarray(OFF, OFF + d.length));
  assert.equal(parsed.map((e) => e.name), ['日本語ファイル', 'aé']);
  assert.is(d.length, recPlus(21) + recPlus(3));
});

test('direntplus: 500 long names split across replies round-trip through parseDirentPlus', () => {
  const all = Array.from({ length: 500 }, (_, i) => ({ name: longName(i), e: entry(2 ** 33 + i, i % 4 ? S_IFREG | 0o600 : S_IFDIR | 0o700) }));
  const w = dirty(16384);
  const d = new DirentPlusWriter();
  const counted: number[] = [];
  const seen: ReturnType<typeof parseDirentPlus> = [];
  let next = 0;
  let replies = 0;
  while (next < all.length) {
    d.reset(w, OFF, 4096);
    d.onLookup = (ino) => counted.push(ino);
    let i = next;
    while (i < all.length && d.add(all[i].name, all[i].e, i + 1)) i++;
    assert.ok(d.count > 0 && d.length <= 4096);
    const parsed = parseDirentPlus(w.buf.subarray(OFF, OFF + d.length));
    assert.is(parsed.length, d.count);
    seen.push(...parsed);
    next = parsed[parsed.length - 1].off;
    replies++;
  }
  assert.ok(replies > 20, `${replies} replies`);
  assert.equal(seen.map((e) => e.name), all.map((e) => e.name));
  assert.equal(seen.map((e) => e.nodeid), all.map((e) => e.e.ino));
  assert.equal(seen.map((e) => e.attrIno), all.map((e) => e.e.ino));
  assert.equal(seen.map((e) => e.ino), all.map((e) => e.e.ino));
  assert.equal(seen.map((e) => e.mode), all.map((e) => e.e.attr.mode));
  assert.equal(seen.map((e) => e.type), all.map((e) => (e.e.attr.mode & 0o170000) >> 12));
  assert.equal(seen.map((e) => e.off), all.map((_, i) => i + 1));
  assert.equal(counted, all.map((e) => e.e.ino), 'each accepted entry counted exactly once');
});

test.run();
