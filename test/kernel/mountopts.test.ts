// Pure pieces of mounting: sorting -o options into mount(2) flags and FUSE data, the data string, and parsing
// /proc/self/mountinfo (escapes, stacked mounts, the fusectl connection number).

import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { DEFAULT_MOUNT_FLAGS, parseMountOptions, splitOptions } from '../../src/kernel/mountopts.js';
import { fuseMountData } from '../../src/kernel/mount.js';
import { MS } from '../../src/kernel/vfs.js';
import { findMount, isFuseType, parseMountInfo, unescapeMountPath } from '../../src/kernel/mountinfo.js';
import { kernelDev } from '../../src/kernel/fusectl.js';

test('defaults: nosuid,nodev and no data', () => {
  const p = parseMountOptions([]);
  assert.is(p.flags, MS.NOSUID | MS.NODEV);
  assert.is(p.flags, DEFAULT_MOUNT_FLAGS);
  assert.equal(p.data, []);
  assert.equal(p.fusermount, ['nodev', 'nosuid']);
});

test('VFS options go to flags, FUSE options to data', () => {
  const p = parseMountOptions(['ro', 'allow_other,default_permissions', 'max_read=65536', 'noexec', 'noatime']);
  assert.is(p.flags, MS.NOSUID | MS.NODEV | MS.RDONLY | MS.NOEXEC | MS.NOATIME);
  assert.equal(p.data, ['allow_other', 'default_permissions', 'max_read=65536']);
  assert.is(fuseMountData(7, 0o40000, 0, 0, p.data), 'fd=7,rootmode=40000,user_id=0,group_id=0,allow_other,default_permissions,max_read=65536');
});

test('rw/suid/dev clear flags; the last word wins', () => {
  const p = parseMountOptions(['ro,rw,suid,dev']);
  assert.is(p.flags, 0);
  assert.equal(p.fusermount, ['ro', 'rw', 'suid', 'dev']);
});

test('fsname, subtype, user_id, group_id, auto_unmount', () => {
  const p = parseMountOptions(['fsname=my\\,fs', 'subtype=demo', 'user_id=1000', 'group_id=100', 'auto_unmount']);
  assert.is(p.fsname, 'my,fs');
  assert.is(p.subtype, 'demo');
  assert.is(p.userId, 1000);
  assert.is(p.groupId, 100);
  assert.ok(p.autoUnmount);
  assert.ok(p.fusermount.includes('auto_unmount'));
  assert.equal(p.data, []);
});

test('unknown and misplaced options throw naming the option', () => {
  assert.throws(() => parseMountOptions(['bogus']), /unknown mount option "bogus"/);
  assert.throws(() => parseMountOptions(['ro=1']), /unknown mount option "ro=1"/);
  assert.throws(() => parseMountOptions(['max_read=x']), /max_read= needs a non-negative integer/);
  assert.throws(() => parseMountOptions(['fd=3']), /"fd=3" is set by mountFuse/);
  assert.throws(() => parseMountOptions(['rootmode=40000']), /rootMode/);
  assert.throws(() => parseMountOptions(['blksize=4096']), /fuseblk/);
  assert.throws(() => parseMountOptions(['allow_root']), /unknown mount option "allow_root"/);
});

test('splitOptions honours backslash-escaped commas', () => {
  assert.equal(splitOptions(['a,b', 'c=d\\,e', ',,f']), ['a', 'b', 'c=d,e', 'f']);
});

const SAMPLE = [
  '22 1 0:21 / /proc rw,nosuid,nodev,noexec,relatime shared:12 - proc proc rw',
  '61 22 0:52 / /sys/fs/fuse/connections rw,relatime - fusectl none rw',
  '70 29 0:60 / /tmp/tsfuse\\040mnt-x rw,nosuid,nodev,relatime shared:40 - fuse.tsfuse tsfuse rw,user_id=0,group_id=0',
  '71 70 0:61 / /tmp/tsfuse\\040mnt-x rw,nosuid,nodev,relatime - fuse tsfuse2 rw,user_id=0,group_id=0',
  '72 29 259:3 /sub /mnt/caf\\303\\251\\134x rw - ext4 /dev/nvme0n1p3 rw',
].join('\n') + '\n';

test('mountinfo parsing: fields, octal escapes, UTF-8', () => {
  const m = parseMountInfo(SAMPLE);
  assert.is(m.length, 5);
  assert.is(m[1]!.fstype, 'fusectl');
  assert.is(m[2]!.mountPoint, '/tmp/tsfuse mnt-x');
  assert.is(m[2]!.major, 0);
  assert.is(m[2]!.minor, 60);
  assert.is(m[2]!.source, 'tsfuse');
  assert.is(m[4]!.mountPoint, '/mnt/café\\x');
  assert.is(m[4]!.root, '/sub');
  assert.is(unescapeMountPath('a\\011b\\012c'), 'a\tb\nc');
});

test('findMount picks the top of stacked mounts; connection id is MKDEV', () => {
  const mounts = parseMountInfo(SAMPLE);
  const m = findMount('/tmp/tsfuse mnt-x', isFuseType, mounts);
  assert.is(m?.mountId, 71);
  assert.is(findMount('/tmp/nothing', isFuseType, mounts), undefined);
  assert.is(kernelDev(0, 61), 61);
  assert.is(kernelDev(259, 3), (259 << 20) | 3);
  assert.ok(isFuseType('fuse') && isFuseType('fuse.x') && isFuseType('fuseblk') && !isFuseType('fusectl'));
});

test.run();
