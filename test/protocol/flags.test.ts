// Typed flag sets: value/of/has/union/intersect/without/names/format over bits 0..52 (JS bitwise operators only
// see 32 bits, so the high word, e.g. FUSE_PASSTHROUGH at bit 37, needs care), unknown bits named `bitN`,
// the FlagSet wrapper, and the lo32/hi32/join64 helpers. Checked against BigInt arithmetic.

import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { FopenFlags, InitFlags } from '../../src/protocol/abi.js';
import { FlagSet, defineFlags, hi32, join64, lo32 } from '../../src/protocol/flags.js';

const T = defineFlags('t', { A: 0, B: 1, MID: 30, TOP31: 31, LOW_HI: 32, PT: 37, MAX: 52 });

test('value: bit 0..30, bit 31 positive (not a negative int), bits 32..52 exact', () => {
  assert.is(T.value('A'), 1);
  assert.is(T.value('MID'), 2 ** 30);
  assert.is(T.value('TOP31'), 2 ** 31);
  assert.ok(T.value('TOP31') > 0);
  assert.is(T.value('LOW_HI'), 2 ** 32);
  assert.is(T.value('PT'), 2 ** 37);
  assert.is(T.value('MAX'), 2 ** 52);
  assert.is(InitFlags.value('PASSTHROUGH'), 2 ** 37);
  assert.is(InitFlags.value('INIT_RESERVED'), 2147483648);
});

test('defineFlags rejects bits outside 0..52 and non-integers', () => {
  const range = (e: unknown) => e instanceof RangeError;
  assert.throws(() => defineFlags('x', { BAD: 53 }), range);
  assert.throws(() => defineFlags('x', { BAD: -1 }), range);
  assert.throws(() => defineFlags('x', { BAD: 1.5 }), range);
  assert.throws(() => defineFlags('x', { BAD: 64 }), range);
});

test('of: combines low and high bits; of() is 0', () => {
  assert.is(T.of(), 0);
  assert.is(T.of('A', 'PT'), 2 ** 37 + 1);
  assert.is(T.of('TOP31', 'LOW_HI'), 2 ** 31 + 2 ** 32);
  assert.is(T.of('A', 'A'), 1, 'idempotent');
  assert.is(InitFlags.of('INIT_EXT', 'PASSTHROUGH', 'REQUEST_TIMEOUT'), 2 ** 30 + 2 ** 37 + 2 ** 42);
});

test('has: tests bits in both words, including bit 31 and bit 37', () => {
  const v = T.of('B', 'TOP31', 'PT');
  assert.ok(T.has(v, 'B'));
  assert.ok(T.has(v, 'TOP31'));
  assert.ok(T.has(v, 'PT'));
  assert.not.ok(T.has(v, 'A'));
  assert.not.ok(T.has(v, 'LOW_HI'));
  assert.not.ok(T.has(v, 'MAX'));
  // bit 37 alone must not look like bit 5 (37 - 32) of the low word or vice versa
  assert.not.ok(InitFlags.has(2 ** 5, 'PASSTHROUGH'));
  assert.not.ok(InitFlags.has(2 ** 37, 'BIG_WRITES'));
  assert.ok(InitFlags.has(2 ** 37, 'PASSTHROUGH'));
  assert.ok(T.has(2 ** 52, 'MAX'));
});

test('union / intersect / without agree with BigInt on 500 pseudo-random 53-bit values', () => {
  let seed = 987654321;
  const r32 = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31), seed * 2 + (seed & 1)) >>> 0;
  const rand53 = () => (r32() % 2 ** 21) * 2 ** 32 + r32();
  for (let k = 0; k < 500; k++) {
    const a = rand53();
    const b = rand53();
    const A = BigInt(a);
    const B = BigInt(b);
    assert.is(BigInt(T.union(a, b)), A | B);
    assert.is(BigInt(T.intersect(a, b)), A & B);
    assert.is(BigInt(T.without(a, b)), A & ~B);
    assert.ok(T.union(a, b) >= 0 && T.intersect(a, b) >= 0 && T.without(a, b) >= 0, 'never negative');
  }
});

test('union / intersect / without on the edge bits 31, 32, 37', () => {
  const all = T.of('TOP31', 'LOW_HI', 'PT');
  assert.is(T.intersect(all, 2 ** 31), 2 ** 31);
  assert.is(T.without(all, T.of('TOP31')), 2 ** 32 + 2 ** 37);
  assert.is(T.union(2 ** 31, 2 ** 31), 2 ** 31);
  assert.is(T.intersect(0xffffffff, 2 ** 37), 0);
  assert.is(T.without(2 ** 53 - 1, 2 ** 53 - 1), 0);
});

test('names: declared flags in declaration order; unknown bits as bitN (low and high)', () => {
  assert.equal(T.names(T.of('PT', 'A', 'TOP31')), ['A', 'TOP31', 'PT']);
  assert.equal(T.names(0), []);
  assert.equal(T.names(2 ** 3), ['bit3']);
  assert.equal(T.names(1 + 2 ** 3 + 2 ** 37 + 2 ** 45), ['A', 'PT', 'bit3', 'bit45']);
  assert.equal(FopenFlags.names(2 ** 8 + 1), ['DIRECT_IO', 'bit8']);
  assert.equal(InitFlags.names(2 ** 43 + 2 ** 50), ['bit43', 'bit50']);
});

test('format: "0" for nothing, names joined by |', () => {
  assert.is(T.format(0), '0');
  assert.is(T.format(T.of('A', 'B')), 'A|B');
  assert.is(InitFlags.format(InitFlags.of('ASYNC_READ', 'PASSTHROUGH') + 2 ** 47), 'ASYNC_READ|PASSTHROUGH|bit47');
  assert.is(InitFlags.format(InitFlags.of('INIT_EXT', 'REQUEST_TIMEOUT')), 'INIT_EXT|REQUEST_TIMEOUT');
});

test('names: the kernel 7.45 INIT offer names every bit it sets', () => {
  const kernel = 0x5fd * 2 ** 32 + 0x73fffffb;
  const names = InitFlags.names(kernel);
  assert.not.ok(names.some((n) => n.startsWith('bit')));
  assert.is(InitFlags.of(...(names as (keyof typeof InitFlags.bits)[])), kernel);
});

test('FlagSet: has / with / without / names / toString, immutable', () => {
  const s = InitFlags.set(InitFlags.of('ASYNC_READ'));
  assert.ok(s instanceof FlagSet);
  const t = s.with('PASSTHROUGH', 'INIT_EXT');
  assert.ok(t.has('PASSTHROUGH'));
  assert.ok(t.has('ASYNC_READ'));
  assert.not.ok(s.has('PASSTHROUGH'), 'original unchanged');
  assert.is(t.value, 1 + 2 ** 30 + 2 ** 37);
  const u = t.without('ASYNC_READ');
  assert.is(u.value, 2 ** 30 + 2 ** 37);
  assert.equal(u.names(), ['INIT_EXT', 'PASSTHROUGH']);
  assert.is(String(u), 'INIT_EXT|PASSTHROUGH');
  assert.is(String(InitFlags.set(0)), '0');
});

test('lo32 / hi32 / join64 split and join 53-bit values', () => {
  const v = 0x1fffff * 2 ** 32 + 0xdeadbeef;
  assert.is(lo32(v), 0xdeadbeef);
  assert.is(hi32(v), 0x1fffff);
  assert.is(join64(lo32(v), hi32(v)), v);
  assert.is(lo32(2 ** 31), 2 ** 31);
  assert.is(hi32(2 ** 31), 0);
  assert.is(join64(-1, 0), 0xffffffff, 'words are taken unsigned');
  assert.is(join64(0, 1), 2 ** 32);
});

test('mask: the bit values by name are derived from the bit indexes (FOPEN and FATTR are masks of their specs)', () => {
  assert.equal(FopenFlags.mask, Object.fromEntries(Object.entries(FopenFlags.bits).map(([k, bit]) => [k, 2 ** bit])));
  assert.is(InitFlags.mask.INIT_EXT, 2 ** 30);
  assert.is(InitFlags.mask.OVER_IO_URING, 2 ** 41);
  assert.ok(Object.isFrozen(FopenFlags.mask));
});

test.run();
