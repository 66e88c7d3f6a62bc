// Child processes for the benchmarks: every client and helper runs as a separate process with a time limit,
// so the harness itself never touches a mountpoint synchronously (a hung FUSE server could otherwise hang
// the thread that has to abort it).

import { spawn, spawnSync, type ChildProcess, type SpawnOptions } from 'node:child_process';
import { run as runProcess, runSync as runProcessSync } from '../../test/helpers/proc.js';
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

/** Runs a command to completion (bounded by timeoutMs); the spawning is test/helpers/proc.ts's run(). */
export async function run(cmd: string, args: string[], o: RunOptions): Promise<RunResult> {
  const r = await runProcess(cmd, args, {
    timeoutMs: o.timeoutMs,
    cwd: o.cwd,
    env: o.env ?? process.env,
    input: o.stdin,
    onTimeout: o.onTimeout,
    check: o.check ?? true,
  });
  return {
    code: r.status, signal: r.signal, stdout: r.stdout.toString('utf8'), stderr: r.stderr, ns: r.ns, t0: r.t0Ns,
    timedOut: r.timedOut,
  };
}

/** Synchronous command for setup steps that never touch a FUSE mount (mkfs, mksquashfs, gcc...). */
export function runSync(cmd: string, args: string[], opts: { timeoutMs?: number; cwd?: string; input?: string } = {}): string {
  const r = runProcessSync(cmd, args, { timeoutMs: opts.timeoutMs ?? 600_000, cwd: opts.cwd, input: opts.input, env: process.env });
  return r.stdout.toString('utf8');
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
