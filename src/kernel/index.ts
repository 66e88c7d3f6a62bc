// src/kernel: the OS beyond node:fs (see DESIGN.md). Setup and per-open calls only; nothing here belongs on the
// per-request path. Call openLibc() (or anything below) in the main thread before starting workers.

export { openLibc, callLibc, callLibcRaw, cString, addressOf, ioctlBuffer, ioctlBufferRaw } from './libc.js';
export type { LibcResult } from './libc.js';
export {
  FUSE_DEVICE_PATH,
  openFuseDevice,
  cloneFuseDevice,
  FUSE_DEV_IOC_MAGIC,
  FUSE_DEV_IOC_CLONE,
  FUSE_DEV_IOC_BACKING_OPEN,
  FUSE_DEV_IOC_BACKING_CLOSE,
  FUSE_DEV_IOC_SYNC_INIT,
} from './device.js';
export { IOC, IO, IOR, IOW } from './ioctl-numbers.js';
export { backingOpen, backingClose } from './backing.js';
export { measureVerity } from './fsverity.js';
export type { MeasuredVerity } from './fsverity.js';
export { mount, umount2, MS, MNT } from './vfs.js';
export { mountFuse, unmountFuse, fuseMountData } from './mount.js';
export type { MountFuseOptions, MountedFuse, MountMethod, UnmountFuseOptions } from './mount.js';
export { parseMountOptions, splitOptions, DEFAULT_MOUNT_FLAGS } from './mountopts.js';
export type { ParsedMountOptions } from './mountopts.js';
export { findFusermount, fusermountMount, fusermountUnmount } from './fusermount.js';
export { socketPair, recvFd } from './socket.js';
export { readMountInfo, parseMountInfo, findMount, isFuseType, canonicalMountPath, unescapeMountPath } from './mountinfo.js';
export type { MountInfo } from './mountinfo.js';
export { FUSECTL_PATH, ensureFusectl, connectionIdFor, abortConnection, waitingRequests, kernelDev } from './fusectl.js';
