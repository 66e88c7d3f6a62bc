// Every fixture image, read through the reader API alone, against the kernel's mount of the same image:
// path, type, mode, owner, size, mtime (ns), nlink, rdev, symlink target, xattrs and sha256 of content.

import { test } from 'uvu';
import * as assert from 'uvu/assert';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { ErofsReader } from '../../../src/erofs/reader/reader.js';
import { BufferByteSource } from '../../../src/erofs/buffer-byte-source.js';
import { zstdReady } from '../../../src/compress/zstd.js';
import { FIXTURES, canMount, diffViews, kernelTree, readerTree, withKernelMount } from './tree.js';

const images = fs.readdirSync(FIXTURES).filter((f) => f.endsWith('.erofs')).sort();
images.push('composefs/image.cfs');
/** Images of the second, smaller fixture tree (test/fixtures/erofs/README.md): 18 entries instead of 145. */
const SMALL_TREE = new Set(['deflate-ztailpacking.erofs', 'lzma-C128k-ztailpacking-fragments.erofs', 'zstd-C1m-fragments-dedupe.erofs']);

// zstd pclusters need the WebAssembly decoder instantiated (a Filesystem awaits this in init).
await zstdReady;

for (const name of images) {
  test(`${name}: reader tree equals the kernel mount`, () => {
    if (!canMount()) {
      console.log(`  (skipped: cannot mount ${name} here)`);
      return;
    }
    const file = path.join(FIXTURES, name);
    const expected = withKernelMount(file, (dir) => kernelTree(dir));
    const reader = ErofsReader.open(file);
    try {
      // Every compressor is decoded: content hashes must match the kernel's, none may be missing.
      const actual = readerTree(reader);
      assert.is(diffViews(expected, actual), '');
      assert.ok(expected.length > (SMALL_TREE.has(name) ? 15 : 100), `fixture tree has only ${expected.length} entries`);
    } finally {
      reader.close();
    }
  });
}

test('the same image through a SharedArrayBuffer gives the same tree as through pread', () => {
  for (const name of ['plain.erofs', 'lz4-ztailpacking-fragments.erofs', 'metazip.erofs']) {
    const file = path.join(FIXTURES, name);
    const bytes = fs.readFileSync(file);
    const sab = new SharedArrayBuffer(bytes.length);
    new Uint8Array(sab).set(bytes);
    const a = readerTree(ErofsReader.open(file));
    const b = readerTree(new ErofsReader(new BufferByteSource(sab)));
    assert.is(diffViews(a, b), '', name);
  }
});

test('opening an image reads only its first blocks (no scan), and a stat needs a handful more', () => {
  const file = path.join(FIXTURES, 'plain.erofs');
  const bytes = fs.readFileSync(file);
  let reads = 0;
  let bytesRead = 0;
  const src = {
    size: bytes.length,
    readInto(dst: Uint8Array, o: number, off: number, len: number) {
      reads++;
      bytesRead += len;
      dst.set(bytes.subarray(off, off + len), o);
    },
  };
  const r = new ErofsReader(src);
  assert.ok(reads <= 1 && bytesRead <= 1024 + 65536, `open read ${reads} times, ${bytesRead} bytes`);
  const root = r.root();
  const e = r.lookup(root, 'etc');
  assert.ok(e);
  r.inode(e!.nid);
  assert.ok(reads <= 5, `root + lookup + stat took ${reads} reads`);
});

test.run();
