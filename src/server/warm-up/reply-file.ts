// Where the warm-up walk's replies go: an unlinked scratch file opened for append, written through the same
// DeviceChannel class as /dev/fuse (so the dispatcher's reply path is compiled for the class real replies
// use), emptied before each request and read back after it, so the walk can follow nodeids and offsets as
// the kernel would.

import { closeSync, ftruncateSync, mkdtempSync, openSync, readSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DeviceChannel } from '../channel.js';

/** tmpfs when there is one: the walk's writes then never reach a disk. */
function scratchDir(): string {
  for (const base of ['/dev/shm', tmpdir()]) {
    try {
      return mkdtempSync(join(base, 'tsfuse-warm-'));
    } catch {
      // not there or not writable: the next one
    }
  }
  throw new Error('no writable temporary directory for the warm-up replies');
}

export class ReplyFile {
  readonly fd: number;
  readonly channel: DeviceChannel;

  constructor(log: (msg: string) => void) {
    const dir = scratchDir();
    try {
      this.fd = openSync(join(dir, 'replies'), 'a+');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
    this.channel = new DeviceChannel(log);
  }

  reset(): void {
    ftruncateSync(this.fd, 0);
  }

  /** The reply written since reset() into `into`; its length. */
  read(into: Buffer): number {
    return readSync(this.fd, into, 0, into.length, 0);
  }

  close(): void {
    closeSync(this.fd);
  }
}
