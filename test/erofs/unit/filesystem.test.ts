// The image Filesystem through its FUSE-facing methods: inode numbers, lookups, attributes, directory
// offsets that resume anywhere, xattrs, read-only answers, ACCESS, STATFS and passthrough bookkeeping.

import { test } from 'uvu';
import * as assert from 'uvu/assert';
import * as path from 'node:path';
import * as fs from 'node:fs';
import { createErofsFilesystem, createFilesystem } from '../../../src/erofs/filesystem.js';
import { FOPEN } from '../../../src/protocol/abi.js';
import type { ConnectionInfo } from '../../../src/fs/types.js';
import { FIXTURES } from './tree.js';
import { ctx, readdirAll, readdirplusAll, readAll, userCtx } from './fsapi.js';

const PLAIN = path.join(FIXTURES, 'plain.erofs');
const CFS = path.join(FIXTURES, 'composefs/image.cfs');
const OBJECTS = path.join(FIXTURES, 'composefs/objects');

function code(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (e) {
    return (e as { code?: string }).code;
  }
  return undefined;
}

test('root is inode 1; other inodes are nid + 2; "." and ".." point where they should', async () => {
  const f = createErofsFilesystem({ image: PLAIN });
  assert.is(f.getattr(ctx, 1, undefined).ino, 1);
  assert.is(f.getattr(ctx, 1, undefined).mode & 0o170000, 0o040000);
  const etc = f.lookup(ctx, 1, 'etc');
  assert.is(etc.ino, f.reader.lookup(f.reader.root(), 'etc')!.nid + 2);
  assert.is(etc.entryTimeout, 86400);
  assert.is(etc.attrTimeout, 86400);
  const list = await readdirAll(f, etc.ino);
  assert.is(list.find((e) => e.name === '.')!.ino, etc.ino);
  assert.is(list.find((e) => e.name === '..')!.ino, 1);
  const rootList = await readdirAll(f, 1);
  assert.is(rootList.find((e) => e.name === '..')!.ino, 1);
  assert.is(f.lookup(ctx, etc.ino, '..').ino, 1);
});

test('lookup of a missing name is a negative entry; lookup in a non-directory is ENOTDIR', () => {
  const f = createErofsFilesystem({ image: PLAIN });
  const e = f.lookup(ctx, 1, 'no-such-file');
  assert.is(e.ino, 0);
  assert.is(e.entryTimeout, 86400);
  const fifo = f.lookup(ctx, 1, 'fifo');
  assert.is(code(() => f.lookup(ctx, fifo.ino, 'x')), 'ENOTDIR');
});

test('lookup finds every entry of the 120-entry directory (binary search across blocks)', () => {
  const f = createErofsFilesystem({ image: PLAIN });
  const many = f.lookup(ctx, 1, 'many');
  for (let i = 0; i < 120; i++) {
    const name = `entry-${String(i).padStart(4, '0')}.txt`;
    assert.ok(f.lookup(ctx, many.ino, name).ino > 0, name);
  }
  for (const miss of ['entry-0120.txt', 'entry-', 'a', 'zzz', 'entry-0000.txt0', '']) {
    assert.is(f.lookup(ctx, many.ino, miss).ino, 0, miss);
  }
});

test('readdir and readdirplus resume from every offset they hand out', async () => {
  const f = createErofsFilesystem({ image: PLAIN });
  const many = f.lookup(ctx, 1, 'many');
  const all = await readdirAll(f, many.ino);
  assert.is(all.length, 122); // 120 + . + ..
  const offsets = new Set(all.map((e) => e.next));
  assert.is(offsets.size, all.length, 'offsets are unique');
  assert.ok(!offsets.has(0), 'no entry has offset 0');
  for (const per of [1, 2, 7, 50]) {
    const again = await readdirAll(f, many.ino, per);
    assert.equal(again.map((e) => e.name), all.map((e) => e.name), `batches of ${per}`);
    const plus = await readdirplusAll(f, many.ino, per);
    assert.equal(plus.map((e) => e.name), all.map((e) => e.name), `plus batches of ${per}`);
  }
  // resume from an arbitrary handed-out offset
  const k = 57;
  const rest: string[] = [];
  f.readdir(ctx, many.ino, 0, all[k]!.next, { add: (_i, n) => (rest.push(typeof n === 'string' ? n : new TextDecoder().decode(n)), true) });
  assert.equal(rest, all.slice(k + 1).map((e) => e.name));
});

test('readdirplus entries with a nodeid carry full attributes and type bits match', async () => {
  const f = createErofsFilesystem({ image: PLAIN });
  // which records carry attributes at all: plus-policy.test.ts
  for (const it of await readdirplusAll(f, 1)) {
    if (it.entry.ino === 0) continue;
    const a = f.getattr(ctx, it.entry.ino, undefined);
    assert.equal(it.entry.attr, a, it.name);
  }
  const types = Object.fromEntries((await readdirAll(f, 1)).map((e) => [e.name, e.mode & 0o170000]));
  assert.is(types['fifo'], 0o010000);
  assert.is(types['null-dev'], 0o020000);
  assert.is(types['link-rel'], 0o120000);
  assert.is(types['etc'], 0o040000);
});

test('attributes: nlink, rdev, blocks, blksize, times', () => {
  const f = createErofsFilesystem({ image: PLAIN });
  const dev = f.lookup(ctx, 1, 'null-dev').attr;
  assert.is(dev.rdev, 259); // 1:3 encoded as the kernel's new_encode_dev
  const host = f.lookup(ctx, f.lookup(ctx, 1, 'etc').ino, 'hostname').attr;
  assert.is(host.nlink, 2);
  assert.is(host.blksize, 4096);
  assert.is(host.blocks, 8);
  assert.is(host.mtime, 1700000000);
  assert.is(host.atime, host.mtime);
  assert.is(host.ctime, host.mtime);
});

test('open/opendir flags: KEEP_CACHE for files, CACHE_DIR|KEEP_CACHE for directories', () => {
  const f = createErofsFilesystem({ image: PLAIN });
  const etc = f.lookup(ctx, 1, 'etc');
  const host = f.lookup(ctx, etc.ino, 'hostname');
  assert.is(f.open(ctx, host.ino, 0).flags, 2);
  assert.is(f.opendir(ctx, etc.ino, 0).flags, 8 | 2);
  assert.is(code(() => f.open(ctx, host.ino, 1)), 'EROFS');
  assert.is(code(() => f.open(ctx, host.ino, 2)), 'EROFS');
  assert.is(code(() => f.open(ctx, host.ino, 0o1000)), 'EROFS');
  assert.is(code(() => f.open(ctx, etc.ino, 0)), 'EISDIR');
  assert.is(code(() => f.opendir(ctx, host.ino, 0)), 'ENOTDIR');
});

test('every write operation answers EROFS', () => {
  const f = createErofsFilesystem({ image: PLAIN });
  const ops = ['setattr', 'mknod', 'mkdir', 'unlink', 'rmdir', 'symlink', 'rename', 'link', 'write', 'create', 'setxattr', 'removexattr', 'tmpfile', 'fallocate'] as const;
  for (const op of ops) assert.is(code(() => (f[op] as () => unknown)()), 'EROFS', op);
  // inode numbers are nids: no forget(), so the dispatcher drops FORGETs without a call
  assert.is((f as { forget?: unknown }).forget, undefined);
});

test('xattrs: list, get, missing name is ENODATA, file without xattrs', () => {
  const f = createErofsFilesystem({ image: PLAIN });
  const usr = f.lookup(ctx, 1, 'usr');
  assert.equal(f.listxattr(ctx, usr.ino), ['user.dir']);
  assert.is(f.getxattr(ctx, usr.ino, 'user.dir').length, 300);
  assert.is(code(() => f.getxattr(ctx, usr.ino, 'user.nope')), 'ENODATA');
  assert.is(code(() => f.getxattr(ctx, usr.ino, 'security.capability')), 'ENODATA');
  assert.equal(f.listxattr(ctx, 1), []);
  assert.is(code(() => f.getxattr(ctx, 1, 'user.dir')), 'ENODATA');
  const lib = f.lookup(ctx, usr.ino, 'lib');
  const data = f.lookup(ctx, lib.ino, 'libdata.bin');
  assert.equal(Array.from(f.getxattr(ctx, data.ino, 'trusted.test')), [0, 1, 2]);
  assert.equal(f.listxattr(ctx, data.ino), ['trusted.test']);
  assert.equal(f.listxattr(userCtx(1000, 1000), data.ino), [], 'trusted.* is listed to root only');
  const many = f.lookup(ctx, 1, 'many');
  const e0 = f.lookup(ctx, many.ino, 'entry-0000.txt');
  assert.is(Buffer.from(f.getxattr(ctx, e0.ino, 'user.shared')).toString(), 'same value on several files');
});

test('long xattr prefixes resolve to the full name', () => {
  const f = createErofsFilesystem({ image: path.join(FIXTURES, 'xattr-prefix.erofs') });
  const many = f.lookup(ctx, 1, 'many');
  const e0 = f.lookup(ctx, many.ino, 'entry-0000.txt');
  assert.equal(f.listxattr(ctx, e0.ino), ['user.shared']);
  assert.is(Buffer.from(f.getxattr(ctx, e0.ino, 'user.shared')).toString(), 'same value on several files');
});

test('readlink, and reading files in odd-sized pieces', async () => {
  const f = createErofsFilesystem({ image: path.join(FIXTURES, 'lz4-ztailpacking-fragments.erofs') });
  assert.is(Buffer.from(f.readlink(ctx, f.lookup(ctx, 1, 'link-rel').ino)).toString(), 'etc/hostname');
  assert.is(code(() => f.readlink(ctx, 1)), 'EINVAL');
  const doc = f.lookup(ctx, f.lookup(ctx, f.lookup(ctx, f.lookup(ctx, 1, 'usr').ino, 'share').ino, 'doc').ino, 'pkg');
  const readme = f.lookup(ctx, doc.ino, 'README');
  const whole = await readAll(f, readme.ino, readme.attr.size);
  assert.is(whole.length, readme.attr.size);
  for (const piece of [1, 777, 4096, 5000, 65536]) {
    const parts: Buffer[] = [];
    for (let off = 0; off < whole.length; off += piece) parts.push(Buffer.from(f.read(ctx, readme.ino, 0, off, piece)));
    assert.ok(Buffer.concat(parts).equals(Buffer.from(whole)), `pieces of ${piece}`);
  }
});

test('access: W_OK is EROFS, permission bits for others', () => {
  const f = createErofsFilesystem({ image: PLAIN });
  const etc = f.lookup(ctx, 1, 'etc');
  const conf = f.lookup(ctx, f.lookup(ctx, etc.ino, 'conf.d').ino, 'app.conf'); // 0644 1000:1000
  assert.is(code(() => f.access(ctx, conf.ino, 2)), 'EROFS');
  assert.is(code(() => f.access(ctx, conf.ino, 4)), undefined);
  assert.is(code(() => f.access(ctx, conf.ino, 1)), 'EACCES');
  assert.is(code(() => f.access(userCtx(1000, 1000), conf.ino, 4)), undefined);
  assert.is(code(() => f.access(userCtx(1000, 1000), conf.ino, 1)), 'EACCES');
  assert.is(code(() => f.access(userCtx(5, 5), etc.ino, 1)), undefined);
  assert.is(code(() => f.access(userCtx(5, 5), conf.ino, 0)), undefined);
});

test('statfs reports the image geometry', () => {
  const f = createErofsFilesystem({ image: PLAIN });
  const s = f.statfs(ctx, 1);
  assert.is(s.bsize, 4096);
  assert.is(s.blocks, 201);
  assert.is(s.bfree, 0);
  assert.is(s.files, 144);
  assert.is(s.namelen, 255);
});

test('worker factory accepts a SharedArrayBuffer image', () => {
  const bytes = fs.readFileSync(PLAIN);
  const sab = new SharedArrayBuffer(bytes.length);
  new Uint8Array(sab).set(bytes);
  const f = createFilesystem({ image: sab });
  assert.is(f.lookup(ctx, 1, 'etc').attr.mode & 0o170000, 0o040000);
});

function fakeConn(options: { fail?: boolean } = {}) {
  const opened: number[] = [];
  const closed: number[] = [];
  let next = 100;
  const conn: ConnectionInfo = {
    minor: 41, flags: 0, maxWrite: 1 << 20, maxReadahead: 1 << 17, passthrough: true,
    backingOpen(fd: number) {
      if (options.fail) throw new Error('EPERM: no passthrough for you');
      opened.push(fd);
      return next++;
    },
    backingClose(id: number) {
      closed.push(id);
    },
  };
  return { conn, opened, closed };
}

test('passthrough: one backing id per inode, refcounted, closed with the last release', () => {
  const f = createErofsFilesystem({ image: CFS, basedir: OBJECTS, passthrough: true });
  const { conn, opened, closed } = fakeConn();
  f.init(conn);
  const sparse = f.lookup(ctx, 1, 'sparse.img');
  const a = f.open(ctx, sparse.ino, 0);
  const b = f.open(ctx, sparse.ino, 0);
  assert.is(a.flags! & FOPEN.PASSTHROUGH, FOPEN.PASSTHROUGH);
  assert.is(a.backingId, 100);
  assert.is(b.backingId, 100);
  assert.is(opened.length, 1);
  f.release(ctx, sparse.ino, a.fh!);
  assert.is(closed.length, 0);
  f.release(ctx, sparse.ino, b.fh!);
  assert.equal(closed, [100]);
  // inline files never use passthrough
  const etc = f.lookup(ctx, 1, 'etc');
  const host = f.lookup(ctx, etc.ino, 'hostname');
  assert.is(f.open(ctx, host.ino, 0).flags, 2);
  // a new open after the last release gets a new backing id
  const c = f.open(ctx, sparse.ino, 0);
  assert.is(c.backingId, 101);
  f.release(ctx, sparse.ino, c.fh!);
});

test('passthrough: when backingOpen fails, reads are served and that is logged once', async () => {
  const logs: string[] = [];
  const f = createErofsFilesystem({ image: CFS, basedir: OBJECTS, passthrough: true, log: (m) => logs.push(m) });
  f.init(fakeConn({ fail: true }).conn);
  const sparse = f.lookup(ctx, 1, 'sparse.img');
  for (let i = 0; i < 3; i++) {
    const o = f.open(ctx, sparse.ino, 0);
    assert.is(o.flags, 2);
    assert.is(o.backingId, undefined);
    const data = f.read(ctx, sparse.ino, o.fh!, 0, 4096);
    assert.is(data.length, 4096);
    f.release(ctx, sparse.ino, o.fh!);
  }
  assert.is(logs.length, 1, logs.join('\n'));
  assert.match(logs[0]!, /passthrough/);
  const whole = await readAll(f, sparse.ino, sparse.attr.size);
  const obj = fs.readFileSync(path.join(OBJECTS, '12/fb72b3167b1bd5dc8a0eb0ecf7473d9d63601948fa3bef89a9a2b86a455103'));
  assert.ok(Buffer.from(whole).equals(obj));
});

test('passthrough is not used when the connection did not negotiate it', () => {
  const f = createErofsFilesystem({ image: CFS, basedir: OBJECTS, passthrough: true });
  const { conn, opened } = fakeConn();
  f.init({ ...conn, passthrough: false });
  const sparse = f.lookup(ctx, 1, 'sparse.img');
  const o = f.open(ctx, sparse.ino, 0);
  assert.is(o.flags, 2);
  assert.is(opened.length, 0);
});

test.run();
