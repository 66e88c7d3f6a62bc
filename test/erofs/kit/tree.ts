// generateTree: a deterministic (seeded) source tree that covers what an EROFS image can hold: every inode
// type, hardlinks, empty/big/deep directories, file sizes around block boundaries, sparse files, long
// symlinks, many/long/shared xattrs (user, trusted, security, a POSIX ACL), odd names (including one that is
// not valid UTF-8), setuid/setgid/sticky, many owners and nanosecond mtimes.
//
// Synchronous and spawns helpers (mknod, mkfifo, touch, setfattr): call it during test setup, never from a
// thread that serves a FUSE mount. Must run as root (mknod, chown, trusted.* xattrs).

import * as fs from 'node:fs';
import * as path from 'node:path';
import { type BPath, fsPath, utf8ToB } from '../../helpers/bytes.js';
import { Prng } from './prng.js';
import { runSync } from '../../helpers/proc.js';
import { setMtimes, touchToNs } from './mtimes.js';
import { type Xattr, setXattrs } from '../../helpers/xattrs.js';

export type TreeScale = 'small' | 'big';

export interface TreeOptions {
  /** 'small' (default): ~1000 entries; 'big': a directory with 5000+ entries, a deeper chain. */
  scale?: TreeScale;
  /** Seed for names, contents and mtimes (default 1). */
  seed?: number | string;
  /**
   * Longest name to create (default 254). mkfs.erofs 1.5 fails on 255-byte names ("Could not format the
   * device: No such file or directory"), so images can only be built with 254; use 255 for trees that are
   * not turned into EROFS images by mkfs.erofs 1.5.
   */
  maxNameLength?: 254 | 255;
}

/** Sizes of the files under sizes/ (each exists as sizes/rand-N, incompressible, and sizes/text-N). */
export const TREE_FILE_SIZES: readonly number[] = [
  0, 1, 2, 63, 64, 65, 511, 512, 513, 1023, 1024, 1025, 2047, 2048, 2049, 4095, 4096, 4097, 8191, 8192, 8193,
  65535, 65536, 65537, 1048576 + 17,
];

/** Exact mtimes given to the entries under mtimes/ (seconds.nanoseconds, as `touch -d @...` takes them). */
export const SPECIAL_MTIMES: Readonly<Record<string, string>> = {
  epoch: '0.000000000',
  'one-ns': '0.000000001',
  'max-ns': '1700000000.999999999',
  usec: '1600000000.123456000',
  's32-max': '2147483647.999999999',
  y2038: '2147483648.000000001',
  'u32-max': '4294967295.500000000',
  'beyond-u32': '4294967296.123456789',
};

/** Every mtime in a generated tree is below this (images.ts builds with SOURCE_DATE_EPOCH above it). */
export const TREE_MAX_MTIME_SEC = 4294967297;

export interface TreeInfo {
  root: string;
  scale: TreeScale;
  seed: number | string;
  /** Number of entries (paths) including the root, counting every hardlink name. */
  entries: number;
  /** Number of distinct inodes. */
  inodes: number;
  /** Entries in the big directory (bigdir/). */
  bigDirEntries: number;
  /** Depth of deep/ (deep/d/d/.../d). */
  deepDepth: number;
  /** Longest name created (254 or 255). */
  maxNameLength: number;
  /** Longest relative path in bytes. */
  longestPath: number;
  /** Whether the POSIX ACL on xattrs/acl could be set (system.posix_acl_access). */
  acl: boolean;
  /** Whether security.* xattrs could be set. */
  security: boolean;
  /** Notable relative paths (UTF-8) for tests, by role. */
  paths: {
    regular: string;
    dir: string;
    emptyDir: string;
    symlink: string;
    chardev: string;
    chardevBig: string;
    blockdev: string;
    fifo: string;
    socket: string;
    whiteout: string;
    hardlinks: string[];
    symlinkHardlinks: string[];
    large: string;
    sparse: string[];
    longSymlink1000: string;
    longSymlink4095: string;
    bigDir: string;
    deepLeaf: string;
    longPathLeaf: string;
    sharedXattrFiles: string[];
    overlayXattrFile: string;
    overlayXattrDir: string;
    setuid: string;
    setgid: string;
    stickyDir: string;
    invalidUtf8Name: Buffer;
  };
}

interface Meta {
  mode?: number;
  uid?: number;
  gid?: number;
  xattrs?: Xattr[];
}

class Builder {
  /** Primary names of every inode (hardlink extra names excluded): these get an mtime. */
  readonly inodes: BPath[] = [''];
  readonly fixedMtime = new Map<BPath, string>();
  readonly xattrs: Array<{ path: BPath; xattrs: Xattr[] }> = [];
  private readonly perms: Array<{ path: BPath; mode?: number; uid?: number; gid?: number; link: boolean }> = [];
  entries = 1;
  longest = 0;

  constructor(readonly root: string) {}

  private p(rel: BPath): Buffer {
    return fsPath(this.root, rel);
  }

  private added(rel: BPath, meta: Meta, link = false): void {
    this.inodes.push(rel);
    this.entries++;
    this.longest = Math.max(this.longest, rel.length);
    if (meta.xattrs && meta.xattrs.length > 0) this.xattrs.push({ path: rel, xattrs: meta.xattrs });
    if (meta.mode !== undefined || meta.uid !== undefined || meta.gid !== undefined) {
      this.perms.push({ path: rel, mode: meta.mode, uid: meta.uid, gid: meta.gid, link });
    }
  }

  dir(rel: BPath, meta: Meta = {}): BPath {
    fs.mkdirSync(this.p(rel));
    fs.chmodSync(this.p(rel), 0o755);
    this.added(rel, meta);
    return rel;
  }

  file(rel: BPath, data: Buffer | string = '', meta: Meta = {}): BPath {
    fs.writeFileSync(this.p(rel), data);
    fs.chmodSync(this.p(rel), 0o644);
    this.added(rel, meta);
    return rel;
  }

  /** A file of `size` bytes with data only in `extents` ([offset, bytes]); the rest are holes. */
  sparse(rel: BPath, size: number, extents: Array<[number, Buffer]>, meta: Meta = {}): BPath {
    const fd = fs.openSync(this.p(rel), 'w', 0o644);
    try {
      for (const [off, buf] of extents) fs.writeSync(fd, buf, 0, buf.length, off);
      fs.ftruncateSync(fd, size);
    } finally {
      fs.closeSync(fd);
    }
    fs.chmodSync(this.p(rel), 0o644);
    this.added(rel, meta);
    return rel;
  }

  symlink(rel: BPath, target: BPath, meta: Meta = {}): BPath {
    fs.symlinkSync(Buffer.from(target, 'latin1'), this.p(rel));
    this.added(rel, meta, true);
    return rel;
  }

  node(rel: BPath, kind: 'c' | 'b' | 'p', major = 0, minor = 0, meta: Meta = {}): BPath {
    const args = kind === 'p' ? ['-m', '644', '--', rel, 'p'] : ['-m', '644', '--', rel, kind, String(major), String(minor)];
    runSync('mknod', args, { cwd: this.root });
    this.added(rel, meta);
    return rel;
  }

  socket(rel: BPath, meta: Meta = {}): BPath {
    // a listening unix socket leaves its inode behind when the process exits without close()
    const script = "require('node:net').createServer().listen(process.argv[1], () => process.exit(0))";
    runSync(process.execPath, ['-e', script, rel], { cwd: this.root });
    fs.chmodSync(this.p(rel), 0o755);
    this.added(rel, meta);
    return rel;
  }

  hardlink(existing: BPath, rel: BPath): BPath {
    fs.linkSync(this.p(existing), this.p(rel));
    this.entries++;
    this.longest = Math.max(this.longest, rel.length);
    return rel;
  }

  /** chown first (it clears setuid/setgid), then chmod; symlinks only get lchown. */
  applyPerms(): void {
    for (const e of this.perms) {
      const p = this.p(e.path);
      if (e.uid !== undefined || e.gid !== undefined) fs.lchownSync(p, e.uid ?? 0, e.gid ?? 0);
      if (!e.link && e.mode !== undefined) fs.chmodSync(p, e.mode);
    }
  }
}

function nameOfLength(rng: Prng, len: number): string {
  const chars = 'abcdefghijklmnopqrstuvwxyz0123456789._-ABCDEFGHIJKLMNOPQRSTUVWXYZ';
  let s = 'n';
  while (s.length < len) s += chars[rng.int(chars.length)];
  return s.slice(0, len);
}

function mixed8MiB(rng: Prng): Buffer {
  const seg = 64 * 1024;
  const parts: Buffer[] = [];
  for (let i = 0; i < 128; i++) {
    const kind = i % 3;
    parts.push(kind === 0 ? rng.bytes(seg) : kind === 1 ? rng.text(seg) : Buffer.alloc(seg));
  }
  return Buffer.concat(parts);
}

/** A random mtime with nanoseconds, as "SEC.NNNNNNNNN". */
function randomMtime(rng: Prng): string {
  const sec = rng.range(1_000_000_000, 1_790_000_000);
  let ns = rng.int(1_000_000_000);
  if (ns % 1000 === 0) ns += 1; // make sure it is not a microsecond value
  return `${sec}.${String(ns).padStart(9, '0')}`;
}


export function generateTree(dir: string, opts: TreeOptions = {}): TreeInfo {
  const scale = opts.scale ?? 'small';
  const seed = opts.seed ?? 1;
  const rng = new Prng(`tree:${seed}`);
  const nameMax = opts.maxNameLength ?? 254;
  if (fs.existsSync(dir) && fs.readdirSync(dir).length > 0) throw new Error(`generateTree: ${dir} is not empty`);
  fs.mkdirSync(dir, { recursive: true });
  const root = path.resolve(dir);
  fs.chmodSync(root, 0o755);
  fs.chownSync(root, 0, 0);
  const b = new Builder(root);
  const u = utf8ToB;

  // root xattrs
  b.xattrs.push({ path: '', xattrs: [['user.root', Buffer.from('root dir xattr')], ['trusted.root', Buffer.from([0, 1, 2, 255])]] });

  // ---- every inode type
  b.dir('types');
  b.file('types/regular', 'hello, erofs\n');
  b.dir('types/dir');
  b.file('types/dir/inside', 'inside\n');
  b.symlink('types/symlink', 'regular');
  b.node('types/chardev', 'c', 1, 3);
  b.node('types/chardev-big', 'c', 4095, 1048575); // the largest major/minor a 32-bit new_encode_dev holds
  b.node('types/blockdev', 'b', 8, 1);
  b.node('types/fifo', 'p');
  b.socket('types/socket');
  b.node('types/whiteout', 'c', 0, 0); // an overlay whiteout: plain char device 0:0
  b.dir('hardlinks');
  const hlData = rng.text(3000);
  b.file('hardlinks/link-1', hlData, { xattrs: [['user.hardlink', Buffer.from('three names')]] });
  b.hardlink('hardlinks/link-1', 'hardlinks/link-2');
  b.hardlink('hardlinks/link-1', 'types/link-3');
  b.symlink('hardlinks/symlink-1', '../types/regular');
  b.hardlink('hardlinks/symlink-1', 'hardlinks/symlink-2');
  b.node('hardlinks/fifo-1', 'p');
  b.hardlink('hardlinks/fifo-1', 'hardlinks/fifo-2');
  b.file('hardlinks/small-1', 'tiny\n');
  b.hardlink('hardlinks/small-1', 'hardlinks/small-2');

  // ---- directories
  b.dir('empty');
  b.dir('dirs');
  b.dir('dirs/empty-with-xattr', { xattrs: [['user.dir', Buffer.from('on an empty dir')]] });
  for (const n of [1, 2, 126, 127, 128, 129, 200]) {
    const d = b.dir(`dirs/n${n}`);
    for (let i = 0; i < n; i++) b.file(`${d}/entry-${String(i).padStart(14, '0')}`);
  }
  const bigFill = scale === 'big' ? 5000 : 300;
  b.dir('bigdir');
  for (let len = 1; len <= nameMax; len++) {
    const name = nameOfLength(rng, len);
    const rel = `bigdir/${name}`;
    if (len % 11 === 0) b.dir(rel);
    else if (len % 7 === 0) b.symlink(rel, `target-of-${len}`);
    else b.file(rel);
  }
  const bigShared: Xattr = ['user.bigdir-shared', Buffer.from('shared by some bigdir entries')];
  for (let i = 0; i < bigFill; i++) {
    const rel = `bigdir/f${String(i).padStart(5, '0')}`;
    const meta: Meta = i % 50 === 0 ? { xattrs: [bigShared] } : {};
    if (i % 97 === 0) b.dir(rel, meta);
    else if (i % 13 === 0) b.symlink(rel, `f${String(i + 1).padStart(5, '0')}`);
    else if (i % 5 === 0) b.file(rel, String.fromCharCode(97 + (i % 26)), meta);
    else b.file(rel, '', meta);
  }
  const bigDirEntries = nameMax + bigFill;
  const deepDepth = scale === 'big' ? 200 : 64;
  let deep = b.dir('deep');
  for (let i = 0; i < deepDepth; i++) deep = b.dir(`${deep}/d`);
  const deepLeaf = b.file(`${deep}/bottom`, 'the bottom\n');
  // a path close to PATH_MAX: 13 directories with names of the longest length
  let lp = b.dir('longpath');
  for (let i = 0; i < 13; i++) lp = b.dir(`${lp}/${String(i).padStart(2, '0')}${'L'.repeat(nameMax - 2)}`);
  const longPathLeaf = b.file(`${lp}/leaf`, 'far away\n');

  // ---- file sizes
  b.dir('sizes');
  for (const size of TREE_FILE_SIZES) {
    b.file(`sizes/rand-${size}`, rng.bytes(size));
    b.file(`sizes/text-${size}`, rng.text(size));
  }
  b.file('sizes/zeros-1048593', Buffer.alloc(1048576 + 17));
  b.dir('large');
  const large = b.file('large/mixed-8MiB', mixed8MiB(rng));

  // ---- sparse files
  b.dir('sparse');
  const sp = [
    b.sparse('sparse/hole-middle', 1048576 + 8193, [[0, rng.bytes(4097)], [1048576, rng.bytes(8193)]]),
    b.sparse('sparse/hole-end', 3 * 1048576, [[0, rng.text(5000)]]),
    b.sparse('sparse/hole-start', 2 * 1048576 + 100, [[2 * 1048576, rng.bytes(100)]]),
    b.sparse('sparse/all-hole', 1048576 + 1, []),
    b.sparse('sparse/holes-many', 64 * 4096, Array.from({ length: 16 }, (_, i) => [i * 4 * 4096 + 17, rng.bytes(300)] as [number, Buffer])),
  ];

  // ---- symlinks
  b.dir('symlinks');
  b.symlink('symlinks/short', 'a');
  b.symlink('symlinks/relative', '../types/regular');
  b.symlink('symlinks/absolute', '/etc/passwd');
  b.symlink('symlinks/dangling', 'does/not/exist');
  b.symlink('symlinks/to-dir', '../types/dir');
  b.symlink('symlinks/dot', '.');
  b.symlink('symlinks/dotdot', '..');
  b.symlink('symlinks/self', 'self');
  b.symlink('symlinks/odd-target', u('target with spaces\tand\nnewline and ünïcødé'));
  const long1000 = b.symlink('symlinks/long-1000', Array.from({ length: 100 }, (_, i) => `dir${String(i).padStart(6, '0')}`).join('/') + '/');
  const long4095 = b.symlink('symlinks/long-4095', ('/' + 'x'.repeat(63)).repeat(63) + '/' + 'y'.repeat(62));
  for (const n of [60, 61, 62, 63, 64, 4000, 4030, 4096 - 65]) b.symlink(`symlinks/len-${n}`, 's'.repeat(n));
  b.symlink(`symlinks/${'N'.repeat(nameMax)}`, 'a symlink with a longest name');

  // ---- xattrs
  b.dir('xattrs', { xattrs: [['user.on-dir', Buffer.from('directory xattr')], ['trusted.on-dir', Buffer.from('t')]] });
  const many: Xattr[] = [];
  for (let i = 0; i < 60; i++) many.push([`user.many-${String(i).padStart(3, '0')}`, Buffer.from(`value ${i} `.repeat(1 + (i % 3)))]);
  b.file('xattrs/many', 'many xattrs\n', { xattrs: many });
  b.file('xattrs/long-value', 'long value\n', { xattrs: [['user.v3000', rng.bytes(3000)]] });
  b.file('xattrs/long-values-2', 'two long values\n', { xattrs: [['trusted.t2000', rng.text(2000)], ['user.v1400', rng.bytes(1400)]] });
  b.file('xattrs/long-name', '', { xattrs: [[`user.${'k'.repeat(250)}`, Buffer.from('long name')]] });
  b.file('xattrs/empty-value', '', { xattrs: [['user.empty', Buffer.alloc(0)], ['trusted.empty', Buffer.alloc(0)]] });
  b.file('xattrs/binary', '', { xattrs: [['user.binary', Buffer.from([0, 0, 1, 0xff, 0x0a, 0x3d, 0x5c, 0x22, 0])]] });
  b.file('xattrs/prefixes', '', {
    xattrs: [
      ['user.a', Buffer.from('1')],
      ['trusted.a', Buffer.from('2')],
      ['user.overlay.x', Buffer.from('user.overlay is just user')],
      ['trusted.overlayfoo', Buffer.from('not trusted.overlay.')],
    ],
  });
  const sharedValue = rng.text(200);
  const sharedFiles: string[] = [];
  for (let i = 0; i < 8; i++) {
    sharedFiles.push(
      b.file(`xattrs/shared-${i}`, i % 2 === 0 ? rng.text(100 + i) : '', {
        xattrs: [
          ['user.shared', sharedValue],
          ['trusted.shared', Buffer.from('same on eight files')],
          ['user.unique', Buffer.from(`only on ${i}`)],
        ],
      }),
    );
  }
  b.symlink('xattrs/symlink', 'shared-0', { xattrs: [['trusted.on-symlink', Buffer.from('symlink xattr')], ['trusted.shared', Buffer.from('same on eight files')]] });
  b.node('xattrs/fifo', 'p', 0, 0, { xattrs: [['trusted.on-fifo', Buffer.from('fifo xattr')]] });
  b.node('xattrs/chardev', 'c', 1, 5, { xattrs: [['trusted.on-dev', Buffer.from('device xattr')]] });
  const overlayFile = b.file('xattrs/overlay-file', rng.text(500), {
    xattrs: [['trusted.overlay.custom', Buffer.from('escaped by composefs')], ['user.plain', Buffer.from('p')]],
  });
  const overlayDir = b.dir('xattrs/overlay-dir', { xattrs: [['trusted.overlay.opaque', Buffer.from('y')]] });
  b.file('xattrs/overlay-dir/child', 'child\n');
  const aclFile = b.file('xattrs/acl', 'acl\n', { mode: 0o640 });
  const secFile = b.file('xattrs/security', 'security\n');

  // ---- odd names
  b.dir('names');
  const oddNames = [
    'with space', ' leading-space', 'trailing-space ', 'tab\there', 'new\nline', 'carriage\rreturn', '-leading-dash',
    '--double-dash', 'back\\slash', 'ünïcödé', '日本語のファイル', 'emoji-😀', '.hidden', '..dots', '...', '=equals',
    '#hash', '%percent', '"quote', "'apostrophe", '*star?', 'ctrl-\x01\x1f\x7f', ':colon', 'a'.repeat(nameMax),
    'é'.repeat(127), // 254 bytes
  ];
  for (const n of oddNames) b.file(`names/${u(n)}`, n.length > 100 ? 'long name\n' : `${n}\n`);
  const invalidUtf8 = 'bad-utf8-\xff\xfe\xc3(';
  b.file(`names/${invalidUtf8}`, 'not utf-8\n');
  b.dir(`names/${u('dir with ünïcødé')}`);
  b.file(`names/${u('dir with ünïcødé')}/${u('file\twith\ttabs')}`, 'x');

  // ---- permissions
  b.dir('perms');
  const setuid = b.file('perms/setuid', '#!/bin/sh\n', { mode: 0o4755 });
  const setgid = b.file('perms/setgid', '#!/bin/sh\n', { mode: 0o2755 });
  b.file('perms/setuid-setgid', '', { mode: 0o6755 });
  b.file('perms/sticky-file', '', { mode: 0o1644 });
  b.file('perms/all-special', '', { mode: 0o7777 });
  b.file('perms/mode-000', '', { mode: 0 });
  b.file('perms/mode-777', '', { mode: 0o777 });
  b.file('perms/exec-only', '', { mode: 0o111 });
  b.file('perms/write-only', '', { mode: 0o222 });
  const sticky = b.dir('perms/sticky-dir', { mode: 0o1777 });
  b.dir('perms/setgid-dir', { mode: 0o2775 });
  b.dir('perms/dir-000', { mode: 0 });
  b.file('perms/dir-000/hidden', 'behind a 000 dir\n');
  b.node('perms/fifo-600', 'p', 0, 0, { mode: 0o600 });

  // ---- owners
  b.dir('owners');
  for (const [uid, gid] of [[0, 0], [1, 1], [0, 1000], [1000, 0], [1000, 1000], [65534, 65534], [65535, 65535], [65536, 65536], [100000, 200000], [4294967294, 4294967294]] as const) {
    b.file(`owners/u${uid}-g${gid}`, `${uid}:${gid}\n`, { uid, gid });
  }
  b.dir('owners/dir-1000', { uid: 1000, gid: 1000, mode: 0o750 });
  b.symlink('owners/link-1000', 'dir-1000', { uid: 1000, gid: 2000 });
  b.node('owners/fifo-70000', 'p', 0, 0, { uid: 70000, gid: 70001 });

  // ---- special mtimes
  b.dir('mtimes');
  for (const [name, t] of Object.entries(SPECIAL_MTIMES)) b.fixedMtime.set(b.file(`mtimes/${name}`, `${t}\n`), t);
  b.fixedMtime.set(b.dir('mtimes/dir-one-ns'), '1.000000001');
  b.fixedMtime.set(b.symlink('mtimes/symlink-max-ns', 'epoch'), '1234567890.999999999');

  // ---- finish: owners and modes, xattrs, mtimes
  b.applyPerms();
  setXattrs(root, b.xattrs);
  // system.posix_acl_access: user::rw- user:1000:r-- group::r-- mask::r-- other::--- (binary v2 xattr)
  const acl = Buffer.from('02000000' + '01000600ffffffff' + '02000400e8030000' + '04000400ffffffff' + '10000400ffffffff' + '20000000ffffffff', 'hex');
  const aclOk = runSync('setfattr', ['-n', 'system.posix_acl_access', '-v', `0x${acl.toString('hex')}`, '--', aclFile], { cwd: root, check: false }).status === 0;
  const secOk = runSync('setfattr', ['-n', 'security.kit', '-v', 'security namespace', '--', secFile], { cwd: root, check: false }).status === 0;

  // mtimes: a palette of ns-precision times, one `touch` per palette value (Node's utimes is microseconds)
  const palette = Array.from({ length: 24 }, () => randomMtime(rng));
  setMtimes(root, b.inodes.map((rel) => [rel, b.fixedMtime.get(rel) ?? palette[rng.int(palette.length)]!] as [BPath, string]));
  // check that nanoseconds really persisted
  for (const [rel, t] of b.fixedMtime) {
    const got = fs.lstatSync(fsPath(root, rel), { bigint: true }).mtimeNs;
    if (got !== touchToNs(t)) throw new Error(`generateTree: mtime of ${rel} is ${got}, wanted ${touchToNs(t)} (ns lost?)`);
  }

  return {
    root,
    scale,
    seed,
    entries: b.entries,
    inodes: b.inodes.length,
    bigDirEntries,
    deepDepth,
    maxNameLength: nameMax,
    longestPath: b.longest,
    acl: aclOk,
    security: secOk,
    paths: {
      regular: 'types/regular',
      dir: 'types/dir',
      emptyDir: 'empty',
      symlink: 'types/symlink',
      chardev: 'types/chardev',
      chardevBig: 'types/chardev-big',
      blockdev: 'types/blockdev',
      fifo: 'types/fifo',
      socket: 'types/socket',
      whiteout: 'types/whiteout',
      hardlinks: ['hardlinks/link-1', 'hardlinks/link-2', 'types/link-3'],
      symlinkHardlinks: ['hardlinks/symlink-1', 'hardlinks/symlink-2'],
      large,
      sparse: sp,
      longSymlink1000: long1000,
      longSymlink4095: long4095,
      bigDir: 'bigdir',
      deepLeaf,
      longPathLeaf,
      sharedXattrFiles: sharedFiles,
      overlayXattrFile: overlayFile,
      overlayXattrDir: overlayDir,
      setuid,
      setgid,
      stickyDir: sticky,
      invalidUtf8Name: Buffer.from(`names/${invalidUtf8}`, 'latin1'),
    },
  };
}

/** Joins a relative UTF-8 path of TreeInfo.paths onto the root (for the odd one, use fsPath). */
export function treePath(info: TreeInfo, rel: string): string {
  return path.join(info.root, rel);
}
