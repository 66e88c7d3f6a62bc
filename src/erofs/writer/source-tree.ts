// Walks a source directory into a writer tree: lstat with nanoseconds, names as bytes (any name, valid UTF-8
// or not), symlink targets, xattrs (listxattr/getxattr through /proc/self/fd of an O_PATH descriptor, as
// libcomposefs reads them, so symlinks, fifos and sockets are never opened for real). What each entry
// becomes is the caller's choice (`makeNode`): mkcomposefs and `erofs build` want different nodes.

import * as fs from 'node:fs';
import { getxattrRaw, listxattrRaw } from '../../kernel/fsops.js';
import { ERRNO, errnoName } from '../../protocol/errno.js';
import { WNode } from './node.js';

export class SourceError extends Error {}

export interface SourceEntry {
  /** Full path (bytes). */
  path: Buffer;
  /** Path relative to the source root, for messages ('' for the root). */
  rel: string;
  st: fs.BigIntStats;
}

/** Returns the node for an entry, or undefined to leave the entry out. Directories are filled in after. */
export type MakeNode = (e: SourceEntry) => WNode | undefined;

const O_PATH = 0o10000000;
const XATTR_BUF = Buffer.alloc(65536);
const LIST_BUF = Buffer.alloc(65536);

function code(e: unknown): string {
  return (e as NodeJS.ErrnoException).code ?? (e as Error).message;
}

/** Every xattr of the entry (names in listxattr order). `filter` picks which names to read. */
export function readXattrs(e: SourceEntry, filter?: (name: string) => boolean): Array<[Uint8Array, Uint8Array]> {
  let fd: number;
  try {
    fd = fs.openSync(e.path, O_PATH | fs.constants.O_NOFOLLOW);
  } catch (err) {
    throw new SourceError(`error accessing ${e.rel || '.'}: ${code(err)}`);
  }
  try {
    const p = `/proc/self/fd/${fd}`;
    const n = listxattrRaw(p, LIST_BUF);
    if (n < 0) {
      // filesystems without xattrs say so; that is "no xattrs", not an error
      if (-n === ERRNO.EOPNOTSUPP) return [];
      throw new SourceError(`error accessing ${e.rel || '.'}: listxattr: ${errnoName(-n)}`);
    }
    const out: Array<[Uint8Array, Uint8Array]> = [];
    let start = 0;
    for (let i = 0; i < n; i++) {
      if (LIST_BUF[i] !== 0) continue;
      const raw = LIST_BUF.subarray(start, i);
      start = i + 1;
      const name = raw.toString('utf8');
      if (!Buffer.from(name).equals(raw)) throw new SourceError(`error accessing ${e.rel || '.'}: xattr name is not UTF-8`);
      if (filter && !filter(name)) continue;
      const len = getxattrRaw(p, name, XATTR_BUF);
      if (len < 0) {
        if (-len === ERRNO.ENODATA) continue; // removed meanwhile
        throw new SourceError(`error accessing ${e.rel || '.'}: getxattr ${name}: ${errnoName(-len)}`);
      }
      out.push([Uint8Array.from(raw), Uint8Array.from(XATTR_BUF.subarray(0, len))]);
    }
    return out;
  } finally {
    fs.closeSync(fd);
  }
}

export function readSymlink(e: SourceEntry): Uint8Array {
  try {
    return Uint8Array.from(fs.readlinkSync(e.path, { encoding: 'buffer' }));
  } catch (err) {
    throw new SourceError(`error accessing ${e.rel}: ${code(err)}`);
  }
}

function lstat(path: Buffer, rel: string): fs.BigIntStats {
  try {
    return fs.lstatSync(path, { bigint: true });
  } catch (err) {
    throw new SourceError(`error accessing ${rel || '.'}: ${code(err)}`);
  }
}

function join(dir: Buffer, name: Buffer): Buffer {
  return Buffer.concat([dir, Buffer.from('/'), name]);
}

/** Reads the tree under `root` (which must be a directory). */
export function readSourceTree(root: string, makeNode: MakeNode): WNode {
  const rootPath = Buffer.from(root);
  const st = lstat(rootPath, '');
  if (!st.isDirectory()) throw new SourceError(`${root} is not a directory`);
  const visit = (e: SourceEntry, node: WNode): void => {
    let names: Buffer[];
    try {
      names = fs.readdirSync(e.path, { encoding: 'buffer' });
    } catch (err) {
      throw new SourceError(`error accessing ${e.rel || '.'}: ${code(err)}`);
    }
    for (const name of names) {
      const path = join(e.path, name);
      const rel = e.rel ? `${e.rel}/${name.toString()}` : name.toString();
      const child: SourceEntry = { path, rel, st: lstat(path, rel) };
      const n = makeNode(child);
      if (!n) continue;
      n.origin = rel;
      if (!node.addChild(Uint8Array.from(name), n)) throw new SourceError(`error accessing ${rel}: duplicate name`);
      if (child.st.isDirectory()) visit(child, n);
    }
  };
  const rootEntry: SourceEntry = { path: rootPath, rel: '', st };
  const rootNode = makeNode(rootEntry);
  if (!rootNode) throw new SourceError(`${root}: the root cannot be left out`);
  rootNode.origin = '/';
  visit(rootEntry, rootNode);
  return rootNode;
}

/** The mtime of a stat as [seconds, nanoseconds] (seconds may be negative; nanoseconds never are). */
export function mtimeOf(st: fs.BigIntStats): [number, number] {
  const ns = st.mtimeNs;
  let sec = ns / 1_000_000_000n;
  let rem = ns % 1_000_000_000n;
  if (rem < 0n) {
    sec -= 1n;
    rem += 1_000_000_000n;
  }
  return [Number(sec), Number(rem)];
}

/** dev_t as EROFS stores it (32 bits: new_encode_dev, which equals glibc's encoding for majors below 4096). */
export function rdev32(st: fs.BigIntStats): number {
  return Number(st.rdev & 0xffffffffn);
}
