// Checks of the EROFS test kit itself (test/erofs/kit): the generated tree has what it promises, every image
// variant builds and the kernel's mount of it dumps exactly like the source tree, composefs images carry the
// overlay xattrs and objects, corrupt copies are produced, dumps and diffs behave. Needs root.

import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { test } from 'uvu';
import { EROFS_FIXTURES } from '../helpers/fixtures.js';
import * as assert from 'uvu/assert';
import { type ComposefsManifest, IMAGE_VARIANTS, SPECIAL_MTIMES, SUPPORTED_VARIANTS, TREE_FILE_SIZES, type TreeInfo, UnsupportedVariantError, buildComposefsImage, buildImage, buildSquashfs, corruptCopies, fsPath, fsverityDigestFile, generateTree, kernelMountAttempt, mapImage, readTreeXattrs, touchToNs, withKernelMount } from './kit/index.js';
import { type DumpOptions, diffDumps, dumpTree, dumpTreeInChild } from '../helpers/tree-dump.js';

const base = fs.mkdtempSync(path.join(os.tmpdir(), 'tsfuse-kit-test-'));
let tree: TreeInfo;
let sourceDump: string;
const timings: string[] = [];

async function timed<T>(label: string, fn: () => Promise<T> | T): Promise<T> {
  const t0 = performance.now();
  try {
    return await fn();
  } finally {
    timings.push(`${label}: ${(performance.now() - t0).toFixed(0)} ms`);
  }
}

function mounted(dir: string): boolean {
  return fs.readFileSync('/proc/self/mountinfo', 'utf8').split('\n').some((l) => l.split(' ')[4] === dir);
}

test.before(async () => {
  tree = await timed('generateTree small', () => generateTree(path.join(base, 'tree'), { scale: 'small', seed: 7 }));
  sourceDump = await timed('dumpTree source (small)', () => dumpTree(tree.root));
});

test.after(() => {
  console.log(`kit timings:\n  ${timings.join('\n  ')}`);
  fs.rmSync(base, { recursive: true, force: true });
});

test('tree: every inode type, hardlinks, sizes, sparse files', () => {
  const st = (rel: string): fs.Stats => fs.lstatSync(path.join(tree.root, rel));
  const p = tree.paths;
  assert.ok(st(p.regular).isFile());
  assert.ok(st(p.dir).isDirectory());
  assert.ok(st(p.symlink).isSymbolicLink());
  assert.ok(st(p.chardev).isCharacterDevice());
  assert.ok(st(p.blockdev).isBlockDevice());
  assert.ok(st(p.fifo).isFIFO());
  assert.ok(st(p.socket).isSocket());
  assert.ok(st(p.whiteout).isCharacterDevice());
  assert.is(st(p.whiteout).rdev, 0);
  assert.is(fs.readdirSync(path.join(tree.root, p.emptyDir)).length, 0);
  const ino = st(p.hardlinks[0]!).ino;
  for (const h of p.hardlinks) {
    assert.is(st(h).nlink, 3, h);
    assert.is(st(h).ino, ino);
  }
  assert.is(st(p.symlinkHardlinks[0]!).nlink, 2);
  for (const size of TREE_FILE_SIZES) {
    assert.is(st(`sizes/rand-${size}`).size, size);
    assert.is(st(`sizes/text-${size}`).size, size);
  }
  assert.is(st(p.large).size, 8 * 1024 * 1024);
  for (const s of p.sparse) {
    const x = st(s);
    assert.ok(x.blocks * 512 < x.size, `${s} has holes (${x.blocks * 512} < ${x.size})`);
  }
  assert.is(fs.readlinkSync(path.join(tree.root, p.longSymlink1000)).length, 1000);
  assert.is(fs.readlinkSync(path.join(tree.root, p.longSymlink4095)).length, 4095);
});

test('tree: big/deep directories, odd names, modes, owners, ns mtimes, xattrs', () => {
  const root = tree.root;
  const big = fs.readdirSync(path.join(root, tree.paths.bigDir));
  assert.is(big.length, tree.bigDirEntries);
  const lengths = new Set(big.map((n) => Buffer.byteLength(n)));
  for (let l = 1; l <= tree.maxNameLength; l++) assert.ok(lengths.has(l), `a name of length ${l}`);
  assert.ok(fs.existsSync(path.join(root, tree.paths.deepLeaf)));
  assert.is(tree.paths.deepLeaf.split('/').length, tree.deepDepth + 2);
  assert.ok(tree.longestPath > 3000);
  assert.ok(fs.existsSync(path.join(root, 'names', 'new\nline')));
  assert.ok(fs.existsSync(path.join(root, 'names', 'back\\slash')));
  assert.ok(fs.existsSync(path.join(root, 'names', '-leading-dash')));
  assert.ok(fs.existsSync(fsPath(root, tree.paths.invalidUtf8Name.toString('latin1'))));
  const mode = (rel: string): number => fs.lstatSync(path.join(root, rel)).mode & 0o7777;
  assert.is(mode(tree.paths.setuid), 0o4755);
  assert.is(mode(tree.paths.setgid), 0o2755);
  assert.is(mode(tree.paths.stickyDir), 0o1777);
  const big32 = fs.lstatSync(path.join(root, 'owners/u4294967294-g4294967294'));
  assert.is(big32.uid, 4294967294);
  assert.is(fs.lstatSync(path.join(root, 'owners/link-1000')).uid, 1000);
  for (const [name, t] of Object.entries(SPECIAL_MTIMES)) {
    assert.is(fs.lstatSync(path.join(root, 'mtimes', name), { bigint: true }).mtimeNs, touchToNs(t), name);
  }
  // ns precision everywhere, not just microseconds
  const nsOnly = sourceDump.split('\n').filter((l) => / mtime=\d+\.\d{6}(?!000)\d{3}/.test(l)).length;
  assert.ok(nsOnly > 100, `entries with sub-microsecond mtimes: ${nsOnly}`);
  const xa = readTreeXattrs(root).byPath;
  assert.is(xa.get('xattrs/many')?.length, 60);
  assert.is(xa.get('xattrs/long-value')?.[0]?.[1].length, 3000);
  for (const f of tree.paths.sharedXattrFiles) assert.ok(xa.get(f)?.some(([n]) => n === 'user.shared'), f);
  assert.ok(xa.get('xattrs/symlink')?.some(([n]) => n === 'trusted.on-symlink'));
  assert.ok(xa.get(tree.paths.overlayXattrFile)?.some(([n]) => n === 'trusted.overlay.custom'));
  assert.ok(xa.get('')?.some(([n]) => n === 'user.root'));
  assert.ok(tree.entries > 1000, `entries: ${tree.entries}`);
});

test('tree: the same seed gives the same tree', async () => {
  const again = await timed('generateTree small (again)', () => generateTree(path.join(base, 'tree-again'), { scale: 'small', seed: 7 }));
  assert.is(diffDumps(sourceDump, dumpTree(again.root), 10), '');
  fs.rmSync(again.root, { recursive: true, force: true });
});

test('dumps: child process, diff, timeout', async () => {
  const child = await timed('dumpTreeInChild source (small)', () => dumpTreeInChild(tree.root, 60_000));
  assert.is(child, sourceDump);
  const changed = sourceDump.replace(/^(\/types\/regular reg mode=)0644/m, '$10600');
  const d = diffDumps(sourceDump, changed, 5, ['kernel', 'tsfuse']);
  assert.match(d, /^--- kernel\n\+\+\+ tsfuse\n- \/types\/regular reg mode=0644/);
  assert.match(d, /\n\+ \/types\/regular reg mode=0600/);
  assert.match(d, /1 differing entries/);
  assert.match(diffDumps('/a x\n', '/a x\n/b y\n'), /\+ \/b y/);
  const noMtime = dumpTree(tree.root, { mtime: false, xattrs: false, content: false });
  assert.not.match(noMtime, /mtime=|sha256=| {2}xattr /);
  try {
    await dumpTreeInChild(tree.root, 1);
    assert.unreachable('a 1 ms timeout must reject');
  } catch (e) {
    assert.match((e as Error).message, /timed out/);
  }
});

test('images: b1024/b2048 are refused by mkfs.erofs 1.5', async () => {
  for (const v of ['b1024', 'b2048'] as const) {
    assert.not.ok(IMAGE_VARIANTS[v].supported);
    try {
      await buildImage(tree.root, path.join(base, `${v}.erofs`), v);
      assert.unreachable();
    } catch (e) {
      assert.instance(e, UnsupportedVariantError);
    }
  }
});

for (const variant of SUPPORTED_VARIANTS) {
  test(`images: ${variant} builds, the kernel mounts it, dump equals the source`, async () => {
    const img = path.join(base, `img-${variant}.erofs`);
    const r = await timed(`buildImage ${variant}`, () => buildImage(tree.root, img, variant));
    assert.ok(r.bytes > 0);
    const opts: DumpOptions = IMAGE_VARIANTS[variant].dumpCompat ?? {};
    const expected = Object.keys(opts).length > 0 ? dumpTree(tree.root, opts) : sourceDump;
    const got = await timed(`kernel mount + dump ${variant}`, () => withKernelMount(img, (dir) => dumpTreeInChild(dir, 60_000, opts)));
    const diff = diffDumps(expected, got, 20, ['source', `kernel(${variant})`]);
    assert.is(diff, '', diff);
  });
}

test('images: reproducible bytes; default has extended inodes, compact has compact ones', async () => {
  const a = path.join(base, 'img-default.erofs');
  const b = path.join(base, 'img-default-again.erofs');
  await buildImage(tree.root, b, 'default');
  assert.ok(fs.readFileSync(a).equals(fs.readFileSync(b)), 'same tree, same variant -> same bytes');
  const def = mapImage(fs.readFileSync(a));
  assert.ok(def.inodes.every((i) => i.isize === 64), 'every inode extended (mtimes kept)');
  const compact = mapImage(fs.readFileSync(path.join(base, 'img-compact.erofs')));
  assert.ok(compact.inodes.filter((i) => i.isize === 32).length > compact.inodes.length / 2, 'mostly compact inodes');
  assert.is(def.inodes.length, tree.inodes);
});

test('big tree: 5000+ entries in one directory, default image equals the source', async () => {
  const big = await timed('generateTree big', () => generateTree(path.join(base, 'big'), { scale: 'big', seed: 3 }));
  assert.ok(big.bigDirEntries >= 5000);
  assert.is(fs.readdirSync(path.join(big.root, 'bigdir')).length, big.bigDirEntries);
  const src = await timed('dumpTreeInChild big source', () => dumpTreeInChild(big.root, 120_000));
  const img = path.join(base, 'big.erofs');
  await timed('buildImage big default', () => buildImage(big.root, img, 'default'));
  const got = await timed('kernel mount + dump big', () => withKernelMount(img, (dir) => dumpTreeInChild(dir, 120_000)));
  const diff = diffDumps(src, got, 20, ['source', 'kernel']);
  assert.is(diff, '', diff);
  assert.ok(src.split('\n').length > 6000);
  fs.rmSync(big.root, { recursive: true, force: true });
  fs.rmSync(img, { force: true });
});

test('kernel mount: unmounted even when fn throws', async () => {
  let seen = '';
  try {
    await withKernelMount(path.join(base, 'img-default.erofs'), (dir) => {
      seen = dir;
      assert.ok(mounted(dir));
      throw new Error('boom');
    });
  } catch (e) {
    assert.is((e as Error).message, 'boom');
  }
  assert.ok(seen !== '' && !mounted(seen) && !fs.existsSync(seen));
});

test('fsverity: digests name the objects of the mkcomposefs fixture', () => {
  const objs = path.join(EROFS_FIXTURES, 'composefs', 'objects');
  assert.ok(fs.existsSync(objs), 'test/fixtures/erofs/composefs/objects');
  let n = 0;
  for (const d of fs.readdirSync(objs)) {
    for (const f of fs.readdirSync(path.join(objs, d))) {
      assert.is(fsverityDigestFile(path.join(objs, d, f)).toString('hex'), d + f);
      n++;
    }
  }
  assert.ok(n > 0);
});

let cfs: ComposefsManifest;

test('composefs: image, objects, overlay xattrs, escapes, whiteouts, malicious redirects', async () => {
  const objects = path.join(base, 'objects');
  cfs = await timed('buildComposefsImage', () => buildComposefsImage(tree.root, path.join(base, 'cfs.erofs'), objects, { malicious: true }));
  const files = Object.entries(cfs.files);
  assert.ok(files.length > 30);
  for (const [, o] of files) {
    const obj = path.join(objects, o.object);
    assert.is(fs.statSync(obj).size, o.size);
    assert.is(o.fsverity, o.object.replace('/', ''));
    assert.ok(o.size > 64);
  }
  const got = await timed('kernel mount + dump composefs', () => withKernelMount(cfs.image, (dir) => dumpTreeInChild(dir, 60_000)));
  const lines = got.split('\n');
  const has = (l: string): boolean => lines.includes(l);
  // every external file: real size, redirect and metacopy, content matches the source's sha256 in the store
  for (const [p, o] of files) {
    assert.ok(lines.some((l) => l.startsWith(`${p} reg `) && l.includes(` size=${o.size} `)), `${p} keeps size ${o.size}`);
    assert.ok(has(`${p}  xattr trusted.overlay.redirect=0x${Buffer.from('/' + o.object).toString('hex')}`), `${p} redirect`);
    assert.ok(has(`${p}  xattr trusted.overlay.metacopy=0x00240001${o.fsverity}`), `${p} metacopy`);
    assert.ok(sourceDump.includes(`${p} reg `) && sourceDump.split('\n').some((l) => l.startsWith(`${p} reg `) && l.endsWith(`sha256=${o.sha256}`)));
  }
  assert.ok(has('/  xattr trusted.overlay.opaque=0x79'));
  assert.is(cfs.rootWhiteouts.length, 256);
  for (const n of ['00', '7f', 'ff']) assert.ok(lines.some((l) => l.startsWith(`/${n} chr `) && l.endsWith('rdev=0:0')), n);
  assert.ok(has('/types/whiteout  xattr trusted.overlay.overlay.whiteout=0x'));
  assert.ok(has('/types/whiteout  xattr user.overlay.whiteout=0x'));
  assert.ok(has('/types  xattr trusted.overlay.overlay.whiteouts=0x'));
  assert.ok(lines.some((l) => l.startsWith('/types/whiteout reg ')));
  assert.ok(has(`/${tree.paths.overlayXattrFile}  xattr trusted.overlay.overlay.custom=0x${Buffer.from('escaped by composefs').toString('hex')}`));
  assert.ok(has(`/${tree.paths.overlayXattrDir}  xattr trusted.overlay.overlay.opaque=0x79`));
  assert.ok(!got.includes('xattr trusted.overlay.custom='));
  assert.ok(cfs.malicious.length >= 10);
  for (const m of cfs.malicious) {
    assert.ok(has(`${m.path}  xattr trusted.overlay.redirect=0x${m.redirect.toString('hex')}`) || m.redirect.length > 128, m.path);
  }
  assert.ok(fs.lstatSync(path.join(objects, 'ee/escape-link')).isSymbolicLink());
  // everything else is the source tree: compare without the rewritten parts
  const strip = (dump: string): string =>
    dump
      .split('\n')
      .filter((l) => !/^\/[0-9a-f]{2} /.test(l) && !l.startsWith('/cfs-evil') && !l.startsWith('/types/whiteout'))
      .filter((l) => !/ {2}xattr (trusted\.overlay\.|user\.overlay\.whiteout)/.test(l))
      .map((l) => (cfs.files[l.split(' ')[0]!] ? l.replace(/ sha256=[0-9a-f]+$/, '') : l))
      .map((l) => (l.startsWith('/ dir ') ? l.replace(/ nlink=\d+/, '') : l))
      .join('\n');
  const diff = diffDumps(strip(sourceDump), strip(got), 20, ['source', 'composefs kernel']);
  assert.is(diff, '', diff);
});

test('corrupt copies: deterministic, all different, kernel refuses the obvious ones', async () => {
  const img = path.join(base, 'img-default.erofs');
  const orig = fs.readFileSync(img);
  const a = await timed('corruptCopies 30', () => corruptCopies(img, path.join(base, 'corrupt-a'), 11, 30));
  const b = corruptCopies(img, path.join(base, 'corrupt-b'), 11, 30);
  assert.is(a.length, b.length);
  assert.equal(a.map((c) => c.description), b.map((c) => c.description));
  for (const kind of ['truncate', 'sb-field', 'flip'] as const) assert.ok(a.some((c) => c.kind === kind), kind);
  for (const t of ['superblock', 'root-inode', 'dirents', 'xattrs', 'inode', 'metadata']) assert.ok(a.some((c) => c.kind === 'flip' && c.target === t), t);
  for (const c of a) {
    const buf = fs.readFileSync(c.file);
    assert.not.ok(buf.equals(orig), c.description);
  }
  fs.rmSync(path.join(base, 'corrupt-b'), { recursive: true, force: true });
  const refused = async (pred: (d: string) => boolean): Promise<void> => {
    const c = a.find((x) => pred(x.description))!;
    const r = await kernelMountAttempt(c.file);
    assert.not.ok(r.mounted, c.description);
  };
  await timed('kernel mount attempts', async () => {
    await refused((d) => d.startsWith('truncated to 0 bytes'));
    await refused((d) => d === 'wrong superblock checksum');
    await refused((d) => d.startsWith('unknown incompat features'));
    let ok = 0;
    for (const c of a) if ((await kernelMountAttempt(c.file)).mounted) ok++;
    assert.ok(ok > 0 && ok < a.length, `kernel mounted ${ok} of ${a.length}`);
  });
  fs.rmSync(path.join(base, 'corrupt-a'), { recursive: true, force: true });
});

test('squashfs: builds; its kernel mount equals the source but for mtimes (seconds only) and ACLs', async () => {
  const img = path.join(base, 'tree.squashfs');
  const r = await timed('buildSquashfs', () => buildSquashfs(tree.root, img));
  assert.ok(r.bytes > 0);
  // squashfs keeps 32-bit second mtimes and mksquashfs 4.5 drops system.* xattrs (POSIX ACLs)
  const opts: DumpOptions = { mtime: false, excludeXattrs: '^system\\.posix_acl_' };
  const got = await withKernelMount(img, (dir) => dumpTreeInChild(dir, 60_000, opts), { type: 'squashfs' });
  const diff = diffDumps(dumpTree(tree.root, opts), got, 20, ['source', 'squashfs kernel']);
  assert.is(diff, '', diff);
});

test.run();
