// Start-up as CPU time, for a loaded machine: the wall time of bench/startup.ts's cli figure follows the load
// (at load 8-10 on 2 CPUs `node -e 0` alone ranged 65-290 ms), the CPU a process burns to get there much less.
// Per round: `node -e` reading its own CPU time as it ends (the floor), then for each tree a background
// `tsfuse erofs mount IMG MNT` whose CPU time (all its threads, /proc/PID/task/*/schedstat, ns) is read as soon
// as a stat through the mount succeeds (this process polls stat(2) itself, so the reading follows the first
// answer within microseconds). The trees alternate within each round.
//   node dist/bench/startup-cpu.js [--rounds N] [DIST ...]   (default: this build; e.g. /tmp/base/dist for A/B)
// Needs root (mounts). Nothing here asserts a speed.

import { spawn, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { abortFuseAt, lazyUnmount, mountsAt } from './lib/mounts.js';
import { BUILD_ROOT } from './lib/paths.js';
import { runSync, sleep } from './lib/proc.js';

const PROBE_TIMEOUT_MS = 20_000;

/** ms of CPU all threads of `pid` have run (0 for threads gone meanwhile). */
function cpuMs(pid: number): number {
  let ns = 0;
  for (const t of readdirSync(`/proc/${pid}/task`)) {
    try {
      ns += Number(readFileSync(`/proc/${pid}/task/${t}/schedstat`, 'utf8').split(' ')[0]);
    } catch {
      // the thread ended
    }
  }
  return ns / 1e6;
}

function nodeFloor(): number {
  const r = spawnSync(process.execPath, ['-e', "process.stdout.write(require('fs').readFileSync('/proc/self/schedstat', 'utf8').split(' ')[0])"]);
  return Number(r.stdout.toString()) / 1e6;
}

async function cliCpu(cli: string, image: string, mnt: string, probe: string): Promise<number> {
  const c = spawn(process.execPath, [cli, 'erofs', 'mount', image, mnt], { stdio: ['ignore', 'ignore', 'inherit'] });
  const exited = new Promise<void>((resolve) => c.once('exit', () => resolve()));
  try {
    for (const end = Date.now() + PROBE_TIMEOUT_MS; Date.now() < end; ) {
      try {
        statSync(probe);
        return cpuMs(c.pid!);
      } catch {
        // not mounted yet
      }
    }
    throw new Error(`stat ${probe} did not succeed within ${PROBE_TIMEOUT_MS} ms`);
  } finally {
    await exited;
    lazyUnmount(mnt);
    for (const end = Date.now() + 5000; mountsAt(mnt).length > 0 && Date.now() < end; ) await sleep(10);
    if (mountsAt(mnt).length > 0) {
      abortFuseAt(mnt);
      lazyUnmount(mnt);
    }
  }
}

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

async function main(): Promise<void> {
  const argv = process.argv.slice(2);
  let rounds = 10;
  const dists: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === '--rounds') rounds = Math.max(1, Number(argv[++i]));
    else if (argv[i]!.startsWith('-')) throw new Error(`startup-cpu: unknown argument '${argv[i]}' (--rounds N, DIST ...)`);
    else dists.push(argv[i]!);
  }
  if (dists.length === 0) dists.push(BUILD_ROOT);
  if (process.getuid?.() !== 0) throw new Error('the start-up bench mounts filesystems: run it as root');
  const base = mkdtempSync('/var/tmp/tsfuse-startup-cpu-');
  const mnt = join(base, 'mnt');
  mkdirSync(mnt);
  const image = join(base, 'small.erofs');
  const floor: number[] = [];
  const cpu = dists.map(() => [] as number[]);
  try {
    const tree = join(base, 'tree');
    mkdirSync(tree);
    for (let i = 0; i < 9; i++) writeFileSync(join(tree, `file-${i}`), `file ${i}\n`);
    runSync('mkfs.erofs', ['--quiet', image, tree]);
    for (let r = 0; r < rounds; r++) {
      floor.push(nodeFloor());
      for (const [i, d] of dists.entries()) {
        cpu[i]!.push(await cliCpu(join(d, 'src/cli/main.js'), image, mnt, join(mnt, 'file-7')));
        await sleep(100);
      }
    }
  } finally {
    if (mountsAt(mnt).length > 0) lazyUnmount(mnt);
    rmSync(base, { recursive: true, force: true });
  }
  const load = readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ');
  const lines = [
    `start-up CPU, ${rounds} rounds, ${new Date().toISOString()}, node ${process.version}, load ${load}`,
    '',
    '| process | CPU ms to the first answer, median (min-max) | x `node -e 0` |',
    '|---|---:|---:|',
    `| \`node -e 0\` (to its end) | ${median(floor).toFixed(1)} (${Math.min(...floor).toFixed(1)}-${Math.max(...floor).toFixed(1)}) | |`,
    ...dists.map((d, i) => `| \`erofs mount\` of ${d} | ${median(cpu[i]!).toFixed(1)} (${Math.min(...cpu[i]!).toFixed(1)}-${Math.max(...cpu[i]!).toFixed(1)}) | ${(median(cpu[i]!) / median(floor)).toFixed(2)}x |`),
  ];
  process.stdout.write(lines.join('\n') + '\n');
}

main().then(
  () => process.exit(0),
  (err) => {
    process.stderr.write(`startup-cpu bench: ${err instanceof Error ? err.stack : String(err)}\n`);
    process.exit(1);
  },
);
