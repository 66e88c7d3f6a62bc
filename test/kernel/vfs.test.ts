// The generic mount(2)/umount2(2) bindings: NULL and string arguments, flags, data, and the erofs and overlay
// mounts the conformance tests rely on. Everything is checked through /proc/self/mountinfo.

import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { Errno } from '../../src/protocol/errno.js';
import { openLibc } from '../../src/kernel/libc.js';
import { findMount } from '../../src/kernel/mountinfo.js';
import { MNT, MS, mount, umount2 } from '../../src/kernel/vfs.js';

openLibc();
const isRoot = process.getuid?.() === 0;
const rootTest = isRoot ? test : test.skip;

function scratch(): string {
  return mkdtempSync(join(tmpdir(), 'tsfuse-vfs-'));
}

rootTest('tmpfs with flags and data, then a bind mount with NULL fstype and data', () => {
  const dir = scratch();
  const a = join(dir, 'a');
  const b = join(dir, 'b');
  mkdirSync(a);
  mkdirSync(b);
  try {
    mount('tsfuse-tmp', a, 'tmpfs', MS.NOSUID | MS.NODEV | MS.NOEXEC, 'size=1m,mode=700');
    const m = findMount(a);
    assert.ok(m);
    assert.is(m!.fstype, 'tmpfs');
    assert.is(m!.source, 'tsfuse-tmp');
    assert.match(m!.options, /nosuid,nodev,noexec/);
    assert.match(m!.superOptions, /size=1024k/);
    writeFileSync(join(a, 'x'), 'hello');
    mount(a, b, null, MS.BIND, null);
    assert.is(readFileSync(join(b, 'x'), 'utf8'), 'hello');
    umount2(b);
    umount2(a, MNT.DETACH);
    assert.is(findMount(a), undefined);
  } finally {
    for (const p of [b, a]) if (findMount(p)) umount2(p, MNT.DETACH);
    rmSync(dir, { recursive: true, force: true });
  }
});

rootTest('errors are Errnos naming the call and the target', () => {
  assert.throws(
    () => mount('x', '/nonexistent/tsfuse', 'tmpfs', 0, null),
    (e: Errno) => e instanceof Errno && e.code === 'ENOENT' && /mount\("x", "\/nonexistent\/tsfuse", "tmpfs"\) failed/.test(e.message),
  );
  assert.throws(() => mount('x', '/tmp', 'no-such-fs-type', 0, null), (e: Errno) => e.code === 'ENODEV');
  assert.throws(() => umount2('/nonexistent/tsfuse'), (e: Errno) => e.code === 'ENOENT' && /umount2/.test(e.message));
});

(isRoot && existsSync('/usr/bin/mkfs.erofs') ? test : test.skip)('a file-backed erofs image, and an overlay on top of it', () => {
  const dir = scratch();
  try {
    const src = join(dir, 'src');
    mkdirSync(src);
    writeFileSync(join(src, 'hello.txt'), 'from erofs\n');
    const img = join(dir, 'img.erofs');
    const mk = spawnSync('mkfs.erofs', ['--quiet', img, src], { encoding: 'utf8' });
    assert.is(mk.status, 0, mk.stderr);
    const lower = join(dir, 'lower');
    mkdirSync(lower);
    mount(img, lower, 'erofs', MS.RDONLY, null);
    try {
      assert.is(findMount(lower)?.fstype, 'erofs');
      assert.is(readFileSync(join(lower, 'hello.txt'), 'utf8'), 'from erofs\n');
      const upper = join(dir, 'upper');
      const work = join(dir, 'work');
      const merged = join(dir, 'merged');
      for (const d of [upper, work, merged]) mkdirSync(d);
      mount('overlay', merged, 'overlay', 0, `lowerdir=${lower},upperdir=${upper},workdir=${work}`);
      try {
        assert.is(findMount(merged)?.fstype, 'overlay');
        writeFileSync(join(merged, 'new.txt'), 'upper');
        assert.is(readFileSync(join(merged, 'hello.txt'), 'utf8'), 'from erofs\n');
        assert.is(readFileSync(join(upper, 'new.txt'), 'utf8'), 'upper');
      } finally {
        umount2(merged, MNT.DETACH);
      }
    } finally {
      umount2(lower, MNT.DETACH);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test.run();
