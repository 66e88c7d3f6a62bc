// Real mounts on this kernel: mount(2) and fusermount3, INIT answered by hand in a worker, the mountpoint
// checked from a separate process, fusectl (connection id, waiting, abort), cloned fds, unmount ending the
// server's blocked read with ENODEV. Every mount runs under withMount's watchdog.

import { spawn } from 'node:child_process';
import { chmodSync, chownSync, closeSync, existsSync, readSync, statSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { cloneFuseDevice } from '../../src/kernel/device.js';
import { abortConnection, connectionIdFor, ensureFusectl, waitingRequests } from '../../src/kernel/fusectl.js';
import { openLibc } from '../../src/kernel/libc.js';
import { findMount, isFuseType } from '../../src/kernel/mountinfo.js';
import { mountFuse, unmountFuse } from '../../src/kernel/mount.js';
import { findFusermount } from '../../src/kernel/fusermount.js';
import { TinyServer, isFuseMounted, statInBackground, statInChild, tempMountpoint, withMount } from './fixtures/harness.js';

openLibc(); // main thread, before any worker
const isRoot = process.getuid?.() === 0;
const FUSE_GETATTR = 3;
const FUSE_INIT = 26;

const rootTest = isRoot ? test : test.skip;

rootTest('mount(2), INIT by hand, stat from another process, fusectl, unmount -> ENODEV', async () => {
  const mp = tempMountpoint('mnt');
  await withMount(mp, 15_000, async ({ fds, servers }) => {
    const t0 = process.hrtime.bigint();
    const m = mountFuse({ mountpoint: mp, subtype: 'tsfusetest', options: ['default_permissions'] });
    const mountUs = Number(process.hrtime.bigint() - t0) / 1000;
    fds.push(m.fd);
    assert.is(m.method, 'mount');
    const info = findMount(mp, isFuseType);
    assert.ok(info, 'listed in mountinfo');
    assert.is(info!.fstype, 'fuse.tsfusetest');
    assert.is(info!.source, 'tsfuse');
    assert.match(info!.options, /nosuid/);
    assert.match(info!.options, /nodev/);
    assert.match(info!.superOptions, /default_permissions/);

    const server = new TinyServer(m.fd);
    servers.push(server);
    const init = await server.waitInit();
    assert.is(init.minor! >= 36, true, `kernel minor ${init.minor}`);

    const st = statInChild(mp);
    assert.is(st.timedOut, false, 'stat must not hang');
    assert.is(st.status, 0, st.stderr);
    assert.is(st.stdout, 'directory 755');
    // the worker's messages arrive once this thread is back in its event loop
    await server.waitFor((x) => x.type === 'req' && x.opcode === FUSE_GETATTR, 5000, 'GETATTR at our server');

    ensureFusectl();
    const id = connectionIdFor(mp);
    assert.type(id, 'number');
    assert.is(id, info!.major * 2 ** 20 + info!.minor);
    assert.ok(existsSync(`/sys/fs/fuse/connections/${id}/abort`));
    assert.is(waitingRequests(id!), 0);
    console.log(`    mountFuse (mount(2)) took ${mountUs.toFixed(0)} µs; connection ${id}`);

    unmountFuse(mp);
    assert.is(isFuseMounted(mp), false);
    const end = await server.waitEnd();
    assert.is(end.code, 'ENODEV');
    assert.is(connectionIdFor(mp), undefined);
  });
});

rootTest('a clone made after INIT serves the requests', async () => {
  const mp = tempMountpoint('clone');
  await withMount(mp, 15_000, async ({ fds, servers }) => {
    const m = mountFuse({ mountpoint: mp });
    fds.push(m.fd);
    // this server answers INIT on the session fd, then stops reading it: later requests can only be served
    // through the clone
    const first = new TinyServer(m.fd, { stopAfterInit: true });
    servers.push(first);
    await first.waitInit();
    await first.waitFor((x) => x.type === 'exit', 5000, 'the INIT-only worker to exit');

    const t0 = process.hrtime.bigint();
    const clone = cloneFuseDevice(m.fd);
    const cloneUs = Number(process.hrtime.bigint() - t0) / 1000;
    fds.push(clone);
    assert.ok(clone !== m.fd);
    const second = new TinyServer(clone);
    servers.push(second);

    const st = statInChild(mp);
    assert.is(st.timedOut, false, 'stat must not hang');
    assert.is(st.status, 0, st.stderr);
    assert.is(st.stdout, 'directory 755');
    await second.waitFor((x) => x.type === 'req' && x.opcode === FUSE_GETATTR, 5000, 'GETATTR on the clone');
    assert.not.ok(second.opcodes().includes(FUSE_INIT));
    console.log(`    cloneFuseDevice took ${cloneUs.toFixed(0)} µs`);

    unmountFuse(mp);
    const end = await second.waitEnd();
    assert.is(end.code, 'ENODEV');
  });
});

rootTest('abortConnection ends a mount whose server never answers', async () => {
  const mp = tempMountpoint('abort');
  await withMount(mp, 20_000, async ({ fds }) => {
    const m = mountFuse({ mountpoint: mp });
    fds.push(m.fd);
    const id = connectionIdFor(mp);
    assert.type(id, 'number');
    // nobody reads the fd: INIT stays pending and a stat blocks in the kernel
    const blocked = statInBackground(mp);
    let waiting = 0;
    for (let i = 0; i < 200 && waiting === 0; i++) {
      await new Promise((r) => setTimeout(r, 10));
      waiting = waitingRequests(id!);
    }
    assert.ok(waiting >= 1, `waiting requests: ${waiting}`);

    const t0 = process.hrtime.bigint();
    assert.is(abortConnection(mp), true);
    const abortUs = Number(process.hrtime.bigint() - t0) / 1000;
    const r = await blocked;
    assert.ok(r.code !== 0, 'the blocked stat failed');
    assert.match(r.stderr, /Transport endpoint is not connected|Software caused connection abort/);

    const again = statInChild(mp);
    assert.is(again.timedOut, false, 'stat after abort must not hang');
    assert.ok(again.status !== 0);
    assert.match(again.stderr, /Transport endpoint is not connected/);
    // the server side sees the abort too, without blocking
    assert.throws(() => readSync(m.fd, Buffer.alloc(8192 + 4096), 0, 8192 + 4096, null), /ECONNABORTED|ENODEV/);
    console.log(`    abortConnection took ${abortUs.toFixed(0)} µs`);

    unmountFuse(mp);
    assert.is(isFuseMounted(mp), false);
    assert.is(abortConnection(mp), false, 'nothing left to abort');
  });
});

const fusermount = findFusermount();
(fusermount ? test : test.skip)('fusermount3 path: fd over SCM_RIGHTS, INIT, stat, fusermount3 -u', async () => {
  const mp = tempMountpoint('fusermount');
  await withMount(mp, 20_000, async ({ fds, servers }) => {
    const t0 = process.hrtime.bigint();
    const m = mountFuse({ mountpoint: mp, method: 'fusermount3', fsname: 'tsfuse-fm', subtype: 'fm', options: ['default_permissions'] });
    const mountMs = Number(process.hrtime.bigint() - t0) / 1e6;
    fds.push(m.fd);
    assert.is(m.method, 'fusermount3');
    assert.ok(m.fd > 2);
    const info = findMount(mp, isFuseType);
    assert.ok(info);
    assert.is(info!.fstype, 'fuse.fm');
    assert.is(info!.source, 'tsfuse-fm');

    const server = new TinyServer(m.fd);
    servers.push(server);
    await server.waitInit();
    const st = statInChild(mp);
    assert.is(st.timedOut, false);
    assert.is(st.status, 0, st.stderr);
    assert.is(st.stdout, 'directory 755');
    console.log(`    mountFuse (fusermount3) took ${mountMs.toFixed(1)} ms`);

    unmountFuse(mp, { method: 'fusermount3' });
    assert.is(isFuseMounted(mp), false);
    const end = await server.waitEnd();
    assert.is(end.code, 'ENODEV');
  });
});

(fusermount ? test : test.skip)('auto_unmount: fusermount3 unmounts once the server has gone', async () => {
  const mp = tempMountpoint('auto');
  await withMount(mp, 20_000, async ({ servers }) => {
    const m = mountFuse({ mountpoint: mp, options: ['auto_unmount'] });
    assert.is(m.method, 'fusermount3');
    assert.type(m.commFd, 'number');
    // answer INIT, then stop reading, so closing the fd releases the connection at once
    const server = new TinyServer(m.fd, { stopAfterInit: true });
    servers.push(server);
    await server.waitInit();
    await server.waitFor((x) => x.type === 'exit', 5000, 'the INIT-only worker to exit');
    assert.ok(isFuseMounted(mp));
    // what a crashing server does: both fds close. fusermount3 sees the socket close, finds the mount dead
    // (ENOTCONN) and unmounts it. (It leaves a mount alone whose server still answers.)
    closeSync(m.fd);
    closeSync(m.commFd!);
    for (let i = 0; i < 300 && isFuseMounted(mp); i++) await new Promise((r) => setTimeout(r, 10));
    assert.is(isFuseMounted(mp), false, 'auto_unmount removed the mount');
  });
});

(fusermount ? test : test.skip)('fusermount3 failure is reported with its message', () => {
  assert.throws(
    () => mountFuse({ mountpoint: '/nonexistent/tsfuse-mnt', method: 'fusermount3' }),
    (e: Error) => /fusermount3 failed/.test(e.message) && /nonexistent|No such file/.test(e.message),
  );
});

// fusermount3 opens /dev/fuse as the calling user: this needs the usual 0666 /dev/fuse. Some machines (this
// one) have 0600, so the test opens it up for its own duration and restores the mode afterwards.
(fusermount && isRoot && existsSync('/usr/bin/setpriv') ? test : test.skip)('as an unprivileged user, mountFuse and unmountFuse go through fusermount3', async () => {
  const devMode = statSync('/dev/fuse').mode & 0o7777;
  chmodSync('/dev/fuse', 0o666);
  try {
    await unprivilegedMount();
  } finally {
    chmodSync('/dev/fuse', devMode);
  }
});

async function unprivilegedMount(): Promise<void> {
  const mp = tempMountpoint('nobody');
  chownSync(mp, 65534, 65534);
  await withMount(mp, 30_000, async () => {
    const script = fileURLToPath(new URL('./fixtures/unprivileged.js', import.meta.url));
    const out = await new Promise<string>((resolve) => {
      const child = spawn('setpriv', ['--reuid=65534', '--regid=65534', '--clear-groups', process.execPath, script, mp], {
        stdio: ['ignore', 'pipe', 'inherit'],
        cwd: '/',
      });
      let text = '';
      child.stdout.on('data', (d) => (text += d));
      child.on('close', () => resolve(text));
    });
    const r = JSON.parse(out.trim().split('\n').pop() || '{}') as Record<string, unknown>;
    assert.equal(r, { uid: 65534, method: 'fusermount3', stat: 'directory', end: 'ENODEV' });
    assert.is(isFuseMounted(mp), false);
  });
}

rootTest('mount(2) errors name the target and unknown options are refused before mounting', () => {
  assert.throws(() => mountFuse({ mountpoint: '/nonexistent/tsfuse-mnt' }), (e: Error & { code?: string }) => e.code === 'ENOENT' && /nonexistent/.test(e.message));
  assert.throws(() => mountFuse({ mountpoint: '/tmp', options: ['frobnicate'] }), /unknown mount option "frobnicate"/);
  assert.throws(() => unmountFuse('/nonexistent/tsfuse-mnt'), (e: Error & { code?: string }) => e.code === 'ENOENT');
});

test.run();
