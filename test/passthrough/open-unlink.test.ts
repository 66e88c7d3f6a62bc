// Unlink of an open file: the name goes at once (for every other process too), the open fd stays readable,
// writable and changeable (fchmod, futimens, ftruncate, fstat) after the server has dropped its cached
// O_PATH fd of the inode, and a new file under the old name is a different inode that those calls leave alone.

import * as assert from 'uvu/assert';
import fs from 'node:fs';
import path from 'node:path';
import { startPython } from '../helpers/python.js';
import { lstatSrc, matrix, py, waitForSource } from './common.js';

matrix('passthrough open-unlink', (t, mounted) => {
  t('an unlinked open file stays usable through its fd; the name is gone for other processes', async () => {
    await mounted(async (m) => {
      // the first child creates and opens the file, chmods it by name first (the server then caches an
      // O_PATH fd of the inode), unlinks it, lets a second child look, then keeps using the fd
      const r = await py<Record<string, unknown>>(m, `
        import subprocess
        fd = os.open(P('f'), os.O_RDWR | os.O_CREAT, 0o644)
        os.write(fd, b'before')
        os.chmod(P('f'), 0o640)
        os.utime(P('f'), ns=(1000000000000001, 1000000000000002))
        ino = os.fstat(fd).st_ino
        os.unlink(P('f'))
        other = subprocess.run([sys.executable, '-c', 'import os,sys\\ntry:\\n os.stat(sys.argv[1]); print("OK")\\nexcept OSError as e: print(e.errno)', P('f')],
                               capture_output=True, text=True).stdout.strip()
        out = {'other': other, 'src': os.path.exists(Q('f'))}
        os.write(fd, b' after')
        out['read'] = os.pread(fd, 100, 0).decode()
        os.fchmod(fd, 0o600)
        os.ftruncate(fd, 9)
        os.utime(fd, ns=(1300000000000003, 1400000000000004))
        st = os.fstat(fd)
        out['fstat'] = [st.st_nlink, st.st_size, oct(st.st_mode), st.st_atime_ns, st.st_mtime_ns, st.st_ino == ino]
        # a new file under the same name: another inode, untouched by the calls on the old fd
        fd2 = os.open(P('f'), os.O_RDWR | os.O_CREAT | os.O_EXCL, 0o644)
        os.write(fd2, b'new')
        os.fchmod(fd, 0o604)
        os.pwrite(fd, b'B', 0)
        st2 = os.stat(P('f'))
        out['new'] = [st2.st_ino != ino, oct(st2.st_mode), st2.st_size, open(P('f')).read()]
        out['old'] = [os.pread(fd, 100, 0).decode(), oct(os.fstat(fd).st_mode)]
        os.close(fd); os.close(fd2)
        return out
      `);
      assert.equal(r, {
        other: '2',
        src: false,
        read: 'before after',
        fstat: [0, 9, '0o100600', 1300000000000003, 1400000000000004, true],
        new: [true, '0o100644', 3, 'new'],
        old: ['Before af', '0o100604'],
      });
      const st = lstatSrc(m, 'f');
      assert.equal([st.mode, st.size, fs.readFileSync(path.join(m.src, 'f'), 'utf8')], [0o100644, 3, 'new']);
      // a fresh process sees the new file only
      assert.equal(await py(m, `return [open(P('f')).read(), oct(os.stat(P('f')).st_mode)]`), ['new', '0o100644']);
      assert.is(m.pt.stats().files, 0, 'every handle was released');
    });
  });

  t('a file unlinked while another process has it open: that process still reads and writes it', async () => {
    await mounted(
      async (m) => {
        // the holder opens the file, says so by creating 'ready', and waits until the name is gone
        const holder = startPython<unknown[]>(m.mnt, `
          fd = os.open(P('f'), os.O_RDWR)
          os.close(os.open(P('ready'), os.O_CREAT | os.O_WRONLY, 0o644))
          deadline = time.time() + 30
          while os.path.exists(P('f')) and time.time() < deadline:
              time.sleep(0.02)
          os.pwrite(fd, b'XY', 2)
          st = os.fstat(fd)
          data = os.pread(fd, 100, 0).decode()
          os.close(fd)
          return [data, st.st_nlink, st.st_size]
        `);
        await waitForSource(m, 'ready');
        assert.equal(await py(m, `os.unlink(P('f')); return errname(os.stat, P('f'))`), 'ENOENT');
        assert.equal(await holder.result, ['01XY4567', 0, 8]);
        assert.not.ok(fs.existsSync(path.join(m.src, 'f')));
      },
      { setup: (src) => fs.writeFileSync(path.join(src, 'f'), '01234567') },
    );
  });
});
