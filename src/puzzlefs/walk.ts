// The builder's walk of a source tree, in the reference builder's order: directories depth first, each
// directory's entries sorted by name bytes; inode numbers are handed out when a directory's entries are
// listed (root = 1, then 2, 3, ... or the base image's number for a path it already has), and regular files
// join the content stream in that same order. Hard links (same host dev:ino) share one inode.

import * as fs from 'node:fs';
import * as path from 'node:path';
import type { ImageInode, PuzzleImage } from './image.js';
import { ROOT_INO } from './image.js';
import type { InodeKind, PuzzleInode } from './schema.js';
import { readXattrs } from './source-xattrs.js';

export interface SourceNode extends Pick<PuzzleInode, 'ino' | 'kind' | 'uid' | 'gid' | 'permissions' | 'major' | 'minor' | 'xattrs' | 'entries'> {
  /** Absolute path (bytes). */
  path: Buffer;
  size: number;
  symlinkTarget: Buffer | null;
  /** The base image's inode at the same path with the same number, if any. */
  base: ImageInode | null;
}

export interface WalkResult {
  /** Every inode, in the order found (root first). */
  nodes: SourceNode[];
  /** Regular files in content-stream order. */
  files: SourceNode[];
  /** Inode numbers in use. */
  claimed: Set<number>;
}

function kindOf(st: fs.BigIntStats): InodeKind {
  if (st.isFile()) return 'file';
  if (st.isDirectory()) return 'dir';
  if (st.isSymbolicLink()) return 'lnk';
  if (st.isCharacterDevice()) return 'chr';
  if (st.isBlockDevice()) return 'blk';
  if (st.isFIFO()) return 'fifo';
  if (st.isSocket()) return 'sock';
  return 'unknown';
}

function nodeOf(ino: number, p: Buffer, st: fs.BigIntStats, base: ImageInode | null): SourceNode {
  const kind = kindOf(st);
  const rdev = st.rdev;
  return {
    ino, path: p, kind, uid: Number(st.uid), gid: Number(st.gid), permissions: Number(st.mode & 0o7777n),
    // glibc's dev_t encoding
    major: Number(((rdev >> 8n) & 0xfffn) | ((rdev >> 32n) & ~0xfffn)),
    minor: Number((rdev & 0xffn) | ((rdev >> 12n) & ~0xffn)),
    size: kind === 'file' ? Number(st.size) : 0,
    xattrs: readXattrs(p),
    symlinkTarget: kind === 'lnk' ? (fs.readlinkSync(p, { encoding: 'buffer' }) as Buffer) : null,
    entries: [],
    base,
  };
}

/** Byte name -> ino of a base directory's visible entries. */
function baseNames(d: ImageInode | null): Map<string, number> | undefined {
  if (!d || d.kind !== 'dir') return undefined;
  const m = new Map<string, number>();
  for (const e of d.visible) m.set(Buffer.from(e.name).toString('latin1'), e.ino);
  return m;
}

export function walkSource(source: string, base: PuzzleImage | null, firstFreeIno: number): WalkResult {
  const nodes: SourceNode[] = [];
  const files: SourceNode[] = [];
  const claimed = new Set<number>([ROOT_INO]);
  const hostToIno = new Map<string, number>();
  let next = firstFreeIno;
  const rootPath = Buffer.from(path.resolve(source));
  const baseRoot = base?.inode(ROOT_INO) ?? null;
  const root = nodeOf(ROOT_INO, rootPath, fs.lstatSync(rootPath, { bigint: true }), baseRoot);
  if (root.kind !== 'dir') throw new Error(`${source} is not a directory`);
  nodes.push(root);

  const visit = (dir: SourceNode, baseDir: ImageInode | null): void => {
    const names = (fs.readdirSync(dir.path, { encoding: 'buffer' }) as Buffer[]).sort(Buffer.compare);
    const inBase = baseNames(baseDir);
    const subdirs: [SourceNode, ImageInode | null][] = [];
    for (const name of names) {
      const p = Buffer.concat([dir.path, Buffer.from('/'), name]);
      const st = fs.lstatSync(p, { bigint: true });
      const host = `${st.dev}:${st.ino}`;
      const linked = !st.isDirectory() ? hostToIno.get(host) : undefined;
      if (linked !== undefined) {
        dir.entries.push({ ino: linked, name });
        continue;
      }
      let ino = inBase?.get(name.toString('latin1'));
      const baseNode = ino !== undefined && !claimed.has(ino) ? base!.inode(ino) : null;
      if (ino === undefined || claimed.has(ino)) ino = next++;
      claimed.add(ino);
      if (!st.isDirectory()) hostToIno.set(host, ino);
      const node = nodeOf(ino, p, st, baseNode);
      nodes.push(node);
      dir.entries.push({ ino, name });
      if (node.kind === 'dir') subdirs.push([node, baseNode]);
      else if (node.kind === 'file') files.push(node);
    }
    for (const [d, b] of subdirs) visit(d, b);
  };
  visit(root, baseRoot);
  return { nodes, files, claimed };
}
