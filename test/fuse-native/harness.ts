// Running fuse-native style programs for the tests: a temp dir whose node_modules/tsfuse links to this
// repository (so `require('tsfuse/fuse-native')` resolves through package.json "exports" as for a user), a
// program started in it, lines read from its stdout, and a watchdog that aborts the FUSE connection (fusectl)
// and lazily unmounts if the program outlives its time. The mount is always gone when `withProgram` returns.

import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createRequire } from 'node:module';
import * as assert from 'uvu/assert';
import { abortConnection, ensureFusectl } from '../../src/kernel/fusectl.js';
import { unmountFuse } from '../../src/kernel/mount.js';

// dist/test/fuse-native/harness.js -> the repository root
export const REPO = fileURLToPath(new URL('../../../', import.meta.url));

/** A temp dir with node_modules/tsfuse -> the repository. */
export function linkedDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'tsfuse-fn-'));
  mkdirSync(join(dir, 'node_modules'));
  symlinkSync(REPO, join(dir, 'node_modules', 'tsfuse'));
  return dir;
}

export function isMounted(mnt: string): boolean {
  return readFileSync('/proc/mounts', 'utf8').split('\n').some((l) => l.split(' ')[1] === mnt);
}

/** Cleans up a mount a test may have left: abort its connection and lazily unmount. */
export function forceGone(mnt: string): void {
  if (!isMounted(mnt)) return;
  try {
    ensureFusectl();
    abortConnection(mnt);
  } catch {
    // the lazy unmount below still detaches it
  }
  try {
    unmountFuse(mnt, { lazy: true });
  } catch {
    // gone
  }
}

export interface Program {
  child: ChildProcess;
  dir: string;
  /** Resolves with the first stdout line matching re. */
  line(re: RegExp): Promise<string>;
  /** Resolves with the exit code and all output once the program ends. */
  exited: Promise<{ code: number | null; stdout: string; stderr: string }>;
}

/**
 * Writes `source` to dir/<file> and runs it with node in `dir` (which has a `mnt` directory), then runs `fn`.
 * The watchdog (timeoutMs) aborts the mount and kills the program.
 */
export async function withProgram<T>(file: string, source: string, fn: (p: Program, mnt: string) => Promise<T>, opts: { timeoutMs?: number; args?: string[] } = {}): Promise<T> {
  const dir = linkedDir();
  const mnt = join(dir, 'mnt');
  mkdirSync(mnt);
  writeFileSync(join(dir, file), source);
  const child = spawn(process.execPath, [file, ...(opts.args ?? [])], { cwd: dir, stdio: ['pipe', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  const waiters: { re: RegExp; resolve: (l: string) => void }[] = [];
  child.stdout!.on('data', (d) => {
    stdout += d;
    for (const w of [...waiters]) {
      const l = stdout.split('\n').find((x) => w.re.test(x));
      if (l !== undefined) {
        waiters.splice(waiters.indexOf(w), 1);
        w.resolve(l);
      }
    }
  });
  child.stderr!.on('data', (d) => (stderr += d));
  const exited = new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) => child.on('close', (code) => resolve({ code, stdout, stderr })));
  const line = (re: RegExp): Promise<string> => {
    const l = stdout.split('\n').find((x) => re.test(x));
    if (l !== undefined) return Promise.resolve(l);
    return new Promise((resolve, reject) => {
      waiters.push({ re, resolve });
      void exited.then(() => reject(new Error(`program ended before printing ${re}: ${stdout}\n${stderr}`)));
    });
  };
  const watchdog = setTimeout(() => {
    process.stderr.write(`watchdog: ${file} still running, aborting ${mnt}\n`);
    forceGone(mnt);
    child.kill('SIGKILL');
  }, opts.timeoutMs ?? 60_000);
  watchdog.unref();
  try {
    return await fn({ child, dir, line, exited }, mnt);
  } finally {
    clearTimeout(watchdog);
    if (child.exitCode === null) child.kill('SIGKILL');
    await exited;
    forceGone(mnt);
    rmSync(dir, { recursive: true, force: true });
  }
}

const Fuse = createRequire(import.meta.url)('../../src/fuse-native/fuse.cjs');

/**
 * Mounts `new Fuse(mnt, ops, opts)` in this process on a fresh temp dir (`prefix` names it), runs `fn` and
 * unmounts. The mount callback must report no error; a watchdog (60 s) aborts the connection, and the mount is
 * gone (asserted) when this returns.
 */
export async function withFuseMount<T>(prefix: string, ops: object, opts: object, fn: (mnt: string) => Promise<T>): Promise<T> {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  const mnt = join(dir, 'mnt');
  mkdirSync(mnt);
  const watchdog = setTimeout(() => forceGone(mnt), 60_000);
  const fuse = new Fuse(mnt, ops, opts);
  let result: T;
  try {
    assert.is(await new Promise((resolve) => fuse.mount(resolve)), null);
    result = await fn(mnt);
  } finally {
    clearTimeout(watchdog);
    await new Promise((resolve) => fuse.unmount(resolve));
    forceGone(mnt);
    rmSync(dir, { recursive: true, force: true });
  }
  assert.not.ok(isMounted(mnt));
  return result;
}
