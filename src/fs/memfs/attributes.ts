// memfs attribute operations: GETATTR, SETATTR, STATX, STATFS and ACCESS.

import { Errno } from '../../protocol/errno.js';
import { NAME_MAX, STATX_BASIC_STATS, STATX_BTIME } from '../../protocol/posix.js';
import { checkAccess } from '../access.js';
import { S_IFMT, type Attr, type RequestContext, type SetAttr, type StatFs, type Statx } from '../types.js';
import { checkTime } from './clock.js';
import { BLOCK_SIZE, killSuidgid, MAX_FILE_SIZE } from './node.js';
import type { MemStore } from './store.js';

export function getattr(s: MemStore, _ctx: RequestContext, ino: number, _fh: number | undefined): Attr {
  return s.attrOf(s.node(ino));
}

export function setattr(s: MemStore, _ctx: RequestContext, ino: number, set: SetAttr): Attr {
  const n = s.node(ino);
  // validate everything first so a failing request changes nothing
  if (set.size !== undefined) {
    if (n.isDir) throw new Errno('EISDIR');
    if (!n.isReg) throw new Errno('EINVAL');
    if (!Number.isInteger(set.size) || set.size < 0) throw new Errno('EINVAL');
    if (set.size > MAX_FILE_SIZE) throw new Errno('EFBIG');
  }
  const atime = set.atime === undefined || set.atime === 'now' ? set.atime : checkTime(set.atime);
  const mtime = set.mtime === undefined || set.mtime === 'now' ? set.mtime : checkTime(set.mtime);
  const ctime = set.ctime === undefined ? undefined : checkTime(set.ctime);

  const now = s.clock.now();
  let changed = false;
  if (set.uid !== undefined && set.uid !== -1 && set.uid !== 0xffffffff) {
    n.uid = set.uid;
    changed = true;
  }
  if (set.gid !== undefined && set.gid !== -1 && set.gid !== 0xffffffff) {
    n.gid = set.gid;
    changed = true;
  }
  if (set.mode !== undefined) {
    n.mode = (n.mode & S_IFMT) | (set.mode & 0o7777);
    changed = true;
  }
  if (set.killSuidgid) {
    killSuidgid(n);
    changed = true;
  }
  if (set.size !== undefined) {
    s.data.truncate(n, set.size);
    n.mtime = now;
    changed = true;
  }
  if (atime !== undefined) {
    n.atime = atime === 'now' ? now : atime;
    changed = true;
  }
  if (mtime !== undefined) {
    n.mtime = mtime === 'now' ? now : mtime;
    changed = true;
  }
  if (ctime !== undefined) n.ctime = ctime;
  else if (changed) n.ctime = now;
  return s.attrOf(n);
}

export function statx(s: MemStore, _ctx: RequestContext, ino: number, _fh: number | undefined, _flags: number, _mask: number): Statx {
  const n = s.node(ino);
  const a = s.attrOf(n);
  return {
    mask: STATX_BASIC_STATS | STATX_BTIME,
    blksize: BLOCK_SIZE,
    nlink: n.nlink,
    uid: n.uid,
    gid: n.gid,
    mode: n.mode,
    ino: n.ino,
    size: n.size,
    blocks: a.blocks,
    atime: { ...n.atime },
    btime: { ...n.btime },
    ctime: { ...n.ctime },
    mtime: { ...n.mtime },
    // struct fuse_attr.rdev is new_encode_dev(): minor low byte, 12-bit major, then the minor's high bits
    rdevMajor: (n.rdev >>> 8) & 0xfff,
    rdevMinor: (n.rdev & 0xff) | ((n.rdev >>> 12) & 0xfff00),
    timeout: s.settings.attrTimeout,
  };
}

export function statfs(s: MemStore, _ctx: RequestContext, _ino: number): StatFs {
  const blocks = Math.floor(s.data.totalBytes / BLOCK_SIZE);
  const used = Math.ceil(s.data.usedBytes / BLOCK_SIZE);
  const bfree = Math.max(0, blocks - used);
  return {
    blocks,
    bfree,
    bavail: bfree,
    files: s.settings.maxInodes,
    ffree: Math.max(0, s.settings.maxInodes - s.nodes.size),
    bsize: BLOCK_SIZE,
    frsize: BLOCK_SIZE,
    namelen: NAME_MAX,
  };
}

export function access(s: MemStore, ctx: RequestContext, ino: number, mask: number): void {
  checkAccess(ctx, s.node(ino), mask);
}
