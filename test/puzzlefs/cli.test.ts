// The `tsfuse puzzlefs` commands as a user runs them: bad arguments give one line and exit 2; build (with
// --compression none), info, and a background mount (the command returns once the mount is ready, with
// --workers and --verity --digest) that `tsfuse umount` ends. Needs root.

import * as fs from 'node:fs';
import * as path from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { findMount } from '../../src/kernel/mountinfo.js';
import { CLI, runChild, tempDir } from './helpers.js';
import { assertCliMountOverUring, uringMountArgs } from '../helpers/uring.js';

const work = tempDir('tsfuse-pzcli-');
const src = path.join(work, 'src');
const oci = path.join(work, 'oci');
const mnt = path.join(work, 'mnt');

const tsfuse = (...args: string[]) => runChild(process.execPath, [CLI, ...args], 60_000);

test.before(() => {
  fs.mkdirSync(path.join(src, 'dir'), { recursive: true });
  fs.mkdirSync(mnt);
  fs.writeFileSync(path.join(src, 'dir', 'file'), 'cli test\n'.repeat(10000));
  fs.symlinkSync('dir/file', path.join(src, 'link'));
});

test('bad arguments: one line, exit 2', async () => {
  const cases: [string[], RegExp][] = [
    [['puzzlefs'], /missing puzzlefs subcommand/],
    [['puzzlefs', 'frobnicate'], /unknown puzzlefs subcommand/],
    [['puzzlefs', 'build', src], /missing argument/],
    [['puzzlefs', 'build', src, oci], /needs a tag/],
    [['puzzlefs', 'build', src, `${oci}:bad/tag`], /not a valid tag/],
    [['puzzlefs', 'build', src, `${oci}:v1`, '--compression', 'lz4'], /--compression must be zstd or none/],
    [['puzzlefs', 'build', path.join(work, 'nope'), `${oci}:v1`], /does not exist/],
    [['puzzlefs', 'mount', `${oci}:v1`, mnt, '--digest', 'xyz'], /--digest needs/],
    [['puzzlefs', 'mount', `${oci}:v1`, mnt, '--workers', '0'], /--workers must be between/],
    [['puzzlefs', 'mount', `${oci}:v1`, path.join(work, 'nope')], /does not exist/],
    [['puzzlefs', 'dump', `${oci}:v1`, 'extra'], /unexpected argument/],
  ];
  for (const [args, re] of cases) {
    const r = await tsfuse(...args);
    assert.is(r.status, 2, `${args.join(' ')}: ${r.stderr}`);
    assert.is(r.stderr.trim().split('\n').length, 1, r.stderr);
    assert.match(r.stderr, re, args.join(' '));
  }
});

test('build without compression, info, background mount with --verity --digest, umount', async () => {
  const b = await tsfuse('puzzlefs', 'build', src, `${oci}:v1`, '--compression', 'none');
  assert.is(b.status, 0, b.stderr);
  const verity = /^verity\s+([0-9a-f]{64})$/m.exec(b.stdout)?.[1];
  assert.ok(verity, b.stdout);
  const manifest = JSON.parse(fs.readFileSync(path.join(oci, 'index.json'), 'utf8')).manifests[0];
  const layers = JSON.parse(fs.readFileSync(path.join(oci, 'blobs/sha256', manifest.digest.slice(7)), 'utf8')).layers as { mediaType: string }[];
  assert.ok(layers.length >= 2 && layers.every((l) => !l.mediaType.endsWith('+zstd')), 'no compressed chunks');
  // --base from another layout: the base's chunks are copied over, the new image stands alone
  fs.writeFileSync(path.join(src, 'added'), 'added in v2\n');
  const oci2 = path.join(work, 'oci2');
  const b2 = await tsfuse('puzzlefs', 'build', src, `${oci2}:v2`, '--base', `${oci}:v1`);
  assert.is(b2.status, 0, b2.stderr);
  const d2 = await tsfuse('puzzlefs', 'dump', oci2);
  assert.is(d2.status, 0, d2.stderr);
  assert.match(d2.stdout, /^\/added reg .* size=12 sha256=/m);
  assert.match(d2.stdout, /^\/dir\/file reg mode=0644 uid=0 gid=0 nlink=1 size=90000 sha256=/m);
  fs.rmSync(path.join(src, 'added'));
  const info = await tsfuse('puzzlefs', 'info', oci);
  assert.is(info.status, 0, info.stderr);
  assert.match(info.stdout, /tags\s+v1/);
  assert.match(info.stdout, /reachable\s+4 inodes/);
  const m = await tsfuse('puzzlefs', 'mount', oci, mnt, '--workers', '2', '--verity', '--digest', verity!, ...uringMountArgs());
  assert.is(m.status, 0, m.stderr);
  try {
    await assertCliMountOverUring(mnt);
    assert.is(findMount(mnt)?.fstype, 'fuse.puzzlefs');
    const cat = await runChild('cat', [path.join(mnt, 'link')]);
    assert.is(cat.stdout, 'cli test\n'.repeat(10000));
  } finally {
    const u = await tsfuse('umount', mnt);
    assert.is(u.status, 0, u.stderr);
  }
  for (let i = 0; i < 50 && findMount(mnt)?.mountPoint === mnt; i++) await new Promise((r) => setTimeout(r, 100));
  assert.is(findMount(mnt)?.mountPoint === mnt, false, 'unmounted');
});

test.after(() => {
  fs.rmSync(work, { recursive: true, force: true });
});

test.run();
