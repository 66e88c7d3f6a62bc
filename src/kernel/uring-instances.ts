// How many io_uring instances a process holds open (its fds that are anon_inode:[io_uring]): how the test
// helpers and the bench tell, from outside, that a server's workers set up rings instead of falling back to
// /dev/fuse reads (a background or foreground CLI mount's log is not always readable).

import { readdirSync, readlinkSync } from 'node:fs';

export function uringInstances(pid: number): number {
  let n = 0;
  try {
    for (const fd of readdirSync(`/proc/${pid}/fd`)) {
      try {
        if (readlinkSync(`/proc/${pid}/fd/${fd}`) === 'anon_inode:[io_uring]') n++;
      } catch {
        // closed meanwhile
      }
    }
  } catch {
    // ended meanwhile
  }
  return n;
}
