// The two transports side by side: a memfs server in worker mode (bench/servers/tsfuse-memfs-worker.js, one
// worker) over /dev/fuse read/write and over FUSE io_uring, in interleaved rounds. Figures: uncached lstat/s
// from 1 and 2 client processes (bench/clients/fsbench.c, entry/attr timeouts 0) with the server's CPU per
// lstat, and sequential read MiB/s of a 256 MiB file (a fresh open drops its page cache: no KEEP_CACHE).
// Sets the fuse module's enable_uring to Y for the run and puts it back.
//
//   node dist/bench/io-uring.js [--seconds S] [--rounds N] [--out FILE]

import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { cpus } from 'node:os';
import { fsbench, parseReport } from './lib/clients.js';
import { populate, statLoad } from './lib/memfs.js';
import { ensureDir, Mounted } from './lib/mounts.js';
import { built, LOGS, MNT_ROOT, RESULTS, SCRATCH } from './lib/paths.js';
import { run } from './lib/proc.js';
import { median, range } from './lib/stats.js';

const PARAM = '/sys/module/fuse/parameters/enable_uring';
const TRANSPORTS = ['device', 'io_uring'] as const;
type Transport = (typeof TRANSPORTS)[number];
const BIG_MIB = 256;

interface Samples {
  stat1: number[];
  stat2: number[];
  cpuUsPerStat: number[];
  seqMiBs: number[];
}

async function main(): Promise<void> {
  const a = process.argv.slice(2);
  const arg = (k: string): string | undefined => {
    const i = a.indexOf(`--${k}`);
    return i >= 0 ? a[i + 1] : undefined;
  };
  const seconds = Number(arg('seconds') ?? 3);
  const rounds = Number(arg('rounds') ?? 3);
  const out = arg('out') ?? join(RESULTS, 'io-uring.md');
  ensureDir(LOGS);
  ensureDir(MNT_ROOT);
  const dirs = 10;
  const files = 200;
  const listFile = join(SCRATCH, `io-uring-${dirs}x${files}.txt`);
  const list: string[] = [];
  for (let d = 0; d < dirs; d++) {
    const dn = `d${String(d).padStart(4, '0')}`;
    list.push(dn);
    for (let f = 0; f < files; f++) list.push(`${dn}/f${String(f).padStart(6, '0')}`);
  }
  writeFileSync(listFile, list.join('\n') + '\n');

  const before = readFileSync(PARAM, 'utf8').trim();
  writeFileSync(PARAM, 'Y');
  const servers: { t: Transport; m: Mounted }[] = [];
  const samples: Record<Transport, Samples> = {
    device: { stat1: [], stat2: [], cpuUsPerStat: [], seqMiBs: [] },
    io_uring: { stat1: [], stat2: [], cpuUsPerStat: [], seqMiBs: [] },
  };
  try {
    for (const t of TRANSPORTS) {
      const name = `io-uring-bench-${t}`;
      const logFile = join(LOGS, `${name}.log`);
      const m = await Mounted.start({
        name, mnt: join(MNT_ROOT, name), probe: '', cmd: process.execPath,
        args: [built('bench/servers/tsfuse-memfs-worker.js'), '--mnt', join(MNT_ROOT, name), ...(t === 'io_uring' ? ['--uring'] : [])],
        kind: 'fuse', logFile, watchdogMs: (rounds * (3 * seconds + 60) + 300) * 1000,
      });
      servers.push({ t, m });
      const got = /transport (\S+)/.exec(readFileSync(logFile, 'utf8'))?.[1];
      if (got !== t) throw new Error(`${name}: the server serves over ${got ?? '?'}, not ${t}`);
      await populate(m.mnt, { mktree: { dirs, files, size: 0 } });
      await run('dd', ['if=/dev/zero', `of=${m.mnt}/big`, 'bs=1M', `count=${BIG_MIB}`, 'status=none'], { timeoutMs: 120_000 });
    }
    for (let round = 0; round < rounds; round++) {
      for (const { t, m } of servers) {
        const s = samples[t];
        const onTimeout = () => m.abort('io-uring bench timed out');
        const c0 = m.cpuNs();
        const one = await statLoad(m.mnt, listFile, 1, 1_000_000, seconds * 1000, onTimeout);
        const c1 = m.cpuNs();
        s.stat1.push(one.ops / (one.ns / 1e9));
        if (c0 !== undefined && c1 !== undefined) s.cpuUsPerStat.push((c1 - c0) / one.ops / 1000);
        const two = await statLoad(m.mnt, listFile, 2, 1_000_000, seconds * 1000, onTimeout);
        s.stat2.push(two.ops / (two.ns / 1e9));
        const r = parseReport((await run(fsbench(), ['seqread', `${m.mnt}/big`, String(1 << 20), String(BIG_MIB << 20), String(seconds * 10_000)], { timeoutMs: 120_000, onTimeout })).stdout);
        s.seqMiBs.push(r.bytes / (1 << 20) / (r.ns / 1e9));
        process.stderr.write(`round ${round + 1} ${t}: ${Math.round(s.stat1.at(-1)!)} lstat/s (1 client), ${Math.round(s.stat2.at(-1)!)} (2), ${Math.round(s.seqMiBs.at(-1)!)} MiB/s\n`);
      }
    }
  } finally {
    for (const { m } of servers) await m.stop();
    writeFileSync(PARAM, before);
  }
  const f = (v: number[], d = 0): string => `${median(v).toFixed(d)} (${range(v).map((x) => x.toFixed(d)).join('–')})`;
  const ratio = (k: keyof Samples): string => (median(samples.io_uring[k]) / median(samples.device[k])).toFixed(2);
  const lines = [
    '# FUSE over io_uring vs /dev/fuse read/write',
    '',
    `\`node dist/bench/io-uring.js --seconds ${seconds} --rounds ${rounds}\` on ${new Date().toISOString().slice(0, 10)}, ${cpus().length} CPUs (${cpus()[0]?.model ?? '?'}), kernel ${readFileSync('/proc/sys/kernel/osrelease', 'utf8').trim()}.`,
    'memfs in worker mode, 1 worker (over io_uring it owns every CPU queue), entry/attr timeouts 0, no KEEP_CACHE.',
    'Median of the rounds (range in brackets); the ratio is io_uring / device (higher is better except for CPU).',
    '',
    '| figure | device (read/write) | io_uring | ratio |',
    '|---|---:|---:|---:|',
    `| uncached lstat/s, 1 client | ${f(samples.device.stat1)} | ${f(samples.io_uring.stat1)} | ${ratio('stat1')} |`,
    `| uncached lstat/s, 2 clients | ${f(samples.device.stat2)} | ${f(samples.io_uring.stat2)} | ${ratio('stat2')} |`,
    `| server CPU µs per lstat (1 client) | ${f(samples.device.cpuUsPerStat, 1)} | ${f(samples.io_uring.cpuUsPerStat, 1)} | ${ratio('cpuUsPerStat')} |`,
    `| sequential read MiB/s (1 MiB reads of ${BIG_MIB} MiB) | ${f(samples.device.seqMiBs)} | ${f(samples.io_uring.seqMiBs)} | ${ratio('seqMiBs')} |`,
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
