// A ByteSource over a file descriptor, read with positioned reads (pread). Every worker can open the same
// image and share the page cache, which is the cheap way to serve one image from many threads.

import * as fs from 'node:fs';
import type { ByteSource } from './bytesource.js';
import { Errno, ERRNO } from '../protocol/errno.js';
import { adviseWillNeed } from '../kernel/read-ahead.js';

export class FileByteSource implements ByteSource {
  readonly size: number;
  readonly path: string | undefined;
  private fd: number;
  private readonly ownsFd: boolean;

  /** Opens `path` read-only; or wraps an already-open `fd` (not closed by close() unless `ownsFd`). */
  constructor(pathOrFd: string | number, options: { ownsFd?: boolean } = {}) {
    if (typeof pathOrFd === 'string') {
      this.path = pathOrFd;
      this.fd = fs.openSync(pathOrFd, fs.constants.O_RDONLY); // libuv opens with O_CLOEXEC
      this.ownsFd = true;
    } else {
      this.path = undefined;
      this.fd = pathOrFd;
      this.ownsFd = options.ownsFd ?? false;
    }
    try {
      const st = fs.fstatSync(this.fd);
      // The size is fixed at open: an image that changes under us is not supported, and a fixed bound is
      // what keeps every read inside [0, size).
      this.size = st.size;
    } catch (e) {
      if (this.ownsFd) fs.closeSync(this.fd);
      throw e;
    }
  }

  readInto(dst: Uint8Array, dstOffset: number, offset: number, length: number): void {
    if (!(offset >= 0 && length >= 0 && offset + length <= this.size && dstOffset >= 0 && dstOffset + length <= dst.length)) {
      throw new RangeError(`FileByteSource: read [${offset}, +${length}) outside [0, ${this.size}) or buffer`);
    }
    if (this.fd < 0) throw new Errno(ERRNO.EBADF, 'FileByteSource is closed');
    let done = 0;
    while (done < length) {
      const n = fs.readSync(this.fd, dst, dstOffset + done, length - done, offset + done);
      // A short read at a position below the size we saw at open means the file shrank: report it as I/O
      // error rather than handing back stale bytes.
      if (n <= 0) throw new Errno(ERRNO.EIO, `image file ended early at ${offset + done} (size was ${this.size})`);
      done += n;
    }
  }

  willNeed(offset: number, length: number): void {
    if (this.fd >= 0 && offset >= 0 && length > 0 && offset + length <= this.size) adviseWillNeed(this.fd, offset, length);
  }

  close(): void {
    if (this.fd >= 0 && this.ownsFd) fs.closeSync(this.fd);
    this.fd = -1;
  }
}
