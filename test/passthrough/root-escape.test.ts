// SETATTR never leaves SOURCE: a name the server knew (with and without a cached O_PATH fd of the inode) that
// is swapped behind its back for a relative symlink '../<victim>' would lead, followed by the server, to a
// file beside SOURCE; followed by the client's kernel it leads beside the mountpoint, where no such file is.
// chmod, chown, utimens and truncate by name must leave the victim alone. Also: lchown/lutimes of a symlink
// to the victim change the link only, and '..' below the root is SOURCE, not its parent.

import * as assert from 'uvu/assert';
import fs from 'node:fs';
import path from 'node:path';
import { lstatSrc, matrix, py } from './common.js';

matrix('passthrough root-escape (setattr)', (t, mounted) => {
  t('a name swapped for ../victim behind the server\'s back: chmod, chown, utimens, truncate stay inside', async () => {
    let victim = '';
    try {
      await mounted(
        async (m) => {
          const before = fs.statSync(victim);
          // 'cached' has a cached fd (chmod'ed by name once), 'named' only a lookup
          await py(m, `os.chmod(P('cached'), 0o600); os.stat(P('named'))`);
          for (const n of ['cached', 'named']) {
            fs.renameSync(path.join(m.src, n), path.join(m.src, `${n}.old`));
            fs.symlinkSync(`../${path.basename(victim)}`, path.join(m.src, n));
          }
          const r = await py<Record<string, string[]>>(m, `
            out = {}
            for n in ('cached', 'named'):
                out[n] = [errname(os.chmod, P(n), 0o777), errname(os.chown, P(n), 4321, 4321),
                          errname(os.utime, P(n), ns=(1100000000000001, 1200000000000002)), errname(os.truncate, P(n), 0)]
            return out
          `);
          const after = fs.statSync(victim);
          assert.equal(
            [after.mode, after.uid, after.gid, after.size, after.mtimeMs, fs.readFileSync(victim, 'utf8')],
            [before.mode, before.uid, before.gid, before.size, before.mtimeMs, 'victim data'],
            `victim changed (results ${JSON.stringify(r)})`,
          );
          // each call either reached the file the server knew (its exact inode, now named *.old) or failed
          // (ESTALE; or ENOENT when the kernel looked the name up again and followed the symlink itself)
          for (const n of ['cached', 'named']) {
            for (const code of r[n]) assert.ok(['OK', 'ESTALE', 'ENOENT'].includes(code), `${n}: ${r[n]}`);
            const old = lstatSrc(m, `${n}.old`);
            if (r[n][0] === 'OK') assert.is(old.mode & 0o777, 0o777, `${n}.old got the chmod`);
            if (r[n][3] === 'OK') assert.is(old.size, 0, `${n}.old got the truncate`);
            assert.ok(lstatSrc(m, n).isSymbolicLink());
          }
        },
        {
          setup: (src) => {
            victim = `${src}.victim`;
            fs.writeFileSync(victim, 'victim data', { mode: 0o640 });
            fs.writeFileSync(path.join(src, 'cached'), 'c');
            fs.writeFileSync(path.join(src, 'named'), 'n');
          },
        },
      );
    } finally {
      if (victim) fs.rmSync(victim, { force: true });
    }
  });

  t('lchown and utime(follow_symlinks=False) of a symlink out of SOURCE change the link; .. below the root is SOURCE', async () => {
    let victim = '';
    try {
      await mounted(
        async (m) => {
          const before = fs.statSync(victim);
          const srcParentMode = fs.statSync(path.dirname(m.src)).mode;
          const r = await py<unknown[]>(m, `
            out = []
            for n in ('abs', 'rel'):
                os.lchown(P(n), 1111, 2222)
                os.utime(P(n), ns=(1100000000000001, 1200000000000002), follow_symlinks=False)
                st = os.lstat(P(n))
                out.append([stat.S_ISLNK(st.st_mode), st.st_uid, st.st_gid, st.st_mtime_ns])
            # '..' of a subdirectory is the root (SOURCE): chmod through it changes SOURCE's root
            os.chmod(P('sub', '..'), 0o751)
            out.append(oct(os.stat(mnt).st_mode))
            return out
          `);
          assert.equal(r, [[true, 1111, 2222, 1200000000000002], [true, 1111, 2222, 1200000000000002], '0o40751']);
          const after = fs.statSync(victim);
          assert.equal([after.uid, after.gid, after.mtimeMs, after.mode], [before.uid, before.gid, before.mtimeMs, before.mode]);
          for (const n of ['abs', 'rel']) assert.equal([lstatSrc(m, n).uid, lstatSrc(m, n).gid], [1111, 2222]);
          assert.is(lstatSrc(m).mode, 0o40751);
          assert.is(fs.statSync(path.dirname(m.src)).mode, srcParentMode);
        },
        {
          setup: (src) => {
            victim = `${src}.victim`;
            fs.writeFileSync(victim, 'victim data', { mode: 0o640 });
            fs.symlinkSync(victim, path.join(src, 'abs'));
            fs.symlinkSync(`../${path.basename(victim)}`, path.join(src, 'rel'));
            fs.mkdirSync(path.join(src, 'sub'));
          },
        },
      );
    } finally {
      if (victim) fs.rmSync(victim, { force: true });
    }
  });
});
