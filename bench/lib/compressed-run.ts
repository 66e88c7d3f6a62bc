// Runs the compressed-image section (bench/lib/compressed.ts) in interleaved rounds and writes
// bench/results/compressed.{md,json}. Each round mounts every contender in turn; per mount: drop caches,
// `tar` of the whole tree into a pipe (GNU tar skips reading file data when its archive is /dev/null
// itself), drop caches, a sequential read of the big file, then the server's peak RSS; server CPU is the
// process's CPU time (all threads) over each of the two loads.

import { mkdirSync, writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { ErofsReader } from '../../src/erofs/reader/reader.js';
import { fsbench, parseReport } from './clients.js';
import {
  EROFS_MISSING, TSFUSE_COMPRESSORS, type CompressedImage, buildRecord, compLabel, ensureCompressedImages, erofsWritable, imageBytes, peakRss, zContenders, type ZContender,
} from './compressed.js';
import type { Dataset } from './data.js';
import { dropCaches, Mounted } from './mounts.js';
import { LOGS, MNT_ROOT } from './paths.js';
import { run } from './proc.js';
import { fmt, median, range } from './stats.js';
import { assertOverUring, enableUringFor, uringPairsTable, uringZTwin, withUringTwins } from './uring.js';

export interface ZOptions {
  rounds: number;
  cpus: number;
  nodeFlags: string[];
  only?: Set<string>;
  skip: Set<string>;
  out: string;
  capMs: number;
  cacheSize?: string;
  /** Another compiled tsfuse tree to run beside this one (before/after). */
  baseline?: string;
  /** Instead of the bench tree's images: this mkfs.erofs image (e.g. of /usr), tar figures only. */
  image?: string;
  log: (s: string) => void;
}

type Samples = Record<string, Record<string, number[]>>;

const FIGS: Array<{ id: string; label: string; unit: string; better: 'lower' | 'higher' }> = [
  { id: 'tar', label: 'cold tar of the whole tree (wall)', unit: 's', better: 'lower' },
  { id: 'tar-cpu', label: 'server CPU during the tar', unit: 's', better: 'lower' },
  { id: 'seq', label: 'cold sequential 1 MiB reads of the big file', unit: 'MiB/s', better: 'higher' },
  { id: 'seq-cpu', label: 'server CPU during the sequential read', unit: 's', better: 'lower' },
  { id: 'rss', label: 'server peak RSS (VmHWM, whole process)', unit: 'MiB', better: 'lower' },
];

/** The first name in the image's root directory (what the start-up probe stats). */
function imageProbe(image: string): string {
  const r = ErofsReader.open(image);
  try {
    for (const e of r.entries(r.root())) {
      const name = Buffer.from(e.name).toString();
      if (name !== '.' && name !== '..') return name;
    }
    throw new Error(`${image}: empty root directory`);
  } finally {
    r.close();
  }
}

async function oneMount(c: ZContender, ds: Dataset, o: ZOptions, add: (fig: string, v: number | undefined) => void): Promise<void> {
  const mnt = join(MNT_ROOT, c.id);
  const m = await Mounted.start({
    name: c.id, mnt, probe: join(mnt, o.image ? imageProbe(o.image) : ds.probe), cmd: c.cmd, args: c.args(mnt), kind: c.fuse ? 'fuse' : 'kernel',
    logFile: join(LOGS, `${c.id}.log`), watchdogMs: o.capMs * 3,
  });
  try {
    if (c.uring) await assertOverUring(c.id, m.pid);
    await dropCaches(3);
    await m.settle();
    let c0 = m.cpuNs();
    const tar = await run('sh', ['-c', `tar -cf - -C '${mnt}' . | cat > /dev/null`], { timeoutMs: o.capMs, onTimeout: () => m.abort('tar hung') });
    let c1 = m.cpuNs();
    add('tar', tar.ns / 1e9);
    if (c0 !== undefined && c1 !== undefined) add('tar-cpu', (c1 - c0) / 1e9);
    if (o.image) {
      if (m.pid !== undefined) add('rss', (peakRss(m.pid) ?? NaN) / (1 << 20));
      return;
    }
    await dropCaches(3);
    await m.settle();
    c0 = m.cpuNs();
    const size = ds.params.bigFileBytes;
    const r = await run(fsbench(), ['seqread', join(mnt, ds.bigFile), String(1 << 20), String(size), String(o.capMs)], { timeoutMs: o.capMs + 30_000, onTimeout: () => m.abort('seqread hung') });
    c1 = m.cpuNs();
    const rep = parseReport(r.stdout);
    if (rep.bytes !== size) throw new Error(`seqread got ${rep.bytes} of ${size} bytes`);
    add('seq', rep.bytes / (1 << 20) / (rep.ns / 1e9));
    if (c0 !== undefined && c1 !== undefined) add('seq-cpu', (c1 - c0) / 1e9);
    if (m.pid !== undefined) {
      const hwm = peakRss(m.pid);
      add('rss', hwm !== undefined ? hwm / (1 << 20) : undefined);
    }
  } finally {
    await m.stop();
  }
}

export async function runCompressedSection(ds: Dataset, o: ZOptions): Promise<string> {
  o.log(`compressed images of ${o.image ?? ds.tree} ...`);
  const imgs: CompressedImage[] = o.image ? [{ id: 'image', kind: 'erofs', comp: basename(o.image), path: o.image, args: [] }] : ensureCompressedImages(ds, o.log);
  const want = (id: string): boolean => (!o.only || o.only.has(id)) && !o.skip.has(id);
  // every tsfuse contender is followed by its io_uring twin where the kernel has FUSE over io_uring
  const cs = withUringTwins(zContenders(imgs, o.cpus, o.nodeFlags, o.cacheSize, o.baseline), uringZTwin).filter((c) => want(c.id));
  enableUringFor(cs.map((c) => c.id));
  const samples: Samples = {};
  const errors: Record<string, string[]> = {};
  const t0 = Date.now();
  for (let round = 1; round <= o.rounds; round++) {
    o.log(`compressed round ${round}/${o.rounds} (${((Date.now() - t0) / 1000).toFixed(0)} s)`);
    for (const c of cs) {
      const t = Date.now();
      try {
        await oneMount(c, ds, o, (fig, v) => {
          if (v !== undefined && Number.isFinite(v)) ((samples[fig] ??= {})[c.id] ??= []).push(v);
        });
      } catch (err) {
        const msg = err instanceof Error ? err.message : String(err);
        (errors[c.id] ??= []).push(`round ${round}: ${msg}`);
        o.log(`  ! ${c.id}: ${msg}`);
      }
      o.log(`  ${c.id}: ${((Date.now() - t) / 1000).toFixed(1)} s`);
    }
  }
  const md = render(ds, cs, samples, errors, o, (Date.now() - t0) / 1000);
  mkdirSync(o.out, { recursive: true });
  const name = o.image ? `compressed-${basename(o.image).replace(/\.[^.]*$/, '')}` : 'compressed';
  writeFileSync(join(o.out, `${name}.md`), md);
  writeFileSync(join(o.out, `${name}.json`), JSON.stringify({ date: new Date().toISOString(), data: ds.params, entries: ds.entries, rounds: o.rounds, cacheSize: o.cacheSize, contenders: cs.map((c) => ({ id: c.id, label: c.label, kind: c.kind, image: c.image.path })), samples, errors }, null, 2));
  process.stdout.write(md);
  return join(o.out, `${name}.md`);
}

/** The squashfuse_ll contender with the same compressor as c (lz4hc for erofs lz4hc, gzip for deflate), the ratio base. */
function peerOf(c: ZContender, cs: ZContender[]): ZContender | undefined {
  const comp = c.image.peer ?? c.image.comp;
  return cs.find((p) => p.kind === 'peer' && p.image.comp === comp);
}

/** Size and build time of every image served, each EROFS one beside the squashfs one it is compared with. */
function imagesTable(imgs: CompressedImage[]): string[] {
  const L = ['## Images (size; build wall and CPU time, load average when built)', '', '| image | builder | size (MiB) | build (s) | build CPU (s) | load at build |', '|---|---|---:|---:|---:|---|'];
  for (const im of imgs) {
    const b = buildRecord(im);
    const size = imageBytes(im);
    const builder = im.builder === 'tsfuse' ? `tsfuse erofs build ${im.args.join(' ')}` : im.kind === 'erofs' ? `mkfs.erofs ${im.args.join(' ')}` : `mksquashfs ${im.args.join(' ')}`;
    L.push(`| ${im.kind} ${compLabel(im)} | ${builder} | ${size === undefined ? '-' : fmt(size / (1 << 20))} | ${b ? fmt(b.seconds) : '-'} | ${b ? fmt(b.cpuSeconds) : '-'} | ${b?.load ?? 'built before build times were kept'} |`);
  }
  L.push('');
  return L;
}

function render(ds: Dataset, cs: ZContender[], s: Samples, errors: Record<string, string[]>, o: ZOptions, secs: number): string {
  const L: string[] = [];
  L.push('# Compressed images: tsfuse vs squashfuse_ll vs the kernel', '');
  const what = o.image ? `image ${o.image}` : `tree of ${ds.entries} entries, big file ${ds.params.bigFileBytes >> 20} MiB`;
  L.push(`${new Date().toISOString()}; ${o.rounds} round(s) in ${secs.toFixed(0)} s; ${what}; ${o.cpus} CPUs${o.cacheSize ? `; tsfuse --cache-size ${o.cacheSize}` : ''}${o.baseline ? `; baseline build ${o.baseline}` : ''}.`);
  const flags = `${ds.params.entries < 100_000 ? ' --quick' : ''}${o.image ? ` --zimage ${o.image}` : ''}${o.baseline ? ` --baseline ${o.baseline}` : ''}${o.cacheSize ? ` --cache-size ${o.cacheSize}` : ''} --rounds ${o.rounds}`;
  L.push('Command: `node dist/bench/run.js --section compressed' + flags + '`. Median over rounds [min..max];');
  L.push('"vs sqfs_ll" = how squashfuse_ll with the same compressor compares (>1: tsfuse better, time/CPU/RSS as sqfs/tsfuse, MiB/s as tsfuse/sqfs).');
  const missing = EROFS_MISSING.filter((c) => !erofsWritable().includes(c));
  const ours = TSFUSE_COMPRESSORS.map((t) => t.comp).filter((c) => missing.includes(c));
  if (missing.length) {
    L.push(`This mkfs.erofs (Debian 1.5) cannot write EROFS ${missing.join('/')} (>= 1.7 can); squashfs has them.` +
      (ours.length ? ` The EROFS ${ours.join('/')} rows are images written by \`tsfuse erofs build --compress\` ("tsfuse-built", mkfs.erofs' default levels; deflate compared with squashfs gzip).` : ''));
  }
  L.push('');
  if (!o.image) L.push(...imagesTable([...new Set(cs.map((c) => c.image))]));
  for (const f of FIGS) {
    L.push(`## ${f.label} (${f.unit}, ${f.better} is better)`, '', '| contender | median | range | vs sqfs_ll |', '|---|---:|---|---:|');
    for (const c of cs) {
      const v = s[f.id]?.[c.id];
      if (!v?.length) continue;
      const m = median(v);
      const [mn, mx] = range(v);
      let rel = '';
      const p = c.kind === 'tsfuse' ? peerOf(c, cs) : undefined;
      const pv = p ? s[f.id]?.[p.id] : undefined;
      if (pv?.length && m > 0) rel = `${(f.better === 'lower' ? median(pv) / m : m / median(pv)).toFixed(2)}x`;
      L.push(`| ${c.label} | ${fmt(m)} | ${fmt(mn)}..${fmt(mx)} | ${rel} |`);
    }
    L.push('');
  }
  L.push(...uringPairsTable(FIGS, s, cs, {}));
  const errs = Object.entries(errors);
  if (errs.length) {
    L.push('## Errors', '');
    for (const [id, es] of errs) for (const e of es) L.push(`- ${id}: ${e}`);
    L.push('');
  }
  return L.join('\n');
}
