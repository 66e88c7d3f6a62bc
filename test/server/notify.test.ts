// Notifications: memfs is changed behind the kernel's back (direct calls in this thread) while the kernel
// caches names, negative names, attributes and pages for an hour; the change is invisible until the session
// sends NOTIFY_INVAL_INODE / NOTIFY_INVAL_ENTRY / NOTIFY_DELETE, then visible.
//
// "Invisible" holds only while the kernel keeps its caches, and drop_caches elsewhere on the machine (the
// forget test, benchmarks) evicts unused dentries and inodes: a helper process keeps /a and /c open so theirs
// stay. Each stale check also counts the requests it caused: if the kernel had to ask memfs anyway (a negative
// dentry or a page evicted), that one check is skipped (noted on stderr); if it did not ask, the stale answer
// is required.

import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { withMount } from '../helpers/mount.js';
import { inPython, startPython } from '../helpers/python.js';
import { rootCtx, waitFor, wrapFs } from '../helpers/fs-wrappers.js';
import { createMemFs } from '../../src/fs/memfs.js';
import type { RequestContext } from '../../src/fs/types.js';

const HOUR = 3600;
const ROOT = 1;

/** stat then read (a directory: its nlink); an errno name when stat fails. */
const look = (mnt: string, name: string) =>
  inPython<unknown>(mnt, `
    try:
        st = os.stat(P(${JSON.stringify(name)}))
    except OSError as e:
        return errno.errorcode.get(e.errno)
    if stat.S_ISDIR(st.st_mode):
        return ['dir', st.st_nlink]
    data = open(P(${JSON.stringify(name)})).read()
    # a READ that reached the server marks atime stale, so the next stat would send GETATTR: refresh it now
    os.stat(P(${JSON.stringify(name)}))
    return [st.st_size, data]
  `);

for (const readers of [1, 2]) {
  test(`embedded, ${readers} reader(s): invalInode, invalEntry, notifyDelete make hidden changes visible`, async () => {
    const memfs = createMemFs({ entryTimeout: HOUR, attrTimeout: HOUR, negativeTimeout: HOUR });
    // requests that reach memfs, by name (LOOKUP) or inode (GETATTR, READ)
    const asked = new Map<string | number, number>();
    const count = (k: string | number) => asked.set(k, (asked.get(k) ?? 0) + 1);
    const { fs } = wrapFs(memfs, {
      lookup: (c: RequestContext, p: number, name: string) => (count(name), memfs.lookup(c, p, name)),
      getattr: (c: RequestContext, ino: number, fh: number | undefined) => (count(ino), memfs.getattr(c, ino, fh)),
      read: (c: RequestContext, ino: number, fh: number, off: number, size: number) => (count(ino), memfs.read(c, ino, fh, off, size)),
    });
    const askedSum = (keys: (string | number)[]) => keys.reduce<number>((n, k) => n + (asked.get(k) ?? 0), 0);
    const ctx = rootCtx();

    await withMount(fs, { workers: readers, entryTimeout: HOUR, attrTimeout: HOUR, timeoutMs: 60_000 }, async ({ mnt, session }) => {
      /** The stale answer is required unless the kernel had to ask memfs again (its cache was evicted). */
      const stale = async (name: string, keys: (string | number)[], want: unknown) => {
        const before = askedSum(keys);
        const got = await look(mnt, name);
        if (askedSum(keys) !== before) {
          process.stderr.write(`notify test: the kernel's cache of /${name} was evicted meanwhile (drop_caches?); stale check skipped, got ${JSON.stringify(got)}\n`);
          return;
        }
        assert.equal(got, want);
      };

      const [ino, cIno] = await inPython<number[]>(mnt, `
        with open(P('a'), 'w') as f:
            f.write('one')
        with open(P('c'), 'w') as f:
            f.write('see')
        open(P('a')).read()
        open(P('c')).read()
        return [os.stat(P('a')).st_ino, os.stat(P('c')).st_ino]
      `);
      const handles = memfs.openHandles;
      const holder = startPython(mnt, `
        fds = [os.open(P('a'), os.O_RDONLY), os.open(P('c'), os.O_RDONLY)]
        time.sleep(120)
      `);
      try {
        await waitFor(() => memfs.openHandles === handles + 2, 10_000, 'the holder to open /a and /c');
        assert.equal(await look(mnt, 'a'), [3, 'one']);

        // data and size change behind the kernel's back: cached attrs and pages still say 'one'
        assert.is(memfs.write(ctx, ino!, 0, 0, Buffer.from('changed behind'), 0, 0), 14);
        await stale('a', ['a', ino!], [3, 'one']);
        session.invalInode(ino!);
        assert.equal(await look(mnt, 'a'), [14, 'changed behind']);

        // a name removed behind the kernel's back stays visible until invalEntry
        memfs.unlink(ctx, ROOT, 'a');
        await stale('a', ['a', ino!], [14, 'changed behind']);
        session.invalEntry(ROOT, 'a');
        assert.is(await look(mnt, 'a'), 'ENOENT');

        // a negative entry (cached for an hour) hides a name created behind the kernel's back
        assert.is(await look(mnt, 'b'), 'ENOENT');
        memfs.mkdir(ctx, ROOT, 'b', 0o755, 0);
        await stale('b', ['b'], 'ENOENT');
        session.invalEntry(ROOT, 'b');
        assert.equal(await look(mnt, 'b'), ['dir', 2]);

        // notifyDelete: the kernel drops the name (and knows the inode lost a link)
        assert.equal(await look(mnt, 'c'), [3, 'see']);
        memfs.unlink(ctx, ROOT, 'c');
        await stale('c', ['c', cIno!], [3, 'see']);
        session.notifyDelete(ROOT, cIno!, 'c');
        assert.is(await look(mnt, 'c'), 'ENOENT');

        // invalidating something the kernel does not know is not an error
        session.invalEntry(ROOT, 'never-looked-up');
        session.invalInode(999_999);
        assert.equal(await inPython<string[]>(mnt, `return sorted(os.listdir(mnt))`), ['b']);
      } finally {
        holder.kill();
        await holder.result.catch(() => undefined);
      }
    });
  });
}

test.run();
