// A read-write in-memory filesystem written the way fuse-native users write one (CommonJS, callbacks,
// process.nextTick(cb, ...), negative errno, Buffers for read/write, Date stats) does fs calls on its own
// mount from the same process, then is checked from another process; errors come back as the right errno.

import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { inChild } from '../helpers/client.js';
import { isMounted, withProgram } from './harness.js';

const PROGRAM = String.raw`
const Fuse = require('tsfuse/fuse-native')
const fs = require('fs')
const path = require('path')

const files = new Map() // path -> { mode, data, mtime, xattr }
const now = () => new Date()
files.set('/', { mode: 16877, data: null, mtime: now(), xattr: new Map() })

function stat (f) {
  return { mode: f.mode, size: f.data ? f.data.length : 4096, nlink: 1, uid: 0, gid: 0, mtime: f.mtime, atime: f.mtime, ctime: f.mtime }
}

const ops = {
  getattr (p, cb) {
    const f = files.get(p)
    if (!f) return process.nextTick(cb, Fuse.ENOENT)
    process.nextTick(cb, 0, stat(f))
  },
  readdir (p, cb) {
    const pre = p === '/' ? '/' : p + '/'
    const names = []
    for (const k of files.keys()) if (k !== p && k.startsWith(pre) && !k.slice(pre.length).includes('/')) names.push(k.slice(pre.length))
    process.nextTick(cb, 0, names)
  },
  create (p, mode, cb) {
    if (files.has(p)) return cb(Fuse.EEXIST)
    files.set(p, { mode, data: Buffer.alloc(0), mtime: now(), xattr: new Map() })
    cb(0, 7)
  },
  open (p, flags, cb) {
    if (!files.has(p)) return cb(Fuse.ENOENT)
    if (p === '/locked') return cb(Fuse.EACCES)
    cb(0, 9)
  },
  read (p, fd, buf, len, pos, cb) {
    const f = files.get(p)
    if (!f) return cb(Fuse.ENOENT)
    const part = f.data.slice(pos, pos + len)
    part.copy(buf)
    setImmediate(() => cb(part.length))
  },
  write (p, fd, buf, len, pos, cb) {
    const f = files.get(p)
    const end = pos + len
    if (end > f.data.length) f.data = Buffer.concat([f.data, Buffer.alloc(end - f.data.length)])
    buf.copy(f.data, pos, 0, len)
    f.mtime = now()
    process.nextTick(cb, len)
  },
  truncate (p, size, cb) {
    const f = files.get(p)
    f.data = Buffer.concat([f.data, Buffer.alloc(Math.max(0, size - f.data.length))]).slice(0, size)
    cb(0)
  },
  ftruncate (p, fd, size, cb) { ops.truncate(p, size, cb) },
  unlink (p, cb) {
    if (!files.delete(p)) return cb(Fuse.ENOENT)
    cb(0)
  },
  mkdir (p, mode, cb) {
    files.set(p, { mode: 16384 | mode, data: null, mtime: now(), xattr: new Map() })
    process.nextTick(cb, 0)
  },
  rmdir (p, cb) {
    for (const k of files.keys()) if (k.startsWith(p + '/')) return cb(Fuse.ENOTEMPTY)
    files.delete(p)
    cb(0)
  },
  rename (src, dest, cb) {
    const f = files.get(src)
    if (!f) return cb(Fuse.ENOENT)
    files.delete(src)
    files.set(dest, f)
    cb(0)
  },
  chmod (p, mode, cb) {
    files.get(p).mode = mode
    cb(0)
  },
  utimens (p, atime, mtime, cb) {
    files.get(p).mtime = new Date(mtime)
    cb(0)
  },
  setxattr (p, name, value, position, flags, cb) {
    files.get(p).xattr.set(name, Buffer.from(value))
    cb(0)
  },
  getxattr (p, name, position, cb) {
    cb(0, files.get(p).xattr.get(name) || null)
  },
  listxattr (p, cb) {
    cb(0, [...files.get(p).xattr.keys()])
  },
  release (p, fd, cb) { cb(0) },
  statfs (p, cb) {
    cb(0, { bsize: 4096, frsize: 4096, blocks: 1000, bfree: 500, bavail: 500, files: 100, ffree: 50, favail: 50, fsid: 1, flag: 0, namemax: 255 })
  }
}

const mnt = path.join(__dirname, 'mnt')
const fuse = new Fuse(mnt, ops, { force: true })
fuse.mount(async function (err) {
  if (err) { console.log('ERR ' + err.message); process.exit(1) }
  // fs calls from the same process (the handlers run on this thread, so only async calls)
  const P = (n) => path.join(mnt, n)
  await fs.promises.writeFile(P('a.txt'), 'hello from the same process')
  await fs.promises.mkdir(P('d'))
  await fs.promises.writeFile(P('d/b'), 'bee')
  const self = {
    read: await fs.promises.readFile(P('a.txt'), 'utf8'),
    ls: (await fs.promises.readdir(mnt)).sort(),
    missing: await fs.promises.stat(P('nope')).then(() => 'found', (e) => e.code),
    rmdirFull: await fs.promises.rmdir(P('d')).then(() => 'OK', (e) => e.code),
    locked: await fs.promises.writeFile(P('locked'), 'x').then(() => fs.promises.readFile(P('locked'))).then(() => 'OK', (e) => e.code)
  }
  console.log('SELF ' + JSON.stringify(self))
  console.log('mounted')
})
process.stdin.on('data', () => {
  fuse.unmount((err) => {
    console.log(err ? 'unmount failed ' + err.message : 'unmounted')
  })
})
`;

test('a fuse-native style read-write filesystem: same-process fs calls, then checks from another process', async () => {
  await withProgram('memfs.js', PROGRAM, async (p, mnt) => {
    await p.line(/^mounted$/);
    const self = JSON.parse((await p.line(/^SELF /)).slice(5));
    assert.equal(self, { read: 'hello from the same process', ls: ['a.txt', 'd'], missing: 'ENOENT', rmdirFull: 'ENOTEMPTY', locked: 'EACCES' });
    const r = await inChild<Record<string, unknown>>(mnt, `
      const P = (n) => path.join(mnt, n);
      fs.appendFileSync(P('a.txt'), '!');
      fs.renameSync(P('d/b'), P('c'));
      fs.truncateSync(P('c'), 2);
      fs.chmodSync(P('c'), 0o600);
      fs.utimesSync(P('c'), 1000, 2000);
      const st = fs.statSync(P('c'));
      cp.execFileSync('setfattr', ['-n', 'user.k', '-v', 'val', P('c')]);
      const xattr = cp.execFileSync('getfattr', ['--only-values', '-n', 'user.k', P('c')]).toString();
      const noattr = (() => { try { cp.execFileSync('getfattr', ['-n', 'user.none', P('c')], { stdio: 'pipe' }); return 'found'; } catch (e) { return /No such attribute/.test(String(e.stderr)) ? 'ENODATA' : String(e.stderr); } })();
      const df = cp.execFileSync('stat', ['-f', '-c', '%S %b %f', mnt]).toString().trim();
      fs.rmdirSync(P('d'));
      fs.unlinkSync(P('locked'));
      return { a: fs.readFileSync(P('a.txt'), 'utf8'), c: fs.readFileSync(P('c'), 'utf8'), mode: (st.mode & 0o777).toString(8), mtime: st.mtimeMs, xattr, noattr, df, ls: fs.readdirSync(mnt).sort(),
        exdev: (() => { try { fs.renameSync(P('c'), P('nodir/c')); return 'OK'; } catch (e) { return e.code; } })() };
    `);
    assert.equal(r, { a: 'hello from the same process!', c: 'be', mode: '600', mtime: 2000_000, xattr: 'val', noattr: 'ENODATA', df: '4096 1000 500', ls: ['a.txt', 'c'], exdev: 'ENOENT' });
    p.child.stdin!.write('quit\n');
    await p.line(/^unmounted$/);
    assert.not.ok(isMounted(mnt));
  });
});

test.run();
