// The one way out to the kernel: every reply, EINTR answer, notification and the INIT reply is written
// through a Channel. The device channel writes with writeSync/writevSync (one write(2) is one message) and
// holds the only policy for a failed write: the kernel saying nobody waits for the message any more is
// normal, anything else is logged. Tests hand the dispatcher a RecordingChannel instead of a file.

import { writeSync, writevSync } from 'node:fs';

export interface Channel {
  /**
   * Sends buf[0, len) to `fd` as one message. Returns false when it was not delivered (nobody waits for it,
   * or the write failed and was logged); never throws.
   */
  write(fd: number, buf: Uint8Array, len: number): boolean;
  /** Sends the parts to `fd` as one message (writev); as write. */
  writev(fd: number, parts: readonly Uint8Array[]): boolean;
}

/**
 * Write errors that only say the message has no taker: ENOENT, the request was interrupted or aborted
 * meanwhile (or a notification names an inode the kernel forgot); ENODEV, unmounted; ECONNABORTED, the
 * connection was aborted through fusectl.
 */
const NO_TAKER = new Set(['ENOENT', 'ENODEV', 'ECONNABORTED']);

export class DeviceChannel implements Channel {
  constructor(private readonly log: (msg: string) => void) {}

  write(fd: number, buf: Uint8Array, len: number): boolean {
    try {
      writeSync(fd, buf, 0, len);
      return true;
    } catch (err) {
      return this.failed(err);
    }
  }

  writev(fd: number, parts: readonly Uint8Array[]): boolean {
    try {
      writevSync(fd, parts as Uint8Array[]);
      return true;
    } catch (err) {
      return this.failed(err);
    }
  }

  private failed(err: unknown): false {
    const code = (err as { code?: unknown }).code;
    if (typeof code !== 'string' || !NO_TAKER.has(code)) this.log(`tsfuse: writing to /dev/fuse failed: ${String(err)}`);
    return false;
  }
}

/** A channel that keeps a copy of every message (for tests of the dispatcher without a device). */
export class RecordingChannel implements Channel {
  readonly messages: { fd: number; bytes: Buffer }[] = [];

  write(fd: number, buf: Uint8Array, len: number): boolean {
    this.messages.push({ fd, bytes: Buffer.from(buf.subarray(0, len)) });
    return true;
  }

  writev(fd: number, parts: readonly Uint8Array[]): boolean {
    this.messages.push({ fd, bytes: Buffer.concat(parts) });
    return true;
  }

  /** Removes and returns the recorded messages. */
  take(): { fd: number; bytes: Buffer }[] {
    return this.messages.splice(0);
  }
}
