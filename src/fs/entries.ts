// Entry replies every filesystem here builds the same way.

import type { Entry } from './types.js';

/**
 * Default entry and attribute timeout, in seconds, of filesystems whose tree changes only through them or not
 * at all (passthrough without nocache, EROFS images): a day, as libfuse's passthrough_hp uses.
 */
export const STABLE_TREE_TIMEOUT = 86400;

const NO_ATTR = Object.freeze({ ino: 0, mode: 0, nlink: 0, uid: 0, gid: 0, size: 0, atime: 0, mtime: 0, ctime: 0 });

/** A negative entry (ino 0): the kernel remembers that the name is absent for `timeout` seconds. */
export function negativeEntry(timeout: number): Entry {
  return { ino: 0, attr: { ...NO_ATTR }, entryTimeout: timeout, attrTimeout: 0 };
}
