// withKernelMount: mount an image with the in-kernel EROFS driver (the oracle), run fn(dir), always unmount.
// Kernel 6.18 mounts an image file directly (`mount -t erofs -o ro FILE DIR`, no loop device).
// withKernelMountSync is the same for synchronous callers (reader-level unit tests that serve no FUSE mount).

import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { run, runSync } from './proc.js';

export interface KernelMountOptions {
  /** Extra mount options appended after "ro" (e.g. "user_xattr", "acl"). */
  options?: string;
  /** Filesystem type (default "erofs"; "squashfs" works for mksquashfs images through a loop device). */
  type?: string;
  /** Timeout of the mount and umount commands (default 30 s). */
  timeoutMs?: number;
}

function mountArgs(image: string, dir: string, opts: KernelMountOptions): string[] {
  const type = opts.type ?? 'erofs';
  const options = ['ro', ...(type === 'squashfs' ? ['loop'] : []), ...(opts.options ? [opts.options] : [])].join(',');
  return ['-t', type, '-o', options, path.resolve(image), dir];
}

function removeMountpoint(dir: string): void {
  try {
    fs.rmdirSync(dir);
  } catch {
    // still busy after a lazy umount: leave the empty directory behind
  }
}

async function unmount(dir: string, timeoutMs: number): Promise<void> {
  const r = await run('umount', [dir], { check: false, timeoutMs });
  if (r.status !== 0) await run('umount', ['-l', dir], { check: false, timeoutMs });
}

/** Mounts `image` read-only on a fresh temporary directory, returns fn(dir)'s result; unmounts in finally. */
export async function withKernelMount<T>(
  image: string,
  fn: (dir: string) => Promise<T> | T,
  opts: KernelMountOptions = {},
): Promise<T> {
  const timeoutMs = opts.timeoutMs ?? 30_000;
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tsfuse-kmnt-'));
  let mounted = false;
  try {
    await run('mount', mountArgs(image, dir, opts), { timeoutMs });
    mounted = true;
    return await fn(dir);
  } finally {
    if (mounted) await unmount(dir, timeoutMs);
    removeMountpoint(dir);
  }
}

/** withKernelMount for synchronous callers (never while this thread serves a FUSE mount). */
export function withKernelMountSync<T>(image: string, fn: (dir: string) => T, opts: KernelMountOptions = {}): T {
  const timeoutMs = opts.timeoutMs ?? 30_000;
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tsfuse-kmnt-'));
  let mounted = false;
  try {
    runSync('mount', mountArgs(image, dir, opts), { timeoutMs });
    mounted = true;
    return fn(dir);
  } finally {
    if (mounted && runSync('umount', [dir], { check: false, timeoutMs }).status !== 0) {
      runSync('umount', ['-l', dir], { check: false, timeoutMs });
    }
    removeMountpoint(dir);
  }
}

export interface MountAttempt {
  mounted: boolean;
  /** mount(8)'s message when it failed. */
  error?: string;
}

/** Whether the kernel accepts the image at mount time (for corrupted copies); unmounts at once. */
export async function kernelMountAttempt(image: string, opts: KernelMountOptions = {}): Promise<MountAttempt> {
  try {
    return await withKernelMount(image, () => ({ mounted: true }), opts);
  } catch (e) {
    return { mounted: false, error: (e as Error).message };
  }
}
