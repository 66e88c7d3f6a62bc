// Passthrough metadata writes: create, chmod, utimens, truncate, rename, unlink, mkdir, rmdir on the native
// ext4 directory, through libfuse's passthrough_hp, and through tsfuse passthrough (this build, and another
// compiled tree with --baseline), interleaved round by round, the same C client (fsbench metaw) for all.
// Reports ops/s, the ratio to native, the server's CPU time per operation (all threads, between phases), and
// the requests the kernel sent per operation (fuse:fuse_request_send of the connection, lib/fuse-trace.ts,
// counted until the phase's FORGETs and RELEASEs have passed), with the opcode mix in the log.
//
//   node dist/bench/passthrough-writes.js [--rounds N] [--count N] [--seconds S] [--passthrough-hp BIN]
//        [--baseline DIR] [--embedded] [--hp-single] [--out FILE]
//
// passthrough_hp is not packaged by Debian: build it from libfuse (3.18) with meson, see bench/README.md, and
// give the binary with --passthrough-hp (or PASSTHROUGH_HP); without it that column is left out. --baseline
// DIR is a compiled tree (DIR/src/cli/main.js, e.g. /tmp/base/dist). --embedded adds a row for this build's
// `--embedded` (the passthrough in the serving process's own thread; the default row is the CLI's default, one
// worker). --hp-single adds passthrough_hp --single (one serving thread, as tsfuse's passthrough has).

import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { fsbench, parseReport } from './lib/clients.js';
import { opcodeMix, RequestCounter } from './lib/fuse-trace.js';
import { ensureDir, Mounted } from './lib/mounts.js';
import { built, LOGS, MNT_ROOT, SCRATCH } from './lib/paths.js';
import { run } from './lib/proc.js';
import { fmt, median } from './lib/stats.js';

/** The phases in the order they run; each but create/mkdir works on what the one before left. */
const FILE_PHASES = ['create', 'chmod', 'utimens', 'truncate', 'rename', 'unlink'] as const;
const DIR_PHASES = ['mkdir', 'rmdir'] as const;
const PHASES = [...FILE_PHASES, ...DIR_PHASES];
type Phase = (typeof PHASES)[number];

interface Contender {
  id: string;
  label: string;
  /** undefined: the native directory itself (no server). */
  serve?: (src: string, mnt: string) => { cmd: string; args: string[] };
}

interface Sample {
  opsPerSec: number;
  /** Server CPU µs per operation; undefined for native. */
  cpuUs?: number;
  /** FUSE requests per operation; undefined for native or without the tracepoint. */
  reqs?: number;
  /** Those requests by opcode per operation ("SETATTR 1.00 ..."). */
  mix?: string;
}

function loadavg(): string {
  try {
    return readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ');
  } catch {
    return '?';
  }
}

function contenders(o: { hp?: string; hpSingle: boolean; baseline?: string; embedded: boolean }): Contender[] {
  const node = process.execPath;
  const tsfuse = (main: string, extra: string[]) => (src: string, mnt: string) => ({ cmd: node, args: [main, 'passthrough', src, mnt, '--foreground', ...extra] });
  const list: Contender[] = [{ id: 'native', label: 'the ext4 directory itself' }];
  if (o.hp) list.push({ id: 'passthrough_hp', label: `libfuse passthrough_hp (${o.hp})`, serve: (src, mnt) => ({ cmd: o.hp!, args: ['--foreground', src, mnt] }) });
  if (o.hp && o.hpSingle) list.push({ id: 'passthrough_hp-single', label: 'libfuse passthrough_hp --single (one thread)', serve: (src, mnt) => ({ cmd: o.hp!, args: ['--foreground', '--single', src, mnt] }) });
  list.push({ id: 'tsfuse', label: 'tsfuse passthrough (this build, CLI defaults)', serve: tsfuse(built('src/cli/main.js'), []) });
  if (o.embedded) list.push({ id: 'tsfuse-embedded', label: 'tsfuse passthrough --embedded (this build)', serve: tsfuse(built('src/cli/main.js'), ['--embedded']) });
  if (o.baseline) list.push({ id: 'tsfuse-base', label: `tsfuse passthrough (${o.baseline})`, serve: tsfuse(join(o.baseline, 'src/cli/main.js'), []) });
  return list;
}

async function client(phase: Phase, dir: string, count: number, timeMs: number, m?: Mounted): Promise<{ ops: number; ns: number }> {
  const r = await run(fsbench(), ['metaw', phase, dir, String(count), String(timeMs)], {
    timeoutMs: timeMs * 10 + 60_000,
    onTimeout: () => m?.abort(`metaw ${phase} hung`),
  });
  const rep = parseReport(r.stdout);
  return { ops: rep.ops, ns: rep.ns };
}

/** One round of every phase in `dir` (a fresh directory below the mount or native root). */
async function oneRound(
  dir: string, count: number, timeMs: number, m: Mounted | undefined, counter: RequestCounter | undefined, out: Map<Phase, Sample[]>, log: (s: string) => void,
): Promise<void> {
  let files = count;
  let dirs = count;
  for (const phase of PHASES) {
    const n = phase === 'create' ? count : phase === 'mkdir' ? count : phase === 'rmdir' ? dirs : files;
    counter?.start();
    const cpu0 = m?.cpuNs();
    const r = await client(phase, dir, n, timeMs, m);
    const cpu1 = m?.cpuNs();
    if (phase === 'create') files = r.ops;
    if (phase === 'mkdir') dirs = r.ops;
    const s: Sample = { opsPerSec: r.ops / (r.ns / 1e9) };
    if (cpu0 !== undefined && cpu1 !== undefined && r.ops > 0) s.cpuUs = (cpu1 - cpu0) / r.ops / 1000;
    out.get(phase)!.push(s);
    // FORGETs and RELEASEs of the phase reach the server after the client is done: let them pass
    if (m) await m.settle(2000);
    const k = counter?.stop();
    if (k && !k.lost && r.ops > 0) {
      s.reqs = k.total / r.ops;
      s.mix = opcodeMix(k.byOpcode, r.ops);
      log(`  ${phase}: ${s.mix} per op`);
    }
  }
}

export async function runPassthroughWrites(o: {
  rounds: number; count: number; seconds: number; hp?: string; hpSingle: boolean; baseline?: string; embedded: boolean; log: (s: string) => void;
}): Promise<string> {
  // the sources are the bench's own (never mountpoints): what an interrupted run left is removed first
  const root = join(SCRATCH, 'ptwrites');
  rmSync(root, { recursive: true, force: true });
  ensureDir(root);
  ensureDir(LOGS);
  ensureDir(MNT_ROOT);
  const list = contenders(o);
  const samples = new Map<string, Map<Phase, Sample[]>>();
  for (const c of list) samples.set(c.id, new Map(PHASES.map((p) => [p, []])));
  const load0 = loadavg();
  const watchdogMs = (o.seconds * 2 + 60) * 1000 * PHASES.length;
  for (let round = 0; round < o.rounds; round++) {
    // a different order each round, so no contender always runs right after another
    const order = list.map((_, i) => list[(i + round) % list.length]);
    for (const c of order) {
      const src = ensureDir(join(root, `src-${c.id}`));
      const sub = `r${round}`;
      let m: Mounted | undefined;
      let base = src;
      if (c.serve) {
        const mnt = join(MNT_ROOT, `ptw-${c.id}`);
        const { cmd, args } = c.serve(src, mnt);
        m = await Mounted.start({ name: c.id, mnt, probe: '', cmd, args, kind: 'fuse', logFile: join(LOGS, `ptw-${c.id}.log`), watchdogMs });
        base = mnt;
      }
      const counter = m ? RequestCounter.open(m.mnt, c.id) : undefined;
      try {
        const dir = join(base, sub);
        await run('mkdir', [dir], { timeoutMs: 10_000, onTimeout: () => m?.abort('mkdir hung') });
        await oneRound(dir, o.count, o.seconds * 1000, m, counter, samples.get(c.id)!, (s) => o.log(`${c.id} r${round + 1}${s}`));
        await run('rmdir', [dir], { timeoutMs: 10_000, onTimeout: () => m?.abort('rmdir hung') });
        const last = PHASES.map((p) => `${p} ${fmt(samples.get(c.id)!.get(p)!.at(-1)!.opsPerSec)}`).join(', ');
        o.log(`round ${round + 1} ${c.id}: ${last} /s`);
      } finally {
        counter?.close();
        await m?.stop();
      }
    }
  }
  return report(list, samples, o, load0, loadavg());
}

function report(list: Contender[], samples: Map<string, Map<Phase, Sample[]>>, o: { rounds: number; count: number; seconds: number }, load0: string, load1: string): string {
  const L: string[] = [];
  const med = (id: string, p: Phase, k: 'opsPerSec' | 'cpuUs' | 'reqs'): number => median(samples.get(id)!.get(p)!.map((s) => s[k]).filter((v): v is number => v !== undefined));
  L.push(`Run ${new Date().toISOString().slice(0, 16)}Z: ${o.rounds} rounds, up to ${o.count} entries per phase (create and mkdir stop after ${o.seconds} s), one client process, load average ${load0} at the start and ${load1} at the end.`);
  L.push('');
  L.push('Contenders:');
  for (const c of list) L.push(`- **${c.id}**: ${c.label}`);
  L.push('');
  L.push('Operations per second (median of the rounds), and in brackets the ratio to native:');
  L.push('');
  L.push(`| operation | ${list.map((c) => c.id).join(' | ')} |`);
  L.push(`|---|${list.map(() => '---:').join('|')}|`);
  for (const p of PHASES) {
    const nat = med('native', p, 'opsPerSec');
    const cells = list.map((c) => {
      const v = med(c.id, p, 'opsPerSec');
      return c.id === 'native' ? fmt(v) : `${fmt(v)} (${(v / nat).toFixed(3)})`;
    });
    L.push(`| ${p} | ${cells.join(' | ')} |`);
  }
  const servers = list.filter((c) => c.serve);
  if (servers.length) {
    L.push('');
    L.push('Server CPU time per operation, µs (all threads, median of the rounds; FORGET/RELEASE of a phase included):');
    L.push('');
    L.push(`| operation | ${servers.map((c) => c.id).join(' | ')} |`);
    L.push(`|---|${servers.map(() => '---:').join('|')}|`);
    for (const p of PHASES) L.push(`| ${p} | ${servers.map((c) => fmt(med(c.id, p, 'cpuUs'))).join(' | ')} |`);
    if (servers.some((c) => PHASES.some((p) => samples.get(c.id)!.get(p)!.some((s) => s.reqs !== undefined)))) {
      L.push('');
      L.push('FUSE requests per operation (fuse:fuse_request_send of the connection until the phase\'s FORGETs and RELEASEs passed; median of the rounds; the opcode mix is in the log):');
      L.push('');
      L.push(`| operation | ${servers.map((c) => c.id).join(' | ')} |`);
      L.push(`|---|${servers.map(() => '---:').join('|')}|`);
      for (const p of PHASES) L.push(`| ${p} | ${servers.map((c) => med(c.id, p, 'reqs').toFixed(2)).join(' | ')} |`);
      L.push('');
      L.push('The opcode mix per operation in the last round:');
      L.push('');
      for (const c of servers) {
        for (const p of PHASES) {
          const mix = samples.get(c.id)!.get(p)!.at(-1)?.mix;
          if (mix) L.push(`- ${c.id} ${p}: ${mix}`);
        }
      }
    }
  }
  return L.join('\n') + '\n';
}

function parse(argv: string[]): { rounds: number; count: number; seconds: number; hp?: string; hpSingle: boolean; baseline?: string; embedded: boolean; out?: string } {
  const o = { rounds: 3, count: 2000, seconds: 3, hp: process.env.PASSTHROUGH_HP as string | undefined, hpSingle: false, baseline: undefined as string | undefined, embedded: false, out: undefined as string | undefined };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const v = (): string => {
      const x = argv[++i];
      if (x === undefined) throw new Error(`${a} needs a value`);
      return x;
    };
    if (a === '--rounds') o.rounds = Number(v());
    else if (a === '--count') o.count = Number(v());
    else if (a === '--seconds') o.seconds = Number(v());
    else if (a === '--passthrough-hp') o.hp = v();
    else if (a === '--baseline') o.baseline = v();
    else if (a === '--embedded') o.embedded = true;
    else if (a === '--hp-single') o.hpSingle = true;
    else if (a === '--out') o.out = v();
    else throw new Error(`unknown option ${a}`);
  }
  if (o.hp && !existsSync(o.hp)) throw new Error(`passthrough_hp not found at ${o.hp}`);
  if (o.baseline && !existsSync(join(o.baseline, 'src/cli/main.js'))) throw new Error(`no src/cli/main.js under ${o.baseline}`);
  return o;
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  let o: ReturnType<typeof parse>;
  try {
    o = parse(process.argv.slice(2));
  } catch (e) {
    process.stderr.write(`passthrough-writes: ${e instanceof Error ? e.message : String(e)}\n`);
    process.exit(2);
  }
  const table = await runPassthroughWrites({ ...o, log: (s) => process.stderr.write(s + '\n') });
  process.stdout.write(table);
  if (o.out) writeFileSync(o.out, table);
}
