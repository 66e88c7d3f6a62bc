// Small fd and error helpers the passthrough files share.

import fs from 'node:fs';
import { Errno } from '../../protocol/errno.js';

/** The `.code` of a Node system error ('ENOENT', ...), undefined for anything else. */
export function errCode(e: unknown): string | undefined {
  return (e as { code?: string } | null)?.code;
}

/** close(2) where a failure changes nothing (cleanup paths). */
export function closeQuiet(fd: number): void {
  try {
    fs.closeSync(fd);
  } catch {
    /* ignore */
  }
}

/** Counts closes handed to libuv's pool that have not finished (worker mode yields so they can). */
let closing = 0;
const closed = (): void => {
  closing--;
};

/**
 * close(2) on libuv's thread pool, for the last fd of an inode that was removed: ext4 evicts the inode (frees
 * its blocks, its inode) in that close, tens of µs measured, and the request that made it last (UNLINK or
 * RMDIR through their own fd, a removed directory's FORGET) need not wait for it. The fd number stays taken
 * until it is done. (A removed file's cached fd is closed at FORGET instead: passthrough.ts gone.)
 */
export function closeInBackground(fd: number): void {
  closing++;
  fs.close(fd, closed);
}

/** Background closes not finished yet. */
export function closesInBackground(): number {
  return closing;
}

/** A sys.ts result: throws the Errno of a negative one, passes the rest through. */
export function check(r: number): number {
  if (r < 0) throw new Errno(-r);
  return r;
}
