// decompressInto: a pcluster decoded into a caller's buffer at an offset (what an EROFS READ does with its
// reply buffer) writes exactly the extent's bytes there, the same bytes decompress() returns, and nothing
// outside [at, at + outputLength); a failed decode throws CorruptImageError.

import * as zlib from 'node:zlib';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { zstdCompress, zstdReady } from '../../../src/compress/zstd.js';
import { type DecompressRequest, decompress, decompressInto } from '../../../src/erofs/reader/decompress.js';
import { CorruptImageError } from '../../../src/erofs/reader/errors.js';
import * as F from '../../../src/erofs/reader/format.js';
import { Lz4Compressor } from '../../../src/erofs/writer/lz4-compress.js';
import { rng } from './mutate.js';

const BLOCK = 4096;
const SENTINEL = 0xa5;
const rand = rng(11);
const text = new TextEncoder().encode(Array.from({ length: 600 }, (_, i) => `line ${i % 97} of the extent\n`).join(''));
const plain = Uint8Array.from({ length: BLOCK }, () => Math.floor(rand() * 256));

function request(algorithm: number, input: Uint8Array, outputLength: number, extra: Partial<DecompressRequest> = {}): DecompressRequest {
  return { algorithm, input, outputLength, blockSize: BLOCK, lz4ZeroPadding: false, interlacedOffset: 0, ...extra };
}

/** Decodes into a sentinel-filled buffer at `at` and checks the extent and both margins. */
function checkInto(name: string, req: DecompressRequest, want: Uint8Array, at = 123): void {
  const dst = new Uint8Array(at + req.outputLength + 77).fill(SENTINEL);
  decompressInto(req, dst, at);
  assert.ok(Buffer.from(dst.subarray(at, at + req.outputLength)).equals(want.subarray(0, req.outputLength)), `${name}: extent bytes`);
  assert.ok(dst.subarray(0, at).every((b) => b === SENTINEL), `${name}: bytes before the extent untouched`);
  assert.ok(dst.subarray(at + req.outputLength).every((b) => b === SENTINEL), `${name}: bytes after the extent untouched`);
  assert.ok(Buffer.from(decompress(req)).equals(want.subarray(0, req.outputLength)), `${name}: decompress() agrees`);
}

test('stored (shifted) pclusters are copied into place, a prefix when the extent is shorter', () => {
  checkInto('whole', request(F.COMPRESSION_SHIFTED, plain, BLOCK), plain);
  checkInto('prefix', request(F.COMPRESSION_SHIFTED, plain, 1000), plain);
  checkInto('at 0', request(F.COMPRESSION_SHIFTED, plain, BLOCK), plain, 0);
});

test('interlaced pclusters are rotated back into place', () => {
  const offset = 1000;
  // Stored so that each byte keeps its in-block position: the extent's first BLOCK - offset bytes sit at the end.
  const stored = new Uint8Array(BLOCK);
  stored.set(plain.subarray(0, BLOCK - offset), offset);
  stored.set(plain.subarray(BLOCK - offset), 0);
  checkInto('interlaced', request(F.COMPRESSION_INTERLACED, stored, BLOCK, { interlacedOffset: offset }), plain);
  checkInto('interlaced prefix', request(F.COMPRESSION_INTERLACED, stored, 500, { interlacedOffset: offset }), plain);
});

test('LZ4 pclusters (with and without zero padding) decode into place', () => {
  const out = new Uint8Array(BLOCK);
  const r = new Lz4Compressor(16).compress(text, text.length, out, BLOCK);
  const stream = out.subarray(0, r.written);
  checkInto('lz4', request(F.COMPRESSION_LZ4, stream, r.consumed), text);
  const padded = new Uint8Array(BLOCK);
  padded.set(stream, BLOCK - stream.length);
  checkInto('lz4 zero padded', request(F.COMPRESSION_LZ4, padded, r.consumed, { lz4ZeroPadding: true }), text);
});

test('zstd and DEFLATE pclusters decode into place, a prefix when the extent is shorter', async () => {
  await zstdReady;
  const frame = zstdCompress(text);
  checkInto('zstd', request(F.COMPRESSION_ZSTD, frame, text.length), text);
  checkInto('zstd prefix', request(F.COMPRESSION_ZSTD, frame, 100), text);
  const raw = zlib.deflateRawSync(text);
  checkInto('deflate', request(F.COMPRESSION_DEFLATE, raw, text.length), text);
  checkInto('deflate prefix', request(F.COMPRESSION_DEFLATE, raw, 100), text);
});

test('corrupt input throws CorruptImageError and a too small destination a RangeError', () => {
  assert.throws(() => decompressInto(request(F.COMPRESSION_SHIFTED, plain, BLOCK + 1), new Uint8Array(2 * BLOCK), 0), (e: unknown) => e instanceof CorruptImageError);
  assert.throws(() => decompressInto(request(F.COMPRESSION_LZ4, new Uint8Array([0xf0, 1, 2]), 100), new Uint8Array(200), 0), (e: unknown) => e instanceof CorruptImageError);
  assert.throws(() => decompressInto(request(F.COMPRESSION_SHIFTED, plain, BLOCK), new Uint8Array(BLOCK), 1), (e: unknown) => e instanceof RangeError);
});

test.run();
