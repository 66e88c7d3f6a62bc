// hello: a tiny read-only filesystem built from a table of paths, the shortest useful example of the
// low-level (inode number) Filesystem API. Everything is synchronous, so every reply takes the fast path.
//
//   const session = await Session.mount(createFilesystem(), { mountpoint: '/mnt/hello' }); // embedded mode
//
// or in worker mode (each worker builds its own copy through the factory):
//
//   await Session.mount({ module: '/path/to/dist/src/fs/hello.js' }, { mountpoint: '/mnt/hello' });

import { FUSE_ROOT_ID } from '../protocol/abi.js';
import { Errno } from '../protocol/errno.js';
import { O_ACCMODE } from '../protocol/posix.js';
import { S_IFDIR, S_IFREG } from './types.js';
import type { Attr, DirentPlusSink, DirentSink, Entry, Filesystem, OpenReply, RequestContext } from './types.js';

export interface HelloOptions {
  /** Path -> content; directories are made for the slashes. Default: /hello.txt and /dir/{a,b}. */
  files?: Record<string, string>;
  /** Owner of everything; default 0:0. */
  uid?: number;
  gid?: number;
  /** mtime/ctime/atime of everything, in seconds (the same in every worker); default 2024-01-01. */
  mtime?: number;
}

export const DEFAULT_FILES: Readonly<Record<string, string>> = {
  'hello.txt': 'Hello, world!\n',
  'dir/a': 'This is a.\n',
  'dir/b': 'And this is b.\n',
};

const ROOT = FUSE_ROOT_ID;

interface Node {
  attr: Attr;
  parent: number;
  data?: Buffer;
  children?: Map<string, number>;
}

export class HelloFs implements Filesystem {
  private readonly nodes: Node[] = [];

  constructor(opts: HelloOptions = {}) {
    const t = opts.mtime ?? 1704067200;
    const make = (parent: number, mode: number, data?: Buffer): number => {
      const ino = this.nodes.length + 1; // inode numbers follow the table order, so every worker agrees
      const attr: Attr = { ino, mode, nlink: data ? 1 : 2, uid: opts.uid ?? 0, gid: opts.gid ?? 0, size: data?.length ?? 0, atime: t, mtime: t, ctime: t };
      this.nodes.push(data ? { attr, parent, data } : { attr, parent, children: new Map() });
      return ino;
    };
    make(ROOT, S_IFDIR | 0o555);
    for (const [path, content] of Object.entries(opts.files ?? DEFAULT_FILES)) {
      const parts = path.split('/').filter((p) => p !== '');
      let dir = ROOT;
      parts.forEach((name, i) => {
        const children = this.node(dir).children!;
        let ino = children.get(name);
        if (ino === undefined) {
          const last = i === parts.length - 1;
          ino = last ? make(dir, S_IFREG | 0o444, Buffer.from(content)) : make(dir, S_IFDIR | 0o555);
          children.set(name, ino);
          if (!last) this.node(dir).attr.nlink++;
        }
        dir = ino;
      });
    }
  }

  private node(ino: number): Node {
    const n = this.nodes[ino - 1];
    if (!n) throw new Errno('ENOENT');
    return n;
  }

  private entry(ino: number): Entry {
    return { ino, attr: this.node(ino).attr };
  }

  lookup(_ctx: RequestContext, parent: number, name: string): Entry {
    const ino = this.node(parent).children?.get(name);
    if (ino === undefined) throw new Errno('ENOENT');
    return this.entry(ino);
  }

  getattr(_ctx: RequestContext, ino: number): Attr {
    return this.node(ino).attr;
  }

  open(_ctx: RequestContext, ino: number, flags: number): OpenReply {
    if ((flags & O_ACCMODE) !== 0) throw new Errno('EROFS');
    if (!this.node(ino).data) throw new Errno('EISDIR');
    return {};
  }

  read(_ctx: RequestContext, ino: number, _fh: number, offset: number, size: number): Uint8Array {
    return this.node(ino).data!.subarray(offset, offset + size);
  }

  /** ".", "..", then the children; the offset of an entry's successor is its position + 1. */
  private list(ino: number): [string, number][] {
    const n = this.node(ino);
    if (!n.children) throw new Errno('ENOTDIR');
    return [['.', ino], ['..', n.parent], ...n.children];
  }

  readdir(_ctx: RequestContext, ino: number, _fh: number, offset: number, out: DirentSink): void {
    const all = this.list(ino);
    for (let i = offset; i < all.length; i++) {
      const [name, child] = all[i]!;
      if (!out.add(child, name, this.node(child).attr.mode, i + 1)) break;
    }
  }

  readdirplus(_ctx: RequestContext, ino: number, _fh: number, offset: number, out: DirentPlusSink): void {
    const all = this.list(ino);
    for (let i = offset; i < all.length; i++) {
      const [name, child] = all[i]!;
      if (!out.add(name, this.entry(child), i + 1)) break;
    }
  }
}

/** The factory worker mode calls: `{ module: '.../fs/hello.js' }` finds it by this name. */
export function createFilesystem(options?: HelloOptions): HelloFs {
  return new HelloFs(options);
}
