// Shared by the writer tests: running the tsfuse CLI in a child process, and the kernel's composefs view of
// an image (the in-kernel EROFS mount with overlayfs on top, object store as data-only layer), always
// unmounted in finally.

import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { run, type RunResult } from '../kit/index.js';

export const CLI = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../../src/cli/main.js');

/** Runs `tsfuse ARGS` (never throws on a non-zero exit); `asNobody` drops to uid/gid 65534 through setpriv. */
export function tsfuse(args: string[], opts: { input?: Buffer; timeoutMs?: number; asNobody?: boolean } = {}): Promise<RunResult> {
  const o = { check: false, timeoutMs: opts.timeoutMs ?? 300_000, input: opts.input };
  if (opts.asNobody) return run('setpriv', ['--reuid=65534', '--regid=65534', '--clear-groups', process.execPath, CLI, ...args], o);
  return run(process.execPath, [CLI, ...args], o);
}

/** Mounts the composefs view of `image` (objects in `objects`) on a fresh directory for fn; cleans up. */
export async function withComposefsView<T>(image: string, objects: string, fn: (dir: string) => Promise<T>): Promise<T> {
  const base = fs.mkdtempSync(path.join(os.tmpdir(), 'tsfuse-cfsview-'));
  const e = path.join(base, 'e');
  const v = path.join(base, 'v');
  fs.mkdirSync(e);
  fs.mkdirSync(v);
  let eMounted = false;
  let vMounted = false;
  try {
    await run('mount', ['-t', 'erofs', '-o', 'ro', path.resolve(image), e], { timeoutMs: 30_000 });
    eMounted = true;
    await run('mount', ['-t', 'overlay', 'overlay', '-o', `ro,metacopy=on,redirect_dir=on,lowerdir=${e}::${path.resolve(objects)}`, v], { timeoutMs: 30_000 });
    vMounted = true;
    return await fn(v);
  } finally {
    if (vMounted) await run('umount', [v], { check: false, timeoutMs: 30_000 });
    if (eMounted) await run('umount', [e], { check: false, timeoutMs: 30_000 });
    fs.rmSync(base, { recursive: true, force: true });
  }
}
