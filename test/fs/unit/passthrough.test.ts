// Passthrough filesystem unit tests: the Filesystem methods called directly on a temp tree in /var/tmp (ext4),
// no mount. Run as root here (ownership, mknod of devices, trusted.* xattrs need it; those tests skip otherwise).
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import fs from 'node:fs';
import path from 'node:path';
import { PassthroughFs, createPassthroughFs } from '../../../src/fs/passthrough/index.js';
import * as fsops from '../../../src/kernel/fsops.js';
import type { ConnectionInfo, DirentPlusSink, DirentSink, Entry, FileLock, RequestContext } from '../../../src/fs/types.js';
import {
  S_IFMT, S_IFDIR, S_IFREG, S_IFLNK, S_IFIFO, S_IFCHR, S_ISGID,
  RENAME_NOREPLACE, RENAME_EXCHANGE,
} from '../../../src/fs/types.js';
import { FOPEN } from '../../../src/protocol/abi.js';
import {
  F_RDLCK, F_UNLCK, F_WRLCK, O_APPEND, O_CREAT, O_EXCL, O_NOFOLLOW, O_RDONLY, O_RDWR, O_TRUNC, O_WRONLY, SEEK_DATA,
  SEEK_HOLE,
} from '../../../src/protocol/posix.js';

const ROOT = 1;
const FOPEN_KEEP_CACHE = FOPEN.KEEP_CACHE;
const FOPEN_PASSTHROUGH = FOPEN.PASSTHROUGH;
const EOF = Number.MAX_SAFE_INTEGER;
const isRoot = process.geteuid?.() === 0;

function ctx(uid = 0, gid = 0): RequestContext & { interrupted: boolean } {
  return { uid, gid, pid: process.pid, opcode: 0, interrupted: false };
}
const C = ctx();

const BASE = fs.mkdtempSync('/var/tmp/tsfuse-pt-');
let n = 0;
/** A fresh source tree for one test. */
function tree(): string {
  const d = path.join(BASE, `t${n++}`);
  fs.mkdirSync(d);
  return d;
}

function errCode(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (e) {
    return (e as { code?: string }).code;
  }
  return undefined;
}

function throwsErrno(fn: () => unknown, code: string, msg?: string): void {
  assert.is(errCode(fn), code, msg ?? `expected ${code}`);
}

interface Dirent { ino: number; name: string; mode: number; off: number }

function sink(cap = Infinity): DirentSink & { items: Dirent[] } {
  const items: Dirent[] = [];
  return {
    items,
    add(ino, name, mode, off) {
      if (items.length >= cap) return false;
      items.push({ ino, name: typeof name === 'string' ? name : Buffer.from(name).toString(), mode, off });
      return true;
    },
  };
}

function plusSink(cap = Infinity): DirentPlusSink & { items: { name: string; entry: Entry; off: number }[] } {
  const items: { name: string; entry: Entry; off: number }[] = [];
  return {
    items,
    add(name, entry, off) {
      if (items.length >= cap) return false;
      items.push({ name: typeof name === 'string' ? name : Buffer.from(name).toString(), entry, off });
      return true;
    },
  };
}

/** Reads a whole directory through readdir in chunks of `cap` entries, continuing from the last offset. */
function readAll(pfs: PassthroughFs, ino: number, cap: number): Dirent[] {
  const fh = pfs.opendir(C, ino, 0).fh!;
  const all: Dirent[] = [];
  let off = 0;
  for (;;) {
    const s = sink(cap);
    pfs.readdir(C, ino, fh, off, s);
    if (s.items.length === 0) break;
    all.push(...s.items);
    off = s.items[s.items.length - 1].off;
  }
  pfs.releasedir(C, ino, fh, 0);
  return all;
}

function openFdCount(): number {
  return fs.readdirSync('/proc/self/fd').length;
}

function ino(p: string): number {
  return fs.lstatSync(p).ino;
}

// ---------------------------------------------------------------------------------------------------------

test('lookup and getattr report the source inode numbers; nodeids are the table’s own', () => {
  const src = tree();
  fs.writeFileSync(`${src}/a`, 'hello');
  fs.mkdirSync(`${src}/d`);
  fs.writeFileSync(`${src}/d/b`, 'x');
  const pfs = createPassthroughFs({ source: src });
  const root = pfs.getattr(C, ROOT, undefined);
  assert.is(root.ino, ino(src));
  assert.is(root.mode & S_IFMT, S_IFDIR);
  const a = pfs.lookup(C, ROOT, 'a');
  assert.is(a.attr.ino, ino(`${src}/a`));
  assert.is(a.attr.size, 5);
  assert.is(a.attr.mode & S_IFMT, S_IFREG);
  assert.is(pfs.getattr(C, a.ino, undefined).ino, ino(`${src}/a`));
  const d = pfs.lookup(C, ROOT, 'd');
  const b = pfs.lookup(C, d.ino, 'b');
  assert.is(b.attr.ino, ino(`${src}/d/b`));
  assert.is(pfs.getattr(C, b.ino, undefined).ino, ino(`${src}/d/b`));
  // looking a name up twice gives the same nodeid
  assert.is(pfs.lookup(C, ROOT, 'a').ino, a.ino);
  // times carry nanoseconds exactly
  const st = fs.lstatSync(`${src}/a`, { bigint: true });
  assert.is(BigInt(a.attr.mtime) * 1_000_000_000n + BigInt(a.attr.mtimeNsec!), st.mtimeNs);
  assert.is(a.entryTimeout, 86400);
  // a missing name: negative entry with caching, ENOENT without
  assert.is(pfs.lookup(C, ROOT, 'missing').ino, 0);
  const nc = createPassthroughFs({ source: src, nocache: true });
  throwsErrno(() => nc.lookup(C, ROOT, 'missing'), 'ENOENT');
  assert.is(nc.lookup(C, ROOT, 'a').entryTimeout, 0);
  pfs.destroy();
  nc.destroy();
});

test('readdir: source d_ino, all entries once across chunked calls, seek back to 0 and to a telldir offset', () => {
  const src = tree();
  for (let i = 0; i < 300; i++) fs.writeFileSync(`${src}/file-${i}`, '');
  fs.mkdirSync(`${src}/sub`);
  fs.symlinkSync('file-1', `${src}/link`);
  const pfs = createPassthroughFs({ source: src });
  const all = readAll(pfs, ROOT, 7);
  const names = all.map((e) => e.name).sort();
  const expect = ['.', '..', ...fs.readdirSync(src)].sort();
  assert.equal(names, expect);
  for (const e of all) {
    if (e.name === '..') {
      assert.is(e.ino, ino(src), "root's '..' is the root itself");
      continue;
    }
    assert.is(e.ino, ino(path.join(src, e.name)), `d_ino of ${e.name}`);
  }
  assert.is(all.find((e) => e.name === 'sub')!.mode, S_IFDIR);
  assert.is(all.find((e) => e.name === 'link')!.mode, S_IFLNK);
  assert.is(all.find((e) => e.name === 'file-3')!.mode, S_IFREG);
  // offsets are small, increasing, exact numbers
  all.forEach((e, i) => assert.is(e.off, i + 1));

  // on one handle: read part, go back to 0, then continue from a remembered offset
  const fh = pfs.opendir(C, ROOT, 0).fh!;
  const s1 = sink(50);
  pfs.readdir(C, ROOT, fh, 0, s1);
  const s2 = sink(20);
  pfs.readdir(C, ROOT, fh, 0, s2);
  assert.equal(s2.items.map((e) => e.name), s1.items.slice(0, 20).map((e) => e.name));
  const s3 = sink(10);
  pfs.readdir(C, ROOT, fh, s1.items[29].off, s3);
  assert.equal(s3.items.map((e) => e.name), s1.items.slice(30, 40).map((e) => e.name));
  const rest = sink();
  pfs.readdir(C, ROOT, fh, s3.items[9].off, rest);
  assert.is(40 + rest.items.length, all.length);
  // an offset never handed out answers end of directory
  const none = sink();
  pfs.readdir(C, ROOT, fh, 1e9, none);
  assert.is(none.items.length, 0);
  pfs.releasedir(C, ROOT, fh, 0);
  pfs.destroy();
});

test('readdirplus counts one lookup per accepted entry, none for . and .. or for an entry that did not fit', () => {
  const src = tree();
  for (let i = 0; i < 10; i++) fs.writeFileSync(`${src}/f${i}`, String(i));
  const pfs = createPassthroughFs({ source: src });
  const fh = pfs.opendir(C, ROOT, 0).fh!;
  const s = plusSink(6);
  pfs.readdirplus(C, ROOT, fh, 0, s);
  assert.is(s.items.length, 6);
  const dots = s.items.filter((e) => e.name === '.' || e.name === '..');
  for (const d of dots) assert.is(d.entry.ino, 0);
  const real = s.items.filter((e) => e.name !== '.' && e.name !== '..');
  for (const e of real) {
    assert.is(e.entry.attr.ino, ino(`${src}/${e.name}`));
    assert.ok(e.entry.ino > 1);
  }
  // root + the accepted entries only
  assert.is(pfs.stats().inodes, 1 + real.length);
  // continue: the refused entry comes first now
  const s2 = plusSink();
  pfs.readdirplus(C, ROOT, fh, s.items[5].off, s2);
  assert.is(s.items.length + s2.items.length, 12);
  assert.is(pfs.stats().inodes, 1 + 10);
  // each counted lookup is given back by one forget
  for (const e of [...real, ...s2.items.filter((x) => x.entry.ino)]) pfs.forget(e.entry.ino, 1);
  assert.is(pfs.stats().inodes, 1);
  pfs.releasedir(C, ROOT, fh, 0);
  pfs.destroy();
});

test('create, write, read; O_EXCL, O_TRUNC, O_APPEND honoured', () => {
  const src = tree();
  const pfs = createPassthroughFs({ source: src });
  const cr = pfs.create(C, ROOT, 'f', S_IFREG | 0o644, 0o022, O_RDWR | O_CREAT | O_EXCL);
  assert.is(cr.entry.attr.ino, ino(`${src}/f`));
  assert.is(pfs.write(C, cr.entry.ino, cr.fh!, 0, Buffer.from('hello world'), 0, 0), 11);
  assert.is(pfs.write(C, cr.entry.ino, cr.fh!, 6, Buffer.from('WORLD'), 0, 0), 5);
  assert.is(Buffer.from(pfs.read(C, cr.entry.ino, cr.fh!, 0, 100)).toString(), 'hello WORLD');
  assert.is(Buffer.from(pfs.read(C, cr.entry.ino, cr.fh!, 6, 3)).toString(), 'WOR');
  assert.is(pfs.read(C, cr.entry.ino, cr.fh!, 100, 10).length, 0);
  pfs.fsync(C, cr.entry.ino, cr.fh!, false);
  pfs.fsync(C, cr.entry.ino, cr.fh!, true);
  pfs.flush(C, cr.entry.ino, cr.fh!, 1);
  pfs.release(C, cr.entry.ino, cr.fh!, 0, 0, 0);
  assert.is(fs.readFileSync(`${src}/f`, 'utf8'), 'hello WORLD');
  throwsErrno(() => pfs.create(C, ROOT, 'f', S_IFREG | 0o644, 0, O_RDWR | O_CREAT | O_EXCL), 'EEXIST');
  // O_CREAT without O_EXCL on an existing file opens it
  const again = pfs.create(C, ROOT, 'f', S_IFREG | 0o644, 0, O_RDWR | O_CREAT);
  assert.is(again.entry.ino, cr.entry.ino);
  pfs.release(C, again.entry.ino, again.fh!, 0, 0, 0);
  // O_APPEND: writes land at the end whatever the offset
  const ap = pfs.open(C, cr.entry.ino, O_WRONLY | O_APPEND);
  pfs.write(C, cr.entry.ino, ap.fh!, 0, Buffer.from('!'), 0, 0);
  pfs.release(C, cr.entry.ino, ap.fh!, 0, 0, 0);
  assert.is(fs.readFileSync(`${src}/f`, 'utf8'), 'hello WORLD!');
  // O_TRUNC
  const tr = pfs.open(C, cr.entry.ino, O_WRONLY | O_TRUNC | O_NOFOLLOW);
  assert.is(fs.statSync(`${src}/f`).size, 0);
  pfs.release(C, cr.entry.ino, tr.fh!, 0, 0, 0);
  // read-only open cannot write
  const ro = pfs.open(C, cr.entry.ino, O_RDONLY);
  throwsErrno(() => pfs.write(C, cr.entry.ino, ro.fh!, 0, Buffer.from('x'), 0, 0), 'EBADF');
  pfs.release(C, cr.entry.ino, ro.fh!, 0, 0, 0);
  assert.is(pfs.stats().files, 0);
  pfs.destroy();
});

test('open replies: KEEP_CACHE and long timeouts by default, neither with nocache', () => {
  const src = tree();
  fs.writeFileSync(`${src}/f`, 'x');
  const pfs = createPassthroughFs({ source: src });
  const e = pfs.lookup(C, ROOT, 'f');
  assert.is(e.attrTimeout, 86400);
  const o = pfs.open(C, e.ino, O_RDONLY);
  assert.ok(o.flags! & FOPEN_KEEP_CACHE);
  pfs.release(C, e.ino, o.fh!, 0, 0, 0);
  const nc = createPassthroughFs({ source: src, nocache: true });
  const e2 = nc.lookup(C, ROOT, 'f');
  assert.is(e2.attrTimeout, 0);
  assert.is(e2.attr.timeout, 0);
  const o2 = nc.open(C, e2.ino, O_RDONLY);
  assert.not.ok(o2.flags! & FOPEN_KEEP_CACHE);
  nc.release(C, e2.ino, o2.fh!, 0, 0, 0);
  const t5 = createPassthroughFs({ source: src, timeout: 5 });
  assert.is(t5.lookup(C, ROOT, 'f').entryTimeout, 5);
  pfs.destroy();
  nc.destroy();
  t5.destroy();
});

test('kernel passthrough: one backing id per inode, shared and refcounted; fallback when backingOpen fails', () => {
  const src = tree();
  fs.writeFileSync(`${src}/f`, 'data');
  fs.writeFileSync(`${src}/g`, 'more');
  const opened: number[] = [];
  const closed: number[] = [];
  let next = 1;
  const conn: ConnectionInfo = {
    minor: 45, flags: 0, maxWrite: 1 << 20, maxReadahead: 1 << 17, passthrough: true,
    backingOpen: (fd) => { opened.push(fd); return next++; },
    backingClose: (id) => { closed.push(id); },
  };
  const pfs = createPassthroughFs({ source: src });
  pfs.init(conn);
  const f = pfs.lookup(C, ROOT, 'f');
  const o1 = pfs.open(C, f.ino, O_RDONLY);
  const o2 = pfs.open(C, f.ino, O_RDWR);
  assert.is(o1.flags! & FOPEN_PASSTHROUGH, FOPEN_PASSTHROUGH);
  assert.not.ok(o1.flags! & FOPEN_KEEP_CACHE, 'passthrough opens do not keep the page cache');
  assert.is(o1.backingId, 1);
  assert.is(o2.backingId, 1);
  assert.is(opened.length, 1);
  const g = pfs.lookup(C, ROOT, 'g');
  const o3 = pfs.open(C, g.ino, O_RDONLY);
  assert.is(o3.backingId, 2);
  pfs.release(C, f.ino, o1.fh!, 0, 0, 0);
  assert.equal(closed, []);
  pfs.release(C, f.ino, o2.fh!, 0, 0, 0);
  assert.equal(closed, [1]);
  pfs.release(C, g.ino, o3.fh!, 0, 0, 0);
  assert.equal(closed, [1, 2]);
  // reopen after the last close: a new backing id
  const o4 = pfs.open(C, f.ino, O_RDONLY);
  assert.is(o4.backingId, 3);
  pfs.release(C, f.ino, o4.fh!, 0, 0, 0);
  // directories never get one
  const dfh = pfs.opendir(C, ROOT, 0);
  assert.is(dfh.backingId, undefined);
  pfs.releasedir(C, ROOT, dfh.fh!, 0);
  pfs.destroy();

  // passthrough: false in the options wins over the connection
  const off = createPassthroughFs({ source: src, passthrough: false });
  off.init(conn);
  const f2 = off.lookup(C, ROOT, 'f');
  const o5 = off.open(C, f2.ino, O_RDONLY);
  assert.not.ok(o5.flags! & FOPEN_PASSTHROUGH);
  off.destroy();

  // backingOpen throws: served by us, logged once
  const logs: string[] = [];
  const bad = createPassthroughFs({ source: src, log: (m) => logs.push(m) });
  bad.init({ ...conn, backingOpen: () => { throw Object.assign(new Error('no'), { code: 'EPERM' }); } });
  const f3 = bad.lookup(C, ROOT, 'f');
  const o6 = bad.open(C, f3.ino, O_RDONLY);
  const o7 = bad.open(C, f3.ino, O_RDONLY);
  assert.not.ok(o6.flags! & FOPEN_PASSTHROUGH);
  assert.is(Buffer.from(bad.read(C, f3.ino, o6.fh!, 0, 10)).toString(), 'data');
  assert.is(logs.length, 1);
  bad.release(C, f3.ino, o6.fh!, 0, 0, 0);
  bad.release(C, f3.ino, o7.fh!, 0, 0, 0);
  bad.destroy();
});

test('setattr: mode, owner, size, times with nanoseconds, now and omit; through a handle too', () => {
  const src = tree();
  fs.writeFileSync(`${src}/f`, 'hello world');
  const pfs = createPassthroughFs({ source: src });
  const e = pfs.lookup(C, ROOT, 'f');
  let a = pfs.setattr(C, e.ino, { mode: 0o600 });
  assert.is(a.mode & 0o7777, 0o600);
  assert.is(fs.statSync(`${src}/f`).mode & 0o7777, 0o600);
  a = pfs.setattr(C, e.ino, { size: 5 });
  assert.is(a.size, 5);
  assert.is(fs.readFileSync(`${src}/f`, 'utf8'), 'hello');
  a = pfs.setattr(C, e.ino, { atime: { sec: 1000000000, nsec: 123456789 }, mtime: { sec: 1100000000, nsec: 987654321 } });
  let st = fs.statSync(`${src}/f`, { bigint: true });
  assert.is(st.atimeNs, 1000000000123456789n);
  assert.is(st.mtimeNs, 1100000000987654321n);
  assert.is(a.mtime, 1100000000);
  assert.is(a.mtimeNsec, 987654321);
  // omit atime, mtime now
  const before = BigInt(Date.now() - 5000) * 1_000_000n;
  pfs.setattr(C, e.ino, { mtime: 'now' });
  st = fs.statSync(`${src}/f`, { bigint: true });
  assert.is(st.atimeNs, 1000000000123456789n, 'atime omitted');
  assert.ok(st.mtimeNs > before, 'mtime now');
  if (isRoot) {
    a = pfs.setattr(C, e.ino, { uid: 1234, gid: 4321 });
    assert.is(a.uid, 1234);
    assert.is(a.gid, 4321);
    a = pfs.setattr(C, e.ino, { gid: 55 });
    assert.is(a.uid, 1234);
    assert.is(a.gid, 55);
  }
  // through an open handle
  const o = pfs.open(C, e.ino, O_RDWR);
  a = pfs.setattr(C, e.ino, { fh: o.fh, size: 2, mode: 0o640, atime: { sec: 5, nsec: 6 } });
  assert.is(a.size, 2);
  assert.is(a.mode & 0o7777, 0o640);
  assert.is(fs.statSync(`${src}/f`, { bigint: true }).atimeNs, 5000000006n);
  assert.is(pfs.getattr(C, e.ino, o.fh).size, 2);
  pfs.release(C, e.ino, o.fh!, 0, 0, 0);
  // kill suid/sgid
  fs.chmodSync(`${src}/f`, 0o6755);
  a = pfs.setattr(C, e.ino, { size: 0, killSuidgid: true });
  assert.is(a.mode & 0o7777, 0o755);
  pfs.destroy();
});

test('symlinks are never followed: lookup returns the link, .. of the root stays the root', () => {
  const src = tree();
  const outside = tree();
  fs.writeFileSync(`${outside}/secret`, 'secret');
  fs.symlinkSync('/etc', `${src}/etc`);
  fs.symlinkSync(outside, `${src}/out`);
  fs.symlinkSync(`${outside}/secret`, `${src}/sec`);
  fs.mkdirSync(`${src}/d`);
  const pfs = createPassthroughFs({ source: src });
  const l = pfs.lookup(C, ROOT, 'etc');
  assert.is(l.attr.mode & S_IFMT, S_IFLNK);
  assert.is(l.attr.ino, ino(`${src}/etc`));
  assert.is(Buffer.from(pfs.readlink(C, l.ino)).toString(), '/etc');
  throwsErrno(() => pfs.lookup(C, l.ino, 'passwd'), 'ENOTDIR');
  throwsErrno(() => pfs.opendir(C, l.ino, 0), 'ENOTDIR');
  const o = pfs.lookup(C, ROOT, 'out');
  throwsErrno(() => pfs.lookup(C, o.ino, 'secret'), 'ENOTDIR');
  // operations on the symlink act on the link, not the target
  const s = pfs.lookup(C, ROOT, 'sec');
  throwsErrno(() => pfs.setattr(C, s.ino, { mode: 0o777 }), 'EOPNOTSUPP');
  const tmode = fs.statSync(`${outside}/secret`).mode;
  assert.is(fs.statSync(`${outside}/secret`).mode, tmode);
  if (isRoot) {
    pfs.setattr(C, s.ino, { uid: 777, gid: 777 });
    assert.is(fs.lstatSync(`${src}/sec`).uid, 777);
    assert.is(fs.statSync(`${outside}/secret`).uid, 0, 'target untouched');
    pfs.setxattr(C, s.ino, 'trusted.t', Buffer.from('v'), 0);
    assert.equal(pfs.listxattr(C, s.ino), ['trusted.t']);
    throwsErrno(() => pfs.getxattr(C, pfs.lookup(C, ROOT, 'd').ino, 'trusted.t'), 'ENODATA');
  }
  pfs.setattr(C, s.ino, { mtime: { sec: 42, nsec: 7 } });
  assert.is(fs.lstatSync(`${src}/sec`, { bigint: true }).mtimeNs, 42000000007n);
  assert.ok(fs.statSync(`${outside}/secret`, { bigint: true }).mtimeNs !== 42000000007n, 'target mtime untouched');
  // '..' and '.' of the root are the root
  const up = pfs.lookup(C, ROOT, '..');
  assert.is(up.ino, ROOT);
  assert.is(up.attr.ino, ino(src));
  assert.is(pfs.lookup(C, ROOT, '.').ino, ROOT);
  const d = pfs.lookup(C, ROOT, 'd');
  assert.is(pfs.lookup(C, d.ino, '..').ino, ROOT);
  assert.is(pfs.lookup(C, d.ino, '.').ino, d.ino);
  // names with a slash are refused
  throwsErrno(() => pfs.lookup(C, ROOT, '../../etc'), 'EINVAL');
  throwsErrno(() => pfs.create(C, ROOT, '../x', 0o644, 0, O_RDWR), 'EINVAL');
  // link/rename cannot be aimed at a symlink-to-dir either
  throwsErrno(() => pfs.mkdir(C, o.ino, 'x', 0o755, 0), 'ENOTDIR');
  assert.not.ok(fs.existsSync(`${outside}/x`));
  pfs.destroy();
});

test('a directory swapped for a symlink behind our back is not followed', () => {
  const src = tree();
  const outside = tree();
  fs.writeFileSync(`${outside}/f`, 'outside');
  fs.mkdirSync(`${src}/d`);
  fs.writeFileSync(`${src}/d/f`, 'inside');
  const pfs = createPassthroughFs({ source: src, nocache: true, maxDirFds: 16 });
  const d = pfs.lookup(C, ROOT, 'd');
  const f = pfs.lookup(C, d.ino, 'f');
  // the cached dir fd still names the real (moved) directory; make sure it is not cached either way
  fs.renameSync(`${src}/d`, `${src}/moved`);
  fs.symlinkSync(outside, `${src}/d`);
  // a lookup through the old directory nodeid reaches the moved directory itself, or fails: never outside
  let got: Entry | undefined;
  try {
    got = pfs.lookup(C, d.ino, 'f');
  } catch (e) {
    assert.is((e as { code?: string }).code, 'ESTALE');
  }
  if (got) assert.is(got.attr.ino, ino(`${src}/moved/f`));
  const a = (() => {
    try {
      return pfs.getattr(C, f.ino, undefined);
    } catch (e) {
      assert.is((e as { code?: string }).code, 'ESTALE');
      return undefined;
    }
  })();
  if (a) assert.is(a.ino, ino(`${src}/moved/f`));
  // a fresh instance: resolve from the alias only
  const p2 = createPassthroughFs({ source: src, nocache: true, maxDirFds: 16 });
  const d2 = p2.lookup(C, ROOT, 'd'); // the symlink now
  assert.is(d2.attr.mode & S_IFMT, S_IFLNK);
  throwsErrno(() => p2.lookup(C, d2.ino, 'f'), 'ENOTDIR');
  pfs.destroy();
  p2.destroy();
});

test('rename: plain, over an existing file, RENAME_NOREPLACE, RENAME_EXCHANGE; moved inodes stay reachable', () => {
  const src = tree();
  fs.writeFileSync(`${src}/a`, 'A');
  fs.writeFileSync(`${src}/b`, 'B');
  fs.mkdirSync(`${src}/d1`);
  fs.mkdirSync(`${src}/d2`);
  fs.writeFileSync(`${src}/d1/inner`, 'I');
  const pfs = createPassthroughFs({ source: src, maxDirFds: 16 });
  const a = pfs.lookup(C, ROOT, 'a');
  const b = pfs.lookup(C, ROOT, 'b');
  const d1 = pfs.lookup(C, ROOT, 'd1');
  const d2 = pfs.lookup(C, ROOT, 'd2');
  const inner = pfs.lookup(C, d1.ino, 'inner');
  throwsErrno(() => pfs.rename(C, ROOT, 'a', ROOT, 'b', RENAME_NOREPLACE), 'EEXIST');
  pfs.rename(C, ROOT, 'a', ROOT, 'b', RENAME_EXCHANGE);
  assert.is(fs.readFileSync(`${src}/a`, 'utf8'), 'B');
  assert.is(fs.readFileSync(`${src}/b`, 'utf8'), 'A');
  assert.is(pfs.getattr(C, a.ino, undefined).ino, a.attr.ino);
  // a is now called b: open it by nodeid
  const oa = pfs.open(C, a.ino, O_RDONLY);
  assert.is(Buffer.from(pfs.read(C, a.ino, oa.fh!, 0, 10)).toString(), 'A');
  pfs.release(C, a.ino, oa.fh!, 0, 0, 0);
  pfs.rename(C, ROOT, 'b', d2.ino, 'moved', RENAME_NOREPLACE);
  assert.is(fs.readFileSync(`${src}/d2/moved`, 'utf8'), 'A');
  // over an existing file: the victim's inode number may be reused, it gets detached
  pfs.rename(C, d2.ino, 'moved', ROOT, 'a', 0);
  assert.is(fs.readFileSync(`${src}/a`, 'utf8'), 'A');
  assert.not.ok(fs.existsSync(`${src}/b`));
  const oa2 = pfs.open(C, a.ino, O_RDONLY);
  pfs.release(C, a.ino, oa2.fh!, 0, 0, 0);
  // directory rename: children's cached paths follow
  assert.is(pfs.getattr(C, inner.ino, undefined).ino, inner.attr.ino);
  pfs.rename(C, ROOT, 'd1', d2.ino, 'd1moved', 0);
  assert.is(pfs.getattr(C, inner.ino, undefined).ino, inner.attr.ino);
  const oi = pfs.open(C, inner.ino, O_RDONLY);
  assert.is(Buffer.from(pfs.read(C, inner.ino, oi.fh!, 0, 10)).toString(), 'I');
  pfs.release(C, inner.ino, oi.fh!, 0, 0, 0);
  assert.is(pfs.lookup(C, d2.ino, 'd1moved').ino, d1.ino);
  throwsErrno(() => pfs.rename(C, ROOT, 'nope', ROOT, 'x', 0), 'ENOENT');
  throwsErrno(() => pfs.rename(C, ROOT, 'a', ROOT, 'x', 8 /* unknown flag */), 'EINVAL');
  // exchanging a file and a directory
  pfs.rename(C, ROOT, 'a', d2.ino, 'd1moved', RENAME_EXCHANGE);
  assert.ok(fs.statSync(`${src}/a`).isDirectory());
  assert.is(pfs.getattr(C, inner.ino, undefined).ino, inner.attr.ino);
  assert.is(pfs.lookup(C, d1.ino, 'inner').ino, inner.ino);
  void b;
  pfs.destroy();
});

test('link, unlink, rmdir; an unlinked inode number reused by the source gets a new nodeid', () => {
  const src = tree();
  fs.writeFileSync(`${src}/f`, 'F');
  fs.mkdirSync(`${src}/d`);
  const pfs = createPassthroughFs({ source: src });
  const f = pfs.lookup(C, ROOT, 'f');
  const d = pfs.lookup(C, ROOT, 'd');
  const l = pfs.link(C, f.ino, d.ino, 'hard');
  assert.is(l.ino, f.ino);
  assert.is(l.attr.nlink, 2);
  pfs.unlink(C, ROOT, 'f');
  // still reachable through the other name
  assert.is(pfs.getattr(C, f.ino, undefined).nlink, 1);
  const o = pfs.open(C, f.ino, O_RDWR);
  pfs.unlink(C, d.ino, 'hard');
  // open but nameless: still served through the handle
  assert.is(pfs.getattr(C, f.ino, undefined).nlink, 0);
  assert.is(Buffer.from(pfs.read(C, f.ino, o.fh!, 0, 5)).toString(), 'F');
  pfs.release(C, f.ino, o.fh!, 0, 0, 0);
  throwsErrno(() => pfs.getattr(C, f.ino, undefined), 'ESTALE');
  // ext4 hands the number out again: new object, new nodeid
  const c = pfs.create(C, ROOT, 'new', S_IFREG | 0o644, 0, O_RDWR);
  assert.ok(c.entry.ino !== f.ino);
  pfs.release(C, c.entry.ino, c.fh!, 0, 0, 0);
  throwsErrno(() => pfs.link(C, d.ino, ROOT, 'dl'), 'EPERM');
  throwsErrno(() => pfs.rmdir(C, ROOT, 'new'), 'ENOTDIR');
  throwsErrno(() => pfs.unlink(C, ROOT, 'd'), 'EISDIR');
  pfs.rmdir(C, ROOT, 'd');
  assert.not.ok(fs.existsSync(`${src}/d`));
  throwsErrno(() => pfs.rmdir(C, ROOT, 'd'), 'ENOENT');
  // symlink hard link links the symlink
  const s = pfs.symlink(C, ROOT, 'sl', '/etc/passwd');
  const sl2 = pfs.link(C, s.ino, ROOT, 'sl2');
  assert.is(sl2.attr.mode & S_IFMT, S_IFLNK);
  assert.is(fs.readlinkSync(`${src}/sl2`), '/etc/passwd');
  pfs.destroy();
});

test('new files, directories, nodes and symlinks belong to the requester; mode & ~umask; set-group-ID dirs', () => {
  if (!isRoot) return;
  const src = tree();
  fs.mkdirSync(`${src}/sg`);
  fs.chownSync(`${src}/sg`, 0, 2000);
  fs.chmodSync(`${src}/sg`, 0o2775);
  const pfs = createPassthroughFs({ source: src });
  const u = ctx(1000, 1000);
  const f = pfs.create(u, ROOT, 'f', S_IFREG | 0o666, 0o002, O_RDWR);
  pfs.release(u, f.entry.ino, f.fh!, 0, 0, 0);
  let st = fs.statSync(`${src}/f`);
  assert.is(st.uid, 1000);
  assert.is(st.gid, 1000);
  assert.is(st.mode & 0o7777, 0o664, 'mode & ~umask, whatever the server umask');
  assert.is(f.entry.attr.uid, 1000);
  assert.is(f.entry.attr.mode & 0o7777, 0o664);
  const d = pfs.mkdir(u, ROOT, 'd', 0o777, 0o027);
  st = fs.statSync(`${src}/d`);
  assert.equal([st.uid, st.gid, st.mode & 0o7777], [1000, 1000, 0o750]);
  assert.is(d.attr.uid, 1000);
  const s = pfs.symlink(u, ROOT, 's', 'target');
  st = fs.lstatSync(`${src}/s`);
  assert.equal([st.uid, st.gid], [1000, 1000]);
  assert.is(s.attr.uid, 1000);
  const n = pfs.mknod(u, ROOT, 'fifo', S_IFIFO | 0o666, 0, 0o022);
  st = fs.lstatSync(`${src}/fifo`);
  assert.ok(st.isFIFO());
  assert.equal([st.uid, st.gid, st.mode & 0o7777], [1000, 1000, 0o644]);
  assert.is(n.attr.mode & S_IFMT, S_IFIFO);
  const dev = pfs.mknod(u, ROOT, 'null', S_IFCHR | 0o600, (1 << 8) | 3, 0);
  st = fs.lstatSync(`${src}/null`);
  assert.ok(st.isCharacterDevice());
  assert.is(st.rdev, fs.statSync('/dev/null').rdev);
  assert.is(dev.attr.rdev, (1 << 8) | 3);
  // a device with a big minor: kernel encoding round trip
  const big = pfs.mknod(u, ROOT, 'big', S_IFCHR | 0o600, (7 << 8) | (0x123 & 0xff) | ((0x123 & ~0xff) << 12), 0);
  assert.is(big.attr.rdev, (7 << 8) | (0x123 & 0xff) | ((0x123 & ~0xff) << 12));
  // set-group-ID directory: the group is the directory's and subdirectories inherit the bit
  const sg = pfs.lookup(u, ROOT, 'sg');
  const g = pfs.create(u, sg.ino, 'file', S_IFREG | 0o644, 0, O_RDWR);
  pfs.release(u, g.entry.ino, g.fh!, 0, 0, 0);
  st = fs.statSync(`${src}/sg/file`);
  assert.equal([st.uid, st.gid], [1000, 2000]);
  const sub = pfs.mkdir(u, sg.ino, 'sub', 0o755, 0);
  st = fs.statSync(`${src}/sg/sub`);
  assert.equal([st.uid, st.gid, st.mode & 0o7777], [1000, 2000, 0o2755]);
  assert.is(sub.attr.mode & S_ISGID, S_ISGID);
  const sl = pfs.symlink(u, sg.ino, 'l', 'x');
  assert.is(sl.attr.gid, 2000);
  // tmpfile belongs to the requester too
  const tf = pfs.tmpfile(u, ROOT, S_IFREG | 0o640, 0, O_RDWR);
  assert.is(tf.entry.attr.uid, 1000);
  assert.is(tf.entry.attr.nlink, 0);
  pfs.write(u, tf.entry.ino, tf.fh!, 0, Buffer.from('tmp'), 0, 0);
  const linked = pfs.link(u, tf.entry.ino, ROOT, 'fromtmp');
  assert.is(linked.ino, tf.entry.ino);
  pfs.release(u, tf.entry.ino, tf.fh!, 0, 0, 0);
  assert.is(fs.readFileSync(`${src}/fromtmp`, 'utf8'), 'tmp');
  assert.is(fs.statSync(`${src}/fromtmp`).uid, 1000);
  // root requester: no chown needed, still root-owned
  const r = pfs.create(C, ROOT, 'rootfile', S_IFREG | 0o600, 0, O_RDWR);
  pfs.release(C, r.entry.ino, r.fh!, 0, 0, 0);
  assert.is(fs.statSync(`${src}/rootfile`).uid, 0);
  pfs.destroy();
});

test('a 25k-file directory looked up in full, and a 3000-directory tree, without an fd per inode', () => {
  const src = tree();
  fs.mkdirSync(`${src}/big`);
  const N = 25000;
  for (let i = 0; i < N; i++) fs.writeFileSync(`${src}/big/f${i}`, '');
  for (let i = 0; i < 3000; i++) {
    fs.mkdirSync(`${src}/d${i}`);
    fs.writeFileSync(`${src}/d${i}/x`, String(i));
  }
  const fdsBefore = openFdCount();
  const pfs = createPassthroughFs({ source: src, maxDirFds: 64 });
  const big = pfs.lookup(C, ROOT, 'big');
  for (let i = 0; i < N; i++) {
    const e = pfs.lookup(C, big.ino, `f${i}`);
    if (i % 5000 === 0) assert.is(e.attr.ino, ino(`${src}/big/f${i}`));
  }
  const dirs: Entry[] = [];
  for (let i = 0; i < 3000; i++) dirs.push(pfs.lookup(C, ROOT, `d${i}`));
  // children through directories whose fds were evicted
  for (let i = 0; i < 3000; i += 7) {
    const x = pfs.lookup(C, dirs[i].ino, 'x');
    assert.is(x.attr.size, String(i).length);
    assert.is(pfs.getattr(C, x.ino, undefined).ino, ino(`${src}/d${i}/x`));
  }
  assert.ok(pfs.stats().inodes >= N + 3000);
  assert.ok(pfs.stats().dirFds <= 64, `dir fds ${pfs.stats().dirFds}`);
  assert.ok(openFdCount() - fdsBefore <= 70, `fds grew by ${openFdCount() - fdsBefore}`);
  // the big directory read with readdirplus in small replies: every entry once, each counted once
  const fh = pfs.opendir(C, big.ino, 0).fh!;
  const seen = new Set<string>();
  let off = 0;
  for (;;) {
    const s = plusSink(100);
    pfs.readdirplus(C, big.ino, fh, off, s);
    if (!s.items.length) break;
    for (const it of s.items) {
      assert.not.ok(seen.has(it.name), `dup ${it.name}`);
      seen.add(it.name);
    }
    off = s.items[s.items.length - 1].off;
  }
  assert.is(seen.size, N + 2);
  pfs.releasedir(C, big.ino, fh, 0);
  pfs.destroy();
  assert.ok(openFdCount() <= fdsBefore, 'destroy closes everything');
  fs.rmSync(src, { recursive: true });
});

test('below a directory with a default ACL the umask is not applied (the ACL masks the mode)', () => {
  const src = tree();
  fs.mkdirSync(`${src}/acl`);
  fs.mkdirSync(`${src}/plain`);
  const pfs = createPassthroughFs({ source: src });
  const acl = pfs.lookup(C, ROOT, 'acl');
  const plain = pfs.lookup(C, ROOT, 'plain');
  // u::rwx g::rwx o::rwx as a default ACL (version 2; entries tag, perm, id)
  const b = Buffer.alloc(4 + 3 * 8);
  b.writeUInt32LE(2, 0);
  [[0x01, 7], [0x04, 7], [0x20, 7]].forEach(([tag, perm], i) => {
    b.writeUInt16LE(tag, 4 + i * 8);
    b.writeUInt16LE(perm, 6 + i * 8);
    b.writeUInt32LE(0xffffffff, 8 + i * 8);
  });
  // a first create caches "no ACL"; setting the ACL through the filesystem resets that
  const f0 = pfs.create(C, acl.ino, 'before', S_IFREG | 0o666, 0o022, O_RDWR);
  pfs.release(C, f0.entry.ino, f0.fh!, 0, 0, 0);
  assert.is(fs.statSync(`${src}/acl/before`).mode & 0o777, 0o644);
  pfs.setxattr(C, acl.ino, 'system.posix_acl_default', b, 0);
  const f = pfs.create(C, acl.ino, 'f', S_IFREG | 0o666, 0o022, O_RDWR);
  pfs.release(C, f.entry.ino, f.fh!, 0, 0, 0);
  assert.is(fs.statSync(`${src}/acl/f`).mode & 0o777, 0o666);
  pfs.mkdir(C, acl.ino, 'd', 0o777, 0o022);
  assert.is(fs.statSync(`${src}/acl/d`).mode & 0o777, 0o777);
  const g = pfs.create(C, plain.ino, 'f', S_IFREG | 0o666, 0o022, O_RDWR);
  pfs.release(C, g.entry.ino, g.fh!, 0, 0, 0);
  assert.is(fs.statSync(`${src}/plain/f`).mode & 0o777, 0o644);
  pfs.mkdir(C, plain.ino, 'd', 0o777, 0o002);
  assert.is(fs.statSync(`${src}/plain/d`).mode & 0o777, 0o775);
  pfs.removexattr(C, acl.ino, 'system.posix_acl_default');
  pfs.mkdir(C, acl.ino, 'd2', 0o777, 0o022);
  assert.is(fs.statSync(`${src}/acl/d2`).mode & 0o777, 0o755);
  pfs.destroy();
});

test('directory fd cache: eviction under pressure never closes the fd being resolved', () => {
  const src = tree();
  for (let i = 0; i < 40; i++) {
    fs.mkdirSync(`${src}/d${i}/a/b`, { recursive: true });
    fs.writeFileSync(`${src}/d${i}/a/b/f`, String(i));
  }
  const pfs = createPassthroughFs({ source: src, maxDirFds: 16 });
  const ds = [];
  for (let i = 0; i < 40; i++) {
    const d = pfs.lookup(C, ROOT, `d${i}`);
    const a = pfs.lookup(C, d.ino, 'a');
    const b = pfs.lookup(C, a.ino, 'b');
    ds.push(b);
    // touch twice: every cached entry has its second-chance bit set
    pfs.lookup(C, b.ino, 'f');
    pfs.lookup(C, b.ino, 'f');
  }
  // every cached directory has been used twice (second-chance bit set) when one more is needed
  const fresh = createPassthroughFs({ source: src, maxDirFds: 16 });
  const top = [];
  for (let i = 0; i < 40; i++) top.push(fresh.lookup(C, ROOT, `d${i}`));
  for (let i = 0; i < 40; i++) {
    assert.is(fresh.lookup(C, top[i].ino, 'a').attr.mode & S_IFMT, S_IFDIR, `d${i}/a`);
    assert.is(fresh.lookup(C, top[i].ino, 'a').attr.mode & S_IFMT, S_IFDIR);
  }
  fresh.destroy();
  for (let r = 0; r < 3; r++) {
    for (let i = 0; i < 40; i++) {
      const f = pfs.lookup(C, ds[i].ino, 'f');
      assert.is(f.attr.size, String(i).length);
      const o = pfs.open(C, f.ino, O_RDONLY);
      assert.is(Buffer.from(pfs.read(C, f.ino, o.fh!, 0, 10)).toString(), String(i));
      pfs.release(C, f.ino, o.fh!, 0, 0, 0);
    }
  }
  assert.ok(pfs.stats().dirFds <= 16);
  pfs.destroy();
});

test('extended attributes: set/get/list/remove, flags, absent names', () => {
  const src = tree();
  fs.writeFileSync(`${src}/f`, '');
  fs.mkdirSync(`${src}/d`);
  const pfs = createPassthroughFs({ source: src });
  const f = pfs.lookup(C, ROOT, 'f');
  const d = pfs.lookup(C, ROOT, 'd');
  throwsErrno(() => pfs.getxattr(C, f.ino, 'user.none'), 'ENODATA');
  pfs.setxattr(C, f.ino, 'user.a', Buffer.from('alpha'), 0);
  pfs.setxattr(C, f.ino, 'user.empty', new Uint8Array(0), 0);
  const big = Buffer.alloc(3000, 0x61); // > the first buffer, < ext4's per-block limit
  pfs.setxattr(C, f.ino, 'user.big', big, 0);
  assert.is(Buffer.from(pfs.getxattr(C, f.ino, 'user.a')).toString(), 'alpha');
  assert.is(pfs.getxattr(C, f.ino, 'user.empty').length, 0);
  assert.ok(Buffer.from(pfs.getxattr(C, f.ino, 'user.big')).equals(big));
  assert.equal(pfs.listxattr(C, f.ino).filter((x) => x.startsWith('user.')).sort(), ['user.a', 'user.big', 'user.empty']);
  throwsErrno(() => pfs.setxattr(C, f.ino, 'user.a', Buffer.from('x'), 1 /* XATTR_CREATE */), 'EEXIST');
  throwsErrno(() => pfs.setxattr(C, f.ino, 'user.b', Buffer.from('x'), 2 /* XATTR_REPLACE */), 'ENODATA');
  pfs.removexattr(C, f.ino, 'user.a');
  throwsErrno(() => pfs.removexattr(C, f.ino, 'user.a'), 'ENODATA');
  pfs.setxattr(C, d.ino, 'user.dir', Buffer.from('D'), 0);
  assert.is(Buffer.from(pfs.getxattr(C, d.ino, 'user.dir')).toString(), 'D');
  pfs.setxattr(C, ROOT, 'user.root', Buffer.from('R'), 0);
  assert.is(Buffer.from(pfs.getxattr(C, ROOT, 'user.root')).toString(), 'R');
  // the name cache: changes through the filesystem are seen at once
  fs.writeFileSync(`${src}/g`, '');
  const g = pfs.lookup(C, ROOT, 'g');
  throwsErrno(() => pfs.getxattr(C, g.ino, 'user.x'), 'ENODATA');
  assert.equal(pfs.listxattr(C, g.ino).filter((x) => x.startsWith('user.')), []);
  pfs.setxattr(C, g.ino, 'user.x', Buffer.from('1'), 0);
  assert.is(Buffer.from(pfs.getxattr(C, g.ino, 'user.x')).toString(), '1');
  assert.equal(pfs.listxattr(C, g.ino).filter((x) => x.startsWith('user.')), ['user.x']);
  // with nocache nothing is cached: a change made directly in the source shows
  const nc = createPassthroughFs({ source: src, nocache: true });
  const g2 = nc.lookup(C, ROOT, 'g');
  throwsErrno(() => nc.getxattr(C, g2.ino, 'user.y'), 'ENODATA');
  fsops.setxattr(`${src}/g`, 'user.y', Buffer.from('2'), 0);
  assert.is(Buffer.from(nc.getxattr(C, g2.ino, 'user.y')).toString(), '2');
  nc.destroy();
  pfs.destroy();
});

test('lseek SEEK_DATA/SEEK_HOLE, fallocate, copy_file_range', () => {
  const src = tree();
  const pfs = createPassthroughFs({ source: src });
  const c = pfs.create(C, ROOT, 'sparse', S_IFREG | 0o644, 0, O_RDWR);
  const MB = 1 << 20;
  pfs.write(C, c.entry.ino, c.fh!, 0, Buffer.alloc(4096, 1), 0, 0);
  pfs.write(C, c.entry.ino, c.fh!, 4 * MB, Buffer.alloc(4096, 2), 0, 0);
  assert.is(pfs.lseek(C, c.entry.ino, c.fh!, 0, SEEK_DATA), 0);
  assert.is(pfs.lseek(C, c.entry.ino, c.fh!, 0, SEEK_HOLE), 4096);
  assert.is(pfs.lseek(C, c.entry.ino, c.fh!, 8192, SEEK_DATA), 4 * MB);
  assert.is(pfs.lseek(C, c.entry.ino, c.fh!, 4 * MB, SEEK_HOLE), 4 * MB + 4096);
  throwsErrno(() => pfs.lseek(C, c.entry.ino, c.fh!, 8 * MB, SEEK_DATA), 'ENXIO');
  // fallocate: allocate beyond the end, then punch a hole
  pfs.fallocate(C, c.entry.ino, c.fh!, 0, 8 * MB, 0);
  assert.is(fs.statSync(`${src}/sparse`).size, 8 * MB);
  const blocks = fs.statSync(`${src}/sparse`).blocks;
  pfs.fallocate(C, c.entry.ino, c.fh!, MB, 2 * MB, 0x01 | 0x02 /* KEEP_SIZE | PUNCH_HOLE */);
  assert.ok(fs.statSync(`${src}/sparse`).blocks < blocks);
  assert.is(pfs.lseek(C, c.entry.ino, c.fh!, MB, SEEK_HOLE), MB);
  // copy_file_range between two handles at explicit offsets
  const data = Buffer.alloc(100000);
  for (let i = 0; i < data.length; i++) data[i] = (i * 7) & 0xff;
  const a = pfs.create(C, ROOT, 'a', S_IFREG | 0o644, 0, O_RDWR);
  pfs.write(C, a.entry.ino, a.fh!, 0, data, 0, 0);
  const b = pfs.create(C, ROOT, 'b', S_IFREG | 0o644, 0, O_RDWR);
  let copied = 0;
  while (copied < 50000) copied += pfs.copyFileRange(C, a.entry.ino, a.fh!, 1000 + copied, b.entry.ino, b.fh!, 10 + copied, 50000 - copied, 0);
  assert.is(copied, 50000);
  const out = fs.readFileSync(`${src}/b`);
  assert.is(out.length, 50010);
  assert.ok(out.subarray(10).equals(data.subarray(1000, 51000)));
  for (const h of [c, a, b]) pfs.release(C, h.entry.ino, h.fh!, 0, 0, 0);
  pfs.destroy();
});

test('statfs, access, fsyncdir, syncfs', () => {
  const src = tree();
  fs.writeFileSync(`${src}/f`, '');
  fs.chmodSync(`${src}/f`, 0o640);
  if (isRoot) fs.chownSync(`${src}/f`, 1000, 2000);
  const pfs = createPassthroughFs({ source: src });
  const s = pfs.statfs(C, ROOT);
  const ref = fs.statfsSync(src);
  assert.is(s.bsize, ref.bsize);
  assert.is(s.blocks, ref.blocks);
  assert.is(s.namelen, 255);
  assert.ok(s.files > 0);
  const f = pfs.lookup(C, ROOT, 'f');
  assert.is(pfs.statfs(C, f.ino).blocks, ref.blocks);
  if (isRoot) {
    pfs.access(ctx(1000, 1), f.ino, 4 | 2);
    throwsErrno(() => pfs.access(ctx(1000, 1), f.ino, 1), 'EACCES');
    pfs.access(ctx(1001, 2000), f.ino, 4);
    throwsErrno(() => pfs.access(ctx(1001, 2000), f.ino, 2), 'EACCES');
    throwsErrno(() => pfs.access(ctx(1002, 3000), f.ino, 4), 'EACCES');
    pfs.access(ctx(1002, 3000), f.ino, 0);
    throwsErrno(() => pfs.access(C, f.ino, 1), 'EACCES');
    pfs.access(C, ROOT, 7);
  }
  const fh = pfs.opendir(C, ROOT, 0).fh!;
  pfs.fsyncdir(C, ROOT, fh, false);
  pfs.fsyncdir(C, ROOT, fh, true);
  pfs.releasedir(C, ROOT, fh, 0);
  pfs.syncfs(C, ROOT);
  pfs.destroy();
});

test('POSIX locks per lock owner (OFD locks underneath), released by flush; SETLKW waits; flock', async () => {
  const src = tree();
  fs.writeFileSync(`${src}/f`, 'x'.repeat(1000));
  const pfs = createPassthroughFs({ source: src });
  const f = pfs.lookup(C, ROOT, 'f');
  const h1 = pfs.open(C, f.ino, O_RDWR).fh!;
  const h2 = pfs.open(C, f.ino, O_RDWR).fh!;
  const A = 0x1111;
  const B = 0x2222;
  const lk = (type: number, start: number, end: number, pid = 1): FileLock => ({ type, start, end, pid });
  pfs.setlk(C, f.ino, h1, A, lk(F_WRLCK, 0, 99, 101), false, false);
  // the same owner may relock / split through another handle
  pfs.setlk(C, f.ino, h2, A, lk(F_RDLCK, 50, 59, 101), false, false);
  // another owner conflicts
  throwsErrno(() => pfs.setlk(C, f.ino, h2, B, lk(F_WRLCK, 10, 20, 202), false, false), 'EAGAIN');
  throwsErrno(() => pfs.setlk(C, f.ino, h2, B, lk(F_RDLCK, 0, 0, 202), false, false), 'EAGAIN');
  const g = pfs.getlk(C, f.ino, h2, B, lk(F_WRLCK, 0, EOF, 202));
  assert.is(g.type, F_WRLCK);
  assert.is(g.start, 0);
  assert.is(g.end, 49);
  assert.is(g.pid, 101);
  // the owner sees no conflict with itself
  assert.is(pfs.getlk(C, f.ino, h1, A, lk(F_WRLCK, 0, EOF)).type, F_UNLCK);
  // a read lock by B past A's range is fine; to EOF
  pfs.setlk(C, f.ino, h2, B, lk(F_RDLCK, 100, EOF, 202), false, false);
  const g2 = pfs.getlk(C, f.ino, h1, A, lk(F_WRLCK, 200, 300));
  assert.is(g2.type, F_RDLCK);
  assert.is(g2.end, EOF);
  // SETLKW waits until A's lock goes away (A closes a file: flush drops all of A's locks)
  let done = false;
  const w = Promise.resolve(pfs.setlk(C, f.ino, h2, B, lk(F_WRLCK, 0, 10, 202), true, false)).then(() => { done = true; });
  await new Promise((r) => setTimeout(r, 30));
  assert.not.ok(done, 'still waiting');
  pfs.flush(C, f.ino, h1, A);
  await w;
  assert.ok(done);
  assert.is(pfs.getlk(C, f.ino, h1, A, lk(F_WRLCK, 0, 5)).type, F_WRLCK);
  // unlock
  pfs.setlk(C, f.ino, h2, B, lk(F_UNLCK, 0, EOF), false, false);
  assert.is(pfs.getlk(C, f.ino, h1, A, lk(F_WRLCK, 0, EOF)).type, F_UNLCK);
  // an interrupted SETLKW gives up with EINTR
  pfs.setlk(C, f.ino, h1, A, lk(F_WRLCK, 0, 0), false, false);
  const ic = ctx();
  const p = Promise.resolve(pfs.setlk(ic, f.ino, h2, B, lk(F_WRLCK, 0, 0), true, false));
  setTimeout(() => { ic.interrupted = true; }, 20);
  let err: string | undefined;
  await p.catch((e) => { err = e.code; });
  assert.is(err, 'EINTR');
  pfs.flush(C, f.ino, h1, A);
  pfs.flush(C, f.ino, h2, B);

  // flock: per open file
  pfs.setlk(C, f.ino, h1, A, lk(F_WRLCK, 0, EOF), false, true);
  throwsErrno(() => pfs.setlk(C, f.ino, h2, B, lk(F_WRLCK, 0, EOF), false, true), 'EAGAIN');
  throwsErrno(() => pfs.setlk(C, f.ino, h2, B, lk(F_RDLCK, 0, EOF), false, true), 'EAGAIN');
  let got = false;
  const fw = Promise.resolve(pfs.setlk(C, f.ino, h2, B, lk(F_RDLCK, 0, EOF), true, true)).then(() => { got = true; });
  await new Promise((r) => setTimeout(r, 20));
  assert.not.ok(got);
  pfs.release(C, f.ino, h1, 0, 2 /* FLOCK_UNLOCK */, A);
  await fw;
  assert.ok(got);
  // POSIX and flock locks are independent
  pfs.setlk(C, f.ino, h2, B, lk(F_WRLCK, 0, EOF), false, false);
  pfs.release(C, f.ino, h2, 0, 0, B);
  assert.is(pfs.stats().files, 0);
  // after the last release a new open sees no locks
  const h3 = pfs.open(C, f.ino, O_RDWR).fh!;
  assert.is(pfs.getlk(C, f.ino, h3, A, lk(F_WRLCK, 0, EOF)).type, F_UNLCK);
  pfs.release(C, f.ino, h3, 0, 0, 0);
  pfs.destroy();
});

test('forget drops inodes and their directory fds; the root is never forgotten', () => {
  const src = tree();
  fs.mkdirSync(`${src}/d`);
  fs.writeFileSync(`${src}/d/f`, '');
  const pfs = createPassthroughFs({ source: src });
  const d = pfs.lookup(C, ROOT, 'd');
  pfs.lookup(C, ROOT, 'd');
  const f = pfs.lookup(C, d.ino, 'f');
  assert.is(pfs.stats().inodes, 3);
  assert.is(pfs.stats().dirFds, 1);
  pfs.forget(f.ino, 1);
  assert.is(pfs.stats().inodes, 2);
  pfs.forget(d.ino, 1);
  assert.is(pfs.stats().inodes, 2, 'one lookup left');
  pfs.forget(d.ino, 1);
  assert.is(pfs.stats().inodes, 1);
  assert.is(pfs.stats().dirFds, 0);
  throwsErrno(() => pfs.getattr(C, d.ino, undefined), 'ESTALE');
  pfs.forget(ROOT, 1);
  pfs.forget(12345, 1);
  assert.is(pfs.getattr(C, ROOT, undefined).ino, ino(src));
  // looked up again: a new nodeid, works
  const d2 = pfs.lookup(C, ROOT, 'd');
  assert.ok(d2.ino !== d.ino);
  assert.is(pfs.lookup(C, d2.ino, 'f').attr.ino, f.attr.ino);
  pfs.destroy();
});

test('writeback cache: write-only opens become read-write and O_APPEND is left to the kernel', () => {
  const src = tree();
  fs.writeFileSync(`${src}/f`, 'abc');
  const pfs = createPassthroughFs({ source: src });
  pfs.init({ minor: 45, flags: 1 << 16, maxWrite: 1 << 20, maxReadahead: 1 << 17, passthrough: false });
  const f = pfs.lookup(C, ROOT, 'f');
  const o = pfs.open(C, f.ino, O_WRONLY | O_APPEND);
  assert.is(Buffer.from(pfs.read(C, f.ino, o.fh!, 0, 3)).toString(), 'abc');
  pfs.write(C, f.ino, o.fh!, 1, Buffer.from('X'), 0, 0);
  assert.is(fs.readFileSync(`${src}/f`, 'utf8'), 'aXc');
  pfs.release(C, f.ino, o.fh!, 0, 0, 0);
  pfs.destroy();
});

test('the default cap of cached file fds is half of RLIMIT_NOFILE less the directory cap: 5000 new files keep theirs here', () => {
  const src = tree();
  const pfs = createPassthroughFs({ source: src });
  const soft = Number(/^Max open files\s+(\d+)/m.exec(fs.readFileSync('/proc/self/limits', 'latin1'))![1]);
  const cap = Math.max(16, Math.min(262144, Math.floor(soft / 2) - Math.min(1024, Math.floor(soft / 8))));
  const files = 5000;
  try {
    for (let i = 0; i < files; i++) {
      const r = pfs.create(C, ROOT, `f${i}`, S_IFREG | 0o644, 0, O_CREAT | O_WRONLY);
      pfs.release(C, r.entry.ino, r.fh ?? -1, O_WRONLY, 0, 0);
    }
    assert.is(pfs.stats().fileFds, Math.min(files, cap), `limit ${soft}: cap ${cap}`);
  } finally {
    pfs.destroy();
  }
});

test.after(() => {
  fs.rmSync(BASE, { recursive: true, force: true });
});

test.run();
