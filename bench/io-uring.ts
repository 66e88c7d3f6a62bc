// The two transports side by side: a memfs server in worker mode (bench/servers/tsfuse-memfs-worker.js, one
// worker) over /dev/fuse read/write and over FUSE io_uring, in interleaved rounds. Figures: uncached lstat/s
// from 1 and 2 client processes (bench/clients/fsbench.c, entry/attr timeouts 0) with the server's CPU per
// lstat, and sequential read MiB/s of a 256 MiB file (a fresh open drops its page cache: no KEEP_CACHE).
// Server CPU per request divides by the requests the kernel sent (fuse_request_send, bench/lib/fuse-trace.ts).
// `--baseline DIR` (another compiled tree, e.g. a copy of main's dist) runs its server over both transports
// too, interleaved with this build's: before/after in one run. Sets the fuse module's enable_uring to Y for
// the run and puts it back (src/kernel/uring-param.ts).
//
// `--erofs IMAGE --list FILE --big PATH [--workers N]` serves an EROFS image instead (bench/servers/tsfuse-erofs.js,
// timeouts 0, N workers: over io_uring each then owns some of the CPU queues), lstat of the entries in FILE,
// sequential read of PATH inside the image.
//
//   node dist/bench/io-uring.js [--seconds S] [--rounds N] [--out FILE] [--baseline DIR] [--erofs IMAGE --list FILE --big PATH [--workers N]]

import { readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { cpus } from 'node:os';
import { fsbench, parseReport } from './lib/clients.js';
import { RequestCounter } from './lib/fuse-trace.js';
import { enableUringParam, restoreUringParam } from '../src/kernel/uring-param.js';
import { populate, statLoad } from './lib/memfs.js';
import { ensureDir, Mounted } from './lib/mounts.js';
import { built, LOGS, MNT_ROOT, RESULTS, SCRATCH } from './lib/paths.js';
import { run } from './lib/proc.js';
import { median, range } from './lib/stats.js';

type Transport = 'device' | 'io_uring';
const BIG_MIB = 256;

interface Samples {
  stat1: number[];
  stat2: number[];
  cpuUsPerStat: number[];
  cpuUsPerReq: number[];
  seqMiBs: number[];
}

/** One server: a transport, of this build or of the baseline. */
interface Variant {
  key: string;
  t: Transport;
  root?: string;
}

async function main(): Promise<void> {
  const a = process.argv.slice(2);
  const arg = (k: string): string | undefined => {
    const i = a.indexOf(`--${k}`);
    return i >= 0 ? a[i + 1] : undefined;
  };
  const seconds = Number(arg('seconds') ?? 3);
  const rounds = Number(arg('rounds') ?? 3);
  // io-uring.md is the kept record (runs and findings); a run writes its own table beside it
  const out = arg('out') ?? join(RESULTS, 'io-uring-run.md');
  const baseline = arg('baseline');
  const variants: Variant[] = [{ key: 'device', t: 'device' }, { key: 'io_uring', t: 'io_uring' }];
  if (baseline) variants.push({ key: 'device-base', t: 'device', root: baseline }, { key: 'io_uring-base', t: 'io_uring', root: baseline });
  ensureDir(LOGS);
  ensureDir(MNT_ROOT);
  const erofs = arg('erofs');
  const workers = Number(arg('workers') ?? 2);
  const dirs = 10;
  const files = 200;
  let listFile = join(SCRATCH, `io-uring-${dirs}x${files}.txt`);
  if (erofs) {
    listFile = arg('list') ?? '';
    if (!listFile || !arg('big')) throw new Error('--erofs needs --list FILE and --big PATH');
  } else {
    const list: string[] = [];
    for (let d = 0; d < dirs; d++) {
      const dn = `d${String(d).padStart(4, '0')}`;
      list.push(dn);
      for (let f = 0; f < files; f++) list.push(`${dn}/f${String(f).padStart(6, '0')}`);
    }
    writeFileSync(listFile, list.join('\n') + '\n');
  }
  const bigOf = (mnt: string): string => join(mnt, erofs ? arg('big')! : 'big');

  enableUringParam();
  const servers: { v: Variant; m: Mounted }[] = [];
  const samples: Record<string, Samples> = {};
  for (const v of variants) samples[v.key] = { stat1: [], stat2: [], cpuUsPerStat: [], cpuUsPerReq: [], seqMiBs: [] };
  try {
    for (const v of variants) {
      const t = v.t;
      const name = `io-uring-bench-${v.key}`;
      const logFile = join(LOGS, `${name}.log`);
      const rel = erofs ? 'bench/servers/tsfuse-erofs.js' : 'bench/servers/tsfuse-memfs-worker.js';
      const server = v.root ? join(v.root, rel) : built(rel);
      const serverArgs = erofs ? ['--image', erofs, '--workers', String(workers), '--timeout', '0'] : [];
      const m = await Mounted.start({
        name, mnt: join(MNT_ROOT, name), probe: '', cmd: process.execPath,
        args: [server, '--mnt', join(MNT_ROOT, name), ...serverArgs, ...(t === 'io_uring' ? ['--uring'] : [])],
        kind: 'fuse', logFile, watchdogMs: (rounds * variants.length * (2 * seconds + 30) + 300) * 1000,
      });
      servers.push({ v, m });
      // the server prints its transport once Session.mount() has returned (after the mount is visible); the
      // log is appended to, so only what follows this start's "===" line counts
      let got: string | undefined;
      for (let i = 0; i < 500 && got === undefined; i++) {
        const log = readFileSync(logFile, 'utf8');
        got = /transport (\S+)/.exec(log.slice(log.lastIndexOf('\n=== ')))?.[1];
        if (got === undefined) await new Promise((r) => setTimeout(r, 20));
      }
      if (got !== t) throw new Error(`${name}: the server serves over ${got ?? '?'}, not ${t}`);
      if (!erofs) {
        await populate(m.mnt, { mktree: { dirs, files, size: 0 } });
        await run('dd', ['if=/dev/zero', `of=${m.mnt}/big`, 'bs=1M', `count=${BIG_MIB}`, 'status=none'], { timeoutMs: 120_000 });
      }
    }
    for (let round = 0; round < rounds; round++) {
      for (const { v, m } of servers) {
        const s = samples[v.key];
        const onTimeout = () => m.abort('io-uring bench timed out');
        const counter = RequestCounter.open(m.mnt, `io-uring-${v.key}`);
        let reqs: ReturnType<RequestCounter['stop']> | undefined;
        let c0: number | undefined;
        let c1: number | undefined;
        let one: Awaited<ReturnType<typeof statLoad>>;
        try {
          counter?.start();
          c0 = m.cpuNs();
          one = await statLoad(m.mnt, listFile, 1, 1_000_000, seconds * 1000, onTimeout);
          c1 = m.cpuNs();
          reqs = counter?.stop();
        } finally {
          counter?.close();
        }
        s.stat1.push(one.ops / (one.ns / 1e9));
        if (c0 !== undefined && c1 !== undefined) {
          s.cpuUsPerStat.push((c1 - c0) / one.ops / 1000);
          if (reqs && !reqs.lost && reqs.total > 0) s.cpuUsPerReq.push((c1 - c0) / reqs.total / 1000);
        }
        const two = await statLoad(m.mnt, listFile, 2, 1_000_000, seconds * 1000, onTimeout);
        s.stat2.push(two.ops / (two.ns / 1e9));
        const big = bigOf(m.mnt);
        const r = parseReport((await run(fsbench(), ['seqread', big, String(1 << 20), String(statSync(big).size), String(seconds * 10_000)], { timeoutMs: 120_000, onTimeout })).stdout);
        s.seqMiBs.push(r.bytes / (1 << 20) / (r.ns / 1e9));
        process.stderr.write(`round ${round + 1} ${v.key}: ${Math.round(s.stat1.at(-1)!)} lstat/s (1 client), ${Math.round(s.stat2.at(-1)!)} (2), ${Math.round(s.seqMiBs.at(-1)!)} MiB/s\n`);
      }
    }
  } finally {
    for (const { m } of servers) await m.stop();
    restoreUringParam();
  }
  const f = (v: number[], d = 0): string => (v.length ? `${median(v).toFixed(d)} (${range(v).map((x) => x.toFixed(d)).join('–')})` : '-');
  const ratio = (k: keyof Samples, u: string, dv: string): string => (samples[u][k].length && samples[dv][k].length ? (median(samples[u][k]) / median(samples[dv][k])).toFixed(2) : '-');
  const rowsOf: [keyof Samples, string, number][] = [
    ['stat1', 'uncached lstat/s, 1 client', 0],
    ['stat2', 'uncached lstat/s, 2 clients', 0],
    ['cpuUsPerStat', 'server CPU µs per lstat (1 client)', 1],
    ['cpuUsPerReq', 'server CPU µs per request (1 client; requests counted by the kernel)', 1],
    ['seqMiBs', erofs ? 'sequential read MiB/s (1 MiB reads of the big file, page cache as the last round left it)' : `sequential read MiB/s (1 MiB reads of ${BIG_MIB} MiB)`, 0],
  ];
  const head = baseline
    ? ['| figure | device | io_uring | ratio | device, baseline | io_uring, baseline | ratio, baseline |', '|---|---:|---:|---:|---:|---:|---:|']
    : ['| figure | device (read/write) | io_uring | ratio |', '|---|---:|---:|---:|'];
  const lines = [
    '# FUSE over io_uring vs /dev/fuse read/write',
    '',
    `\`node dist/bench/io-uring.js --seconds ${seconds} --rounds ${rounds}${baseline ? ` --baseline ${baseline}` : ''}\` on ${new Date().toISOString().slice(0, 10)}, ${cpus().length} CPUs (${cpus()[0]?.model ?? '?'}), kernel ${readFileSync('/proc/sys/kernel/osrelease', 'utf8').trim()}, load average at the end ${readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ')}.`,
    erofs
      ? `EROFS image ${erofs} (bench/servers/tsfuse-erofs.js), ${workers} worker(s), entry/attr timeouts 0; lstat of the entries of ${listFile}; sequential read of ${arg('big')}.`
      : 'memfs in worker mode, 1 worker (over io_uring it owns every CPU queue), entry/attr timeouts 0, no KEEP_CACHE.',
    'Median of the rounds (range in brackets); the ratio is io_uring / device (higher is better except for CPU).',
    '',
    ...head,
    ...rowsOf.map(([k, label, d]) => {
      const cells = [f(samples.device[k], d), f(samples.io_uring[k], d), ratio(k, 'io_uring', 'device')];
      if (baseline) cells.push(f(samples['device-base'][k], d), f(samples['io_uring-base'][k], d), ratio(k, 'io_uring-base', 'device-base'));
      return `| ${label} | ${cells.join(' | ')} |`;
    }),
    '',
  ];
  writeFileSync(out, lines.join('\n'));
  process.stdout.write(lines.join('\n'));
}

main().then(
  () => process.exit(0),
  (err) => {
    process.stderr.write(`io-uring bench: ${err instanceof Error ? err.stack : String(err)}\n`);
    process.exit(1);
  },
);
