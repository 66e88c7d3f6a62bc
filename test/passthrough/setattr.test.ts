// SETATTR (chmod, chown, utimens, truncate) on closed files (by name: the server acts through the inode's
// cached O_PATH fd, opened on first use) and on open ones (by fd: fchmod/fchown/futimens go by nodeid,
// ftruncate names the handle), on files and directories, each change checked in SOURCE and from a fresh process.

import * as assert from 'uvu/assert';
import fs from 'node:fs';
import path from 'node:path';
import { lstatSrc, matrix, py } from './common.js';

/** [mode, uid, gid, size, atime ns, mtime ns] from lstat in the child. */
const ATTRS = `
def attrs(p):
    s = os.lstat(p)
    return [oct(s.st_mode), s.st_uid, s.st_gid, s.st_size, s.st_atime_ns, s.st_mtime_ns]
`;

function srcAttrs(m: Parameters<typeof lstatSrc>[0], ...parts: string[]): unknown[] {
  const s = fs.lstatSync(path.join(m.src, ...parts), { bigint: true });
  return ['0o' + s.mode.toString(8), Number(s.uid), Number(s.gid), Number(s.size), Number(s.atimeNs), Number(s.mtimeNs)];
}

matrix('passthrough setattr', (t, mounted) => {
  t('by name on closed files and a directory, twice (the second time through the cached fd)', async () => {
    await mounted(
      async (m) => {
        const r = await py<unknown[][]>(m, `
          out = []
          for round, (mode, uid, size, t) in enumerate([(0o600, 1234, 3, 1100000000000001), (0o4755, 4321, 7, 1300000000000003)]):
              for n in ('f', 'zero'):
                  os.truncate(P(n), size)
                  os.chmod(P(n), mode)
                  os.chown(P(n), uid, uid + 1)
                  os.utime(P(n), ns=(t, t + 1))
                  out.append(attrs(P(n)))
          os.chmod(P('d'), 0o700)
          os.chown(P('d'), 55, 66)
          os.utime(P('d'), ns=(1500000000000005, 1600000000000006))
          out.append(attrs(P('d')))
          return out
        `, undefined, ATTRS);
        // chown drops set-user-ID of a regular file: chmod came first
        const want = [
          ['0o100600', 1234, 1235, 3, 1100000000000001, 1100000000000002],
          ['0o100600', 1234, 1235, 3, 1100000000000001, 1100000000000002],
          ['0o100755', 4321, 4322, 7, 1300000000000003, 1300000000000004],
          ['0o100755', 4321, 4322, 7, 1300000000000003, 1300000000000004],
          ['0o40700', 55, 66, 4096, 1500000000000005, 1600000000000006],
        ];
        assert.equal(r, want);
        assert.equal([srcAttrs(m, 'f'), srcAttrs(m, 'zero'), srcAttrs(m, 'd')], want.slice(2));
        const fresh = await py<unknown[][]>(m, `return [attrs(P('f')), attrs(P('zero')), attrs(P('d'))]`, undefined, ATTRS);
        assert.equal(fresh, want.slice(2));
        // last: reading moves atime (relatime, ctime is newer)
        assert.equal(fs.readFileSync(path.join(m.src, 'f'), 'latin1'), 'con\0\0\0\0');
      },
      {
        setup: (src) => {
          fs.writeFileSync(path.join(src, 'f'), 'content');
          fs.writeFileSync(path.join(src, 'zero'), '');
          fs.chmodSync(path.join(src, 'zero'), 0); // root changes it all the same
          fs.mkdirSync(path.join(src, 'd'));
        },
      },
    );
  });

  t('through open fds (read-only and read-write), and by name while the file is open', async () => {
    await mounted(
      async (m) => {
        const r = await py<unknown[][]>(m, `
          ro = os.open(P('f'), os.O_RDONLY)
          rw = os.open(P('f'), os.O_RDWR)
          out = []
          os.fchmod(ro, 0o640); os.fchown(ro, 11, 12); os.utime(ro, ns=(1100000000000001, 1200000000000002))
          out.append(attrs(P('f')))
          os.ftruncate(rw, 4); os.fchmod(rw, 0o604); os.utime(rw, ns=(1300000000000003, 1400000000000004))
          out.append(attrs(P('f')))
          # by name while both are open: the same inode
          os.truncate(P('f'), 2); os.chmod(P('f'), 0o600); os.chown(P('f'), 21, 22)
          data = [os.pread(ro, 10, 0).decode(), os.pread(rw, 10, 0).decode()]
          # after the reads, which may move atime (relatime)
          os.utime(P('f'), ns=(1500000000000005, 1600000000000006))
          st = os.fstat(ro)
          out.append([oct(st.st_mode), st.st_uid, st.st_gid, st.st_size, st.st_atime_ns, st.st_mtime_ns])
          out.append(data)
          os.close(ro); os.close(rw)
          return out
        `, undefined, ATTRS);
        const last = ['0o100600', 21, 22, 2, 1500000000000005, 1600000000000006];
        assert.equal(r, [
          ['0o100640', 11, 12, 7, 1100000000000001, 1200000000000002],
          ['0o100604', 11, 12, 4, 1300000000000003, 1400000000000004],
          last,
          ['co', 'co'],
        ]);
        assert.equal(srcAttrs(m, 'f'), last);
        assert.equal(await py(m, `return attrs(P('f'))`, undefined, ATTRS), last);
        assert.is(m.pt.stats().files, 0, 'every handle was released');
      },
      { setup: (src) => fs.writeFileSync(path.join(src, 'f'), 'content') },
    );
  });

  t('a file changed in SOURCE after the server cached its fd: the mount shows the change (nocache) and acts on it', async () => {
    await mounted(
      async (m) => {
        await py(m, `os.chmod(P('f'), 0o600)`);
        fs.chmodSync(path.join(m.src, 'f'), 0o644);
        fs.writeFileSync(path.join(m.src, 'f'), 'longer content');
        await py(m, `os.truncate(P('f'), 6); os.utime(P('f'), ns=(1100000000000001, 1200000000000002))`);
        assert.equal(srcAttrs(m, 'f').slice(3), [6, 1100000000000001, 1200000000000002]);
        assert.is(fs.readFileSync(path.join(m.src, 'f'), 'utf8'), 'longer');
        assert.is(lstatSrc(m, 'f').mode, 0o100644);
      },
      { setup: (src) => fs.writeFileSync(path.join(src, 'f'), 'content') },
    );
  });

  t('a symlink\'s own times and owner change (utimensat and fchownat on its O_PATH fd), never its target\'s', async () => {
    await mounted(
      async (m) => {
        const before = srcAttrs(m, 'f');
        await py(m, `
          os.utime(P('l'), ns=(1100000000000001, 1200000000000002), follow_symlinks=False)
          os.lchown(P('l'), 77, 88)
        `);
        assert.equal(srcAttrs(m, 'l').slice(4), [1100000000000001, 1200000000000002]);
        const l = lstatSrc(m, 'l');
        assert.equal([l.uid, l.gid], [77, 88]);
        assert.equal(srcAttrs(m, 'f'), before, 'the target is untouched');
      },
      {
        setup: (src) => {
          fs.writeFileSync(path.join(src, 'f'), 'content');
          fs.symlinkSync('f', path.join(src, 'l'));
        },
      },
    );
  });

  t('files made through the mount keep an O_PATH fd from their creation: their first setattr opens nothing, acts on them', async () => {
    await mounted(async (m) => {
      const before = m.pt.stats().fileFds;
      await py(m, `
        fd = os.open(P('new'), os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644)
        os.write(fd, b'created')
        os.close(fd)
        os.symlink('new', P('link'))
      `);
      assert.is(m.pt.stats().fileFds, before + 2, 'CREATE and SYMLINK each cached the new file\'s fd');
      await py(m, `os.truncate(P('new'), 3); os.chmod(P('new'), 0o600); os.utime(P('new'), ns=(1100000000000001, 1200000000000002))`);
      assert.is(m.pt.stats().fileFds, before + 2, 'the setattrs used the cached fds');
      assert.equal(srcAttrs(m, 'new'), ['0o100600', 0, 0, 3, 1100000000000001, 1200000000000002]);
      assert.is(fs.readlinkSync(path.join(m.src, 'link')), 'new');
      // removing the file lets go of its fd
      await py(m, `os.unlink(P('new')); os.unlink(P('link'))`);
      assert.is(m.pt.stats().fileFds, before, 'unlink dropped both fds');
    });
  });
});
