// Passthrough backing ids on a real connection whose INIT reply accepted FUSE_PASSTHROUGH (flags2 bit 5) with
// max_stack_depth 1. The backing file lives in /var/tmp (the root disk, ext4 here): tmpfs is reported not to
// work as a backing filesystem.

import { closeSync, mkdtempSync, openSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { Errno } from '../../src/protocol/errno.js';
import { backingClose, backingOpen } from '../../src/kernel/backing.js';
import { openLibc } from '../../src/kernel/libc.js';
import { mountFuse, unmountFuse } from '../../src/kernel/mount.js';
import { TinyServer, tempMountpoint, withMount } from './fixtures/harness.js';

openLibc();
const isRoot = process.getuid?.() === 0;
const FUSE_PASSTHROUGH_FLAGS2 = 1 << 5;

(isRoot ? test : test.skip)('backingOpen returns ids >= 1 and backingClose drops them', async () => {
  const dir = mkdtempSync('/var/tmp/tsfuse-backing-');
  const file = join(dir, 'data');
  writeFileSync(file, 'backing file contents\n');
  const mp = tempMountpoint('backing');
  try {
    await withMount(mp, 15_000, async ({ fds, servers }) => {
      const m = mountFuse({ mountpoint: mp });
      fds.push(m.fd);
      const server = new TinyServer(m.fd, { passthrough: true });
      servers.push(server);
      const init = await server.waitInit();
      assert.ok((init.flags2! & FUSE_PASSTHROUGH_FLAGS2) !== 0, 'kernel offers FUSE_PASSTHROUGH');

      const f = openSync(file, 'r');
      let id1: number;
      let id2: number;
      const t0 = process.hrtime.bigint();
      try {
        id1 = backingOpen(m.fd, f);
        id2 = backingOpen(m.fd, f);
      } finally {
        closeSync(f); // the kernel holds its own reference
      }
      const openUs = Number(process.hrtime.bigint() - t0) / 2000;
      assert.ok(id1 >= 1, `id ${id1}`);
      assert.ok(id2 >= 1 && id2 !== id1, `second id ${id2}`);

      const t1 = process.hrtime.bigint();
      backingClose(m.fd, id1);
      const closeUs = Number(process.hrtime.bigint() - t1) / 1000;
      backingClose(m.fd, id2);
      // closed ids are gone
      assert.throws(() => backingClose(m.fd, id1), (e: Errno) => e instanceof Errno && e.code === 'ENOENT');
      assert.throws(() => backingOpen(m.fd, 999_999), (e: Errno) => e instanceof Errno && e.code === 'EBADF');
      console.log(`    backingOpen ~${openUs.toFixed(0)} µs, backingClose ${closeUs.toFixed(0)} µs (first calls)`);

      unmountFuse(mp);
      assert.is((await server.waitEnd()).code, 'ENODEV');
    });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

(isRoot ? test : test.skip)('without FUSE_PASSTHROUGH in the INIT reply, backingOpen says EPERM', async () => {
  const mp = tempMountpoint('nobacking');
  await withMount(mp, 15_000, async ({ fds, servers }) => {
    const m = mountFuse({ mountpoint: mp });
    fds.push(m.fd);
    const server = new TinyServer(m.fd);
    servers.push(server);
    await server.waitInit();
    const f = openSync('/etc/hostname', 'r');
    try {
      assert.throws(() => backingOpen(m.fd, f), (e: Errno) => e instanceof Errno && e.code === 'EPERM');
    } finally {
      closeSync(f);
    }
    unmountFuse(mp);
    await server.waitEnd();
  });
});

test.run();
