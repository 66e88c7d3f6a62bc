// The kernel's composefs view of an image, as the oracle for tsfuse's plain and overlay modes:
//   mount -t erofs -o ro IMAGE E && mount -t overlay overlay -o ro,metacopy=on,redirect_dir=on,lowerdir=E::OBJECTS V
// (what mount.composefs sets up, with verity off). Dumps go through test/helpers/tree-dump.ts like every oracle test.

import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { run, withKernelMount } from '../kit/index.js';
import { type DumpOptions, dumpTreeInChild } from '../../helpers/tree-dump.js';
import { DUMP_TIMEOUT_MS } from './oracle.js';

/** overlayfs option values escape ',', ':' and '\' with a backslash. */
const layer = (p: string): string => path.resolve(p).replace(/([\\,:])/g, '\\$1');

/** Mounts the kernel's composefs view of `image` over `objects`, runs fn(view), unmounts both in finally. */
export async function withKernelComposefs<T>(image: string, objects: string, fn: (view: string) => Promise<T>, extra = ''): Promise<T> {
  return withKernelMount(image, async (erofs) => {
    const view = fs.mkdtempSync(path.join(os.tmpdir(), 'tsfuse-kcfs-'));
    let mounted = false;
    try {
      const opts = `ro,metacopy=on,redirect_dir=on,lowerdir=${layer(erofs)}::${layer(objects)}${extra ? ',' + extra : ''}`;
      await run('mount', ['-t', 'overlay', 'overlay', '-o', opts, view], { timeoutMs: 30_000 });
      mounted = true;
      return await fn(view);
    } finally {
      if (mounted) {
        const r = await run('umount', [view], { check: false, timeoutMs: 30_000 });
        if (r.status !== 0) await run('umount', ['-l', view], { check: false, timeoutMs: 30_000 });
      }
      try {
        fs.rmdirSync(view);
      } catch {
        // busy after a lazy umount: left behind empty
      }
    }
  });
}

/** The kit dump of the kernel's composefs view. */
export async function kernelComposefsDump(image: string, objects: string, opts: DumpOptions = {}): Promise<string> {
  return withKernelComposefs(image, objects, (view) => dumpTreeInChild(view, DUMP_TIMEOUT_MS, opts));
}
