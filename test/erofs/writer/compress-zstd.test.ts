// tsfuse erofs build --compress zstd[,level]: images as mkfs.erofs >= 1.8 writes them (COMPR_CFGS with the
// zstd record, one zstd frame per one-block pcluster), checked by the kernel's EROFS driver (its dump equals
// the source's), by tsfuse's mount (equals the kernel's, 1 and 2 workers), by the zstd tool (a pcluster is a
// complete frame of exactly its extent's bytes), and with one corrupt pcluster: EIO for that file from tsfuse
// with a logged reason, every other file still read.

import * as fs from 'node:fs';
import * as path from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import * as F from '../../../src/erofs/reader/format.js';
import { contentErrors, tsfuseDump } from '../conformance/oracle.js';
import { run } from '../kit/index.js';
import { type Source, build, checkImage, dropSource, firstPcluster, makeSource } from './compressed-build.js';

let s: Source;

test.before(async () => {
  s = await makeSource('zstd');
});

test.after(async () => {
  await dropSource(s);
});

for (const mode of ['zstd', 'zstd,19']) {
  test(`--compress ${mode}: kernel dump equals the source; tsfuse reads like the kernel; the right files compressed`, async () => {
    const image = path.join(s.base, `${mode.replace(',', '-')}.erofs`);
    await build(s, ['--compress', mode], image);
    await checkImage(s, image, F.COMPRESSION_ZSTD, `--compress ${mode}`);
    fs.unlinkSync(image);
  });
}

test('--compress zstd: the superblock announces zstd and its record; a pcluster is one zstd frame of its extent', async () => {
  const image = path.join(s.base, 'frame.erofs');
  await build(s, ['--compress', 'zstd'], image);
  const img = fs.readFileSync(image);
  assert.ok(img.readUInt32LE(F.EROFS_SUPER_OFFSET + F.SB_FEATURE_INCOMPAT) & F.INCOMPAT_COMPR_CFGS, 'COMPR_CFGS set');
  assert.is(img.readUInt16LE(F.EROFS_SUPER_OFFSET + F.SB_U1), 1 << F.COMPRESSION_ZSTD, 'available_compr_algs');
  const rec = F.EROFS_SUPER_OFFSET + F.EROFS_SB_BASE_SIZE;
  assert.is(img.readUInt16LE(rec), F.COMPR_CFG_SIZES[F.COMPRESSION_ZSTD], 'record length');
  assert.is(img[rec + 2 + F.ZSTD_CFG_FORMAT], 0, 'format');
  // 1 MiB of input per pcluster at most: every frame's window is at most 2^20
  assert.is(img[rec + 2 + F.ZSTD_CFG_WINDOWLOG], 10, 'windowlog');
  const p = firstPcluster(s, image);
  assert.ok(p.padding > 0 || p.stream.length === 4096, 'the frame ends the block');
  const z = await run('zstd', ['-d', '-c', '-q'], { input: p.stream, timeoutMs: 30_000 });
  assert.ok(z.stdout.equals(p.expected), `zstd -d gives the extent's ${p.expected.length} bytes (got ${z.stdout.length})`);
  assert.ok(p.expected.length > 4096, 'the pcluster covers more than a block');
  fs.unlinkSync(image);
});

test('one corrupt zstd pcluster: EIO for that file from tsfuse, a logged reason, the rest reads', async () => {
  const image = path.join(s.base, 'corrupt.erofs');
  await build(s, ['--compress', 'zstd'], image);
  const p = firstPcluster(s, image);
  const img = fs.readFileSync(image);
  // the first block header after the frame header: 0xffffff is a reserved block type, always rejected
  const fhd = p.stream[4]!;
  const single = (fhd >> 5) & 1;
  const fcs = [single, 2, 4, 8][fhd >> 6]!;
  const header = 5 + (single ? 0 : 1) + [0, 1, 2, 4][fhd & 3]! + fcs;
  img.fill(0xff, p.pa + p.padding + header, p.pa + p.padding + header + 3);
  fs.writeFileSync(image, img);
  const t = await tsfuseDump(image, { workers: 1 });
  const errs = contentErrors(t.dump);
  assert.equal([...errs.entries()].sort(), [['/edges/many-6m', 'EIO'], ['/edges/many-6m-link', 'EIO']], 'only the corrupt file fails');
  assert.ok(t.serverLog.some((l) => /zstd/.test(l)), `a logged reason naming zstd: ${t.serverLog.join('\n')}`);
  fs.unlinkSync(image);
});

test.run();
