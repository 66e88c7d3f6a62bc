// Cold walks of the quick bench tree through the image server, side by side with squashfuse_ll: the trade
// READDIRPLUS makes (attributes sent with the listing or asked for by one LOOKUP per entry) shows in `find`
// (names only), `ls -lR` and `du -s` (every entry stat'ed) and tar (every entry stat'ed and read). Each
// contender is mounted with its usual cache timeouts, the caches are dropped (echo 3) before each walk, and
// the walk's wall time, the server's CPU and the requests the kernel sent are taken. Contenders run
// interleaved round by round; `--baseline DIR` adds the image server of another compiled tree.
//
//   node dist/bench/erofs-listing.js [--rounds N] [--workers N] [--baseline DIR] [--only find,ls,du,tar] [--out FILE]

import { writeFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import { ensureDataset, QUICK } from './lib/data.js';
import { RequestCounter } from './lib/fuse-trace.js';
import { dropCaches, Mounted } from './lib/mounts.js';
import { BUILD_ROOT, LOGS, MNT_ROOT } from './lib/paths.js';
import { run } from './lib/proc.js';
import { fmt, median, range } from './lib/stats.js';

const a = process.argv.slice(2);
const val = (k: string): string | undefined => (a.includes(k) ? a[a.indexOf(k) + 1] : undefined);
const rounds = Number(val('--rounds') ?? 3);
const workers = Number(val('--workers') ?? availableParallelism());
const baseline = val('--baseline');
const out = val('--out');
const ds = await ensureDataset(QUICK, (s) => process.stderr.write(s + '\n'));

interface Walk {
  id: string;
  /** A shell command; $1 is the mountpoint. */
  sh: string;
}
// tar leaves out the 128 MiB file: the figure is about entries, not bytes
const WALKS: Walk[] = [
  { id: 'find', sh: 'find "$1" -fprint /dev/null' },
  { id: 'ls', sh: 'ls -lR "$1" > /dev/null' },
  { id: 'du', sh: 'du -s "$1" > /dev/null' },
  { id: 'tar', sh: `tar -cf - -C "$1" --exclude ./${ds.bigFile} . | cat > /dev/null` },
];
const only = val('--only')?.split(',');
const walks = only ? WALKS.filter((w) => only.includes(w.id)) : WALKS;

interface Contender {
  id: string;
  cmd: string;
  args: (mnt: string) => string[];
}
const tsfuse = (id: string, root: string): Contender => ({
  id,
  cmd: process.execPath,
  args: (mnt) => [join(root, 'bench/servers/tsfuse-erofs.js'), '--image', ds.erofs, '--mnt', mnt, '--workers', String(workers)],
});
const contenders: Contender[] = [
  ...(baseline ? [tsfuse('tsfuse-erofs-base', baseline)] : []),
  tsfuse('tsfuse-erofs', BUILD_ROOT),
  { id: 'squashfuse_ll', cmd: 'squashfuse_ll', args: (mnt) => ['-f', ds.squashfs, mnt] },
];

type Sample = { ms: number; cpuMs: number | undefined; requests: number | undefined; mix: string };
const samples = new Map<string, Sample[]>();

function mix(byOpcode: Record<string, number>): string {
  return Object.entries(byOpcode).sort((x, y) => y[1] - x[1]).map(([k, v]) => `${k.replace(/^FUSE_/, '')} ${v}`).join(' ');
}

async function round(c: Contender): Promise<void> {
  const mnt = join(MNT_ROOT, `listing-${c.id}`);
  const m = await Mounted.start({ name: c.id, mnt, probe: join(mnt, ds.probe), cmd: c.cmd, args: c.args(mnt), kind: 'fuse', logFile: join(LOGS, `listing-${c.id}.log`), watchdogMs: 300_000 });
  const counter = RequestCounter.open(mnt, `listing-${c.id}`);
  try {
    for (const w of walks) {
      await dropCaches(3);
      await m.settle();
      counter?.start();
      const c0 = m.cpuNs();
      // pipefail: a walk that fails (a server gone) must not pass for a fast one
      const r = await run('bash', ['-o', 'pipefail', '-c', w.sh, 'sh', mnt], { timeoutMs: 120_000, onTimeout: () => m.abort(`${w.id} hung`) });
      const c1 = m.cpuNs();
      const rq = counter?.stop();
      const s: Sample = {
        ms: r.ns / 1e6,
        cpuMs: c0 !== undefined && c1 !== undefined ? (c1 - c0) / 1e6 : undefined,
        requests: rq && !rq.lost ? rq.total : undefined,
        mix: rq ? mix(rq.byOpcode) : '',
      };
      const key = `${w.id}\t${c.id}`;
      samples.set(key, [...(samples.get(key) ?? []), s]);
      process.stderr.write(`  ${c.id} ${w.id}: ${fmt(s.ms)} ms, server CPU ${s.cpuMs === undefined ? '-' : fmt(s.cpuMs)} ms, ${s.mix}\n`);
    }
  } finally {
    counter?.close();
    await m.stop();
  }
}

const load0 = (await import('node:fs')).readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ');
for (let r = 0; r < rounds; r++) {
  process.stderr.write(`round ${r + 1}/${rounds}\n`);
  for (const c of contenders) await round(c);
}
const load1 = (await import('node:fs')).readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ');

const cell = (xs: number[]): string => {
  if (xs.length === 0) return '-';
  const [lo, hi] = range(xs);
  return `${fmt(median(xs))} (${fmt(lo)}–${fmt(hi)})`;
};
const lines = [
  `Cold walks of the ${ds.entries}-entry tree, ${rounds} rounds, ${workers} workers, load average ${load0} -> ${load1}; medians (range).`,
  '',
  '| walk | contender | wall, ms | server CPU, ms | requests | request mix (last round) |',
  '|---|---|---:|---:|---:|---|',
];
for (const w of walks) {
  for (const c of contenders) {
    const s = samples.get(`${w.id}\t${c.id}`) ?? [];
    const num = (f: (x: Sample) => number | undefined): number[] => s.map(f).filter((x): x is number => x !== undefined);
    lines.push(`| ${w.id} | ${c.id} | ${cell(num((x) => x.ms))} | ${cell(num((x) => x.cpuMs))} | ${cell(num((x) => x.requests))} | ${s.at(-1)?.mix ?? ''} |`);
  }
}
const text = lines.join('\n') + '\n';
process.stdout.write(text);
if (out) writeFileSync(out, text);
