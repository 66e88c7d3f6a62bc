// The WebAssembly LZ4 decoder (src/compress/lz4.wat) against the JavaScript one it replaces on the hot path and
// against blocks made by the reference `lz4` tool: same bytes, same verdicts on damaged input, nothing written
// past the output, memory that grows for large extents. lz4.test.ts covers the shared behaviour through
// lz4DecompressBlock (which takes the WebAssembly path here).

import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { lz4DecompressBlock, lz4DecompressBlockJs } from '../../../src/erofs/reader/lz4.js';
import { CorruptImageError } from '../../../src/erofs/reader/errors.js';
import { LZ4_WAT_SHA256 } from '../../../src/compress/lz4-wasm-module.js';
import { lz4WasmAvailable } from '../../../src/compress/lz4-wasm.js';
import { Lz4Compressor } from '../../../src/erofs/writer/lz4-compress.js';
import { rng } from './mutate.js';

const REPO = path.resolve(path.dirname(new URL(import.meta.url).pathname), '../../../..');

type Decoder = typeof lz4DecompressBlock;
/** What a decoder makes of a block: its bytes, or the error's reason class ('corrupt'). */
function run(fn: Decoder, src: Uint8Array, n: number, partial: boolean): string {
  const dst = new Uint8Array(n + 64).fill(0xee);
  try {
    const got = fn(src, 0, src.length, dst, n, partial);
    if (!dst.subarray(n).every((b) => b === 0xee)) return 'wrote past the output';
    return `ok ${got} ${createHash('sha1').update(dst.subarray(0, got)).digest('hex')}`;
  } catch (e) {
    if (e instanceof CorruptImageError) return 'corrupt';
    throw e;
  }
}

/** Independent blocks of an LZ4 frame as the `lz4` tool writes it (-B4: 64 KiB blocks, no checksums). */
function referenceBlocks(data: Uint8Array): Array<{ block: Uint8Array; plain: Uint8Array }> {
  const frame = execFileSync('lz4', ['-9', '-B4', '-BI', '--no-frame-crc', '-c'], { input: data, maxBuffer: 1 << 28 });
  assert.is(frame.readUInt32LE(0), 0x184d2204, 'LZ4 frame magic');
  const flg = frame[4]!;
  let at = 4 + 2 + ((flg & 0x08) ? 8 : 0) + 1; // FLG, BD, content size, header checksum
  const out: Array<{ block: Uint8Array; plain: Uint8Array }> = [];
  let plainAt = 0;
  for (;;) {
    const word = frame.readUInt32LE(at);
    at += 4;
    if (word === 0) break;
    const size = word & 0x7fffffff;
    const block = frame.subarray(at, at + size);
    at += size + ((flg & 0x10) ? 4 : 0);
    const plainLen = Math.min(64 << 10, data.length - plainAt);
    if ((word & 0x80000000) === 0) out.push({ block, plain: data.subarray(plainAt, plainAt + plainLen) });
    plainAt += plainLen;
  }
  return out;
}

function corpus(bytes: number): Uint8Array {
  const out = new Uint8Array(bytes);
  let at = 0;
  for (const f of ['/usr/bin/bash', '/usr/bin/perl', '/usr/share/common-licenses/GPL-3', '/usr/bin/ls', '/usr/bin/tar']) {
    try {
      const b = readFileSync(f);
      out.set(b.subarray(0, bytes - at), at);
      at += Math.min(b.length, bytes - at);
    } catch {
      // a file this machine lacks: the others are enough
    }
    if (at === bytes) break;
  }
  return out.subarray(0, at);
}

test('the WebAssembly decoder runs here, and its module is assembled from the current lz4.wat', () => {
  assert.ok(lz4WasmAvailable());
  const wat = readFileSync(path.join(REPO, 'src/compress/lz4.wat'), 'utf8');
  assert.is(createHash('sha256').update(wat).digest('hex'), LZ4_WAT_SHA256, 'run scripts/build-lz4-wasm.mjs after editing lz4.wat');
});

test('blocks written by the reference lz4 tool decode to the original bytes, full and partial', () => {
  const data = corpus(3 << 20);
  const blocks = referenceBlocks(data);
  assert.ok(blocks.length > 20, `${blocks.length} compressed blocks`);
  for (const [i, { block, plain }] of blocks.entries()) {
    const dst = new Uint8Array(plain.length + 32);
    assert.is(lz4DecompressBlock(block, 0, block.length, dst, plain.length, false), plain.length);
    assert.ok(Buffer.from(dst.subarray(0, plain.length)).equals(plain), `block ${i}`);
    const k = (i * 7919) % plain.length;
    assert.is(run(lz4DecompressBlock, block, k, true), run(lz4DecompressBlockJs, block, k, true), `block ${i} prefix ${k}`);
  }
});

test('pclusters from our destSize compressor: both decoders give the same bytes', () => {
  const data = corpus(2 << 20);
  const c = new Lz4Compressor(16);
  const out = new Uint8Array(4096);
  for (let pos = 0, i = 0; pos < data.length; i++) {
    const win = data.subarray(pos, Math.min(data.length, pos + 65536));
    const r = c.compress(win, win.length, out, 4096);
    const block = out.slice(0, r.written);
    assert.is(run(lz4DecompressBlock, block, r.consumed, false), run(lz4DecompressBlockJs, block, r.consumed, false), `pcluster ${i}`);
    assert.ok(run(lz4DecompressBlock, block, r.consumed, false).startsWith(`ok ${r.consumed} `));
    pos += r.consumed;
  }
});

test('overlapping matches at every short offset and many lengths', () => {
  for (let off = 1; off <= 20; off++) {
    for (const len of [4, 5, 7, 8, 9, 15, 16, 17, 18, 31, 33, 64, 100, 270, 1000]) {
      // `off` literal bytes, a match of `len` at offset `off`, then 5 literals
      const seq: number[] = [];
      const ml = len - 4;
      seq.push((Math.min(off, 15) << 4) | Math.min(ml, 15));
      if (off >= 15) seq.push(off - 15);
      for (let i = 0; i < off; i++) seq.push(0x41 + i);
      seq.push(off, 0);
      if (ml >= 15) {
        let v = ml - 15;
        while (v >= 255) {
          seq.push(255);
          v -= 255;
        }
        seq.push(v);
      }
      seq.push(0x50, 1, 2, 3, 4, 5);
      const block = Uint8Array.from(seq);
      const n = off + len + 5;
      const a = run(lz4DecompressBlock, block, n, false);
      assert.is(a, run(lz4DecompressBlockJs, block, n, false), `offset ${off} length ${len}`);
      assert.ok(a.startsWith(`ok ${n} `), `offset ${off} length ${len}: ${a}`);
      for (const k of [1, off, off + 1, off + len - 1, n - 1]) assert.is(run(lz4DecompressBlock, block, k, true), run(lz4DecompressBlockJs, block, k, true), `offset ${off} length ${len} prefix ${k}`);
    }
  }
});

test('damaged blocks: both decoders agree (same bytes or both corrupt), never writing past the output', () => {
  const rand = rng(1234);
  const data = corpus(1 << 20);
  const blocks = referenceBlocks(data);
  for (let t = 0; t < 3000; t++) {
    const { block, plain } = blocks[t % blocks.length]!;
    const bad = Uint8Array.from(block);
    const edits = 1 + Math.floor(rand() * 4);
    for (let e = 0; e < edits; e++) bad[Math.floor(rand() * bad.length)] = Math.floor(rand() * 256);
    const cut = rand() < 0.2 ? bad.subarray(0, Math.floor(rand() * bad.length)) : bad;
    const partial = rand() < 0.5;
    const n = partial ? Math.floor(rand() * (plain.length + 100)) : plain.length;
    const w = run(lz4DecompressBlock, cut, n, partial);
    assert.is(w, run(lz4DecompressBlockJs, cut, n, partial), `case ${t}`);
    assert.is.not(w, 'wrote past the output', `case ${t}`);
  }
});

test('a 12 MiB extent of one repeated pattern (the memory grows, then serves smaller calls again)', () => {
  const n = 12 << 20;
  // 'xyz' then one long match at offset 3 covering the rest but the 5 final literals
  const ml = n - 3 - 5 - 4;
  const seq = [0x3f, 0x78, 0x79, 0x7a, 3, 0];
  let v = ml - 15;
  while (v >= 255) {
    seq.push(255);
    v -= 255;
  }
  seq.push(v, 0x50, 0x78, 0x79, 0x7a, 0x78, 0x79);
  const block = Uint8Array.from(seq);
  const dst = new Uint8Array(n);
  assert.is(lz4DecompressBlock(block, 0, block.length, dst, n, false), n);
  for (let i = 0; i < n; i += 4099) assert.is(dst[i], 0x78 + (i % 3), `byte ${i}`);
  assert.is(run(lz4DecompressBlock, Uint8Array.from([0x50, 104, 101, 108, 108, 111]), 5, false), run(lz4DecompressBlockJs, Uint8Array.from([0x50, 104, 101, 108, 108, 111]), 5, false));
});

test.run();
