// memfs mounted for real in embedded mode, served by 1, 2 and 4 reader fds (the session fd plus clones).
// Every check runs in a separate process (python3 or node): the test's own thread serves the mount.

import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { withMount, type MountedTest } from '../helpers/mount.js';
import { inChild, run } from '../helpers/client.js';
import { inPython } from '../helpers/python.js';
import { waitFor, wrapFs } from '../helpers/fs-wrappers.js';
import { createMemFs, type MemFs, type MemFsOptions } from '../../src/fs/memfs.js';

const READERS = (process.env.TSFUSE_READERS ?? '1,2,4').split(',').map(Number);
const MiB = 1 << 20;

for (const readers of READERS) {
  const t = suite(`memfs mount, embedded, ${readers} reader fd${readers > 1 ? 's' : ''}`);

  const mounted = <T>(fn: (m: MountedTest & { memfs: MemFs }) => Promise<T>, memOpts: MemFsOptions = {}): Promise<T> => {
    const memfs = createMemFs(memOpts);
    return withMount(memfs, { workers: readers, fsname: 'memfs', subtype: 'memfs', options: ['allow_other'], timeoutMs: 60_000 }, (m) =>
      fn({ ...m, memfs }),
    );
  };

  t('statvfs reports the configured capacity and follows usage', async () => {
    await mounted(
      async ({ mnt }) => {
        const r = await inPython<number[][]>(mnt, `
          def sv():
              s = os.statvfs(mnt)
              return [s.f_bsize, s.f_frsize, s.f_blocks, s.f_bfree, s.f_bavail, s.f_files, s.f_ffree, s.f_namemax]
          before = sv()
          with open(P('one-mib'), 'wb') as f:
              f.write(b'x' * (1 << 20))
          return [before, sv()]
        `);
        const [before, after] = r;
        assert.equal(before.slice(0, 3), [4096, 4096, (64 * MiB) / 4096]);
        assert.is(before[3], before[2]);
        assert.is(before[5], 1000);
        assert.is(before[6], 999); // the root
        assert.is(before[7], 255);
        assert.is(after[3], before[3] - 256);
        assert.is(after[6], 998);
        const df = await run('stat', ['-f', '-c', '%S %b %c %l', mnt]);
        assert.is(df.stdout.trim(), `4096 ${(64 * MiB) / 4096} 1000 255`);
      },
      { totalBytes: 64 * MiB, maxInodes: 1000 },
    );
  });

  t('readdir lists files, dirs and symlinks with their types', async () => {
    await mounted(async ({ mnt }) => {
      const r = await inPython<[string, string][]>(mnt, `
        os.mkdir(P('d'))
        os.mkdir(P('d', 'sub'))
        open(P('d', 'file'), 'w').close()
        os.symlink('file', P('d', 'link'))
        kind = lambda e: 'l' if e.is_symlink() else 'd' if e.is_dir(follow_symlinks=False) else 'f'
        return sorted([e.name, kind(e)] for e in os.scandir(P('d')))
      `);
      assert.equal(r, [['file', 'f'], ['link', 'l'], ['sub', 'd']]);
      const ls = await run('ls', ['-a1', `${mnt}/d`]);
      assert.equal(ls.stdout.trim().split('\n').sort(), ['.', '..', 'file', 'link', 'sub']);
    });
  });

  t('500 names of 200+ bytes come back exactly once over several READDIRPLUS calls', async () => {
    const { fs, calls } = wrapFs(createMemFs());
    await withMount(fs, { workers: readers, timeoutMs: 60_000 }, async ({ mnt }) => {
      await inPython(mnt, `
        os.mkdir(P('big'))
        for i in range(500):
            os.close(os.open(P('big', '%04d-' % i + 'n' * 210), os.O_CREAT | os.O_WRONLY, 0o644))
      `);
      const before = calls.readdirplus ?? 0;
      const names = await inPython<string[]>(mnt, `return os.listdir(P('big'))`);
      const plusCalls = (calls.readdirplus ?? 0) - before;
      assert.is(names.length, 500);
      assert.is(new Set(names).size, 500);
      const want = Array.from({ length: 500 }, (_, i) => `${String(i).padStart(4, '0')}-${'n'.repeat(210)}`);
      assert.equal([...names].sort(), want);
      assert.ok(plusCalls >= 2, `expected several READDIRPLUS calls, got ${plusCalls}`);
      assert.is(calls.readdir ?? 0, 0);
    });
  });

  t('open, write, read back (also across chunk boundaries)', async () => {
    await mounted(async ({ mnt }) => {
      const r = await inPython<Record<string, unknown>>(mnt, `
        import hashlib
        data = os.urandom(3 * (1 << 20) + 12345)
        with open(P('big.bin'), 'wb') as f:
            f.write(data)
        with open(P('big.bin'), 'rb') as f:
            back = f.read()
        fd = os.open(P('small'), os.O_RDWR | os.O_CREAT, 0o600)
        os.write(fd, b'hello world')
        os.pwrite(fd, b'W', 6)
        mid = os.pread(fd, 5, 6)
        os.close(fd)
        return {'same': back == data, 'size': os.stat(P('big.bin')).st_size, 'mid': mid.decode(),
                'small': open(P('small')).read(), 'hash': hashlib.sha256(back).hexdigest() == hashlib.sha256(data).hexdigest()}
      `);
      assert.equal(r, { same: true, size: 3 * MiB + 12345, mid: 'World', small: 'hello World', hash: true });
      // and a second process sees the same bytes (from the page cache or the server)
      const len = await inChild<number>(mnt, `return fs.readFileSync(path.join(mnt, 'big.bin')).length;`);
      assert.is(len, 3 * MiB + 12345);
    });
  });

  t('create: O_EXCL, mode with umask, empty file', async () => {
    await mounted(async ({ mnt }) => {
      const r = await inPython<unknown[]>(mnt, `
        os.umask(0o022)
        fd = os.open(P('new'), os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o666)
        os.close(fd)
        st = os.stat(P('new'))
        again = errname(os.open, P('new'), os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o666)
        missing = errname(os.open, P('nodir', 'x'), os.O_CREAT | os.O_WRONLY, 0o666)
        return [oct(st.st_mode), st.st_size, st.st_uid, again, missing]
      `);
      assert.equal(r, ['0o100644', 0, 0, 'EEXIST', 'ENOENT']);
    });
  });

  t('O_APPEND writes go to the end even after a seek', async () => {
    await mounted(async ({ mnt }) => {
      const r = await inPython<string>(mnt, `
        with open(P('log'), 'wb') as f:
            f.write(b'abc')
        fd = os.open(P('log'), os.O_WRONLY | os.O_APPEND)
        os.lseek(fd, 0, os.SEEK_SET)
        os.write(fd, b'def')
        fd2 = os.open(P('log'), os.O_WRONLY | os.O_APPEND)
        os.write(fd2, b'ghi')
        os.write(fd, b'jkl')
        os.close(fd); os.close(fd2)
        return open(P('log')).read()
      `);
      assert.is(r, 'abcdefghijkl');
    });
  });

  t('lseek: SET/CUR/END, writes past EOF leave zeros, SEEK_DATA/SEEK_HOLE', async () => {
    await mounted(async ({ mnt }) => {
      const r = await inPython<Record<string, unknown>>(mnt, `
        fd = os.open(P('s'), os.O_RDWR | os.O_CREAT, 0o644)
        os.write(fd, b'0123456789')
        out = {}
        out['set'] = os.lseek(fd, 2, os.SEEK_SET)
        out['read'] = os.read(fd, 3).decode()
        out['cur'] = os.lseek(fd, 1, os.SEEK_CUR)
        out['end'] = os.lseek(fd, -2, os.SEEK_END)
        out['tail'] = os.read(fd, 10).decode()
        os.lseek(fd, 20, os.SEEK_SET)
        os.write(fd, b'Z')
        out['size'] = os.fstat(fd).st_size
        out['gap'] = list(os.pread(fd, 11, 10))
        os.close(fd)
        sp = os.open(P('sparse'), os.O_RDWR | os.O_CREAT, 0o644)
        os.pwrite(sp, b'data', 1 << 20)
        out['data'] = os.lseek(sp, 0, os.SEEK_DATA)
        out['hole'] = os.lseek(sp, 0, os.SEEK_HOLE)
        out['past'] = errname(os.lseek, sp, (1 << 20) + 10, os.SEEK_DATA)
        os.close(sp)
        return out
      `);
      assert.equal(r, {
        set: 2, read: '234', cur: 6, end: 8, tail: '89', size: 21, gap: [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 90],
        data: MiB, hole: 0, past: 'ENXIO',
      });
    });
  });

  t('mkdir and rmdir: nlink, EEXIST, ENOTEMPTY, ENOTDIR', async () => {
    await mounted(async ({ mnt }) => {
      const r = await inPython<unknown[]>(mnt, `
        n0 = os.stat(mnt).st_nlink
        os.mkdir(P('d'), 0o750)
        st = os.stat(P('d'))
        n1 = os.stat(mnt).st_nlink
        os.mkdir(P('d', 'e'))
        open(P('d', 'e', 'f'), 'w').close()
        res = [n0, n1, oct(st.st_mode), st.st_nlink, os.stat(P('d')).st_nlink,
               errname(os.mkdir, P('d')), errname(os.rmdir, P('d')), errname(os.rmdir, P('d', 'e', 'f'))]
        os.unlink(P('d', 'e', 'f'))
        os.rmdir(P('d', 'e'))
        os.rmdir(P('d'))
        res += [os.path.exists(P('d')), os.stat(mnt).st_nlink, errname(os.rmdir, P('d'))]
        return res
      `);
      assert.equal(r, [2, 3, '0o40750', 2, 3, 'EEXIST', 'ENOTEMPTY', 'ENOTDIR', false, 2, 'ENOENT']);
    });
  });

  t('unlink: gone from the directory; ENOENT, EISDIR', async () => {
    await mounted(async ({ mnt }) => {
      const r = await inPython<unknown[]>(mnt, `
        open(P('f'), 'w').close()
        os.mkdir(P('d'))
        os.unlink(P('f'))
        return [os.listdir(mnt), errname(os.stat, P('f')), errname(os.unlink, P('f')), errname(os.unlink, P('d'))]
      `);
      assert.equal(r, [['d'], 'ENOENT', 'ENOENT', 'EISDIR']);
    });
  });

  t('symlink and readlink', async () => {
    await mounted(async ({ mnt }) => {
      const r = await inPython<unknown[]>(mnt, `
        with open(P('target'), 'w') as f:
            f.write('through the link')
        os.symlink('target', P('rel'))
        os.symlink('/nowhere/' + 'x' * 300, P('dangling'))
        st = os.lstat(P('rel'))
        return [os.readlink(P('rel')), stat.S_ISLNK(st.st_mode), st.st_size, open(P('rel')).read(),
                len(os.readlink(P('dangling'))), errname(os.stat, P('dangling')), errname(os.symlink, 'x', P('rel'))]
      `);
      assert.equal(r, ['target', true, 6, 'through the link', 309, 'ENOENT', 'EEXIST']);
    });
  });

  t('chown as root', async () => {
    await mounted(async ({ mnt }) => {
      const r = await inPython<number[]>(mnt, `
        open(P('f'), 'w').close()
        os.chown(P('f'), 1000, 1001)
        a = os.stat(P('f'))
        os.chown(P('f'), -1, 1002)
        b = os.stat(P('f'))
        os.symlink('f', P('l'))
        os.lchown(P('l'), 1003, 1004)
        c = os.lstat(P('l'))
        return [a.st_uid, a.st_gid, b.st_uid, b.st_gid, c.st_uid, c.st_gid, os.stat(P('f')).st_uid]
      `);
      assert.equal(r, [1000, 1001, 1000, 1002, 1003, 1004, 1000]);
    });
  });

  t('utimens keeps nanoseconds (touch -d @SEC.NNNNNNNNN and os.utime ns=)', async () => {
    await mounted(async ({ mnt }) => {
      const r = await inPython<unknown[]>(mnt, `
        import subprocess
        open(P('f'), 'w').close()
        subprocess.run(['touch', '-m', '-d', '@1500000000.123456789', P('f')], check=True)
        a = os.stat(P('f')).st_mtime_ns
        y = subprocess.run(['stat', '-c', '%Y %y', P('f')], check=True, capture_output=True, env={'TZ': 'UTC'}).stdout.decode().strip()
        os.utime(P('f'), ns=(1234567890987654321, 1600000000000000001))
        st = os.stat(P('f'))
        return [str(a), y, str(st.st_atime_ns), str(st.st_mtime_ns)]
      `);
      assert.equal(r, ['1500000000123456789', '1500000000 2017-07-14 02:40:00.123456789 +0000', '1234567890987654321', '1600000000000000001']);
    });
  });

  t('link: nlink 2, same inode, back to 1 after unlink', async () => {
    await mounted(async ({ mnt }) => {
      const r = await inPython<unknown[]>(mnt, `
        with open(P('a'), 'w') as f:
            f.write('shared')
        os.link(P('a'), P('b'))
        sa, sb = os.stat(P('a')), os.stat(P('b'))
        with open(P('b'), 'a') as f:
            f.write('!')
        content = open(P('a')).read()
        os.unlink(P('a'))
        return [sa.st_nlink, sb.st_nlink, sa.st_ino == sb.st_ino, content, os.stat(P('b')).st_nlink, open(P('b')).read()]
      `);
      assert.equal(r, [2, 2, true, 'shared!', 1, 'shared!']);
    });
  });

  t('truncate by path and by fd (shrink and grow)', async () => {
    await mounted(async ({ mnt }) => {
      const r = await inPython<unknown[]>(mnt, `
        with open(P('f'), 'wb') as f:
            f.write(b'0123456789')
        os.truncate(P('f'), 4)
        a = open(P('f'), 'rb').read()
        fd = os.open(P('f'), os.O_RDWR)
        os.ftruncate(fd, 8)
        b = os.pread(fd, 100, 0)
        os.ftruncate(fd, 2)
        c = os.pread(fd, 100, 0)
        os.close(fd)
        return [a.decode(), list(b), c.decode(), os.stat(P('f')).st_size]
      `);
      assert.equal(r, ['0123', [48, 49, 50, 51, 0, 0, 0, 0], '01', 2]);
    });
  });

  t('open-unlink: the open fd still reads and writes; the inode is freed after close', async () => {
    await mounted(async ({ mnt, memfs }) => {
      const r = await inPython<unknown[]>(mnt, `
        fd = os.open(P('tmp'), os.O_RDWR | os.O_CREAT, 0o600)
        ino = os.fstat(fd).st_ino
        os.write(fd, b'before')
        os.unlink(P('tmp'))
        gone = errname(os.stat, P('tmp'))
        nlink = os.fstat(fd).st_nlink
        os.pwrite(fd, b'-after', 6)
        data = os.pread(fd, 100, 0).decode()
        listed = os.listdir(mnt)
        os.close(fd)
        return [ino, gone, nlink, data, listed]
      `);
      const [ino, gone, nlink, data, listed] = r as [number, string, number, string, string[]];
      assert.equal([gone, nlink, data, listed], ['ENOENT', 0, 'before-after', []]);
      await waitFor(() => !memfs.hasInode(ino), 10_000, `memfs to free inode ${ino}`);
      assert.is(memfs.inodeCount, 1);
    });
  });

  t('rename: plain overwrite, RENAME_NOREPLACE, RENAME_EXCHANGE (renameat2)', async () => {
    await mounted(async ({ mnt }) => {
      const r = await inPython<Record<string, unknown>>(mnt, `
        def put(name, s):
            with open(P(name), 'w') as f:
                f.write(s)
        rd = lambda name: open(P(name)).read()
        put('a', 'A'); put('b', 'B'); put('c', 'C')
        out = {}
        out['noreplace'] = errname(renameat2, P('a'), P('b'), RENAME_NOREPLACE)
        out['intact'] = rd('a') + rd('b')
        renameat2(P('a'), P('a2'), RENAME_NOREPLACE)
        out['moved'] = [os.path.exists(P('a')), rd('a2')]
        renameat2(P('a2'), P('b'), RENAME_EXCHANGE)
        out['swapped'] = rd('a2') + rd('b')
        out['exch_missing'] = errname(renameat2, P('b'), P('zz'), RENAME_EXCHANGE)
        os.mkdir(P('d'))
        renameat2(P('d'), P('c'), RENAME_EXCHANGE)
        out['dir_swap'] = [os.path.isdir(P('c')), rd('d')]
        os.rename(P('b'), P('a2'))
        out['overwrite'] = [sorted(os.listdir(mnt)), rd('a2')]
        out['both_flags'] = errname(renameat2, P('a2'), P('x'), RENAME_EXCHANGE | RENAME_NOREPLACE)
        return out
      `);
      assert.equal(r, {
        noreplace: 'EEXIST', intact: 'AB', moved: [false, 'A'], swapped: 'BA', exch_missing: 'ENOENT',
        dir_swap: [true, 'C'], overwrite: [['a2', 'c', 'd'], 'A'], both_flags: 'EINVAL',
      });
    });
  });

  t('xattrs: set, get, list, remove, CREATE/REPLACE flags, getfattr', async () => {
    await mounted(async ({ mnt }) => {
      const r = await inPython<Record<string, unknown>>(mnt, `
        import subprocess
        open(P('f'), 'w').close()
        out = {}
        os.setxattr(P('f'), 'user.one', b'1')
        os.setxattr(P('f'), 'user.big', b'v' * 5000)
        out['get'] = os.getxattr(P('f'), 'user.one').decode()
        out['bigLen'] = len(os.getxattr(P('f'), 'user.big'))
        out['list'] = sorted(os.listxattr(P('f')))
        out['create'] = errname(os.setxattr, P('f'), 'user.one', b'2', os.XATTR_CREATE)
        out['replace'] = errname(os.setxattr, P('f'), 'user.none', b'2', os.XATTR_REPLACE)
        os.setxattr(P('f'), 'user.one', b'11', os.XATTR_REPLACE)
        out['replaced'] = os.getxattr(P('f'), 'user.one').decode()
        subprocess.run(['setfattr', '-n', 'user.tool', '-v', 'fromtool', P('f')], check=True)
        out['getfattr'] = subprocess.run(['getfattr', '--only-values', '-n', 'user.tool', P('f')], check=True, capture_output=True).stdout.decode()
        os.removexattr(P('f'), 'user.big')
        out['after'] = sorted(os.listxattr(P('f')))
        out['missing'] = errname(os.getxattr, P('f'), 'user.big')
        out['removeMissing'] = errname(os.removexattr, P('f'), 'user.big')
        return out
      `);
      assert.equal(r, {
        get: '1', bigLen: 5000, list: ['user.big', 'user.one'], create: 'EEXIST', replace: 'ENODATA', replaced: '11',
        getfattr: 'fromtool', after: ['user.one', 'user.tool'], missing: 'ENODATA', removeMissing: 'ENODATA',
      });
    });
  });

  t('fallocate: posix_fallocate and fallocate(1) extend, punch-hole zeroes', async () => {
    await mounted(async ({ mnt }) => {
      const r = await inPython<unknown[]>(mnt, `
        import subprocess
        fd = os.open(P('f'), os.O_RDWR | os.O_CREAT, 0o644)
        os.posix_fallocate(fd, 0, 1 << 20)
        a = os.fstat(fd).st_size
        os.close(fd)
        subprocess.run(['fallocate', '-l', '2MiB', P('f')], check=True)
        b = os.stat(P('f')).st_size
        subprocess.run(['fallocate', '-n', '-l', '3MiB', P('f')], check=True)
        c = os.stat(P('f')).st_size
        with open(P('g'), 'wb') as f:
            f.write(b'a' * 8192)
        subprocess.run(['fallocate', '-p', '-o', '0', '-l', '4096', P('g')], check=True)
        g = open(P('g'), 'rb').read()
        return [a, b, c, len(g), g[:4096] == bytes(4096), g[4096:] == b'a' * 4096]
      `);
      assert.equal(r, [MiB, 2 * MiB, 2 * MiB, 8192, true, true]);
    });
  });

  t('permissions with default_permissions and several users (allow_other)', async () => {
    await mounted(async ({ mnt }) => {
      await inPython(mnt, `
        os.mkdir(P('pub')); os.chmod(P('pub'), 0o777)
        with open(P('rootfile'), 'w') as f:
            f.write('root only')
        os.chmod(P('rootfile'), 0o644)
        os.mkdir(P('sgid')); os.chown(P('sgid'), 0, 50); os.chmod(P('sgid'), 0o2777)
        os.mkdir(P('private')); os.chmod(P('private'), 0o700)
      `);
      const r = await inPython<Record<string, unknown>>(
        mnt,
        `
        out = {'who': [os.getuid(), os.getgid()]}
        os.umask(0o022)
        with open(P('pub', 'mine'), 'w') as f:
            f.write('mine')
        st = os.stat(P('pub', 'mine'))
        out['mine'] = [st.st_uid, st.st_gid, oct(st.st_mode)]
        out['writeRoot'] = errname(open, P('rootfile'), 'a')
        out['readRoot'] = open(P('rootfile')).read()
        out['unlinkRoot'] = errname(os.unlink, P('rootfile'))
        out['createInRoot'] = errname(open, P('nope'), 'w')
        out['private'] = errname(os.listdir, P('private'))
        out['chownAway'] = errname(os.chown, P('pub', 'mine'), 0, 0)
        open(P('sgid', 'f'), 'w').close()
        os.mkdir(P('sgid', 'sub'))
        f, d = os.stat(P('sgid', 'f')), os.stat(P('sgid', 'sub'))
        out['sgid'] = [f.st_uid, f.st_gid, d.st_gid, bool(d.st_mode & stat.S_ISGID)]
        return out
      `,
        { uid: 1000, gid: 1000 },
      );
      assert.equal(r, {
        who: [1000, 1000], mine: [1000, 1000, '0o100644'], writeRoot: 'EACCES', readRoot: 'root only', unlinkRoot: 'EACCES',
        createInRoot: 'EACCES', private: 'EACCES', chownAway: 'EPERM', sgid: [1000, 50, 50, true],
      });
      // and node as uid 1000 sees the same
      const n = await inChild<string>(mnt, `try { fs.writeFileSync(path.join(mnt, 'rootfile'), 'x'); return 'wrote'; } catch (e) { return e.code; }`, { uid: 1000 });
      assert.is(n, 'EACCES');
    });
  });

  t.run();
}
