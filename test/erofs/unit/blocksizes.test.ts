// Block sizes mkfs.erofs 1.5 cannot make (512, 2048; plus 1024 and 4096), compact and extended inodes,
// directories without ".", 255-byte names, hardlinks, every file type: images from the test builder,
// checked against the kernel's mount and through the Filesystem.

import { test } from 'uvu';
import * as assert from 'uvu/assert';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { ErofsReader } from '../../../src/erofs/reader/reader.js';
import { BufferByteSource } from '../../../src/erofs/buffer-byte-source.js';
import { createErofsFilesystem } from '../../../src/erofs/filesystem.js';
import { buildImage, type BNode } from './builder.js';
import { canMount, diffViews, kernelTree, readerTree, withKernelMount } from './tree.js';
import { ctx, filesystemTree, readdirAll } from './fsapi.js';
import { tempDir } from './mkfs.js';
import { rng } from './mutate.js';

function sampleTree(): BNode {
  const rand = rng(5);
  const bytes = (n: number) => Uint8Array.from({ length: n }, () => Math.floor(rand() * 256));
  const shared: BNode = { name: 'hard-a', type: 'file', mode: 0o644, data: bytes(3000), mtime: 1_650_000_000, nsec: 42 };
  const many: BNode[] = [];
  for (let i = 0; i < 300; i++) {
    many.push({ name: `${String(i).padStart(3, '0')}-${'x'.repeat(i % 40)}`, type: 'file', mode: 0o600, data: bytes(i % 7 === 0 ? 700 : i % 50) });
  }
  return {
    name: '', type: 'dir', mode: 0o755, mtime: 1_700_000_000, nsec: 999_999_999,
    xattrs: [[1, 'root-attr', 'on the root']],
    children: [
      { name: 'a'.repeat(255), type: 'file', mode: 0o644, data: bytes(10), uid: 1000, gid: 1000 },
      { name: 'big', type: 'file', mode: 0o644, data: bytes(20000), mtime: 1_600_000_001, nsec: 5 },
      { name: 'blk', type: 'blk', mode: 0o660, rdev: (8 << 8) | 1 },
      { name: 'chr', type: 'chr', mode: 0o666, rdev: (1 << 8) | 3 },
      { name: 'empty', type: 'file', mode: 0o644 },
      { name: 'exact-block', type: 'file', mode: 0o644, data: bytes(512) },
      { name: 'fifo', type: 'fifo', mode: 0o644 },
      shared,
      { name: 'hard-b', type: 'file', mode: 0o644, linkTo: shared },
      { name: 'link', type: 'link', mode: 0o777, target: 'big' },
      { name: 'link-long', type: 'link', mode: 0o777, target: '/'.concat('t'.repeat(900)) },
      { name: 'many', type: 'dir', mode: 0o755, children: many },
      { name: 'sock', type: 'sock', mode: 0o755 },
      {
        name: 'sub', type: 'dir', mode: 0o1777, uid: 7, gid: 8,
        children: [
          { name: 'deeper', type: 'dir', mode: 0o700, children: [{ name: 'leaf', type: 'file', mode: 0o644, data: enc('leaf\n'), xattrs: [[4, 'trusted-one', new Uint8Array([0, 1, 2])], [6, 'label', 'x'], [1, 'u', 'v'.repeat(200)]] }] },
        ],
      },
    ],
  };
}

function enc(s: string): Uint8Array {
  return new TextEncoder().encode(s);
}

const VARIANTS = [
  { blkszbits: 9, compact: false },
  { blkszbits: 9, compact: true, dotOmitted: true },
  { blkszbits: 10, compact: true, checksum: true },
  { blkszbits: 11, compact: false, dotOmitted: true, checksum: true },
  { blkszbits: 11, compact: true, noInline: true },
  { blkszbits: 12, compact: false, dotOmitted: true },
];

for (const v of VARIANTS) {
  const label = `${2 ** v.blkszbits}-byte blocks${v.compact ? ', compact' : ', extended'}${v.dotOmitted ? ', no "."' : ''}${v.noInline ? ', no inline' : ''}`;
  test(`built image, ${label}: reader equals kernel, Filesystem equals kernel`, async () => {
    const image = buildImage(sampleTree(), v);
    const r = new ErofsReader(new BufferByteSource(image));
    assert.is(r.blockSize, 2 ** v.blkszbits);
    const ours = readerTree(r);
    assert.ok(ours.length > 300);
    const fsTree = await filesystemTree(createErofsFilesystem({ image }));
    assert.is(diffViews(ours, fsTree), '', 'Filesystem view equals reader view');
    if (!canMount()) return console.log('  (kernel comparison skipped: cannot mount)');
    const dir = tempDir('bs');
    try {
      const file = path.join(dir, 'img.erofs');
      fs.writeFileSync(file, image);
      const kernel = withKernelMount(file, (d) => kernelTree(d));
      assert.is(diffViews(kernel, ours), '');
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
}

test('a directory without "." still lists "." first, with resumable offsets', async () => {
  const image = buildImage(sampleTree(), { blkszbits: 9, dotOmitted: true });
  const f = createErofsFilesystem({ image });
  const root = await readdirAll(f, 1);
  assert.is(root[0]!.name, '.');
  assert.is(root[0]!.ino, 1);
  assert.is(root.filter((e) => e.name === '.').length, 1);
  const many = f.lookup(ctx, 1, 'many');
  const all = await readdirAll(f, many.ino);
  assert.is(all.length, 302);
  assert.equal((await readdirAll(f, many.ino, 3)).map((e) => e.name), all.map((e) => e.name));
  assert.is(f.lookup(ctx, many.ino, '.').ino, many.ino);
});

test.run();
