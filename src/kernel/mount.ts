// Mounting a FUSE filesystem: as root with mount(2) on a /dev/fuse fd we opened, otherwise through fusermount3.
// The caller serves the returned fd; nothing here reads it. Unmounting is lazy by default (MNT_DETACH, or
// fusermount3 -u -z), as libfuse does, so it never waits on a server that may be the caller itself.

import { closeSync } from 'node:fs';
import { errnoOf } from '../protocol/errno.js';
import { S_IFDIR, S_IFMT } from '../protocol/types.js';
import { openFuseDevice } from './device.js';
import { findFusermount, fusermountMount, fusermountUnmount } from './fusermount.js';
import { parseMountOptions } from './mountopts.js';
import { MNT, mount, umount2 } from './vfs.js';


export type MountMethod = 'mount' | 'fusermount3';

export interface MountFuseOptions {
  mountpoint: string;
  /** The mount's source as df/mount show it; default 'tsfuse'. An fsname= option overrides it. */
  fsname?: string;
  /** The type becomes 'fuse.SUBTYPE' (plain 'fuse' without). A subtype= option overrides it. */
  subtype?: string;
  /**
   * The usual -o options: allow_other, default_permissions, ro, rw, nosuid, nodev, noexec, max_read=N,
   * fsname=, subtype=, noatime, ... Either one word each or comma-joined. Unknown options throw.
   */
  options?: string[];
  /** Mode of the root inode as the kernel first sees it; only the file type matters. Default S_IFDIR. */
  rootMode?: number;
  /**
   * How to mount. Default: mount(2) when root (falling back to fusermount3 if mount(2) says EPERM, e.g. root
   * in a user namespace), fusermount3 otherwise. auto_unmount always uses fusermount3.
   */
  method?: MountMethod;
}

export interface MountedFuse {
  /** The /dev/fuse session fd to serve (close-on-exec). */
  fd: number;
  method: MountMethod;
  /**
   * fusermount3 with auto_unmount: the socket fusermount3 watches. Keep it open while serving; once it closes
   * (or the process exits) and the connection is dead, fusermount3 unmounts.
   */
  commFd?: number;
}

/** The data string mount(2) gets: fd, rootmode, user_id, group_id, then the FUSE options. Exported for tests. */
export function fuseMountData(fd: number, rootMode: number, userId: number, groupId: number, extra: readonly string[]): string {
  return [`fd=${fd}`, `rootmode=${rootMode.toString(8)}`, `user_id=${userId}`, `group_id=${groupId}`, ...extra].join(',');
}

/** Mounts a FUSE filesystem at `opts.mountpoint` and returns the session fd. Throws (an Errno for syscalls). */
export function mountFuse(opts: MountFuseOptions): MountedFuse {
  const parsed = parseMountOptions(opts.options ?? []);
  const fsname = parsed.fsname ?? opts.fsname ?? 'tsfuse';
  const subtype = parsed.subtype ?? opts.subtype;
  let rootMode = opts.rootMode ?? S_IFDIR;
  if ((rootMode & S_IFMT) === 0) rootMode |= S_IFDIR;
  const isRoot = process.getuid?.() === 0;
  if (opts.method === 'mount' && parsed.autoUnmount) {
    throw new Error('mount option auto_unmount needs fusermount3 (method "fusermount3")');
  }
  const method: MountMethod = opts.method ?? (isRoot && !parsed.autoUnmount ? 'mount' : 'fusermount3');

  if (method === 'fusermount3') return viaFusermount(opts.mountpoint, fsname, subtype, parsed);

  const fd = openFuseDevice();
  try {
    const data = fuseMountData(fd, rootMode, parsed.userId ?? process.getuid!(), parsed.groupId ?? process.getgid!(), parsed.data);
    mount(fsname, opts.mountpoint, subtype ? `fuse.${subtype}` : 'fuse', parsed.flags, data);
    return { fd, method: 'mount' };
  } catch (e) {
    closeSync(fd);
    // Root without CAP_SYS_ADMIN in this namespace: fusermount3 may still be allowed.
    if (opts.method === undefined && errnoOf(e) === 1 && findFusermount()) {
      return viaFusermount(opts.mountpoint, fsname, subtype, parsed);
    }
    throw e;
  }
}

function viaFusermount(
  mountpoint: string,
  fsname: string,
  subtype: string | undefined,
  parsed: ReturnType<typeof parseMountOptions>,
): MountedFuse {
  if (parsed.userId !== undefined || parsed.groupId !== undefined) {
    throw new Error('mount options user_id=/group_id= cannot go through fusermount3 (it sets them to the caller)');
  }
  const words = [...parsed.fusermount, `fsname=${fsname.replace(/\\/g, '\\\\').replace(/,/g, '\\,')}`];
  if (subtype) words.push(`subtype=${subtype}`);
  const r = fusermountMount(mountpoint, words);
  return r.commFd === undefined ? { fd: r.fd, method: 'fusermount3' } : { fd: r.fd, method: 'fusermount3', commFd: r.commFd };
}

export interface UnmountFuseOptions {
  /** Detach now even if busy (MNT_DETACH / fusermount3 -z). Default true, as libfuse. */
  lazy?: boolean;
  /** Default: umount2 when root, fusermount3 otherwise. */
  method?: 'umount2' | 'fusermount3';
}

/**
 * Unmounts a FUSE mount. Never stats the mountpoint. Blocked reads on the session fd then fail with ENODEV once
 * nothing on the mount is in use. Throws an Errno (EINVAL when nothing is mounted there).
 */
export function unmountFuse(mountpoint: string, opts: UnmountFuseOptions = {}): void {
  const lazy = opts.lazy ?? true;
  const method = opts.method ?? (process.getuid?.() === 0 ? 'umount2' : 'fusermount3');
  if (method === 'fusermount3') {
    fusermountUnmount(mountpoint, lazy);
    return;
  }
  umount2(mountpoint, lazy ? MNT.DETACH : 0);
}
