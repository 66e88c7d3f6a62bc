// Read-ahead for tree walks (src/erofs/reader/walk-ahead.ts): a directory block read for the first time hints
// the pages of its subdirectories' inodes, a directory inode read for the first time hints its first blocks,
// only what the caches do not hold is hinted, every hint lies inside the image, and hints change nothing a
// walk reads (the same tree, attribute for attribute, with and without a source that takes hints). On a
// mkfs.erofs image (erofs-utils from scripts/debian-packages.txt), read through a FileByteSource.

import { test } from 'uvu';
import * as assert from 'uvu/assert';
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { ByteSource } from '../../../src/erofs/bytesource.js';
import { FileByteSource } from '../../../src/erofs/file-byte-source.js';
import * as F from '../../../src/erofs/reader/format.js';
import { inodeLocation, type ErofsInode } from '../../../src/erofs/reader/inode.js';
import { ErofsReader } from '../../../src/erofs/reader/reader.js';
import { haveMkfs, mkfs, tempDir } from './mkfs.js';

const SUBDIRS = 24;
/** Names in each subdirectory: enough for several 4 KiB directory blocks. */
const NAMES = 120;

let work: string | undefined;
let image = '';

function buildTree(root: string): void {
  for (let d = 0; d < SUBDIRS; d++) {
    const dir = path.join(root, `dir-${String(d).padStart(2, '0')}`);
    fs.mkdirSync(path.join(dir, 'inner'), { recursive: true });
    for (let f = 0; f < NAMES; f++) fs.writeFileSync(path.join(dir, `file-with-a-longer-name-${f}`), `${d}/${f}`);
  }
}

function theImage(): string {
  if (!work) {
    if (!haveMkfs()) throw new Error('mkfs.erofs is needed (scripts/debian-packages.txt: erofs-utils)');
    work = tempDir('walk-ahead');
    const src = path.join(work, 'src');
    buildTree(src);
    image = mkfs(work, 'tree.erofs', src, []);
  }
  return image;
}

/** A file read through a FileByteSource, without willNeed: a source that takes no hints. */
class PlainSource implements ByteSource {
  protected readonly file: FileByteSource;
  constructor(path: string) {
    this.file = new FileByteSource(path);
  }
  get size(): number {
    return this.file.size;
  }
  readInto(dst: Uint8Array, dstOffset: number, offset: number, length: number): void {
    this.file.readInto(dst, dstOffset, offset, length);
  }
  close(): void {
    this.file.close();
  }
}

/** The same, recording the hints it is given (and passing them on). */
class HintedSource extends PlainSource {
  readonly hints: { offset: number; length: number }[] = [];
  willNeed(offset: number, length: number): void {
    this.hints.push({ offset, length });
    this.file.willNeed(offset, length);
  }
}

function text(name: Uint8Array): string {
  return Buffer.from(name).toString('utf8');
}

function covered(hints: { offset: number; length: number }[], pos: number): boolean {
  return hints.some((h) => h.offset <= pos && pos < h.offset + h.length);
}

function subdirs(r: ErofsReader, dir: ErofsInode): { name: string; nid: number }[] {
  const out: { name: string; nid: number }[] = [];
  for (const e of r.entries(dir)) {
    const name = text(e.name);
    if (e.fileType === F.FT_DIR && name !== '.' && name !== '..') out.push({ name, nid: e.nid });
  }
  return out;
}

/** Every name and attribute of the tree, depth first, as text. */
function dump(r: ErofsReader): string {
  const lines: string[] = [];
  const walk = (dir: ErofsInode, at: string): void => {
    for (let b = 0; b < r.dirBlockCount(dir); b++) {
      const blk = r.dirBlockAt(dir, b);
      for (let i = 0; i < blk.count; i++) {
        const name = text(blk.name(i));
        if (name === '.' || name === '..') continue;
        const child = r.inode(blk.nid(i));
        lines.push(`${at}/${name} ${child.mode.toString(8)} ${child.size} ${child.nlink} ${child.mtime}`);
        if ((child.mode & F.S_IFMT) === F.S_IFDIR) walk(child, `${at}/${name}`);
      }
    }
  };
  walk(r.root(), '');
  return lines.join('\n');
}

test('a directory block read for the first time hints the inode pages of its subdirectories', () => {
  const src = new HintedSource(theImage());
  const r = ErofsReader.open(src);
  try {
    const root = r.root();
    const before = src.hints.length;
    const dirs = subdirs(r, root);
    assert.is(dirs.length, SUBDIRS);
    const ps = Math.max(4096, r.blockSize);
    assert.ok(dirs.some((d) => Math.floor(inodeLocation(r.sb, d.nid) / ps) !== Math.floor(inodeLocation(r.sb, root.nid) / ps)), 'some subdirectories live in other pages');
    const hinted = src.hints.slice(before);
    assert.ok(hinted.length > 0, 'the root listing gave hints');
    // the page the root's own inode sits in is held already: subdirectories' inodes in it need no hint
    const rootPage = Math.floor(inodeLocation(r.sb, root.nid) / ps);
    for (const d of dirs) {
      const at = inodeLocation(r.sb, d.nid);
      assert.ok(covered(hinted, at) || Math.floor(at / ps) === rootPage, `${d.name}'s inode page was hinted`);
    }
    // a page is hinted once per block, and every hint is a whole page inside the image
    const pages = hinted.map((h) => h.offset / ps);
    assert.is(new Set(pages).size, pages.length, 'no page hinted twice for one block');
    for (const h of hinted) assert.ok(h.offset % ps === 0 && h.length > 0 && h.offset + h.length <= src.size, 'a whole page in the image');
  } finally {
    r.close();
    src.close();
  }
});

test('a directory inode read for the first time hints its first blocks; a cached one hints nothing', () => {
  const src = new HintedSource(theImage());
  const r = ErofsReader.open(src);
  try {
    const d = subdirs(r, r.root())[0]!;
    const before = src.hints.length;
    const dir = r.inode(d.nid);
    assert.ok(dir.size > r.blockSize, 'the subdirectory has more than one block');
    assert.ok(dir.layout === F.LAYOUT_FLAT_PLAIN || dir.layout === F.LAYOUT_FLAT_INLINE, `flat layout (${dir.layout})`);
    const hinted = src.hints.slice(before);
    assert.ok(covered(hinted, dir.startBlk * r.blockSize), 'its first block was hinted');
    for (const h of hinted) assert.ok(h.offset + h.length <= src.size, 'inside the image');
    const again = src.hints.length;
    r.inode(d.nid);
    assert.is(src.hints.length, again, 'a cached inode hints nothing');
  } finally {
    r.close();
    src.close();
  }
});

test('a warm walk hints nothing, and hints change nothing the walk reads', () => {
  const hinted = new HintedSource(theImage());
  const withHints = ErofsReader.open(hinted);
  const plain = new PlainSource(theImage());
  const without = ErofsReader.open(plain);
  try {
    const first = dump(withHints);
    assert.ok(hinted.hints.length >= SUBDIRS, `a cold walk gave hints (${hinted.hints.length})`);
    assert.is(first, dump(without), 'the same tree with and without hints');
    assert.is(first.split('\n').length, SUBDIRS * (NAMES + 2));
    const after = hinted.hints.length;
    assert.is(dump(withHints), first);
    assert.is(hinted.hints.length, after, 'the caches held everything: no hints');
  } finally {
    withHints.close();
    without.close();
    hinted.close();
    plain.close();
  }
});

test('FileByteSource.willNeed ignores ranges outside the file and a closed file', () => {
  const src = new FileByteSource(theImage());
  src.willNeed(-1, 10);
  src.willNeed(0, src.size + 1);
  src.willNeed(src.size, 0);
  src.willNeed(0, 4096);
  src.close();
  src.willNeed(0, 4096);
});

test.after(() => {
  if (work) fs.rmSync(work, { recursive: true, force: true });
});

test.run();
