// Where a tsfuse server's time goes during one bench figure: runs the server under `node --cpu-prof` (every
// thread writes its own .cpuprofile, workers included), drives the figure's load from a separate client
// process, unmounts, and prints the top self-time functions per thread.
//
//   node dist/bench/profile.js FIGURE [--server erofs|erofs-1w|memfs|passthrough] [--seconds S] [--quick] [--top N] [--perf] [--out FILE]
//                              [--image PATH --probe REL] [--cache-size SIZE]
//
// FIGURE: stat (uncached lstat loop), readdir (the big directory), find-cold, seq (sequential read, cold),
// rand (4 KiB random reads, cold), create (create/stat/unlink on the passthrough fs), tar (cold tar of the
// whole tree into a pipe). --image serves another image of the tree (e.g. a compressed one from the
// compressed-image section) instead of the uncompressed bench image.
// --perf: sample the whole server process with `perf record -e cpu-clock -g` (kernel and JIT frames,
// node --perf-basic-prof) instead of --cpu-prof, which only sees JS and counts a blocked read as time.

import { mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fsbench, parseReport } from './lib/clients.js';
import { ensureDataset, FULL, QUICK } from './lib/data.js';
import { dropCaches, ensureDir, Mounted } from './lib/mounts.js';
import { populate, statLoad } from './lib/memfs.js';
import { built, LOGS, MNT_ROOT, SCRATCH } from './lib/paths.js';
import { run } from './lib/proc.js';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  hitCount?: number;
  children?: number[];
}
interface Profile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
  startTime: number;
  endTime: number;
}

export interface SelfTime {
  fn: string;
  ms: number;
  pct: number;
}

/** Self time per function (name + file:line) of one .cpuprofile. */
export function selfTimes(p: Profile): { total: number; rows: SelfTime[] } {
  const byId = new Map(p.nodes.map((n) => [n.id, n]));
  const acc = new Map<string, number>();
  let total = 0;
  for (let i = 0; i < p.samples.length; i++) {
    const n = byId.get(p.samples[i]);
    const dt = (p.timeDeltas[i] ?? 0) / 1000;
    if (!n) continue;
    const f = n.callFrame;
    const file = f.url ? f.url.replace(/^file:\/\//, '').replace(/.*\/(src|bench|node_modules)\//, '$1/') : '';
    const key = `${f.functionName || '(anonymous)'}${file ? ` ${file}:${f.lineNumber + 1}` : ''}`;
    acc.set(key, (acc.get(key) ?? 0) + dt);
    total += dt;
  }
  const rows = [...acc.entries()].map(([fn, ms]) => ({ fn, ms, pct: (100 * ms) / total })).sort((a, b) => b.ms - a.ms);
  return { total, rows };
}

let said = '';
function say(s: string): void {
  said += s;
  process.stdout.write(s);
}

async function main(): Promise<void> {
  const a = process.argv.slice(2);
  const figure = a[0];
  const val = (k: string, d: string): string => {
    const i = a.indexOf(k);
    return i >= 0 ? a[i + 1] : d;
  };
  const server = val('--server', figure === 'create' ? 'passthrough' : 'erofs');
  const seconds = Number(val('--seconds', '5'));
  const top = Number(val('--top', '15'));
  if (!figure) throw new Error('usage: profile.js FIGURE [--server erofs|erofs-1w|memfs|passthrough] [--seconds S] [--quick]');
  const ds = await ensureDataset(a.includes('--quick') ? QUICK : FULL, (s) => process.stderr.write(s + '\n'));
  ensureDir(LOGS);
  const profDir = join(SCRATCH, 'profile');
  rmSync(profDir, { recursive: true, force: true });
  mkdirSync(profDir, { recursive: true });
  const mnt = join(MNT_ROOT, 'profile');
  const usePerf = a.includes('--perf');
  const prof = usePerf ? ['--perf-basic-prof'] : ['--cpu-prof', '--cpu-prof-dir', profDir, '--cpu-prof-interval', '200'];
  const uncached = figure === 'stat';
  let args: string[];
  let probe: string;
  if (server === 'memfs') {
    args = [...prof, built('bench/servers/tsfuse-memfs.js'), '--mnt', mnt, '--workers', '2', '--timeout', '0'];
    probe = '';
  } else if (server === 'passthrough') {
    args = [...prof, built('src/cli/main.js'), 'passthrough', join(ds.dir, 'ptsrc'), mnt, '--foreground'];
    probe = join(mnt, 'big.bin');
  } else {
    args = [...prof, built('bench/servers/tsfuse-erofs.js'), '--image', val('--image', ds.erofs), '--mnt', mnt, '--workers', server === 'erofs-1w' ? '1' : '2'];
    if (uncached) args.push('--timeout', '0');
    if (a.includes('--cache-size')) args.push('--cache-size', val('--cache-size', ''));
    probe = join(mnt, a.includes('--probe') ? val('--probe', '') : ds.probe);
  }
  const m = await Mounted.start({ name: 'profile', mnt, probe, cmd: process.execPath, args, kind: 'fuse', logFile: join(LOGS, 'profile.log'), watchdogMs: (seconds + 120) * 1000 });
  let did = '';
  let perfText = '';
  try {
    if (server === 'memfs') await populate(mnt, { copyFrom: ds.tree, dirs: ds.memfs.dirs });
    const list = server === 'memfs' ? ds.memfs.listFile : ds.listFile;
    const c0 = m.cpuNs() ?? 0;
    const t0 = Date.now();
    // perf samples the whole server process (kernel included) while the load runs
    const perfData = join(profDir, 'perf.data');
    const perf = usePerf
      ? run('perf', ['record', '-e', 'cpu-clock', '-g', '-p', String(m.pid), '-o', perfData, '--', 'sleep', String(seconds)], { timeoutMs: seconds * 1000 + 30_000, check: false })
      : undefined;
    let ops = 0;
    const abort = (): void => m.abort('profile client hung');
    while (Date.now() - t0 < seconds * 1000) {
      if (figure === 'stat') {
        const r = await statLoad(mnt, list, 1, 1_000_000, seconds * 1000, abort);
        ops += r.ops;
        did = 'lstat';
      } else if (figure === 'readdir') {
        const r = parseReport((await run(fsbench(), ['readdir', join(mnt, ds.bigDir), '1000', String(seconds * 1000)], { timeoutMs: seconds * 1000 + 30_000, onTimeout: abort })).stdout);
        ops += r.passes;
        did = 'readdir pass';
      } else if (figure === 'find-cold') {
        await dropCaches(3);
        await run('find', [mnt, '-fprint', '/dev/null'], { timeoutMs: 120_000, onTimeout: abort });
        ops++;
        did = 'cold find';
      } else if (figure === 'tar') {
        await dropCaches(3);
        await run('sh', ['-c', `tar -cf - -C '${mnt}' . | cat > /dev/null`], { timeoutMs: 600_000, onTimeout: abort });
        ops++;
        did = 'cold tar';
      } else if (figure === 'seq' || figure === 'rand') {
        await dropCaches(3);
        const file = join(mnt, server === 'passthrough' ? 'big.bin' : ds.bigFile);
        const r = parseReport(
          (await run(fsbench(), figure === 'seq'
            ? ['seqread', file, String(1 << 20), String(ds.params.bigFileBytes), String(seconds * 1000)]
            : ['randread', file, '4096', '100000000', String(seconds * 1000), '7'], { timeoutMs: seconds * 1000 + 60_000, onTimeout: abort })).stdout,
        );
        ops += figure === 'seq' ? r.bytes / (1 << 20) : r.ops;
        did = figure === 'seq' ? 'MiB' : '4 KiB read';
      } else if (figure === 'create') {
        const scratch = join(mnt, 'scratch');
        await run('mkdir', ['-p', scratch], { timeoutMs: 10_000, onTimeout: abort });
        const r = parseReport((await run(fsbench(), ['cstat', scratch, '5000', String(seconds * 1000)], { timeoutMs: seconds * 3000 + 30_000, onTimeout: abort })).stdout);
        ops += r.ops;
        did = 'create+stat+unlink';
      } else throw new Error(`unknown figure ${figure}`);
    }
    const cpu = ((m.cpuNs() ?? 0) - c0) / 1e6;
    if (perf) {
      await perf;
      const rep = await run('perf', ['report', '-i', perfData, '--no-children', '--sort', 'dso,sym', '--stdio'], { timeoutMs: 120_000, check: false });
      const lines = rep.stdout.split('\n').filter((l) => /^\s+[0-9.]+%/.test(l)).slice(0, top);
      const byDso = await run('perf', ['report', '-i', perfData, '--no-children', '--sort', 'dso', '--stdio'], { timeoutMs: 120_000, check: false });
      const dsos = byDso.stdout.split('\n').filter((l) => /^\s+[0-9.]+%/.test(l)).slice(0, 6);
      rmSync(`/tmp/perf-${m.pid}.map`, { force: true }); // node --perf-basic-prof's symbol map
      perfText = `\nperf (cpu-clock, whole server process) by object:\n${dsos.join('\n')}\n\ntop self-time symbols:\n${lines.join('\n')}\n`;
    }
    say(`${figure} on ${server}: ${ops.toFixed(0)} × ${did} in ${((Date.now() - t0) / 1000).toFixed(1)} s; server CPU ${cpu.toFixed(0)} ms (${((cpu * 1000) / ops).toFixed(1)} µs per ${did})\n`);
  } finally {
    await m.stop();
  }
  if (perfText) say(perfText);
  for (const f of readdirSync(profDir).filter((x) => x.endsWith('.cpuprofile')).sort()) {
    const p = JSON.parse(readFileSync(join(profDir, f), 'utf8')) as Profile;
    const { total, rows } = selfTimes(p);
    if (total < 50) continue;
    say(`\n${f}: ${total.toFixed(0)} ms sampled\n`);
    for (const r of rows.slice(0, top)) say(`  ${r.pct.toFixed(1).padStart(5)}%  ${r.ms.toFixed(0).padStart(6)} ms  ${r.fn}\n`);
  }
  say(`\nprofiles: ${profDir}\n`);
  const out = a.indexOf('--out');
  if (out >= 0) writeFileSync(a[out + 1], '```\n' + `$ node dist/bench/profile.js ${a.join(' ')}\n` + said + '```\n');
}

main().then(
  () => process.exit(0),
  (err) => {
    process.stderr.write(`profile: ${err instanceof Error ? err.stack : String(err)}\n`);
    process.exit(1);
  },
);
