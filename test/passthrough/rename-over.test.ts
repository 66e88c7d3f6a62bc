// Rename over an existing file: the name then leads to the moved inode (for a fresh process too, and in
// SOURCE), the replaced inode is gone from SOURCE, and a process that had the replaced file open keeps reading,
// writing and changing that inode only. The replaced file was chmod'ed by name first, so the server held a
// cached O_PATH fd of it when it was replaced.

import * as assert from 'uvu/assert';
import fs from 'node:fs';
import path from 'node:path';
import { lstatSrc, matrix, py } from './common.js';

matrix('passthrough rename-over', (t, mounted) => {
  t('rename over a closed file: the name is the moved inode, the old inode is gone', async () => {
    await mounted(
      async (m) => {
        const r = await py<unknown[]>(m, `
          os.chmod(P('a'), 0o600)
          os.chmod(P('b'), 0o640)
          ia = os.stat(P('a')).st_ino
          os.rename(P('a'), P('b'))
          st = os.stat(P('b'))
          os.chmod(P('b'), 0o604)
          return [errname(os.stat, P('a')), st.st_ino == ia, open(P('b')).read(), oct(os.stat(P('b')).st_mode), sorted(os.listdir(mnt))]
        `);
        assert.equal(r, ['ENOENT', true, 'A', '0o100604', ['b']]);
        // a fresh process, and SOURCE
        const fresh = await py<unknown[]>(m, `st = os.stat(P('b')); return [st.st_ino, oct(st.st_mode), open(P('b')).read()]`);
        const b = lstatSrc(m, 'b');
        assert.equal(fresh, [b.ino, '0o100604', 'A']);
        assert.equal(fs.readdirSync(m.src), ['b']);
      },
      {
        setup: (src) => {
          fs.writeFileSync(path.join(src, 'a'), 'A');
          fs.writeFileSync(path.join(src, 'b'), 'B');
        },
      },
    );
  });

  t('rename over an open file: the holder keeps the replaced inode, changes through its fd stay there', async () => {
    await mounted(
      async (m) => {
        const r = await py<Record<string, unknown>>(m, `
          import subprocess
          os.chmod(P('b'), 0o640)
          fd = os.open(P('b'), os.O_RDWR)
          ib = os.fstat(fd).st_ino
          os.rename(P('a'), P('b'))
          out = {}
          out['fresh'] = subprocess.run([sys.executable, '-c', 'import sys; print(open(sys.argv[1]).read())', P('b')],
                                        capture_output=True, text=True).stdout.strip()
          os.pwrite(fd, b'bb', 1)
          os.fchmod(fd, 0o600)
          os.ftruncate(fd, 3)
          os.utime(fd, ns=(1100000000000001, 1200000000000002))
          st = os.fstat(fd)
          out['old'] = [os.pread(fd, 100, 0).decode(), oct(st.st_mode), st.st_nlink, st.st_size, st.st_mtime_ns, st.st_ino == ib]
          nb = os.stat(P('b'))
          out['name'] = [open(P('b')).read(), oct(nb.st_mode), nb.st_size, nb.st_ino != ib]
          os.close(fd)
          return out
        `);
        assert.equal(r, {
          fresh: 'A',
          old: ['Bbb', '0o100600', 0, 3, 1200000000000002, true],
          name: ['A', '0o100644', 1, true],
        });
        const b = lstatSrc(m, 'b');
        assert.equal([b.mode, b.size, fs.readFileSync(path.join(m.src, 'b'), 'utf8')], [0o100644, 1, 'A']);
        assert.equal(await py(m, `return [open(P('b')).read(), oct(os.stat(P('b')).st_mode)]`), ['A', '0o100644']);
        assert.is(m.pt.stats().files, 0, 'every handle was released');
      },
      {
        setup: (src) => {
          fs.writeFileSync(path.join(src, 'a'), 'A', { mode: 0o644 });
          fs.writeFileSync(path.join(src, 'b'), 'BBBB');
          fs.chmodSync(path.join(src, 'a'), 0o644);
        },
      },
    );
  });

  t('rename of an open file over another: the holder\'s fd follows the moved inode', async () => {
    await mounted(
      async (m) => {
        const r = await py<unknown[]>(m, `
          fd = os.open(P('a'), os.O_RDWR)
          os.chmod(P('a'), 0o600)
          os.rename(P('a'), P('b'))
          os.fchmod(fd, 0o640)
          os.pwrite(fd, b'Z', 0)
          os.close(fd)
          return [open(P('b')).read(), oct(os.stat(P('b')).st_mode), errname(os.stat, P('a'))]
        `);
        assert.equal(r, ['Z', '0o100640', 'ENOENT']);
        assert.equal(await py(m, `return [open(P('b')).read(), oct(os.stat(P('b')).st_mode)]`), ['Z', '0o100640']);
        assert.is(lstatSrc(m, 'b').mode, 0o100640);
      },
      {
        setup: (src) => {
          fs.writeFileSync(path.join(src, 'a'), 'A');
          fs.writeFileSync(path.join(src, 'b'), 'B');
        },
      },
    );
  });
});
