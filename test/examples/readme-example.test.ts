// The README's "a filesystem in a dozen lines", verbatim apart from the mountpoint and the import path:
// if this stops compiling or working, the README is wrong.

import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdtempSync, rmdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Session, S_IFDIR, S_IFREG, Errno, type Filesystem } from '../../src/index.js';
import { inChild } from '../helpers/client.js';
import { abortConnection } from '../../src/kernel/fusectl.js';

test('the README example mounts and serves hello.txt', async () => {
  const mountpoint = mkdtempSync(join(tmpdir(), 'tsfuse-readme-'));
  // ---- README code ----
  const hello = Buffer.from('Hello, world!\n');
  const now = Math.floor(Date.now() / 1000);
  const attr = (ino: number) => ino === 1
    ? { ino, mode: S_IFDIR | 0o755, nlink: 2, uid: 0, gid: 0, size: 0, atime: now, mtime: now, ctime: now }
    : { ino, mode: S_IFREG | 0o444, nlink: 1, uid: 0, gid: 0, size: hello.length, atime: now, mtime: now, ctime: now };
  const fs: Filesystem = {
    lookup: (_ctx, parent, name) => { if (parent === 1 && name === 'hello.txt') return { ino: 2, attr: attr(2) }; throw new Errno('ENOENT'); },
    getattr: (_ctx, ino) => attr(ino),
    readdir: (_ctx, _ino, _fh, off, out) => { if (off === 0) out.add(2, 'hello.txt', S_IFREG, 1); },
    read: (_ctx, _ino, _fh, off, size) => hello.subarray(off, off + size),
  };
  const session = await Session.mount(fs, { mountpoint });
  // ---- end of README code ----
  const watchdog = setTimeout(() => abortConnection(mountpoint), 30_000);
  try {
    const r = await inChild<{ names: string[]; text: string; missing: string }>(mountpoint, `
      let missing = '';
      try { fs.statSync(path.join(mnt, 'nope')); } catch (e) { missing = e.code; }
      return { names: fs.readdirSync(mnt), text: fs.readFileSync(path.join(mnt, 'hello.txt'), 'utf8'), missing };
    `);
    assert.equal(r, { names: ['hello.txt'], text: 'Hello, world!\n', missing: 'ENOENT' });
  } finally {
    clearTimeout(watchdog);
    await session.unmount();
    rmdirSync(mountpoint);
  }
});

test.run();
