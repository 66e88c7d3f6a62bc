// memfs under load: a tsfuse memfs server process (bench/servers/tsfuse-memfs.js) with entry timeout 0
// (attributes cached unless attrTimeout says otherwise) and 1 or N reader fds, stat loops from separate client processes, and the server's own count of the
// requests that reached the filesystem (SIGUSR2 -> counters file).

import { existsSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { fsbench, parseReport, type ClientReport } from './clients.js';
import { Mounted } from './mounts.js';
import { LOGS, MNT_ROOT, built } from './paths.js';
import { run, sleep } from './proc.js';

export interface MemfsServer {
  m: Mounted;
  counters: string;
  /** Requests that reached the filesystem so far. */
  requests(): Promise<number | undefined>;
  stop(): Promise<void>;
}

export interface MemfsServerOptions {
  /** Entry (name) timeout in seconds (default 0: every lstat reaches the server, a LOOKUP per component). */
  timeout?: number;
  /** Attribute timeout in seconds; default memfs's own (cached: memfs changes only through the mount). */
  attrTimeout?: number;
  /** Embedded mode's transport (SessionOptions.embeddedTransport); with 'poll' the fd count does not matter. */
  transport?: 'poll' | 'threads';
  /** false: mount without default_permissions, as the fuse-native contender does (default true). */
  defaultPermissions?: boolean;
  /** Serve with another compiled tsfuse tree (the bench's --baseline) instead of this build. */
  lib?: string;
}

export async function startMemfs(name: string, fds: number, watchdogMs: number, o: MemfsServerOptions = {}): Promise<MemfsServer> {
  const mnt = join(MNT_ROOT, name);
  const counters = join(LOGS, `${name}.counters.json`);
  rmSync(counters, { force: true });
  const m = await Mounted.start({
    name,
    mnt,
    probe: '',
    cmd: process.execPath,
    args: [built('bench/servers/tsfuse-memfs.js'), '--mnt', mnt, '--workers', String(fds), '--timeout', String(o.timeout ?? 0),
      ...(o.attrTimeout !== undefined ? ['--attr-timeout', String(o.attrTimeout)] : []), '--counters', counters,
      '--transport', o.transport ?? 'poll', ...(o.defaultPermissions === false ? ['--no-default-permissions'] : []), ...(o.lib ? ['--lib', o.lib] : [])],
    kind: 'fuse',
    logFile: join(LOGS, `${name}.log`),
    watchdogMs,
  });
  let last = 0;
  return {
    m,
    counters,
    async requests() {
      if (m.pid === undefined) return undefined;
      process.kill(m.pid, 'SIGUSR2');
      for (let i = 0; i < 200; i++) {
        await sleep(5);
        if (!existsSync(counters)) continue;
        try {
          const j = JSON.parse(readFileSync(counters, 'utf8')) as { seq: number; total: number };
          if (j.seq > last) {
            last = j.seq;
            return j.total;
          }
        } catch {
          // being renamed
        }
      }
      return undefined;
    },
    stop: () => m.stop(),
  };
}

export interface LoopResult {
  /** lstat calls per second, all clients together. */
  statsPerSec: number;
  /** Requests per second that reached the filesystem (undefined if not counted). */
  requestsPerSec?: number;
  ops: number;
  ns: number;
  /** Server CPU ns per lstat. */
  cpuPerStat?: number;
  requestsPerStat?: number;
}

/**
 * `clients` processes lstat the entries of `listFile` under `prefix` (the list split between them, each
 * entry once per pass) for up to `passes` passes or `timeMs`. All clients start together; the rate is
 * all their operations over the span from the first start to the last end.
 */
export async function statLoad(
  prefix: string,
  listFile: string,
  clients: number,
  passes: number,
  timeMs: number,
  onTimeout: () => void,
): Promise<{ reports: ClientReport[]; ops: number; ns: number }> {
  const jobs: Promise<ClientReport>[] = [];
  for (let c = 0; c < clients; c++) {
    jobs.push(
      run(fsbench(), ['stat', prefix, listFile, String(clients), String(c), String(passes), String(timeMs)], {
        timeoutMs: timeMs + 30_000,
        onTimeout,
      }).then((r) => parseReport(r.stdout)),
    );
  }
  const reports = await Promise.all(jobs);
  const ops = reports.reduce((a, r) => a + r.ops, 0);
  const t0 = Math.min(...reports.map((r) => r.t0));
  const t1 = Math.max(...reports.map((r) => r.t1));
  return { reports, ops, ns: t1 - t0 };
}

/** One measured stat loop against a running memfs server. */
export async function memfsLoop(s: MemfsServer, prefix: string, listFile: string, clients: number, passes: number, timeMs: number): Promise<LoopResult> {
  const r0 = await s.requests();
  const c0 = s.m.cpuNs();
  const load = await statLoad(prefix, listFile, clients, passes, timeMs, () => s.m.abort('stat loop timed out'));
  const c1 = s.m.cpuNs();
  const r1 = await s.requests();
  const secs = load.ns / 1e9;
  const out: LoopResult = { statsPerSec: load.ops / secs, ops: load.ops, ns: load.ns };
  if (r0 !== undefined && r1 !== undefined) {
    out.requestsPerSec = (r1 - r0) / secs;
    out.requestsPerStat = (r1 - r0) / load.ops;
  }
  if (c0 !== undefined && c1 !== undefined) out.cpuPerStat = (c1 - c0) / load.ops;
  return out;
}

/** Fills a mounted filesystem: `mktree` (C client) or a copy of directories of a tree (`cp -a`). */
export async function populate(mnt: string, how: { mktree: { dirs: number; files: number; size: number } } | { copyFrom: string; dirs: string[] }): Promise<void> {
  if ('mktree' in how) {
    await run(fsbench(), ['mktree', mnt, String(how.mktree.dirs), String(how.mktree.files), String(how.mktree.size)], { timeoutMs: 300_000 });
  } else {
    await run('cp', ['-a', ...how.dirs.map((d) => join(how.copyFrom, d)), mnt + '/'], { timeoutMs: 600_000 });
  }
}
