// tsfuse erofs build, checked by the kernel: the generated tree (every inode type, 255-byte and invalid UTF-8
// names, ACLs, trusted.overlay.* and shared xattrs, sparse and 8 MiB files) plus a 20k-entry directory and a
// 65535-byte xattr (on a tmpfs: ext4 cannot hold one), built with every block size and with chunk-based files; `mount -t erofs` of each must dump
// exactly like the source, and fsck.erofs (Debian erofs-utils 1.5, 4096-byte blocks only) must find nothing.

import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { generateTree, run, setXattrs, withKernelMount } from '../kit/index.js';
import { diffDumps, dumpTreeInChild } from '../../helpers/tree-dump.js';
import { tsfuse } from './helpers.js';

const base = fs.mkdtempSync(path.join(os.tmpdir(), 'tsfuse-build-'));
let src: string;
let srcDump: string;

test.before(async () => {
  // ext4 keeps xattr values within one block: the 64 KiB xattr needs tmpfs
  await run('mount', ['-t', 'tmpfs', '-o', 'size=3g,mode=0755', 'tsfuse-writer-test', base]);
  src = generateTree(path.join(base, 'tree'), { seed: 11, maxNameLength: 255 }).root;
  const big = path.join(src, 'dir-20k');
  fs.mkdirSync(big);
  for (let i = 0; i < 20_000; i++) fs.writeFileSync(path.join(big, `entry-${i.toString(36).padStart(5, '0')}-${'x'.repeat(i % 60)}`), i % 3 ? '' : `${i}`);
  fs.writeFileSync(path.join(src, 'xattr-64k'), 'big xattr\n');
  setXattrs(src, [{ path: 'xattr-64k', xattrs: [['user.big', Buffer.alloc(65535, 'v')]] }]);
  // touching the directories above changed their mtimes: the source dump is taken after
  srcDump = await dumpTreeInChild(src, 300_000);
});

test.after(async () => {
  await run('umount', [base], { check: false });
  fs.rmSync(base, { recursive: true, force: true });
});

async function buildAndCompare(args: string[], fsck: boolean): Promise<void> {
  const image = path.join(base, 'image.erofs');
  const r = await tsfuse(['erofs', 'build', src, image, ...args]);
  assert.is(r.status, 0, r.stderr);
  if (fsck) {
    const plain = await run('fsck.erofs', [image], { check: false, timeoutMs: 300_000 });
    assert.is(plain.status, 0, `fsck.erofs ${args.join(' ')}: ${plain.stdout.toString()}${plain.stderr}`);
  }
  const k = await withKernelMount(image, (d) => dumpTreeInChild(d, 300_000));
  const d = diffDumps(srcDump, k, 20, ['source', 'kernel']);
  assert.ok(d === '', `erofs build ${args.join(' ')}: kernel mount differs from the source\n${d}`);
  fs.unlinkSync(image);
}

test('default (4096-byte blocks, flat files with inline tails): kernel dump equals the source; fsck clean', async () => {
  await buildAndCompare([], true);
});

test('--chunksize 4096 (chunk-based, zero chunks as holes): kernel dump equals the source; fsck clean', async () => {
  await buildAndCompare(['--chunksize', '4096'], true);
});

test('-b 512, -b 1024 --chunksize 65536, -b 2048: kernel dump equals the source', async () => {
  await buildAndCompare(['-b', '512'], false);
  await buildAndCompare(['-b', '1024', '--chunksize', '65536'], false);
  await buildAndCompare(['-b', '2048'], false);
});

test('a 1 GiB sparse file with --chunksize costs a few blocks, reads back exactly', async () => {
  const t = path.join(base, 'sparse-tree');
  fs.mkdirSync(t);
  const fd = fs.openSync(path.join(t, 'huge'), 'w');
  fs.writeSync(fd, Buffer.from('head'), 0, 4, 0);
  fs.writeSync(fd, Buffer.from('tail'), 0, 4, 2 ** 30 - 4);
  fs.closeSync(fd);
  const image = path.join(base, 'sparse.erofs');
  const r = await tsfuse(['erofs', 'build', '--chunksize', '1048576', t, image]);
  assert.is(r.status, 0, r.stderr);
  assert.ok(fs.statSync(image).size < 4 * 1048576, `image of ${fs.statSync(image).size} bytes`);
  const [want, got] = await Promise.all([dumpTreeInChild(t), withKernelMount(image, (d) => dumpTreeInChild(d))]);
  assert.is(diffDumps(want, got), '');
});

test.run();
