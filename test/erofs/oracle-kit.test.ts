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
import { type ImageVariant, IMAGE_VARIANTS, SUPPORTED_VARIANTS, type TreeInfo, buildImage, generateTree, setXattrs } from './kit/index.js';
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

// xattr names are bytes (anything but NUL): the kit tree has only ASCII ones, so names beyond ASCII get their
// own small images. Names are given as latin1 byte strings.
const NAME_CASES: Array<[string, string[]]> = [
  ['UTF-8 xattr names', [Buffer.from('user.ünïcödé', 'utf8').toString('latin1'), Buffer.from('trusted.日本', 'utf8').toString('latin1')]],
  ['xattr names that are not UTF-8', ['user.com\xf9ent', 'user.\xff\xfe', 'trusted.\xc3(']],
];
for (const [label, names] of NAME_CASES) {
  test(`${label}: kernel and tsfuse dumps are identical`, async () => {
    const dir = path.join(base, label.replace(/\W+/g, '-'));
    const src = path.join(dir, 'src');
    fs.mkdirSync(src, { recursive: true });
    fs.writeFileSync(path.join(src, 'file'), 'xattr names\n');
    fs.mkdirSync(path.join(src, 'dir'));
    setXattrs(src, [
      { path: 'file', xattrs: names.map((n, i) => [n, Buffer.from(`value ${i}`)] as [string, Buffer]) },
      { path: 'dir', xattrs: [[names[0]!, Buffer.from('on a directory')]] },
    ]);
    const image = path.join(dir, 'names.erofs');
    await buildImage(src, image, 'default');
    const kernel = await kernelDump(image);
    for (const n of names) assert.ok(kernel.includes(`  xattr ${Buffer.from(n, 'latin1').toString('latin1').replace(/[^\x21-\x7e]|\\/g, (c) => `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`)}=`), `kernel lists ${JSON.stringify(n)}`);
    const t = await tsfuseDump(image, { workers: 1 });
    assertSameDump(kernel, t.dump, label);
  });
}

test.run();
