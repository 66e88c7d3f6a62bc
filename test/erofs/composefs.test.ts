// composefs images served by tsfuse, against the kernel's composefs view of the same image (overlayfs over the
// kernel's EROFS mount with the object store as data-only layer, conformance/composefs-oracle.ts):
//  - plain mode (basedir = object store): the kernel's view, content read from the objects, overlay
//    bookkeeping (trusted.overlay.*, the 256 root whiteouts) hidden, escapes undone (escaped source whiteouts
//    are the empty files with trusted.overlay.whiteout that overlayfs shows);
//  - the shared mkcomposefs fixture (image.cfs + objects/): `tsfuse erofs dump` prints image.dump byte for
//    byte, and the plain-mode mount is the tree image.dump describes;
//  - passthrough mode: object files handed to the kernel (no READ reaches the server), and the fallback when
//    the kernel refuses BACKING_OPEN;
//  - overlay mode: overlayfs over the FUSE mount with the object store as data-only layer, read-only and with
//    an upper layer;
//  - escape attempts: the kit's malicious redirects never yield content from outside the store.
// Image and object store live under /var/tmp (ext4 here; passthrough needs a backing filesystem that allows
// it). Needs root.

import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { type ComposefsManifest, type TreeInfo, buildComposefsImage, fsPath, generateTree, run, unescapeBytes, withKernelMount } from './kit/index.js';
import { diffDumps, dumpTreeInChild } from '../helpers/tree-dump.js';
import { InitFlags } from '../../src/protocol/abi.js';
import { dumpfileToKitDump } from './conformance/cfsdump.js';
import { inodesInChild, nodeEval, readFilesInChild } from './conformance/child.js';
import { type ErofsMountHandle, Timings, serverLines, tempDir, withErofsMount } from './conformance/mount.js';
import { kernelComposefsDump } from './conformance/composefs-oracle.js';
import { EROFS_FIXTURES } from '../helpers/fixtures.js';

const FIXTURES = path.join(EROFS_FIXTURES, 'composefs');
const CLI = fileURLToPath(new URL('../../src/cli/main.js', import.meta.url));
const base = tempDir('tsfuse-cfs-', '/var/tmp');
const timings = new Timings('composefs timings');
const PASSWD = fs.readFileSync('/etc/passwd');

let tree: TreeInfo;
let sourceDump: string;
let image: string;
let objects: string;
let manifest: ComposefsManifest;
/** The kernel's composefs view of the kit image (with /cfs-evil). */
let kernelView: string;

test.before(async () => {
  tree = await timings.time('generateTree small', () => generateTree(path.join(base, 'tree'), { scale: 'small', seed: 3 }));
  sourceDump = await timings.time('dump source', () => dumpTreeInChild(tree.root, 120_000));
  image = path.join(base, 'cfs.erofs');
  objects = path.join(base, 'objects');
  manifest = await timings.time('buildComposefsImage', () => buildComposefsImage(tree.root, image, objects, { malicious: true }));
  timings.note(`${Object.keys(manifest.files).length} files in the store, ${manifest.inline.length} inline, ${manifest.malicious.length} malicious`);
  kernelView = await timings.time('kernel composefs view dump', () => kernelComposefsDump(image, objects));
});

test.after(() => {
  timings.print();
  fs.rmSync(base, { recursive: true, force: true });
});

/** The source dump with the root's nlink the image has (it also holds /cfs-evil). */
function sourceWithEvilDir(): string {
  return sourceDump.replace(/^\/ dir (.*) nlink=(\d+) /m, (_, mid: string, n: string) => `/ dir ${mid} nlink=${Number(n) + 1} `);
}

/** Dump lines of everything but /cfs-evil. */
const withoutEvil = (dump: string): string =>
  dump.split('\n').filter((l) => !l.startsWith('/cfs-evil') && !l.startsWith('!getfattr ./cfs-evil')).join('\n');

const dumpLines = (dump: string, re: RegExp): string[] => dump.split('\n').filter((l) => re.test(l));

/** The malicious redirects: reads fail with one of `allowed`, or (short object) give exactly the object. */
async function checkEscapes(root: string, allowed: string[], label: string): Promise<string[]> {
  const paths = manifest.malicious.map((m) => fsPath(root, unescapeBytes(m.path)).toString('latin1'));
  const got = await readFilesInChild(paths);
  const seen: string[] = [];
  manifest.malicious.forEach((m, i) => {
    const r = got[paths[i]!]!;
    if (r.data !== undefined) {
      const data = Buffer.from(r.data, 'base64');
      assert.not.ok(data.includes(PASSWD.subarray(0, 20)), `${label} ${m.path}: /etc/passwd content!`);
      assert.is(m.expect, 'short', `${label} ${m.path} (${m.description}): read ${data.length} bytes, should have failed`);
      const obj = fs.readFileSync(path.join(objects, Buffer.from(m.redirect).toString().replace(/^\/+/, '')));
      assert.ok(data.equals(obj), `${label} ${m.path}: a short object reads as exactly the object (${data.length} vs ${obj.length} bytes)`);
      seen.push(`${m.path.replace('/cfs-evil/', '')}=short:${data.length}`);
    } else {
      assert.ok(allowed.includes(r.error!), `${label} ${m.path} (${m.description}): ${r.error} not in ${allowed.join('/')}`);
      seen.push(`${m.path.replace('/cfs-evil/', '')}=${r.error}`);
    }
  });
  return seen;
}

test('the kernel view of the image carries the bookkeeping tsfuse must hide', async () => {
  const raw = await withKernelMount(image, (d) => dumpTreeInChild(d, 120_000, { content: false }));
  assert.ok(dumpLines(raw, /^\/[0-9a-f]{2} chr .* rdev=0:0$/).length >= 250, 'root whiteouts 00..ff');
  assert.ok(dumpLines(raw, /  xattr trusted\.overlay\.redirect=/).length >= Object.keys(manifest.files).length);
  assert.ok(dumpLines(raw, /  xattr trusted\.overlay\.overlay\./).length > 0, 'escaped overlay xattrs');
  assert.ok(manifest.escapedWhiteouts.length > 0 && manifest.escapedXattrs.length > 0);
});

test('the kernel view is the source tree, except that escaped whiteouts are empty files marked as whiteouts', () => {
  // The kit's image writer against the kernel: what overlayfs shows is the source tree (sans /cfs-evil), the
  // source's whiteouts excepted (overlayfs shows their escaped form as it is stored).
  const skip = new Set(manifest.escapedWhiteouts);
  const parents = new Set(manifest.escapedWhiteouts.map((w) => w.slice(0, w.lastIndexOf('/')) || '/'));
  const strip = (dump: string): string =>
    dump.split('\n').filter((l) => {
      const key = l.slice(0, l.indexOf(' '));
      return !skip.has(key) && !(parents.has(key) && / {2}xattr (trusted|user)\.overlay\.whiteouts=/.test(l));
    }).join('\n');
  const d = diffDumps(strip(sourceWithEvilDir()), strip(withoutEvil(kernelView)), 20, ['source', 'kernel view']);
  assert.ok(d === '', `the kernel's composefs view differs from the source tree\n${d}`);
  for (const w of manifest.escapedWhiteouts) {
    const lines = kernelView.split('\n').filter((l) => l.startsWith(w + ' '));
    assert.match(lines[0] ?? '', / reg mode=.* size=0 sha256=e3b0c442/, w);
    assert.ok(lines.includes(`${w}  xattr trusted.overlay.whiteout=0x`) && lines.includes(`${w}  xattr user.overlay.whiteout=0x`), w);
  }
});

test('plain mode is the kernel composefs view (content from the store, bookkeeping hidden, escapes undone), 2 workers', async () => {
  await withErofsMount({ image, basedir: objects, workers: 2 }, async (h) => {
    const dump = await timings.time('plain dump', () => dumpTreeInChild(h.mnt, 120_000));
    const d = diffDumps(kernelView, dump, 20, ['kernel composefs view', 'tsfuse plain']);
    assert.ok(d === '', `plain mode differs from the kernel's composefs view\n${d}`);
    // content of every redirected file is the original's
    for (const [key, obj] of Object.entries(manifest.files)) {
      const line = dump.split('\n').find((l) => l.startsWith(key + ' '));
      assert.ok(line?.endsWith(` sha256=${obj.sha256}`), `${key}: ${line}`);
    }
    // overlay xattrs hidden, except the source's own trusted.overlay.X (stored escaped) and the escaped
    // whiteout markers, shown unescaped
    const overlayX = dumpLines(dump, /  xattr trusted\.overlay\./).map((l) => l.replace(/=.*/, '').replace('  xattr ', ' '));
    const escaped = manifest.escapedXattrs.map((x) => `${x.path} ${x.from}`);
    const markers = manifest.escapedWhiteouts.map((w) => `${w} trusted.overlay.whiteout`);
    assert.equal(overlayX.filter((x) => !x.endsWith('.whiteouts')).sort(), [...escaped, ...markers].sort());
    assert.ok(escaped.length > 0 && markers.length > 0);
    assert.is(dumpLines(dump, /  xattr trusted\.overlay\.(overlay\.|redirect|metacopy)/).length, 0);
    // the root's whiteouts are hidden from listings and lookups
    const probe = await nodeEval<{ names: string[]; lookups: string[] }>(
      `const names = fs.readdirSync(args.mnt).filter((n) => /^[0-9a-f]{2}$/.test(n));
       const lookups = ['00', '7f', 'ff'].map((n) => { try { fs.lstatSync(path.join(args.mnt, n)); return 'found'; } catch (e) { return e.code; } });
       return { names, lookups };`,
      { mnt: h.mnt },
    );
    assert.equal(probe, { names: [], lookups: ['ENOENT', 'ENOENT', 'ENOENT'] });
    const getx = await run('getfattr', ['--absolute-names', '-n', 'trusted.overlay.redirect', path.join(h.mnt, unescapeBytes(Object.keys(manifest.files)[0]!))], { check: false, timeoutMs: 10_000 });
    assert.match(getx.stderr, /No such attribute/);
    assert.equal(h.threadEvents, []);
  });
});

/** The errnos overlayfs answers for the kit's hostile redirects (and tsfuse with it). */
const REFUSALS = ['EIO', 'ENOENT', 'EACCES', 'EXDEV', 'ELOOP', 'EINVAL'];

test('plain mode: escape attempts never read outside the store', async () => {
  await withErofsMount({ image, basedir: objects, workers: 1 }, async (h) => {
    const seen = await checkEscapes(h.mnt, REFUSALS, 'plain');
    timings.note(`plain escapes: ${seen.join(' ')}`);
    // the names are still listed, and the refusals are logged with their reason
    const st = await nodeEval<number>('return fs.readdirSync(args).length', path.join(h.mnt, 'cfs-evil'));
    assert.is(st, manifest.malicious.length);
    const lines = serverLines(h.logs).join('\n');
    assert.match(lines, /climbs out of the object store/);
    assert.match(lines, /is a symlink/);
    assert.match(lines, /cfs-evil\/missing: ENOENT: object \/00\/f+ is missing/, lines);
    assert.match(lines, /invalid redirect|empty redirect/);
    assert.equal(h.threadEvents, []);
  });
});

test('shared fixture image.cfs: `tsfuse erofs dump` prints image.dump byte for byte', async () => {
  const r = await run(process.execPath, [CLI, 'erofs', 'dump', path.join(FIXTURES, 'image.cfs')], { timeoutMs: 30_000 });
  const want = fs.readFileSync(path.join(FIXTURES, 'image.dump'));
  assert.ok(r.stdout.equals(want), `dump differs:\n${diffDumps(want.toString(), r.stdout.toString(), 10, ['image.dump', 'tsfuse'])}`);
});

test('shared fixture image.cfs in plain mode is the tree image.dump describes', async () => {
  const expected = dumpfileToKitDump(fs.readFileSync(path.join(FIXTURES, 'image.dump'), 'utf8'), path.join(FIXTURES, 'objects'));
  await withErofsMount({ image: path.join(FIXTURES, 'image.cfs'), basedir: path.join(FIXTURES, 'objects'), workers: 1 }, async (h) => {
    const dump = await dumpTreeInChild(h.mnt, 60_000);
    const d = diffDumps(expected, dump, 20, ['image.dump', 'tsfuse plain']);
    assert.ok(d === '', `image.cfs in plain mode differs from image.dump\n${d}`);
    assert.ok(expected.split('\n').length > 140);
    assert.equal(serverLines(h.logs), []);
  });
});

/** READ requests per nodeid in --debug log lines. */
function readsByNode(logs: string[]): Map<number, number> {
  const m = new Map<number, number>();
  for (const l of logs) {
    const r = / READ nodeid (\d+) /.exec(l);
    if (r) m.set(Number(r[1]), (m.get(Number(r[1])) ?? 0) + 1);
  }
  return m;
}

function opens(logs: string[]): Set<number> {
  return new Set(logs.flatMap((l) => {
    const r = / OPEN nodeid (\d+) /.exec(l);
    return r ? [Number(r[1])] : [];
  }));
}

async function redirectedInodes(h: ErofsMountHandle): Promise<Map<string, number>> {
  const keys = Object.keys(manifest.files);
  const paths = keys.map((k) => fsPath(h.mnt, unescapeBytes(k)).toString('latin1'));
  const inos = await inodesInChild(paths);
  return new Map(keys.map((k, i) => [k, inos[paths[i]!]!]));
}

test('passthrough mode: same content, and reads of passthrough-opened files never reach the server', async () => {
  await withErofsMount({ image, basedir: objects, passthrough: true, workers: 1, debug: true }, async (h) => {
    assert.ok(InitFlags.has(h.m.session.init.flags, 'PASSTHROUGH'), 'the kernel accepted FUSE_PASSTHROUGH');
    const fstype = (await run('stat', ['-f', '-c', '%T', objects], { timeoutMs: 5_000 })).stdout.toString().trim();
    assert.is.not(fstype, 'tmpfs', 'the object store is on a disk filesystem');
    timings.note(`object store on ${fstype}`);
    const dump = await timings.time('passthrough dump (debug)', () => dumpTreeInChild(h.mnt, 120_000, { excludePaths: ['/cfs-evil'] }));
    const d = diffDumps(withoutEvil(kernelView), withoutEvil(dump), 20, ['kernel composefs view', 'tsfuse passthrough']);
    assert.ok(d === '', `passthrough mode differs from the source tree\n${d}`);
    const inos = await redirectedInodes(h);
    const reads = readsByNode(h.logs);
    const opened = opens(h.logs);
    const leaked = [...inos].filter(([, ino]) => reads.has(ino)).map(([k, ino]) => `${k} (${reads.get(ino)} READs)`);
    assert.equal(leaked, [], 'READ requests for passthrough files');
    const openedRedirected = [...inos.values()].filter((ino) => opened.has(ino)).length;
    assert.ok(openedRedirected >= inos.size / 2, `OPEN seen for ${openedRedirected} of ${inos.size} redirected files`);
    const inlineReads = [...reads.values()].reduce((a, b) => a + b, 0);
    assert.ok(inlineReads > 0, 'files stored in the image itself are still read through READ (the count works)');
    timings.note(`passthrough: ${inos.size} redirected files opened with no READ; ${inlineReads} READs for files in the image`);
    assert.equal(serverLines(h.logs).filter((l) => /passthrough/.test(l)), [], 'no fallback');
    const seen = await checkEscapes(h.mnt, REFUSALS, 'passthrough');
    timings.note(`passthrough escapes: ${seen.join(' ')}`);
    assert.equal(h.threadEvents, []);
  });
});

test('plain mode (no passthrough): the same READ count sees the redirected files (control)', async () => {
  await withErofsMount({ image, basedir: objects, workers: 1, debug: true }, async (h) => {
    const big = Object.entries(manifest.files).filter(([, o]) => o.size > 100_000).slice(0, 3);
    assert.ok(big.length > 0);
    const got = await readFilesInChild(big.map(([k]) => fsPath(h.mnt, unescapeBytes(k)).toString('latin1')));
    for (const [i, [, o]] of big.entries()) {
      const data = Buffer.from(Object.values(got)[i]!.data!, 'base64');
      assert.is(createHash('sha256').update(data).digest('hex'), o.sha256);
    }
    const inos = await redirectedInodes(h);
    const reads = readsByNode(h.logs);
    for (const [k] of big) assert.ok((reads.get(inos.get(k)!) ?? 0) > 0, `${k} read through READ`);
  });
});

test('passthrough mode: when the kernel refuses BACKING_OPEN the server logs a fallback once and serves reads', async () => {
  // A backing file on overlayfs (stack depth 1) is refused by a connection with max_stack_depth 1.
  const st = tempDir('tsfuse-cfs-store-', '/var/tmp');
  const empty = path.join(st, 'empty');
  const store = path.join(st, 'store');
  fs.mkdirSync(empty);
  fs.mkdirSync(store);
  await run('mount', ['-t', 'overlay', '-o', `ro,lowerdir=${objects}:${empty}`, 'tsfuse-test-store', store], { timeoutMs: 10_000 });
  try {
    await withErofsMount({ image, basedir: store, passthrough: true, workers: 1, debug: true }, async (h) => {
      const dump = await dumpTreeInChild(h.mnt, 120_000, { excludePaths: ['/cfs-evil'] });
      const d = diffDumps(withoutEvil(kernelView), withoutEvil(dump), 20, ['kernel composefs view', 'tsfuse passthrough fallback']);
      assert.ok(d === '', `fallback serving differs from the source tree\n${d}`);
      const fallback = serverLines(h.logs).filter((l) => /passthrough unavailable/.test(l));
      assert.is(fallback.length, 1, `exactly one fallback line:\n${serverLines(h.logs).join('\n')}`);
      timings.note(`fallback: ${fallback[0]}`);
      const inos = await redirectedInodes(h);
      const reads = readsByNode(h.logs);
      const served = [...inos.values()].filter((ino) => reads.has(ino)).length;
      assert.ok(served >= inos.size / 2, `content of ${served} of ${inos.size} redirected files served through READ`);
    });
  } finally {
    await run('umount', ['-l', store], { check: false, timeoutMs: 10_000 });
    fs.rmSync(st, { recursive: true, force: true });
  }
});

test('overlay mode: overlayfs over the FUSE mount reads content from the store; the FUSE mount shows user.overlay.*', async () => {
  const ov = tempDir('tsfuse-cfs-ov-');
  try {
    await withErofsMount({ image, basedir: objects, overlay: ov, workers: 1 }, async (h) => {
      assert.is(h.m.overlay, ov);
      // Through overlayfs (userxattr mode) the view is the kernel's composefs view, every xattr included: the
      // FUSE mount keeps escapes as escapes in the namespace this overlayfs unescapes.
      const dump = await timings.time('overlay dump', () => dumpTreeInChild(ov, 120_000));
      const d = diffDumps(kernelView, dump, 20, ['kernel composefs view', 'overlay']);
      assert.ok(d === '', `the overlay view differs from the kernel's composefs view\n${d}`);
      // the FUSE mount itself: overlayfs' own xattrs as user.overlay.*, whiteouts visible
      const fuse = await dumpTreeInChild(h.mnt, 120_000, { content: false });
      assert.equal(
        dumpLines(fuse, /  xattr trusted\.overlay\./).map((l) => l.replace(/=.*/, '').replace('  xattr ', ' ')).filter((x) => !x.endsWith('.whiteouts')).sort(),
        [...manifest.escapedXattrs.map((x) => `${x.path} ${x.from}`), ...manifest.escapedWhiteouts.map((w) => `${w} trusted.overlay.whiteout`)].sort(),
        'the only trusted.overlay.* on the FUSE mount are the image\'s escapes, unescaped',
      );
      assert.match(fuse, /^\/  xattr user\.overlay\.opaque=0x79$/m);
      for (const w of manifest.escapedWhiteouts) assert.ok(fuse.includes(`${w}  xattr user.overlay.overlay.whiteout=0x\n`), `${w}: user.overlay.whiteout kept escaped`);
      assert.ok(dumpLines(fuse, /^\/[0-9a-f]{2} chr .* rdev=0:0$/).length >= 250, 'whiteouts 00..ff visible to overlayfs');
      for (const [key, obj] of Object.entries(manifest.files)) {
        const redirect = Buffer.from('/' + obj.object).toString('hex');
        assert.ok(fuse.includes(`${key}  xattr user.overlay.redirect=0x${redirect}\n`), `${key}: user.overlay.redirect`);
        assert.ok(fuse.includes(`${key}  xattr user.overlay.metacopy=0x00240001${obj.fsverity}\n`), `${key}: user.overlay.metacopy`);
      }
      // escape attempts through overlayfs: the kernel resolves redirects inside the data-only layer
      const seen = await checkEscapes(ov, REFUSALS, 'overlay');
      timings.note(`overlay escapes: ${seen.join(' ')}`);
      assert.equal(h.threadEvents, []);
    });
  } finally {
    fs.rmSync(ov, { recursive: true, force: true });
  }
});

test('overlay mode with upperdir/workdir: writes through the overlay land in upperdir', async () => {
  const ov = tempDir('tsfuse-cfs-ov-');
  const rw = tempDir('tsfuse-cfs-rw-', '/var/tmp');
  const upper = path.join(rw, 'upper');
  const work = path.join(rw, 'work');
  fs.mkdirSync(upper);
  fs.mkdirSync(work);
  const [key, obj] = Object.entries(manifest.files).find(([k, o]) => o.size > 4096 && o.size < 100_000 && !k.includes('\\'))!;
  const rel = unescapeBytes(key).slice(1);
  const objFile = path.join(objects, obj.object);
  const objBefore = createHash('sha256').update(fs.readFileSync(objFile)).digest('hex');
  try {
    await withErofsMount({ image, basedir: objects, overlay: ov, upperdir: upper, workdir: work, workers: 1 }, async (h) => {
      const r = await nodeEval<{ created: string; appended: number }>(
        `fs.writeFileSync(path.join(args.ov, 'types/new-file'), 'written through the overlay\\n');
         fs.appendFileSync(path.join(args.ov, args.rel), 'appended');
         return { created: fs.readFileSync(path.join(args.ov, 'types/new-file'), 'utf8'), appended: fs.statSync(path.join(args.ov, args.rel)).size };`,
        { ov, rel },
      );
      assert.is(r.created, 'written through the overlay\n');
      assert.is(r.appended, obj.size + 'appended'.length);
      // the FUSE view is unchanged
      const fuseSize = await nodeEval<number>('return fs.statSync(args).size', path.join(h.mnt, rel));
      assert.is(fuseSize, obj.size);
    });
    // after unmount: the writes are in upperdir (the copied-up file holds the original content + the append)
    assert.is(fs.readFileSync(path.join(upper, 'types/new-file'), 'utf8'), 'written through the overlay\n');
    const up = fs.readFileSync(path.join(upper, rel));
    assert.is(up.length, obj.size + 8);
    assert.is(createHash('sha256').update(up.subarray(0, obj.size)).digest('hex'), obj.sha256);
    assert.is(up.subarray(obj.size).toString(), 'appended');
    assert.is(createHash('sha256').update(fs.readFileSync(objFile)).digest('hex'), objBefore, 'the object store is untouched');
  } finally {
    fs.rmSync(ov, { recursive: true, force: true });
    fs.rmSync(rw, { recursive: true, force: true });
  }
});

test.run();
