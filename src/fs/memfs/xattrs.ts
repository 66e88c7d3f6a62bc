// memfs extended attributes: SETXATTR, GETXATTR, LISTXATTR, REMOVEXATTR, with Linux's namespace rules.

import { Errno } from '../../protocol/errno.js';
import { XATTR_CREATE, XATTR_NAME_MAX, XATTR_REPLACE, XATTR_SIZE_MAX } from '../../protocol/posix.js';
import type { RequestContext } from '../types.js';
import type { Node } from './node.js';
import type { MemStore } from './store.js';

function checkXattrName(n: Node, name: string, forWrite: boolean): void {
  if (name.length === 0) throw new Errno('EINVAL');
  if (Buffer.byteLength(name, 'utf8') > XATTR_NAME_MAX) throw new Errno('ERANGE');
  if (name.startsWith('user.')) {
    // like Linux: user xattrs only on regular files and directories
    if (!n.isReg && !n.isDir) throw Errno.shared(forWrite ? 'EPERM' : 'ENODATA');
    return;
  }
  if (name.startsWith('trusted.') || name.startsWith('security.') || name.startsWith('system.')) return;
  throw new Errno('EOPNOTSUPP');
}

export function setxattr(s: MemStore, _ctx: RequestContext, ino: number, name: string, value: Uint8Array, flags: number): void {
  const n = s.node(ino);
  checkXattrName(n, name, true);
  if (value.length > XATTR_SIZE_MAX) throw new Errno('E2BIG');
  if (flags & ~(XATTR_CREATE | XATTR_REPLACE)) throw new Errno('EINVAL');
  const exists = n.xattrs?.has(name) ?? false;
  if ((flags & XATTR_CREATE) && exists) throw new Errno('EEXIST');
  if ((flags & XATTR_REPLACE) && !exists) throw Errno.shared('ENODATA');
  (n.xattrs ??= new Map()).set(name, Buffer.from(value));
  n.ctime = s.clock.now();
}

export function getxattr(s: MemStore, _ctx: RequestContext, ino: number, name: string): Uint8Array {
  const n = s.node(ino);
  checkXattrName(n, name, false);
  const v = n.xattrs?.get(name);
  if (!v) throw Errno.shared('ENODATA');
  return v;
}

export function listxattr(s: MemStore, _ctx: RequestContext, ino: number): string[] {
  const n = s.node(ino);
  return n.xattrs ? [...n.xattrs.keys()] : [];
}

export function removexattr(s: MemStore, _ctx: RequestContext, ino: number, name: string): void {
  const n = s.node(ino);
  checkXattrName(n, name, true);
  if (!n.xattrs?.delete(name)) throw Errno.shared('ENODATA');
  n.ctime = s.clock.now();
}
