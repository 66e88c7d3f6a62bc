// The io_uring pass of scripts/run-tests.mjs (TSFUSE_TEST_IO_URING=1 with the fuse module's enable_uring set
// to Y): the worker-mode mounts of the files it runs again must serve over FUSE io_uring, and a mount that
// fell back to /dev/fuse reads must fail its test rather than pass quietly. Session mounts are checked by the
// mount helpers (session.transport, the ring's REGISTER count); a `tsfuse ... mount` command by the io_uring
// instances its serving process holds, because a background mount's log goes nowhere the test can read.

import { readdirSync, readFileSync } from 'node:fs';
import type { Session } from '../../src/server/session.js';
import { uringInstances } from '../../src/kernel/uring-instances.js';

/** This run is the io_uring pass. */
export const URING_PASS = process.env.TSFUSE_TEST_IO_URING === '1';

/** What a test adds to a `tsfuse erofs|puzzlefs mount` command line: `-o io_uring` in the pass, else nothing. */
export function uringMountArgs(): string[] {
  return URING_PASS ? ['-o', 'io_uring'] : [];
}

/** In the pass: throws when `session` serves /dev/fuse reads, or a worker's ring REGISTER failed (it then does too). */
export function assertSessionOverUring(session: Session, what: string): void {
  if (!URING_PASS) return;
  if (session.transport !== 'io_uring') throw new Error(`TSFUSE_TEST_IO_URING=1 but ${what} serves over ${session.transport}`);
  const { registerFailed } = session.uringCounts();
  if (registerFailed > 0) throw new Error(`TSFUSE_TEST_IO_URING=1 but ${registerFailed} io_uring REGISTERs of ${what} failed (served through /dev/fuse reads)`);
}

/** Processes other than this one with `arg` among their command-line arguments. */
function pidsWithArg(arg: string): number[] {
  const pids: number[] = [];
  for (const name of readdirSync('/proc')) {
    const pid = Number(name);
    if (!Number.isInteger(pid) || pid === process.pid) continue;
    try {
      if (readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').includes(arg)) pids.push(pid);
    } catch {
      // ended meanwhile
    }
  }
  return pids;
}

/**
 * In the pass: throws unless the process serving the CLI mount at `mnt` (the `tsfuse` process with `mnt` on
 * its command line) holds io_uring instances within `ms`, i.e. its workers set up rings instead of falling
 * back. (A foreground mount is in /proc/mounts before its first worker has its ring: hence the wait.)
 */
export async function assertCliMountOverUring(mnt: string, ms = 10_000): Promise<void> {
  if (!URING_PASS) return;
  const end = Date.now() + ms;
  let pids = pidsWithArg(mnt);
  while (!pids.some((p) => uringInstances(p) > 0)) {
    if (Date.now() > end) {
      if (pids.length === 0) throw new Error(`TSFUSE_TEST_IO_URING=1: no serving process found for the CLI mount at ${mnt}`);
      throw new Error(`TSFUSE_TEST_IO_URING=1 but the CLI mount at ${mnt} (pid ${pids.join(' ')}) holds no io_uring: it serves /dev/fuse reads`);
    }
    await new Promise((r) => setTimeout(r, 50));
    pids = pidsWithArg(mnt);
  }
}
