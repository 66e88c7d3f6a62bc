// Reading /dev/fuse: a blocking fs.readSync into a preallocated buffer (never async fs.read: a blocked
// read would hold one of libuv's four threadpool threads forever). The errors below are the kernel's way
// of saying "try again" or "the mount is gone".

import { readSync } from 'node:fs';

export const READ_AGAIN = -1;
export const READ_GONE = -2;

/** Returns the byte count, READ_AGAIN (interrupted/retry) or READ_GONE (unmounted/aborted). */
export function readRequest(fd: number, buf: Buffer, size: number): number {
  try {
    return readSync(fd, buf, 0, size, null);
  } catch (err) {
    const code = (err as { code?: string }).code;
    // ENOENT: the request was interrupted before we read it; EINTR/EAGAIN: retry.
    if (code === 'ENOENT' || code === 'EINTR' || code === 'EAGAIN') return READ_AGAIN;
    // ENODEV: unmounted; ECONNABORTED: aborted through fusectl (with FUSE_ABORT_ERROR); EBADF: fd closed.
    if (code === 'ENODEV' || code === 'ECONNABORTED' || code === 'EBADF' || code === 'EPERM') return READ_GONE;
    throw err;
  }
}
