// Worker mode: every worker imports the compiled hello filesystem and builds its own copy through the
// factory. Checked with 1 and N workers: content, readdir, stat, and that writes fail the right way.

import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { fileURLToPath } from 'node:url';
import { withMount } from '../helpers/mount.js';
import { inChild } from '../helpers/client.js';
import { inPython } from '../helpers/python.js';

// .build/xx/test/server/this.js -> .build/xx/src/fs/hello.js
const HELLO = fileURLToPath(new URL('../../src/fs/hello.js', import.meta.url));
const MTIME = 1704067200;

for (const workers of [1, 2, 4]) {
  test(`worker mode, ${workers} worker(s): content, readdir, stat`, async () => {
    await withMount({ module: HELLO }, { workers, fsname: 'hello', subtype: 'hello', timeoutMs: 30_000 }, async ({ mnt, session }) => {
      assert.is(session.threads, workers);
      const r = await inChild<Record<string, unknown>>(mnt, `
        const st = fs.statSync(path.join(mnt, 'hello.txt'));
        const d = fs.statSync(path.join(mnt, 'dir'));
        const root = fs.statSync(mnt);
        // many reads in a row so that with several workers more than one of them serves
        const reads = [];
        for (let i = 0; i < 50; i++) reads.push(fs.readFileSync(path.join(mnt, 'dir', i % 2 ? 'a' : 'b'), 'utf8'));
        return {
          hello: fs.readFileSync(path.join(mnt, 'hello.txt'), 'utf8'),
          root: fs.readdirSync(mnt).sort(),
          dir: fs.readdirSync(path.join(mnt, 'dir')).sort(),
          types: fs.readdirSync(mnt, { withFileTypes: true }).map((e) => e.name + ':' + (e.isDirectory() ? 'd' : 'f')).sort(),
          stat: [st.mode.toString(8), st.size, st.nlink, st.uid, st.gid, Math.floor(st.mtimeMs / 1000)],
          dirStat: [d.mode.toString(8), d.nlink],
          rootStat: [root.mode.toString(8), root.nlink],
          reads: [...new Set(reads)].sort(),
          missing: (() => { try { fs.statSync(path.join(mnt, 'nope')); return 'found'; } catch (e) { return e.code; } })(),
        };
      `);
      assert.equal(r, {
        hello: 'Hello, world!\n',
        root: ['dir', 'hello.txt'],
        dir: ['a', 'b'],
        types: ['dir:d', 'hello.txt:f'],
        stat: ['100444', 14, 1, 0, 0, MTIME],
        dirStat: ['40555', 2],
        rootStat: ['40555', 3],
        reads: ['And this is b.\n', 'This is a.\n'],
        missing: 'ENOENT',
      });
    });
  });

  test(`worker mode, ${workers} worker(s): writes fail (EROFS from the fs, EACCES for other users)`, async () => {
    await withMount({ module: HELLO }, { workers, options: ['allow_other'], timeoutMs: 30_000 }, async ({ mnt }) => {
      const asRoot = await inPython<Record<string, string>>(mnt, `
        return {
          'openWrite': errname(os.open, P('hello.txt'), os.O_WRONLY),
          'openRdwr': errname(os.open, P('hello.txt'), os.O_RDWR),
          'truncOpen': errname(open, P('hello.txt'), 'w'),
          'readStill': open(P('hello.txt')).read(),
          # no create/mkdir/mknod in hello: the kernel gets ENOSYS
          'create': errname(open, P('new'), 'w'),
          'mkdir': errname(os.mkdir, P('newdir')),
          'unlink': errname(os.unlink, P('hello.txt')),
        }
      `);
      assert.equal(asRoot, {
        openWrite: 'EROFS', openRdwr: 'EROFS', truncOpen: 'EROFS', readStill: 'Hello, world!\n',
        create: 'ENOSYS', mkdir: 'ENOSYS', unlink: 'ENOSYS',
      });
      const asUser = await inPython<Record<string, string>>(
        mnt,
        `
        return {
          'read': open(P('dir', 'a')).read(),
          'openWrite': errname(os.open, P('hello.txt'), os.O_WRONLY),
          'create': errname(open, P('dir', 'new'), 'w'),
          'mkdir': errname(os.mkdir, P('newdir')),
          'unlink': errname(os.unlink, P('hello.txt')),
        }
      `,
        { uid: 1000 },
      );
      assert.equal(asUser, { read: 'This is a.\n', openWrite: 'EACCES', create: 'EACCES', mkdir: 'EACCES', unlink: 'EACCES' });
    });
  });

  test(`worker mode, ${workers} worker(s), mounted ro: every write is EROFS`, async () => {
    await withMount({ module: HELLO, options: { files: { 'only.txt': 'ro\n' } } }, { workers, options: ['ro'], timeoutMs: 30_000 }, async ({ mnt }) => {
      const r = await inPython<Record<string, string>>(mnt, `
        return {
          'ls': ','.join(os.listdir(mnt)),
          'read': open(P('only.txt')).read(),
          'openWrite': errname(os.open, P('only.txt'), os.O_WRONLY),
          'create': errname(open, P('new'), 'w'),
          'mkdir': errname(os.mkdir, P('d')),
          'unlink': errname(os.unlink, P('only.txt')),
          'chmod': errname(os.chmod, P('only.txt'), 0o777),
          'setxattr': errname(os.setxattr, P('only.txt'), 'user.x', b'1'),
        }
      `);
      assert.equal(r, { ls: 'only.txt', read: 'ro\n', openWrite: 'EROFS', create: 'EROFS', mkdir: 'EROFS', unlink: 'EROFS', chmod: 'EROFS', setxattr: 'EROFS' });
    });
  });
}

test('worker mode: unmount ends every worker thread', async () => {
  let closed = false;
  await withMount({ module: HELLO }, { workers: 2, timeoutMs: 30_000 }, async ({ mnt, session }) => {
    void session.closed.then(() => (closed = true));
    assert.is(await inChild<string>(mnt, `return fs.readFileSync(path.join(mnt, 'hello.txt'), 'utf8');`), 'Hello, world!\n');
    await session.unmount();
    assert.is(session.alive, false);
  });
  assert.ok(closed);
});

test.run();
