// The /dev/fuse character device: opening the session fd, and cloning it so each worker thread owns an fd with
// its own processing queue (a reply must go back on the fd its request was read from).

import { closeSync, constants, openSync } from 'node:fs';
import { Errno, errnoName } from '../protocol/errno.js';
import { ioctlBufferRaw } from './libc.js';
import { FUSE_DEV_IOC_CLONE } from './ioctl-numbers.js';

export {
  FUSE_DEV_IOC_MAGIC,
  FUSE_DEV_IOC_CLONE,
  FUSE_DEV_IOC_BACKING_OPEN,
  FUSE_DEV_IOC_BACKING_CLOSE,
  FUSE_DEV_IOC_SYNC_INIT,
} from './ioctl-numbers.js';

export const FUSE_DEVICE_PATH = '/dev/fuse';

/**
 * Opens /dev/fuse read-write. Node opens it with O_CLOEXEC, so the fd does not leak into child processes
 * (fusermount3 gets its socket explicitly). Blocking mode on purpose: worker threads block in readSync.
 */
export function openFuseDevice(opts: { nonblocking?: boolean } = {}): number {
  return openSync(FUSE_DEVICE_PATH, opts.nonblocking ? constants.O_RDWR | constants.O_NONBLOCK : 'r+');
}

/**
 * Opens a new /dev/fuse fd attached to the connection of `sessionFd` (FUSE_DEV_IOC_CLONE). Only works once the
 * session fd has a connection, i.e. after the mount: before it the kernel answers EPERM (and EINVAL when
 * `sessionFd` is not a /dev/fuse fd at all). The new fd is closed again on failure. `nonblocking`: reads answer
 * EAGAIN instead of waiting when no request is queued.
 */
export function cloneFuseDevice(sessionFd: number, opts: { nonblocking?: boolean } = {}): number {
  const fd = openFuseDevice(opts);
  // The ioctl reads a u32 holding the session fd number through the pointer.
  const arg = Buffer.alloc(4);
  arg.writeUInt32LE(sessionFd >>> 0, 0);
  const r = ioctlBufferRaw(fd, FUSE_DEV_IOC_CLONE, arg);
  if (r.errno !== 0) {
    try {
      closeSync(fd);
    } catch {
      // the clone failed already; a close error adds nothing useful
    }
    const why =
      r.errno === 1
        ? 'the session fd has no FUSE connection yet (clone only works after the mount)'
        : r.errno === 22
          ? 'the session fd is not an open /dev/fuse fd with a connection'
          : errnoName(r.errno);
    throw new Errno(r.errno, `FUSE_DEV_IOC_CLONE of fd ${sessionFd} failed: ${why}`);
  }
  return fd;
}
