// Test helpers: mount an image with the kernel's EROFS driver (the oracle) and describe a tree the same way
// from the kernel mount and from the reader API, so two walks can be compared entry by entry.

import { execFileSync } from 'node:child_process';
import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { ErofsReader } from '../../../src/erofs/reader/reader.js';
import type { ErofsInode } from '../../../src/erofs/reader/inode.js';
import { EROFS_FIXTURES } from '../../helpers/fixtures.js';
import { withKernelMountSync as withKernelMount } from '../../helpers/kernel-mount.js';

/** Mounts `image` read-only at a temporary directory for the duration of `fn`. */
export { withKernelMount };

export const FIXTURES = process.env.TSFUSE_EROFS_FIXTURES ?? EROFS_FIXTURES;

export interface TreeEntry {
  type: string;
  mode: number;
  uid: number;
  gid: number;
  size: number;
  nlink: number;
  mtimeNs: bigint;
  rdev: number;
  target?: string;
  xattrs: string[];
  sha256?: string;
}

export type Tree = Map<string, TreeEntry>;

const TYPES: Record<number, string> = {
  0o140000: 'sock', 0o120000: 'link', 0o100000: 'file', 0o060000: 'blk', 0o040000: 'dir', 0o020000: 'chr', 0o010000: 'fifo',
};

export function typeName(mode: number): string {
  return TYPES[mode & 0o170000] ?? `?${(mode & 0o170000).toString(8)}`;
}

let mountable: boolean | undefined;
/** Whether this process can mount EROFS images (root, erofs module, loop devices). */
export function canMount(): boolean {
  if (mountable !== undefined) return mountable;
  mountable = false;
  if (process.getuid?.() !== 0) return false;
  try {
    withKernelMount(path.join(FIXTURES, 'plain.erofs'), () => undefined);
    mountable = true;
  } catch {
    mountable = false;
  }
  return mountable;
}

function sha(b: Uint8Array): string {
  return crypto.createHash('sha256').update(b).digest('hex');
}

function xattrMap(root: string): Map<string, string[]> {
  const out = new Map<string, string[]>();
  const txt = execFileSync('getfattr', ['-h', '-d', '-m', '-', '-e', 'hex', '--absolute-names', '-R', root], {
    encoding: 'latin1',
    maxBuffer: 1 << 28,
  });
  let cur: string | undefined;
  for (const line of txt.split('\n')) {
    if (line.startsWith('# file: ')) {
      cur = Buffer.from(line.slice(8), 'latin1').toString();
      out.set(cur, []);
    } else if (line && cur) {
      const i = line.indexOf('=');
      out.get(cur)!.push(`${Buffer.from(line.slice(0, i), 'latin1').toString()}=${line.slice(i + 3)}`);
    }
  }
  return out;
}

/** The tree as the kernel shows it under `root` (paths relative, starting with '/'). */
export function kernelTree(root: string): Tree {
  const xa = xattrMap(root);
  const tree: Tree = new Map();
  const walk = (dir: string, rel: string) => {
    for (const nameBuf of fs.readdirSync(dir, { encoding: 'buffer' })) {
      const name = nameBuf.toString();
      const p = path.join(dir, name);
      const st = fs.lstatSync(p, { bigint: true });
      const mode = Number(st.mode);
      const e: TreeEntry = {
        type: typeName(mode),
        mode,
        uid: Number(st.uid),
        gid: Number(st.gid),
        size: Number(st.size),
        nlink: Number(st.nlink),
        mtimeNs: st.mtimeNs,
        rdev: Number(st.rdev),
        xattrs: (xa.get(p) ?? []).sort(),
      };
      if (e.type === 'file') e.sha256 = sha(fs.readFileSync(p));
      if (e.type === 'link') e.target = fs.readlinkSync(p, 'utf8');
      const r = `${rel}/${name}`;
      tree.set(r, e);
      if (e.type === 'dir') walk(p, r);
    }
  };
  walk(root, '');
  return tree;
}

/** Linux new_decode_dev, to compare st_rdev with the raw on-disk device number. */
export function decodeDev(raw: number): number {
  const major = (raw & 0xfff00) >>> 8;
  const minor = (raw & 0xff) | ((raw >>> 12) & 0xfff00);
  // glibc's makedev, as Node reports st_rdev
  return Number((BigInt(major & 0xfff) << 8n) | BigInt(minor & 0xff) | (BigInt(minor & ~0xff) << 12n) | (BigInt(major & ~0xfff) << 32n));
}

/** The same description built through the reader API only. */
export function readerTree(reader: ErofsReader): Tree {
  const tree: Tree = new Map();
  const dec = new TextDecoder();
  const walk = (dir: ErofsInode, rel: string) => {
    for (const e of reader.entries(dir)) {
      const name = dec.decode(e.name);
      if (name === '.' || name === '..') continue;
      const ino = reader.inode(e.nid);
      const te: TreeEntry = {
        type: typeName(ino.mode),
        mode: ino.mode,
        uid: ino.uid,
        gid: ino.gid,
        size: ino.size,
        nlink: ino.nlink,
        mtimeNs: BigInt(ino.mtime) * 1_000_000_000n + BigInt(ino.mtimeNsec),
        rdev: te_rdev(ino),
        xattrs: reader
          .listXattrNames(ino)
          .map((n) => `${dec.decode(n)}=${Buffer.from(reader.getXattr(ino, n)!).toString('hex')}`)
          .sort(),
      };
      if (te.type === 'file') te.sha256 = sha(reader.read(ino, 0, ino.size));
      if (te.type === 'link') te.target = dec.decode(reader.readlink(ino));
      const r = `${rel}/${name}`;
      tree.set(r, te);
      if (te.type === 'dir') walk(ino, r);
    }
  };
  walk(reader.root(), '');
  return tree;
}

function te_rdev(ino: ErofsInode): number {
  const t = ino.mode & 0o170000;
  return t === 0o020000 || t === 0o060000 ? decodeDev(ino.rdev) : 0;
}

/** Differences between two trees, as readable lines (empty = equal). */
export function diffTrees(expected: Tree, actual: Tree, options: { ignoreSha?: (p: string, e: TreeEntry) => boolean } = {}): string[] {
  const out: string[] = [];
  for (const [p, e] of expected) {
    const a = actual.get(p);
    if (!a) {
      out.push(`missing ${p}`);
      continue;
    }
    for (const k of ['type', 'mode', 'uid', 'gid', 'size', 'nlink', 'mtimeNs', 'rdev', 'target'] as const) {
      if (e[k] !== a[k]) out.push(`${p}: ${k} ${String(e[k])} != ${String(a[k])}`);
    }
    if (e.xattrs.join('\n') !== a.xattrs.join('\n')) out.push(`${p}: xattrs ${e.xattrs.join(',')} != ${a.xattrs.join(',')}`);
    if (e.sha256 !== a.sha256 && !(options.ignoreSha?.(p, a) ?? false)) out.push(`${p}: sha256 ${e.sha256} != ${a.sha256}`);
  }
  for (const p of actual.keys()) if (!expected.has(p)) out.push(`extra ${p}`);
  return out;
}

export function openFixture(name: string): ErofsReader {
  return ErofsReader.open(path.join(FIXTURES, name));
}
