// poll(2) on one fd, through koffi (~150 ns a call here; ffi-rs's 3-12 µs would be felt between requests):
// whether a request is waiting on /dev/fuse, for work a worker does only while nothing is. Loaded on first use.

import { lazyLibcFunction } from './koffi-libc.js';

const POLLIN = 0x1;
/** struct pollfd: int fd; short events; short revents. */
const POLLFD_SIZE = 8;

type PollCall = (fds: Buffer, nfds: number, timeoutMs: number) => number;

const load = lazyLibcFunction<PollCall>('int poll(void *fds, unsigned long nfds, int timeout)');
const pollfd = Buffer.alloc(POLLFD_SIZE);

/** Whether poll(2) can be called here. */
export function canPoll(): boolean {
  return load() !== undefined;
}

/**
 * Waits up to `timeoutMs` for `fd` to be readable. True when it is (or poll failed: the caller's read then
 * sees why), false when the time passed with nothing to read.
 */
export function readableWithin(fd: number, timeoutMs: number): boolean {
  const poll = load();
  if (!poll) return true;
  pollfd.writeInt32LE(fd, 0);
  pollfd.writeInt16LE(POLLIN, 4);
  pollfd.writeInt16LE(0, 6);
  return poll(pollfd, 1, timeoutMs) !== 0;
}

const loadYield = lazyLibcFunction<() => number>('int sched_yield(void)');

/** sched_yield(2): a task waiting for this CPU runs now (nothing happens when none waits). */
export function yieldCpu(): void {
  loadYield()?.();
}
