// The ACCESS check every filesystem here shares. The kernel sends ACCESS only without default_permissions
// (and for access(2)/faccessat(2) and chdir), so the answer is computed from the inode's mode bits for the
// requester rather than by asking the host: the server usually runs as root, where access(2) says yes.

import * as fs from 'node:fs';
import { Errno } from '../protocol/errno.js';
import { R_OK, W_OK, X_OK } from '../protocol/posix.js';
import { S_IFDIR, S_IFMT, type RequestContext } from './types.js';

/** The owner and mode an access check needs. */
export interface AccessTarget {
  mode: number;
  uid: number;
  gid: number;
}

/**
 * Throws EACCES unless `ctx` may access `target` as `mask` (R_OK | W_OK | X_OK; F_OK alone always passes).
 * Root passes every check except execute on a non-directory with no x bit at all, as the kernel's
 * generic_permission does. `inGroup` widens the group match beyond ctx.gid (supplementary groups).
 */
export function checkAccess(
  ctx: RequestContext, target: AccessTarget, mask: number, inGroup?: (ctx: RequestContext, gid: number) => boolean,
): void {
  const want = mask & (R_OK | W_OK | X_OK);
  if (want === 0) return;
  const mode = target.mode;
  if (ctx.uid === 0) {
    if (want & X_OK && (mode & S_IFMT) !== S_IFDIR && (mode & 0o111) === 0) throw new Errno('EACCES');
    return;
  }
  let bits: number;
  if (ctx.uid === target.uid) bits = (mode >> 6) & 7;
  else if (ctx.gid === target.gid || (inGroup !== undefined && inGroup(ctx, target.gid))) bits = (mode >> 3) & 7;
  else bits = mode & 7;
  if ((bits & want) !== want) throw new Errno('EACCES');
}

/**
 * True when the requesting process has `gid` among its supplementary groups, read from /proc/<pid>/status
 * (as libfuse's fuse_req_getgroups does); false when the process is gone.
 */
export function inSupplementaryGroups(ctx: RequestContext, gid: number): boolean {
  try {
    const status = fs.readFileSync(`/proc/${ctx.pid}/status`, 'latin1');
    const m = /^Groups:\s*(.*)$/m.exec(status);
    return !!m && m[1]!.split(/\s+/).some((g) => g !== '' && Number(g) === gid);
  } catch {
    return false;
  }
}
