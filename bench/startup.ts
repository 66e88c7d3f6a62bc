// Start-up: time from "start the server" to the first stat answered through the mount, seen by another
// process (fsbench waitstat polls stat(2) every 200 µs; its CLOCK_MONOTONIC stamp is compared with ours).
//   node          `node -e 0` to exit: the floor of any Node command
//   cli           spawn of `tsfuse erofs mount IMG MNT` (background, returns when ready) -> first stat;
//                 and when the command returned (the shell may go on)
//   cli-fg        the same with --foreground (the server process is the command)
//   embedded      Session.mount(hello) in this running process -> first stat
//   worker        Session.mount({ module: hello }) in this process, default workers -> first stat
//   worker-1      the same with one worker
//   erofs-api     mountErofs() in this process (worker mode, the image's filesystem module) -> first stat
// Rounds interleave the figures; the table gives median and min per figure, and when the command returned
// (cli) or Session.mount() resolved (in-process figures). The cli figures also against `node -e 0`: the ratio of
// the medians, and the median of each round's ratio (the round's sample over that round's `node -e 0`, which
// the load of the moment slows alike).
//   node dist/bench/startup.js [--quick] [--rounds N] [--only a,b] [--out FILE.md]
// Needs root (mounts). Nothing here asserts a speed.

import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { availableParallelism, cpus } from 'node:os';
import { join } from 'node:path';
import { fsbench } from './lib/clients.js';
import { abortFuseAt, lazyUnmount, mountsAt } from './lib/mounts.js';
import { built } from './lib/paths.js';
import { hrnow, runSync, sleep } from './lib/proc.js';
import { Session } from '../src/server/session.js';
import { createFilesystem as createHello } from '../src/fs/hello.js';
import { mountErofs } from '../src/erofs/mount.js';

const CLI = built('src/cli/main.js');
const HELLO = built('src/fs/hello.js');
const PROBE_TIMEOUT_MS = 20_000;

interface Args {
  rounds: number;
  only?: Set<string>;
  out?: string;
}

function parse(argv: string[]): Args {
  const a: Args = { rounds: 10 };
  for (let i = 0; i < argv.length; i++) {
    const k = argv[i];
    if (k === '--quick') a.rounds = 3;
    else if (k === '--rounds') a.rounds = Math.max(1, Number(argv[++i]));
    else if (k === '--only') a.only = new Set(argv[++i]!.split(','));
    else if (k === '--out') a.out = argv[++i];
    else throw new Error(`startup bench: unknown argument '${k}' (--quick, --rounds N, --only a,b, --out FILE)`);
  }
  return a;
}

/** Starts polling stat(path) in a child; resolves with the CLOCK_MONOTONIC ns of the first success. */
function waitStat(path: string): { started: Promise<void>; done: Promise<number> } {
  const child = spawn(fsbench(), ['waitstat', path, String(PROBE_TIMEOUT_MS)], { stdio: ['ignore', 'pipe', 'inherit'] });
  let out = '';
  child.stdout.setEncoding('utf8');
  child.stdout.on('data', (d: string) => (out += d));
  const started = new Promise<void>((resolve, reject) => {
    child.once('spawn', () => resolve());
    child.once('error', reject);
  });
  const done = new Promise<number>((resolve, reject) => {
    child.once('close', (code) => {
      const j = JSON.parse(out.trim().split('\n').pop() || '{}') as { t1?: number; errors?: number };
      if (code !== 0 || j.errors || j.t1 === undefined) reject(new Error(`stat ${path} did not succeed within ${PROBE_TIMEOUT_MS} ms`));
      else resolve(j.t1);
    });
  });
  return { started, done };
}

/** pids of other processes whose command line names `mnt` (the CLI's serving process). */
function serverPids(mnt: string): number[] {
  const pids: number[] = [];
  for (const d of readdirSync('/proc')) {
    if (!/^\d+$/.test(d) || Number(d) === process.pid) continue;
    try {
      if (readFileSync(`/proc/${d}/cmdline`, 'utf8').split('\0').includes(mnt)) pids.push(Number(d));
    } catch {
      // gone
    }
  }
  return pids;
}

/** Unmounts what a CLI run left and waits for its server to exit (killing it after 5 s). */
async function stopCli(mnt: string): Promise<void> {
  lazyUnmount(mnt);
  const end = Date.now() + 5000;
  while (serverPids(mnt).length > 0 && Date.now() < end) await sleep(10);
  for (const pid of serverPids(mnt)) {
    abortFuseAt(mnt);
    process.kill(pid, 'SIGKILL');
  }
  if (mountsAt(mnt).length > 0) {
    abortFuseAt(mnt);
    lazyUnmount(mnt);
  }
}

interface Sample {
  ms: number;
  /** cli: when the command exited (ms after spawn); in-process figures: when mount() resolved. */
  returnedMs?: number;
}

/** `node -e 0`: spawn to exit. */
async function nodeFloor(): Promise<Sample> {
  const t0 = hrnow();
  await new Promise<void>((resolve, reject) => {
    const c = spawn(process.execPath, ['-e', '0'], { stdio: 'ignore' });
    c.once('exit', () => resolve());
    c.once('error', reject);
  });
  return { ms: (hrnow() - t0) / 1e6 };
}

async function cli(image: string, mnt: string, probe: string, foreground: boolean): Promise<Sample> {
  const w = waitStat(join(mnt, probe));
  await w.started;
  await sleep(5);
  const t0 = hrnow();
  const args = [CLI, 'erofs', 'mount', image, mnt, ...(foreground ? ['--foreground'] : [])];
  const c = spawn(process.execPath, args, { stdio: ['ignore', 'ignore', 'inherit'], detached: foreground });
  let returnedMs: number | undefined;
  const exited = new Promise<number | null>((resolve) => c.once('exit', (code) => {
    returnedMs = (hrnow() - t0) / 1e6;
    resolve(code);
  }));
  try {
    const t1 = await Promise.race([w.done, exited.then((code) => (foreground || code !== 0 ? Promise.reject(new Error(`erofs mount exited with ${code}`)) : w.done))]);
    if (!foreground) {
      const code = await exited;
      if (code !== 0) throw new Error(`erofs mount exited with ${code}`);
    }
    return { ms: (t1 - t0) / 1e6, returnedMs };
  } finally {
    await stopCli(mnt);
    if (foreground) await exited;
  }
}

async function inProcess(mnt: string, probe: string, mount: () => Promise<{ unmount(): Promise<void> }>): Promise<Sample> {
  const w = waitStat(join(mnt, probe));
  await w.started;
  await sleep(5);
  const t0 = hrnow();
  const s = await mount();
  const resolvedMs = (hrnow() - t0) / 1e6;
  try {
    const t1 = await w.done;
    return { ms: (t1 - t0) / 1e6, returnedMs: resolvedMs };
  } finally {
    await s.unmount();
  }
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}

async function main(): Promise<void> {
  const args = parse(process.argv.slice(2));
  if (process.getuid?.() !== 0) throw new Error('the start-up bench mounts filesystems: run it as root');
  const base = mkdtempSync('/var/tmp/tsfuse-startup-');
  const mnt = join(base, 'mnt');
  mkdirSync(mnt);
  const image = join(base, 'small.erofs');
  const log = (): void => undefined;
  const figures: { id: string; what: string; run: () => Promise<Sample> }[] = [
    { id: 'node', what: '`node -e 0`, spawn to exit', run: nodeFloor },
    { id: 'cli', what: '`tsfuse erofs mount IMG MNT` spawn -> first stat', run: () => cli(image, mnt, 'file-7', false) },
    { id: 'cli-fg', what: '`tsfuse erofs mount IMG MNT --foreground` spawn -> first stat', run: () => cli(image, mnt, 'file-7', true) },
    { id: 'embedded', what: 'Session.mount(hello) -> first stat (embedded)', run: () => inProcess(mnt, 'hello.txt', () => Session.mount(createHello(), { mountpoint: mnt, log })) },
    { id: 'worker', what: `Session.mount({ module: hello }) -> first stat (${availableParallelism()} workers)`, run: () => inProcess(mnt, 'hello.txt', () => Session.mount({ module: HELLO }, { mountpoint: mnt, log })) },
    { id: 'worker-1', what: 'Session.mount({ module: hello }, { workers: 1 }) -> first stat', run: () => inProcess(mnt, 'hello.txt', () => Session.mount({ module: HELLO }, { mountpoint: mnt, workers: 1, log })) },
    { id: 'erofs-api', what: `mountErofs(IMG) -> first stat (${availableParallelism()} workers)`, run: () => inProcess(mnt, 'file-7', () => mountErofs({ image, mountpoint: mnt, log })) },
  ].filter((f) => !args.only || args.only.has(f.id));
  const samples = new Map<string, Sample[]>(figures.map((f) => [f.id, []]));
  try {
    const tree = join(base, 'tree');
    mkdirSync(tree);
    for (let i = 0; i < 9; i++) writeFileSync(join(tree, `file-${i}`), `file ${i}\n`);
    runSync('mkfs.erofs', ['--quiet', image, tree]);
    for (let r = 0; r < args.rounds; r++) {
      for (const f of figures) {
        const s = await f.run();
        samples.get(f.id)!.push(s);
        await sleep(50);
      }
      process.stderr.write(`startup: round ${r + 1}/${args.rounds}\n`);
    }
  } finally {
    if (mountsAt(mnt).length > 0) await stopCli(mnt);
    rmSync(base, { recursive: true, force: true });
  }
  const floor = samples.get('node') ? median(samples.get('node')!.map((s) => s.ms)) : undefined;
  const lines = [
    `start-up, ${args.rounds} rounds, ${new Date().toISOString()}, node ${process.version}, ${cpus().length} CPUs, load ${readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ')}`,
    '',
    '| figure | what | median ms | min ms | x `node -e 0` | per round x `node -e 0` (median, range) | command returned / mount() resolved (median ms) |',
    '|---|---|---:|---:|---:|---:|---:|',
  ];
  const nodeSamples = samples.get('node');
  for (const f of figures) {
    const s = samples.get(f.id)!;
    const m = median(s.map((x) => x.ms));
    const ret = s.some((x) => x.returnedMs !== undefined) ? median(s.map((x) => x.returnedMs ?? NaN)).toFixed(1) : '';
    const cli = floor !== undefined && f.id.startsWith('cli');
    const ratio = cli ? `${(m / floor).toFixed(2)}x` : '';
    // each round's sample against that round's `node -e 0`: the load of the moment weighs on both alike
    const perRound = cli ? s.map((x, r) => x.ms / nodeSamples![r]!.ms) : [];
    const rounds = cli ? `${median(perRound).toFixed(2)}x (${Math.min(...perRound).toFixed(2)}-${Math.max(...perRound).toFixed(2)})` : '';
    lines.push(`| ${f.id} | ${f.what} | ${m.toFixed(1)} | ${Math.min(...s.map((x) => x.ms)).toFixed(1)} | ${ratio} | ${rounds} | ${ret} |`);
  }
  const text = lines.join('\n') + '\n';
  process.stdout.write(text);
  if (args.out) writeFileSync(args.out, text);
}

main().then(
  () => process.exit(0),
  (err) => {
    process.stderr.write(`startup bench: ${err instanceof Error ? err.stack : String(err)}\n`);
    process.exit(1);
  },
);
