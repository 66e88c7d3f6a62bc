// Paths for the image server's log lines, found only when a line is written. The request path records numbers
// only: the directory an inode was first looked up in, and the last few directories listed with READDIRPLUS
// (which hands the kernel inodes it never LOOKUPs; a map probe per listed entry would cost more than it saves).

import { decodeName } from '../protocol/names.js';
import type { ErofsInode } from './reader/inode.js';
import type { ErofsReader } from './reader/reader.js';

/** Listed directories searched for an inode whose parent was never seen in a LOOKUP. */
const MAX_LISTED = 64;
/**
 * Inodes whose parent is remembered. A Map of numbers costs ~28 bytes an entry once its table has grown, in
 * every worker: at 10^6 (the bound before) that was ~29 MiB a worker on a big enough image, and ~3.6 MiB on
 * /usr, where the rest of a worker's heap is ~10 MiB. When full it starts again: the inodes looked up lately,
 * the ones a failing request most likely names, are the ones kept; an older path is logged by its known tail.
 */
export const MAX_PARENTS = 32768;

export class LogPaths {
  private readonly parents = new Map<number, number>();
  /** Oldest first. */
  private readonly listed = new Set<number>();

  constructor(
    private readonly reader: ErofsReader,
    private readonly nidOf: (ino: number) => number,
  ) {}

  /** `ino` was found in directory `parent` by a LOOKUP. */
  looked(ino: number, parent: number): void {
    if (ino === 1 || this.parents.has(ino)) return;
    if (this.parents.size >= MAX_PARENTS) this.parents.clear();
    this.parents.set(ino, parent);
  }

  /** How many inodes' parents are remembered now (at most MAX_PARENTS). */
  get remembered(): number {
    return this.parents.size;
  }

  /** Directory `dirIno` was listed with attributes (READDIRPLUS). */
  listedDir(dirIno: number): void {
    const l = this.listed;
    if (l.has(dirIno)) l.delete(dirIno);
    else if (l.size >= MAX_LISTED) l.delete(l.values().next().value as number);
    l.add(dirIno);
  }

  /** "/a/b", or "inode N (…/known/tail)" when the chain up to the root is not known. */
  pathOf(ino: number): string {
    const parts: string[] = [];
    let cur = ino;
    for (let i = 0; i < 256 && cur !== 1; i++) {
      const parent = this.parents.get(cur) ?? this.listedParentOf(cur);
      const name = parent === undefined ? undefined : this.nameIn(parent, cur);
      if (parent === undefined || name === undefined) return `inode ${ino}${parts.length ? ` (…/${parts.reverse().join('/')})` : ''}`;
      parts.push(name);
      cur = parent;
    }
    return '/' + parts.reverse().join('/');
  }

  /** The name of `ino` in directory `parent` (a scan of the directory), if readable. */
  private nameIn(parent: number, ino: number): string | undefined {
    try {
      const nid = this.nidOf(ino);
      const dir: ErofsInode = this.reader.inode(this.nidOf(parent));
      for (const e of this.reader.entries(dir)) {
        if (e.nid !== nid || (e.name.length <= 2 && e.name.every((c) => c === 0x2e))) continue; // not . or ..
        return decodeName(Buffer.from(e.name.buffer, e.name.byteOffset, e.name.length), 0, e.name.length);
      }
      return undefined;
    } catch {
      return undefined; // the directory itself is what is broken
    }
  }

  private listedParentOf(ino: number): number | undefined {
    const dirs = [...this.listed].reverse();
    for (const d of dirs) if (d !== ino && this.nameIn(d, ino) !== undefined) return d;
    return undefined;
  }
}
