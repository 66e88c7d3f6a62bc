// posix_fadvise(POSIX_FADV_WILLNEED) through koffi (~150 ns a call here, see poll-in.ts; ffi-rs's 3-12 µs
// would cost more than the hint saves): the kernel starts reading a range of a file into the page cache and
// the call returns at once. An image server uses it for what a tree walk will read next, so that a cold page
// cache costs one disk wait for many pages instead of one wait per page, one after another.

import { lazyLibcFunction } from './koffi-libc.js';

const POSIX_FADV_WILLNEED = 3;

type Fadvise = (fd: number, offset: number, length: number, advice: number) => number;

const load = lazyLibcFunction<Fadvise>('int posix_fadvise(int fd, int64_t offset, int64_t len, int advice)');

/**
 * Asks the kernel to start reading [offset, +length) of `fd` into the page cache, without waiting. A hint:
 * false when it could not be given (no koffi, or the kernel refused), and nothing else changes either way.
 */
export function adviseWillNeed(fd: number, offset: number, length: number): boolean {
  const fadvise = load();
  return fadvise !== undefined && fadvise(fd, offset, length, POSIX_FADV_WILLNEED) === 0;
}
