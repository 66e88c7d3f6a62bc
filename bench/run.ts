// `npm run bench`: tsfuse against its peers, side by side, on the same data in the same run.
//
//   node dist/bench/run.js [--quick] [--rounds N] [--only id,id] [--skip id,id] [--no-pt] [--no-memfs]
//                          [--cpu-prof DIR] [--out DIR] [--section compressed|main|fuse-native] [--cache-size SIZE]
//                          [--baseline BUILD_ROOT] [--zimage EROFS_IMAGE]
//
// Builds (once, cached by parameters) a tree, its EROFS, squashfs and composefs images and a 10-entry image
// (bench/lib/data.ts), then runs rounds; each round runs every contender in turn (A, B, C, A, B, C...), and
// the report gives the median and range over rounds and the ratio to tsfuse. Every client is a separate
// process (bench/clients/fsbench.c); every mount has a watchdog and is aborted (fusectl) and lazily
// unmounted if anything hangs. Writes bench/results/latest.{md,json,svg}. After the main section comes the
// compressed-image section (bench/lib/compressed-run.ts: compressed.{md,json}), then the fuse-native section
// (bench/fuse-native.ts: the same fuse-native program on tsfuse/fuse-native and on fuse-native, fuse-native.md);
// `--section` runs only one.

import { existsSync, linkSync, mkdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import { fsbench, parseReport, type ClientReport } from './lib/clients.js';
import { imageContenders, mntFor, ptContenders, type Ctx, type ImageContender, type Launch, type PtContender } from './lib/contenders.js';
import { ensureDataset, FULL, QUICK, type Dataset } from './lib/data.js';
import { figures } from './lib/figures.js';
import { statLoad } from './lib/memfs.js';
import { memfsLoop, populate, startMemfs, type MemfsServer } from './statloop.js';
import type { MemfsServerOptions } from './lib/memfs.js';
import { dropCaches, ensureDir, Mounted } from './lib/mounts.js';
import { RequestCounter } from './lib/fuse-trace.js';
import { BUILD_ROOT, LOGS, MNT_ROOT, RESULTS, SCRATCH } from './lib/paths.js';
import { run } from './lib/proc.js';
import { runCompressedSection } from './lib/compressed-run.js';
import { fuseNativeSection } from './lib/fuse-native-section.js';
import { machineInfo, writeReports, type RunResults } from './lib/report.js';
import { assertOverUring, EMBEDDED_NOTE, enableUringFor, restoreUring, uringMissing } from './lib/uring.js';

interface Config {
  quick: boolean;
  rounds: number;
  statCapMs: number;
  readdirPasses: number;
  readdirCapMs: number;
  findCapMs: number;
  seqCapMs: number;
  randCount: number;
  randCapMs: number;
  cstatCount: number;
  cstatCapMs: number;
  phaseWatchdogMs: number;
}

const QUICK_CFG: Omit<Config, 'quick'> = {
  rounds: 3, statCapMs: 2000, readdirPasses: 3, readdirCapMs: 1500, findCapMs: 30_000, seqCapMs: 15_000,
  randCount: 3000, randCapMs: 800, cstatCount: 800, cstatCapMs: 1500, phaseWatchdogMs: 180_000,
};
const FULL_CFG: Omit<Config, 'quick'> = {
  rounds: 5, statCapMs: 6000, readdirPasses: 3, readdirCapMs: 4000, findCapMs: 120_000, seqCapMs: 60_000,
  randCount: 20_000, randCapMs: 3000, cstatCount: 5000, cstatCapMs: 6000, phaseWatchdogMs: 900_000,
};

function log(s: string): void {
  process.stderr.write(s + '\n');
}

class Recorder {
  samples: Record<string, Record<string, number[]>> = {};
  errors: Record<string, string[]> = {};
  add(fig: string, who: string, v: number | undefined): void {
    if (v === undefined || !Number.isFinite(v)) return;
    ((this.samples[fig] ??= {})[who] ??= []).push(v);
  }
  error(who: string, msg: string): void {
    (this.errors[who] ??= []).push(msg);
    log(`  ! ${who}: ${msg}`);
  }
}

function args(): { cfg: Config; only?: Set<string>; skip: Set<string>; pt: boolean; memfs: boolean; cpuProf?: string; out: string; section?: string; cacheSize?: string; baseline?: string; zimage?: string } {
  const a = process.argv.slice(2);
  const quick = a.includes('--quick');
  const val = (k: string): string | undefined => {
    const i = a.indexOf(k);
    return i >= 0 ? a[i + 1] : undefined;
  };
  const cfg: Config = { quick, ...(quick ? QUICK_CFG : FULL_CFG) };
  if (val('--rounds')) cfg.rounds = Math.max(1, Math.min(50, Number(val('--rounds'))));
  const list = (k: string): Set<string> | undefined => (val(k) ? new Set(val(k)!.split(',')) : undefined);
  return {
    cfg,
    only: list('--only'),
    skip: list('--skip') ?? new Set(),
    pt: !a.includes('--no-pt'),
    memfs: !a.includes('--no-memfs'),
    cpuProf: val('--cpu-prof'),
    out: val('--out') ?? RESULTS,
    section: val('--section'),
    cacheSize: val('--cache-size'),
    baseline: val('--baseline'),
    zimage: val('--zimage'),
  };
}

async function client(m: Mounted | undefined, argv: string[], capMs: number): Promise<ClientReport> {
  const r = await run(fsbench(), argv, {
    timeoutMs: capMs + 30_000,
    onTimeout: () => m?.abort(`client ${argv[0]} hung`),
  });
  return parseReport(r.stdout);
}

async function timedCmd(m: Mounted | undefined, cmd: string, argv: string[], capMs: number): Promise<number> {
  const r = await run(cmd, argv, { timeoutMs: capMs, onTimeout: () => m?.abort(`${cmd} hung`) });
  return r.ns;
}

async function start(id: string, mnt: string, l: Launch, cfg: Config): Promise<Mounted> {
  const m = await Mounted.start({
    name: id, mnt, probe: l.probe, cmd: l.cmd, args: l.args, kind: l.kind, env: l.env, stopSignal: l.stopSignal,
    logFile: join(LOGS, `${id}.log`), watchdogMs: cfg.phaseWatchdogMs,
  });
  if (l.uring) {
    try {
      await assertOverUring(id, m.pid);
    } catch (err) {
      await m.stop();
      throw err;
    }
  }
  return m;
}

/** Page-cache warm-up of what a launch loads (binaries, the compiled JS), so start-up is not disk-bound. */
async function warmLaunch(l: Launch): Promise<void> {
  const files = [l.cmd.startsWith('/') ? l.cmd : `$(command -v ${l.cmd})`];
  await run('sh', ['-c', `cat ${files.join(' ')} > /dev/null 2>&1; find '${BUILD_ROOT}/src' '${BUILD_ROOT}/bench' -name '*.js' -exec cat {} + > /dev/null 2>&1; true`], { timeoutMs: 30_000, check: false });
}

async function imageRound(c: ImageContender, ctx: Ctx, cfg: Config, rec: Recorder, round: number): Promise<void> {
  const ds = ctx.ds;
  const mnt = mntFor(c.id);
  // A: metadata with timeouts 0 (or from dropped caches when the contender cannot be told)
  try {
    const m = await start(c.id, mnt, c.serve(ctx, 'uncached', mnt), cfg);
    const counter = RequestCounter.open(mnt, c.id);
    try {
      if (!c.uncachedPossible) {
        await dropCaches(c.dropLevel);
        await m.settle();
      }
      counter?.start();
      const c0 = m.cpuNs();
      const s1 = await statLoad(mnt, ds.listFile, 1, 1, cfg.statCapMs, () => m.abort('stat loop hung'));
      const c1 = m.cpuNs();
      const r1 = counter?.stop();
      rec.add('stat1', c.id, (s1.ops / s1.ns) * 1e9);
      if (c0 !== undefined && c1 !== undefined) rec.add('cpu-stat', c.id, (c1 - c0) / s1.ops / 1000);
      if (r1 && !r1.lost && r1.total > 0) {
        rec.add('req-stat', c.id, r1.total / s1.ops);
        if (c0 !== undefined && c1 !== undefined) rec.add('cpu-req', c.id, (c1 - c0) / r1.total / 1000);
        log(`    ${c.id} lstat pass: ${opcodeCounts(r1.byOpcode, s1.ops)} per lstat`);
      }
      if (!c.uncachedPossible) {
        await dropCaches(c.dropLevel);
        await m.settle();
      }
      const s2 = await statLoad(mnt, ds.listFile, 2, 1, cfg.statCapMs, () => m.abort('stat loop hung'));
      rec.add('stat2', c.id, (s2.ops / s2.ns) * 1e9);
      counter?.start();
      const rd = await client(m, ['readdir', join(mnt, ds.bigDir), String(cfg.readdirPasses), String(cfg.readdirCapMs)], cfg.readdirCapMs);
      const rr = counter?.stop();
      // bigDir - 1 files (+ "." and ".." where the server lists them)
      if (rd.ops / rd.passes < ds.params.bigDir - 1) throw new Error(`readdir saw ${rd.ops / rd.passes} entries, expected ${ds.params.bigDir - 1}+`);
      rec.add('readdir', c.id, rd.ns / rd.passes / 1e6);
      if (rr && !rr.lost) {
        rec.add('req-readdir', c.id, rr.total / rd.passes);
        log(`    ${c.id} readdir: ${opcodeCounts(rr.byOpcode, rd.passes)} per pass`);
      }
    } finally {
      counter?.close();
      await m.stop();
    }
  } catch (err) {
    rec.error(c.id, `round ${round} metadata: ${msg(err)}`);
  }
  // B: find and data with the contender's usual (long) cache timeouts
  try {
    const m = await start(c.id, mnt, c.serve(ctx, 'cached', mnt), cfg);
    const counter = RequestCounter.open(mnt, c.id);
    try {
      await dropCaches(3);
      await m.settle();
      counter?.start();
      const c0 = m.cpuNs();
      rec.add('find-cold', c.id, (await timedCmd(m, 'find', [mnt, '-fprint', '/dev/null'], cfg.findCapMs)) / 1e6);
      const c1 = m.cpuNs();
      const rf = counter?.stop();
      counter?.close();
      if (c0 !== undefined && c1 !== undefined) rec.add('cpu-find', c.id, (c1 - c0) / 1e6);
      if (rf && !rf.lost) {
        rec.add('req-find', c.id, rf.total);
        log(`    ${c.id} cold find: ${opcodeCounts(rf.byOpcode, 1)}`);
      }
      rec.add('find-warm', c.id, (await timedCmd(m, 'find', [mnt, '-fprint', '/dev/null'], cfg.findCapMs)) / 1e6);
      await dataFigures(m, join(mnt, ds.bigFile), ds.params.bigFileBytes, cfg, rec, c.id, round, '');
    } finally {
      counter?.close();
      await m.stop();
    }
  } catch (err) {
    rec.error(c.id, `round ${round} find/data: ${msg(err)}`);
  }
  // C: start-up, small then big image
  for (const w of ['small', 'big'] as const) {
    try {
      const l = c.startup(ctx, w, mnt);
      await warmLaunch(l);
      const m = await start(c.id, mnt, l, cfg);
      await m.stop();
      rec.add(`startup-${w}`, c.id, m.startupNs / 1e6);
    } catch (err) {
      rec.error(c.id, `round ${round} start-up ${w}: ${msg(err)}`);
    }
  }
}

async function dataFigures(m: Mounted | undefined, file: string, size: number, cfg: Config, rec: Recorder, who: string, round: number, prefix: string): Promise<void> {
  await dropCaches(3);
  await m?.settle();
  let c0 = m?.cpuNs();
  const sc = await client(m, ['seqread', file, String(1 << 20), String(size), String(cfg.seqCapMs)], cfg.seqCapMs);
  let c1 = m?.cpuNs();
  rec.add(`${prefix}seq-cold`, who, sc.bytes / (1 << 20) / (sc.ns / 1e9));
  if (!prefix && c0 !== undefined && c1 !== undefined) rec.add('cpu-seq', who, (c1 - c0) / (sc.bytes / (1 << 20)) / 1000);
  const sw = await client(m, ['seqread', file, String(1 << 20), String(size), String(cfg.seqCapMs)], cfg.seqCapMs);
  rec.add(`${prefix}seq-warm`, who, sw.bytes / (1 << 20) / (sw.ns / 1e9));
  await dropCaches(3);
  await m?.settle();
  const seed = String(1000 + round);
  c0 = m?.cpuNs();
  const rc = await client(m, ['randread', file, '4096', String(cfg.randCount), String(cfg.randCapMs), seed], cfg.randCapMs);
  c1 = m?.cpuNs();
  rec.add(`${prefix}rand-cold`, who, rc.bytes / (1 << 20) / (rc.ns / 1e9));
  if (c0 !== undefined && c1 !== undefined) rec.add(prefix ? 'pt-cpu-rand' : 'cpu-rand', who, (c1 - c0) / rc.ops / 1000);
  // the same offsets again, as many as the cold pass managed
  const rw = await client(m, ['randread', file, '4096', String(rc.ops), String(cfg.randCapMs * 4), seed], cfg.randCapMs * 4);
  rec.add(`${prefix}rand-warm`, who, rw.bytes / (1 << 20) / (rw.ns / 1e9));
}

async function ptRound(p: PtContender, ctx: Ctx, src: string, cfg: Config, rec: Recorder, round: number): Promise<void> {
  const mnt = mntFor(p.id);
  try {
    const m = p.serve ? await start(p.id, mnt, p.serve(src, mnt, ctx), cfg) : undefined;
    const base = m ? mnt : src;
    try {
      await dataFigures(m, join(base, 'big.bin'), ctx.ds.params.bigFileBytes, cfg, rec, p.id, round, 'pt-');
      const scratch = join(src, 'scratch');
      rmSync(scratch, { recursive: true, force: true });
      mkdirSync(scratch);
      const r = await client(m, ['cstat', join(base, 'scratch'), String(cfg.cstatCount), String(cfg.cstatCapMs)], cfg.cstatCapMs * 3);
      rec.add('pt-create', p.id, r.ops / (r.create_ns! / 1e9));
      rec.add('pt-stat', p.id, r.ops / (r.stat_ns! / 1e9));
      rec.add('pt-unlink', p.id, r.ops / (r.unlink_ns! / 1e9));
    } finally {
      await m?.stop();
    }
  } catch (err) {
    rec.error(p.id, `round ${round}: ${msg(err)}`);
  }
}

async function memfsRound(id: string, s: MemfsServer, ds: Dataset, cfg: Config, rec: Recorder, round: number): Promise<void> {
  try {
    // counted by the kernel as for the image contenders (their 1-client pass runs with the counter on too)
    const counter = RequestCounter.open(s.m.mnt, id);
    let r1: Awaited<ReturnType<typeof memfsLoop>>;
    let k1: ReturnType<RequestCounter['stop']> | undefined;
    try {
      counter?.start();
      r1 = await memfsLoop(s, s.m.mnt, ds.memfs.listFile, 1, 1_000_000, cfg.statCapMs);
      k1 = counter?.stop();
    } finally {
      counter?.close();
    }
    if (k1 && !k1.lost && k1.total > 0) {
      rec.add('req-stat', id, k1.total / r1.ops);
      if (r1.cpuPerStat !== undefined) rec.add('cpu-req', id, (r1.cpuPerStat * r1.ops) / k1.total / 1000);
      log(`    ${id} lstat loop: ${opcodeCounts(k1.byOpcode, r1.ops)} per lstat`);
    }
    rec.add('stat1', id, r1.statsPerSec);
    rec.add('memfs-req1', id, r1.requestsPerSec);
    if (r1.cpuPerStat !== undefined && r1.requestsPerStat) rec.add('memfs-cpu', id, r1.cpuPerStat / r1.requestsPerStat / 1000);
    rec.add('cpu-stat', id, r1.cpuPerStat !== undefined ? r1.cpuPerStat / 1000 : undefined);
    const r2 = await memfsLoop(s, s.m.mnt, ds.memfs.listFile, 2, 1_000_000, cfg.statCapMs);
    rec.add('stat2', id, r2.statsPerSec);
    rec.add('memfs-req2', id, r2.requestsPerSec);
  } catch (err) {
    rec.error(id, `round ${round}: ${msg(err)}`);
  }
}

/** "LOOKUP 1.00 GETATTR 2.00": requests of each opcode per operation, for the log. */
function opcodeCounts(byOpcode: Record<string, number>, per: number): string {
  return Object.entries(byOpcode).sort((a, b) => b[1] - a[1]).map(([k, v]) => `${k.replace(/^FUSE_/, '')} ${(v / per).toFixed(2)}`).join(' ');
}

function msg(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/** The passthrough filesystem's source: a directory on ext4 with a hard link to the big file and a scratch dir. */
function ptSource(ds: Dataset): string {
  const dir = join(ds.dir, 'ptsrc');
  mkdirSync(dir, { recursive: true });
  const big = join(dir, 'big.bin');
  if (!existsSync(big) || statSync(big).ino !== statSync(join(ds.tree, ds.bigFile)).ino) {
    rmSync(big, { force: true });
    linkSync(join(ds.tree, ds.bigFile), big);
  }
  mkdirSync(join(dir, 'scratch'), { recursive: true });
  return dir;
}

async function main(): Promise<void> {
  const o = args();
  const cfg = o.cfg;
  if (process.getuid?.() !== 0) throw new Error('the bench mounts filesystems and drops caches: run it as root');
  const t0 = Date.now();
  const loadStart = readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ');
  for (const d of [SCRATCH, MNT_ROOT, LOGS]) ensureDir(d);
  if (o.section !== undefined && o.section !== 'compressed' && o.section !== 'main' && o.section !== 'fuse-native') {
    throw new Error(`--section: compressed, main or fuse-native, not ${o.section}`);
  }
  // the fuse-native section needs no data set
  if (o.section === 'fuse-native') {
    log(`wrote ${await fuseNativeSection(cfg.rounds, o.out, log)} in ${((Date.now() - t0) / 1000).toFixed(0)} s`);
    return;
  }
  fsbench();
  const params = cfg.quick ? QUICK : FULL;
  const ds = await ensureDataset(params, log);
  const nodeFlags = o.cpuProf ? ['--cpu-prof', '--cpu-prof-dir', o.cpuProf] : [];
  const ctx: Ctx = { ds, cpus: availableParallelism(), nodeFlags };
  const compressed = (): Promise<string> =>
    runCompressedSection(ds, { rounds: cfg.rounds, cpus: ctx.cpus, nodeFlags, only: o.only, skip: o.skip, out: o.out, capMs: cfg.phaseWatchdogMs, cacheSize: o.cacheSize, baseline: o.baseline, image: o.zimage, log });
  if (o.section === 'compressed') {
    const file = await compressed();
    restoreUring();
    log(`wrote ${file} in ${((Date.now() - t0) / 1000).toFixed(0)} s`);
    return;
  }
  const rec = new Recorder();
  const skipped: Record<string, string> = {};
  const want = (id: string): boolean => (!o.only || o.only.has(id)) && !o.skip.has(id);

  const images = imageContenders(o.baseline).filter((c) => want(c.id));
  const live: ImageContender[] = [];
  for (const c of images) {
    const why = c.unavailable(ctx);
    if (why) skipped[c.id] = why;
    else live.push(c);
  }
  const pts = o.pt ? ptContenders().filter((p) => want(p.id)) : [];
  const livePt: PtContender[] = [];
  for (const p of pts) {
    const why = p.unavailable();
    if (why) skipped[p.id] = why;
    else livePt.push(p);
  }
  const src = livePt.length ? ptSource(ds) : '';
  for (const [id, why] of Object.entries(skipped)) log(`skipping ${id}: ${why}`);
  enableUringFor(live.map((c) => c.id));

  // memfs: one server per reader-fd count, populated once by a client (cp) and kept for every round
  const memfs: Array<{ id: string; s: MemfsServer }> = [];
  const allLabels: Record<string, string> = {};
  const notes: Record<string, string> = {};
  const kinds: Record<string, 'tsfuse' | 'peer' | 'limit'> = {};
  // tsfuse contenders without an io_uring twin, and why (the report's io_uring table lists them)
  const noUring: Record<string, string> = {};
  for (const c of images) {
    allLabels[c.id] = c.label;
    kinds[c.id] = c.tsfuse ? 'tsfuse' : c.id === 'kernel-erofs' ? 'limit' : 'peer';
    if (c.note) notes[c.id] = c.note;
    if (c.noUring) noUring[c.id] = c.noUring;
    else if (c.tsfuse && !c.id.endsWith('-uring') && uringMissing()) noUring[c.id] = uringMissing()!;
  }
  for (const p of pts) {
    allLabels[p.id] = p.label;
    kinds[p.id] = p.tsfuse ? 'tsfuse' : 'limit';
    if (p.tsfuse) noUring[p.id] = EMBEDDED_NOTE;
  }
  try {
    if (o.memfs) {
      // embedded mode polled from the owning thread (the default), and handed over by 1 or 2 reader threads;
      // names uncached (entry timeout 0) and attributes cached (memfs's default) unless said otherwise;
      // memfs-attr0 also sends attributes with timeout 0 (a GETATTR per directory for default_permissions);
      // memfs-nodp mounts as the fuse-native contender does (no default_permissions); the -base variants serve
      // with the --baseline build (before/after in one run)
      const variants: [string, number, MemfsServerOptions, string][] = [
        ['memfs-1fd', 1, { transport: 'poll' }, 'tsfuse memfs (embedded, polled)'],
        ['memfs-attr0', 1, { transport: 'poll', attrTimeout: 0 }, 'tsfuse memfs (embedded, polled, attribute timeout 0)'],
        ['memfs-nodp', 1, { transport: 'poll', defaultPermissions: false }, 'tsfuse memfs (embedded, polled, no default_permissions as fuse-native)'],
        ['memfs-threads-1fd', 1, { transport: 'threads' }, 'tsfuse memfs (embedded, 1 reader thread)'],
        ['memfs-2fd', 2, { transport: 'threads' }, 'tsfuse memfs (embedded, 2 reader threads)'],
      ];
      if (o.baseline) {
        variants.push(
          ['memfs-1fd-base', 1, { transport: 'poll', lib: o.baseline }, 'tsfuse memfs (embedded, polled), baseline build'],
          ['memfs-attr0-base', 1, { transport: 'poll', attrTimeout: 0, lib: o.baseline }, 'tsfuse memfs (embedded, polled, attribute timeout 0), baseline build'],
          ['memfs-nodp-base', 1, { transport: 'poll', defaultPermissions: false, lib: o.baseline }, 'tsfuse memfs (embedded, polled, no default_permissions), baseline build'],
        );
      }
      for (const [id, fds, serverOpts, label] of variants) {
        if (!want(id)) continue;
        allLabels[id] = label;
        kinds[id] = 'tsfuse';
        noUring[id] = EMBEDDED_NOTE;
        const attrs = serverOpts.attrTimeout === undefined ? 'attributes cached (memfs default)' : `attribute timeout ${serverOpts.attrTimeout}`;
        notes[id] = `stat figures over the ${ds.memfs.entries} entries copied into it (cp -r of ${ds.memfs.dirs.length} top directories); entry timeout 0, ${attrs}`;
        try {
          const s = await startMemfs(id, fds, cfg.phaseWatchdogMs * (cfg.rounds + 2), serverOpts);
          memfs.push({ id, s });
          await populate(s.m.mnt, { copyFrom: ds.tree, dirs: ds.memfs.dirs });
        } catch (err) {
          skipped[id] = `could not start/populate: ${msg(err)}`;
        }
      }
    }
    for (let round = 1; round <= cfg.rounds; round++) {
      log(`round ${round}/${cfg.rounds} (${((Date.now() - t0) / 1000).toFixed(0)} s)`);
      for (const c of live) {
        const t = Date.now();
        await imageRound(c, ctx, cfg, rec, round);
        log(`  ${c.id}: ${((Date.now() - t) / 1000).toFixed(1)} s`);
      }
      for (const p of livePt) {
        const t = Date.now();
        await ptRound(p, ctx, src, cfg, rec, round);
        log(`  ${p.id}: ${((Date.now() - t) / 1000).toFixed(1)} s`);
      }
      for (const { id, s } of memfs) {
        const t = Date.now();
        await memfsRound(id, s, ds, cfg, rec, round);
        log(`  ${id}: ${((Date.now() - t) / 1000).toFixed(1)} s`);
      }
    }
  } finally {
    for (const { s } of memfs) await s.stop();
  }
  const results: RunResults = {
    meta: {
      date: new Date().toISOString(),
      quick: cfg.quick,
      rounds: cfg.rounds,
      durationS: (Date.now() - t0) / 1000,
      machine: { ...machineInfo(), 'loadavg at start': loadStart },
      data: { ...ds.params, entries: ds.entries, memfsEntries: ds.memfs.entries, dir: ds.dir, buildMs: ds.buildMs },
      config: cfg,
    },
    contenders: Object.keys(allLabels).map((id) => ({ id, label: allLabels[id], kind: kinds[id], note: notes[id], skipped: skipped[id], errors: rec.errors[id] ?? [], noUring: noUring[id] })),
    figures: figures({ entries: ds.entries, bigDir: ds.params.bigDir, bigFileMiB: ds.params.bigFileBytes / (1 << 20), memfsEntries: ds.memfs.entries }),
    samples: rec.samples,
  };
  const files = writeReports(results, o.out);
  if (o.section === undefined) files.push(await compressed(), await fuseNativeSection(cfg.rounds, o.out, log));
  restoreUring();
  log(`wrote ${files.join(', ')} in ${((Date.now() - t0) / 1000).toFixed(0)} s`);
}

main().then(
  () => process.exit(0),
  (err) => {
    log(`bench: ${err instanceof Error ? err.stack : String(err)}`);
    process.exit(1);
  },
);
