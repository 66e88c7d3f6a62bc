// /dev/fuse without a mount: opening, the clone ioctl's refusal before a connection exists, and the ioctl
// numbers against the _IOR/_IOW formulas of include/uapi/asm-generic/ioctl.h and fuse_kernel.h.

import { closeSync, existsSync, openSync, readFileSync } from 'node:fs';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { Errno } from '../../src/protocol/errno.js';
import {
  FUSE_DEV_IOC_BACKING_CLOSE,
  FUSE_DEV_IOC_BACKING_OPEN,
  FUSE_DEV_IOC_CLONE,
  FUSE_DEV_IOC_SYNC_INIT,
  cloneFuseDevice,
  openFuseDevice,
} from '../../src/kernel/device.js';
import { backingClose, backingOpen } from '../../src/kernel/backing.js';
import { IOC, IOR, IOW } from '../../src/kernel/ioctl-numbers.js';
import { addressOf, cString, openLibc } from '../../src/kernel/libc.js';
import { FUSE_KERNEL_H } from '../helpers/fixtures.js';

openLibc();

/** The repository's reference/fuse_kernel.h. */
function findHeader(): string | undefined {
  return existsSync(FUSE_KERNEL_H) ? readFileSync(FUSE_KERNEL_H, 'utf8') : undefined;
}

test('ioctl numbers follow _IOR/_IOW and match the measured values', () => {
  // _IOC(dir, type, nr, size) = dir << 30 | size << 16 | type << 8 | nr; _IOR dir 2, _IOW dir 1
  assert.is(IOC(2, 229, 0, 4), 0x8004e500);
  assert.is(FUSE_DEV_IOC_CLONE, IOR(229, 0, 4));
  assert.is(FUSE_DEV_IOC_CLONE, 0x8004e500);
  assert.is(FUSE_DEV_IOC_BACKING_OPEN, IOW(229, 1, 16));
  assert.is(FUSE_DEV_IOC_BACKING_OPEN, 0x4010e501);
  assert.is(FUSE_DEV_IOC_BACKING_CLOSE, IOW(229, 2, 4));
  assert.is(FUSE_DEV_IOC_BACKING_CLOSE, 0x4004e502);
  assert.is(FUSE_DEV_IOC_SYNC_INIT, 0xe503);
  // the header still defines them this way (when the shared reference copy is around; CI may not have it)
  const h = findHeader();
  if (h === undefined) return;
  assert.match(h, /#define FUSE_DEV_IOC_MAGIC\s+229/);
  assert.match(h, /#define FUSE_DEV_IOC_CLONE\s+_IOR\(FUSE_DEV_IOC_MAGIC, 0, uint32_t\)/);
  assert.match(h, /#define FUSE_DEV_IOC_BACKING_CLOSE\s+_IOW\(FUSE_DEV_IOC_MAGIC, 2, uint32_t\)/);
});

test('openFuseDevice opens /dev/fuse read-write', () => {
  const fd = openFuseDevice();
  try {
    assert.ok(fd > 2);
  } finally {
    closeSync(fd);
  }
});

test('cloning an fd with no connection fails with a clear Errno and leaks no fd', () => {
  const session = openFuseDevice();
  try {
    const before = openSync('/dev/null', 'r');
    closeSync(before);
    let err: unknown;
    try {
      cloneFuseDevice(session);
    } catch (e) {
      err = e;
    }
    assert.instance(err, Errno);
    const e = err as Errno;
    assert.ok(e.code === 'EPERM' || e.code === 'EINVAL', `got ${e.code}`);
    assert.match(e.message, /FUSE_DEV_IOC_CLONE/);
    assert.match(e.message, /no FUSE connection|not an open \/dev\/fuse/);
    // the fd opened for the clone was closed again: the next open gets the same number
    const after = openSync('/dev/null', 'r');
    closeSync(after);
    assert.is(after, before);
  } finally {
    closeSync(session);
  }
});

test('cloning something that is not /dev/fuse says EINVAL', () => {
  const fd = openSync('/dev/null', 'r');
  try {
    assert.throws(() => cloneFuseDevice(fd), (e: Errno) => e.code === 'EINVAL');
  } finally {
    closeSync(fd);
  }
});

test('backing ioctls without a connection fail with EPERM', () => {
  const dev = openFuseDevice();
  const file = openSync('/etc/hostname', 'r');
  try {
    assert.throws(() => backingOpen(dev, file), (e: Errno) => e instanceof Errno && e.code === 'EPERM');
    assert.throws(() => backingClose(dev, 1), (e: Errno) => e instanceof Errno && e.code === 'EPERM');
  } finally {
    closeSync(file);
    closeSync(dev);
  }
});

test('ffi-rs passes a U8Array as the Buffer memory itself (addressOf is stable, subarrays offset)', () => {
  const buf = Buffer.alloc(256);
  const a = addressOf(buf);
  assert.is(addressOf(buf), a);
  assert.is(addressOf(buf.subarray(40)), a + 40n);
  // an output parameter written by C lands in the Buffer: getcwd fills it
  const f = openLibc();
  const T = f.DataType;
  f.load({ library: 'tsfuse_libc', funcName: 'getcwd', retType: T.BigInt, paramsType: [T.U8Array, T.U64], paramsValue: [buf, 256] });
  assert.is(buf.toString('utf8', 0, buf.indexOf(0)), process.cwd());
  assert.equal([...cString('ab')], [0x61, 0x62, 0]);
});

test.run();
