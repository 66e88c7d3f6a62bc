// Where the tests' own material lives inside the repository: fixture images under test/fixtures/ and the
// reference headers under reference/. Found from this file's location (source tree or dist/ build tree), never
// from the cwd or a path outside the checkout.

import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

function findRepoRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    const pkg = join(dir, 'package.json');
    if (existsSync(pkg) && existsSync(join(dir, 'reference')) && /"name":\s*"tsfuse"/.test(readFileSync(pkg, 'utf8'))) return dir;
    const up = dirname(dir);
    if (up === dir) throw new Error('tsfuse repository root not found above ' + fileURLToPath(import.meta.url));
    dir = up;
  }
}

export const REPO_ROOT = findRepoRoot();
export const REFERENCE_DIR = join(REPO_ROOT, 'reference');
export const FIXTURES_DIR = join(REPO_ROOT, 'test', 'fixtures');
export const EROFS_FIXTURES = join(FIXTURES_DIR, 'erofs');
export const FUSE_KERNEL_H = join(REFERENCE_DIR, 'fuse_kernel.h');
export const EROFS_FS_H = join(REFERENCE_DIR, 'erofs_fs.h');
