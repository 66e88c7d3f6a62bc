// Mounting without CAP_SYS_ADMIN through the setuid helper fusermount3 (from libfuse's fuse3 package), the way
// libfuse does: fusermount3 opens /dev/fuse, mounts, and passes the fd back over a unix socket given as fd 3
// (_FUSE_COMMFD=3) with SCM_RIGHTS. Unmounting is `fusermount3 -u`.

import { childProcess } from './builtins.js';
import { accessSync, closeSync, constants } from 'node:fs';
import { Errno } from '../protocol/errno.js';
import { recvFd, socketPair } from './socket.js';

const CANDIDATES = ['/usr/bin/fusermount3', '/bin/fusermount3', '/usr/local/bin/fusermount3', '/usr/sbin/fusermount3'];

/** The fusermount3 binary: $TSFUSE_FUSERMOUNT, or the first executable of the usual paths. */
export function findFusermount(): string | undefined {
  const env = process.env['TSFUSE_FUSERMOUNT'];
  for (const p of env ? [env] : CANDIDATES) {
    try {
      accessSync(p, constants.X_OK);
      return p;
    } catch {
      // try the next one
    }
  }
  return undefined;
}

function requireFusermount(): string {
  const p = findFusermount();
  if (!p) throw new Error('fusermount3 not found (install the fuse3 package, or set TSFUSE_FUSERMOUNT)');
  return p;
}

export interface FusermountResult {
  /** The /dev/fuse session fd (close-on-exec). */
  fd: number;
  /**
   * With auto_unmount only: our end of the socket. fusermount3 stays alive until this closes (at the latest
   * when the process exits), then unmounts if the connection is dead (ENOTCONN: every /dev/fuse fd closed).
   * It leaves a mount alone whose server still answers.
   */
  commFd?: number;
}

/**
 * Mounts with `fusermount3 -o OPTIONS -- MOUNTPOINT` and returns the fd it passes back. `options` is the list
 * of -o words (flag names, FUSE options, fsname=, subtype=); fusermount3 adds fd, rootmode, user_id, group_id.
 */
export function fusermountMount(mountpoint: string, options: readonly string[]): FusermountResult {
  const bin = requireFusermount();
  const autoUnmount = options.includes('auto_unmount');
  const [ours, theirs] = socketPair();
  const args = [...(options.length > 0 ? ['-o', options.join(',')] : []), '--', mountpoint];
  const env = { ...process.env, _FUSE_COMMFD: '3' };
  let keepOurs = false;
  let theirsOpen = true;
  try {
    if (!autoUnmount) {
      // fusermount3 sends the fd and exits; the message waits in the socket buffer until we read it.
      const r = childProcess().spawnSync(bin, args, { env, stdio: ['ignore', 'pipe', 'pipe', theirs], encoding: 'utf8', timeout: 30_000 });
      const stderr = (r.stderr ?? '').trim();
      if (r.error) throw new Error(`fusermount3 could not run: ${r.error.message}`);
      if (r.status !== 0) throw new Error(`fusermount3 failed (exit ${r.status ?? r.signal}): ${stderr || 'no message'}`);
      const got = recvFd(ours, true);
      if (got.fd === undefined) throw new Error(`fusermount3 exited without passing a /dev/fuse fd${stderr ? ': ' + stderr : ''}`);
      return { fd: got.fd };
    }
    // auto_unmount: fusermount3 stays alive watching the socket, so it cannot be waited for. Start it in its
    // own session (so a Ctrl-C aimed at us does not kill it before it unmounts) and block until it passes the
    // fd, or exits (EOF once our copy of its end is closed).
    const child = childProcess().spawn(bin, args, { env, stdio: ['ignore', 'inherit', 'inherit', theirs], detached: true });
    child.unref();
    closeSync(theirs);
    theirsOpen = false;
    const got = recvFd(ours, false);
    if (got.fd === undefined) throw new Error('fusermount3 exited without passing a /dev/fuse fd (see its message above)');
    keepOurs = true;
    return { fd: got.fd, commFd: ours };
  } finally {
    if (theirsOpen) safeClose(theirs);
    if (!keepOurs) safeClose(ours);
  }
}

/** `fusermount3 -u [-z] -- MOUNTPOINT`. Lazy (-z) detaches even when the mount is busy, like MNT_DETACH. */
export function fusermountUnmount(mountpoint: string, lazy = true): void {
  const bin = requireFusermount();
  const args = ['-u', ...(lazy ? ['-z'] : []), '--', mountpoint];
  const r = childProcess().spawnSync(bin, args, { stdio: ['ignore', 'pipe', 'pipe'], encoding: 'utf8', timeout: 30_000 });
  if (r.error) throw new Error(`fusermount3 -u could not run: ${r.error.message}`);
  if (r.status !== 0) {
    const msg = (r.stderr ?? '').trim();
    // fusermount3 prints "entry for ... not found in /etc/mtab" / "not mounted": report it as EINVAL, as umount2
    throw new Errno('EINVAL', `fusermount3 -u ${mountpoint} failed (exit ${r.status ?? r.signal}): ${msg || 'no message'}`);
  }
}

function safeClose(fd: number): void {
  try {
    closeSync(fd);
  } catch {
    // already closed or never valid; nothing to recover
  }
}
