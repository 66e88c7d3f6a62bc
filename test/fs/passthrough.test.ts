// The passthrough filesystem mounted for real (embedded mode), in the 2x2 matrix of `tsfuse passthrough`:
// with and without --nocache, with and without kernel passthrough (FOPEN_PASSTHROUGH). One test body runs in
// all four configurations. Every check runs in a child process (python3 or node): this thread serves the
// mount. SOURCE trees live in /var/tmp (ext4); the test thread reads and changes SOURCE directly.
// TSFUSE_PT_CONFIGS=nocache+pt,... runs only some configurations.

import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { createHash, randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { inChild, run } from '../helpers/client.js';
import { inPython, type PyOptions } from '../helpers/python.js';
import { rootCtx } from '../helpers/fs-wrappers.js';
import { configName, resetCalls, selectedConfigs, withPassthrough, type PtConfig, type PtMounted } from '../helpers/passthrough.js';
import type { DirentPlusSink, Entry } from '../../src/fs/types.js';

const MiB = 1 << 20;

function dedent(s: string): string {
  const lines = s.replace(/^\s*\n/, '').replace(/\s+$/, '').split('\n');
  const ind = Math.min(...lines.filter((l) => l.trim()).map((l) => /^ */.exec(l)![0].length));
  return lines.map((l) => l.slice(ind)).join('\n');
}

/** A python check with `S` (SOURCE) and Q(*parts) (a path under SOURCE) in scope besides mnt and P. */
function py<T = unknown>(m: PtMounted, body: string, opts?: PyOptions): Promise<T> {
  return inPython<T>(m.mnt, `S = ${JSON.stringify(m.src)}\ndef Q(*parts):\n    return os.path.join(S, *parts)\n${dedent(body)}`, opts);
}

const sha = (b: Uint8Array): string => createHash('sha256').update(b).digest('hex');

function lstatSrc(m: PtMounted, ...parts: string[]): fs.Stats {
  return fs.lstatSync(path.join(m.src, ...parts));
}

function defineMatrix(cfg: PtConfig): void {
  const name = configName(cfg);
  const t = suite(`passthrough mount [${name}]`);
  const mounted = <T>(fn: (m: PtMounted) => Promise<T>, opts: Parameters<typeof withPassthrough>[2] = {}): Promise<T> =>
    withPassthrough(cfg, fn, opts);

  t('statvfs equals the source filesystem\'s', async () => {
    await mounted(async (m) => {
      fs.mkdirSync(path.join(m.src, 'sub'));
      const r = await py<{ a: number[]; b: number[]; c: number[]; free: number[][] }>(m, `
        def sv(p):
            s = os.statvfs(p)
            return [s.f_bsize, s.f_frsize, s.f_blocks, s.f_files, s.f_namemax, s.f_flag & os.ST_RDONLY]
        a = sv(mnt); b = sv(S); c = sv(P('sub'))
        x = os.statvfs(mnt); y = os.statvfs(S)
        return {'a': a, 'b': b, 'c': c, 'free': [[x.f_bfree, y.f_bfree], [x.f_bavail, y.f_bavail], [x.f_ffree, y.f_ffree]]}
      `);
      assert.equal(r.a, r.b);
      assert.equal(r.c, r.b);
      // free counts of a shared disk may move between the two calls, but not by much
      for (const [x, y] of r.free) assert.ok(Math.abs(x - y) <= Math.max(1024, y / 1000), `free counts ${x} vs ${y}`);
      const df = await run('stat', ['-f', '-c', '%S %b %c %l', m.mnt]);
      const dfSrc = await run('stat', ['-f', '-c', '%S %b %c %l', m.src]);
      assert.is(df.stdout, dfSrc.stdout);
    });
  });

  t('readdir reports the source\'s inode numbers (scandir inode(), ls -i)', async () => {
    await mounted(
      async (m) => {
        const r = await py<Record<string, Record<string, number[]>>>(m, `
          def listing(d):
              return {e.name: [e.inode(), os.lstat(os.path.join(d, e.name)).st_ino] for e in os.scandir(d)}
          return {'mnt': listing(P('d')), 'src': listing(Q('d')), 'mroot': listing(mnt), 'sroot': listing(S)}
        `);
        assert.is(Object.keys(r.src).length, 14);
        assert.equal(r.mnt, r.src);
        assert.equal(r.mroot, r.sroot);
        for (const [n, [dIno, stIno]] of Object.entries(r.mnt)) assert.is(dIno, stIno, n);
        // ls -i with . and .. (.. of d is the root, whose number is SOURCE's)
        const a = await run('ls', ['-ia1', path.join(m.mnt, 'd')]);
        const b = await run('ls', ['-ia1', path.join(m.src, 'd')]);
        assert.is(a.code, 0, a.stderr);
        assert.is(a.stdout, b.stdout);
        const st = await py<number[]>(m, `return [os.stat(mnt).st_ino, os.stat(P('d')).st_ino, os.stat(P('d', 'sub')).st_ino]`);
        assert.equal(st, [lstatSrc(m).ino, lstatSrc(m, 'd').ino, lstatSrc(m, 'd', 'sub').ino]);
      },
      {
        setup: (src) => {
          fs.mkdirSync(path.join(src, 'd'));
          for (let i = 0; i < 10; i++) fs.writeFileSync(path.join(src, 'd', `f${i}`), `file ${i}`);
          fs.mkdirSync(path.join(src, 'd', 'sub'));
          fs.symlinkSync('f1', path.join(src, 'd', 'link'));
          fs.symlinkSync('/nowhere', path.join(src, 'd', 'dangling'));
          fs.linkSync(path.join(src, 'd', 'f2'), path.join(src, 'd', 'hardlink'));
        },
      },
    );
  });

  t('readdir of 500 names of 200+ bytes: each exactly once, over several calls, same inode numbers', async () => {
    await mounted(async (m) => {
      await py(m, `
        os.mkdir(P('big'))
        for i in range(500):
            os.close(os.open(P('big', '%04d-' % i + 'n' * 210), os.O_CREAT | os.O_WRONLY, 0o644))
      `);
      resetCalls(m.calls);
      const r = await py<{ mnt: [string, number][]; src: [string, number][] }>(m, `
        return {'mnt': [[e.name, e.inode()] for e in os.scandir(P('big'))], 'src': [[e.name, e.inode()] for e in os.scandir(Q('big'))]}
      `);
      const calls = (m.calls.readdirplus ?? 0) + (m.calls.readdir ?? 0);
      assert.is(r.mnt.length, 500);
      assert.is(new Set(r.mnt.map(([n]) => n)).size, 500);
      const want = Array.from({ length: 500 }, (_, i) => `${String(i).padStart(4, '0')}-${'n'.repeat(210)}`);
      assert.equal(r.mnt.map(([n]) => n).sort(), want);
      const byName = new Map(r.src);
      for (const [n, ino] of r.mnt) assert.is(ino, byName.get(n), n);
      assert.ok(calls >= 2, `expected several READDIR(PLUS) calls, got ${calls}`);
      assert.is(fs.readdirSync(path.join(m.src, 'big')).length, 500);
      // telldir/seekdir/rewinddir in the middle of the stream (glibc's, over lseek on the directory)
      const sd = await py<unknown[]>(m, `
        libc = ctypes.CDLL(None, use_errno=True)
        class Dirent(ctypes.Structure):
            _fields_ = [('d_ino', ctypes.c_uint64), ('d_off', ctypes.c_int64), ('d_reclen', ctypes.c_ushort),
                        ('d_type', ctypes.c_ubyte), ('d_name', ctypes.c_char * 256)]
        libc.opendir.restype = ctypes.c_void_p; libc.opendir.argtypes = [ctypes.c_char_p]
        libc.readdir.restype = ctypes.POINTER(Dirent); libc.readdir.argtypes = [ctypes.c_void_p]
        libc.telldir.restype = ctypes.c_long; libc.telldir.argtypes = [ctypes.c_void_p]
        libc.seekdir.argtypes = [ctypes.c_void_p, ctypes.c_long]
        libc.rewinddir.argtypes = [ctypes.c_void_p]; libc.closedir.argtypes = [ctypes.c_void_p]
        def names(d, n=None):
            out = []
            while n is None or len(out) < n:
                e = libc.readdir(d)
                if not e: break
                out.append([e.contents.d_name.decode(), e.contents.d_ino])
            return out
        d = libc.opendir(os.fsencode(P('big')))
        first = names(d, 250)
        pos = libc.telldir(d)
        rest = names(d)
        libc.seekdir(d, pos)
        again = names(d)
        libc.rewinddir(d)
        whole = names(d)
        libc.closedir(d)
        src = {e.name: e.inode() for e in os.scandir(Q('big'))}
        src['.'] = os.stat(Q('big')).st_ino; src['..'] = os.stat(S).st_ino
        return [len(first) + len(rest), rest == again, sorted(first + rest) == sorted(whole),
                len(set(n for n, _ in whole)), all(src[n] == ino for n, ino in whole)]
      `);
      assert.equal(sd, [502, true, true, 502, true]);
    });
  });

  t('open/read: the source\'s bytes, whole and at offsets', async () => {
    const data = randomBytes(3 * MiB + 12345);
    await mounted(
      async (m) => {
        const r = await py<Record<string, unknown>>(m, `
          import hashlib
          with open(P('data'), 'rb') as f:
              whole = f.read()
          fd = os.open(P('data'), os.O_RDONLY)
          parts = [os.pread(fd, 10, 0).hex(), os.pread(fd, 100, (1 << 20) - 50).hex(), len(os.pread(fd, 100, len(whole) - 10)),
                   len(os.pread(fd, 100, len(whole) + 5))]
          os.close(fd)
          return {'hash': hashlib.sha256(whole).hexdigest(), 'len': len(whole), 'parts': parts,
                  'empty': open(P('empty'), 'rb').read().hex(), 'missing': errname(os.open, P('nope'), os.O_RDONLY)}
        `);
        assert.equal(r, {
          hash: sha(data),
          len: data.length,
          parts: [data.subarray(0, 10).toString('hex'), data.subarray(MiB - 50, MiB + 50).toString('hex'), 10, 0],
          empty: '',
          missing: 'ENOENT',
        });
      },
      {
        setup: (src) => {
          fs.writeFileSync(path.join(src, 'data'), data);
          fs.writeFileSync(path.join(src, 'empty'), '');
        },
      },
    );
  });

  t('open/write: bytes written through the mount land in the source', async () => {
    await mounted(
      async (m) => {
        const h = await py<[string, number, number, number]>(m, `
          import hashlib
          data = bytes(range(256)) * (8 * 1024 + 3)
          with open(P('w'), 'wb') as f:
              f.write(data)
          fd = os.open(P('w'), os.O_RDWR)
          os.pwrite(fd, b'MIDDLE', 1 << 20)
          os.close(fd)
          fd = os.open(P('existing'), os.O_WRONLY)
          os.write(fd, b'NEW')
          os.close(fd)
          data = data[:1 << 20] + b'MIDDLE' + data[(1 << 20) + 6:]
          size1 = os.stat(P('w')).st_size
          with open(P('w'), 'ab') as f: f.write(b'tail')
          size2 = os.stat(P('w')).st_size
          return [hashlib.sha256(data).hexdigest(), size1, size2, len(data)]
        `);
        const [hash, size1, size2, len] = h;
        assert.is(size1, len);
        assert.is(size2, len + 4);
        assert.is(sha(fs.readFileSync(path.join(m.src, 'w')).subarray(0, len)), hash);
        assert.is(fs.readFileSync(path.join(m.src, 'existing'), 'utf8'), 'NEWold content');
      },
      { setup: (src) => fs.writeFileSync(path.join(src, 'existing'), 'oldold content') },
    );
  });

  t('create: O_EXCL, mode with umask, owner root, shows in the source', async () => {
    await mounted(async (m) => {
      const r = await py<unknown[]>(m, `
        os.umask(0o022)
        os.close(os.open(P('new'), os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o666))
        os.umask(0)
        os.close(os.open(P('new2'), os.O_CREAT | os.O_WRONLY, 0o640))
        st = os.stat(P('new'))
        again = errname(os.open, P('new'), os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o666)
        missing = errname(os.open, P('nodir', 'x'), os.O_CREAT | os.O_WRONLY, 0o666)
        return [oct(st.st_mode), st.st_size, st.st_uid, again, missing, oct(os.stat(P('new2')).st_mode)]
      `);
      assert.equal(r, ['0o100644', 0, 0, 'EEXIST', 'ENOENT', '0o100640']);
      const st = lstatSrc(m, 'new');
      assert.is(st.mode, 0o100644);
      assert.is(st.uid, 0);
      assert.is(lstatSrc(m, 'new2').mode, 0o100640);
    });
  });

  t('changes in the source show through the mount and the other way', async () => {
    await mounted(async (m) => {
      // mount -> source, every configuration: at once
      await py(m, `
        with open(P('f'), 'w') as f:
            f.write('through the mount')
        os.mkdir(P('dir'))
        os.rename(P('f'), P('dir', 'moved'))
      `);
      assert.is(fs.readFileSync(path.join(m.src, 'dir', 'moved'), 'utf8'), 'through the mount');
      assert.not.ok(fs.existsSync(path.join(m.src, 'f')));
      // source -> mount: a name never looked up through the mount is found in every configuration
      fs.writeFileSync(path.join(m.src, 'fresh'), 'made in the source');
      assert.is(await py<string>(m, `return open(P('fresh')).read()`), 'made in the source');
      if (!cfg.nocache) return;
      // with --nocache everything changed behind the mount's back is seen at once
      const r = await py<unknown[]>(m, `
        out = []
        with open(Q('g'), 'w') as f: f.write('one')
        out.append(open(P('g')).read())
        with open(Q('g'), 'w') as f: f.write('two, longer')
        out.append(open(P('g')).read())
        out.append(os.stat(P('g')).st_size)
        out.append(errname(os.stat, P('later')))
        with open(Q('later'), 'w') as f: f.write('later')
        out.append(open(P('later')).read())
        os.unlink(Q('later'))
        out.append(errname(os.stat, P('later')))
        os.rename(Q('g'), Q('h'))
        out.append(errname(os.stat, P('g')))
        out.append(open(P('h')).read())
        os.chmod(Q('h'), 0o600)
        out.append(oct(os.stat(P('h')).st_mode))
        os.mkdir(Q('newdir'))
        with open(Q('newdir', 'x'), 'w') as f: f.write('x')
        out.append(sorted(os.listdir(P('newdir'))))
        with open(Q('newdir', 'y'), 'w') as f: f.write('y')
        out.append(sorted(os.listdir(P('newdir'))))
        os.utime(Q('h'), ns=(5 * 10**18 // 10**9 * 10**9, 1234567890123456789))
        out.append(os.stat(P('h')).st_mtime_ns)
        return out
      `);
      assert.equal(r, [
        'one', 'two, longer', 11, 'ENOENT', 'later', 'ENOENT', 'ENOENT', 'two, longer', '0o100600', ['x'], ['x', 'y'],
        1234567890123456789,
      ]);
    });
  });

  t('O_APPEND writes go to the end even after a seek', async () => {
    await mounted(async (m) => {
      const r = await py<string>(m, `
        with open(P('log'), 'wb') as f:
            f.write(b'abc')
        fd = os.open(P('log'), os.O_WRONLY | os.O_APPEND)
        os.lseek(fd, 0, os.SEEK_SET)
        os.write(fd, b'def')
        fd2 = os.open(P('log'), os.O_WRONLY | os.O_APPEND)
        os.write(fd2, b'ghi')
        os.write(fd, b'jkl')
        os.close(fd); os.close(fd2)
        with open(P('log'), 'ab') as f:
            f.write(b'mno')
        return open(P('log')).read()
      `);
      assert.is(r, 'abcdefghijklmno');
      assert.is(fs.readFileSync(path.join(m.src, 'log'), 'utf8'), 'abcdefghijklmno');
    });
  });

  t('lseek SET/CUR/END; a write past EOF leaves zeros', async () => {
    await mounted(async (m) => {
      const r = await py<Record<string, unknown>>(m, `
        fd = os.open(P('s'), os.O_RDWR | os.O_CREAT, 0o644)
        os.write(fd, b'0123456789')
        out = {'end': os.lseek(fd, 0, os.SEEK_END), 'cur': os.lseek(fd, -3, os.SEEK_CUR), 'set': os.lseek(fd, 2, os.SEEK_SET)}
        out['read'] = os.read(fd, 3).decode()
        out['after'] = os.lseek(fd, 0, os.SEEK_CUR)
        os.lseek(fd, 20, os.SEEK_SET)
        os.write(fd, b'X')
        out['size'] = os.fstat(fd).st_size
        os.lseek(fd, 8, os.SEEK_SET)
        out['tail'] = os.read(fd, 100).hex()
        out['neg'] = errname(os.lseek, fd, -1, os.SEEK_SET)
        os.close(fd)
        return out
      `);
      assert.equal(r, { end: 10, cur: 7, set: 2, read: '234', after: 5, size: 21, tail: '3839' + '00'.repeat(10) + '58', neg: 'EINVAL' });
      assert.is(lstatSrc(m, 's').size, 21);
    });
  });

  t('mkdir and rmdir', async () => {
    await mounted(async (m) => {
      const r = await py<unknown[]>(m, `
        os.umask(0)
        os.mkdir(P('d'), 0o750)
        os.makedirs(P('d', 'a', 'b', 'c'))
        open(P('d', 'file'), 'w').close()
        out = [oct(os.stat(P('d')).st_mode), errname(os.mkdir, P('d')), errname(os.rmdir, P('d')), errname(os.rmdir, P('d', 'file')),
               errname(os.rmdir, P('nope'))]
        os.rmdir(P('d', 'a', 'b', 'c'))
        out.append(os.listdir(P('d', 'a', 'b')))
        out.append(os.stat(P('d', 'a')).st_nlink)
        return out
      `);
      assert.equal(r, ['0o40750', 'EEXIST', 'ENOTEMPTY', 'ENOTDIR', 'ENOENT', [], 3]);
      assert.is(lstatSrc(m, 'd').mode, 0o40750);
      assert.ok(lstatSrc(m, 'd', 'a', 'b').isDirectory());
      assert.not.ok(fs.existsSync(path.join(m.src, 'd', 'a', 'b', 'c')));
      await py(m, `os.rmdir(P('d', 'a', 'b')); os.rmdir(P('d', 'a'))`);
      assert.equal(fs.readdirSync(path.join(m.src, 'd')), ['file']);
    });
  });

  t('unlink', async () => {
    await mounted(async (m) => {
      const r = await py<string[]>(m, `
        open(P('a'), 'w').close()
        os.mkdir(P('dir'))
        os.unlink(P('a'))
        return [errname(os.stat, P('a')), errname(os.unlink, P('a')), errname(os.unlink, P('dir')), errname(os.unlink, P('pre'))]
      `);
      assert.equal(r, ['ENOENT', 'ENOENT', 'EISDIR', 'OK']);
      assert.equal(fs.readdirSync(m.src), ['dir']);
    }, { setup: (src) => fs.writeFileSync(path.join(src, 'pre'), 'x') });
  });

  t('symlink and readlink', async () => {
    await mounted(async (m) => {
      const r = await py<unknown[]>(m, `
        with open(P('target'), 'w') as f: f.write('pointed at')
        os.symlink('target', P('rel'))
        os.symlink('some/where/../else', P('dangling'))
        long = 'x/' * 1000 + 'end'
        os.symlink(long, P('long'))
        st = os.lstat(P('rel'))
        return [stat.S_ISLNK(st.st_mode), st.st_size, os.readlink(P('rel')), open(P('rel')).read(), os.readlink(P('dangling')),
                errname(os.stat, P('dangling')), os.readlink(P('long')) == long, errname(os.symlink, 'x', P('rel')),
                os.readlink(P('pre'))]
      `);
      assert.equal(r, [true, 6, 'target', 'pointed at', 'some/where/../else', 'ENOENT', true, 'EEXIST', '../outside/../x']);
      assert.is(fs.readlinkSync(path.join(m.src, 'rel')), 'target');
      assert.is(fs.readlinkSync(path.join(m.src, 'dangling')), 'some/where/../else');
      assert.is(fs.readlinkSync(path.join(m.src, 'long')).length, 2003);
    }, { setup: (src) => fs.symlinkSync('../outside/../x', path.join(src, 'pre')) });
  });

  t('chown and lchown; an unprivileged user may not give files away', async () => {
    await mounted(async (m) => {
      const r = await py<number[][]>(m, `
        open(P('f'), 'w').close()
        os.symlink('f', P('l'))
        os.chown(P('f'), 1234, 5678)
        os.lchown(P('l'), 4321, 8765)
        a = os.lstat(P('f')); b = os.lstat(P('l'))
        os.chown(P('f'), -1, 42)
        c = os.lstat(P('f'))
        open(P('mine'), 'w').close()
        os.chown(P('mine'), 1000, 1000)
        return [[a.st_uid, a.st_gid], [b.st_uid, b.st_gid], [c.st_uid, c.st_gid]]
      `);
      assert.equal(r, [[1234, 5678], [4321, 8765], [1234, 42]]);
      const f = lstatSrc(m, 'f');
      const l = lstatSrc(m, 'l');
      assert.equal([f.uid, f.gid, l.uid, l.gid], [1234, 42, 4321, 8765]);
      const u = await py<string[]>(m, `return [errname(os.chown, P('mine'), 0, -1), errname(os.chown, P('mine'), -1, 0), errname(os.chown, P('f'), 1000, -1)]`, { uid: 1000, gid: 1000 });
      assert.equal(u, ['EPERM', 'EPERM', 'EPERM']);
      assert.is(lstatSrc(m, 'mine').uid, 1000);
    });
  });

  t('utimens with nanoseconds (files and symlinks), UTIME_NOW', async () => {
    await mounted(async (m) => {
      const r = await py<number[]>(m, `
        open(P('f'), 'w').close()
        os.symlink('f', P('l'))
        os.utime(P('f'), ns=(1000000123456789, 1500000987654321))
        os.utime(P('l'), ns=(1100000000000001, 1200000000000002), follow_symlinks=False)
        a = os.stat(P('f')); b = os.lstat(P('l'))
        fd = os.open(P('f'), os.O_RDWR)
        os.utime(fd, ns=(1300000000000003, 1400000000000004))
        c = os.fstat(fd)
        os.close(fd)
        t0 = time.time_ns()
        open(P('g'), 'w').close()
        os.utime(P('g'), ns=(1, 2))
        os.utime(P('g'))
        g = os.stat(P('g'))
        return [a.st_atime_ns, a.st_mtime_ns, b.st_atime_ns, b.st_mtime_ns, c.st_atime_ns, c.st_mtime_ns, g.st_mtime_ns - t0]
      `);
      assert.equal(r.slice(0, 6), [1000000123456789, 1500000987654321, 1100000000000001, 1200000000000002, 1300000000000003, 1400000000000004]);
      assert.ok(r[6] > -2e9 && r[6] < 10e9, `UTIME_NOW gave ${r[6]} ns from now`);
      const f = fs.lstatSync(path.join(m.src, 'f'), { bigint: true });
      const l = fs.lstatSync(path.join(m.src, 'l'), { bigint: true });
      assert.equal([f.atimeNs, f.mtimeNs, l.atimeNs, l.mtimeNs], [1300000000000003n, 1400000000000004n, 1100000000000001n, 1200000000000002n]);
    });
  });

  t('link: one inode, nlink 2, back to 1 after an unlink', async () => {
    await mounted(async (m) => {
      const r = await py<unknown[]>(m, `
        with open(P('a'), 'w') as f: f.write('shared')
        os.mkdir(P('d'))
        os.link(P('a'), P('d', 'b'))
        a = os.stat(P('a')); b = os.stat(P('d', 'b'))
        out = [a.st_nlink, b.st_nlink, a.st_ino == b.st_ino, a.st_ino == os.stat(Q('a')).st_ino]
        with open(P('d', 'b'), 'a') as f: f.write('!')
        out.append(open(P('a')).read())
        os.unlink(P('a'))
        out.append(os.stat(P('d', 'b')).st_nlink)
        out.append(errname(os.link, P('d'), P('dirlink')))
        out.append(errname(os.link, P('d', 'b'), P('d', 'b')))
        os.symlink('d/b', P('sym'))
        os.link(P('sym'), P('symlink2'), follow_symlinks=False)
        out.append([stat.S_ISLNK(os.lstat(P('symlink2')).st_mode), os.lstat(P('sym')).st_nlink])
        return out
      `);
      assert.equal(r, [2, 2, true, true, 'shared!', 1, 'EPERM', 'EEXIST', [true, 2]]);
      assert.is(lstatSrc(m, 'd', 'b').nlink, 1);
      assert.is(fs.readFileSync(path.join(m.src, 'd', 'b'), 'utf8'), 'shared!');
    });
  });

  t('truncate by path and by fd', async () => {
    await mounted(async (m) => {
      const r = await py<unknown[]>(m, `
        with open(P('f'), 'w') as f: f.write('0123456789')
        os.truncate(P('f'), 3)
        out = [open(P('f')).read()]
        os.truncate(P('f'), 6)
        out.append(open(P('f'), 'rb').read().hex())
        fd = os.open(P('f'), os.O_RDWR)
        os.ftruncate(fd, 1)
        out.append(os.fstat(fd).st_size)
        out.append(os.pread(fd, 10, 0).decode())
        os.close(fd)
        fd = os.open(P('f'), os.O_WRONLY | os.O_TRUNC)
        out.append(os.fstat(fd).st_size)
        os.close(fd)
        out.append(errname(os.truncate, P('nope'), 0))
        return out
      `);
      assert.equal(r, ['012', '303132000000', 1, '0', 0, 'ENOENT']);
      assert.is(lstatSrc(m, 'f').size, 0);
    });
  });

  t('open-unlink: the open file stays usable after its name is gone', async () => {
    await mounted(async (m) => {
      const r = await py<unknown[]>(m, `
        fd = os.open(P('f'), os.O_RDWR | os.O_CREAT, 0o644)
        os.write(fd, b'before')
        os.unlink(P('f'))
        out = [errname(os.stat, P('f')), os.path.exists(Q('f'))]
        os.write(fd, b' after')
        out.append(os.pread(fd, 100, 0).decode())
        st = os.fstat(fd)
        out.append([st.st_nlink, st.st_size])
        os.ftruncate(fd, 3)
        os.fchmod(fd, 0o600)
        st = os.fstat(fd)
        out.append([st.st_size, oct(st.st_mode)])
        fd2 = os.open(P('f'), os.O_RDWR | os.O_CREAT, 0o644)
        os.write(fd2, b'new file')
        out.append(os.pread(fd, 100, 0).decode())
        os.close(fd); os.close(fd2)
        out.append(open(P('f')).read())
        return out
      `);
      assert.equal(r, ['ENOENT', false, 'before after', [0, 12], [3, '0o100600'], 'bef', 'new file']);
      assert.is(fs.readFileSync(path.join(m.src, 'f'), 'utf8'), 'new file');
    });
  });

  t('rename, RENAME_NOREPLACE and RENAME_EXCHANGE (renameat2)', async () => {
    await mounted(async (m) => {
      const r = await py<unknown[]>(m, `
        def w(p, s):
            with open(p, 'w') as f: f.write(s)
        w(P('a'), 'A'); w(P('b'), 'B'); os.mkdir(P('d')); w(P('d', 'c'), 'C'); os.mkdir(P('e')); w(P('e', 'x'), 'X')
        out = [errname(renameat2, P('a'), P('b'), RENAME_NOREPLACE), open(P('a')).read(), open(P('b')).read()]
        renameat2(P('a'), P('a2'), RENAME_NOREPLACE)
        out.append([os.path.exists(P('a')), open(P('a2')).read()])
        renameat2(P('a2'), P('b'), RENAME_EXCHANGE)
        out.append([open(P('a2')).read(), open(P('b')).read()])
        renameat2(P('b'), P('d'), RENAME_EXCHANGE)
        out.append([stat.S_ISDIR(os.stat(P('b')).st_mode), open(P('b', 'c')).read(), open(P('d')).read()])
        out.append(errname(renameat2, P('a2'), P('nope'), RENAME_EXCHANGE))
        os.rename(P('a2'), P('d'))
        out.append([os.path.exists(P('a2')), open(P('d')).read()])
        out.append(errname(os.rename, P('e'), P('b')))
        out.append(errname(os.rename, P('b'), P('b', 'inside')))
        os.rename(P('e'), P('b', 'e'))
        out.append(open(P('b', 'e', 'x')).read())
        return out
      `);
      assert.equal(r, ['EEXIST', 'A', 'B', [false, 'A'], ['B', 'A'], [true, 'C', 'A'], 'ENOENT', [false, 'B'], 'ENOTEMPTY', 'EINVAL', 'X']);
      assert.equal(fs.readdirSync(m.src).sort(), ['b', 'd']);
      assert.is(fs.readFileSync(path.join(m.src, 'd'), 'utf8'), 'B');
      assert.is(fs.readFileSync(path.join(m.src, 'b', 'e', 'x'), 'utf8'), 'X');
    });
  });

  t('xattrs: set/get/list/remove, flags, a value larger than the server\'s first buffer', async () => {
    await mounted(async (m) => {
      const r = await py<unknown[]>(m, `
        open(P('f'), 'w').close()
        os.mkdir(P('d'))
        os.setxattr(P('f'), 'user.one', b'1')
        os.setxattr(P('f'), 'user.two', b'two')
        os.setxattr(P('d'), 'user.dir', b'on a dir')
        os.setxattr(P('f'), 'trusted.t', b'root only')
        # ext4 keeps all of a file's xattrs in one 4 KiB block; the server's first try uses a 1 KiB buffer
        big = bytes(range(256)) * 11 + b'tail'
        os.setxattr(P('f'), 'user.big', big)
        out = [os.getxattr(P('f'), 'user.two').decode(), sorted(os.listxattr(P('f'))), os.getxattr(P('d'), 'user.dir').decode(),
               os.getxattr(P('f'), 'user.big') == big, os.getxattr(Q('f'), 'user.big') == big, os.getxattr(Q('f'), 'trusted.t').decode(),
               errname(os.setxattr, P('f'), 'user.one', b'x', os.XATTR_CREATE),
               errname(os.setxattr, P('f'), 'user.none', b'x', os.XATTR_REPLACE),
               errname(os.getxattr, P('f'), 'user.none')]
        os.setxattr(P('f'), 'user.one', b'replaced', os.XATTR_REPLACE)
        out.append(os.getxattr(P('f'), 'user.one').decode())
        os.removexattr(P('f'), 'user.one')
        out.append([errname(os.getxattr, P('f'), 'user.one'), errname(os.removexattr, P('f'), 'user.one'), sorted(os.listxattr(Q('f')))])
        os.setxattr(Q('f'), 'user.behind', b'back')
        out.append(os.getxattr(P('f'), 'user.behind').decode())
        return out
      `);
      assert.equal(r, [
        'two', ['trusted.t', 'user.big', 'user.one', 'user.two'], 'on a dir', true, true, 'root only', 'EEXIST', 'ENODATA', 'ENODATA',
        'replaced', ['ENODATA', 'ENODATA', ['trusted.t', 'user.big', 'user.two']], 'back',
      ]);
    });
  });

  t('fallocate: allocate, keep size, punch a hole', async () => {
    await mounted(async (m) => {
      const r = await py<unknown[]>(m, `
        libc = ctypes.CDLL(None, use_errno=True)
        libc.fallocate.argtypes = [ctypes.c_int, ctypes.c_int, ctypes.c_long, ctypes.c_long]
        FALLOC_FL_KEEP_SIZE = 1; FALLOC_FL_PUNCH_HOLE = 2
        def falloc(fd, mode, off, ln):
            if libc.fallocate(fd, mode, off, ln) != 0:
                e = ctypes.get_errno(); raise OSError(e, os.strerror(e))
        fd = os.open(P('f'), os.O_RDWR | os.O_CREAT, 0o644)
        os.posix_fallocate(fd, 0, 1 << 20)
        out = [os.fstat(fd).st_size, os.stat(Q('f')).st_blocks >= 2048]
        falloc(fd, FALLOC_FL_KEEP_SIZE, 1 << 20, 1 << 20)
        out.append([os.fstat(fd).st_size, os.stat(Q('f')).st_blocks >= 4096])
        os.pwrite(fd, b'\\xff' * 65536, 0)
        falloc(fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, 4096, 8192)
        data = os.pread(fd, 65536, 0)
        out.append([data[:4096] == b'\\xff' * 4096, data[4096:12288] == bytes(8192), data[12288:] == b'\\xff' * (65536 - 12288)])
        out.append(os.fstat(fd).st_size)
        out.append(errname(falloc, fd, FALLOC_FL_PUNCH_HOLE, 0, 4096))
        os.close(fd)
        with open(Q('f'), 'rb') as f:
            d = f.read(65536)
        out.append(d[4096:12288] == bytes(8192))
        return out
      `);
      assert.equal(r, [MiB, true, [MiB, true], [true, true, true], MiB, 'ENOTSUP', true]);
    });
  });

  t('SEEK_DATA / SEEK_HOLE on a sparse file', async () => {
    await mounted(async (m) => {
      const r = await py<unknown[]>(m, `
        fd = os.open(P('sparse'), os.O_RDWR | os.O_CREAT, 0o644)
        os.pwrite(fd, b'a' * 4096, 0)
        os.pwrite(fd, b'b' * 4096, 1 << 20)
        os.fsync(fd)
        os.close(fd)
        fd = os.open(P('sparse'), os.O_RDONLY)
        out = [os.lseek(fd, 0, os.SEEK_DATA), os.lseek(fd, 0, os.SEEK_HOLE), os.lseek(fd, 4096, os.SEEK_DATA),
               os.lseek(fd, 1 << 20, os.SEEK_HOLE), errname(os.lseek, fd, (1 << 20) + 4096, os.SEEK_DATA),
               os.fstat(fd).st_size, os.stat(Q('sparse')).st_blocks]
        os.close(fd)
        fd = os.open(Q('sparse'), os.O_RDONLY)
        out.append([os.lseek(fd, 0, os.SEEK_HOLE), os.lseek(fd, 4096, os.SEEK_DATA)])
        os.close(fd)
        return out
      `);
      assert.equal(r.slice(0, 6), [0, 4096, MiB, MiB + 4096, 'ENXIO', MiB + 4096]);
      assert.ok((r[6] as number) <= 64, `sparse file uses ${r[6]} blocks`);
      assert.equal(r[7], [4096, MiB]);
    });
  });

  t('copy_file_range within the mount', async () => {
    const data = randomBytes(MiB + 123);
    await mounted(
      async (m) => {
        const r = await py<unknown[]>(m, `
          import hashlib
          a = os.open(P('a'), os.O_RDONLY)
          b = os.open(P('b'), os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
          n = 0
          size = os.fstat(a).st_size
          while n < size:
              k = os.copy_file_range(a, b, size - n, n, n)
              if k == 0: break
              n += k
          part = os.copy_file_range(a, b, 100, 10, size + 1000)
          os.close(a); os.close(b)
          with open(P('b'), 'rb') as f: got = f.read()
          return [n, part, hashlib.sha256(got[:size]).hexdigest(), got[size:size + 1000] == bytes(1000), len(got)]
        `);
        assert.equal(r, [data.length, 100, sha(data), true, data.length + 1100]);
        const b = fs.readFileSync(path.join(m.src, 'b'));
        assert.is(sha(b.subarray(0, data.length)), sha(data));
        assert.equal(b.subarray(data.length + 1000), data.subarray(10, 110));
      },
      { setup: (src) => fs.writeFileSync(path.join(src, 'a'), data) },
    );
  });

  t('mkfifo (and mknod of a fifo): a FIFO in the source that carries data', async () => {
    await mounted(async (m) => {
      const r = await py<unknown[]>(m, `
        os.umask(0)
        os.mkfifo(P('fifo'), 0o640)
        os.mknod(P('node'), stat.S_IFIFO | 0o600)
        st = os.lstat(P('fifo'))
        r = os.open(P('fifo'), os.O_RDONLY | os.O_NONBLOCK)
        w = os.open(P('fifo'), os.O_WRONLY)
        os.write(w, b'through the pipe')
        got = os.read(r, 100).decode()
        os.close(w); os.close(r)
        return [stat.S_ISFIFO(st.st_mode), oct(st.st_mode & 0o7777), stat.S_ISFIFO(os.lstat(P('node')).st_mode), got,
                errname(os.mkfifo, P('fifo'))]
      `);
      assert.equal(r, [true, '0o640', true, 'through the pipe', 'EEXIST']);
      assert.ok(lstatSrc(m, 'fifo').isFIFO());
      assert.is(lstatSrc(m, 'fifo').mode & 0o7777, 0o640);
      assert.ok(lstatSrc(m, 'node').isFIFO());
    });
  });

  t('nothing outside SOURCE: absolute symlinks are only followed by the kernel, .. stays at the root', async () => {
    const names: string[] = [];
    const dotdotAtRoot: number[] = [];
    let secret = '';
    try {
      await mounted(
        async (m) => {
          const srcParent = path.dirname(m.src);
          const mntParent = path.dirname(m.mnt);
          const r = await py<Record<string, unknown>>(m, `
            out = {}
            st = os.lstat(P('pw'))
            out['pwlink'] = [stat.S_ISLNK(st.st_mode), os.readlink(P('pw'))]
            # following it is the kernel's doing (an absolute symlink leaves the mount): the real /etc/passwd
            out['pwfollow'] = open(P('pw')).read() == open('/etc/passwd').read()
            out['up'] = [sorted(os.listdir(P('..'))) == sorted(os.listdir(os.path.dirname(mnt))),
                         os.stat(P('..')).st_ino == os.stat(os.path.dirname(mnt)).st_ino,
                         os.stat(P('sub', '..', '..')).st_ino == os.stat(os.path.dirname(mnt)).st_ino,
                         os.stat(P('sub', '..')).st_ino == os.stat(S).st_ino]
            out['srcname'] = [errname(os.stat, P('..', os.path.basename(S) + '.secret')), os.path.exists(S + '.secret')]
            out['deep'] = errname(os.stat, P('sub', '..', '..', '..', 'etc', 'passwd-nope'))
            out['dotdot'] = sorted(e.name for e in os.scandir(P('sub', '..')))
            return out
          `);
          assert.equal(r, {
            pwlink: [true, '/etc/passwd'],
            pwfollow: true,
            up: [true, true, true, true],
            srcname: ['ENOENT', true],
            deep: 'ENOENT',
            dotdot: fs.readdirSync(m.src).sort(),
          });
          assert.not.equal(fs.readdirSync(mntParent).sort(), fs.readdirSync(srcParent).sort());
          // ls of the root's '..' through the mount is the mountpoint's parent
          const ls = await run('ls', ['-a1', path.join(m.mnt, '..')]);
          assert.ok(ls.stdout.split('\n').includes(path.basename(m.mnt)));
          assert.not.ok(ls.stdout.split('\n').includes(path.basename(m.src)));
          // the server never saw a name with '/', nor 'etc', 'passwd' or SOURCE's own name; a '..' it was asked
          // about (export support) was answered from its table
          for (const n of names) {
            assert.not.ok(n.includes('/'), `lookup of ${JSON.stringify(n)}`);
            assert.not.ok(['etc', 'passwd', 'passwd-nope', `${path.basename(m.src)}.secret`].includes(n), `lookup of ${n}`);
          }
          // the root's '..' entry in READDIRPLUS carries the root's own inode number, not SOURCE's parent's
          await py(m, `os.listdir(mnt)`);
          const rootIno = lstatSrc(m).ino;
          assert.ok(dotdotAtRoot.length > 0, 'saw the root\'s .. entry');
          for (const ino of dotdotAtRoot) assert.is(ino, rootIno);
          assert.not.equal(rootIno, fs.lstatSync(srcParent).ino);
          // asked directly (as the kernel does for export handles): '..' of the root is the root; names with a
          // path in them are refused
          const ctx = rootCtx();
          assert.is(m.pt.lookup(ctx, 1, '..').ino, 1);
          assert.is(m.pt.lookup(ctx, 1, '.').ino, 1);
          const sub = m.pt.lookup(ctx, 1, 'sub');
          assert.is(m.pt.lookup(ctx, sub.ino, '..').ino, 1);
          for (const bad of ['../secret', '../../etc', 'sub/../..', '']) {
            let code: string | undefined;
            try {
              m.pt.lookup(ctx, 1, bad);
            } catch (e) {
              code = (e as { code?: string }).code;
            }
            assert.is(code, 'EINVAL', `lookup ${JSON.stringify(bad)}`);
          }
          for (const op of [() => m.pt.mkdir(ctx, 1, '..', 0o755, 0), () => m.pt.unlink(ctx, 1, '..'), () => m.pt.rmdir(ctx, sub.ino, '..')]) {
            let code: string | undefined;
            try {
              op();
            } catch (e) {
              code = (e as { code?: string }).code;
            }
            assert.is(code, 'EINVAL');
          }
          m.pt.forget(sub.ino, 2);
        },
        {
          setup: (src) => {
            fs.symlinkSync('/etc/passwd', path.join(src, 'pw'));
            fs.mkdirSync(path.join(src, 'sub'));
            secret = `${src}.secret`;
            fs.writeFileSync(secret, 'x');
          },
          overrides: (pt) => ({
            lookup: (ctx, parent: number, name: string) => {
              names.push(name);
              const e = pt.lookup(ctx, parent, name);
              if (name === '..' && parent === 1) assert.is(e.ino, 1);
              return e;
            },
            readdirplus: (ctx, ino: number, fh: number, off: number, out: DirentPlusSink) =>
              pt.readdirplus(ctx, ino, fh, off, {
                add(name: string | Uint8Array, e: Entry, next: number) {
                  if (ino === 1 && name === '..') dotdotAtRoot.push(e.attr.ino);
                  return out.add(name, e, next);
                },
              }),
          }),
        },
      );
    } finally {
      if (secret) fs.rmSync(secret, { force: true });
    }
  });

  t('a directory or file swapped for a symlink behind the server\'s back does not lead outside SOURCE', async () => {
    await mounted(
      async (m) => {
        const r = await py<Record<string, unknown>>(m, `
          out = {}
          # handles on the kernel's side (no open on the server's side: only lookups so far)
          dfd = os.open(P('a', 'b'), os.O_PATH)
          ffd = os.open(P('a', 'file'), os.O_PATH)
          # and a directory the server has opened (its fd may be cached)
          cfd = os.open(P('a', 'c'), os.O_PATH)
          os.listdir(P('a', 'c'))
          os.rename(Q('a', 'b'), Q('a', 'b.old'))
          os.symlink('/etc', Q('a', 'b'))
          os.rename(Q('a', 'file'), Q('a', 'file.old'))
          os.symlink('/etc/passwd', Q('a', 'file'))
          os.rename(Q('a', 'c'), Q('a', 'c.old'))
          os.symlink('/etc', Q('a', 'c'))
          try:
              out['cached'] = sorted(os.listdir('/proc/self/fd/%d' % cfd))
          except OSError as e:
              out['cached'] = errno.errorcode[e.errno]
          try:
              out['dir'] = sorted(os.listdir('/proc/self/fd/%d' % dfd))
          except OSError as e:
              out['dir'] = errno.errorcode[e.errno]
          try:
              with open('/proc/self/fd/%d' % ffd) as f:
                  out['file'] = f.read()
          except OSError as e:
              out['file'] = errno.errorcode[e.errno]
          # a fresh lookup now finds the symlink itself (the kernel may then follow it: its own doing)
          out['lstat'] = stat.S_ISLNK(os.lstat(P('a', 'b')).st_mode) if ${cfg.nocache ? 'True' : 'False'} else None
          return out
        `);
        const opendirs = m.calls.opendir ?? 0;
        // a directory known only by name: its name now is a symlink, and the server does not follow it
        assert.ok(['ESTALE', 'ENOENT', 'ENOTDIR'].includes(r.dir as string), `listing gave ${JSON.stringify(r.dir)}`);
        // one it had open: still that directory (now b.old's content), or an error, never /etc
        if (Array.isArray(r.cached)) assert.equal(r.cached, ['inner-c']);
        else assert.ok(['ESTALE', 'ENOENT', 'ENOTDIR'].includes(r.cached as string), `listing gave ${JSON.stringify(r.cached)}`);
        assert.ok(opendirs >= 2, `the listings reached the server (${opendirs} OPENDIR)`);
        if (typeof r.file === 'string' && r.file.startsWith('root:')) assert.unreachable('read /etc/passwd through a swapped file');
        assert.ok(['ESTALE', 'ENOENT', 'ELOOP'].includes(r.file as string), `file gave ${r.file}`);
        if (cfg.nocache) assert.is(r.lstat, true);
      },
      {
        setup: (src) => {
          fs.mkdirSync(path.join(src, 'a', 'b'), { recursive: true });
          fs.writeFileSync(path.join(src, 'a', 'b', 'inner'), 'x');
          fs.mkdirSync(path.join(src, 'a', 'c'));
          fs.writeFileSync(path.join(src, 'a', 'c', 'inner-c'), 'x');
          fs.writeFileSync(path.join(src, 'a', 'file'), 'original');
        },
      },
    );
  });

  t(`reading and writing a file: READ/WRITE ${cfg.passthrough ? 'never reach the server (kernel passthrough)' : 'are served by tsfuse'}`, async () => {
    const data = randomBytes(MiB);
    await mounted(
      async (m) => {
        resetCalls(m.calls);
        const r = await py<string[]>(m, `
          import hashlib
          with open(P('big'), 'rb') as f:
              a = hashlib.sha256(f.read()).hexdigest()
          with open(P('out'), 'wb') as f:
              f.write(bytes(range(256)) * 4096)
          fd = os.open(P('big'), os.O_RDONLY)
          b = hashlib.sha256(os.pread(fd, 1 << 20, 0)).hexdigest()
          os.close(fd)
          return [a, b]
        `);
        assert.equal(r, [sha(data), sha(data)]);
        assert.ok((m.calls.open ?? 0) >= 1, 'OPEN reached the server');
        assert.is(fs.readFileSync(path.join(m.src, 'out')).length, MiB);
        if (cfg.passthrough) {
          assert.is(m.calls.read ?? 0, 0, 'READ calls with kernel passthrough');
          assert.is(m.calls.write ?? 0, 0, 'WRITE calls with kernel passthrough');
          assert.not.ok(m.logs.some((l) => /BACKING_OPEN failed/.test(l)), m.logs.join('\n'));
        } else {
          assert.ok((m.calls.read ?? 0) > 0, 'READ calls without kernel passthrough');
          assert.ok((m.calls.write ?? 0) > 0, 'WRITE calls without kernel passthrough');
        }
        // every handle and backing id was given back
        await py(m, `os.stat(mnt)`);
        assert.is(m.pt.stats().files, 0);
      },
      { setup: (src) => fs.writeFileSync(path.join(src, 'big'), data) },
    );
  });

  t('ownership: uid 1000 creates as 1000:1000 in a 0777 dir, with the directory\'s group below a setgid dir', async () => {
    await mounted(
      async (m) => {
        const body = (dir: string) => `
          os.umask(0o022)
          d = P('${dir}')
          os.close(os.open(os.path.join(d, 'file'), os.O_CREAT | os.O_WRONLY, 0o644))
          with open(os.path.join(d, 'file2'), 'w') as f: f.write('x')
          os.mkdir(os.path.join(d, 'dir'))
          os.mkfifo(os.path.join(d, 'fifo'))
          os.mknod(os.path.join(d, 'node'), stat.S_IFIFO | 0o600)
          os.symlink('file', os.path.join(d, 'sym'))
          import socket
          sk = socket.socket(socket.AF_UNIX); sk.bind(os.path.join(d, 'sock')); sk.close()
          os.rename(os.path.join(d, 'file2'), os.path.join(d, 'renamed'))
          return [errname(os.mkdir, P('rootonly', 'x')), errname(os.open, P('rootonly', 'y'), os.O_CREAT | os.O_WRONLY, 0o644)]
        `;
        const denied = await py<string[]>(m, body('pub'), { uid: 1000, gid: 1000 });
        assert.equal(denied, ['EACCES', 'EACCES']);
        await py(m, body('sg'), { uid: 1000, gid: 1000 });
        for (const n of ['file', 'renamed', 'dir', 'fifo', 'node', 'sym', 'sock']) {
          const a = lstatSrc(m, 'pub', n);
          assert.equal([a.uid, a.gid], [1000, 1000], `pub/${n}`);
          const b = lstatSrc(m, 'sg', n);
          assert.equal([b.uid, b.gid], [1000, 4242], `sg/${n}`);
        }
        assert.is(lstatSrc(m, 'pub', 'file').mode, 0o100644);
        assert.is(lstatSrc(m, 'pub', 'dir').mode, 0o40755);
        assert.is(lstatSrc(m, 'sg', 'dir').mode & 0o7777, 0o2755, 'a directory below a setgid one is setgid too');
        assert.is(lstatSrc(m, 'pub', 'fifo').mode, 0o10644);
        assert.is(lstatSrc(m, 'pub', 'node').mode, 0o10600);
        assert.ok(lstatSrc(m, 'pub', 'sym').isSymbolicLink());
        assert.ok(lstatSrc(m, 'pub', 'sock').isSocket());
        assert.equal(fs.readdirSync(path.join(m.src, 'rootonly')), []);
        // and seen the same through the mount
        const viaMount = await py<number[]>(m, `st = os.lstat(P('sg', 'sym')); return [st.st_uid, st.st_gid]`, { uid: 1000, gid: 1000 });
        assert.equal(viaMount, [1000, 4242]);
        // root's own creations stay root's
        await py(m, `open(P('pub', 'rootfile'), 'w').close()`);
        assert.equal([lstatSrc(m, 'pub', 'rootfile').uid, lstatSrc(m, 'pub', 'rootfile').gid], [0, 0]);
      },
      {
        setup: (src) => {
          fs.mkdirSync(path.join(src, 'pub'));
          fs.chmodSync(path.join(src, 'pub'), 0o777);
          fs.mkdirSync(path.join(src, 'sg'));
          fs.chownSync(path.join(src, 'sg'), 0, 4242);
          fs.chmodSync(path.join(src, 'sg'), 0o2777);
          fs.mkdirSync(path.join(src, 'rootonly'));
          fs.chmodSync(path.join(src, 'rootonly'), 0o755);
        },
      },
    );
  });

  t('set-user-ID and set-group-ID bits are dropped when an unprivileged user writes, truncates or chowns', async () => {
    await mounted(
      async (m) => {
        const setup = await py<string[]>(m, `
          names = ['write', 'append', 'otrunc', 'creat-trunc', 'ftrunc', 'chown', 'sgid-noexec', 'mixed']
          for n in names:
              with open(P('pub', n), 'w') as f: f.write('x' * 100)
              os.chmod(P('pub', n), 0o2644 if n == 'sgid-noexec' else 0o6755)
          return [oct(os.stat(Q('pub', n)).st_mode & 0o7777) for n in names]
        `, { uid: 1000, gid: 1000 });
        assert.equal(setup, ['0o6755', '0o6755', '0o6755', '0o6755', '0o6755', '0o6755', '0o2644', '0o6755']);
        const r = await py<unknown[]>(m, `
          def W(n, flags, data=b'y'):
              fd = os.open(P('pub', n), flags)
              if data: os.write(fd, data)
              os.close(fd)
          W('write', os.O_WRONLY)
          W('append', os.O_WRONLY | os.O_APPEND)
          W('otrunc', os.O_WRONLY | os.O_TRUNC, None)
          W('creat-trunc', os.O_WRONLY | os.O_CREAT | os.O_TRUNC, None)
          fd = os.open(P('pub', 'ftrunc'), os.O_WRONLY); os.ftruncate(fd, 3); os.close(fd)
          os.chown(P('pub', 'chown'), -1, 1000)
          W('sgid-noexec', os.O_WRONLY)
          # a reader that opened first (kernel passthrough), then a writer on the same file
          rfd = os.open(P('pub', 'mixed'), os.O_RDONLY)
          wfd = os.open(P('pub', 'mixed'), os.O_WRONLY)
          os.pwrite(wfd, b'WRITTEN', 10)
          seen = os.pread(rfd, 7, 10).decode()
          os.close(wfd); os.close(rfd)
          names = ['write', 'append', 'otrunc', 'creat-trunc', 'ftrunc', 'chown', 'sgid-noexec', 'mixed']
          return [[oct(os.stat(P('pub', n)).st_mode & 0o7777) for n in names], seen]
        `, { uid: 1000, gid: 1000 });
        assert.equal(r, [['0o755', '0o755', '0o755', '0o755', '0o755', '0o755', '0o2644', '0o755'], 'WRITTEN']);
        for (const n of ['write', 'append', 'otrunc', 'creat-trunc', 'ftrunc', 'chown', 'mixed']) assert.is(lstatSrc(m, 'pub', n).mode & 0o7777, 0o755, n);
        assert.is(fs.readFileSync(path.join(m.src, 'pub', 'append'), 'utf8'), 'x'.repeat(100) + 'y');
        // root (CAP_FSETID) keeps them
        const root = await py<string>(m, `
          with open(P('pub', 'rootfile'), 'w') as f: f.write('x')
          os.chmod(P('pub', 'rootfile'), 0o6755)
          fd = os.open(P('pub', 'rootfile'), os.O_WRONLY | os.O_TRUNC); os.write(fd, b'y'); os.close(fd)
          return oct(os.stat(P('pub', 'rootfile')).st_mode & 0o7777)
        `);
        assert.is(root, '0o6755');
        assert.is(lstatSrc(m, 'pub', 'rootfile').mode & 0o7777, 0o6755);
      },
      {
        setup: (src) => {
          fs.mkdirSync(path.join(src, 'pub'));
          fs.chmodSync(path.join(src, 'pub'), 0o777);
        },
      },
    );
  });

  t('mmap: shared writable and read-only mappings', async () => {
    await mounted(
      async (m) => {
        const r = await py<unknown[]>(m, `
          import mmap
          with open(P('m'), 'wb') as f: f.write(bytes(3 * 4096))
          fd = os.open(P('m'), os.O_RDWR)
          mm = mmap.mmap(fd, 3 * 4096)
          mm[0:5] = b'hello'
          mm[8192:8197] = b'world'
          mm.flush()
          mm.close(); os.close(fd)
          fd = os.open(P('given'), os.O_RDONLY)
          mm = mmap.mmap(fd, 0, prot=mmap.PROT_READ)
          got = bytes(mm[4090:4110]).decode()
          mm.close(); os.close(fd)
          return [open(P('m'), 'rb').read(5).decode(), got, os.stat(P('m')).st_size]
        `);
        assert.equal(r, ['hello', 'a'.repeat(6) + 'b'.repeat(14), 3 * 4096]);
        const b = fs.readFileSync(path.join(m.src, 'm'));
        assert.is(b.subarray(0, 5).toString(), 'hello');
        assert.is(b.subarray(8192, 8197).toString(), 'world');
      },
      { setup: (src) => fs.writeFileSync(path.join(src, 'given'), 'a'.repeat(4096) + 'b'.repeat(4096)) },
    );
  });

  t('many directories through a dir fd cache of 16: create, rename, read back', async () => {
    await mounted(
      async (m) => {
        const r = await py<unknown[]>(m, `
          for i in range(60):
              os.makedirs(P('t', 'd%02d' % i, 'sub', 'deeper'))
              with open(P('t', 'd%02d' % i, 'sub', 'deeper', 'f'), 'w') as f: f.write('v%d' % i)
          for i in range(0, 60, 2):
              os.rename(P('t', 'd%02d' % i), P('t', 'e%02d' % i))
          os.rename(P('t', 'd01', 'sub'), P('t', 'd03', 'moved'))
          got = []
          for i in range(60):
              base = P('t', ('e%02d' if i % 2 == 0 else 'd%02d') % i)
              p = os.path.join(P('t', 'd03', 'moved') if i == 1 else os.path.join(base, 'sub'), 'deeper', 'f')
              got.append(open(p).read())
          n = sum(len(fs_) for _, _, fs_ in os.walk(P('t')))
          os.chmod(P('t', 'd03', 'moved', 'deeper', 'f'), 0o600)
          return [got == ['v%d' % i for i in range(60)], n, oct(os.stat(Q('t', 'd03', 'moved', 'deeper', 'f')).st_mode)]
        `);
        assert.equal(r, [true, 60, '0o100600']);
        assert.ok(m.pt.stats().dirFds <= 17, `${m.pt.stats().dirFds} dir fds cached`);
        assert.is(fs.readFileSync(path.join(m.src, 't', 'e58', 'sub', 'deeper', 'f'), 'utf8'), 'v58');
      },
      { maxDirFds: 16 },
    );
  });

  if (cfg.nocache) {
    t('--nocache: directories renamed, names replaced and links removed behind the server\'s back', async () => {
      await mounted(async (m) => {
        const r = await py<unknown[]>(m, `
          out = []
          os.makedirs(Q('x', 'y'))
          with open(Q('x', 'y', 'f'), 'w') as f: f.write('v1')
          out.append(open(P('x', 'y', 'f')).read())
          os.rename(Q('x'), Q('z'))
          out.append(errname(os.stat, P('x', 'y', 'f')))
          out.append(open(P('z', 'y', 'f')).read())
          with open(P('z', 'y', 'f'), 'a') as f: f.write('+')
          out.append(open(Q('z', 'y', 'f')).read())
          # a name replaced by another file
          with open(Q('r'), 'w') as f: f.write('old')
          out.append(open(P('r')).read())
          with open(Q('r.new'), 'w') as f: f.write('new file')
          os.rename(Q('r.new'), Q('r'))
          out.append([open(P('r')).read(), os.stat(P('r')).st_ino == os.stat(Q('r')).st_ino])
          # hard links: the name the server knew goes away, the other still works
          with open(Q('h1'), 'w') as f: f.write('linked')
          os.link(Q('h1'), Q('h2'))
          out.append([os.stat(P('h1')).st_nlink, os.stat(P('h2')).st_nlink])
          os.unlink(Q('h1'))
          os.chmod(P('h2'), 0o640)
          out.append([os.stat(P('h2')).st_nlink, open(P('h2')).read(), oct(os.stat(Q('h2')).st_mode), errname(os.stat, P('h1'))])
          # a directory replaced by a file of the same name
          os.mkdir(Q('dd'))
          out.append(stat.S_ISDIR(os.stat(P('dd')).st_mode))
          os.rmdir(Q('dd'))
          with open(Q('dd'), 'w') as f: f.write('now a file')
          out.append(open(P('dd')).read())
          return out
        `);
        assert.equal(r, [
          'v1', 'ENOENT', 'v1', 'v1+', 'old', ['new file', true], [2, 2], [1, 'linked', '0o100640', 'ENOENT'], true, 'now a file',
        ]);
      });
    });
  }

  t('a node client sees the same tree (stat, readdir, read)', async () => {
    await mounted(
      async (m) => {
        const r = await inChild<unknown[]>(m.mnt, `
          const st = fs.statSync(path.join(mnt, 'd', 'f'));
          return [fs.readdirSync(path.join(mnt, 'd')).sort(), fs.readFileSync(path.join(mnt, 'd', 'f'), 'utf8'), st.size, st.ino];
        `);
        assert.equal(r, [['f', 'g'], 'node', 4, lstatSrc(m, 'd', 'f').ino]);
      },
      {
        setup: (src) => {
          fs.mkdirSync(path.join(src, 'd'));
          fs.writeFileSync(path.join(src, 'd', 'f'), 'node');
          fs.writeFileSync(path.join(src, 'd', 'g'), '');
        },
      },
    );
  });

  t.run();
}

for (const cfg of selectedConfigs()) defineMatrix(cfg);
