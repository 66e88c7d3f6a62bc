// Running the external tools the kit relies on (mkfs.erofs, mksquashfs, mount, getfattr, touch, mknod, ...).
// runSync is for setup code that never shares its thread with a FUSE server; run() is async with a timeout.

import { spawn, spawnSync } from 'node:child_process';

export interface RunResult {
  status: number | null;
  signal: NodeJS.Signals | null;
  stdout: Buffer;
  stderr: string;
  ms: number;
}

export interface RunOptions {
  cwd?: string;
  env?: NodeJS.ProcessEnv;
  input?: string | Buffer;
  /** Throw when the exit status is not 0 (default true). */
  check?: boolean;
  timeoutMs?: number;
}

function describe(cmd: string, args: readonly string[]): string {
  const shown = args.map((a) => (a.length > 80 ? a.slice(0, 77) + '...' : a)).slice(0, 12);
  return [cmd, ...shown, ...(args.length > 12 ? [`(+${args.length - 12} args)`] : [])].join(' ');
}

export function runSync(cmd: string, args: readonly string[], opts: RunOptions = {}): RunResult {
  const t0 = performance.now();
  const r = spawnSync(cmd, args as string[], {
    cwd: opts.cwd,
    env: opts.env ?? { ...process.env, LC_ALL: 'C' },
    input: opts.input,
    maxBuffer: 1 << 30,
    timeout: opts.timeoutMs,
  });
  const res: RunResult = {
    status: r.status,
    signal: r.signal,
    stdout: r.stdout ?? Buffer.alloc(0),
    stderr: r.stderr ? r.stderr.toString('utf8') : '',
    ms: performance.now() - t0,
  };
  if (r.error) throw new Error(`${describe(cmd, args)}: ${r.error.message}`);
  if ((opts.check ?? true) && res.status !== 0) {
    throw new Error(`${describe(cmd, args)}: exit ${res.status ?? res.signal}: ${res.stderr.trim().slice(0, 2000)}`);
  }
  return res;
}

/** Async spawn that never blocks the calling thread; kills the child (SIGKILL) after timeoutMs. */
export function run(cmd: string, args: readonly string[], opts: RunOptions = {}): Promise<RunResult> {
  const t0 = performance.now();
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args as string[], {
      cwd: opts.cwd,
      env: opts.env ?? { ...process.env, LC_ALL: 'C' },
      stdio: [opts.input === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'],
    });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    let settled = false;
    // On timeout, reject at once: a child stuck in D state (a hung FUSE mount) may never deliver 'close'.
    const timer = opts.timeoutMs
      ? setTimeout(() => {
          settled = true;
          child.kill('SIGKILL');
          child.stdout?.destroy();
          child.stderr?.destroy();
          child.unref();
          reject(new Error(`${describe(cmd, args)}: timed out after ${opts.timeoutMs} ms (killed pid ${child.pid})`));
        }, opts.timeoutMs)
      : undefined;
    child.stdout!.on('data', (d: Buffer) => out.push(d));
    child.stderr!.on('data', (d: Buffer) => err.push(d));
    if (opts.input !== undefined) child.stdin!.end(opts.input);
    child.on('error', (e) => {
      if (timer) clearTimeout(timer);
      if (settled) return;
      settled = true;
      reject(new Error(`${describe(cmd, args)}: ${e.message}`));
    });
    child.on('close', (status, signal) => {
      if (timer) clearTimeout(timer);
      if (settled) return;
      settled = true;
      const res: RunResult = {
        status,
        signal,
        stdout: Buffer.concat(out),
        stderr: Buffer.concat(err).toString('utf8'),
        ms: performance.now() - t0,
      };
      if ((opts.check ?? true) && status !== 0) {
        reject(new Error(`${describe(cmd, args)}: exit ${status ?? signal}: ${res.stderr.trim().slice(0, 2000)}`));
      } else {
        resolve(res);
      }
    });
  });
}

/** Splits a long list of arguments into batches that stay well below ARG_MAX. */
export function batches(items: readonly string[], maxBytes = 256 * 1024): string[][] {
  const out: string[][] = [];
  let cur: string[] = [];
  let size = 0;
  for (const it of items) {
    const len = Buffer.byteLength(it) + 1;
    if (cur.length > 0 && size + len > maxBytes) {
      out.push(cur);
      cur = [];
      size = 0;
    }
    cur.push(it);
    size += len;
  }
  if (cur.length > 0) out.push(cur);
  return out;
}
