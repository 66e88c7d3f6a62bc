// LZMA / MicroLZMA decoding (src/compress/lzma.ts) against the reference encoder: streams made by
// `xz --format=raw --lzma1=...` are turned into MicroLZMA form (first byte := ~properties) and must decode to
// the original bytes, whole or as a prefix; truncated, damaged or over-asked streams must throw LzmaError
// (CorruptImageError through the EROFS decompressor), never write past the output, never hang.

import { execFileSync } from 'node:child_process';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { LzmaError, lzmaDecompressRaw, microLzmaDecodeInto, microLzmaDecompress, parseLzmaProperties } from '../../../src/compress/lzma.js';
import { decompress } from '../../../src/erofs/reader/decompress.js';
import { CorruptImageError } from '../../../src/erofs/reader/errors.js';
import * as F from '../../../src/erofs/reader/format.js';
import { rng } from './mutate.js';

const DICT = 8 << 20;

function samples(): Record<string, Uint8Array> {
  const rand = rng(7);
  const text = new TextEncoder().encode(Array.from({ length: 4000 }, (_, i) => `line ${i % 97} of the test text, value ${(i * 7919) % 1000}\n`).join(''));
  const random = Uint8Array.from({ length: 50_000 }, () => Math.floor(rand() * 256));
  const mixed = new Uint8Array(200_000);
  for (let i = 0; i < mixed.length; i += 1000) mixed.set(i % 3000 ? text.subarray(i % 5000, (i % 5000) + 1000) : random.subarray(0, 1000), i);
  return { empty1: new Uint8Array([42]), zeros: new Uint8Array(100_000), text, random, mixed };
}

/** `xz --format=raw --lzma1=OPTS` of `data`, as MicroLZMA (EROFS's form). */
function microLzma(data: Uint8Array, lc: number, lp: number, pb: number, extra = 'preset=6'): Uint8Array {
  const raw = new Uint8Array(execFileSync('xz', ['--format=raw', `--lzma1=${extra},lc=${lc},lp=${lp},pb=${pb}`, '-c'], { input: data }));
  assert.is(raw[0], 0, 'an LZMA range coder stream starts with 0');
  raw[0] = ~(pb * 45 + lp * 9 + lc) & 0xff;
  return raw;
}

function throwsLzma(fn: () => unknown, what: string): void {
  assert.throws(fn, (e: unknown) => e instanceof LzmaError, what);
}

test('raw LZMA1 streams from xz decode to the original bytes', () => {
  for (const [name, data] of Object.entries(samples())) {
    const raw = execFileSync('xz', ['--format=raw', '--lzma1=preset=6', '-c'], { input: data });
    assert.ok(Buffer.from(lzmaDecompressRaw(new Uint8Array(raw), { lc: 3, lp: 0, pb: 2 }, DICT, data.length)).equals(data), name);
  }
});

test('MicroLZMA: every lc/lp/pb mix and preset decodes, whole and as a prefix', () => {
  const s = samples();
  const props: Array<[number, number, number, string]> = [
    [3, 0, 2, 'preset=6'], [0, 0, 0, 'preset=0'], [4, 0, 4, 'preset=9e'], [0, 4, 0, 'preset=3'], [1, 3, 1, 'preset=6,nice=273'], [2, 2, 3, 'preset=1,mf=hc4'],
  ];
  for (const [lc, lp, pb, extra] of props) {
    for (const name of ['text', 'mixed', 'zeros']) {
      const data = s[name]!;
      const m = microLzma(data, lc, lp, pb, extra);
      const label = `${name} lc=${lc} lp=${lp} pb=${pb} ${extra}`;
      assert.ok(Buffer.from(microLzmaDecompress(m, data.length, DICT)).equals(data), label);
      for (const n of [0, 1, 17, 4096, Math.floor(data.length / 3)]) {
        assert.ok(Buffer.from(microLzmaDecompress(m, n, DICT)).equals(data.subarray(0, n)), `${label} prefix ${n}`);
      }
    }
  }
});

test('asking for more bytes than the stream holds fails (end marker or missing input)', () => {
  const data = samples().text;
  const m = microLzma(data, 3, 0, 2);
  throwsLzma(() => microLzmaDecompress(m, data.length + 1, DICT), 'one byte too many');
  throwsLzma(() => microLzmaDecompress(m, data.length * 2, DICT), 'twice the size');
});

test('truncated streams fail and never write past the output length', () => {
  const data = samples().mixed;
  const m = microLzma(data, 3, 0, 2);
  for (const cut of [0, 1, 4, 5, 6, 100, Math.floor(m.length / 2), m.length - 50]) {
    const out = new Uint8Array(data.length + 64).fill(0xa5);
    throwsLzma(() => microLzmaDecodeInto(m, 0, cut, out, data.length, DICT), `cut at ${cut}`);
    assert.ok(out.subarray(data.length).every((b) => b === 0xa5), `cut at ${cut}: nothing written past the output`);
  }
});

test('damaged streams throw LzmaError or decode to something, always within the output', () => {
  const data = samples().mixed;
  const m = microLzma(data, 3, 0, 2);
  const rand = rng(11);
  let failed = 0;
  for (let i = 0; i < 300; i++) {
    const bad = m.slice();
    for (let k = 0; k < 1 + (i % 4); k++) bad[Math.floor(rand() * bad.length)] ^= 1 << Math.floor(rand() * 8);
    const out = new Uint8Array(data.length + 16).fill(0x5a);
    try {
      microLzmaDecodeInto(bad, 0, bad.length, out, data.length, DICT);
    } catch (e) {
      assert.ok(e instanceof LzmaError, `case ${i}: ${(e as Error).stack}`);
      failed++;
    }
    assert.ok(out.subarray(data.length).every((b) => b === 0x5a), `case ${i}: wrote past the output`);
  }
  assert.ok(failed > 100, `only ${failed} of 300 damaged streams were refused`);
});

test('properties: ranges and the lc + lp <= 4 limit of MicroLZMA', () => {
  assert.equal(parseLzmaProperties(93), { lc: 3, lp: 0, pb: 2 });
  throwsLzma(() => parseLzmaProperties(225), 'properties byte 225');
  throwsLzma(() => parseLzmaProperties(4 + 1 * 9), 'lc 4 + lp 1');
  const m = microLzma(samples().text, 3, 0, 2);
  m[0] = ~(3 * 9 + 3) & 0xff; // lc 3, lp 3
  throwsLzma(() => microLzmaDecompress(m, 10, DICT), 'lc + lp = 6');
});

test('a match reaching past the dictionary size is refused', () => {
  const rand = rng(3);
  const block = Uint8Array.from({ length: 20_000 }, () => Math.floor(rand() * 256));
  const data = new Uint8Array(40_000);
  data.set(block, 0);
  data.set(block, 20_000); // repeats at distance 20000
  const m = microLzma(data, 3, 0, 2);
  assert.ok(Buffer.from(microLzmaDecompress(m, data.length, 32 << 10)).equals(data), 'a 32 KiB dictionary holds it');
  throwsLzma(() => microLzmaDecompress(m, data.length, 4096), 'a 4 KiB dictionary does not');
});

test('EROFS lzma pclusters: zero padding in front, prefix extents, damage as CorruptImageError', () => {
  const data = samples().text;
  const m = microLzma(data, 3, 0, 2);
  const blockSize = 4096;
  const plen = Math.ceil(m.length / blockSize) * blockSize;
  const pcluster = new Uint8Array(plen);
  pcluster.set(m, plen - m.length);
  const req = { algorithm: F.COMPRESSION_LZMA, input: pcluster, blockSize, lz4ZeroPadding: true, interlacedOffset: 0 };
  assert.ok(Buffer.from(decompress({ ...req, outputLength: data.length })).equals(data));
  assert.ok(Buffer.from(decompress({ ...req, outputLength: 1000 })).equals(data.subarray(0, 1000)));
  const isCorrupt = (e: unknown) => e instanceof CorruptImageError && /lzma/.test(e.reason);
  assert.throws(() => decompress({ ...req, outputLength: data.length + 10 }), isCorrupt);
  assert.throws(() => decompress({ ...req, input: pcluster.subarray(0, plen - 100), outputLength: data.length }), isCorrupt);
  assert.throws(() => decompress({ ...req, input: new Uint8Array(blockSize), outputLength: 10 }), (e: unknown) => e instanceof CorruptImageError);
});

test.run();
