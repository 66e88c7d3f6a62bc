// Oracle conformance, kit images: the kit's small tree built in every variant Debian's mkfs.erofs 1.5 can
// make (uncompressed inline/noinline/chunk-based/compact, lz4, lz4hc, ztailpacking, legacy indexes, 64 KiB
// pclusters), each mounted by the in-kernel EROFS driver and by tsfuse; the two dumps (path, type, mode,
// owner, nlink, mtime ns, size, rdev, symlink target, every xattr, sha256 of content) must be identical.
// The default image is also served by two workers. Variants mkfs.erofs 1.5 cannot build (b1024, b2048: no -b)
// are covered by the shared fixture b1024.erofs in oracle-fixtures.test.ts. Needs root.

import * as fs from 'node:fs';
import * as path from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { type ImageVariant, IMAGE_VARIANTS, SUPPORTED_VARIANTS, type TreeInfo, buildImage, generateTree } from './kit/index.js';
import { Timings, tempDir } from './conformance/mount.js';
import { assertSameDump, assertSubstantial, kernelDump, tsfuseDump } from './conformance/oracle.js';

const base = tempDir('tsfuse-oracle-kit-');
const timings = new Timings('oracle-kit timings');
let tree: TreeInfo;

test.before(async () => {
  tree = await timings.time('generateTree small', () => generateTree(path.join(base, 'tree'), { scale: 'small', seed: 11 }));
});

test.after(() => {
  timings.print();
  fs.rmSync(base, { recursive: true, force: true });
});

test('every buildable variant is covered, and only b1024/b2048 are not buildable here', () => {
  const unsupported = (Object.keys(IMAGE_VARIANTS) as ImageVariant[]).filter((v) => !SUPPORTED_VARIANTS.includes(v));
  assert.equal(unsupported.sort(), ['b1024', 'b2048']);
  assert.ok(SUPPORTED_VARIANTS.length >= 10, SUPPORTED_VARIANTS.join(' '));
});

for (const variant of SUPPORTED_VARIANTS) {
  test(`kit small tree, ${variant}: kernel and tsfuse dumps are identical`, async () => {
    const image = path.join(base, `${variant}.erofs`);
    await timings.time(`build ${variant}`, () => buildImage(tree.root, image, variant));
    const kernel = await timings.time(`kernel dump ${variant}`, () => kernelDump(image));
    assertSubstantial(kernel, tree.entries, `kernel ${variant}`);
    const workerCounts = variant === 'default' ? [1, 2] : [1];
    for (const workers of workerCounts) {
      const t = await tsfuseDump(image, { workers });
      timings.note(`tsfuse ${variant} (${workers} worker${workers > 1 ? 's' : ''}): mount ${t.mountMs.toFixed(0)} ms, dump ${t.dumpMs.toFixed(0)} ms`);
      assertSameDump(kernel, t.dump, `${variant}, ${workers} worker(s)`);
      assert.equal(t.serverLog, [], `${variant}: the image server logged problems`);
    }
    fs.rmSync(image, { force: true });
  });
}

test.run();
