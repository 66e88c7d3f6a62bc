// `puzzlefs build --base`: a second image as one more layer on top of the first, in the same layout. The tree
// is changed (files removed, a directory removed, content appended, a mode and an xattr changed, a symlink added,
// a file replaced by a directory, new files); the new layer must hold only the changed inodes and
// whiteouts, the unchanged chunks must be shared (counted from the two manifests), and both tags must mount
// (real FUSE) to dumps equal to their source trees. The second build runs through the CLI. Needs root.

import * as fs from 'node:fs';
import * as path from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { zstdReady } from '../../src/compress/zstd.js';
import { buildImage } from '../../src/puzzlefs/builder.js';
import { PuzzleImage } from '../../src/puzzlefs/image.js';
import { MEDIA_ROOTFS } from '../../src/puzzlefs/oci.js';
import { diffDumps, dumpTreeInChild } from '../helpers/tree-dump.js';
import { CLI, makeTree, runChild, setXattr, tempDir, withPuzzleMount, withTmpfs } from './helpers.js';

const NO_TIMES = { mtime: false };

function blobsOf(img: PuzzleImage): Set<string> {
  return new Set(img.manifest.layers.filter((l) => l.mediaType !== MEDIA_ROOTFS).map((l) => l.digest));
}

test('a --base layer holds only changes and shares the unchanged chunks', async () => {
  await zstdReady;
  const out = tempDir('tsfuse-pzbase-');
  try {
    await withTmpfs(async (src) => {
      makeTree(src, { bigDirEntries: 300, largeBytes: 8 * 1024 * 1024, sparseBytes: 8 * 1024 * 1024 });
      const v1 = await buildImage({ source: src, dir: out, tag: 'v1' });
      const dump1 = await dumpTreeInChild(src, 120_000, NO_TIMES);

      const p = (rel: string) => path.join(src, rel);
      fs.rmSync(p('pz/dir-20k/entry-00007'));
      fs.rmSync(p('pz/dir-20k/entry-00010'));
      fs.rmSync(p('deep'), { recursive: true });
      fs.appendFileSync(p('pz/large'), 'one more line at the end\n');
      fs.chmodSync(p('pz/xattr-64k'), 0o600);
      setXattr(p('pz/sparse-64m'), 'user.added', Buffer.from('later'));
      fs.writeFileSync(p('pz/new-file'), 'new in v2\n');
      fs.mkdirSync(p('pz/new-dir'));
      fs.writeFileSync(p('pz/new-dir/inside'), 'also new\n');
      fs.rmSync(p('pz/dir-20k/entry-00020'));
      fs.mkdirSync(p('pz/dir-20k/entry-00020'));
      fs.symlinkSync('elsewhere', p('pz/link'));
      const dump2 = await dumpTreeInChild(src, 120_000, NO_TIMES);

      const cli = await runChild(process.execPath, [CLI, 'puzzlefs', 'build', src, `${out}:v2`, '--base', `${out}:v1`]);
      assert.is(cli.status, 0, cli.stderr);
      const m = /(\d+) inodes, (\d+) in the new layer, (\d+) whiteouts\)\nchunks\s+(\d+) cut, (\d+) reused/.exec(cli.stdout);
      assert.ok(m, cli.stdout);
      const [, inodes, layer, whiteouts, cut, reused] = m!.map(Number);
      const img1 = PuzzleImage.open(out, { tag: 'v1' });
      const img2 = PuzzleImage.open(out, { tag: 'v2' });
      assert.is(img2.rootfs.layers.length, 2);
      assert.is(img2.rootfs.layers[0]!.length, layer);
      // removed: 2 entries (entry-00010 had content, 00007 was empty and shared its inode with nobody) + the
      // deep/ chain; entry-00020 became a directory under the same inode number
      assert.ok(whiteouts! >= 3, `${whiteouts} whiteouts`);
      assert.ok(layer! - whiteouts! < 40, `${layer} inodes in the new layer (of ${inodes})`);
      assert.ok(inodes! > v1.inodes - 100);
      // unchanged paths keep their inode numbers (what the kernel sees as st_ino)
      const inoAt = (img: PuzzleImage, rel: string) => rel.split('/').reduce((ino, part) => img.lookup(img.inode(ino)!, part), 1);
      for (const rel of ['pz', 'pz/large', 'pz/xattr-64k', 'pz/dir-20k/entry-00001', 'pz/dir-20k/entry-00020']) {
        assert.ok(inoAt(img1, rel) > 1 && inoAt(img1, rel) === inoAt(img2, rel), `${rel}: inode ${inoAt(img1, rel)} vs ${inoAt(img2, rel)}`);
      }
      assert.ok(inoAt(img2, 'pz/new-file') > Math.max(...img1.rootfs.layers.map((l) => l.inoAt(l.length - 1))), 'new inodes get new numbers');
      const b1 = blobsOf(img1);
      const b2 = blobsOf(img2);
      const shared = [...b1].filter((d) => b2.has(d)).length;
      console.log(`v1 ${b1.size} blobs, v2 ${b2.size} blobs, ${shared} shared; v2 build: ${cut} chunks cut, ${reused} reused`);
      assert.ok(shared >= b1.size - 4, `${shared} of ${b1.size} v1 blobs shared`);
      assert.ok(b2.size - shared <= 4, `${b2.size - shared} new blobs`);
      assert.ok(reused! >= 1, 'the appended file reuses its unchanged chunks');

      await withPuzzleMount({ dir: out, tag: 'v2' }, async ({ mnt }) => {
        assert.is(diffDumps(dump2, await dumpTreeInChild(mnt, 120_000, NO_TIMES), 20, ['source v2', 'mount v2']), '');
      });
      await withPuzzleMount({ dir: out, tag: 'v1' }, async ({ mnt }) => {
        assert.is(diffDumps(dump1, await dumpTreeInChild(mnt, 120_000, NO_TIMES), 20, ['source v1', 'mount v1']), '');
      });
    });
  } finally {
    fs.rmSync(out, { recursive: true, force: true });
  }
});

test.run();
