// composefs: the dump of image.cfs equals composefs-info's, and the three views of the image: plain (the
// original tree, content from the object store), overlay (user.overlay.* metadata for overlayfs) and raw
// (the kernel's view).

import { test } from 'uvu';
import * as assert from 'uvu/assert';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { ErofsReader } from '../../../src/erofs/reader/reader.js';
import { dumpComposefs, dumpComposefsToString } from '../../../src/erofs/dump.js';
import { createErofsFilesystem } from '../../../src/erofs/filesystem.js';
import { FIXTURES, canMount, diffViews, kernelTree, withKernelMount, type Tree } from './tree.js';
import { ctx, filesystemTree, readAll, readdirAll } from './fsapi.js';

const CFS = path.join(FIXTURES, 'composefs/image.cfs');
const OBJECTS = path.join(FIXTURES, 'composefs/objects');

test('dump of image.cfs equals composefs-info dump byte for byte', () => {
  const r = ErofsReader.open(CFS);
  const ours = dumpComposefsToString(r);
  const theirs = fs.readFileSync(path.join(FIXTURES, 'composefs/image.dump'), 'utf8');
  assert.is(ours, theirs);
});

test('dump streams through the callback in chunks and from memory too', () => {
  const r = ErofsReader.open(fs.readFileSync(CFS));
  const chunks: string[] = [];
  dumpComposefs(r, (c) => chunks.push(c));
  assert.ok(chunks.length >= 1);
  assert.is(chunks.join(''), fs.readFileSync(path.join(FIXTURES, 'composefs/image.dump'), 'utf8'));
});

test('dump of a plain EROFS image lists its tree (hardlinks as @ lines)', () => {
  const out = dumpComposefsToString(ErofsReader.open(path.join(FIXTURES, 'plain.erofs')));
  const lines = out.trimEnd().split('\n');
  assert.is(lines.length, 145);
  assert.ok(lines.some((l) => l.startsWith('/hardlink-to-hostname 8 @100644 2 ') && l.includes(' /etc/hostname ')), 'hardlink line');
  assert.ok(lines.some((l) => l.startsWith('/null-dev 0 20644 1 0 0 259 ')), 'device line');
});

/** The plain.erofs kernel tree: the same source tree the composefs image was made from. */
let sourceTree: Tree | undefined;
function source(): Tree | undefined {
  if (!canMount()) return undefined;
  sourceTree ??= withKernelMount(path.join(FIXTURES, 'plain.erofs'), (d) => kernelTree(d));
  return sourceTree;
}

test('plain mode serves the original tree, file contents read from the object store', async () => {
  const expected = source();
  if (!expected) return console.log('  (skipped: cannot mount)');
  const fsys = createErofsFilesystem({ image: CFS, basedir: OBJECTS });
  const actual = await filesystemTree(fsys);
  // mkcomposefs kept real mtimes (plain.erofs was built with -T) and lost the hardlink; directory sizes
  // differ between the two writers. Everything else must match.
  for (const t of [expected, actual]) {
    for (const e of t) {
      if (!('lstatError' in e) && (e.path === 'etc/hostname' || e.path === 'hardlink-to-hostname')) e.nlink = 1;
    }
  }
  assert.is(diffViews(expected, actual, { mtime: false, dirSize: false }), '');
  assert.ok(!actual.some((e) => /^[0-9a-f]{2}$/.test(e.path)), 'the 00..ff whiteouts are hidden');
  assert.ok(!actual.some((e) => 'xattrs' in e && e.xattrs?.some(([n]) => n.startsWith('trusted.overlay.'))), 'overlay xattrs hidden');
  fsys.destroy();
});

test('plain mode without a basedir: redirected files fail with EIO and one log line, others still read', async () => {
  const logs: string[] = [];
  const fsys = createErofsFilesystem({ image: CFS, log: (m) => logs.push(m) });
  const e = fsys.lookup(ctx, 1, 'sparse.img');
  try {
    fsys.open(ctx, e.ino, 0);
    assert.unreachable('should have failed');
  } catch (err) {
    assert.is((err as { code?: string }).code, 'EIO');
  }
  try {
    fsys.open(ctx, e.ino, 0);
  } catch {
    // second time: no new log line
  }
  assert.is(logs.length, 1, logs.join('\n'));
  assert.match(logs[0]!, /sparse\.img/);
  const h = fsys.lookup(ctx, fsys.lookup(ctx, 1, 'etc').ino, 'hostname');
  assert.is(Buffer.from(await readAll(fsys, h.ino, h.attr.size)).toString(), 'fixture\n');
});

test('raw mode equals the kernel mount of the composefs image', async () => {
  if (!canMount()) return console.log('  (skipped: cannot mount)');
  const expected = withKernelMount(CFS, (d) => kernelTree(d));
  const fsys = createErofsFilesystem({ image: CFS, mode: 'raw' });
  const actual = await filesystemTree(fsys);
  assert.is(diffViews(expected, actual), '');
});

test('overlay mode: whiteouts visible, trusted.overlay.X shown as user.overlay.X, no object opened', async () => {
  const fsys = createErofsFilesystem({ image: CFS, mode: 'overlay', basedir: OBJECTS });
  const root = await readdirAll(fsys, 1);
  const names = root.map((e) => e.name);
  assert.ok(names.includes('00') && names.includes('ff'), 'whiteouts listed');
  const w = fsys.lookup(ctx, 1, '7f');
  assert.is(w.attr.mode & 0o170000, 0o020000);
  assert.is(w.attr.rdev, 0);
  assert.equal(fsys.listxattr(ctx, 1), ['user.overlay.opaque']);
  assert.is(Buffer.from(fsys.getxattr(ctx, 1, 'user.overlay.opaque')).toString(), 'y');
  const s = fsys.lookup(ctx, 1, 'sparse.img');
  const names2 = fsys.listxattr(ctx, s.ino).sort();
  assert.equal(names2, ['user.overlay.metacopy', 'user.overlay.redirect']);
  assert.is(Buffer.from(fsys.getxattr(ctx, s.ino, 'user.overlay.redirect')).toString(), '/12/fb72b3167b1bd5dc8a0eb0ecf7473d9d63601948fa3bef89a9a2b86a455103');
  assert.throws(() => fsys.getxattr(ctx, s.ino, 'trusted.overlay.redirect'), (e: { code?: string }) => e.code === 'ENODATA');
  // contents come from the image (holes), never from the store
  const r = fsys.open(ctx, s.ino, 0);
  const data = fsys.read(ctx, s.ino, r.fh ?? 0, 0, 4096);
  assert.is(data.length, 4096);
  assert.ok(data.every((b) => b === 0));
});

test('plain mode reads a redirected file in pieces and handles reads past EOF', async () => {
  const fsys = createErofsFilesystem({ image: CFS, basedir: OBJECTS });
  const usr = fsys.lookup(ctx, 1, 'usr');
  const lib = fsys.lookup(ctx, usr.ino, 'lib');
  const f = fsys.lookup(ctx, lib.ino, 'block-4097');
  const whole = fs.readFileSync(path.join(OBJECTS, '3b/3243556a91231d428759f867bc1c61c56f16d9b660f88f6901abd18612de05'));
  const o = fsys.open(ctx, f.ino, 0);
  assert.is(o.flags, 2, 'FOPEN_KEEP_CACHE');
  const fh = o.fh!;
  assert.equal(Buffer.from(fsys.read(ctx, f.ino, fh, 4000, 200)), whole.subarray(4000, 4097));
  assert.is(fsys.read(ctx, f.ino, fh, 4097, 100).length, 0);
  assert.is(fsys.read(ctx, f.ino, fh, 1 << 30, 100).length, 0);
  fsys.release(ctx, f.ino, fh);
});

test.run();
