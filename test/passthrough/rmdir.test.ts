// rmdir: ENOTEMPTY for a directory with anything in it (the directory and its entries stay, and stay usable
// through the server's cached directory fd), ENOTDIR for a file, and an empty one goes, also while another
// process has it open or as its working directory.

import * as assert from 'uvu/assert';
import fs from 'node:fs';
import path from 'node:path';
import { startPython } from '../helpers/python.js';
import { lstatSrc, matrix, py, waitForSource } from './common.js';

matrix('passthrough rmdir', (t, mounted) => {
  t('non-empty gives ENOTEMPTY and leaves it intact; empty goes; a new one under the name is new', async () => {
    await mounted(
      async (m) => {
        const r = await py<unknown[]>(m, `
          out = [errname(os.rmdir, P('full')), errname(os.rmdir, P('full', 'sub')), errname(os.rmdir, P('withlink')),
                 errname(os.rmdir, P('full', 'f')), errname(os.rmdir, P('nope'))]
          out.append([sorted(os.listdir(P('full'))), open(P('full', 'f')).read()])
          with open(P('full', 'g'), 'w') as f: f.write('g')
          os.rmdir(P('empty'))
          out.append(errname(os.stat, P('empty')))
          # ext4 may give the new directory the same inode number: the mount shows SOURCE's numbers
          os.mkdir(P('empty'))
          out.append([os.listdir(P('empty')), os.stat(P('empty')).st_ino == os.stat(Q('empty')).st_ino])
          return out
        `);
        assert.equal(r, ['ENOTEMPTY', 'ENOTEMPTY', 'ENOTEMPTY', 'ENOTDIR', 'ENOENT', [['f', 'sub'], 'F'], 'ENOENT', [[], true]]);
        assert.equal(fs.readdirSync(path.join(m.src, 'full')).sort(), ['f', 'g', 'sub']);
        assert.equal(fs.readdirSync(path.join(m.src, 'full', 'sub')), ['x']);
        const fresh = await py(m, `return [sorted(os.listdir(P('full'))), errname(os.rmdir, P('full')), len(os.listdir(P('empty')))]`);
        assert.equal(fresh, [['f', 'g', 'sub'], 'ENOTEMPTY', 0]);
        assert.ok(lstatSrc(m, 'empty').isDirectory());
      },
      {
        setup: (src) => {
          fs.mkdirSync(path.join(src, 'full', 'sub'), { recursive: true });
          fs.writeFileSync(path.join(src, 'full', 'f'), 'F');
          fs.writeFileSync(path.join(src, 'full', 'sub', 'x'), '');
          fs.mkdirSync(path.join(src, 'withlink'));
          fs.symlinkSync('/nonexistent', path.join(src, 'withlink', 'l'));
          fs.mkdirSync(path.join(src, 'empty'));
        },
      },
    );
  });

  t('rmdir of a directory another process is in: it goes, and that process cannot create in it, still lists and stats it', async () => {
    await mounted(async (m) => {
      await py(m, `os.mkdir(P('d'))`);
      const holder = startPython<unknown[]>(m.mnt, `
        os.chdir(P('d'))
        fd = os.open('.', os.O_RDONLY | os.O_DIRECTORY)
        os.close(os.open(P('ready'), os.O_CREAT | os.O_WRONLY, 0o644))
        deadline = time.time() + 30
        while os.path.exists(P('d')) and time.time() < deadline:
            time.sleep(0.02)
        def attempt(fn, *args):
            try:
                return fn(*args)
            except OSError as e:
                return errno.errorcode[e.errno]
        # what ext4 itself answers: no new names, an empty listing, and fstat still works (no links left)
        out = [errname(os.open, 'new', os.O_CREAT | os.O_WRONLY, 0o644), attempt(os.listdir, fd), errname(os.mkdir, 'sub'),
               attempt(lambda: stat.S_ISDIR(os.stat('.').st_mode)), attempt(lambda: os.fstat(fd).st_nlink)]
        os.close(fd)
        return out
      `);
      await waitForSource(m, 'ready');
      assert.equal(await py(m, `os.rmdir(P('d')); return errname(os.stat, P('d'))`), 'ENOENT');
      assert.equal(await holder.result, ['ENOENT', [], 'ENOENT', true, 0]);
      assert.equal(fs.readdirSync(m.src), ['ready']);
    });
  });
});
