// withErofsMount: every tsfuse image mount of the conformance tests goes through here. A temporary
// mountpoint, mountErofs, a watchdog that aborts the FUSE connection (session.abort(), fusectl) if the test
// runs too long, log collection, a record of serving threads that ended early, and an unmount in finally.
// Log lines (the session's and the image server's, and --debug traces) are collected, not printed.

import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { Worker } from 'node:worker_threads';
import { type MountErofsOptions, type MountedErofs, mountErofs } from '../../../src/erofs/mount.js';
import { ensureFusectl } from '../../../src/kernel/fusectl.js';
import { findMount } from '../../../src/kernel/mountinfo.js';
import { startWatchdog } from '../../helpers/mount.js';
import { assertSessionOverUring, URING_PASS } from '../../helpers/uring.js';

export interface ErofsMountHandle {
  /** The FUSE mountpoint. */
  mnt: string;
  m: MountedErofs;
  /** Every log line so far (session log: server, image server, --debug traces), in arrival order. */
  logs: string[];
  /** Serving threads that exited or threw while the mount was up ("worker N exit CODE" / "worker N error ..."). */
  threadEvents: string[];
  /** Milliseconds mountErofs took (until the mount answered INIT and the workers were ready). */
  mountMs: number;
}

export type ErofsMountOptions = Omit<MountErofsOptions, 'mountpoint' | 'log'> & {
  /** Watchdog: abort the connection after this long (default 90 s). */
  timeoutMs?: number;
  mountpoint?: string;
};

// ---- mounts -----------------------------------------------------------------------------------------------------

function privateWorkers(m: MountedErofs): Worker[] {
  const w = (m.session as unknown as { workers?: Worker[] }).workers;
  return Array.isArray(w) ? w : [];
}

/** Whether something is mounted at `dir` (from /proc/self/mountinfo: never touches the directory). */
export function isMounted(dir: string): boolean {
  return findMount(dir) !== undefined;
}

export async function withErofsMount<T>(opts: ErofsMountOptions, fn: (h: ErofsMountHandle) => Promise<T>): Promise<T> {
  const { timeoutMs = 90_000, mountpoint, ...mo } = opts;
  const mnt = mountpoint ?? fs.mkdtempSync(path.join(os.tmpdir(), 'tsfuse-conf-'));
  try {
    ensureFusectl();
  } catch {
    // the watchdog falls back to a lazy unmount
  }
  const logs: string[] = [];
  const threadEvents: string[] = [];
  let m: MountedErofs;
  const t0 = performance.now();
  try {
    // the io_uring pass (test/helpers/uring.ts): the same mount over FUSE over io_uring
    const options = URING_PASS ? [...(mo.options ?? []), 'io_uring'] : mo.options;
    m = await mountErofs({ ...mo, options, mountpoint: mnt, log: (s) => logs.push(s) });
  } catch (e) {
    if (!mountpoint) {
      try {
        fs.rmdirSync(mnt);
      } catch {
        // busy: left to the temp cleaner
      }
    }
    throw e;
  }
  const mountMs = performance.now() - t0;
  try {
    assertSessionOverUring(m.session, `the image mount at ${mnt}`);
  } catch (e) {
    await m.unmount();
    throw e;
  }
  let unmounting = false;
  const workers = privateWorkers(m);
  // Session keeps its Worker objects private: if that ever changes, say so instead of watching nothing.
  if (workers.length !== m.session.threads) threadEvents.push(`cannot observe the serving threads (${workers.length} of ${m.session.threads})`);
  workers.forEach((w, i) => {
    w.on('exit', (code) => {
      if (!unmounting) threadEvents.push(`worker ${i} exit ${code}`);
    });
    w.on('error', (err) => threadEvents.push(`worker ${i} error ${err instanceof Error ? err.message : String(err)}`));
  });
  const watchdog = startWatchdog(mnt, timeoutMs, () => m.session.abort(), m.overlay ? [m.overlay] : []);
  try {
    const r = await fn({ mnt, m, logs, threadEvents, mountMs });
    watchdog.check();
    assertSessionOverUring(m.session, `the image mount at ${mnt}`);
    return r;
  } finally {
    watchdog.stop();
    unmounting = true;
    try {
      await m.unmount();
    } catch (e) {
      process.stderr.write(`withErofsMount: unmount ${mnt}: ${(e as Error).message}\n`);
      m.session.abort();
      await m.session.unmount({ abortAfterMs: 2000 });
    }
    if (!mountpoint) {
      try {
        fs.rmdirSync(mnt);
      } catch {
        // still busy after a lazy unmount
      }
    }
  }
}

/** Image-server log lines (from any worker) among `logs`. */
export function serverLines(logs: string[]): string[] {
  return logs.filter((l) => /tsfuse erofs: /.test(l));
}

/** A fresh temporary directory under `base` (default os.tmpdir()). */
export function tempDir(prefix: string, base = os.tmpdir()): string {
  return fs.mkdtempSync(path.join(base, prefix));
}

/** Collects "label: N ms" lines and prints them at the end of a test file. */
export class Timings {
  readonly lines: string[] = [];
  constructor(readonly title: string) {}
  async time<T>(label: string, fn: () => Promise<T> | T): Promise<T> {
    const t0 = performance.now();
    try {
      return await fn();
    } finally {
      this.lines.push(`${label}: ${(performance.now() - t0).toFixed(0)} ms`);
    }
  }
  note(line: string): void {
    this.lines.push(line);
  }
  print(): void {
    console.log(`${this.title}:\n  ${this.lines.join('\n  ')}`);
  }
}
