// How fuse-native handlers answer, with the Fuse class in this process and checks from other processes:
// negative numbers, Errors with .code, a throwing handler (EIO, the mount goes on), a positive status (EIO),
// a callback that never comes (ETIMEDOUT after opts.timeout), a callback called twice, readdir with stats,
// fgetattr on an open file, the uid/gid/umask options, and an open file unlinked (hidden, then unlinked).

import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { createRequire } from 'node:module';
import { inPython } from '../helpers/python.js';
import { withFuseMount } from './harness.js';

const Fuse = createRequire(import.meta.url)('../../src/fuse-native/fuse.cjs');
type Cb = (...a: unknown[]) => void;

const calls: string[] = [];
const names = new Set(['ok', 'neg', 'coded', 'throws', 'positive', 'slow', 'twice', 'f']);
const fileStat = (size = 5) => ({ mode: 0o100644, size, nlink: 1, uid: 1234, gid: 5678, mtime: new Date(1e12), atime: new Date(1e12), ctime: new Date(1e12) });

const ops = {
  getattr(p: string, cb: Cb) {
    if (p === '/') return process.nextTick(cb, 0, { mode: 0o40755, size: 4096, mtime: new Date(), atime: new Date(), ctime: new Date() });
    if (names.has(p.slice(1))) return process.nextTick(cb, 0, fileStat());
    return process.nextTick(cb, Fuse.ENOENT);
  },
  fgetattr(p: string, fd: number, cb: Cb) {
    calls.push(`fgetattr ${p} ${fd}`);
    process.nextTick(cb, 0, fileStat(77));
  },
  readdir(_p: string, cb: Cb) {
    const list = [...names];
    cb(0, list, list.map(() => fileStat()));
  },
  open(p: string, _flags: number, cb: Cb) {
    if (p === '/neg') return cb(-13);
    if (p === '/coded') return cb(Object.assign(new Error('nope'), { code: 'EROFS' }));
    if (p === '/throws') throw new Error('a bug in the handler');
    if (p === '/positive') return cb(5);
    if (p === '/slow') return; // never answers
    if (p === '/twice') {
      cb(0, 3);
      cb(-5);
      return;
    }
    cb(0, 11);
  },
  read(_p: string, _fd: number, buf: Buffer, _len: number, pos: number, cb: Cb) {
    const s = 'hello'.slice(pos);
    buf.write(s);
    process.nextTick(cb, s.length);
  },
  rename(src: string, dest: string, cb: Cb) {
    calls.push(`rename ${src} ${dest}`);
    names.delete(src.slice(1));
    names.add(dest.slice(1));
    cb(0);
  },
  unlink(p: string, cb: Cb) {
    calls.push(`unlink ${p}`);
    names.delete(p.slice(1));
    cb(0);
  },
  release(p: string, fd: number, cb: Cb) {
    calls.push(`release ${p} ${fd}`);
    cb(0);
  },
};

test('errors, timeouts, readdir stats, fgetattr, options, unlink while open', async () => {
  await withFuseMount('tsfuse-fncb-', ops, { timeout: { default: 15000, open: 300 }, uid: 42, gid: 43, umask: '027', attrTimeout: 0 }, async (mnt) => {
    const r = await inPython<Record<string, unknown>>(mnt, `
      st = os.stat(P('ok'))
      fd = os.open(P('f'), os.O_RDONLY)
      # SEEK_END refreshes the size through GETATTR with the file handle (fgetattr)
      endPos = os.lseek(fd, 0, os.SEEK_END)
      text = os.pread(fd, 10, 0).decode()
      os.unlink(P('f'))
      listed = sorted(os.listdir(mnt))
      still = os.pread(fd, 10, 0).decode()
      os.close(fd)
      return {
        'ls': sorted(os.listdir(mnt)),
        'owner': [st.st_uid, st.st_gid, oct(st.st_mode)],
        'fstatSize': endPos, 'text': text, 'afterUnlink': listed, 'still': still,
        'neg': errname(os.open, P('neg'), os.O_RDONLY),
        'coded': errname(os.open, P('coded'), os.O_RDONLY),
        'throws': errname(os.open, P('throws'), os.O_RDONLY),
        'positive': errname(os.open, P('positive'), os.O_RDONLY),
        'slow': errname(os.open, P('slow'), os.O_RDONLY),
        'twice': errname(lambda: os.close(os.open(P('twice'), os.O_RDONLY))),
        'after': open(P('ok')).read(),
      }
    `);
    assert.equal(r, {
      ls: ['coded', 'neg', 'ok', 'positive', 'slow', 'throws', 'twice'],
      owner: [42, 43, '0o100750'],
      fstatSize: 77, text: 'hello', afterUnlink: ['coded', 'neg', 'ok', 'positive', 'slow', 'throws', 'twice'], still: 'hello',
      neg: 'EACCES', coded: 'EROFS', throws: 'EIO', positive: 'EIO', slow: 'ETIMEDOUT', twice: 'OK', after: 'hello',
    });
    assert.ok(calls.some((c) => /^fgetattr \/f 11$/.test(c)), calls.join('\n'));
    const hidden = calls.find((c) => c.startsWith('rename /f /.fuse_hidden'));
    assert.ok(hidden, calls.join('\n'));
    const hiddenPath = hidden!.split(' ')[2];
    assert.ok(calls.includes(`release ${hiddenPath} 11`));
    assert.ok(calls.includes(`unlink ${hiddenPath}`));
  });
});

test.run();
