// fuse-native's mount-time errors and options, with the Fuse class in this process (embedded: this thread
// answers, checks run in other processes): missing mountpoint, not a directory, mkdir, already mounted without
// force, force over a broken (aborted) mountpoint, unmount twice; Fuse.isConfigured/configure answer truthfully.

import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createRequire } from 'node:module';
import { inChild } from '../helpers/client.js';
import { abortConnection, ensureFusectl } from '../../src/kernel/fusectl.js';
import { forceGone, isMounted } from './harness.js';

const Fuse = createRequire(import.meta.url)('../../src/fuse-native/fuse.cjs');

const ops = {
  getattr(p: string, cb: (...a: unknown[]) => void) {
    if (p === '/') return process.nextTick(cb, 0, { mode: 0o40755, size: 4096, mtime: new Date(), atime: new Date(), ctime: new Date() });
    if (p === '/x') return process.nextTick(cb, 0, { mode: 0o100644, size: 1, mtime: 0, atime: 0, ctime: 0 });
    process.nextTick(cb, Fuse.ENOENT);
  },
  readdir(_p: string, cb: (...a: unknown[]) => void) {
    cb(0, ['x']);
  },
};

const mountP = (f: { mount(cb: (e: Error | null) => void): void }) => new Promise<Error | null>((resolve) => f.mount(resolve));
const unmountP = (f: { unmount(cb: (e: Error | null) => void): void }) => new Promise<Error | null>((resolve) => f.unmount(resolve));

async function withDir(fn: (dir: string) => Promise<void>): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'tsfuse-fnm-'));
  const watchdog = setTimeout(() => forceGone(join(dir, 'mnt')), 30_000);
  watchdog.unref();
  try {
    await fn(dir);
  } finally {
    clearTimeout(watchdog);
    forceGone(join(dir, 'mnt'));
    rmSync(dir, { recursive: true, force: true });
  }
}

test('missing mountpoint, not a directory, mkdir', async () => {
  await withDir(async (dir) => {
    const mnt = join(dir, 'mnt');
    assert.is((await mountP(new Fuse(mnt, ops)))?.message, 'Mountpoint does not exist');
    writeFileSync(join(dir, 'file'), '');
    assert.is((await mountP(new Fuse(join(dir, 'file'), ops)))?.message, 'Mountpoint is not a directory');
    const f = new Fuse(mnt, ops, { mkdir: true });
    assert.is(await mountP(f), null);
    try {
      assert.equal(await inChild(mnt, `return fs.readdirSync(mnt)`), ['x']);
    } finally {
      assert.is(await unmountP(f), null);
    }
    assert.is(await unmountP(f), null, 'unmounting twice is fine');
    assert.not.ok(isMounted(mnt));
  });
});

test('already mounted without force: Mountpoint in use; force over a broken mount succeeds', async () => {
  await withDir(async (dir) => {
    const mnt = join(dir, 'mnt');
    mkdirSync(mnt);
    const first = new Fuse(mnt, ops);
    assert.is(await mountP(first), null);
    assert.is((await mountP(new Fuse(mnt, ops)))?.message, 'Mountpoint in use');
    assert.is((await mountP(new Fuse(mnt, ops, { force: true })))?.message, 'Mountpoint in use', 'force does not unmount a live mount');
    // break it: the server is gone, the mount answers ENOTCONN
    ensureFusectl();
    assert.ok(abortConnection(mnt));
    assert.is(await inChild(mnt, `try { fs.statSync(path.join(mnt, 'test')); return 'ok'; } catch (e) { return e.code; }`), 'ENOTCONN');
    // without force: refused (ENOTCONN, or 'Mountpoint in use' while the root's attributes are still cached)
    assert.match(String((await mountP(new Fuse(mnt, ops)))?.message), /ENOTCONN|not connected|Mountpoint in use/);
    const second = new Fuse(mnt, ops, { force: true });
    assert.is(await mountP(second), null);
    try {
      assert.equal(await inChild(mnt, `return fs.readdirSync(mnt)`), ['x']);
    } finally {
      await unmountP(second);
      await unmountP(first);
    }
    assert.not.ok(isMounted(mnt));
  });
});

test('isConfigured and configure answer from /dev/fuse; errno()', async () => {
  const configured = await new Promise((resolve) => Fuse.isConfigured((_e: unknown, ok: boolean) => resolve(ok)));
  assert.is(configured, true);
  assert.is(await new Promise((resolve) => Fuse.configure(resolve)), null);
  const f = new Fuse('/nonexistent', {});
  assert.is(f.errno('enoent'), -2);
  assert.is(f.errno('nonsense'), -1);
  assert.is(Fuse.EMEDIUMTYPE, -124);
  assert.is(Fuse.EDEADLOCK, -35);
});

test.run();
