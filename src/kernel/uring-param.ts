// The fuse module's enable_uring parameter (kernel 6.14+): whether a new FUSE connection may be served over
// io_uring. Off by default; the test runner's io_uring pass and the bench's io_uring contenders switch it on
// for their run and must put it back, also when they end on an error or a signal. One place for that, so both
// restore it the same way (scripts/run-tests.mjs loads this from dist/).

import { existsSync, readFileSync, writeFileSync } from 'node:fs';

export const URING_PARAM = '/sys/module/fuse/parameters/enable_uring';

/** What enable_uring was before enableUringParam() set it, while it is set. */
let before: string | undefined;
let hooked = false;

/** Whether this kernel's fuse module has FUSE over io_uring (the parameter exists). */
export function uringParamPresent(): boolean {
  return existsSync(URING_PARAM);
}

/**
 * Sets enable_uring to Y, remembering what it was; restoreUringParam() (or this process's exit) puts it
 * back. Throws when it cannot be written (not root, no parameter). Calling it again while set is a no-op.
 */
export function enableUringParam(): void {
  if (before !== undefined) return;
  const was = readFileSync(URING_PARAM, 'utf8').trim();
  writeFileSync(URING_PARAM, 'Y');
  before = was;
  if (!hooked) {
    hooked = true;
    // 'exit' also runs on process.exit() from a signal handler (the bench's and the test runner's)
    process.on('exit', () => restoreUringParam());
  }
}

/** Puts enable_uring back to what it was before enableUringParam(); a one-line message on stderr if it cannot. */
export function restoreUringParam(): void {
  if (before === undefined) return;
  try {
    writeFileSync(URING_PARAM, before);
  } catch (e) {
    process.stderr.write(`could not put ${URING_PARAM} back to ${before}: ${(e as Error).message}\n`);
  }
  before = undefined;
}
