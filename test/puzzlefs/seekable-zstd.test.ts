// Seekable zstd against Debian's `zstd`: frames of 4 KiB compressed by the zstd command, with a seek table the
// test writes, read back whole and in ranges across frame boundaries; what our writer produces decompresses
// with `zstd -d` (which skips the seek table's skippable frame); broken tables and frames fail as
// CorruptPuzzleError, and a fuzz of mutated blobs never throws anything else or decodes past the table's sizes.

import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { zstdReady } from '../../src/compress/zstd.js';
import { CorruptPuzzleError } from '../../src/puzzlefs/errors.js';
import { Prng } from '../erofs/kit/prng.js';
import { appendSeekTable, decodeAll, encodeSeekable, readRange, readSeekTable } from '../../src/puzzlefs/seekable-zstd.js';

function zstdCli(args: string[], input: Uint8Array): Buffer {
  const r = spawnSync('zstd', args, { input, maxBuffer: 1 << 28 });
  if (r.status !== 0) throw new Error(`zstd ${args.join(' ')}: ${r.stderr.toString()}`);
  return r.stdout;
}

/** 200 KiB + 123 bytes: compressible text with some random runs (not a multiple of 4 KiB). */
const DATA = (() => {
  const parts: Buffer[] = [];
  for (let i = 0; parts.reduce((n, p) => n + p.length, 0) < 200 * 1024; i++) {
    parts.push(Buffer.from(`line ${i} of the seekable zstd test ${'x'.repeat(i % 50)}\n`));
    if (i % 97 === 0) parts.push(randomBytes(300));
  }
  return Buffer.concat(parts).subarray(0, 200 * 1024 + 123);
})();

const FRAME = 4096;

/** The zstd command compresses each 4 KiB piece into its own frame; the test appends the seek table. */
function cliSeekable(data: Buffer): Uint8Array {
  const frames: Uint8Array[] = [];
  const sizes: number[] = [];
  for (let off = 0; off < data.length; off += FRAME) {
    const piece = data.subarray(off, Math.min(off + FRAME, data.length));
    frames.push(zstdCli(['-q', '-c', '-3'], piece));
    sizes.push(piece.length);
  }
  return appendSeekTable(frames, sizes);
}

const isCorrupt = (fn: () => unknown, re: RegExp) => assert.throws(fn, (e: unknown) => e instanceof CorruptPuzzleError && re.test(e.message));

test.before(async () => {
  await zstdReady;
});

test('a blob of zstd-command frames plus our seek table reads back, whole and in ranges', () => {
  const blob = cliSeekable(DATA);
  const t = readSeekTable(blob, 1 << 20);
  assert.is(t.frames.length, Math.ceil(DATA.length / FRAME));
  assert.is(t.size, DATA.length);
  assert.ok(Buffer.from(decodeAll(blob, t)).equals(DATA));
  for (const [pos, len] of [[0, 1], [4095, 2], [4096, 4096], [10000, 30000], [DATA.length - 5, 5], [DATA.length, 0], [123, 0]]) {
    assert.ok(Buffer.from(readRange(blob, t, pos!, len!)).equals(DATA.subarray(pos!, pos! + len!)), `range ${pos}+${len}`);
  }
  isCorrupt(() => readRange(blob, t, DATA.length - 1, 2), /past the decoded size/);
  // and the zstd command itself reads the whole blob (it skips the skippable frame)
  assert.ok(zstdCli(['-d', '-q', '-c'], blob).equals(DATA));
});

test('what our writer produces decompresses with `zstd -d`; a checksummed table is read too', () => {
  const ours = encodeSeekable(DATA);
  assert.ok(zstdCli(['-d', '-q', '-c'], ours).equals(DATA));
  assert.ok(ours.length < DATA.length);
  const t = readSeekTable(ours, 1 << 20);
  assert.is(t.frames.length, Math.ceil(DATA.length / 4096));
  // rewrite the table with the checksum flag (4 more bytes per entry): sizes still read correctly
  const frames = t.frames.map((f) => ours.subarray(f.cOffset, f.cOffset + f.cSize));
  const body = Buffer.concat(frames);
  const entries = Buffer.alloc(t.frames.length * 12);
  t.frames.forEach((f, i) => {
    entries.writeUInt32LE(f.cSize, i * 12);
    entries.writeUInt32LE(f.dSize, i * 12 + 4);
    entries.writeUInt32LE(0xdeadbeef, i * 12 + 8);
  });
  const footer = Buffer.alloc(9);
  footer.writeUInt32LE(t.frames.length, 0);
  footer[4] = 0x80;
  footer.writeUInt32LE(0x8f92eab1, 5);
  const head = Buffer.alloc(8);
  head.writeUInt32LE(0x184d2a5e, 0);
  head.writeUInt32LE(entries.length + 9, 4);
  const withSums = Buffer.concat([body, head, entries, footer]);
  assert.ok(Buffer.from(decodeAll(withSums, readSeekTable(withSums, 1 << 20))).equals(DATA));
});

test('broken tables and frames are refused with a reason', () => {
  const blob = Buffer.from(cliSeekable(DATA));
  const end = blob.length;
  const edit = (fn: (b: Buffer) => void): Buffer => {
    const b = Buffer.from(blob);
    fn(b);
    return b;
  };
  isCorrupt(() => readSeekTable(blob.subarray(0, 10), 1 << 20), /no seek table/);
  isCorrupt(() => readSeekTable(edit((b) => b.writeUInt32LE(0, end - 4)), 1 << 20), /magic/);
  isCorrupt(() => readSeekTable(edit((b) => (b[end - 5] = 0x04)), 1 << 20), /reserved/);
  isCorrupt(() => readSeekTable(edit((b) => b.writeUInt32LE(1 << 30, end - 9)), 1 << 20), /frames|larger than the blob/);
  isCorrupt(() => readSeekTable(blob, 1000), /limit/);
  // a frame that promises more than it holds, and one whose compressed size is off by one
  const first = 8 + 8 * Math.ceil(DATA.length / FRAME) + 9;
  const tableStart = end - first;
  const lying = edit((b) => b.writeUInt32LE(FRAME + 1, tableStart + 8 + 4));
  isCorrupt(() => decodeAll(lying, readSeekTable(lying, 1 << 20)), /frame 0/);
  const shifted = edit((b) => {
    b.writeUInt32LE(b.readUInt32LE(tableStart + 8) + 1, tableStart + 8);
    b.writeUInt32LE(b.readUInt32LE(tableStart + 16) - 1, tableStart + 16);
  });
  isCorrupt(() => decodeAll(shifted, readSeekTable(shifted, 1 << 20)), /seekable zstd frame/);
  const gap = edit((b) => b.writeUInt32LE(b.readUInt32LE(tableStart + 8) + 1, tableStart + 8));
  isCorrupt(() => readSeekTable(gap, 1 << 20), /frames end at|runs into/);
});

test('fuzz: 1500 mutated blobs fail only as CorruptPuzzleError and never decode past the table', () => {
  const blob = cliSeekable(DATA.subarray(0, 40000));
  const rng = new Prng('seekable-fuzz');
  const rnd = () => rng.int(1 << 30) / (1 << 30);
  let ok = 0;
  let bad = 0;
  for (let k = 0; k < 1500; k++) {
    const m = Buffer.from(blob);
    // most flips land in the (small) table or frame headers, where they matter
    for (let f = 0; f < 1 + Math.floor(rnd() * 4); f++) {
      const at = rnd() < 0.6 ? m.length - 1 - Math.floor(rnd() * 120) : Math.floor(rnd() * m.length);
      m[at] = m[at]! ^ (1 << Math.floor(rnd() * 8));
    }
    try {
      const t = readSeekTable(m, 1 << 16);
      const out = decodeAll(m, t);
      assert.ok(out.length === t.size && t.size <= 10 * (1 << 16));
      ok++;
    } catch (e) {
      if (!(e instanceof CorruptPuzzleError)) throw new Error(`mutation ${k}: ${(e as Error).stack}`);
      bad++;
    }
  }
  assert.ok(bad > 500, `${bad} rejected, ${ok} decoded`);
});

test.run();
