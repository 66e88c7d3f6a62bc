// memfs unit tests: the Filesystem methods called directly, no mount.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { MemFs, createMemFs, createFilesystem } from '../../../src/fs/memfs.js';
import type { DirentPlusSink, DirentSink, Entry, RequestContext } from '../../../src/fs/types.js';
import {
  S_IFMT, S_IFDIR, S_IFREG, S_IFLNK, S_IFIFO, S_IFCHR, S_IFBLK, S_IFSOCK, S_ISGID, S_ISUID,
  RENAME_NOREPLACE, RENAME_EXCHANGE, RENAME_WHITEOUT,
} from '../../../src/fs/types.js';
import { O_APPEND, O_EXCL, O_RDONLY, O_RDWR, O_TRUNC, O_WRONLY } from '../../../src/protocol/posix.js';

const ROOT = 1;

function ctx(uid = 1000, gid = 1000): RequestContext {
  return { uid, gid, pid: 4242, opcode: 0, interrupted: false };
}
const C = ctx();
const ROOTCTX = ctx(0, 0);

function throwsErrno(fn: () => unknown, code: string, msg?: string): void {
  try {
    fn();
  } catch (e) {
    assert.is((e as { code?: string }).code, code, msg ?? `expected ${code}, got ${(e as Error).message}`);
    return;
  }
  assert.unreachable(msg ?? `expected ${code}, call succeeded`);
}

interface Dirent {
  ino: number;
  name: string;
  mode: number;
  off: number;
}

/** A DirentSink that accepts entries while the budget (bytes, each entry ~ like fuse_dirent) lasts. */
function sink(budget = Infinity): DirentSink & { items: Dirent[] } {
  let left = budget;
  const items: Dirent[] = [];
  return {
    items,
    add(ino, name, mode, off) {
      const nm = typeof name === 'string' ? name : Buffer.from(name).toString();
      const sz = (24 + Buffer.byteLength(nm) + 7) & ~7;
      if (sz > left) return false;
      left -= sz;
      items.push({ ino, name: nm, mode, off });
      return true;
    },
  };
}

function plusSink(budget = Infinity): DirentPlusSink & { items: { name: string; entry: Entry; off: number }[] } {
  let left = budget;
  const items: { name: string; entry: Entry; off: number }[] = [];
  return {
    items,
    add(name, entry, off) {
      const nm = typeof name === 'string' ? name : Buffer.from(name).toString();
      const sz = (128 + 24 + Buffer.byteLength(nm) + 7) & ~7;
      if (sz > left) return false;
      left -= sz;
      items.push({ name: nm, entry, off });
      return true;
    },
  };
}

/** Reads a whole directory with many small READDIR calls (budget bytes each). */
function readAll(fs: MemFs, dir: number, budget = 100): string[] {
  const fh = fs.opendir(C, dir, 0).fh!;
  const names: string[] = [];
  let off = 0;
  for (;;) {
    const s = sink(budget);
    fs.readdir(C, dir, fh, off, s);
    if (s.items.length === 0) break;
    for (const it of s.items) names.push(it.name);
    off = s.items[s.items.length - 1]!.off;
  }
  fs.releasedir(C, dir, fh, 0);
  return names;
}

const enc = (s: string) => Buffer.from(s);
const str = (b: Uint8Array) => Buffer.from(b).toString();

// ---------------------------------------------------------------------------------------------------------

test('exports and root', () => {
  assert.is(createFilesystem, createMemFs);
  const fs = createMemFs();
  assert.instance(fs, MemFs);
  const a = fs.getattr(C, ROOT, undefined);
  assert.is(a.ino, 1);
  assert.is(a.mode, 0o40755);
  assert.is(a.uid, 0);
  assert.is(a.gid, 0);
  assert.is(a.nlink, 2);
  const fs2 = createMemFs({ rootMode: 0o1777, uid: 5, gid: 6, attrTimeout: 0, entryTimeout: 0 });
  const b = fs2.getattr(C, ROOT, undefined);
  assert.is(b.mode, S_IFDIR | 0o1777);
  assert.is(b.uid, 5);
  assert.is(b.gid, 6);
  assert.is(b.timeout, 0);
  const e = fs2.mkdir(C, ROOT, 'x', 0o755, 0);
  assert.is(e.entryTimeout, 0);
  assert.is(e.attrTimeout, 0);
  assert.throws(() => createMemFs({ chunkSize: 1000 }));
});

test('create, ownership, umask, lookup, getattr', () => {
  const fs = createMemFs();
  const r = fs.create(ctx(1000, 100), ROOT, 'f', 0o666, 0o022, O_RDWR);
  assert.ok(r.fh! > 0);
  assert.is(r.entry.attr.mode, S_IFREG | 0o644);
  assert.is(r.entry.attr.uid, 1000);
  assert.is(r.entry.attr.gid, 100);
  assert.is(r.entry.attr.nlink, 1);
  assert.is(r.entry.attr.size, 0);
  assert.is(r.entry.generation, 0);
  const l = fs.lookup(C, ROOT, 'f');
  assert.is(l.ino, r.entry.ino);
  assert.is(fs.lookupCount(l.ino), 2);
  throwsErrno(() => fs.lookup(C, ROOT, 'nope'), 'ENOENT');
  throwsErrno(() => fs.lookup(C, r.entry.ino, 'x'), 'ENOTDIR');
  throwsErrno(() => fs.lookup(C, ROOT, 'x'.repeat(256)), 'ENAMETOOLONG');
  throwsErrno(() => fs.create(C, ROOT, 'é'.repeat(128), 0o644, 0, O_RDWR), 'ENAMETOOLONG'); // 256 bytes
  fs.create(C, ROOT, 'é'.repeat(127), 0o644, 0, O_RDWR); // 254 bytes is fine
  throwsErrno(() => fs.create(C, ROOT, 'f', 0o644, 0, O_RDWR | O_EXCL), 'EEXIST');
  // without O_EXCL an existing file is opened (and O_TRUNC honoured)
  fs.write(C, l.ino, r.fh!, 0, enc('hello'), 0, O_RDWR);
  const again = fs.create(C, ROOT, 'f', 0o644, 0, O_RDWR | O_TRUNC);
  assert.is(again.entry.ino, l.ino);
  assert.is(again.entry.attr.size, 0);
  throwsErrno(() => fs.getattr(C, 9999, undefined), 'ENOENT');
  // "." and ".." lookups
  const d = fs.mkdir(C, ROOT, 'd', 0o755, 0);
  assert.is(fs.lookup(C, d.ino, '.').ino, d.ino);
  assert.is(fs.lookup(C, d.ino, '..').ino, ROOT);
  assert.is(fs.lookup(C, ROOT, '..').ino, ROOT);
});

test('negative lookups when negativeTimeout is set', () => {
  const fs = createMemFs({ negativeTimeout: 5 });
  const e = fs.lookup(C, ROOT, 'missing');
  assert.is(e.ino, 0);
  assert.is(e.entryTimeout, 5);
});

test('mknod: regular, fifo, devices, socket; EPERM for dirs', () => {
  const fs = createMemFs();
  const reg = fs.mknod(C, ROOT, 'reg', 0o644, 0, 0o022);
  assert.is(reg.attr.mode, S_IFREG | 0o644);
  const reg0 = fs.mknod(C, ROOT, 'reg0', 0o600, 0, 0);
  assert.is(reg0.attr.mode & S_IFMT, S_IFREG);
  const fifo = fs.mknod(C, ROOT, 'fifo', S_IFIFO | 0o666, 0, 0o002);
  assert.is(fifo.attr.mode, S_IFIFO | 0o664);
  const rdev = (1 << 8) | 3; // 1:3 = /dev/null
  const chr = fs.mknod(C, ROOT, 'null', S_IFCHR | 0o666, rdev, 0);
  assert.is(chr.attr.mode & S_IFMT, S_IFCHR);
  assert.is(chr.attr.rdev, rdev);
  const sx = fs.statx(C, chr.ino, undefined, 0, 0x7ff);
  assert.is(sx.rdevMajor, 1);
  assert.is(sx.rdevMinor, 3);
  const blk = fs.mknod(C, ROOT, 'blk', S_IFBLK | 0o660, (8 << 8) | 1, 0);
  assert.is(blk.attr.mode & S_IFMT, S_IFBLK);
  assert.is(blk.attr.rdev, (8 << 8) | 1);
  const sock = fs.mknod(C, ROOT, 'sock', S_IFSOCK | 0o755, 0, 0);
  assert.is(sock.attr.mode & S_IFMT, S_IFSOCK);
  assert.is(sock.attr.rdev, 0);
  throwsErrno(() => fs.mknod(C, ROOT, 'dir', S_IFDIR | 0o755, 0, 0), 'EPERM');
  throwsErrno(() => fs.mknod(C, ROOT, 'fifo', S_IFIFO | 0o644, 0, 0), 'EEXIST');
  throwsErrno(() => fs.mknod(C, ROOT, 'a/b', 0o644, 0, 0), 'EINVAL');
});

test('mkdir nlink, parent times, rmdir ENOTEMPTY/ENOTDIR', async () => {
  const fs = createMemFs();
  const before = fs.getattr(C, ROOT, undefined);
  await new Promise((r) => setTimeout(r, 5));
  const d = fs.mkdir(C, ROOT, 'd', 0o777, 0o022);
  assert.is(d.attr.mode, S_IFDIR | 0o755);
  assert.is(d.attr.nlink, 2);
  const root = fs.getattr(C, ROOT, undefined);
  assert.is(root.nlink, 3);
  assert.ok(root.mtime * 1e9 + root.mtimeNsec! > before.mtime * 1e9 + before.mtimeNsec!, 'parent mtime moved');
  assert.is(root.ctime, root.mtime);
  fs.mkdir(C, d.ino, 'sub', 0o755, 0);
  fs.create(C, d.ino, 'file', 0o644, 0, O_RDWR);
  assert.is(fs.getattr(C, d.ino, undefined).nlink, 3, 'files do not count');
  throwsErrno(() => fs.rmdir(C, ROOT, 'd'), 'ENOTEMPTY');
  throwsErrno(() => fs.rmdir(C, d.ino, 'file'), 'ENOTDIR');
  throwsErrno(() => fs.unlink(C, d.ino, 'sub'), 'EISDIR');
  throwsErrno(() => fs.rmdir(C, d.ino, 'missing'), 'ENOENT');
  throwsErrno(() => fs.rmdir(C, d.ino, '.'), 'EINVAL');
  throwsErrno(() => fs.mkdir(C, ROOT, 'd', 0o755, 0), 'EEXIST');
  fs.rmdir(C, d.ino, 'sub');
  fs.unlink(C, d.ino, 'file');
  assert.is(fs.getattr(C, d.ino, undefined).nlink, 2);
  fs.rmdir(C, ROOT, 'd');
  assert.is(fs.getattr(C, ROOT, undefined).nlink, 2);
  // still looked up by the kernel: not freed, nlink 0, can't create inside
  assert.ok(fs.hasInode(d.ino));
  assert.is(fs.getattr(C, d.ino, undefined).nlink, 0);
  throwsErrno(() => fs.mkdir(C, d.ino, 'x', 0o755, 0), 'ENOENT');
  fs.forget(d.ino, 1);
  assert.not.ok(fs.hasInode(d.ino));
});

test('setgid directories: gid inheritance and setgid subdirs', () => {
  const fs = createMemFs({ rootMode: 0o777 });
  const owner = ctx(1000, 1000);
  const sg = fs.mkdir(owner, ROOT, 'sg', 0o2775, 0);
  // mkdir strips setgid from the requested mode; set it with chmod
  assert.is(sg.attr.mode & S_ISGID, 0);
  fs.setattr(owner, sg.ino, { mode: 0o2775, gid: 50 });
  const other = ctx(2000, 2000);
  const f = fs.create(other, sg.ino, 'f', 0o644, 0, O_RDWR);
  assert.is(f.entry.attr.uid, 2000);
  assert.is(f.entry.attr.gid, 50);
  assert.is(f.entry.attr.mode & S_ISGID, 0);
  const sub = fs.mkdir(other, sg.ino, 'sub', 0o755, 0);
  assert.is(sub.attr.gid, 50);
  assert.ok(sub.attr.mode & S_ISGID, 'new subdir is setgid');
  const deeper = fs.mknod(other, sub.ino, 'fifo', S_IFIFO | 0o644, 0, 0);
  assert.is(deeper.attr.gid, 50);
  const ln = fs.symlink(other, sub.ino, 'ln', 'target');
  assert.is(ln.attr.gid, 50);
  // not setgid: caller's gid
  const plain = fs.mkdir(other, ROOT, 'plain', 0o755, 0);
  assert.is(fs.create(other, plain.ino, 'g', 0o644, 0, O_RDWR).entry.attr.gid, 2000);
});

test('symlink and readlink', () => {
  const fs = createMemFs();
  const s = fs.symlink(C, ROOT, 'ln', 'some/where/ü');
  assert.is(s.attr.mode, S_IFLNK | 0o777);
  assert.is(s.attr.size, Buffer.byteLength('some/where/ü'));
  assert.is(str(fs.readlink(C, s.ino) as Uint8Array), 'some/where/ü');
  const f = fs.create(C, ROOT, 'f', 0o644, 0, O_RDWR);
  throwsErrno(() => fs.readlink(C, f.entry.ino), 'EINVAL');
  throwsErrno(() => fs.symlink(C, ROOT, 'ln', 'x'), 'EEXIST');
  throwsErrno(() => fs.symlink(C, ROOT, 'long', 'x'.repeat(5000)), 'ENAMETOOLONG');
});

test('link and unlink: nlink, ctime, EPERM for dirs', () => {
  const fs = createMemFs();
  const f = fs.create(C, ROOT, 'a', 0o644, 0, O_RDWR);
  fs.release(C, f.entry.ino, f.fh!, 0, 0, 0);
  const l = fs.link(C, f.entry.ino, ROOT, 'b');
  assert.is(l.ino, f.entry.ino);
  assert.is(l.attr.nlink, 2);
  assert.is(fs.lookupCount(f.entry.ino), 2);
  const d = fs.mkdir(C, ROOT, 'd', 0o755, 0);
  throwsErrno(() => fs.link(C, d.ino, ROOT, 'dlink'), 'EPERM');
  throwsErrno(() => fs.link(C, f.entry.ino, ROOT, 'b'), 'EEXIST');
  fs.link(C, f.entry.ino, d.ino, 'c');
  assert.is(fs.getattr(C, f.entry.ino, undefined).nlink, 3);
  fs.unlink(C, ROOT, 'a');
  fs.unlink(C, ROOT, 'b');
  assert.is(fs.getattr(C, f.entry.ino, undefined).nlink, 1);
  throwsErrno(() => fs.unlink(C, ROOT, 'a'), 'ENOENT');
  fs.unlink(C, d.ino, 'c');
  assert.ok(fs.hasInode(f.entry.ino), 'kernel still holds lookups');
  fs.forget(f.entry.ino, 2);
  assert.ok(fs.hasInode(f.entry.ino), 'one lookup left');
  fs.forget(f.entry.ino, 1);
  assert.not.ok(fs.hasInode(f.entry.ino));
});

test('lookup counting: freed only at nlink 0, no handles, no lookups', () => {
  const fs = createMemFs();
  const n0 = fs.inodeCount;
  const c = fs.create(C, ROOT, 'x', 0o644, 0, O_RDWR); // 1 lookup, 1 handle
  const ino = c.entry.ino;
  fs.lookup(C, ROOT, 'x'); // 2
  fs.unlink(C, ROOT, 'x');
  assert.ok(fs.hasInode(ino));
  fs.forget(ino, 2);
  assert.ok(fs.hasInode(ino), 'handle still open');
  fs.release(C, ino, c.fh!, O_RDWR, 0, 0);
  assert.not.ok(fs.hasInode(ino));
  assert.is(fs.inodeCount, n0);
  // forget of unknown inodes and over-forgetting is harmless
  fs.forget(12345, 1);
  const d = fs.mkdir(C, ROOT, 'y', 0o755, 0);
  fs.forget(d.ino, 10);
  assert.is(fs.lookupCount(d.ino), 0);
  assert.ok(fs.hasInode(d.ino), 'linked inodes are never freed');
  fs.rmdir(C, ROOT, 'y');
  assert.not.ok(fs.hasInode(d.ino), 'freed at rmdir when nothing else holds it');
  // the root is never freed
  fs.forget(ROOT, 100);
  assert.ok(fs.hasInode(ROOT));
});

test('open-unlink: data stays readable and writable through the fh', () => {
  const fs = createMemFs();
  const c = fs.create(C, ROOT, 'tmp', 0o600, 0, O_RDWR);
  const ino = c.entry.ino;
  fs.write(C, ino, c.fh!, 0, enc('before'), 0, O_RDWR);
  fs.unlink(C, ROOT, 'tmp');
  fs.forget(ino, 1);
  throwsErrno(() => fs.lookup(C, ROOT, 'tmp'), 'ENOENT');
  assert.is(fs.getattr(C, ino, c.fh!).nlink, 0);
  fs.write(C, ino, c.fh!, 6, enc('+after'), 0, O_RDWR);
  assert.is(str(fs.read(C, ino, c.fh!, 0, 100)), 'before+after');
  fs.setattr(C, ino, { size: 3, fh: c.fh! });
  assert.is(str(fs.read(C, ino, c.fh!, 0, 100)), 'bef');
  const used = fs.bytesUsed;
  assert.ok(used > 0);
  fs.flush(C, ino, c.fh!, 0);
  fs.release(C, ino, c.fh!, O_RDWR, 0, 0);
  assert.not.ok(fs.hasInode(ino));
  assert.is(fs.bytesUsed, 0, 'storage given back');
  throwsErrno(() => fs.getattr(C, ino, undefined), 'ENOENT');
});

test('tmpfile and linking it in', () => {
  const fs = createMemFs();
  const t = fs.tmpfile(C, ROOT, 0o600, 0, O_RDWR);
  assert.is(t.entry.attr.nlink, 0);
  fs.write(C, t.entry.ino, t.fh!, 0, enc('data'), 0, O_RDWR);
  assert.equal(readAll(fs, ROOT), ['.', '..']);
  const l = fs.link(C, t.entry.ino, ROOT, 'named');
  assert.is(l.attr.nlink, 1);
  assert.is(str(fs.read(C, l.ino, 0, 0, 10)), 'data');
  const t2 = fs.tmpfile(C, ROOT, 0o600, 0, O_RDWR | O_EXCL);
  throwsErrno(() => fs.link(C, t2.entry.ino, ROOT, 'no'), 'ENOENT');
});

test('rename: plain moves, replaces, POSIX checks', () => {
  const fs = createMemFs();
  const a = fs.mkdir(C, ROOT, 'a', 0o755, 0);
  const b = fs.mkdir(C, ROOT, 'b', 0o755, 0);
  const f = fs.create(C, a.ino, 'f', 0o644, 0, O_RDWR).entry;
  const g = fs.create(C, b.ino, 'g', 0o644, 0, O_RDWR).entry;
  // move a file across directories
  fs.rename(C, a.ino, 'f', b.ino, 'f2', 0);
  throwsErrno(() => fs.lookup(C, a.ino, 'f'), 'ENOENT');
  assert.is(fs.lookup(C, b.ino, 'f2').ino, f.ino);
  // replace a file
  fs.rename(C, b.ino, 'f2', b.ino, 'g', 0);
  assert.is(fs.lookup(C, b.ino, 'g').ino, f.ino);
  assert.is(fs.getattr(C, g.ino, undefined).nlink, 0);
  throwsErrno(() => fs.rename(C, b.ino, 'missing', b.ino, 'x', 0), 'ENOENT');
  // dir onto file / file onto dir
  const sub = fs.mkdir(C, a.ino, 'sub', 0o755, 0);
  throwsErrno(() => fs.rename(C, a.ino, 'sub', b.ino, 'g', 0), 'ENOTDIR');
  throwsErrno(() => fs.rename(C, b.ino, 'g', a.ino, 'sub', 0), 'EISDIR');
  // dir onto non-empty dir
  fs.mkdir(C, b.ino, 'full', 0o755, 0);
  fs.mknod(C, fs.lookup(C, b.ino, 'full').ino, 'x', 0o644, 0, 0);
  throwsErrno(() => fs.rename(C, a.ino, 'sub', b.ino, 'full', 0), 'ENOTEMPTY');
  // dir onto empty dir: replaced; nlink bookkeeping
  const empty = fs.mkdir(C, b.ino, 'empty', 0o755, 0);
  assert.is(fs.getattr(C, a.ino, undefined).nlink, 3);
  assert.is(fs.getattr(C, b.ino, undefined).nlink, 4);
  fs.rename(C, a.ino, 'sub', b.ino, 'empty', 0);
  assert.is(fs.getattr(C, a.ino, undefined).nlink, 2);
  assert.is(fs.getattr(C, b.ino, undefined).nlink, 4);
  assert.is(fs.getattr(C, empty.ino, undefined).nlink, 0);
  assert.is(fs.lookup(C, b.ino, 'empty').ino, sub.ino);
  assert.is(fs.lookup(C, sub.ino, '..').ino, b.ino, '.. follows the move');
  // no moving a directory into its own subtree
  const deep = fs.mkdir(C, sub.ino, 'deep', 0o755, 0);
  throwsErrno(() => fs.rename(C, ROOT, 'b', deep.ino, 'b', 0), 'EINVAL');
  throwsErrno(() => fs.rename(C, ROOT, 'b', b.ino, 'self', 0), 'EINVAL');
  throwsErrno(() => fs.rename(C, b.ino, 'empty', sub.ino, 'x', 0), 'EINVAL');
  // renaming onto an ancestor (non-empty) fails
  throwsErrno(() => fs.rename(C, sub.ino, 'deep', ROOT, 'b', 0), 'ENOTEMPTY');
  // hard links to the same inode: no-op
  fs.link(C, f.ino, b.ino, 'f-link');
  fs.rename(C, b.ino, 'g', b.ino, 'f-link', 0);
  assert.is(fs.lookup(C, b.ino, 'g').ino, f.ino);
  assert.is(fs.lookup(C, b.ino, 'f-link').ino, f.ino);
  assert.is(fs.getattr(C, f.ino, undefined).nlink, 2);
  // same name: no-op
  fs.rename(C, b.ino, 'g', b.ino, 'g', 0);
  assert.is(fs.lookup(C, b.ino, 'g').ino, f.ino);
  // unsupported flags / dot names
  throwsErrno(() => fs.rename(C, b.ino, 'g', b.ino, 'h', RENAME_WHITEOUT), 'EINVAL');
  throwsErrno(() => fs.rename(C, b.ino, 'g', b.ino, 'h', RENAME_EXCHANGE | RENAME_NOREPLACE), 'EINVAL');
  throwsErrno(() => fs.rename(C, b.ino, '.', b.ino, 'h', 0), 'EBUSY');
  throwsErrno(() => fs.rename(C, b.ino, 'g', b.ino, 'y'.repeat(300), 0), 'ENAMETOOLONG');
});

test('rename: RENAME_NOREPLACE and RENAME_EXCHANGE', () => {
  const fs = createMemFs();
  const a = fs.mkdir(C, ROOT, 'a', 0o755, 0);
  const f = fs.create(C, ROOT, 'f', 0o644, 0, O_RDWR).entry;
  const g = fs.create(C, ROOT, 'g', 0o644, 0, O_RDWR).entry;
  throwsErrno(() => fs.rename(C, ROOT, 'f', ROOT, 'g', RENAME_NOREPLACE), 'EEXIST');
  fs.rename(C, ROOT, 'f', ROOT, 'h', RENAME_NOREPLACE);
  assert.is(fs.lookup(C, ROOT, 'h').ino, f.ino);
  throwsErrno(() => fs.rename(C, ROOT, 'h', ROOT, 'nope', RENAME_EXCHANGE), 'ENOENT');
  throwsErrno(() => fs.rename(C, ROOT, 'nope', ROOT, 'h', RENAME_EXCHANGE), 'ENOENT');
  fs.rename(C, ROOT, 'h', ROOT, 'g', RENAME_EXCHANGE);
  assert.is(fs.lookup(C, ROOT, 'h').ino, g.ino);
  assert.is(fs.lookup(C, ROOT, 'g').ino, f.ino);
  assert.is(fs.getattr(C, f.ino, undefined).nlink, 1);
  assert.is(fs.getattr(C, g.ino, undefined).nlink, 1);
  // exchange a directory with a file in another directory: nlinks and ".." move
  const inner = fs.create(C, a.ino, 'inner', 0o644, 0, O_RDWR).entry;
  const d = fs.mkdir(C, ROOT, 'd', 0o755, 0);
  assert.is(fs.getattr(C, ROOT, undefined).nlink, 4);
  fs.rename(C, ROOT, 'd', a.ino, 'inner', RENAME_EXCHANGE);
  assert.is(fs.lookup(C, a.ino, 'inner').ino, d.ino);
  assert.is(fs.lookup(C, ROOT, 'd').ino, inner.ino);
  assert.is(fs.getattr(C, ROOT, undefined).nlink, 3);
  assert.is(fs.getattr(C, a.ino, undefined).nlink, 3);
  assert.is(fs.lookup(C, d.ino, '..').ino, a.ino);
  // exchanging a directory with something inside it
  throwsErrno(() => fs.rename(C, ROOT, 'a', a.ino, 'inner', RENAME_EXCHANGE), 'EINVAL');
  throwsErrno(() => fs.rename(C, a.ino, 'inner', ROOT, 'a', RENAME_EXCHANGE), 'EINVAL');
});

test('setattr: truncate, chmod, chown, utimens, ctime, killSuidgid', async () => {
  const fs = createMemFs();
  const c = fs.create(C, ROOT, 'f', 0o644, 0, O_RDWR);
  const ino = c.entry.ino;
  fs.write(C, ino, c.fh!, 0, enc('0123456789'), 0, O_RDWR);
  let a = fs.setattr(C, ino, { size: 4 });
  assert.is(a.size, 4);
  a = fs.setattr(C, ino, { size: 8 });
  assert.is(a.size, 8);
  assert.equal([...fs.read(C, ino, c.fh!, 0, 100)], [0x30, 0x31, 0x32, 0x33, 0, 0, 0, 0], 'grown part is zero');
  throwsErrno(() => fs.setattr(C, ROOT, { size: 0 }), 'EISDIR');
  throwsErrno(() => fs.setattr(C, ino, { size: -1 }), 'EINVAL');
  const ctime0 = fs.getattr(C, ino, undefined);
  await new Promise((r) => setTimeout(r, 5));
  a = fs.setattr(C, ino, { mode: 0o4750 });
  assert.is(a.mode, S_IFREG | 0o4750);
  assert.ok(a.ctime * 1e9 + a.ctimeNsec! > ctime0.ctime * 1e9 + ctime0.ctimeNsec!, 'chmod bumps ctime');
  assert.is(a.mtime, ctime0.mtime);
  assert.is(a.mtimeNsec, ctime0.mtimeNsec, 'chmod leaves mtime');
  a = fs.setattr(C, ino, { uid: 7, gid: 8 });
  assert.is(a.uid, 7);
  assert.is(a.gid, 8);
  a = fs.setattr(C, ino, { atime: { sec: 1000, nsec: 123456789 }, mtime: { sec: 2000, nsec: 987654321 } });
  assert.is(a.atime, 1000);
  assert.is(a.atimeNsec, 123456789);
  assert.is(a.mtime, 2000);
  assert.is(a.mtimeNsec, 987654321);
  assert.ok(a.ctime > 2000);
  const t0 = Date.now() / 1000;
  a = fs.setattr(C, ino, { mtime: 'now' });
  assert.ok(Math.abs(a.mtime - t0) < 2);
  assert.is(a.atime, 1000, "atime omitted");
  throwsErrno(() => fs.setattr(C, ino, { atime: { sec: 1, nsec: 1e9 } }), 'EINVAL');
  a = fs.setattr(C, ino, { ctime: { sec: 3000, nsec: 5 } });
  assert.is(a.ctime, 3000);
  assert.is(a.ctimeNsec, 5);
  // killSuidgid: suid always, sgid only with group exec
  fs.setattr(C, ino, { mode: 0o6750 });
  a = fs.setattr(C, ino, { killSuidgid: true, uid: 9 });
  assert.is(a.mode & 0o7777, 0o750);
  fs.setattr(C, ino, { mode: 0o6740 });
  a = fs.setattr(C, ino, { killSuidgid: true });
  assert.is(a.mode & 0o7777, 0o2740);
  // write with FUSE_WRITE_KILL_SUIDGID
  fs.setattr(C, ino, { mode: 0o4755 });
  fs.write(C, ino, c.fh!, 0, enc('x'), 4, O_RDWR);
  assert.is(fs.getattr(C, ino, undefined).mode & S_ISUID, 0);
  // truncate updates mtime
  fs.setattr(C, ino, { mtime: { sec: 5, nsec: 0 } });
  a = fs.setattr(C, ino, { size: 0 });
  assert.ok(a.mtime > 5);
});

test('read/write: sparse storage, large offsets, append, EOF', () => {
  const fs = createMemFs({ chunkSize: 4096 });
  const c = fs.create(C, ROOT, 'f', 0o644, 0, O_RDWR);
  const ino = c.entry.ino;
  assert.is(fs.write(C, ino, c.fh!, 0, enc('abc'), 0, O_RDWR), 3);
  assert.is(fs.getattr(C, ino, undefined).size, 3);
  assert.ok(fs.getattr(C, ino, undefined).blocks! <= 1, 'small file stays small');
  // a write at 1 TiB allocates only what it touches
  const big = 2 ** 40;
  assert.is(fs.write(C, ino, c.fh!, big, enc('tail'), 0, O_RDWR), 4);
  const a = fs.getattr(C, ino, undefined);
  assert.is(a.size, big + 4);
  assert.ok(fs.bytesUsed < 16384, `bytesUsed ${fs.bytesUsed}`);
  assert.ok(a.blocks! < 32);
  assert.is(str(fs.read(C, ino, c.fh!, big, 100)), 'tail');
  assert.equal([...fs.read(C, ino, c.fh!, big - 2, 4)], [0, 0, 0x74, 0x61]);
  assert.equal([...fs.read(C, ino, c.fh!, 1, 4)], [0x62, 0x63, 0, 0]);
  assert.is(fs.read(C, ino, c.fh!, big + 4, 10).length, 0, 'EOF');
  assert.is(fs.read(C, ino, c.fh!, big + 100, 10).length, 0, 'past EOF');
  // writes across chunk boundaries and reading them back
  const pattern = Buffer.alloc(20000);
  for (let i = 0; i < pattern.length; i++) pattern[i] = (i * 7) & 0xff;
  fs.write(C, ino, c.fh!, 1000, pattern, 0, O_RDWR);
  assert.ok(Buffer.from(fs.read(C, ino, c.fh!, 1000, 20000)).equals(pattern));
  assert.ok(Buffer.from(fs.read(C, ino, c.fh!, 5000, 3000)).equals(pattern.subarray(4000, 7000)));
  // O_APPEND writes go to EOF whatever the offset
  const ap = fs.open(C, ino, O_WRONLY | O_APPEND);
  fs.write(C, ino, ap.fh!, 0, enc('END'), 0, O_WRONLY | O_APPEND);
  assert.is(fs.getattr(C, ino, undefined).size, big + 7);
  assert.is(str(fs.read(C, ino, c.fh!, big, 100)), 'tailEND');
  fs.release(C, ino, ap.fh!, 0, 0, 0);
  // O_TRUNC on open
  const t = fs.open(C, ino, O_WRONLY | O_TRUNC);
  assert.is(fs.getattr(C, ino, undefined).size, 0);
  assert.is(fs.bytesUsed, 0);
  fs.release(C, ino, t.fh!, 0, 0, 0);
  // directories
  throwsErrno(() => fs.read(C, ROOT, 0, 0, 10), 'EISDIR');
  throwsErrno(() => fs.write(C, ROOT, 0, 0, enc('x'), 0, 0), 'EISDIR');
  throwsErrno(() => fs.write(C, ino, 0, Number.MAX_SAFE_INTEGER, enc('xx'), 0, 0), 'EFBIG');
});

test('write: copies the caller buffer; sequential appends are not quadratic', () => {
  const fs = createMemFs();
  const c = fs.create(C, ROOT, 'f', 0o644, 0, O_RDWR);
  const buf = enc('hello');
  fs.write(C, c.entry.ino, c.fh!, 0, buf, 0, O_RDWR);
  buf.fill(0);
  assert.is(str(fs.read(C, c.entry.ino, c.fh!, 0, 5)), 'hello');
  const block = Buffer.alloc(4096, 1);
  const t0 = performance.now();
  for (let i = 0; i < 4096; i++) fs.write(C, c.entry.ino, c.fh!, i * 4096, block, 0, O_RDWR); // 16 MiB
  const ms = performance.now() - t0;
  assert.is(fs.getattr(C, c.entry.ino, undefined).size, 16 * 1024 * 1024);
  assert.ok(ms < 3000, `16 MiB of 4 KiB writes took ${ms} ms`);
  assert.ok(fs.bytesUsed <= 16 * 1024 * 1024 + 131072);
});

test('ENOSPC at the configured capacity; statfs numbers', () => {
  const fs = createMemFs({ totalBytes: 64 * 1024, maxInodes: 5, chunkSize: 4096 });
  const s0 = fs.statfs(C, ROOT);
  assert.is(s0.bsize, 4096);
  assert.is(s0.frsize, 4096);
  assert.is(s0.blocks, 16);
  assert.is(s0.bfree, 16);
  assert.is(s0.bavail, 16);
  assert.is(s0.files, 5);
  assert.is(s0.ffree, 4);
  assert.is(s0.namelen, 255);
  const c = fs.create(C, ROOT, 'f', 0o644, 0, O_RDWR);
  fs.write(C, c.entry.ino, c.fh!, 0, Buffer.alloc(8192, 1), 0, O_RDWR);
  const s1 = fs.statfs(C, ROOT);
  assert.is(s1.bfree, 14);
  assert.is(s1.ffree, 3);
  // partial write then ENOSPC
  const n = fs.write(C, c.entry.ino, c.fh!, 8192, Buffer.alloc(100000, 2), 0, O_RDWR);
  assert.is(n, 64 * 1024 - 8192);
  throwsErrno(() => fs.write(C, c.entry.ino, c.fh!, 200000, enc('x'), 0, O_RDWR), 'ENOSPC');
  fs.mkdir(C, ROOT, 'a', 0o755, 0);
  fs.mkdir(C, ROOT, 'b', 0o755, 0);
  fs.mkdir(C, ROOT, 'c', 0o755, 0);
  throwsErrno(() => fs.mkdir(C, ROOT, 'd', 0o755, 0), 'ENOSPC');
  assert.is(fs.statfs(C, ROOT).ffree, 0);
  // default options give sane numbers too
  const d = createMemFs().statfs(C, ROOT);
  assert.ok(d.blocks > 0 && d.files > 0 && d.bfree <= d.blocks && d.ffree <= d.files);
});

test('readdir: ".", "..", types, offsets', () => {
  const fs = createMemFs();
  const d = fs.mkdir(C, ROOT, 'd', 0o755, 0);
  const f = fs.create(C, d.ino, 'file', 0o644, 0, O_RDWR).entry;
  fs.mkdir(C, d.ino, 'sub', 0o755, 0);
  fs.symlink(C, d.ino, 'ln', 'x');
  fs.mknod(C, d.ino, 'fifo', S_IFIFO | 0o644, 0, 0);
  const fh = fs.opendir(C, d.ino, 0).fh!;
  const s = sink();
  fs.readdir(C, d.ino, fh, 0, s);
  assert.equal(s.items.map((i) => i.name), ['.', '..', 'file', 'sub', 'ln', 'fifo']);
  assert.equal(s.items.map((i) => i.mode), [S_IFDIR, S_IFDIR, S_IFREG, S_IFDIR, S_IFLNK, S_IFIFO]);
  assert.is(s.items[0]!.ino, d.ino);
  assert.is(s.items[1]!.ino, ROOT);
  assert.is(s.items[2]!.ino, f.ino);
  // offsets are strictly increasing; resuming from any of them continues right after
  for (let i = 1; i < s.items.length; i++) assert.ok(s.items[i]!.off > s.items[i - 1]!.off);
  for (let i = 0; i < s.items.length; i++) {
    const r = sink();
    fs.readdir(C, d.ino, fh, s.items[i]!.off, r);
    assert.equal(r.items.map((x) => x.name), s.items.slice(i + 1).map((x) => x.name));
  }
  // a resumed read at the end returns nothing
  const end = sink();
  fs.readdir(C, d.ino, fh, s.items[s.items.length - 1]!.off, end);
  assert.is(end.items.length, 0);
  fs.releasedir(C, d.ino, fh, 0);
  assert.is(fs.openHandles, 1, 'only the created file handle');
  throwsErrno(() => fs.opendir(C, f.ino, 0), 'ENOTDIR');
  throwsErrno(() => fs.readdir(C, f.ino, 0, 0, sink()), 'ENOTDIR');
});

test('readdir: resumption across calls with entries added and removed in between', () => {
  const fs = createMemFs();
  const d = fs.mkdir(C, ROOT, 'd', 0o755, 0).ino;
  const N = 300;
  for (let i = 0; i < N; i++) fs.mknod(C, d, `f${i}`, 0o644, 0, 0);
  const fh = fs.opendir(C, d, 0).fh!;
  const seen: string[] = [];
  let off = 0;
  let round = 0;
  const removed = new Set<string>();
  const added = new Set<string>();
  for (;;) {
    const s = sink(200); // a few entries per call
    fs.readdir(C, d, fh, off, s);
    if (s.items.length === 0) break;
    for (const it of s.items) seen.push(it.name);
    off = s.items[s.items.length - 1]!.off;
    // churn: remove some not-yet-seen and some seen entries, add new ones
    round++;
    for (const k of [round * 3, round * 3 + 150, round * 2]) {
      const name = `f${k}`;
      if (k < N && !removed.has(name)) {
        fs.unlink(C, d, name);
        removed.add(name);
      }
    }
    if (round % 2 === 0) {
      const name = `new${round}`;
      fs.mknod(C, d, name, 0o644, 0, 0);
      added.add(name);
    }
    assert.ok(round < 10000);
  }
  fs.releasedir(C, d, fh, 0);
  assert.ok(round > 20, `rounds ${round}`);
  // no repeats
  assert.is(new Set(seen).size, seen.length, 'no entry seen twice');
  // every surviving original entry seen exactly once
  for (let i = 0; i < N; i++) {
    const name = `f${i}`;
    if (!removed.has(name)) assert.ok(seen.includes(name), `survivor ${name} skipped`);
  }
  // entries are in insertion order
  const idx = seen.filter((n) => /^f\d+$/.test(n)).map((n) => Number(n.slice(1)));
  for (let i = 1; i < idx.length; i++) assert.ok(idx[i]! > idx[i - 1]!);
  // survivors all still there when read again from scratch
  const again = readAll(fs, d, 150);
  assert.is(again.length, 2 + N - removed.size + added.size);
});

test('readdir: heavy churn triggers compaction without breaking offsets', () => {
  const fs = createMemFs();
  const d = fs.mkdir(C, ROOT, 'd', 0o755, 0).ino;
  for (let i = 0; i < 1000; i++) fs.mknod(C, d, `e${i}`, 0o644, 0, 0);
  const first = sink(24 * 10);
  fs.readdir(C, d, 0, 0, first);
  const off = first.items[first.items.length - 1]!.off;
  const lastSeen = first.items[first.items.length - 1]!.name;
  // delete almost everything (forcing compaction), keep a few later ones
  for (let i = 0; i < 1000; i++) if (i % 100 !== 99) fs.unlink(C, d, `e${i}`);
  const rest = sink();
  fs.readdir(C, d, 0, off, rest);
  assert.equal(rest.items.map((i) => i.name), ['e99', 'e199', 'e299', 'e399', 'e499', 'e599', 'e699', 'e799', 'e899', 'e999'].filter((n) => n !== lastSeen));
  assert.equal(readAll(fs, d).slice(2).length, 10);
});

test('readdirplus: entries, lookup counting only for accepted entries, resumption', () => {
  const fs = createMemFs();
  const d = fs.mkdir(C, ROOT, 'd', 0o755, 0).ino;
  const inos: number[] = [];
  for (let i = 0; i < 10; i++) {
    const e = fs.mknod(C, d, `n${i}`, 0o644, 0, 0);
    fs.forget(e.ino, 1);
    inos.push(e.ino);
  }
  const dLookups = fs.lookupCount(d);
  const rootLookups = fs.lookupCount(ROOT);
  const fh = fs.opendir(C, d, 0).fh!;
  const names: string[] = [];
  let off = 0;
  for (;;) {
    const s = plusSink(400); // two entries per call
    fs.readdirplus(C, d, fh, off, s);
    if (s.items.length === 0) break;
    for (const it of s.items) {
      names.push(it.name);
      if (it.name !== '.' && it.name !== '..') {
        assert.is(it.entry.attr.mode, S_IFREG | 0o644);
        assert.is(it.entry.ino, it.entry.attr.ino);
      }
    }
    off = s.items[s.items.length - 1]!.off;
  }
  fs.releasedir(C, d, fh, 0);
  assert.equal(names, ['.', '..', ...inos.map((_, i) => `n${i}`)]);
  for (const ino of inos) assert.is(fs.lookupCount(ino), 1, 'exactly one lookup per accepted entry');
  assert.is(fs.lookupCount(d), dLookups, '"." not counted');
  assert.is(fs.lookupCount(ROOT), rootLookups, '".." not counted');
  // an entry that did not fit is not counted
  const s = plusSink(160);
  fs.readdirplus(C, d, 0, 2, s);
  assert.is(s.items.length, 1);
  assert.is(fs.lookupCount(inos[0]!), 2);
  assert.is(fs.lookupCount(inos[1]!), 1);
  // removed entries stay alive until forgotten
  fs.unlink(C, d, 'n5');
  assert.ok(fs.hasInode(inos[5]!));
  fs.forget(inos[5]!, 1);
  assert.not.ok(fs.hasInode(inos[5]!));
});

test('readdir of a removed directory', () => {
  const fs = createMemFs();
  const d = fs.mkdir(C, ROOT, 'gone', 0o755, 0).ino;
  const fh = fs.opendir(C, d, 0).fh!;
  fs.rmdir(C, ROOT, 'gone');
  fs.forget(d, 1);
  assert.ok(fs.hasInode(d), 'open handle keeps it');
  throwsErrno(() => fs.readdir(C, d, fh, 0, sink()), 'ENOENT');
  fs.releasedir(C, d, fh, 0);
  assert.not.ok(fs.hasInode(d));
});

test('xattrs: create/replace flags, get, list, remove', () => {
  const fs = createMemFs();
  const f = fs.create(C, ROOT, 'f', 0o644, 0, O_RDWR).entry.ino;
  throwsErrno(() => fs.getxattr(C, f, 'user.a'), 'ENODATA');
  throwsErrno(() => fs.setxattr(C, f, 'user.a', enc('1'), 2), 'ENODATA');
  fs.setxattr(C, f, 'user.a', enc('1'), 1);
  throwsErrno(() => fs.setxattr(C, f, 'user.a', enc('2'), 1), 'EEXIST');
  fs.setxattr(C, f, 'user.a', enc('2'), 2);
  assert.is(str(fs.getxattr(C, f, 'user.a')), '2');
  const v = enc('caller');
  fs.setxattr(C, f, 'trusted.b', v, 0);
  v.fill(0);
  assert.is(str(fs.getxattr(C, f, 'trusted.b')), 'caller', 'value copied');
  fs.setxattr(C, f, 'security.empty', new Uint8Array(0), 0);
  assert.is(fs.getxattr(C, f, 'security.empty').length, 0);
  assert.equal(fs.listxattr(C, f).sort(), ['security.empty', 'trusted.b', 'user.a']);
  fs.removexattr(C, f, 'user.a');
  throwsErrno(() => fs.removexattr(C, f, 'user.a'), 'ENODATA');
  assert.equal(fs.listxattr(C, f).sort(), ['security.empty', 'trusted.b']);
  assert.equal(fs.listxattr(C, ROOT), []);
  throwsErrno(() => fs.setxattr(C, f, 'bogus.x', enc('1'), 0), 'EOPNOTSUPP');
  throwsErrno(() => fs.setxattr(C, f, 'user.big', new Uint8Array(65537), 0), 'E2BIG');
  const ln = fs.symlink(C, ROOT, 'ln', 'f').ino;
  throwsErrno(() => fs.setxattr(C, ln, 'user.x', enc('1'), 0), 'EPERM');
  fs.setxattr(C, ln, 'trusted.x', enc('1'), 0);
  fs.setxattr(C, ROOT, 'user.dir', enc('ok'), 0);
  assert.is(str(fs.getxattr(C, ROOT, 'user.dir')), 'ok');
});

test('access: mode bits vs uid/gid; root', () => {
  const fs = createMemFs();
  const owner = ctx(1000, 100);
  const f = fs.create(owner, ROOT, 'f', 0o640, 0, O_RDWR).entry.ino;
  fs.access(owner, f, 0);
  fs.access(owner, f, 4 | 2);
  throwsErrno(() => fs.access(owner, f, 1), 'EACCES');
  const grp = ctx(2000, 100);
  fs.access(grp, f, 4);
  throwsErrno(() => fs.access(grp, f, 2), 'EACCES');
  const other = ctx(3000, 300);
  fs.access(other, f, 0);
  throwsErrno(() => fs.access(other, f, 4), 'EACCES');
  // root: everything but X_OK on a file without any x bit
  fs.access(ROOTCTX, f, 4 | 2);
  throwsErrno(() => fs.access(ROOTCTX, f, 1), 'EACCES');
  fs.setattr(owner, f, { mode: 0o601 });
  fs.access(ROOTCTX, f, 1);
  const d = fs.mkdir(owner, ROOT, 'd', 0o700, 0).ino;
  fs.access(ROOTCTX, d, 1 | 2 | 4);
  throwsErrno(() => fs.access(other, d, 1), 'EACCES');
  throwsErrno(() => fs.access(C, 999, 0), 'ENOENT');
});

test('lseek: SEEK_DATA / SEEK_HOLE at chunk granularity', () => {
  const cs = 4096;
  const fs = createMemFs({ chunkSize: cs });
  const c = fs.create(C, ROOT, 'f', 0o644, 0, O_RDWR);
  const ino = c.entry.ino;
  fs.write(C, ino, c.fh!, 0, Buffer.alloc(100, 1), 0, O_RDWR);
  fs.write(C, ino, c.fh!, 10 * cs, Buffer.alloc(100, 1), 0, O_RDWR);
  fs.setattr(C, ino, { size: 20 * cs });
  assert.is(fs.lseek(C, ino, c.fh!, 0, 3), 0);
  assert.is(fs.lseek(C, ino, c.fh!, 50, 3), 50);
  assert.is(fs.lseek(C, ino, c.fh!, 0, 4), cs);
  assert.is(fs.lseek(C, ino, c.fh!, cs + 1, 3), 10 * cs);
  assert.is(fs.lseek(C, ino, c.fh!, 10 * cs, 4), 11 * cs);
  assert.is(fs.lseek(C, ino, c.fh!, 5 * cs, 4), 5 * cs);
  throwsErrno(() => fs.lseek(C, ino, c.fh!, 11 * cs, 3), 'ENXIO');
  throwsErrno(() => fs.lseek(C, ino, c.fh!, 20 * cs, 4), 'ENXIO');
  assert.is(fs.lseek(C, ino, c.fh!, 11 * cs, 4), 11 * cs);
  assert.is(fs.lseek(C, ino, c.fh!, 7, 0), 7);
  assert.is(fs.lseek(C, ino, c.fh!, -1, 2), 20 * cs - 1);
  // a fully written file has its hole at EOF
  const g = fs.create(C, ROOT, 'g', 0o644, 0, O_RDWR);
  fs.write(C, g.entry.ino, g.fh!, 0, Buffer.alloc(3 * cs + 5, 1), 0, O_RDWR);
  assert.is(fs.lseek(C, g.entry.ino, g.fh!, 0, 4), 3 * cs + 5);
});

test('fallocate: extend, keep size, punch hole, unsupported modes', () => {
  const cs = 4096;
  const fs = createMemFs({ chunkSize: cs });
  const c = fs.create(C, ROOT, 'f', 0o644, 0, O_RDWR);
  const ino = c.entry.ino;
  fs.fallocate(C, ino, c.fh!, 0, 10000, 0);
  assert.is(fs.getattr(C, ino, undefined).size, 10000);
  fs.fallocate(C, ino, c.fh!, 0, 5000, 0);
  assert.is(fs.getattr(C, ino, undefined).size, 10000, 'mode 0 never shrinks');
  fs.fallocate(C, ino, c.fh!, 0, 50000, 1);
  assert.is(fs.getattr(C, ino, undefined).size, 10000, 'KEEP_SIZE');
  fs.write(C, ino, c.fh!, 0, Buffer.alloc(3 * cs, 0xaa), 0, O_RDWR);
  const used = fs.bytesUsed;
  fs.fallocate(C, ino, c.fh!, 100, 2 * cs, 3); // punch [100, 8292)
  const back = Buffer.from(fs.read(C, ino, c.fh!, 0, 3 * cs));
  assert.is(back[99], 0xaa);
  for (let i = 100; i < 100 + 2 * cs; i++) if (back[i] !== 0) assert.unreachable(`byte ${i} not zero`);
  assert.is(back[100 + 2 * cs], 0xaa);
  assert.is(fs.getattr(C, ino, undefined).size, 3 * cs, 'punch keeps size');
  fs.fallocate(C, ino, c.fh!, 0, 2 * cs, 3);
  assert.ok(fs.bytesUsed < used, 'whole chunks released');
  throwsErrno(() => fs.fallocate(C, ino, c.fh!, 0, 10, 2), 'EOPNOTSUPP');
  throwsErrno(() => fs.fallocate(C, ino, c.fh!, 0, 10, 0x10), 'EOPNOTSUPP');
  throwsErrno(() => fs.fallocate(C, ino, c.fh!, 0, 0, 0), 'EINVAL');
  throwsErrno(() => fs.fallocate(C, ROOT, 0, 0, 10, 0), 'EISDIR');
  const small = createMemFs({ totalBytes: 8192 });
  const s = small.create(C, ROOT, 'f', 0o644, 0, O_RDWR);
  throwsErrno(() => small.fallocate(C, s.entry.ino, s.fh!, 0, 1 << 20, 0), 'ENOSPC');
});

test('copyFileRange: copies data, keeps holes, checks overlap', () => {
  const cs = 4096;
  const fs = createMemFs({ chunkSize: cs });
  const a = fs.create(C, ROOT, 'a', 0o644, 0, O_RDWR);
  const b = fs.create(C, ROOT, 'b', 0o644, 0, O_RDWR);
  const pat = Buffer.alloc(2 * cs);
  for (let i = 0; i < pat.length; i++) pat[i] = i & 0xff;
  fs.write(C, a.entry.ino, a.fh!, 0, pat, 0, O_RDWR);
  fs.write(C, a.entry.ino, a.fh!, 100 * cs, pat, 0, O_RDWR);
  const size = 102 * cs;
  const n = fs.copyFileRange(C, a.entry.ino, a.fh!, 0, b.entry.ino, b.fh!, 0, size + 1000, 0);
  assert.is(n, size, 'clipped to source EOF');
  assert.is(fs.getattr(C, b.entry.ino, undefined).size, size);
  assert.ok(Buffer.from(fs.read(C, b.entry.ino, b.fh!, 0, 2 * cs)).equals(pat));
  assert.ok(Buffer.from(fs.read(C, b.entry.ino, b.fh!, 100 * cs, 2 * cs)).equals(pat));
  assert.is(fs.lseek(C, b.entry.ino, b.fh!, 2 * cs, 3), 100 * cs, 'hole preserved');
  // partial copy into the middle of existing data
  assert.is(fs.copyFileRange(C, a.entry.ino, a.fh!, 10, b.entry.ino, b.fh!, 50 * cs, 20, 0), 20);
  assert.ok(Buffer.from(fs.read(C, b.entry.ino, b.fh!, 50 * cs, 20)).equals(pat.subarray(10, 30)));
  // same file, non-overlapping is fine; overlapping is EINVAL
  assert.is(fs.copyFileRange(C, a.entry.ino, a.fh!, 0, a.entry.ino, a.fh!, 10 * cs, 100, 0), 100);
  throwsErrno(() => fs.copyFileRange(C, a.entry.ino, a.fh!, 0, a.entry.ino, a.fh!, 50, 100, 0), 'EINVAL');
  assert.is(fs.copyFileRange(C, a.entry.ino, a.fh!, size + 5, b.entry.ino, b.fh!, 0, 100, 0), 0, 'past EOF');
  throwsErrno(() => fs.copyFileRange(C, a.entry.ino, a.fh!, 0, b.entry.ino, b.fh!, 0, 10, 1), 'EINVAL');
});

test('times: ns precision, write bumps mtime/ctime, parent dirs on entry changes', async () => {
  const fs = createMemFs();
  const d = fs.mkdir(C, ROOT, 'd', 0o755, 0).ino;
  const c = fs.create(C, d, 'f', 0o644, 0, O_RDWR);
  const ino = c.entry.ino;
  const ns = (sec: number, nsec?: number) => sec * 1e9 + (nsec ?? 0);
  const t0 = fs.getattr(C, ino, undefined);
  assert.ok(t0.mtimeNsec! >= 0 && t0.mtimeNsec! < 1e9);
  assert.ok(Math.abs(t0.mtime - Date.now() / 1000) < 2);
  await new Promise((r) => setTimeout(r, 5));
  fs.write(C, ino, c.fh!, 0, enc('x'), 0, O_RDWR);
  const t1 = fs.getattr(C, ino, undefined);
  assert.ok(ns(t1.mtime, t1.mtimeNsec) > ns(t0.mtime, t0.mtimeNsec));
  assert.ok(ns(t1.ctime, t1.ctimeNsec) > ns(t0.ctime, t0.ctimeNsec));
  for (const op of [
    () => fs.mknod(C, d, 'n', 0o644, 0, 0),
    () => fs.link(C, ino, d, 'hl'),
    () => fs.unlink(C, d, 'hl'),
    () => fs.rename(C, d, 'n', d, 'm', 0),
    () => fs.symlink(C, d, 's', 't'),
    () => fs.mkdir(C, d, 'sd', 0o755, 0),
    () => fs.rmdir(C, d, 'sd'),
  ]) {
    const before = fs.getattr(C, d, undefined);
    await new Promise((r) => setTimeout(r, 2));
    op();
    const after = fs.getattr(C, d, undefined);
    assert.ok(ns(after.mtime, after.mtimeNsec) > ns(before.mtime, before.mtimeNsec), String(op));
    assert.ok(ns(after.ctime, after.ctimeNsec) > ns(before.ctime, before.ctimeNsec), String(op));
  }
  // link bumps the inode's ctime
  const b = fs.getattr(C, ino, undefined);
  await new Promise((r) => setTimeout(r, 2));
  fs.link(C, ino, d, 'hl2');
  const after = fs.getattr(C, ino, undefined);
  assert.ok(ns(after.ctime, after.ctimeNsec) > ns(b.ctime, b.ctimeNsec));
  // xattr changes bump ctime
  await new Promise((r) => setTimeout(r, 2));
  fs.setxattr(C, ino, 'user.t', enc('1'), 0);
  const x = fs.getattr(C, ino, undefined);
  assert.ok(ns(x.ctime, x.ctimeNsec) > ns(after.ctime, after.ctimeNsec));
  // statx carries btime
  const sx = fs.statx(C, ino, undefined, 0, 0xfff);
  assert.ok(sx.mask & 0x800);
  assert.is(sx.btime!.sec, t0.ctime);
  assert.is(sx.size, 1);
});

test('open/release/flush/fsync bookkeeping', () => {
  const fs = createMemFs();
  const f = fs.mknod(C, ROOT, 'f', 0o644, 0, 0).ino;
  const o = fs.open(C, f, O_RDONLY);
  assert.ok(o.flags! & 2, 'FOPEN_KEEP_CACHE by default');
  const o2 = fs.open(C, f, O_RDWR);
  assert.is.not(o.fh, o2.fh);
  assert.is(fs.openHandles, 2);
  fs.flush(C, f, o.fh!, 0);
  fs.fsync(C, f, o.fh!, true);
  fs.fsyncdir(C, ROOT, 0, false);
  fs.release(C, f, o.fh!, 0, 0, 0);
  fs.release(C, f, o2.fh!, 0, 0, 0);
  fs.release(C, f, o2.fh!, 0, 0, 0); // double release is harmless
  assert.is(fs.openHandles, 0);
  const fifo = fs.mknod(C, ROOT, 'p', S_IFIFO | 0o644, 0, 0).ino;
  throwsErrno(() => fs.open(C, fifo, O_RDONLY), 'ENXIO');
  const direct = createMemFs({ keepCache: false, directIo: true, cacheDir: true });
  const g = direct.mknod(C, ROOT, 'g', 0o644, 0, 0).ino;
  assert.is(direct.open(C, g, O_RDONLY).flags, 1);
  assert.is(direct.opendir(C, ROOT, 0).flags, 8 | 2);
});

test('everything answers synchronously (no promises)', () => {
  const fs = createMemFs();
  const results: unknown[] = [
    fs.lookup(C, ROOT, '.'),
    fs.getattr(C, ROOT, undefined),
    fs.mkdir(C, ROOT, 'd', 0o755, 0),
    fs.create(C, ROOT, 'f', 0o644, 0, O_RDWR),
    fs.statfs(C, ROOT),
    fs.opendir(C, ROOT, 0),
  ];
  for (const r of results) assert.not.ok(r instanceof Promise);
});

test('file data: randomized writes/truncates/punches/copies match a flat-buffer model', () => {
  const cs = 4096;
  const fs = createMemFs({ chunkSize: cs });
  const a = fs.create(C, ROOT, 'a', 0o644, 0, O_RDWR);
  const b = fs.create(C, ROOT, 'b', 0o644, 0, O_RDWR);
  const ino = [a.entry.ino, b.entry.ino];
  const fh = [a.fh!, b.fh!];
  const model = [Buffer.alloc(0), Buffer.alloc(0)];
  let seed = 12345;
  const rnd = (n: number) => {
    seed = (seed * 1103515245 + 12345) & 0x7fffffff;
    return seed % n;
  };
  const MAX = 12 * cs;
  const setLen = (k: number, len: number) => {
    const m = Buffer.alloc(len);
    model[k]!.copy(m, 0, 0, Math.min(len, model[k]!.length));
    model[k] = m;
  };
  for (let step = 0; step < 3000; step++) {
    const k = rnd(2);
    const op = rnd(5);
    if (op === 0 || op === 1) {
      const off = rnd(MAX);
      const len = 1 + rnd(2 * cs);
      const data = Buffer.alloc(len, 1 + rnd(255));
      assert.is(fs.write(C, ino[k]!, fh[k]!, off, data, 0, O_RDWR), len);
      if (off + len > model[k]!.length) setLen(k, off + len);
      data.copy(model[k]!, off);
    } else if (op === 2) {
      const len = rnd(MAX);
      fs.setattr(C, ino[k]!, { size: len });
      setLen(k, len);
    } else if (op === 3) {
      const off = rnd(MAX);
      const len = 1 + rnd(3 * cs);
      fs.fallocate(C, ino[k]!, fh[k]!, off, len, 3);
      const end = Math.min(off + len, model[k]!.length);
      if (end > off) model[k]!.fill(0, off, end);
    } else {
      const offIn = rnd(MAX);
      const offOut = rnd(MAX);
      const len = rnd(3 * cs);
      const n = fs.copyFileRange(C, ino[k]!, fh[k]!, offIn, ino[1 - k]!, fh[1 - k]!, offOut, len, 0);
      const exp = Math.max(0, Math.min(len, model[k]!.length - offIn));
      assert.is(n, exp);
      if (n > 0) {
        const piece = Buffer.from(model[k]!.subarray(offIn, offIn + n));
        if (offOut + n > model[1 - k]!.length) setLen(1 - k, offOut + n);
        piece.copy(model[1 - k]!, offOut);
      }
    }
    if (step % 50 === 0 || step > 2950) {
      for (const j of [0, 1]) {
        assert.is(fs.getattr(C, ino[j]!, undefined).size, model[j]!.length);
        const got = Buffer.from(fs.read(C, ino[j]!, fh[j]!, 0, MAX * 2));
        assert.ok(got.equals(model[j]!), `step ${step} file ${j} differs`);
        const ro = rnd(MAX);
        const rl = rnd(2 * cs);
        const part = Buffer.from(fs.read(C, ino[j]!, fh[j]!, ro, rl));
        assert.ok(part.equals(model[j]!.subarray(ro, ro + rl)), `step ${step} partial read`);
      }
    }
  }
});

test('copyReads option returns copies', () => {
  const fs = createMemFs({ copyReads: true });
  const c = fs.create(C, ROOT, 'f', 0o644, 0, O_RDWR);
  fs.write(C, c.entry.ino, c.fh!, 0, enc('abcd'), 0, O_RDWR);
  const r = fs.read(C, c.entry.ino, c.fh!, 0, 4);
  fs.write(C, c.entry.ino, c.fh!, 0, enc('wxyz'), 0, O_RDWR);
  assert.is(str(r), 'abcd');
});

test.run();
