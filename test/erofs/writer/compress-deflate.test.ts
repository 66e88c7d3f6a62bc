// tsfuse erofs build --compress deflate[,level]: images as mkfs.erofs >= 1.8 writes them (COMPR_CFGS with the
// DEFLATE record, window 2^15; one raw DEFLATE stream per one-block pcluster), checked by the kernel's EROFS
// driver (its dump equals the source's), by tsfuse's mount (equals the kernel's, 1 and 2 workers) and by
// Python's zlib (a pcluster is a complete raw stream of exactly its extent's bytes). Bad --compress values
// exit 2 with one line.

import * as fs from 'node:fs';
import * as path from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import * as F from '../../../src/erofs/reader/format.js';
import { run } from '../kit/index.js';
import { type Source, build, checkImage, dropSource, firstPcluster, makeSource } from './compressed-build.js';
import { tsfuse } from './helpers.js';

let s: Source;

test.before(async () => {
  s = await makeSource('deflate');
});

test.after(async () => {
  await dropSource(s);
});

for (const mode of ['deflate', 'deflate,9']) {
  test(`--compress ${mode}: kernel dump equals the source; tsfuse reads like the kernel; the right files compressed`, async () => {
    const image = path.join(s.base, `${mode.replace(',', '-')}.erofs`);
    await build(s, ['--compress', mode], image);
    await checkImage(s, image, F.COMPRESSION_DEFLATE, `--compress ${mode}`);
    fs.unlinkSync(image);
  });
}

test('--compress deflate: the superblock announces DEFLATE and its record; a pcluster is one complete raw stream', async () => {
  const image = path.join(s.base, 'stream.erofs');
  await build(s, ['--compress', 'deflate'], image);
  const img = fs.readFileSync(image);
  assert.ok(img.readUInt32LE(F.EROFS_SUPER_OFFSET + F.SB_FEATURE_INCOMPAT) & F.INCOMPAT_COMPR_CFGS, 'COMPR_CFGS set');
  assert.is(img.readUInt16LE(F.EROFS_SUPER_OFFSET + F.SB_U1), 1 << F.COMPRESSION_DEFLATE, 'available_compr_algs');
  const rec = F.EROFS_SUPER_OFFSET + F.EROFS_SB_BASE_SIZE;
  assert.is(img.readUInt16LE(rec), F.COMPR_CFG_SIZES[F.COMPRESSION_DEFLATE], 'record length');
  assert.is(img[rec + 2 + F.DEFLATE_CFG_WINDOWBITS], 15, 'windowbits');
  const p = firstPcluster(s, image);
  // a separate zlib: the stream must end (eof) exactly at the pcluster's end, with the extent's bytes
  const py = 'import sys,zlib\nd=zlib.decompressobj(-15)\no=d.decompress(sys.stdin.buffer.read())\nassert d.eof and not d.unused_data, "stream not complete"\nsys.stdout.buffer.write(o)';
  const z = await run('python3', ['-c', py], { input: p.stream, timeoutMs: 30_000 });
  assert.ok(z.stdout.equals(p.expected), `inflate gives the extent's ${p.expected.length} bytes (got ${z.stdout.length})`);
  assert.ok(p.expected.length > 4096, 'the pcluster covers more than a block');
  fs.unlinkSync(image);
});

test('bad --compress values exit 2 with one line and write nothing', async () => {
  for (const v of ['lzma', 'zstd,0', 'zstd,23', 'deflate,10', 'deflate,x', 'lz4,3', 'lz4hc,13', 'zstd,3,1', 'brotli']) {
    const out = path.join(s.base, 'never.erofs');
    const r = await tsfuse(['erofs', 'build', '--compress', v, s.src, out]);
    assert.is(r.status, 2, `${v}: ${r.stderr}`);
    assert.is(r.stderr.trim().split('\n').length, 1, r.stderr);
    assert.not.ok(fs.existsSync(out));
  }
});

test.run();
