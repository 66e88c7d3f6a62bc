// The workplace's shared/ folder (reference headers, EROFS fixtures) stands beside the repository: in CI the
// clone is `<dir>/main` with `<dir>/shared`. Found from this file's location, not from the cwd.

import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

function findShared(): string {
  if (process.env.TSFUSE_SHARED_DIR) return process.env.TSFUSE_SHARED_DIR;
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 8; i++) {
    const candidate = join(dir, 'shared');
    if (existsSync(join(candidate, 'reference')) && existsSync(join(candidate, 'fixtures'))) return candidate;
    const parent = resolve(dir, '..');
    if (parent === dir) break;
    dir = parent;
  }
  return '/work/shared';
}

export const SHARED_DIR = findShared();
export const EROFS_FIXTURES = join(SHARED_DIR, 'fixtures', 'erofs');
export const FUSE_KERNEL_H = join(SHARED_DIR, 'reference', 'fuse_kernel.h');
