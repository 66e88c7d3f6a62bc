// Bad input. Images that cannot be served (a truncated rootfs, a root pointer out of range, an inode loop, a
// blob whose bytes do not match its digest, a missing manifest, a size that disagrees with its descriptor,
// unsorted inodes, a wrong manifest version, a wrong --digest) make `tsfuse puzzlefs mount` refuse with one
// line naming the reason and exit 1, leaving nothing mounted. Images whose damage is in file data (a missing
// chunk blob, a corrupt one, a broken seek table, a chunk pointing past its blob, a wrong fs-verity digest under
// --verity) mount; reading the damaged file gives EIO with one logged reason, the rest of the tree still reads
// and the session goes on. Needs root.

import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { zstdReady } from '../../src/compress/zstd.js';
import { findMount } from '../../src/kernel/mountinfo.js';
import { fsverityDigest } from '../../src/verity/digest.js';
import { EMPTY_CONFIG, MEDIA_EMPTY, MEDIA_FILEDATA, MEDIA_MANIFEST, MEDIA_ROOTFS, OciLayout, VERITY_ROOT_HASH_ANNOTATION } from '../../src/puzzlefs/oci.js';
import { type InodeKind, type PuzzleInode, type VerityEntry, encodeRootfs } from '../../src/puzzlefs/schema.js';
import { encodeSeekable } from '../../src/puzzlefs/seekable-zstd.js';
import { CLI, runChild, tempDir, withPuzzleMount } from './helpers.js';

const TAG = 't';
const base = tempDir('tsfuse-pzbad-');
const mnt = tempDir('tsfuse-pzbad-mnt-');
let n = 0;

function inode(ino: number, kind: InodeKind, more: Partial<PuzzleInode> = {}): PuzzleInode {
  return {
    ino, kind, uid: 0, gid: 0, permissions: kind === 'dir' ? 0o755 : 0o644, major: 0, minor: 0, entries: [], lookBelow: false,
    chunks: [], xattrs: [], symlinkTarget: null, ...more,
  };
}
const name = (s: string) => Buffer.from(s);
const dig = (hex: string) => Buffer.from(hex, 'hex');

/** Writes a layout whose rootfs blob is `rootfs` (any bytes) with the given extra blobs; returns its directory. */
function writeImage(rootfs: Uint8Array, blobs: Uint8Array[] = [], edit?: (m: { manifest: { layers: { mediaType: string }[] }; rootfsDesc: { size: number } }) => void): string {
  const dir = path.join(base, `img-${n++}`);
  const l = OciLayout.create(dir);
  const layers = blobs.map((b) => {
    const r = l.putBlob(b);
    return { mediaType: MEDIA_FILEDATA, digest: r.digest, size: r.size };
  });
  const rf = l.putBlob(rootfs);
  const rootfsDesc = { mediaType: MEDIA_ROOTFS, digest: rf.digest, size: rf.size, annotations: { [VERITY_ROOT_HASH_ANNOTATION]: fsverityDigest(rootfs).toString('hex') } };
  l.putBlob(EMPTY_CONFIG.bytes);
  const manifest = { schemaVersion: 2, mediaType: MEDIA_MANIFEST, config: { mediaType: MEDIA_EMPTY, digest: EMPTY_CONFIG.digest, size: 2 }, layers: [rootfsDesc, ...layers] };
  edit?.({ manifest, rootfsDesc });
  const m = l.putBlob(Buffer.from(JSON.stringify(manifest)));
  l.setTag(TAG, { mediaType: MEDIA_MANIFEST, digest: m.digest, size: m.size });
  return dir;
}

/** A good image: / with hello (raw blob), big (seekable zstd), sub/inner; returns the layers too. */
function goodParts(): { layers: PuzzleInode[][]; blobs: Uint8Array[]; verity: VerityEntry[]; hexes: string[] } {
  const hello = Buffer.from('hello, puzzlefs\n');
  const bigText = Buffer.from('abcdefghij'.repeat(30000));
  const z = encodeSeekable(bigText);
  const hx = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');
  const layers = [[
    inode(1, 'dir', { entries: [{ ino: 2, name: name('hello') }, { ino: 3, name: name('big') }, { ino: 4, name: name('sub') }] }),
    inode(2, 'file', { chunks: [{ blob: { digest: dig(hx(hello)), offset: 0, compressed: false }, len: hello.length }] }),
    inode(3, 'file', { chunks: [{ blob: { digest: dig(hx(z)), offset: 0, compressed: true }, len: bigText.length }] }),
    inode(4, 'dir', { entries: [{ ino: 5, name: name('inner') }] }),
    inode(5, 'file', { chunks: [{ blob: { digest: dig(hx(hello)), offset: 7, compressed: false }, len: 9 }] }),
  ]];
  const verity = [hello, z].map((b) => ({ digest: dig(hx(b)), verity: fsverityDigest(b) }));
  verity.sort((a, b) => Buffer.compare(a.digest, b.digest));
  return { layers, blobs: [hello, z], verity, hexes: [hx(hello), hx(z)] };
}

async function mountRefused(dir: string, extra: string[] = []): Promise<string> {
  const r = await runChild(process.execPath, [CLI, 'puzzlefs', 'mount', `${dir}:${TAG}`, mnt, ...extra], 30_000);
  assert.is(findMount(mnt)?.mountPoint === mnt, false, 'nothing left mounted');
  assert.is(r.status, 1, `exit status (stderr: ${r.stderr})`);
  const lines = r.stderr.trim().split('\n');
  assert.is(lines.length, 1, r.stderr);
  return lines[0]!;
}

test.before(async () => {
  await zstdReady;
});

test('a good hand-made image mounts and reads (the baseline of the cases below), also with --verity', async () => {
  const g = goodParts();
  const dir = writeImage(encodeRootfs(g.layers, g.verity), g.blobs);
  for (const verity of [false, true]) {
    await withPuzzleMount({ dir, tag: TAG, verity }, async ({ mnt: m, logs }) => {
      const r = await runChild('sh', ['-c', `cat ${m}/hello ${m}/sub/inner; wc -c < ${m}/big`]);
      assert.is(r.stdout, 'hello, puzzlefs\npuzzlefs\n300000\n', r.stderr);
      assert.equal(logs.filter((l) => /puzzlefs/.test(l)), []);
    });
  }
});

test('unservable images are refused at mount with one line', async () => {
  const g = goodParts();
  const good = encodeRootfs(g.layers, g.verity);
  const cases: [string, string, RegExp, string[]?][] = [];
  const add = (what: string, dir: string, re: RegExp, extra?: string[]) => cases.push([what, dir, re, extra]);
  add('truncated rootfs', writeImage(good.subarray(0, good.length - 24), g.blobs), /truncated/);
  const far = Buffer.from(good);
  far.writeUInt32LE((100000 << 2) >>> 0, 8);
  add('root pointer out of range', writeImage(far, g.blobs), /outside its segment/);
  const loop = goodParts().layers;
  loop[0]![3]!.entries.push({ ino: 4, name: name('again') });
  add('directory listing itself', writeImage(encodeRootfs(loop, g.verity), g.blobs), /loop/);
  const loop2 = goodParts().layers;
  loop2[0]!.push(inode(6, 'dir', { entries: [{ ino: 4, name: name('up') }] }));
  loop2[0]![3]!.entries.push({ ino: 6, name: name('down') });
  add('two directories listing each other', writeImage(encodeRootfs(loop2, g.verity), g.blobs), /reachable twice/);
  const unsorted = goodParts().layers;
  unsorted[0]!.reverse();
  add('unsorted inodes', writeImage(encodeRootfs(unsorted, g.verity), g.blobs), /not sorted/);
  const dangling = goodParts().layers;
  dangling[0]![0]!.entries.push({ ino: 99, name: name('ghost') });
  add('entry to a missing inode', writeImage(encodeRootfs(dangling, g.verity), g.blobs), /no layer holds it/);
  const v = Buffer.from(good);
  const tampered = writeImage(good, g.blobs);
  const rfHex = JSON.parse(fs.readFileSync(path.join(tampered, 'index.json'), 'utf8')).manifests[0].digest.slice(7);
  const manifest = JSON.parse(fs.readFileSync(path.join(tampered, 'blobs/sha256', rfHex), 'utf8'));
  const rootfsPath = path.join(tampered, 'blobs/sha256', manifest.layers[0].digest.slice(7));
  v[v.length - 1] = v[v.length - 1]! ^ 1;
  fs.writeFileSync(rootfsPath, v);
  add('rootfs bytes do not match the digest', tampered, /does not match its digest/);
  add('descriptor size disagrees', writeImage(good, g.blobs, (m) => (m.rootfsDesc.size += 1)), /descriptor says/);
  add('no rootfs layer', writeImage(good, g.blobs, (m) => (m.manifest.layers[0].mediaType = 'application/x-other')), /no application\/vnd\.puzzlefs\.image\.rootfs\.v1 layer/);
  const noManifest = writeImage(good, g.blobs);
  fs.rmSync(path.join(noManifest, 'blobs/sha256', JSON.parse(fs.readFileSync(path.join(noManifest, 'index.json'), 'utf8')).manifests[0].digest.slice(7)));
  add('missing manifest blob', noManifest, /ENOENT/);
  add('wrong --digest', writeImage(good, g.blobs), /manifest fs-verity digest/, ['--digest', '0'.repeat(64)]);
  const wrongVersion = Buffer.from(good);
  wrongVersion.writeUInt32LE(7, 8 + 8); // Rootfs data word 0 (manifestVersion), right after the root pointer
  add('wrong manifest version', writeImage(wrongVersion, g.blobs), /manifest version 7/);
  add('not a layout', base, /not an OCI layout/);
  for (const [what, dir, re, extra] of cases) {
    const line = await mountRefused(dir, extra);
    assert.match(line, re, `${what}: ${line}`);
    assert.match(line, /^tsfuse: /, what);
  }
});

test('damaged file data: EIO for that file with a logged reason, the rest still reads', async () => {
  const g = goodParts();
  const badTable = Buffer.from(g.blobs[1]!);
  badTable[badTable.length - 5] = 0x7c; // reserved descriptor bits
  const badHex = createHash('sha256').update(badTable).digest('hex');
  const layers = goodParts().layers;
  layers[0]![0]!.entries.push({ ino: 6, name: name('bad-table') }, { ino: 7, name: name('past-end') });
  layers[0]!.push(
    inode(6, 'file', { chunks: [{ blob: { digest: dig(badHex), offset: 0, compressed: true }, len: 10 }] }),
    inode(7, 'file', { chunks: [{ blob: { digest: dig(g.hexes[0]!), offset: 10, compressed: false }, len: 100 }] }),
  );
  const dir = writeImage(encodeRootfs(layers, g.verity), [...g.blobs, badTable]);
  // the big file's blob goes missing, the hello blob is corrupted in place
  fs.rmSync(path.join(dir, 'blobs/sha256', g.hexes[1]!));
  const wrongVerity = writeImage(encodeRootfs(goodParts().layers, g.verity.map((v) => ({ digest: v.digest, verity: Buffer.alloc(32, 7) }))), g.blobs);
  await withPuzzleMount({ dir, tag: TAG }, async ({ mnt: m, logs }) => {
    for (const [file, reason] of [['big', /ENOENT/], ['bad-table', /reserved descriptor bits/], ['past-end', /past the end of blob/]] as const) {
      const r = await runChild('cat', [path.join(m, file)]);
      assert.is(r.status, 1, file);
      assert.match(r.stderr, /Input\/output error/, file);
      assert.ok(logs.some((l) => reason.test(l)), `${file}: log has ${reason} (${logs.join(' | ')})`);
    }
    const ok = await runChild('cat', [path.join(m, 'hello'), path.join(m, 'sub', 'inner')]);
    assert.is(ok.stdout, 'hello, puzzlefs\npuzzlefs\n');
    fs.writeFileSync(path.join(dir, 'blobs/sha256', g.hexes[0]!), 'not hello at all');
    // cached content keeps serving; a fresh worker cache (other file, same blob) sees the damage through a new mount below
  });
  await withPuzzleMount({ dir, tag: TAG, workers: 1 }, async ({ mnt: m, logs }) => {
    const r = await runChild('cat', [path.join(m, 'hello')]);
    assert.match(r.stderr, /Input\/output error/);
    assert.ok(logs.some((l) => /does not match its digest/.test(l)), logs.join(' | '));
    assert.is((await runChild('ls', [m])).status, 0, 'the session goes on');
  });
  await withPuzzleMount({ dir: wrongVerity, tag: TAG, verity: true }, async ({ mnt: m, logs }) => {
    const r = await runChild('cat', [path.join(m, 'hello')]);
    assert.match(r.stderr, /Input\/output error/);
    assert.ok(logs.some((l) => /fs-verity check/.test(l)), logs.join(' | '));
  });
});

test.after(() => {
  fs.rmSync(base, { recursive: true, force: true });
  fs.rmSync(mnt, { recursive: true, force: true });
});

test.run();
