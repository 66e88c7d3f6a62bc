// A new private temporary directory, on tmpfs (/dev/shm) when there is one, so scratch files never reach a disk.

import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export function scratchDir(prefix: string): string {
  for (const base of ['/dev/shm', tmpdir()]) {
    try {
      return mkdtempSync(join(base, prefix));
    } catch {
      // not there or not writable: the next one
    }
  }
  throw new Error(`no writable temporary directory for ${prefix}`);
}
