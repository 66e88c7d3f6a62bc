// Child processes for the benchmarks: every client and helper runs as a separate process with a time limit,
// so the harness itself never touches a mountpoint synchronously (a hung FUSE server could otherwise hang
// the thread that has to abort it).

import { spawn, spawnSync, type ChildProcess, type SpawnOptions } from 'node:child_process';
import { existsSync, readFileSync, readdirSync } from 'node:fs';

export interface RunResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  /** Wall time of the child from spawn to exit (ns, CLOCK_MONOTONIC). */
  ns: number;
  /** process.hrtime at spawn (ns). */
  t0: number;
  timedOut: boolean;
}

export interface RunOptions {
  timeoutMs: number;
  cwd?: string;
  env?: NodeJS.ProcessEnv;
  /** Called once when the time limit passes, before the child is killed (abort the mount here). */
  onTimeout?: () => void;
  /** Raise on a non-zero exit or a timeout (default true). */
  check?: boolean;
  stdin?: string;
}

export function hrnow(): number {
  return Number(process.hrtime.bigint());
}

/** Runs a command to completion (bounded by timeoutMs). */
export function run(cmd: string, args: string[], o: RunOptions): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    const t0 = hrnow();
    const child = spawn(cmd, args, { cwd: o.cwd, env: o.env, stdio: [o.stdin !== undefined ? 'pipe' : 'ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    let timedOut = false;
    child.stdout!.setEncoding('utf8').on('data', (d: string) => {
      if (stdout.length < 1 << 24) stdout += d;
    });
    child.stderr!.setEncoding('utf8').on('data', (d: string) => {
      if (stderr.length < 1 << 20) stderr += d;
    });
    if (o.stdin !== undefined) child.stdin!.end(o.stdin);
    const timer = setTimeout(() => {
      timedOut = true;
      try {
        o.onTimeout?.();
      } catch {
        // the abort is best effort; the kill below still happens
      }
      child.kill('SIGKILL');
    }, o.timeoutMs);
    child.on('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      const r: RunResult = { code, signal, stdout, stderr, ns: hrnow() - t0, t0, timedOut };
      if ((o.check ?? true) && (timedOut || code !== 0)) {
        const why = timedOut ? `timed out after ${o.timeoutMs} ms` : `exited with ${code ?? signal}`;
        const err = new Error(`${cmd} ${args.join(' ')}: ${why}${stderr ? `: ${stderr.trim().slice(0, 500)}` : ''}`) as Error & { result: RunResult };
        err.result = r;
        reject(err);
      } else resolve(r);
    });
  });
}

/** Synchronous command for setup steps that never touch a FUSE mount (mkfs, mksquashfs, gcc...). */
export function runSync(cmd: string, args: string[], opts: { timeoutMs?: number; cwd?: string; input?: string } = {}): string {
  const r = spawnSync(cmd, args, { cwd: opts.cwd, timeout: opts.timeoutMs ?? 600_000, encoding: 'utf8', input: opts.input, maxBuffer: 1 << 28 });
  if (r.error) throw new Error(`${cmd}: ${r.error.message}`);
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')}: exit ${r.status ?? r.signal}: ${(r.stderr || '').trim().slice(0, 800)}`);
  return r.stdout;
}

export function tryRunSync(cmd: string, args: string[], timeoutMs = 10_000): string | undefined {
  try {
    const r = spawnSync(cmd, args, { timeout: timeoutMs, encoding: 'utf8' });
    if (r.error) return undefined;
    return ((r.stdout || '') + (r.stderr || '')).trim();
  } catch {
    return undefined;
  }
}

export function spawnServer(cmd: string, args: string[], logFd: number, opts: SpawnOptions = {}): ChildProcess {
  return spawn(cmd, args, { stdio: ['ignore', logFd, logFd], ...opts });
}

/**
 * CPU time (user + system, ns) of a whole process, all threads: the sum of the first field of
 * /proc/PID/task/*\/schedstat (ns resolution); falls back to utime+stime of /proc/PID/stat (clock ticks).
 */
export function processCpuNs(pid: number): number | undefined {
  try {
    let sum = 0;
    for (const t of readdirSync(`/proc/${pid}/task`)) {
      try {
        sum += Number(readFileSync(`/proc/${pid}/task/${t}/schedstat`, 'utf8').split(' ')[0]);
      } catch {
        // thread ended between readdir and read
      }
    }
    if (sum > 0) return sum;
  } catch {
    // fall through
  }
  try {
    const s = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const f = s.slice(s.lastIndexOf(')') + 2).split(' ');
    // fields after "pid (comm)": state=0, ... utime=11, stime=12
    return (Number(f[11]) + Number(f[12])) * 1e7; // USER_HZ = 100
  } catch {
    return undefined;
  }
}

export function alive(pid: number): boolean {
  if (!existsSync(`/proc/${pid}`)) return false;
  try {
    const st = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return st.slice(st.lastIndexOf(')') + 2, st.lastIndexOf(')') + 3) !== 'Z';
  } catch {
    return false;
  }
}

export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}
