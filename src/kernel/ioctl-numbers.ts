// Linux ioctl request numbers, built with the kernel's _IOC formula (include/uapi/asm-generic/ioctl.h) so the
// values can be checked against the header rather than trusted as magic numbers. x86_64 and arm64 both use the
// generic layout: nr in bits 0-7, type in 8-15, size in 16-29, direction in 30-31.

export const IOC_NONE = 0;
export const IOC_WRITE = 1;
export const IOC_READ = 2;

export function IOC(dir: number, type: number, nr: number, size: number): number {
  // >>> 0 keeps the result an unsigned 32-bit number (dir READ sets bit 31)
  return ((dir << 30) | (size << 16) | (type << 8) | nr) >>> 0;
}
export const IO = (type: number, nr: number): number => IOC(IOC_NONE, type, nr, 0);
export const IOR = (type: number, nr: number, size: number): number => IOC(IOC_READ, type, nr, size);
export const IOW = (type: number, nr: number, size: number): number => IOC(IOC_WRITE, type, nr, size);
export const IOWR = (type: number, nr: number, size: number): number => IOC(IOC_READ | IOC_WRITE, type, nr, size);

/** FUSE_DEV_IOC_MAGIC from fuse_kernel.h. */
export const FUSE_DEV_IOC_MAGIC = 229;
/** sizeof(struct fuse_backing_map): {int32 fd, uint32 flags, uint64 padding}. */
export const FUSE_BACKING_MAP_SIZE = 16;

/** Attach a fresh /dev/fuse fd to an existing connection: _IOR(229, 0, uint32_t) = 0x8004e500. */
export const FUSE_DEV_IOC_CLONE = IOR(FUSE_DEV_IOC_MAGIC, 0, 4);
/** Register a backing file for passthrough: _IOW(229, 1, struct fuse_backing_map) = 0x4010e501. */
export const FUSE_DEV_IOC_BACKING_OPEN = IOW(FUSE_DEV_IOC_MAGIC, 1, FUSE_BACKING_MAP_SIZE);
/** Drop a backing id: _IOW(229, 2, uint32_t) = 0x4004e502. */
export const FUSE_DEV_IOC_BACKING_CLOSE = IOW(FUSE_DEV_IOC_MAGIC, 2, 4);
/** Ask for a synchronous INIT during mount (kernel 6.18+): _IO(229, 3) = 0xe503. Not used yet. */
export const FUSE_DEV_IOC_SYNC_INIT = IO(FUSE_DEV_IOC_MAGIC, 3);

/** fs-verity's ioctl type ('f', include/uapi/linux/fsverity.h). */
export const FS_IOC_MAGIC = 0x66;
/** sizeof(struct fsverity_digest) without its flexible digest[]: {u16 digest_algorithm, u16 digest_size}. */
export const FSVERITY_DIGEST_HEADER_SIZE = 4;
/** Read a file's fs-verity digest: _IOWR('f', 134, struct fsverity_digest) = 0xc0046686. */
export const FS_IOC_MEASURE_VERITY = IOWR(FS_IOC_MAGIC, 134, FSVERITY_DIGEST_HEADER_SIZE);
