// The Channel of a thread serving over io_uring. The dispatcher sends every reply to "the fd the request came
// from" (lane.fd); a request taken from ring entry e of worker w carries entryToken(w, e) there instead of an
// fd, so its reply (or its EINTR) is written into that entry's buffers and committed with COMMIT_AND_FETCH.
// Only the worker owning the entry can commit it: an INTERRUPT read by another worker only marks the request
// interrupted (shared interrupt table), and the owner answers EINTR when its handler ends.
// Anything else (FORGET/INTERRUPT read from /dev/fuse, and every request when the ring is not in use) goes to
// the device as before.

import type { Channel } from '../channel.js';
import type { RingEntries } from './entries.js';
import type { IoUring } from './io-uring.js';

/** Above any fd this process can have open (fds are below RLIMIT_NOFILE, at most 2^30 on Linux). */
const ENTRY_TOKEN_BASE = 0x40000000;
const ENTRY_BITS = 20;

/** The lane.fd of entry e of worker w (unique across workers: the interrupt table is shared). */
export function entryToken(worker: number, e: number): number {
  return ENTRY_TOKEN_BASE + worker * (1 << ENTRY_BITS) + e;
}

export class UringChannel implements Channel {
  constructor(
    private readonly device: Channel,
    private readonly ring: IoUring,
    private readonly entries: RingEntries,
    private readonly devFd: number,
    private readonly worker: number,
  ) {}

  /** The entry of this worker that token `fd` names, or -1 (another worker's entry). */
  private entryOf(fd: number): number {
    const e = fd - entryToken(this.worker, 0);
    return e >= 0 && e < 1 << ENTRY_BITS ? e : -1;
  }

  write(fd: number, buf: Uint8Array, len: number): boolean {
    if (fd < ENTRY_TOKEN_BASE) return this.device.write(fd, buf, len);
    const e = this.entryOf(fd);
    return e >= 0 && this.entries.reply(this.ring, this.devFd, e, buf, len);
  }

  writev(fd: number, parts: readonly Uint8Array[]): boolean {
    if (fd < ENTRY_TOKEN_BASE) return this.device.writev(fd, parts);
    const e = this.entryOf(fd);
    return e >= 0 && this.entries.replyParts(this.ring, this.devFd, e, parts);
  }
}
