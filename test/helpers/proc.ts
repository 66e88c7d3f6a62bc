// Child processes for tests and benchmarks (the one place they are spawned): external tools (mkfs.erofs,
// mksquashfs, mount, getfattr, ...), clients checking a mount from outside the serving process, bench clients.
// runSync is for setup code that never shares its thread with a FUSE server; run() is async with a timeout.
// test/helpers/client.ts and bench/lib/proc.ts adapt run() to the result shapes their callers use.

import { spawn, spawnSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';

export interface RunResult {
  status: number | null;
  signal: NodeJS.Signals | null;
  stdout: Buffer;
  stderr: string;
  ms: number;
  /** process.hrtime at spawn, ns (bench reports align clients on it). */
  t0Ns: number;
  /** Spawn to exit (or to the time limit), ns. */
  ns: number;
  /** The time limit passed and the child was killed (only resolved so with check: false). */
  timedOut: boolean;
}

export interface RunOptions {
  cwd?: string;
  env?: NodeJS.ProcessEnv;
  input?: string | Buffer;
  /** Throw when the exit status is not 0 (default true). */
  check?: boolean;
  timeoutMs?: number;
  /** Called once when the time limit passes, before the child is killed (abort a hung mount here). */
  onTimeout?: () => void;
}

function describe(cmd: string, args: readonly string[]): string {
  const shown = args.map((a) => (a.length > 80 ? a.slice(0, 77) + '...' : a)).slice(0, 12);
  return [cmd, ...shown, ...(args.length > 12 ? [`(+${args.length - 12} args)`] : [])].join(' ');
}

export function runSync(cmd: string, args: readonly string[], opts: RunOptions = {}): RunResult {
  const t0 = performance.now();
  const t0Ns = Number(process.hrtime.bigint());
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
    t0Ns,
    ns: Number(process.hrtime.bigint()) - t0Ns,
    timedOut: false,
  };
  if (r.error) throw new Error(`${describe(cmd, args)}: ${r.error.message}`);
  if ((opts.check ?? true) && res.status !== 0) {
    throw new Error(`${describe(cmd, args)}: exit ${res.status ?? res.signal}: ${res.stderr.trim().slice(0, 2000)}`);
  }
  return res;
}

/**
 * Async spawn that never blocks the calling thread; kills the child (SIGKILL) after timeoutMs. On timeout it
 * settles at once, without waiting for 'close' (a child stuck in D state on a hung FUSE mount may never
 * deliver it): rejected with check (the default), resolved with timedOut and the output so far without.
 */
export function run(cmd: string, args: readonly string[], opts: RunOptions = {}): Promise<RunResult> {
  const t0 = performance.now();
  const t0Ns = Number(process.hrtime.bigint());
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args as string[], {
      cwd: opts.cwd,
      env: opts.env ?? { ...process.env, LC_ALL: 'C' },
      stdio: [opts.input === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'],
    });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    let settled = false;
    const result = (status: number | null, signal: NodeJS.Signals | null, timedOut: boolean): RunResult => ({
      status,
      signal,
      stdout: Buffer.concat(out),
      stderr: Buffer.concat(err).toString('utf8'),
      ms: performance.now() - t0,
      t0Ns,
      ns: Number(process.hrtime.bigint()) - t0Ns,
      timedOut,
    });
    const timer = opts.timeoutMs
      ? setTimeout(() => {
          settled = true;
          try {
            opts.onTimeout?.();
          } catch {
            // the abort is best effort; the kill below still happens
          }
          child.kill('SIGKILL');
          child.stdout?.destroy();
          child.stderr?.destroy();
          child.unref();
          const why = `${describe(cmd, args)}: timed out after ${opts.timeoutMs} ms (killed pid ${child.pid})`;
          if (opts.check ?? true) reject(Object.assign(new Error(why), { result: result(null, 'SIGKILL', true) }));
          else resolve(result(null, 'SIGKILL', true));
        }, opts.timeoutMs)
      : undefined;
    child.stdout!.on('data', (d: Buffer) => out.push(d));
    child.stderr!.on('data', (d: Buffer) => err.push(d));
    if (opts.input !== undefined) {
      // the child may exit without reading its input: EPIPE on stdin must not crash the caller
      child.stdin!.on('error', () => {});
      child.stdin!.end(opts.input);
    }
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
      const res = result(status, signal, false);
      if ((opts.check ?? true) && status !== 0) {
        reject(Object.assign(new Error(`${describe(cmd, args)}: exit ${status ?? signal}: ${res.stderr.trim().slice(0, 2000)}`), { result: res }));
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

/**
 * What processes that should have ended are doing, for a failure message: each thread's name, state, kernel
 * wait channel and current syscall (/proc), so that a server that outlived its mount says where it waits.
 */
export function describeProcesses(pids: readonly number[]): string {
  const read = (p: string): string => {
    try {
      return readFileSync(p, 'utf8').trim();
    } catch {
      return '?';
    }
  };
  const lines: string[] = [];
  for (const pid of pids) {
    lines.push(`pid ${pid}: ${read(`/proc/${pid}/cmdline`).replace(/\0/g, ' ').slice(0, 300)}`);
    let tasks: string[] = [];
    try {
      tasks = readdirSync(`/proc/${pid}/task`);
    } catch {
      // exited meanwhile
    }
    for (const t of tasks) {
      const dir = `/proc/${pid}/task/${t}`;
      // field 3 of stat is the state; the name (field 2) may hold spaces, so split after its ')'
      const stat = read(`${dir}/stat`);
      const state = stat.slice(stat.lastIndexOf(')') + 2).split(' ')[0];
      lines.push(`  task ${t} ${read(`${dir}/comm`)} state ${state} wchan ${read(`${dir}/wchan`)} syscall ${read(`${dir}/syscall`).split(' ').slice(0, 2).join(' ')}`);
    }
  }
  return lines.join('\n');
}
