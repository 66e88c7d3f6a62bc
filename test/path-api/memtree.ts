// A small in-memory PathFilesystem for the path-api tests: inodes with link counts (so hardlinks share one),
// file handles that point at the inode (so an unlinked open file stays readable through its handle), and a
// log of the paths every call received. Also the factory for worker mode.

import { Errno } from '../../src/protocol/errno.js';
import { S_IFDIR, S_IFREG } from '../../src/fs/types.js';
import type { PathAttr, PathFilesystem } from '../../src/fs/path/index.js';

interface Inode {
  ino: number;
  mode: number;
  nlink: number;
  data: Buffer;
  children?: Map<string, Inode>;
}

export class MemTree implements PathFilesystem {
  private nextIno = 2;
  private readonly root: Inode = { ino: 1, mode: S_IFDIR | 0o755, nlink: 2, data: Buffer.alloc(0), children: new Map() };
  private readonly handles = new Map<number, Inode>();
  private nextFh = 10;
  /** Every call as 'op path' (path null shows as 'null'). */
  readonly calls: string[] = [];
  readonly withAttrs: boolean;

  constructor(opts: { withAttrs?: boolean } = {}) {
    this.withAttrs = opts.withAttrs ?? false;
  }

  private split(path: string): [Inode, string] {
    const parts = path.split('/').filter((p) => p !== '');
    const name = parts.pop()!;
    return [this.resolve('/' + parts.join('/')), name];
  }

  resolve(path: string): Inode {
    let n = this.root;
    for (const p of path.split('/').filter((x) => x !== '')) {
      const c = n.children?.get(p);
      if (!c) throw new Errno('ENOENT');
      n = c;
    }
    return n;
  }

  /** Names in a directory of the backing store (no kernel involved). */
  names(path: string): string[] {
    return [...(this.resolve(path).children?.keys() ?? [])].sort();
  }

  private attr(n: Inode): PathAttr {
    return { ino: n.ino, mode: n.mode, nlink: n.nlink, uid: 0, gid: 0, size: n.data.length, atime: 0, mtime: 0, ctime: 0 };
  }

  getattr(_ctx: unknown, path: string | null, fh?: number): PathAttr {
    this.calls.push(`getattr ${path}`);
    const n = path === null ? this.handles.get(fh!) : this.resolve(path);
    if (!n) throw new Errno('EBADF');
    return this.attr(n);
  }

  readdir(_ctx: unknown, path: string): (string | { name: string; attr: PathAttr })[] {
    const d = this.resolve(path);
    if (!d.children) throw new Errno('ENOTDIR');
    return [...d.children].map(([name, n]) => (this.withAttrs ? { name, attr: this.attr(n) } : name));
  }

  private add(path: string, n: Inode): void {
    const [dir, name] = this.split(path);
    if (dir.children!.has(name)) throw new Errno('EEXIST');
    dir.children!.set(name, n);
  }

  mkdir(_ctx: unknown, path: string, mode: number): void {
    this.add(path, { ino: this.nextIno++, mode: S_IFDIR | (mode & 0o7777), nlink: 2, data: Buffer.alloc(0), children: new Map() });
  }

  create(_ctx: unknown, path: string, mode: number): { fh: number } {
    this.calls.push(`create ${path}`);
    const n: Inode = { ino: this.nextIno++, mode: S_IFREG | (mode & 0o7777), nlink: 1, data: Buffer.alloc(0) };
    this.add(path, n);
    const fh = this.nextFh++;
    this.handles.set(fh, n);
    return { fh };
  }

  open(_ctx: unknown, path: string): { fh: number } {
    this.calls.push(`open ${path}`);
    const fh = this.nextFh++;
    this.handles.set(fh, this.resolve(path));
    return { fh };
  }

  read(_ctx: unknown, path: string | null, fh: number, offset: number, size: number): Uint8Array {
    this.calls.push(`read ${path}`);
    const n = this.handles.get(fh);
    if (!n) throw new Errno('EBADF');
    return n.data.subarray(offset, offset + size);
  }

  write(_ctx: unknown, path: string | null, fh: number, offset: number, data: Uint8Array): number {
    this.calls.push(`write ${path}`);
    const n = this.handles.get(fh)!;
    const end = offset + data.length;
    if (end > n.data.length) n.data = Buffer.concat([n.data, Buffer.alloc(end - n.data.length)]);
    n.data.set(data, offset);
    return data.length;
  }

  truncate(_ctx: unknown, path: string | null, size: number, fh?: number): void {
    const n = path === null ? this.handles.get(fh!)! : this.resolve(path);
    n.data = Buffer.concat([n.data.subarray(0, size), Buffer.alloc(Math.max(0, size - n.data.length))]);
  }

  release(_ctx: unknown, path: string | null, fh: number): void {
    this.calls.push(`release ${path}`);
    this.handles.delete(fh);
  }

  unlink(_ctx: unknown, path: string): void {
    this.calls.push(`unlink ${path}`);
    const [dir, name] = this.split(path);
    const n = dir.children!.get(name);
    if (!n) throw new Errno('ENOENT');
    dir.children!.delete(name);
    n.nlink--;
  }

  rmdir(_ctx: unknown, path: string): void {
    const [dir, name] = this.split(path);
    const n = dir.children!.get(name);
    if (!n) throw new Errno('ENOENT');
    if (n.children!.size) throw new Errno('ENOTEMPTY');
    dir.children!.delete(name);
  }

  rename(_ctx: unknown, from: string, to: string): void {
    this.calls.push(`rename ${from} ${to}`);
    const [sd, sn] = this.split(from);
    const [dd, dn] = this.split(to);
    const n = sd.children!.get(sn);
    if (!n) throw new Errno('ENOENT');
    const old = dd.children!.get(dn);
    if (old) old.nlink--;
    sd.children!.delete(sn);
    dd.children!.set(dn, n);
  }

  link(_ctx: unknown, existing: string, path: string): void {
    const n = this.resolve(existing);
    this.add(path, n);
    n.nlink++;
  }
}

/** Worker mode factory. */
export function createFilesystem(opts?: { withAttrs?: boolean; files?: Record<string, string> }): MemTree {
  const t = new MemTree(opts);
  for (const [name, text] of Object.entries(opts?.files ?? {})) {
    const { fh } = t.create(undefined, '/' + name, 0o644);
    t.write(undefined, '/' + name, fh, 0, Buffer.from(text));
    t.release(undefined, '/' + name, fh);
  }
  return t;
}
