// The command line: `tsfuse erofs mount IMAGE MNT` goes to the background and returns once the mount is
// ready, the mount serves the image, and `tsfuse umount MNT` ends it (mount gone, serving process exited);
// the same with `--basedir --overlay DIR` (overlayfs at DIR over the FUSE mount). Every test cleans up after
// itself even when the command misbehaves: lazy unmounts, fusectl abort, and SIGKILL of the serving process
// it started (found by its unique mountpoint in the command line). Needs root.

import * as fs from 'node:fs';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { buildComposefsImage, buildImage, run, withKernelMount } from './kit/index.js';
import { dumpTreeInChild, diffDumps } from '../helpers/tree-dump.js';
import { abortConnection } from '../../src/kernel/fusectl.js';
import { readMountInfo } from '../../src/kernel/mountinfo.js';
import { Timings, tempDir } from './conformance/mount.js';
import { tinyTree } from './conformance/trees.js';
import { assertCliMountOverUring, uringMountArgs } from '../helpers/uring.js';

const CLI = fileURLToPath(new URL('../../src/cli/main.js', import.meta.url));
const base = tempDir('tsfuse-cli-', '/var/tmp');
const timings = new Timings('cli timings');
let image: string;
let cfs: string;
let objects: string;
let source: string;

test.before(async () => {
  source = tinyTree(path.join(base, 'tree'), 50, 6);
  image = path.join(base, 'tree.erofs');
  await buildImage(source, image, 'default');
  cfs = path.join(base, 'cfs.erofs');
  objects = path.join(base, 'objects');
  await buildComposefsImage(source, cfs, objects, { inlineMax: 64 });
});

test.after(() => {
  timings.print();
  fs.rmSync(base, { recursive: true, force: true });
});

function mountsAt(dir: string): string[] {
  return readMountInfo().filter((m) => m.mountPoint === dir).map((m) => m.fstype);
}

/** pids of processes whose command line names `needle` (our unique mountpoint). */
async function serverPids(needle: string): Promise<number[]> {
  const r = await run('pgrep', ['-f', '--', needle], { check: false, timeoutMs: 5_000 });
  return r.stdout.toString().split('\n').filter(Boolean).map(Number).filter((p) => p !== process.pid);
}

async function waitFor(cond: () => Promise<boolean> | boolean, ms: number): Promise<boolean> {
  const end = Date.now() + ms;
  for (;;) {
    if (await cond()) return true;
    if (Date.now() > end) return false;
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** Leaves nothing behind: overlay and FUSE mounts detached, the connection aborted, our server killed. */
async function cleanup(mnt: string, overlay?: string): Promise<void> {
  for (const d of [overlay, mnt]) {
    if (!d) continue;
    while (mountsAt(d).length > 0) {
      if (mountsAt(d).some((t) => t.startsWith('fuse'))) abortConnection(d);
      const r = await run('umount', ['-l', d], { check: false, timeoutMs: 5_000 });
      if (r.status !== 0) break;
    }
  }
  if (!(await waitFor(async () => (await serverPids(mnt)).length === 0, 5_000))) {
    for (const pid of await serverPids(mnt)) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // gone
      }
    }
  }
}

test('erofs mount in the background: returns when ready, serves, `tsfuse umount` ends it', async () => {
  const mnt = tempDir('mnt-', base);
  try {
    const t0 = performance.now();
    const r = await run(process.execPath, [CLI, 'erofs', 'mount', image, mnt, ...uringMountArgs()], { timeoutMs: 30_000, check: false });
    timings.note(`erofs mount returned after ${(performance.now() - t0).toFixed(0)} ms`);
    assert.is(r.status, 0, r.stderr);
    await assertCliMountOverUring(mnt);
    // ready means mounted and answering, at once
    assert.equal(mountsAt(mnt), ['fuse.erofs']);
    const pids = await serverPids(mnt);
    assert.is(pids.length, 1, `one serving process: ${pids.join(' ')}`);
    const kernel = await withKernelMount(image, (d) => dumpTreeInChild(d, 30_000));
    const ours = await dumpTreeInChild(mnt, 30_000);
    const d = diffDumps(kernel, ours, 10, ['kernel', 'tsfuse erofs mount']);
    assert.ok(d === '', d);
    const u = await run(process.execPath, [CLI, 'umount', mnt], { timeoutMs: 10_000, check: false });
    assert.is(u.status, 0, u.stderr);
    assert.equal(mountsAt(mnt), []);
    assert.ok(await waitFor(async () => (await serverPids(mnt)).length === 0, 10_000), 'the serving process exited');
  } finally {
    await cleanup(mnt);
    fs.rmSync(mnt, { recursive: true, force: true });
  }
});

test('erofs mount: errors are reported by the launching command (bad image, missing basedir)', async () => {
  const mnt = tempDir('mnt-', base);
  try {
    const bad = path.join(base, 'not-an-image');
    fs.writeFileSync(bad, Buffer.alloc(8192));
    const r = await run(process.execPath, [CLI, 'erofs', 'mount', bad, mnt], { timeoutMs: 30_000, check: false });
    assert.is(r.status, 1);
    assert.match(r.stderr, /EROFS|superblock|magic/i);
    assert.equal(mountsAt(mnt), [], 'nothing left mounted');
    const u = await run(process.execPath, [CLI, 'erofs', 'mount', cfs, mnt, '--overlay', mnt], { timeoutMs: 30_000, check: false });
    assert.is(u.status, 2, 'usage error');
    assert.match(u.stderr, /--overlay needs --basedir/);
  } finally {
    await cleanup(mnt);
    fs.rmSync(mnt, { recursive: true, force: true });
  }
});

test('erofs mount --basedir --overlay DIR: content through DIR; `tsfuse umount MNT` ends it', async () => {
  const mnt = tempDir('mnt-', base);
  const ov = tempDir('ov-', base);
  try {
    const t0 = performance.now();
    const r = await run(process.execPath, [CLI, 'erofs', 'mount', cfs, mnt, '--basedir', objects, '--overlay', ov, ...uringMountArgs()], { timeoutMs: 30_000, check: false });
    timings.note(`erofs mount --overlay returned after ${(performance.now() - t0).toFixed(0)} ms`);
    assert.is(r.status, 0, r.stderr);
    await assertCliMountOverUring(mnt);
    assert.equal(mountsAt(mnt), ['fuse.erofs']);
    assert.equal(mountsAt(ov), ['overlay']);
    // content (and everything but the overlay.* xattr namespace) through DIR is the source tree
    const opts = { excludeXattrs: '^(trusted|user)\\.overlay\\.' };
    const want = await dumpTreeInChild(source, 30_000, opts);
    const got = await dumpTreeInChild(ov, 30_000, opts);
    const d = diffDumps(want, got, 10, ['source', 'overlay']);
    assert.ok(d === '', d);
    const u = await run(process.execPath, [CLI, 'umount', mnt], { timeoutMs: 10_000, check: false });
    assert.is(u.status, 0, u.stderr);
    const gone = await waitFor(async () => mountsAt(mnt).length === 0 && mountsAt(ov).length === 0 && (await serverPids(mnt)).length === 0, 10_000);
    const left = `mounts at MNT: [${mountsAt(mnt).join(' ')}], at DIR: [${mountsAt(ov).join(' ')}], serving processes: [${(await serverPids(mnt)).join(' ')}]`;
    assert.ok(gone, `after \`tsfuse umount MNT\`: ${left}`);
  } finally {
    await cleanup(mnt, ov);
    fs.rmSync(mnt, { recursive: true, force: true });
    fs.rmSync(ov, { recursive: true, force: true });
  }
});

test.run();
