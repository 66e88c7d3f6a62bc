// Building test images with the installed mkfs.erofs (erofs-utils 1.5 on Debian 12).

import { execFileSync, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

let available: boolean | undefined;
export function haveMkfs(): boolean {
  if (available === undefined) available = spawnSync('mkfs.erofs', ['--help'], { stdio: 'ignore' }).status !== null;
  return available;
}

export function tempDir(prefix: string): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), `tsfuse-erofs-${prefix}-`));
}

/** Runs mkfs.erofs with `args` on `srcDir`, returning the image path (inside `outDir`). */
export function mkfs(outDir: string, name: string, srcDir: string, args: string[]): string {
  const image = path.join(outDir, name);
  execFileSync('mkfs.erofs', ['--quiet', ...args, image, srcDir], { stdio: 'pipe' });
  return image;
}

export function setXattr(file: string, name: string, value: string | Buffer): void {
  const v = typeof value === 'string' ? value : '0x' + value.toString('hex');
  execFileSync('setfattr', ['-h', '-n', name, '-v', v, file], { stdio: 'pipe' });
}
