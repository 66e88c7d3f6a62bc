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

/** A sys.ts result: throws the Errno of a negative one, passes the rest through. */
export function check(r: number): number {
  if (r < 0) throw new Errno(-r);
  return r;
}
