// /proc/self/mountinfo, the only safe way to ask about a FUSE mount: stat(2) on the mountpoint asks the FUSE
// server and hangs when it is stuck (or when the asking thread is the one that must answer).
//
// Line format (proc(5)):
//   36 35 98:0 /mnt1 /mnt/parent rw,noatime master:1 - ext3 /dev/root rw,errors=continue
//   id parent major:minor root mountpoint options optional-fields... - fstype source super-options
// Paths escape space, tab, newline and backslash as \040 \011 \012 \134 (octal, raw bytes).

import { readFileSync, realpathSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';

export interface MountInfo {
  mountId: number;
  parentId: number;
  major: number;
  minor: number;
  /** Root of the mount within its filesystem. */
  root: string;
  mountPoint: string;
  options: string;
  fstype: string;
  source: string;
  superOptions: string;
}

/** Undoes mountinfo's octal escapes; the bytes are UTF-8 (or whatever the path was), decoded as UTF-8. */
export function unescapeMountPath(s: string): string {
  if (!s.includes('\\')) return s;
  const latin1 = s.replace(/\\([0-7]{3})/g, (_m, oct: string) => String.fromCharCode(parseInt(oct, 8)));
  return Buffer.from(latin1, 'latin1').toString('utf8');
}

/** Parses mountinfo text (read as latin1 so every byte survives until unescapeMountPath). */
export function parseMountInfo(text: string): MountInfo[] {
  const out: MountInfo[] = [];
  for (const line of text.split('\n')) {
    if (line === '') continue;
    const f = line.split(' ');
    const sep = f.indexOf('-', 6);
    if (f.length < 10 || sep < 0 || f.length < sep + 4) continue;
    const [maj, min] = (f[2] ?? '').split(':');
    out.push({
      mountId: Number(f[0]),
      parentId: Number(f[1]),
      major: Number(maj),
      minor: Number(min),
      root: unescapeMountPath(f[3]!),
      mountPoint: unescapeMountPath(f[4]!),
      options: f[5]!,
      fstype: f[sep + 1]!,
      source: unescapeMountPath(f[sep + 2]!),
      superOptions: f[sep + 3]!,
    });
  }
  return out;
}

/** This process's mounts, in mount order (later entries sit on top of earlier ones at the same path). */
export function readMountInfo(file = '/proc/self/mountinfo'): MountInfo[] {
  return parseMountInfo(readFileSync(file, 'latin1'));
}

/**
 * The absolute form mountinfo uses for `path`, computed without touching `path` itself: the path is resolved
 * lexically and only its parent goes through realpath (that resolves symlinks such as /tmp -> /private/tmp;
 * the mountpoint itself may be a FUSE root that would hang).
 */
export function canonicalMountPath(path: string): string {
  const abs = resolve(path);
  if (abs === '/') return abs;
  let parent = dirname(abs);
  try {
    parent = realpathSync(parent);
  } catch {
    // keep the lexical parent: the caller only compares strings
  }
  return join(parent, basename(abs));
}

/** The topmost mount at `path` (optionally only of a type matching `fstype`), or undefined. */
export function findMount(path: string, fstype?: (t: string) => boolean, mounts = readMountInfo()): MountInfo | undefined {
  const want = canonicalMountPath(path);
  const here = mounts.filter((m) => m.mountPoint === want);
  // Mounts stacked on one path: the top one is no other's parent (mountinfo order usually agrees).
  const top = here.filter((m) => !here.some((o) => o.parentId === m.mountId));
  const pick = (top.length > 0 ? top : here).filter((m) => !fstype || fstype(m.fstype));
  return pick[pick.length - 1];
}

/** True for the types a FUSE connection can have: fuse, fuse.SUBTYPE, fuseblk, fuseblk.SUBTYPE. */
export function isFuseType(fstype: string): boolean {
  return fstype === 'fuse' || fstype === 'fuseblk' || fstype.startsWith('fuse.') || fstype.startsWith('fuseblk.');
}
