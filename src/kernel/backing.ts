// Backing files for FUSE passthrough (kernel 6.9+): the server registers an open fd with the connection and
// gets a backing id to put in an OPEN reply (FOPEN_PASSTHROUGH); the kernel then does reads and writes on the
// backing file itself, and no READ/WRITE reaches the server. Needs CAP_SYS_ADMIN, and an INIT reply that
// accepted FUSE_PASSTHROUGH with max_stack_depth >= 1 (EPERM otherwise). Per-open calls, not per-request.

import { ioctlBuffer } from './libc.js';
import { FUSE_BACKING_MAP_SIZE, FUSE_DEV_IOC_BACKING_CLOSE, FUSE_DEV_IOC_BACKING_OPEN } from './ioctl-numbers.js';

/**
 * Registers `fd` (an open file, on a filesystem that supports it: ext4/xfs yes, tmpfs reportedly not) as a
 * backing file of the connection behind `devFd` and returns the backing id (1, 2, ...). The kernel takes its
 * own reference: the caller may close `fd` right after. Throws an Errno.
 */
export function backingOpen(devFd: number, fd: number): number {
  // struct fuse_backing_map { int32_t fd; uint32_t flags; uint64_t padding; } with flags and padding 0.
  const map = Buffer.alloc(FUSE_BACKING_MAP_SIZE);
  map.writeInt32LE(fd, 0);
  return ioctlBuffer(devFd, FUSE_DEV_IOC_BACKING_OPEN, map, `FUSE_DEV_IOC_BACKING_OPEN of fd ${fd}`);
}

/**
 * Drops backing id `id`. Files already opened with it keep working (they hold their own reference).
 * Throws an Errno (ENOENT for an unknown id).
 */
export function backingClose(devFd: number, id: number): void {
  const arg = Buffer.alloc(4);
  arg.writeUInt32LE(id >>> 0, 0);
  ioctlBuffer(devFd, FUSE_DEV_IOC_BACKING_CLOSE, arg, `FUSE_DEV_IOC_BACKING_CLOSE of id ${id}`);
}
