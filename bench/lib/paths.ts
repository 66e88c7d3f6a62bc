// Where things are: the repository (sources, bench/data), the compiled tree this file runs from (dist/ or
// .build/bench/), and the bench's scratch space on ext4 under /var/tmp (big data, mountpoints).

import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));

/** The compiled tree: <build>/bench/lib/paths.js -> <build>. */
export const BUILD_ROOT = resolve(here, '..', '..');

function findRepo(start: string): string {
  let d = start;
  for (let i = 0; i < 8; i++) {
    const pj = join(d, 'package.json');
    if (existsSync(pj)) {
      try {
        if ((JSON.parse(readFileSync(pj, 'utf8')) as { name?: string }).name === 'tsfuse') return d;
      } catch {
        // keep looking
      }
    }
    d = dirname(d);
  }
  throw new Error(`cannot find the tsfuse repository above ${start}`);
}

export const REPO = findRepo(here);
/** Small generated things (compiled clients, npm peers): bench/data (gitignored). */
export const BENCH_DATA = join(REPO, 'bench', 'data');
export const RESULTS = join(REPO, 'bench', 'results');
/**
 * Big data and mountpoints: ext4 (passthrough backing files on tmpfs do not work) and outside the
 * repository, so tsc's include walk and other engineers' greps never descend into 100k files or a mount.
 */
export const SCRATCH = process.env.TSFUSE_BENCH_DIR ?? '/var/tmp/tsfuse-bench';
export const MNT_ROOT = join(SCRATCH, 'mnt');
export const LOGS = join(SCRATCH, 'logs');

/** A compiled module of this build, e.g. built('src/cli/main.js'). */
export function built(rel: string): string {
  return join(BUILD_ROOT, rel);
}
