// FS_IOC_MEASURE_VERITY: the fs-verity digest the kernel holds for a file with fs-verity enabled (it then checks
// every page read from the file against the Merkle tree, so the digest stands for the whole content). One ffi
// call per object open, never per request.

import { FS_IOC_MEASURE_VERITY, FSVERITY_DIGEST_HEADER_SIZE } from './ioctl-numbers.js';
import { ioctlBufferRaw } from './libc.js';
import { ERRNO, Errno, errnoName } from '../protocol/errno.js';

/** FS_VERITY_MAX_DIGEST_SIZE: SHA-512. */
const MAX_DIGEST_SIZE = 64;

export interface MeasuredVerity {
  /** FS_VERITY_HASH_ALG_* (1 SHA-256, 2 SHA-512). */
  algorithm: number;
  digest: Buffer;
}

/**
 * The fs-verity digest of the open file `fd`, or undefined when the file has no fs-verity (ENODATA) or its
 * filesystem has none at all (ENOTTY, EOPNOTSUPP, EINVAL on some). Any other failure throws an Errno.
 */
export function measureVerity(fd: number): MeasuredVerity | undefined {
  const arg = Buffer.alloc(FSVERITY_DIGEST_HEADER_SIZE + MAX_DIGEST_SIZE);
  arg.writeUInt16LE(MAX_DIGEST_SIZE, 2); // in: room for the digest; out: its size
  const r = ioctlBufferRaw(fd, FS_IOC_MEASURE_VERITY, arg);
  if (r.errno === ERRNO.ENODATA || r.errno === ERRNO.ENOTTY || r.errno === ERRNO.EOPNOTSUPP || r.errno === ERRNO.EINVAL) return undefined;
  if (r.errno !== 0) throw new Errno(r.errno, `FS_IOC_MEASURE_VERITY failed (${errnoName(r.errno)})`);
  const size = arg.readUInt16LE(2);
  if (size > MAX_DIGEST_SIZE) throw new Errno(ERRNO.EIO, `FS_IOC_MEASURE_VERITY: digest of ${size} bytes`);
  return { algorithm: arg.readUInt16LE(0), digest: Buffer.from(arg.subarray(FSVERITY_DIGEST_HEADER_SIZE, FSVERITY_DIGEST_HEADER_SIZE + size)) };
}
