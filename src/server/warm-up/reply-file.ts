// Where the warm-up walk's replies go: an unlinked scratch file opened for append, written through the same
// DeviceChannel class as /dev/fuse (so the dispatcher's reply path is compiled for the class real replies
// use), emptied before each request and read back after it, so the walk can follow nodeids and offsets as
// the kernel would.

import { closeSync, ftruncateSync, openSync, readSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { DeviceChannel } from '../channel.js';
import { scratchDir } from '../../kernel/scratch-dir.js';

export class ReplyFile {
  readonly fd: number;
  readonly channel: DeviceChannel;

  constructor(log: (msg: string) => void) {
    const dir = scratchDir('tsfuse-warm-');
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
