// Every test mount goes through here: a temp mountpoint, the session, a watchdog that aborts the FUSE
// connection (fusectl) if the test runs too long, and an unmount in finally. A hung mount must never outlive
// its test.

import { mkdtempSync, rmdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Session, type SessionOptions } from '../../src/server/session.js';
import type { Filesystem, FilesystemModule } from '../../src/fs/types.js';
import { abortConnection, ensureFusectl } from '../../src/kernel/fusectl.js';
import { unmountFuse } from '../../src/kernel/mount.js';
import { assertSessionOverUring, URING_PASS } from './uring.js';

export interface MountedTest {
  mnt: string;
  session: Session;
}

export async function withMount<T>(
  fs: Filesystem | FilesystemModule,
  opts: Omit<SessionOptions, 'mountpoint'> & { timeoutMs?: number; mountpoint?: string },
  fn: (m: MountedTest) => Promise<T>,
): Promise<T> {
  const mnt = opts.mountpoint ?? mkdtempSync(join(tmpdir(), 'tsfuse-mnt-'));
  const timeoutMs = opts.timeoutMs ?? 120_000;
  try {
    ensureFusectl();
  } catch {
    // tests still run; the watchdog falls back to a lazy unmount
  }
  // the io_uring pass (test/helpers/uring.ts): every worker-mode mount over io_uring, unless the test chose
  const uringPass = opts.ioUring === undefined && URING_PASS && typeof (fs as FilesystemModule).module === 'string';
  const session = await Session.mount(fs, { ...opts, ioUring: opts.ioUring ?? uringPass, mountpoint: mnt });
  if (uringPass) {
    try {
      assertSessionOverUring(session, `the mount at ${mnt}`);
    } catch (e) {
      await session.unmount({ abortAfterMs: 5000 });
      throw e;
    }
  }
  const watchdog = startWatchdog(mnt, timeoutMs, () => {
    try {
      session.abort();
    } catch {
      abortConnection(mnt);
    }
  });
  try {
    const r = await fn({ mnt, session });
    watchdog.check();
    if (uringPass) assertSessionOverUring(session, `the mount at ${mnt}`);
    return r;
  } finally {
    watchdog.stop();
    await session.unmount({ abortAfterMs: 5000 });
    if (!opts.mountpoint) {
      try {
        rmdirSync(mnt);
      } catch {
        // left for the OS temp cleaner if still busy
      }
    }
  }
}

export interface Watchdog {
  /** Throws when the watchdog fired (the test ran too long and its mount was aborted). */
  check(): void;
  stop(): void;
}

/**
 * After `timeoutMs`, aborts the FUSE connection (`abort`, e.g. session.abort()) and lazily unmounts `mnt` and
 * then `alsoUnmount` (mounts stacked on it first, e.g. an overlay), so a hung test cannot keep a mount.
 */
export function startWatchdog(mnt: string, timeoutMs: number, abort: () => void, alsoUnmount: readonly string[] = []): Watchdog {
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    process.stderr.write(`watchdog: ${mnt} still mounted after ${timeoutMs} ms, aborting the connection\n`);
    try {
      abort();
    } catch {
      // gone already
    }
    for (const dir of [...alsoUnmount, mnt]) {
      try {
        unmountFuse(dir, { lazy: true });
      } catch {
        // not mounted (any more)
      }
    }
  }, timeoutMs);
  timer.unref();
  return {
    check() {
      if (timedOut) throw new Error(`test timed out after ${timeoutMs} ms (watchdog aborted the mount)`);
    },
    stop() {
      clearTimeout(timer);
    },
  };
}
