// Uncached stat loop against memfs: the foundation figure. A memfs server process (entry timeout 0, so every
// lstat reaches it; attributes cached, memfs's default) is mounted with 1 and with 2 reader fds; 1 and 2
// separate client processes (bench/clients/fsbench.c) lstat a populated tree for a fixed time. Reports lstat/s
// and requests/s (the requests that reached the filesystem, counted by the server: one lstat of a/b/c costs a
// LOOKUP per component), and the server's CPU time per request.
//
//   node dist/bench/statloop.js [--seconds S] [--rounds N] [--dirs D --files F] [--json]
//
// bench/run.ts uses the same pieces (startMemfs, memfsLoop, populate, re-exported here) on a copy of part of
// the bench tree, and reports the same figures (requests/s, server CPU per request) in its memfs group.

import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { ensureDir } from './lib/mounts.js';
import { memfsLoop, populate, startMemfs, type LoopResult } from './lib/memfs.js';
import { LOGS, MNT_ROOT, SCRATCH } from './lib/paths.js';
import { median } from './lib/stats.js';

export { memfsLoop, populate, startMemfs, type MemfsServer } from './lib/memfs.js';

export interface StatloopOptions {
  seconds: number;
  rounds: number;
  dirs: number;
  files: number;
  fds: number[];
  clients: number[];
  log?: (s: string) => void;
}

export interface StatloopRow {
  fds: number;
  clients: number;
  statsPerSec: number[];
  requestsPerSec: number[];
  requestsPerStat: number[];
  cpuUsPerRequest: number[];
}

export async function runStatloop(o: StatloopOptions): Promise<StatloopRow[]> {
  const log = o.log ?? ((s: string) => process.stderr.write(s + '\n'));
  ensureDir(LOGS);
  ensureDir(MNT_ROOT);
  const listFile = join(SCRATCH, `statloop-${o.dirs}x${o.files}.txt`);
  const list: string[] = [];
  for (let d = 0; d < o.dirs; d++) {
    const dn = `d${String(d).padStart(4, '0')}`;
    list.push(dn);
    for (let f = 0; f < o.files; f++) list.push(`${dn}/f${String(f).padStart(6, '0')}`);
  }
  writeFileSync(listFile, list.join('\n') + '\n');
  const rows: StatloopRow[] = [];
  for (const fds of o.fds) for (const clients of o.clients) rows.push({ fds, clients, statsPerSec: [], requestsPerSec: [], requestsPerStat: [], cpuUsPerRequest: [] });
  const watchdogMs = (o.rounds * o.clients.length * (o.seconds + 20) + 120) * 1000;
  // one server per fd count, populated once, kept for every round; rounds interleave the servers
  const servers = [];
  try {
    for (const fds of o.fds) {
      const s = await startMemfs(`statloop-memfs-${fds}fd`, fds, watchdogMs);
      servers.push({ fds, s });
      await populate(s.m.mnt, { mktree: { dirs: o.dirs, files: o.files, size: 0 } });
    }
    for (let round = 0; round < o.rounds; round++) {
      for (const { fds, s } of servers) {
        for (const clients of o.clients) {
          const r: LoopResult = await memfsLoop(s, s.m.mnt, listFile, clients, 1_000_000, o.seconds * 1000);
          const row = rows.find((x) => x.fds === fds && x.clients === clients)!;
          row.statsPerSec.push(r.statsPerSec);
          if (r.requestsPerSec !== undefined) row.requestsPerSec.push(r.requestsPerSec);
          if (r.requestsPerStat !== undefined) row.requestsPerStat.push(r.requestsPerStat);
          if (r.cpuPerStat !== undefined && r.requestsPerStat) row.cpuUsPerRequest.push(r.cpuPerStat / r.requestsPerStat / 1000);
          log(`  statloop round ${round + 1}: ${fds} fd, ${clients} client(s): ${Math.round(r.statsPerSec)} lstat/s, ${r.requestsPerSec ? Math.round(r.requestsPerSec) : '?'} requests/s`);
        }
      }
    }
  } finally {
    for (const { s } of servers) await s.stop();
  }
  return rows;
}

export function formatStatloop(rows: StatloopRow[]): string {
  const lines = ['| reader fds | client processes | lstat/s (median) | requests/s (median) | requests per lstat | server CPU µs/request |', '|---:|---:|---:|---:|---:|---:|'];
  const f = (a: number[], d = 0): string => (a.length ? median(a).toLocaleString('en-US', { maximumFractionDigits: d, minimumFractionDigits: d }) : 'n/a');
  for (const r of rows) lines.push(`| ${r.fds} | ${r.clients} | ${f(r.statsPerSec)} | ${f(r.requestsPerSec)} | ${f(r.requestsPerStat, 2)} | ${f(r.cpuUsPerRequest, 2)} |`);
  return lines.join('\n');
}

async function main(): Promise<void> {
  const a = process.argv.slice(2);
  const num = (k: string, d: number): number => {
    const i = a.indexOf(`--${k}`);
    return i >= 0 ? Number(a[i + 1]) : d;
  };
  const rows = await runStatloop({
    seconds: num('seconds', 3),
    rounds: num('rounds', 3),
    dirs: num('dirs', 20),
    files: num('files', 250),
    fds: [1, 2],
    clients: [1, 2],
  });
  if (a.includes('--json')) process.stdout.write(JSON.stringify(rows, null, 2) + '\n');
  else process.stdout.write(formatStatloop(rows) + '\n');
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  main().then(
    () => process.exit(0),
    (err) => {
      process.stderr.write(`statloop: ${err instanceof Error ? err.stack : String(err)}\n`);
      process.exit(1);
    },
  );
}
