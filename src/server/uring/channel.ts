// The Channel of a thread serving over io_uring. The dispatcher sends every reply to "the fd the request came
// from" (lane.fd); a request taken from ring entry e carries the token ENTRY_TOKEN_BASE + e there instead of an
// fd, so its reply (or its EINTR) is written into that entry's buffers and committed with COMMIT_AND_FETCH.
// Anything else (FORGET/INTERRUPT read from /dev/fuse, and every request when the ring is not in use) goes to
// the device as before.

import type { Channel } from '../channel.js';
import type { RingEntries } from './entries.js';
import type { IoUring } from './io-uring.js';

/** Above any fd this process can have open (fds are below RLIMIT_NOFILE, at most 2^30 on Linux). */
export const ENTRY_TOKEN_BASE = 0x40000000;

export class UringChannel implements Channel {
  constructor(
    private readonly device: Channel,
    private readonly ring: IoUring,
    private readonly entries: RingEntries,
    private readonly devFd: number,
  ) {}

  write(fd: number, buf: Uint8Array, len: number): boolean {
    if (fd < ENTRY_TOKEN_BASE) return this.device.write(fd, buf, len);
    return this.entries.reply(this.ring, this.devFd, fd - ENTRY_TOKEN_BASE, buf, len);
  }

  writev(fd: number, parts: readonly Uint8Array[]): boolean {
    if (fd < ENTRY_TOKEN_BASE) return this.device.writev(fd, parts);
    return this.entries.replyParts(this.ring, this.devFd, fd - ENTRY_TOKEN_BASE, parts);
  }
}
