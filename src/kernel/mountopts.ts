// Sorting FUSE mount options (-o) into what mount(2) wants: VFS flags go to mountflags, FUSE's own options go to
// the data string the kernel's fuse_parse_param reads, and anything else is an error naming the option (a
// silently dropped `ro` would be worse than a refused mount). Pure: no I/O, unit-tested with strings.

import { MS } from './vfs.js';

/** Options that set or clear a mount(2) flag, by their mount(8) names. */
const FLAG_OPTIONS: Record<string, { set?: number; clear?: number }> = {
  ro: { set: MS.RDONLY },
  rw: { clear: MS.RDONLY },
  nosuid: { set: MS.NOSUID },
  suid: { clear: MS.NOSUID },
  nodev: { set: MS.NODEV },
  dev: { clear: MS.NODEV },
  noexec: { set: MS.NOEXEC },
  exec: { clear: MS.NOEXEC },
  sync: { set: MS.SYNCHRONOUS },
  async: { clear: MS.SYNCHRONOUS },
  dirsync: { set: MS.DIRSYNC },
  noatime: { set: MS.NOATIME },
  atime: { clear: MS.NOATIME },
  nodiratime: { set: MS.NODIRATIME },
  diratime: { clear: MS.NODIRATIME },
  relatime: { set: MS.RELATIME },
  norelatime: { clear: MS.RELATIME },
  strictatime: { set: MS.STRICTATIME },
  nostrictatime: { clear: MS.STRICTATIME },
  lazytime: { set: MS.LAZYTIME },
  nolazytime: { clear: MS.LAZYTIME },
  nosymfollow: { set: MS.NOSYMFOLLOW },
  symfollow: { clear: MS.NOSYMFOLLOW },
};

/** FUSE options without a value that the kernel takes in the data string. */
const DATA_FLAGS = new Set(['default_permissions', 'allow_other']);
/** FUSE/LSM options with a value that go to the data string as they are. */
const DATA_VALUES = new Set(['max_read', 'context', 'fscontext', 'defcontext', 'rootcontext']);
/** Numeric data options. */
const NUMERIC = new Set(['max_read', 'user_id', 'group_id']);

/** The default flags, as libfuse: a FUSE mount never honours setuid bits or device nodes unless asked. */
export const DEFAULT_MOUNT_FLAGS = MS.NOSUID | MS.NODEV;

export interface ParsedMountOptions {
  /** mount(2) flags. */
  flags: number;
  /** Kernel FUSE options for the data string, without fd/rootmode/user_id/group_id (mountFuse adds those). */
  data: string[];
  fsname?: string;
  subtype?: string;
  userId?: number;
  groupId?: number;
  /** fusermount3 only: unmount once the server process has gone (its socket closed, the connection dead). */
  autoUnmount: boolean;
  /** The options as fusermount3 wants them (flag names and FUSE options; fusermount3 adds fd and the rest). */
  fusermount: string[];
}

/** Splits "a,b=c\,d" into ["a", "b=c,d"]: commas inside a value are escaped with a backslash, as in libfuse. */
export function splitOptions(options: readonly string[]): string[] {
  const out: string[] = [];
  for (const group of options) {
    let cur = '';
    for (let i = 0; i < group.length; i++) {
      const c = group[i]!;
      if (c === '\\' && i + 1 < group.length) cur += group[++i];
      else if (c === ',') {
        if (cur !== '') out.push(cur);
        cur = '';
      } else cur += c;
    }
    if (cur !== '') out.push(cur);
  }
  return out;
}

const escapeComma = (s: string): string => s.replace(/\\/g, '\\\\').replace(/,/g, '\\,');

/** Parses FUSE mount options; throws an Error naming the first option it does not know or cannot accept. */
export function parseMountOptions(options: readonly string[] = []): ParsedMountOptions {
  const p: ParsedMountOptions = { flags: DEFAULT_MOUNT_FLAGS, data: [], autoUnmount: false, fusermount: [] };
  const flagWords: string[] = [];
  for (const opt of splitOptions(options)) {
    const eq = opt.indexOf('=');
    const key = eq < 0 ? opt : opt.slice(0, eq);
    const value = eq < 0 ? undefined : opt.slice(eq + 1);
    const flag = FLAG_OPTIONS[key];
    if (flag && value === undefined) {
      if (flag.set) p.flags |= flag.set;
      if (flag.clear) p.flags &= ~flag.clear;
      flagWords.push(key);
      continue;
    }
    if (NUMERIC.has(key) && (value === undefined || !/^\d+$/.test(value))) {
      throw new Error(`mount option ${JSON.stringify(opt)}: ${key}= needs a non-negative integer`);
    }
    if (DATA_FLAGS.has(key) && value === undefined) {
      if (!p.data.includes(key)) p.data.push(key);
    } else if (DATA_VALUES.has(key) && value !== undefined) {
      p.data = p.data.filter((d) => !d.startsWith(key + '='));
      p.data.push(opt);
    } else if (key === 'fsname' && value !== undefined) {
      p.fsname = value;
    } else if (key === 'subtype' && value !== undefined) {
      if (!/^[A-Za-z0-9_.+-]*$/.test(value)) throw new Error(`mount option ${JSON.stringify(opt)}: bad subtype`);
      p.subtype = value;
    } else if (key === 'user_id' && value !== undefined) {
      p.userId = Number(value);
    } else if (key === 'group_id' && value !== undefined) {
      p.groupId = Number(value);
    } else if (key === 'auto_unmount' && value === undefined) {
      p.autoUnmount = true;
    } else if (key === 'fd' || key === 'rootmode') {
      throw new Error(`mount option ${JSON.stringify(opt)} is set by mountFuse (use the rootMode option for rootmode)`);
    } else if (key === 'blksize') {
      throw new Error(`mount option ${JSON.stringify(opt)} only applies to fuseblk mounts, which tsfuse does not make`);
    } else if (key.startsWith('x-')) {
      // userspace-only annotations (x-gvfs-hide, ...): meaningful to mount(8) and desktop tools, not the kernel
    } else {
      throw new Error(`unknown mount option ${JSON.stringify(opt)}`);
    }
  }
  // fusermount3 understands the same flag words and FUSE options; repeat the defaults unless they were cleared.
  const words = [...flagWords];
  if (p.flags & MS.NOSUID && !words.includes('nosuid')) words.unshift('nosuid');
  if (p.flags & MS.NODEV && !words.includes('nodev')) words.unshift('nodev');
  p.fusermount = [...words, ...p.data.map(escapeComma)];
  if (p.autoUnmount) p.fusermount.push('auto_unmount');
  return p;
}
