// LZ4 block decompression: hand-made vectors, round trips through a small test-only compressor, partial
// decoding, and malformed input (which must fail as CorruptImageError and never write past the output).

import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { lz4DecompressBlock } from '../../../src/erofs/reader/lz4.js';
import { CorruptImageError } from '../../../src/erofs/reader/errors.js';
import { rng } from './mutate.js';

/** A greedy LZ4 block compressor (test only): enough to produce every kind of sequence. */
function lz4Compress(src: Uint8Array): Uint8Array {
  const out: number[] = [];
  const n = src.length;
  const table = new Map<number, number>();
  const r32 = (i: number) => src[i]! | (src[i + 1]! << 8) | (src[i + 2]! << 16) | (src[i + 3]! << 24);
  const len = (v: number) => {
    while (v >= 255) {
      out.push(255);
      v -= 255;
    }
    out.push(v);
  };
  let anchor = 0;
  let i = 0;
  while (i + 12 <= n) {
    const key = r32(i);
    const cand = table.get(key);
    table.set(key, i);
    if (cand !== undefined && i - cand <= 65535 && r32(cand) === key) {
      let m = 4;
      while (i + m < n - 5 && src[cand + m] === src[i + m]) m++;
      const lit = i - anchor;
      out.push((Math.min(lit, 15) << 4) | Math.min(m - 4, 15));
      if (lit >= 15) len(lit - 15);
      for (let k = anchor; k < i; k++) out.push(src[k]!);
      out.push((i - cand) & 0xff, (i - cand) >> 8);
      if (m - 4 >= 15) len(m - 4 - 15);
      i += m;
      anchor = i;
    } else {
      i++;
    }
  }
  const lit = n - anchor;
  out.push(Math.min(lit, 15) << 4);
  if (lit >= 15) len(lit - 15);
  for (let k = anchor; k < n; k++) out.push(src[k]!);
  return Uint8Array.from(out);
}

function decode(src: Uint8Array, n: number, partial = false): Uint8Array {
  const dst = new Uint8Array(n);
  const got = lz4DecompressBlock(src, 0, src.length, dst, n, partial);
  return dst.subarray(0, got);
}

function samples(): Array<[string, Uint8Array]> {
  const rand = rng(42);
  const random = Uint8Array.from({ length: 50000 }, () => Math.floor(rand() * 256));
  const text = new TextEncoder().encode('the quick brown fox jumps over the lazy dog. '.repeat(3000));
  const zeros = new Uint8Array(100000);
  const mixed = new Uint8Array(120000);
  for (let i = 0; i < mixed.length; i++) mixed[i] = i % 4096 < 2048 ? Math.floor(rand() * 256) : (i * 7) & 0xff;
  const runs = Uint8Array.from({ length: 70000 }, (_, i) => Math.floor(i / 300) & 1 ? 0x61 : Math.floor(i / 7) & 0xff);
  return [
    ['empty', new Uint8Array(0)],
    ['short', new TextEncoder().encode('hello')],
    ['random', random],
    ['text', text],
    ['zeros', zeros],
    ['mixed', mixed],
    ['runs', runs],
  ];
}

test('hand-made vectors: literals only, overlapping match, empty output', () => {
  assert.equal(Buffer.from(decode(Uint8Array.from([0x50, 104, 101, 108, 108, 111]), 5)).toString(), 'hello');
  // 'a', then a match at offset 1 of length 10 (a run), then a last literal 'b'
  const rle = Uint8Array.from([0x16, 0x61, 0x01, 0x00, 0x10, 0x62]);
  assert.is(Buffer.from(decode(rle, 12)).toString(), 'a'.repeat(11) + 'b');
  assert.is(lz4DecompressBlock(Uint8Array.from([0x00]), 0, 1, new Uint8Array(0), 0, false), 0);
});

test('round trips of many kinds of data, full and partial', () => {
  for (const [name, data] of samples()) {
    const c = lz4Compress(data);
    assert.ok(Buffer.from(decode(c, data.length)).equals(Buffer.from(data)), name);
    for (const k of [0, 1, 15, 16, 4095, 4096, 4097, Math.floor(data.length / 2), data.length]) {
      if (k > data.length) continue;
      assert.ok(Buffer.from(decode(c, k, true)).equals(Buffer.from(data.subarray(0, k))), `${name} prefix ${k}`);
    }
  }
});

test('long literal and match lengths (several 255 extension bytes)', () => {
  const rand = rng(7);
  const data = new Uint8Array(3000 + 2000);
  for (let i = 0; i < 3000; i++) data[i] = Math.floor(rand() * 256); // 3000 literals
  data.fill(9, 3000); // then a long match
  const c = lz4Compress(data);
  assert.ok(c.filter((b) => b === 255).length >= 10);
  assert.ok(Buffer.from(decode(c, data.length)).equals(Buffer.from(data)));
});

test('full mode insists on the exact output size; partial mode stops early', () => {
  const data = new TextEncoder().encode('abcabcabcabcabcabcabcabcabc-end-of-data!!');
  const c = lz4Compress(data);
  assert.throws(() => decode(c, data.length - 1), (e: unknown) => e instanceof CorruptImageError);
  assert.throws(() => decode(c, data.length + 1), (e: unknown) => e instanceof CorruptImageError);
  assert.is(decode(c, data.length + 1, true).length, data.length, 'partial returns what exists; the caller checks');
});

test('malformed streams: CorruptImageError with a reason', () => {
  const cases: Array<[string, number[], number]> = [
    ['empty input', [], 4],
    ['offset 0', [0x10, 0x61, 0x00, 0x00, 0x00], 10],
    ['offset before start', [0x10, 0x61, 0x05, 0x00, 0x00], 10],
    ['literal length runs out', [0xf0, 0xff, 0xff], 10],
    ['literals past input', [0x50, 0x61], 10],
    ['offset truncated', [0x10, 0x61, 0x01], 10],
    ['match length truncated', [0x1f, 0x61, 0x01, 0x00, 0xff], 400],
    ['match past output', [0x1f, 0x61, 0x01, 0x00, 0x50, 0x10, 0x62], 20],
  ];
  for (const [name, bytes, n] of cases) {
    assert.throws(() => decode(Uint8Array.from(bytes), n), (e: unknown) => e instanceof CorruptImageError && e.reason.startsWith('lz4'), name);
  }
});

test('random garbage never writes past the requested output', () => {
  const rand = rng(99);
  for (let t = 0; t < 3000; t++) {
    const src = Uint8Array.from({ length: 1 + Math.floor(rand() * 64) }, () => Math.floor(rand() * 256));
    const want = Math.floor(rand() * 300);
    const dst = new Uint8Array(want + 64).fill(0xee);
    try {
      lz4DecompressBlock(src, 0, src.length, dst, want, rand() < 0.5);
    } catch (e) {
      if (!(e instanceof CorruptImageError)) throw e;
    }
    assert.ok(dst.subarray(want).every((b) => b === 0xee), `case ${t} wrote past the output`);
  }
});

test.run();
