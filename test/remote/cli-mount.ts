// A `tsfuse ... mount --foreground` child for the remote tests that check what the command line prints (SIGUSR1
// statistics, --debug lines): started on a fresh mountpoint, waited for until mounted, and always ended — SIGTERM,
// a SIGKILL watchdog, and a lazy unmount if the mount outlived its server.

import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import { unmountFuse } from '../../src/kernel/mount.js';
import { isMounted } from '../erofs/conformance/mount.js';
import { waitFor } from '../helpers/fs-wrappers.js';
import { REPO_ROOT } from '../helpers/fixtures.js';
import { tempDir } from './servers/index.js';
import { assertCliMountOverUring, uringMountArgs } from '../helpers/uring.js';

const CLI = `${REPO_ROOT}/dist/src/cli/main.js`;

export interface ForegroundMount {
  mnt: string;
  /** What the command wrote to stderr so far. */
  stderr(): string;
  signal(sig: NodeJS.Signals): void;
}

/** Runs `tsfuse ARGS... MNT --foreground` (MNT appended after args) while fn runs. */
export async function withForegroundMount<T>(args: string[], fn: (m: ForegroundMount) => Promise<T>, timeoutMs = 90_000): Promise<T> {
  const mnt = tempDir('tsfuse-mnt-');
  const child = spawn(process.execPath, [CLI, ...args.slice(0, 3), mnt, ...args.slice(3), ...uringMountArgs(), '--foreground'], { stdio: ['ignore', 'pipe', 'pipe'] });
  let err = '';
  child.stderr.on('data', (d) => (err += d));
  const watchdog = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
  try {
    await waitFor(() => isMounted(mnt), Math.min(60_000, timeoutMs), 'the mount');
    await assertCliMountOverUring(mnt);
    return await fn({ mnt, stderr: () => err, signal: (s) => child.kill(s) });
  } finally {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGTERM');
      await new Promise((r) => child.once('exit', r));
    }
    clearTimeout(watchdog);
    if (isMounted(mnt)) unmountFuse(mnt, { lazy: true });
    fs.rmdirSync(mnt);
  }
}
