// Oracle conformance, shared fixtures: every image in /work/shared/fixtures/erofs (made by mkfs.erofs 1.9.3:
// 1 KiB blocks, chunk indexes, 48-bit layout, long xattr prefixes, lz4hc, lz4 with ztailpacking + fragments +
// dedupe, compressed metadata (metabox), deflate, lzma, zstd) mounted by the in-kernel EROFS driver and by
// tsfuse; the dumps must be identical.
//
// Compressors the image server cannot decode answer EOPNOTSUPP ("Operation not supported") on read: Node 20
// has no lzma decoder, and no zstd decoder before Node 22.15 (zlib.zstdDecompressSync). For those images the
// test asserts exactly that: the metadata dump (content excluded) is identical, every content hash is either
// identical or EOPNOTSUPP (only compressed files fail, at least one does), reading a compressed file fails with
// errno 95 in Node and "Operation not supported" from cat(1), and the server logs the reason. Needs root.

import * as fs from 'node:fs';
import * as path from 'node:path';
import * as zlib from 'node:zlib';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { dumpTreeInChild, run } from './kit/index.js';
import { Timings, withErofsMount } from './conformance/mount.js';
import { assertSameDump, assertSubstantial, contentErrors, kernelDump, tsfuseDump } from './conformance/oracle.js';
import { EROFS_FIXTURES } from '../helpers/fixtures.js';

const FIXTURES = EROFS_FIXTURES;
const timings = new Timings('oracle-fixtures timings');

const DECODABLE = ['plain', 'b1024', 'chunk-indexes', '48bit', 'xattr-prefix', 'lz4hc', 'lz4-ztailpacking-fragments', 'metazip', 'deflate'];
const hasZstd = typeof (zlib as unknown as { zstdDecompressSync?: unknown }).zstdDecompressSync === 'function';
/** Fixture -> the compressor tsfuse cannot decode on this Node. */
const UNDECODABLE: Record<string, string> = hasZstd ? { lzma: 'lzma' } : { lzma: 'lzma', zstd: 'zstd' };
if (hasZstd) DECODABLE.push('zstd');

const EOPNOTSUPP = 95;

test.after(() => timings.print());

test('every fixture image is covered', () => {
  const found = fs.readdirSync(FIXTURES).filter((f) => f.endsWith('.erofs')).map((f) => f.replace(/\.erofs$/, '')).sort();
  assert.equal(found, [...DECODABLE, ...Object.keys(UNDECODABLE)].sort());
});

for (const name of DECODABLE) {
  test(`fixture ${name}.erofs: kernel and tsfuse dumps are identical`, async () => {
    const image = path.join(FIXTURES, `${name}.erofs`);
    const kernel = await timings.time(`kernel dump ${name}`, () => kernelDump(image));
    assertSubstantial(kernel, 140, `kernel ${name}`);
    const workerCounts = name === 'plain' ? [1, 2] : [1];
    for (const workers of workerCounts) {
      const t = await tsfuseDump(image, { workers });
      timings.note(`tsfuse ${name} (${workers} worker(s)): mount ${t.mountMs.toFixed(0)} ms, dump ${t.dumpMs.toFixed(0)} ms`);
      assertSameDump(kernel, t.dump, `${name}, ${workers} worker(s)`);
      assert.equal(t.serverLog, [], `${name}: the image server logged problems`);
    }
  });
}

for (const [name, compressor] of Object.entries(UNDECODABLE)) {
  test(`fixture ${name}.erofs: metadata identical, compressed content answers EOPNOTSUPP (no ${compressor} decoder)`, async () => {
    const image = path.join(FIXTURES, `${name}.erofs`);
    const kernelMeta = await kernelDump(image, { content: false });
    const kernel = await timings.time(`kernel dump ${name}`, () => kernelDump(image));
    assertSubstantial(kernel, 140, `kernel ${name}`);

    // 1. metadata (everything but content) is identical
    const meta = await tsfuseDump(image, { workers: 1 }, { content: false });
    assertSameDump(kernelMeta, meta.dump, `${name} metadata`);

    // 2. with content: each hash is the kernel's or EOPNOTSUPP; the failing ones are compressed files
    await withErofsMount({ image, workers: 1 }, async (h) => {
      const t0 = performance.now();
      const full = await dumpTreeInChild(h.mnt, 60_000);
      timings.note(`tsfuse dump ${name}: ${(performance.now() - t0).toFixed(0)} ms`);
      const kLines = kernel.split('\n');
      const tLines = full.split('\n');
      assert.is(tLines.length, kLines.length, 'same number of dump lines');
      const failed: string[] = [];
      for (let i = 0; i < kLines.length; i++) {
        const k = kLines[i]!;
        const t = tLines[i]!;
        if (k === t) continue;
        assert.is(t, k.replace(/ sha256=[0-9a-f]{64}$/, ' sha256=!error:ENOTSUP'), `line ${i}: only the content may differ, as EOPNOTSUPP`);
        failed.push(k.slice(0, k.indexOf(' ')));
      }
      assert.ok(failed.length > 0, `no file of ${name}.erofs failed: is ${compressor} decodable now? (then move it to DECODABLE)`);
      assert.equal([...contentErrors(full).values()].filter((c) => c !== 'ENOTSUP'), [], 'no error other than EOPNOTSUPP');
      timings.note(`${name}: ${failed.length} compressed files answer EOPNOTSUPP: ${failed.join(' ')}`);

      // 3. the errno itself, as a program sees it
      const victim = failed[0]!;
      const file = path.join(h.mnt, victim);
      const nodeRead = await run(process.execPath, ['-e', `try { require('fs').readFileSync(${JSON.stringify(file)}); console.log('read ok') } catch (e) { console.log(e.errno, e.code) }`], { timeoutMs: 20_000 });
      assert.is(nodeRead.stdout.toString().trim(), `${-EOPNOTSUPP} ENOTSUP`);
      const cat = await run('cat', [file], { check: false, timeoutMs: 20_000 });
      assert.is(cat.status, 1);
      assert.match(cat.stderr, /Operation not supported/);
      // stat, xattrs and other files still work after the failure
      const st = await run('stat', ['-c', '%s %a', file], { timeoutMs: 20_000 });
      assert.match(st.stdout.toString(), /^\d+ \d+\n$/);

      // 4. the server said why, once per file
      assert.equal(h.threadEvents, []);
      const lines = h.logs.filter((l) => l.includes('EOPNOTSUPP'));
      assert.ok(lines.some((l) => l.includes(compressor) && l.includes(victim)), `a log line names ${compressor} and ${victim}:\n${h.logs.join('\n')}`);
      for (const f of failed) assert.ok(lines.filter((l) => l.includes(`${f}:`)).length <= 1, `${f} logged at most once`);
    });
  });
}

test.run();
