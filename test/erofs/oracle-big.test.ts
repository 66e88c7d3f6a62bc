// Oracle conformance, big tree: the kit's big tree (a directory of 5000+ entries with names of every length
// 1..254, a deep chain, ~6400 entries in all) in the default variant, mounted by the in-kernel EROFS driver
// and by tsfuse with one and with two workers; the dumps must be identical. Needs root.

import * as fs from 'node:fs';
import * as path from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { type TreeInfo, buildImage, generateTree } from './kit/index.js';
import { Timings, tempDir } from './conformance/mount.js';
import { assertSameDump, assertSubstantial, kernelDump, tsfuseDump } from './conformance/oracle.js';

const base = tempDir('tsfuse-oracle-big-');
const timings = new Timings('oracle-big timings');
let tree: TreeInfo;
let image: string;
let kernel: string;

test.before(async () => {
  tree = await timings.time('generateTree big', () => generateTree(path.join(base, 'tree'), { scale: 'big', seed: 5 }));
  image = path.join(base, 'big.erofs');
  await timings.time('build default', () => buildImage(tree.root, image, 'default'));
  timings.note(`image: ${fs.statSync(image).size} bytes, ${tree.entries} entries, bigdir ${tree.bigDirEntries} entries`);
  kernel = await timings.time('kernel dump', () => kernelDump(image));
});

test.after(() => {
  timings.print();
  fs.rmSync(base, { recursive: true, force: true });
});

test('the big tree has thousands of entries in one directory, names of every length', () => {
  assert.ok(tree.bigDirEntries >= 5000, `bigdir: ${tree.bigDirEntries}`);
  assertSubstantial(kernel, tree.entries, 'kernel big');
  const big = '/' + tree.paths.bigDir + '/';
  const names = kernel.split('\n').filter((l) => l.startsWith(big) && !l.includes('  xattr ')).map((l) => l.slice(big.length, l.indexOf(' ')));
  const lengths = new Set(names.filter((n) => !n.includes('/')).map((n) => Buffer.byteLength(n.replace(/\\x[0-9a-f]{2}/g, '.'))));
  for (let l = 1; l <= tree.maxNameLength; l++) assert.ok(lengths.has(l), `a name of ${l} bytes in the kernel dump`);
});

for (const workers of [1, 2]) {
  test(`big tree, default variant, ${workers} worker(s): kernel and tsfuse dumps are identical`, async () => {
    const t = await tsfuseDump(image, { workers });
    timings.note(`tsfuse big (${workers} worker(s)): mount ${t.mountMs.toFixed(0)} ms, dump ${t.dumpMs.toFixed(0)} ms`);
    assertSameDump(kernel, t.dump, `big tree, ${workers} worker(s)`);
    assert.equal(t.serverLog, []);
  });
}

test.run();
