// Images built here with mkfs.erofs (1.5) from a tree that stresses the format: nanosecond and far-future
// mtimes, big uids, a directory spanning many blocks, 255-byte names, every file type, hardlinks, ACL,
// security/trusted/user xattrs (inline and shared), holes, big and tiny files. Each image, under each set of
// mkfs options, is read with the reader API and compared with the kernel's mount of it.

import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { ErofsReader } from '../../../src/erofs/reader/reader.js';
import { createErofsFilesystem } from '../../../src/erofs/filesystem.js';
import { canMount, diffViews, kernelTree, readerTree, withKernelMount } from './tree.js';
import { filesystemTree } from './fsapi.js';
import { haveMkfs, mkfs, setXattr, tempDir } from './mkfs.js';
import { rng } from './mutate.js';

function touch(p: string, when: string): void {
  execFileSync('touch', ['-h', '-d', when, p]);
}

function acl(): Buffer {
  const entries: Array<[number, number, number]> = [
    [0x01, 6, 0xffffffff], // USER_OBJ
    [0x02, 4, 1234], // USER 1234
    [0x04, 4, 0xffffffff], // GROUP_OBJ
    [0x10, 4, 0xffffffff], // MASK
    [0x20, 4, 0xffffffff], // OTHER
  ];
  const b = Buffer.alloc(4 + 8 * entries.length);
  b.writeUInt32LE(2, 0);
  entries.forEach(([tag, perm, id], i) => {
    b.writeUInt16LE(tag, 4 + 8 * i);
    b.writeUInt16LE(perm, 6 + 8 * i);
    b.writeUInt32LE(id, 8 + 8 * i);
  });
  return b;
}

function buildTree(root: string): void {
  const rand = rng(2024);
  const bytes = (n: number) => Buffer.from(Uint8Array.from({ length: n }, () => Math.floor(rand() * 256)));
  const line = 'All work and no play makes Jack a dull boy.\n';
  const text = (n: number) => Buffer.from(line.repeat(Math.ceil(n / line.length) + 1).slice(0, n));
  const w = (rel: string, data: Buffer | string) => {
    const p = path.join(root, rel);
    fs.mkdirSync(path.dirname(p), { recursive: true });
    fs.writeFileSync(p, data);
    return p;
  };
  w('empty', '');
  w('one', 'x');
  for (const n of [4095, 4096, 4097, 8191, 12288]) w(`sizes/f${n}`, text(n));
  w('big/random-1m', bytes(1 << 20));
  w('big/text-3m', text(3 << 20));
  const mixed = Buffer.concat([text(200000), bytes(100000), text(300000), Buffer.alloc(200000), bytes(5000)]);
  w('big/mixed', mixed);
  const sparse = w('big/sparse', '');
  fs.truncateSync(sparse, 10 << 20);
  const fd = fs.openSync(sparse, 'r+');
  fs.writeSync(fd, text(70000), 0, 70000, 5 << 20);
  fs.closeSync(fd);
  // a directory over many blocks, names of every length up to 254 (mkfs.erofs 1.5 fails on 255)
  for (let i = 0; i < 1500; i++) {
    const len = 1 + (i * 37) % 254;
    const name = `${i}-`.concat('n'.repeat(255)).slice(0, Math.max(len, String(i).length + 1));
    w(`large-dir/${name}`, i % 3 ? '' : `file ${i}\n`);
  }
  let deep = 'deep';
  for (let i = 0; i < 20; i++) deep += `/level${i}`;
  w(`${deep}/bottom`, 'bottom\n');
  // every type
  fs.symlinkSync('sizes/f4096', path.join(root, 'link-short'));
  fs.symlinkSync('/' + 'l'.repeat(1000), path.join(root, 'link-1000'));
  fs.symlinkSync('x'.repeat(4000), path.join(root, 'link-4000'));
  execFileSync('mkfifo', [path.join(root, 'fifo')]);
  execFileSync('mknod', [path.join(root, 'chr'), 'c', '4', '64']);
  execFileSync('mknod', [path.join(root, 'blk'), 'b', '259', '300000']);
  execFileSync('python3', ['-c', `import socket; socket.socket(socket.AF_UNIX).bind(${JSON.stringify(path.join(root, 'sock'))})`]);
  // hardlinks
  const h = w('links/a', 'shared data\n');
  fs.linkSync(h, path.join(root, 'links/b'));
  fs.linkSync(h, path.join(root, 'links/c'));
  // owners and modes
  const owned = w('owned/big-ids', 'owned\n');
  fs.chownSync(owned, 100000, 200000);
  const setuid = w('owned/setuid', '#!/bin/sh\n');
  fs.chmodSync(setuid, 0o4755);
  fs.mkdirSync(path.join(root, 'owned/sticky'));
  fs.chmodSync(path.join(root, 'owned/sticky'), 0o1777);
  // xattrs: inline, shared (same on several files), long values, several namespaces, an ACL
  for (let i = 0; i < 6; i++) setXattr(w(`xattrs/shared-${i}`, `s${i}`), 'user.common', 'the same value everywhere');
  const many = w('xattrs/many', 'many\n');
  for (let i = 0; i < 20; i++) setXattr(many, `user.attr${i}`, `value-${i}-${'v'.repeat(i * 10)}`);
  setXattr(many, 'trusted.secret', Buffer.from([0, 1, 2, 255]));
  setXattr(many, 'security.label', 'system_u:object_r:test_t:s0');
  setXattr(w('xattrs/long-value', 'lv\n'), 'user.long', 'L'.repeat(3000));
  setXattr(w('xattrs/acl', 'acl\n'), 'system.posix_acl_access', acl());
  setXattr(path.join(root, 'xattrs'), 'user.on-dir', 'dir value');
  // times: nanoseconds, far future (past 2038, past 2106), before 1970
  const times = ['@1700000000.123456789', '@1.000000001', '@4102444800.5', '@5000000000.999999999', '@-86400.25'];
  let k = 0;
  const all: string[] = [];
  const walk = (d: string) => {
    for (const n of fs.readdirSync(d)) {
      const p = path.join(d, n);
      all.push(p);
      if (fs.lstatSync(p).isDirectory()) walk(p);
    }
  };
  walk(root);
  for (const p of all.reverse()) touch(p, times[k++ % times.length]!);
  touch(root, '@1600000000.5');
}

const OPTIONS: Array<[string, string[]]> = [
  ['default', []],
  ['extended inodes', ['-Eforce-inode-extended']],
  ['compact inodes', ['-Eforce-inode-compact', '--all-root', '-T1234567890']],
  ['no inline data', ['-Enoinline_data']],
  ['fixed time', ['-T1234567890']],
  ['lz4', ['-zlz4']],
  ['lz4hc level 12', ['-zlz4hc,12']],
  ['lz4hc big pclusters', ['-zlz4hc', '-C65536']],
  ['lz4 legacy (full) indexes', ['-zlz4', '-Elegacy-compress']],
  ['lz4 ztailpacking', ['-zlz4', '-Eztailpacking']],
  ['lz4hc ztailpacking big pclusters', ['-zlz4hc', '-Eztailpacking', '-C32768']],
  ['lz4 small extents', ['-zlz4', '--max-extent-bytes=8192']],
  ['chunks, block map', ['--chunksize=8192', '-Eforce-inode-blockmap']],
  ['chunks, indexes', ['--chunksize=65536', '-Eforce-chunk-indexes']],
];

let work: string | undefined;
let src: string | undefined;
function source(): string {
  if (!src) {
    work = tempDir('mkfs');
    src = path.join(work, 'src');
    fs.mkdirSync(src);
    buildTree(src);
  }
  return src;
}

for (const [label, args] of OPTIONS) {
  test(`mkfs.erofs ${args.join(' ') || '(defaults)'} [${label}]: reader equals kernel`, () => {
    if (!haveMkfs() || !canMount()) return console.log('  (skipped: needs mkfs.erofs and mount)');
    const image = mkfs(work ?? (source(), work!), `${label.replace(/\W+/g, '-')}.erofs`, source(), args);
    const expected = withKernelMount(image, (d) => kernelTree(d));
    const r = ErofsReader.open(image);
    const actual = readerTree(r);
    r.close();
    assert.is(diffViews(expected, actual), '');
    assert.ok(expected.length > 1500);
  });
}

test('the Filesystem view (raw) of a compressed mkfs image equals the kernel mount', async () => {
  if (!haveMkfs() || !canMount()) return console.log('  (skipped: needs mkfs.erofs and mount)');
  source();
  const image = path.join(work!, 'lz4hc-ztailpacking-big-pclusters.erofs');
  if (!fs.existsSync(image)) mkfs(work!, path.basename(image), src!, ['-zlz4hc', '-Eztailpacking', '-C32768']);
  const expected = withKernelMount(image, (d) => kernelTree(d));
  const f = createErofsFilesystem({ image, mode: 'raw' });
  const actual = await filesystemTree(f);
  assert.is(diffViews(expected, actual), '');
});

test('cleanup', () => {
  if (process.env.TSFUSE_KEEP) return;
  if (work) fs.rmSync(work, { recursive: true, force: true });
});

test.run();
