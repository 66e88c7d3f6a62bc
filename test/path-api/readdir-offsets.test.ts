// READDIR offsets across several READDIR calls (getdents64 with a small buffer, one call per request) while
// entries are added and removed in between: every entry present the whole time comes exactly once, none
// twice; rewinddir (lseek 0) shows the changes. Plain READDIR and READDIRPLUS.

import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { withMount } from '../helpers/mount.js';
import { inPython } from '../helpers/python.js';
import { PathLayer } from '../../src/fs/path/index.js';
import { MemTree } from './memtree.js';

for (const withAttrs of [false, true]) {
  test(`readdir offsets stay right with entries added and removed between calls (${withAttrs ? 'READDIRPLUS' : 'READDIR'})`, async () => {
    const tree = new MemTree({ withAttrs });
    await withMount(new PathLayer(tree), { workers: 1, timeoutMs: 60_000 }, async ({ mnt }) => {
      const r = await inPython<{ calls: number; seen: string[]; dups: string[]; after: string[] }>(mnt, `
        for i in range(200):
            open(P('keep%03d' % i), 'w').close()
        for i in range(50):
            open(P('drop%03d' % i), 'w').close()
        fd = os.open(mnt, os.O_RDONLY | os.O_DIRECTORY)
        buf = ctypes.create_string_buffer(512)
        def getdents():
            n = _libc.syscall(217, fd, buf, 512)
            if n < 0: raise OSError(ctypes.get_errno(), 'getdents64')
            out, p = [], 0
            while p < n:
                reclen = int.from_bytes(buf.raw[p+16:p+18], 'little')
                out.append(buf.raw[p+19:p+reclen].split(b'\\0')[0].decode())
                p += reclen
            return out
        seen, calls = [], 0
        while True:
            names = getdents()
            if not names: break
            calls += 1
            seen += names
            # change the directory between READDIR calls
            if calls <= 50:
                os.unlink(P('drop%03d' % (calls - 1)))
                open(P('new%03d' % calls), 'w').close()
        os.lseek(fd, 0, 0)
        after = []
        while True:
            names = getdents()
            if not names: break
            after += names
        os.close(fd)
        dups = sorted(set(n for n in seen if seen.count(n) > 1))
        return {'calls': calls, 'seen': sorted(set(seen)), 'dups': dups, 'after': sorted(after)}
      `);
      assert.ok(r.calls > 10, `several READDIR calls (${r.calls})`);
      assert.equal(r.dups, []);
      const keep = Array.from({ length: 200 }, (_, i) => `keep${String(i).padStart(3, '0')}`);
      for (const k of keep) assert.ok(r.seen.includes(k), `${k} listed`);
      const now = tree.names('/');
      assert.equal(r.after, ['.', '..', ...now].sort());
    });
  });
}

test.run();
