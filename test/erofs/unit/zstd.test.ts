// zstd decoding (src/compress/zstd.ts) against the reference tool: `zstd` command output must decode to the
// original bytes; the frame header parser must agree with what zstd wrote; bounds, truncation and damage must
// throw ZstdError (CorruptImageError through the EROFS decompressor), never crash or allocate without bound.

import { execFileSync } from 'node:child_process';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { ZstdError, zstdCompress, zstdDecompress, zstdFrameContentSize, zstdReady } from '../../../src/compress/zstd.js';
import { decompress } from '../../../src/erofs/reader/decompress.js';
import { CorruptImageError } from '../../../src/erofs/reader/errors.js';
import * as F from '../../../src/erofs/reader/format.js';
import { rng } from './mutate.js';

await zstdReady;

const rand = rng(5);
const text = new TextEncoder().encode(Array.from({ length: 5000 }, (_, i) => `record ${i % 211}: ${(i * 31) % 977}\n`).join(''));
const random = Uint8Array.from({ length: 40_000 }, () => Math.floor(rand() * 256));
const mixed = new Uint8Array([...text, ...random, ...text]);

function zstdCli(data: Uint8Array, ...args: string[]): Uint8Array {
  return new Uint8Array(execFileSync('zstd', ['-q', '-c', ...args], { input: data }));
}

test('frames made by the zstd command decode to the original bytes', () => {
  for (const [name, data] of Object.entries({ text, random, mixed, tiny: new Uint8Array([1, 2, 3]) })) {
    for (const level of ['-1', '-3', '-19', '--ultra', '--long=24']) {
      const args = level === '--ultra' ? ['--ultra', '-22'] : [level];
      const frame = zstdCli(data, ...args);
      assert.ok(Buffer.from(zstdDecompress(frame, data.length)).equals(data), `${name} ${args.join(' ')}`);
    }
  }
});

test('the frame content size is read as zstd wrote it, or absent when zstd streamed', () => {
  // `zstd -c` on a pipe does not know the size in advance: no Frame_Content_Size unless told with --stream-size.
  assert.is(zstdFrameContentSize(zstdCli(mixed)), undefined);
  for (const n of [0, 1, 255, 256, 65535, 65791, 65792, 200_000]) {
    const data = mixed.length >= n ? mixed.subarray(0, n) : new Uint8Array(n);
    assert.is(zstdFrameContentSize(zstdCli(data, `--stream-size=${n}`)), n, `size ${n}`);
  }
  assert.is(zstdFrameContentSize(zstdCompress(text)), text.length);
  assert.throws(() => zstdFrameContentSize(new Uint8Array([0x28, 0xb5, 0x2f])), (e: unknown) => e instanceof ZstdError);
  assert.throws(() => zstdFrameContentSize(new Uint8Array([1, 2, 3, 4, 5, 6])), (e: unknown) => e instanceof ZstdError);
});

test('a bound smaller than the content, truncation and damage throw ZstdError', () => {
  const frame = zstdCli(mixed, '-3');
  const isZstd = (e: unknown) => e instanceof ZstdError;
  assert.throws(() => zstdDecompress(frame, mixed.length - 1), isZstd);
  // (an empty input is zero frames, which libzstd decodes to nothing: EROFS refuses it by the frame header check)
  for (const cut of [3, 10, frame.length >> 1, frame.length - 1]) assert.throws(() => zstdDecompress(frame.subarray(0, cut), mixed.length), isZstd, `cut ${cut}`);
  let refused = 0;
  for (let i = 0; i < 200; i++) {
    const bad = frame.slice();
    bad[Math.floor(rand() * bad.length)] ^= 1 << Math.floor(rand() * 8);
    try {
      const out = zstdDecompress(bad, mixed.length);
      assert.ok(out.length <= mixed.length);
    } catch (e) {
      assert.ok(isZstd(e), (e as Error).stack);
      refused++;
    }
  }
  assert.ok(refused > 100, `only ${refused} of 200 damaged frames were refused`);
});

test('EROFS zstd pclusters: zero padding in front, prefix extents, frames with and without a size, damage', () => {
  const blockSize = 4096;
  for (const frame of [zstdCli(text, '--stream-size=' + text.length), zstdCli(text)]) {
    const plen = Math.ceil(frame.length / blockSize) * blockSize;
    const pcluster = new Uint8Array(plen);
    pcluster.set(frame, plen - frame.length);
    const req = { algorithm: F.COMPRESSION_ZSTD, input: pcluster, blockSize, lz4ZeroPadding: true, interlacedOffset: 0 };
    assert.ok(Buffer.from(decompress({ ...req, outputLength: text.length })).equals(text));
    assert.ok(Buffer.from(decompress({ ...req, outputLength: 5000 })).equals(text.subarray(0, 5000)), 'a deduplicated prefix');
    const isCorrupt = (e: unknown) => e instanceof CorruptImageError && /zstd/.test(e.reason);
    assert.throws(() => decompress({ ...req, outputLength: text.length + 1 }), isCorrupt);
    assert.throws(() => decompress({ ...req, input: pcluster.subarray(0, plen - 7), outputLength: text.length }), isCorrupt);
  }
});

test.run();
