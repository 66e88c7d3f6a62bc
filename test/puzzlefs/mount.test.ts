// build -> check with the reference tools -> mount (real FUSE, worker mode, 2 workers) -> dump, against the
// source tree. The tree: the kit's (every inode type, odd and non-UTF-8 names, hardlinks, ACLs, sparse files,
// long symlinks) plus 64 KiB xattrs, a 20000-entry directory, a 24 MiB file and a 64 MiB sparse one, on a
// tmpfs. Checked: the rootfs decodes with `capnp decode`, every compressed chunk with `zstd -d`; the mount's
// tree dump (a child process, through the kernel) equals the source's (type, mode, owner, nlink, size, content
// hash, target, xattrs; times are not in the format); `tsfuse puzzlefs dump` equals it too; the same tree
// builds to the same digests; statfs, inode numbers, and writes (EROFS). Needs root.

import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { buildImage, type BuildResult } from '../../src/puzzlefs/builder.js';
import { MEDIA_ROOTFS, OciLayout } from '../../src/puzzlefs/oci.js';
import { readSeekTable } from '../../src/puzzlefs/seekable-zstd.js';
import { diffDumps, dumpTreeInChild } from '../helpers/tree-dump.js';
import { REFERENCE_DIR } from '../helpers/fixtures.js';
import { CLI, makeTree, runChild, tempDir, withPuzzleMount, withTmpfs } from './helpers.js';

const NO_TIMES = { mtime: false };

test('build, check with capnp and zstd, mount, and dump equal to the source tree', async () => {
  const out = tempDir('tsfuse-pzoci-');
  const out2 = tempDir('tsfuse-pzoci2-');
  try {
    await withTmpfs(async (src) => {
      makeTree(src);
      const t0 = performance.now();
      const r: BuildResult = await buildImage({ source: src, dir: out, tag: 'v1' });
      const buildMs = performance.now() - t0;
      const layout = OciLayout.open(out);
      const manifest = layout.manifest(layout.resolve('v1'));
      const rootfs = manifest.layers.find((l) => l.mediaType === MEDIA_ROOTFS)!;

      // the reference Cap'n Proto tool decodes the metadata
      const dec = spawnSync('capnp', ['decode', path.join(REFERENCE_DIR, 'puzzlefs-metadata.capnp'), 'Rootfs'], {
        input: fs.readFileSync(layout.blobPath(rootfs.digest.slice(7))), maxBuffer: 1 << 30,
      });
      assert.is(dec.status, 0, `capnp decode: ${dec.stderr}`);
      assert.match(dec.stdout.toString('latin1'), /name = "entry-19999"/);

      // every compressed chunk decompresses with the zstd command, to the size its seek table says
      const zstdBlobs = manifest.layers.filter((l) => l.mediaType.endsWith('+zstd')).map((l) => layout.blobPath(l.digest.slice(7)));
      assert.ok(zstdBlobs.length > 3, `${zstdBlobs.length} compressed chunks`);
      const want = zstdBlobs.reduce((n, b) => n + readSeekTable(fs.readFileSync(b), 1 << 20).size, 0);
      const z = spawnSync('zstd', ['-d', '-q', '-c', ...zstdBlobs], { maxBuffer: 1 << 30 });
      assert.is(z.status, 0, `zstd -d: ${z.stderr}`);
      assert.is(z.stdout.length, want);

      // the same tree gives the same digests
      const again = await buildImage({ source: src, dir: out2, tag: 'v1' });
      assert.is(again.manifest.digest, r.manifest.digest);
      assert.is(again.rootfs.digest, r.rootfs.digest);

      const source = await dumpTreeInChild(src, 120_000, NO_TIMES);
      assert.ok(source.split('\n').length > 21000, 'source dump has the whole tree');
      assert.match(source, /\/pz\/xattr-64k  xattr trusted\.big=#65536:/);
      assert.match(source, /\/pz\/xattr-64k  xattr user\.big=#65536:/);
      assert.match(source, /^\S*\\x[89a-f][0-9a-f]\S* reg /m);
      await withPuzzleMount({ dir: out, tag: 'v1' }, async ({ mnt, logs }) => {
        const mounted = await dumpTreeInChild(mnt, 180_000, NO_TIMES);
        assert.is(diffDumps(source, mounted, 20, ['source', 'puzzlefs mount']), '');

        const sf = await runChild('stat', ['-f', '-c', '%b %f %c %d %S %l', mnt]);
        const [blocks, bfree, files, ffree, bsize, namelen] = sf.stdout.trim().split(' ').map(Number);
        assert.equal([bfree, ffree, bsize, namelen], [0, 0, 4096, 255]);
        assert.is(files, r.inodes);
        assert.ok(blocks! * 4096 >= manifest.layers.reduce((n, l) => n + l.size, 0));

        const ino = await runChild('stat', ['-c', '%i', mnt, path.join(mnt, 'pz')]);
        assert.is(ino.stdout.split('\n')[0], '1', 'root is inode 1');
        const write = await runChild('sh', ['-c', `echo x > ${mnt}/new-file; echo x >> ${mnt}/pz/large; mkdir ${mnt}/d`]);
        assert.is((write.stderr.match(/Read-only file system/g) ?? []).length, 3, write.stderr);
        assert.equal(logs.filter((l) => /corrupt|unexpected/.test(l)), []);
      });

      // the dump command reads the layout directly: the same listing as the source tree's
      const cli = await runChild(process.execPath, [CLI, 'puzzlefs', 'dump', `${out}:v1`]);
      assert.is(cli.status, 0, cli.stderr);
      assert.is(diffDumps(source, cli.stdout, 20, ['source', 'puzzlefs dump']), '');
      console.log(`build: ${Math.round(buildMs)} ms, ${r.inodes} inodes, ${r.chunkStats.chunks} chunks (${r.blobs} blobs), rootfs ${r.rootfs.size} bytes`);
    });
  } finally {
    fs.rmSync(out, { recursive: true, force: true });
    fs.rmSync(out2, { recursive: true, force: true });
  }
});

test.run();
