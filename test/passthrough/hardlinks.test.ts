// Hard links: every name of a file is one inode (same st_ino through the mount as in SOURCE), st_nlink
// follows link and unlink through the mount as a fresh process sees it, a change through one name shows
// through the others, and removing the name the server knew first leaves the inode reachable by the rest.

import * as assert from 'uvu/assert';
import fs from 'node:fs';
import path from 'node:path';
import { lstatSrc, matrix, py } from './common.js';

matrix('passthrough hardlinks', (t, mounted, cfg) => {
  t('link: one inode, nlink counts up and down, changes through one name show through the others', async () => {
    await mounted(
      async (m) => {
        const r = await py<unknown[]>(m, `
          os.chmod(P('a'), 0o600)
          os.mkdir(P('d'))
          os.link(P('a'), P('d', 'b'))
          os.link(P('d', 'b'), P('c'))
          sts = [os.stat(P(n)) for n in ('a', 'd/b', 'c')]
          return [[s.st_nlink for s in sts], len({s.st_ino for s in sts}), sts[0].st_ino]
        `);
        assert.equal(r, [[3, 3, 3], 1, lstatSrc(m, 'a').ino]);
        // a fresh process: the same, and a change through one name
        const r2 = await py<unknown[]>(m, `
          out = [[os.stat(P(n)).st_nlink for n in ('a', 'd/b', 'c')]]
          os.chmod(P('d', 'b'), 0o640)
          os.utime(P('c'), ns=(1100000000000001, 1200000000000002))
          with open(P('c'), 'a') as f: f.write('+c')
          st = os.stat(P('a'))
          out.append([oct(st.st_mode), st.st_size, open(P('a')).read()])
          os.unlink(P('a'))
          out.append([os.stat(P('d', 'b')).st_nlink, os.stat(P('c')).st_nlink])
          return out
        `);
        assert.equal(r2, [[3, 3, 3], ['0o100640', 3, 'A+c'], [2, 2]]);
        // another fresh process after the unlink of the first name: the others still reach the inode
        const r3 = await py<unknown[]>(m, `
          out = [errname(os.stat, P('a')), os.stat(P('d', 'b')).st_nlink, open(P('d', 'b')).read()]
          os.chmod(P('c'), 0o604)
          os.truncate(P('c'), 1)
          out.append([oct(os.stat(P('d', 'b')).st_mode), os.stat(P('d', 'b')).st_size])
          os.unlink(P('c'))
          out.append(os.stat(P('d', 'b')).st_nlink)
          return out
        `);
        assert.equal(r3, ['ENOENT', 2, 'A+c', ['0o100604', 1], 1]);
        const b = lstatSrc(m, 'd', 'b');
        assert.equal([b.nlink, b.mode, b.size], [1, 0o100604, 1]);
        assert.equal(await py(m, `st = os.stat(P('d', 'b')); return [st.st_nlink, st.st_ino]`), [1, b.ino]);
      },
      { setup: (src) => fs.writeFileSync(path.join(src, 'a'), 'A') },
    );
  });

  if (cfg.nocache) {
    t('--nocache: a link made in SOURCE behind the server\'s back shows as the same inode, nlink 2', async () => {
      await mounted(
        async (m) => {
          assert.equal(await py(m, `os.chmod(P('a'), 0o600); return os.stat(P('a')).st_nlink`), 1);
          fs.linkSync(path.join(m.src, 'a'), path.join(m.src, 'b'));
          const r = await py<unknown[]>(m, `a = os.stat(P('a')); b = os.stat(P('b')); return [a.st_nlink, b.st_nlink, a.st_ino == b.st_ino]`);
          assert.equal(r, [2, 2, true]);
        },
        { setup: (src) => fs.writeFileSync(path.join(src, 'a'), 'A') },
      );
    });
  }
});
