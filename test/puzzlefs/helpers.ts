// Shared setup of the PuzzleFS mount tests: source trees on a private tmpfs (ext4 caps xattr values at a
// block, tmpfs takes 64 KiB), the kit's generated tree plus what PuzzleFS tests add (64 KiB xattrs, a
// 20000-entry directory, large and sparse files), and mounts through test/helpers' withMount (watchdog).

import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { setxattr as lsetxattr } from '../../src/kernel/fsops.js';
import type { Session } from '../../src/server/session.js';
import { withMount } from '../helpers/mount.js';
import { generateTree } from '../erofs/kit/index.js';
import { Prng } from '../erofs/kit/prng.js';

export const FS_MODULE = fileURLToPath(new URL('../../src/puzzlefs/filesystem.js', import.meta.url));
export const CLI = fileURLToPath(new URL('../../src/cli/main.js', import.meta.url));

export function tempDir(prefix: string): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), prefix));
}

/** Runs fn with a fresh tmpfs mounted at a temp dir; always unmounted afterwards. */
export async function withTmpfs<T>(fn: (dir: string) => Promise<T>): Promise<T> {
  const dir = tempDir('tsfuse-pzsrc-');
  const r = spawnSync('mount', ['-t', 'tmpfs', '-o', 'size=1g', 'tmpfs', dir]);
  if (r.status !== 0) throw new Error(`mount tmpfs: ${r.stderr}`);
  try {
    return await fn(dir);
  } finally {
    spawnSync('umount', ['-l', dir]);
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

export interface TreeExtras {
  bigDirEntries?: number;
  largeBytes?: number;
  sparseBytes?: number;
}

/** The kit's small tree (every inode type, odd names, hardlinks, sparse files, ACLs) plus PuzzleFS extras. */
export function makeTree(root: string, extras: TreeExtras = {}): void {
  generateTree(root, { scale: 'small', seed: 'puzzlefs', maxNameLength: 255 });
  // Seeded, not crypto-random: FastCDC cut points depend on the bytes, and tests that count shared chunks
  // between two builds must see the same cuts on every run.
  const rng = new Prng('puzzlefs:extras');
  const x = path.join(root, 'pz');
  fs.mkdirSync(x);
  const big = path.join(x, 'xattr-64k');
  fs.writeFileSync(big, 'has two 64 KiB xattrs\n');
  setXattr(big, 'user.big', Buffer.alloc(65536, 0x61));
  setXattr(big, 'trusted.big', rng.bytes(65536));
  const bigDir = path.join(x, 'dir-20k');
  fs.mkdirSync(bigDir);
  const n = extras.bigDirEntries ?? 20000;
  for (let i = 0; i < n; i++) fs.writeFileSync(path.join(bigDir, `entry-${String(i).padStart(5, '0')}`), i % 10 === 0 ? `content ${i}\n` : '');
  fs.writeFileSync(path.join(x, 'large'), rng.bytes(extras.largeBytes ?? 24 * 1024 * 1024));
  const sparse = path.join(x, 'sparse-64m');
  const fd = fs.openSync(sparse, 'w');
  fs.writeSync(fd, Buffer.from('start\n'), 0, 6, 0);
  fs.writeSync(fd, rng.bytes(100000), 0, 100000, 40 * 1024 * 1024);
  fs.ftruncateSync(fd, extras.sparseBytes ?? 64 * 1024 * 1024);
  fs.closeSync(fd);
}

/** Through libc (a 64 KiB value in hex is longer than one argument of setfattr may be). */
export function setXattr(file: string, name: string, value: Buffer): void {
  lsetxattr(file, name, value, 0, true);
}

export interface PuzzleMount {
  mnt: string;
  session: Session;
  logs: string[];
}

/** Mounts an image in worker mode (each worker opens the layout itself) through withMount. */
export async function withPuzzleMount<T>(o: { dir: string; tag?: string; verity?: boolean; workers?: number; timeoutMs?: number }, fn: (m: PuzzleMount) => Promise<T>): Promise<T> {
  const logs: string[] = [];
  return withMount(
    { module: FS_MODULE, export: 'createFilesystem', options: { dir: o.dir, tag: o.tag, verity: o.verity } },
    {
      workers: o.workers ?? 2, options: ['ro'], fsname: o.dir, subtype: 'puzzlefs', entryTimeout: 86400, attrTimeout: 86400,
      readdirplus: 'auto', log: (s) => logs.push(s), timeoutMs: o.timeoutMs ?? 240_000,
    },
    async (m) => fn({ mnt: m.mnt, session: m.session, logs }),
  );
}

/** Runs a command in a child process (never in this thread, which serves the mount). */
export async function runChild(cmd: string, args: string[], timeoutMs = 120_000): Promise<{ status: number | null; stdout: string; stderr: string }> {
  const { run } = await import('../helpers/proc.js');
  const r = await run(cmd, args, { check: false, timeoutMs });
  return { status: r.status, stdout: r.stdout.toString('latin1'), stderr: r.stderr };
}
