// The writer's in-memory tree: one WNode per name (a hardlink is a node whose linkTo names its target), with
// children kept sorted by name bytes as they are added (the order EROFS directories need, and libcomposefs'
// lcfs_node_add_child keeps). File content is never held here for real files: `data` says where it comes from.

import { bytesEqual, compareBytes } from '../reader/bytes.js';
import * as F from '../reader/format.js';
import type { CompressedFile, Spill } from './compress-file.js';

export interface WXattr {
  /** Full name, e.g. "user.comment" (C-string semantics: no NUL). */
  key: Uint8Array;
  value: Uint8Array;
  /** Byte offset in the shared xattr area, or -1 when stored inline (set by the layout). */
  sharedOffset: number;
}

/** Where a regular file's bytes come from. */
export type FileData =
  /** Small content held in memory (composefs inline files, at most 5000 bytes). */
  | { kind: 'content'; bytes: Uint8Array }
  /** A file on disk, copied into the image block by block when it is written. */
  | { kind: 'file'; path: Buffer }
  /** A composefs metacopy stub: chunk-based with every chunk a hole, content in the object store. */
  | { kind: 'stub' }
  /** A file on disk stored chunk-based: chunks of zeros become holes (NULL_ADDR). */
  | { kind: 'chunked'; path: Buffer; chunkBits: number }
  /** A file on disk compressed into one-block pclusters, already written to a spill file (compress-file.ts). */
  | { kind: 'compressed'; path: Buffer; spill: Spill; file: CompressedFile };

export class WNode {
  name: Uint8Array | undefined;
  parent: WNode | undefined;
  children: WNode[] = [];
  /** Set for hardlinks (and the "." / ".." entries): the dirent points at the target's inode. */
  linkTo: WNode | undefined;

  mode = 0;
  uid = 0;
  gid = 0;
  nlink = 1;
  rdev = 0;
  size = 0;
  mtimeSec = 0;
  mtimeNsec = 0;
  /** Symlink target, or for composefs regular files the object path (redirect). */
  payload: Uint8Array | undefined;
  data: FileData | undefined;
  digest: Uint8Array | undefined;
  xattrs: WXattr[] = [];
  /** Where the node came from, for error messages. */
  origin = '';

  // ---- set by the layout (layout.ts)
  next: WNode | undefined;
  inodeNum = 0;
  compact = false;
  ipad = 0;
  xattrSize = 0;
  isize = 0;
  nid = 0;
  nBlocks = 0;
  tailSize = 0;
  /** First data block (raw_blkaddr) when nBlocks > 0. */
  blkaddr = 0;
  /** chunked files: the block of each chunk, NULL_ADDR for holes. */
  chunkMap: number[] | undefined;

  get type(): number {
    return this.mode & F.S_IFMT;
  }

  isDir(): boolean {
    return (this.mode & F.S_IFMT) === F.S_IFDIR;
  }

  /** The node a dirent for this name points at (hardlinks followed; a cycle is an error). */
  target(): WNode {
    let n: WNode = this;
    while (n.linkTo) {
      n = n.linkTo;
      if (n === this) throw new Error(`hardlink cycle at ${this.origin || 'a node'}`);
    }
    return n;
  }

  /** Binary search for a child by name: [index, found]. */
  private find(name: Uint8Array): [number, boolean] {
    let lo = 0;
    let hi = this.children.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      const c = compareBytes(name, this.children[mid]!.name!);
      if (c === 0) return [mid, true];
      if (c < 0) hi = mid;
      else lo = mid + 1;
    }
    return [lo, false];
  }

  lookup(name: Uint8Array): WNode | undefined {
    const [i, found] = this.find(name);
    return found ? this.children[i] : undefined;
  }

  /** Adds `child` under `name`; returns false when the name is taken. */
  addChild(name: Uint8Array, child: WNode): boolean {
    // children usually arrive sorted: check the end first, as libcomposefs does
    const last = this.children[this.children.length - 1];
    let at: number;
    if (!last || compareBytes(name, last.name!) > 0) at = this.children.length;
    else {
      const [i, found] = this.find(name);
      if (found) return false;
      at = i;
    }
    child.name = name;
    child.parent = this;
    this.children.splice(at, 0, child);
    return true;
  }

  xattrIndex(key: Uint8Array): number {
    for (let i = 0; i < this.xattrs.length; i++) if (bytesEqual(this.xattrs[i]!.key, key)) return i;
    return -1;
  }

  getXattr(key: Uint8Array): Uint8Array | undefined {
    const i = this.xattrIndex(key);
    return i < 0 ? undefined : this.xattrs[i]!.value;
  }

  /** Sets (replacing) an xattr. Removal swaps the last entry in, as libcomposefs does; order is fixed later. */
  setXattr(key: Uint8Array, value: Uint8Array): void {
    const i = this.xattrIndex(key);
    if (i >= 0) {
      const last = this.xattrs.pop()!;
      if (i < this.xattrs.length) this.xattrs[i] = last;
    }
    this.xattrs.push({ key, value, sharedOffset: -1 });
  }
}

const enc = new TextEncoder();
export const bytes = (s: string): Uint8Array => enc.encode(s);

export function startsWith(b: Uint8Array, prefix: Uint8Array): boolean {
  if (b.length < prefix.length) return false;
  for (let i = 0; i < prefix.length; i++) if (b[i] !== prefix[i]) return false;
  return true;
}

export function concatBytes(...parts: Uint8Array[]): Uint8Array {
  let n = 0;
  for (const p of parts) n += p.length;
  const out = new Uint8Array(n);
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}
