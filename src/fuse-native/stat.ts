// fuse-native's stat and statfs objects -> tsfuse attributes. Times are Dates or milliseconds (missing = now),
// mode is a number with the type bits, nlink defaults to 1, everything else to 0 (as fuse-native's
// getStatArray). The uid/gid/umask mount options override what the filesystem says (libfuse's set_stat).

import type { StatFs } from '../fs/types.js';
import type { PathAttr } from '../fs/path/index.js';

export interface FuseNativeStat {
  mode?: number;
  uid?: number;
  gid?: number;
  size?: number;
  dev?: number;
  nlink?: number;
  ino?: number;
  rdev?: number;
  blksize?: number;
  blocks?: number;
  atime?: Date | number;
  mtime?: Date | number;
  ctime?: Date | number;
}

export interface StatOverrides {
  uid?: number;
  gid?: number;
  umask?: number;
}

function ms(t: Date | number | undefined): number {
  if (typeof t === 'number') return t;
  if (t instanceof Date) return t.getTime();
  return Date.now();
}

export function toAttr(st: FuseNativeStat | undefined, over: StatOverrides): PathAttr {
  const s = st ?? {};
  const a = ms(s.atime);
  const m = ms(s.mtime);
  const c = ms(s.ctime);
  let mode = s.mode || 0;
  if (over.umask !== undefined) mode = (mode & 0o170000) | (0o777 & ~over.umask);
  const attr: PathAttr = {
    mode,
    nlink: s.nlink || 1,
    uid: over.uid ?? (s.uid || 0),
    gid: over.gid ?? (s.gid || 0),
    size: s.size || 0,
    rdev: s.rdev || 0,
    blksize: s.blksize || 0,
    atime: Math.floor(a / 1000), atimeNsec: (((a % 1000) + 1000) % 1000) * 1e6,
    mtime: Math.floor(m / 1000), mtimeNsec: (((m % 1000) + 1000) % 1000) * 1e6,
    ctime: Math.floor(c / 1000), ctimeNsec: (((c % 1000) + 1000) % 1000) * 1e6,
  };
  if (s.blocks) attr.blocks = s.blocks;
  if (s.ino) attr.ino = s.ino;
  return attr;
}

export interface FuseNativeStatfs {
  bsize?: number;
  frsize?: number;
  blocks?: number;
  bfree?: number;
  bavail?: number;
  files?: number;
  ffree?: number;
  favail?: number;
  fsid?: number;
  flag?: number;
  namemax?: number;
}

export function toStatfs(s: FuseNativeStatfs | undefined): StatFs {
  const v = s ?? {};
  return {
    bsize: v.bsize || 0, frsize: v.frsize || 0, blocks: v.blocks || 0, bfree: v.bfree || 0, bavail: v.bavail || 0,
    files: v.files || 0, ffree: v.ffree || 0, namelen: v.namemax || 0,
  };
}
