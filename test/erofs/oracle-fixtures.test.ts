// Oracle conformance, repository fixtures: every image in test/fixtures/erofs (made by mkfs.erofs 1.9.3:
// 1 KiB blocks, chunk indexes, 48-bit layout, long xattr prefixes, lz4hc, lz4 with ztailpacking + fragments +
// dedupe, compressed metadata (metabox), deflate (also with ztailpacking), lzma (also -C128k with ztailpacking
// + fragments), zstd (also -C1m with fragments + dedupe)) mounted by the in-kernel EROFS driver and by tsfuse;
// the dumps, content hashes included, must be identical and the server must log nothing. Needs root.

import * as fs from 'node:fs';
import * as path from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { Timings } from './conformance/mount.js';
import { assertSameDump, assertSubstantial, kernelDump, tsfuseDump } from './conformance/oracle.js';
import { EROFS_FIXTURES } from '../helpers/fixtures.js';

const FIXTURES = EROFS_FIXTURES;
const timings = new Timings('oracle-fixtures timings');

/** Fixture -> the least number of entries its dump must show (the second, smaller tree shows 18). */
const FIXTURE_ENTRIES: Record<string, number> = {
  plain: 140,
  b1024: 140,
  'chunk-indexes': 140,
  '48bit': 140,
  'xattr-prefix': 140,
  lz4hc: 140,
  'lz4-ztailpacking-fragments': 140,
  metazip: 140,
  deflate: 140,
  lzma: 140,
  zstd: 140,
  'deflate-ztailpacking': 18,
  'lzma-C128k-ztailpacking-fragments': 18,
  'zstd-C1m-fragments-dedupe': 18,
};

test.after(() => timings.print());

test('every fixture image is covered', () => {
  const found = fs.readdirSync(FIXTURES).filter((f) => f.endsWith('.erofs')).map((f) => f.replace(/\.erofs$/, '')).sort();
  assert.equal(found, Object.keys(FIXTURE_ENTRIES).sort());
});

for (const [name, minEntries] of Object.entries(FIXTURE_ENTRIES)) {
  test(`fixture ${name}.erofs: kernel and tsfuse dumps are identical`, async () => {
    const image = path.join(FIXTURES, `${name}.erofs`);
    const kernel = await timings.time(`kernel dump ${name}`, () => kernelDump(image));
    assertSubstantial(kernel, minEntries, `kernel ${name}`);
    // Two workers for the plain image and the zstd ones: each worker must have its zstd decoder ready.
    const workerCounts = name === 'plain' || name.startsWith('zstd') ? [1, 2] : [1];
    for (const workers of workerCounts) {
      const t = await tsfuseDump(image, { workers });
      timings.note(`tsfuse ${name} (${workers} worker(s)): mount ${t.mountMs.toFixed(0)} ms, dump ${t.dumpMs.toFixed(0)} ms`);
      assertSameDump(kernel, t.dump, `${name}, ${workers} worker(s)`);
      assert.equal(t.serverLog, [], `${name}: the image server logged problems`);
    }
  });
}

test.run();
