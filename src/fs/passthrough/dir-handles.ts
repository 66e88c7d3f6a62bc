// The open directories of the passthrough filesystem (what handles.ts is for open files): a DirStream per
// OPENDIR, keyed by its fd (which is also the handle the kernel sends back), and the reply-filling loop
// READDIR and READDIRPLUS share.

import fs from 'node:fs';
import { Errno } from '../../protocol/errno.js';
import { closeQuiet } from './fd.js';
import { DirStream } from './dirstream.js';
import type { Inode } from './inodes.js';

export class DirHandles {
  private readonly dirs = new Map<number, DirStream>();

  get size(): number {
    return this.dirs.size;
  }

  /** Registers the directory open at `fd`; returns the handle. */
  add(fd: number, inode: Inode, dotdotIno: number | undefined): number {
    this.dirs.set(fd, new DirStream(fd, inode, dotdotIno));
    return fd;
  }

  get(fh: number): DirStream {
    const d = this.dirs.get(fh);
    if (!d) throw new Errno('EBADF', `unknown directory handle ${fh}`);
    return d;
  }

  /** RELEASEDIR: an unknown handle is not an error (nothing is left to close). */
  release(fh: number): void {
    const d = this.dirs.get(fh);
    if (!d) return;
    this.dirs.delete(fh);
    fs.closeSync(d.fd);
  }

  closeAll(): void {
    for (const d of this.dirs.values()) closeQuiet(d.fd);
    this.dirs.clear();
  }

  /**
   * Feeds the entries of handle `fh` from `offset` to `emit` until it says the reply is full (false); 'skip'
   * passes over an entry that vanished. An error after some entries were added ends the reply there instead
   * (the error comes back on the next call, at the entry that caused it).
   */
  fill(fh: number, offset: number, emit: (d: DirStream) => boolean | 'skip'): void {
    const d = this.get(fh);
    if (!d.seek(offset)) return;
    let added = 0;
    for (;;) {
      let r: boolean | 'skip';
      try {
        if (!d.more()) return;
        r = emit(d);
      } catch (e) {
        if (added === 0) throw e;
        return;
      }
      if (r === false) return;
      d.consume();
      if (r === true) added++;
    }
  }
}
