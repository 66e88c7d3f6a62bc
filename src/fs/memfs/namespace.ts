// memfs namespace operations: LOOKUP, FORGET, MKNOD, MKDIR, SYMLINK, READLINK, LINK, UNLINK, RMDIR, RENAME.

import { Errno } from '../../protocol/errno.js';
import { PATH_MAX, RENAME_EXCHANGE, RENAME_NOREPLACE } from '../../protocol/posix.js';
import {
  S_IFBLK, S_IFCHR, S_IFDIR, S_IFIFO, S_IFLNK, S_IFMT, S_IFREG, S_IFSOCK, type Entry, type RequestContext,
} from '../types.js';
import { checkName, checkNameLength, isDotName } from './node.js';
import type { MemStore } from './store.js';

export function lookup(s: MemStore, _ctx: RequestContext, parent: number, name: string): Entry {
  const dir = s.dirNode(parent);
  if (name === '.') return s.entryOf(dir);
  if (name === '..') return s.entryOf(s.node(dir.parent));
  checkNameLength(name);
  const ent = dir.dir!.get(name);
  const n = ent && s.nodes.get(ent.ino);
  if (!n) return s.missing();
  return s.entryOf(n);
}

export function forget(s: MemStore, ino: number, nlookup: number): void {
  const n = s.nodes.get(ino);
  if (!n) return;
  n.lookups = Math.max(0, n.lookups - nlookup);
  s.maybeFree(n);
}

export function mknod(s: MemStore, ctx: RequestContext, parent: number, name: string, mode: number, rdev: number, umask: number): Entry {
  let type = mode & S_IFMT;
  if (type === 0) type = S_IFREG;
  if (type === S_IFDIR) throw new Errno('EPERM');
  if (type !== S_IFREG && type !== S_IFIFO && type !== S_IFCHR && type !== S_IFBLK && type !== S_IFSOCK) {
    throw new Errno('EINVAL');
  }
  const p = s.prepareCreate(parent, name);
  const n = s.newNode(ctx, p, name, type | (mode & 0o7777 & ~umask));
  if (type === S_IFCHR || type === S_IFBLK) n.rdev = rdev;
  return s.entryOf(n);
}

export function mkdir(s: MemStore, ctx: RequestContext, parent: number, name: string, mode: number, umask: number): Entry {
  const p = s.prepareCreate(parent, name);
  const n = s.newNode(ctx, p, name, S_IFDIR | (mode & 0o1777 & ~umask));
  return s.entryOf(n);
}

export function symlink(s: MemStore, ctx: RequestContext, parent: number, name: string, target: string): Entry {
  const t = Buffer.from(target, 'utf8');
  if (t.length === 0) throw new Errno('ENOENT');
  if (t.length >= PATH_MAX) throw new Errno('ENAMETOOLONG');
  const p = s.prepareCreate(parent, name);
  const n = s.newNode(ctx, p, name, S_IFLNK | 0o777);
  n.target = t;
  n.size = t.length;
  return s.entryOf(n);
}

export function readlink(s: MemStore, _ctx: RequestContext, ino: number): Uint8Array {
  const n = s.node(ino);
  if (!n.target) throw new Errno('EINVAL');
  s.touchAtime(n);
  return n.target;
}

export function link(s: MemStore, _ctx: RequestContext, ino: number, newParent: number, newName: string): Entry {
  const n = s.node(ino);
  if (n.isDir) throw new Errno('EPERM');
  const p = s.prepareCreate(newParent, newName);
  if (p.nlink === 0) throw new Errno('ENOENT');
  if (n.nlink === 0 && !n.linkable) throw new Errno('ENOENT');
  const now = s.clock.now();
  p.dir!.add(newName, n.ino);
  n.nlink++;
  n.linkable = false;
  n.ctime = now;
  s.touchDir(p, now);
  return s.entryOf(n);
}

export function unlink(s: MemStore, _ctx: RequestContext, parent: number, name: string): void {
  const p = s.dirNode(parent);
  if (isDotName(name)) throw new Errno('EISDIR');
  const ent = p.dir!.get(name);
  if (!ent) throw new Errno('ENOENT');
  const n = s.node(ent.ino);
  if (n.isDir) throw new Errno('EISDIR');
  const now = s.clock.now();
  p.dir!.remove(name);
  s.touchDir(p, now);
  n.nlink--;
  n.ctime = now;
  s.maybeFree(n);
}

export function rmdir(s: MemStore, _ctx: RequestContext, parent: number, name: string): void {
  const p = s.dirNode(parent);
  if (name === '.') throw new Errno('EINVAL');
  if (name === '..') throw new Errno('ENOTEMPTY');
  const ent = p.dir!.get(name);
  if (!ent) throw new Errno('ENOENT');
  const n = s.node(ent.ino);
  if (!n.isDir) throw new Errno('ENOTDIR');
  if (n.dir!.size > 0) throw new Errno('ENOTEMPTY');
  const now = s.clock.now();
  p.dir!.remove(name);
  p.nlink--;
  s.touchDir(p, now);
  n.nlink = 0;
  n.ctime = now;
  s.maybeFree(n);
}

export function rename(s: MemStore, _ctx: RequestContext, parent: number, name: string, newParent: number, newName: string, flags: number): void {
  if (flags & ~(RENAME_NOREPLACE | RENAME_EXCHANGE)) throw new Errno('EINVAL');
  if ((flags & RENAME_NOREPLACE) && (flags & RENAME_EXCHANGE)) throw new Errno('EINVAL');
  const op = s.dirNode(parent);
  const np = s.dirNode(newParent);
  if (isDotName(name) || isDotName(newName)) throw new Errno(flags & RENAME_NOREPLACE ? 'EEXIST' : 'EBUSY');
  checkName(newName);
  const srcEnt = op.dir!.get(name);
  if (!srcEnt) throw new Errno('ENOENT');
  const src = s.node(srcEnt.ino);
  const dstEnt = np.dir!.get(newName);
  const dst = dstEnt ? s.node(dstEnt.ino) : undefined;
  const now = s.clock.now();

  if (flags & RENAME_EXCHANGE) {
    if (!dst) throw new Errno('ENOENT');
    if (src === dst) return;
    if (src.isDir && s.isAncestor(src, np)) throw new Errno('EINVAL');
    if (dst.isDir && s.isAncestor(dst, op)) throw new Errno('EINVAL');
    srcEnt.ino = dst.ino;
    dstEnt!.ino = src.ino;
    if (op !== np) {
      if (src.isDir) {
        src.parent = np.ino;
        op.nlink--;
        np.nlink++;
      }
      if (dst.isDir) {
        dst.parent = op.ino;
        np.nlink--;
        op.nlink++;
      }
    }
    src.ctime = now;
    dst.ctime = now;
    s.touchDir(op, now);
    s.touchDir(np, now);
    return;
  }

  if (dst) {
    if (flags & RENAME_NOREPLACE) throw new Errno('EEXIST');
    // hard links to the same inode: POSIX says do nothing
    if (src === dst) return;
  }
  if (src.isDir && s.isAncestor(src, np)) throw new Errno('EINVAL');
  if (dst) {
    if (src.isDir && !dst.isDir) throw new Errno('ENOTDIR');
    if (!src.isDir && dst.isDir) throw new Errno('EISDIR');
    if (dst.isDir && dst.dir!.size > 0) throw new Errno('ENOTEMPTY');
    // the target being an ancestor of the source makes it non-empty, caught above
  }

  if (dst) {
    np.dir!.remove(newName);
    if (dst.isDir) {
      dst.nlink = 0;
      np.nlink--;
    } else {
      dst.nlink--;
    }
    dst.ctime = now;
  }
  op.dir!.remove(name);
  np.dir!.add(newName, src.ino);
  if (src.isDir && op !== np) {
    src.parent = np.ino;
    op.nlink--;
    np.nlink++;
  }
  src.ctime = now;
  s.touchDir(op, now);
  if (np !== op) s.touchDir(np, now);
  if (dst) s.maybeFree(dst);
}
