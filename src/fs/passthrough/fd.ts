// Small fd and error helpers the passthrough files share.

import fs from 'node:fs';

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
