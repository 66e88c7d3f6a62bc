// Test helpers: mount an image with the kernel's EROFS driver (the oracle) and describe a tree the same way
// from the kernel mount and from the reader API (test/helpers/tree-dump.ts entries), so two walks can be
// compared entry by entry in the tests' one dump format.

import * as path from 'node:path';
import { ErofsReader } from '../../../src/erofs/reader/reader.js';
import type { ErofsInode } from '../../../src/erofs/reader/inode.js';
import { EROFS_FIXTURES } from '../../helpers/fixtures.js';
import { withKernelMountSync as withKernelMount } from '../../helpers/kernel-mount.js';
import { type BPath, bJoin } from '../../helpers/bytes.js';
import {
  type DumpEntry, type DumpItem, type DumpOptions, diffTrees, kernelDevToGlibc, sha256Hex, typeName, walkTree,
} from '../../helpers/tree-dump.js';

/** Mounts `image` read-only at a temporary directory for the duration of `fn`. */
export { withKernelMount };

export const FIXTURES = process.env.TSFUSE_EROFS_FIXTURES ?? EROFS_FIXTURES;

/** A tree as any walker sees it (kernel mount, reader API, Filesystem API), in the tests' one dump format. */
export type Tree = DumpItem[];

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

/** The tree as the kernel shows it under `root` (root included). */
export function kernelTree(root: string): Tree {
  return walkTree(root).items;
}

/** The same description built through the reader API only. */
export function readerTree(reader: ErofsReader): Tree {
  const items: Tree = [];
  const visit = (ino: ErofsInode, rel: BPath): void => {
    const type = typeName(ino.mode);
    const e: DumpEntry = {
      path: rel,
      mode: ino.mode,
      uid: ino.uid,
      gid: ino.gid,
      size: ino.size,
      nlink: ino.nlink,
      mtimeNs: BigInt(ino.mtime) * 1_000_000_000n + BigInt(ino.mtimeNsec),
      rdev: type === 'chr' || type === 'blk' ? kernelDevToGlibc(ino.rdev) : 0,
      xattrs: reader.listXattrNames(ino).map((n) => [Buffer.from(n).toString('latin1'), Buffer.from(reader.getXattr(ino, n)!)]),
    };
    if (type === 'reg') e.sha256 = sha256Hex(reader.read(ino, 0, ino.size));
    if (type === 'lnk') e.target = reader.readlink(ino);
    items.push(e);
    if (type !== 'dir') return;
    for (const d of reader.entries(ino)) {
      const name = Buffer.from(d.name).toString('latin1');
      if (name === '.' || name === '..') continue;
      visit(reader.inode(d.nid), bJoin(rel, name));
    }
  };
  visit(reader.root(), '');
  return items;
}

/** Two views of one image agree on directory sizes too: '' when equal, else a readable diff. */
export function diffViews(expected: Tree, actual: Tree, opts: DumpOptions = {}): string {
  return diffTrees(expected, actual, { dirSize: true, ...opts }, ['expected', 'actual']);
}

export function openFixture(name: string): ErofsReader {
  return ErofsReader.open(path.join(FIXTURES, name));
}
