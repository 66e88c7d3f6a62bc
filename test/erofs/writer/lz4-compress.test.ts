// The destSize LZ4 compressor against our reader's full (LZ4_decompress_safe-like) decoder: every output
// decodes to exactly the input it claims to have consumed, fits the cap, and uses the whole input when it can.

import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { Lz4Compressor, lz4Depth } from '../../../src/erofs/writer/lz4-compress.js';
import { lz4DecompressBlock } from '../../../src/erofs/reader/lz4.js';

function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => ((s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 2 ** 32);
}

function inputs(): Array<[string, Uint8Array]> {
  const r = rng(7);
  const text = Buffer.from('the quick brown fox jumps over the lazy dog; '.repeat(3000));
  const random = Uint8Array.from({ length: 70000 }, () => Math.floor(r() * 256));
  const mixed = Uint8Array.from({ length: 90000 }, (_, i) => (i % 1000 < 500 ? Math.floor(r() * 256) : i & 7));
  return [['text', text], ['random', random], ['mixed', mixed], ['zeros', new Uint8Array(50000)], ['tiny', Buffer.from('abcdabcdabcdabcdx')]];
}

for (const mode of ['lz4', 'lz4hc'] as const) {
  test(`${mode}: each destSize block decodes to the input it consumed`, () => {
    const c = new Lz4Compressor(lz4Depth(mode));
    const dst = new Uint8Array(4096);
    for (const [name, data] of inputs()) {
      for (let off = 0; off < data.length; ) {
        const src = data.subarray(off);
        const r = c.compress(src, src.length, dst, 4096);
        assert.ok(r.written <= 4096, `${name}: ${r.written} bytes`);
        assert.ok(r.consumed > 0, `${name}: no progress`);
        const out = new Uint8Array(r.consumed);
        const n = lz4DecompressBlock(dst, 0, r.written, out, r.consumed, false);
        assert.is(n, r.consumed, name);
        assert.ok(Buffer.from(out).equals(Buffer.from(src.buffer, src.byteOffset, r.consumed)), name);
        off += r.consumed;
      }
    }
  });
}

test('lz4hc packs text tighter than lz4 and far more than one block per block', () => {
  const text = inputs()[0]![1];
  const dst = new Uint8Array(4096);
  const fast = new Lz4Compressor(lz4Depth('lz4')).compress(text, text.length, dst, 4096).consumed;
  const hc = new Lz4Compressor(lz4Depth('lz4hc')).compress(text, text.length, dst, 4096).consumed;
  assert.ok(fast > 4 * 4096, `lz4 consumed ${fast}`);
  assert.ok(hc >= fast, `lz4hc ${hc} < lz4 ${fast}`);
});

test('a long run of zeros fills a block: matches are cut to what the room left can encode, not dropped', () => {
  // a 4 KiB block of LZ4 can describe ~1 MiB of zeros (255 per length byte); before the cut, a match longer
  // than the room made the compressor stop and store the block plain, so a file of zeros did not shrink
  const zeros = new Uint8Array(3_000_000);
  const dst = new Uint8Array(4096);
  for (const mode of ['lz4', 'lz4hc'] as const) {
    const r = new Lz4Compressor(lz4Depth(mode)).compress(zeros, zeros.length, dst, 4096);
    assert.ok(r.written <= 4096, `${mode}: ${r.written} bytes`);
    assert.ok(r.consumed > 512 * 1024, `${mode}: consumed only ${r.consumed}`);
    const out = new Uint8Array(r.consumed);
    assert.is(lz4DecompressBlock(dst, 0, r.written, out, r.consumed, false), r.consumed, mode);
    assert.ok(out.every((b) => b === 0), mode);
  }
});

test.run();
