// The fuse control filesystem (fusectl): one directory per FUSE connection, named by the connection's device
// number, with `abort` (write anything: fail every pending and future request, the mount answers ENOTCONN),
// `waiting` (requests sent but not answered yet), max_background and congestion_threshold. It is how a test
// watchdog ends a hung mount without touching the mountpoint.

import { readFileSync, writeFileSync } from 'node:fs';
import { findMount, isFuseType, readMountInfo } from './mountinfo.js';
import { mount } from './vfs.js';

export const FUSECTL_PATH = '/sys/fs/fuse/connections';

/** Mounts fusectl at /sys/fs/fuse/connections unless it is mounted already; returns that path. Needs root. */
export function ensureFusectl(): string {
  const mounted = readMountInfo().some((m) => m.mountPoint === FUSECTL_PATH && m.fstype === 'fusectl');
  if (!mounted) mount('fusectl', FUSECTL_PATH, 'fusectl', 0, null);
  return FUSECTL_PATH;
}

/**
 * The kernel's dev_t for major:minor (MKDEV in include/linux/kdev_t.h: major << 20 | minor), which is the name
 * of the connection's fusectl directory. Not the userspace encoding (glibc's makedev) that stat(2) reports.
 */
export function kernelDev(major: number, minor: number): number {
  return major * 2 ** 20 + minor;
}

/**
 * The fusectl connection id of the FUSE mount at `mountpoint`, from /proc/self/mountinfo (never stat: it may
 * hang), or undefined when nothing FUSE is mounted there.
 */
export function connectionIdFor(mountpoint: string): number | undefined {
  const m = findMount(mountpoint, isFuseType);
  return m ? kernelDev(m.major, m.minor) : undefined;
}

function connectionDir(id: number): string {
  return `${ensureFusectl()}/${id}`;
}

/**
 * Aborts a FUSE connection (by mountpoint or connection id): every waiting request fails, the mount answers
 * ENOTCONN until unmounted, and the server's reads fail with ENODEV (ECONNABORTED if INIT negotiated
 * FUSE_ABORT_ERROR). Returns false when there is no such connection (not mounted, or gone already).
 */
export function abortConnection(mountpointOrId: string | number): boolean {
  const id = typeof mountpointOrId === 'number' ? mountpointOrId : connectionIdFor(mountpointOrId);
  if (id === undefined) return false;
  try {
    writeFileSync(`${connectionDir(id)}/abort`, '1');
    return true;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return false;
    throw e;
  }
}

/** The number of requests the connection has sent and not had answered (fusectl `waiting`). */
export function waitingRequests(id: number): number {
  return Number.parseInt(readFileSync(`${connectionDir(id)}/waiting`, 'utf8').trim(), 10);
}
