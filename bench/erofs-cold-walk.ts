// What a fresh image worker's first requests cost, without the kernel: the cold find's request pattern (per
// directory a READDIRPLUS at offset 0, then READDIR from its last offset to the end, descending into the
// directories the replies link) served by an ErofsFilesystem through the Dispatcher in a new process, replies
// written to /dev/null. Walk 1 runs on cold code and cold caches (what the bench's cold find on a fresh server
// pays), walk 2 on a second, new filesystem instance once the first has walked five times more (warm code,
// cold caches), walk 3 again on that one (warm both). CPU is this process's (user + system, all threads: V8's compiler and GC threads count, as they do
// for a server). `--build DIR` loads another compiled tree; `--runs N` starts N processes and gives medians.
// `--warm-up` first runs the image worker's warm-up walk (src/server/warm-up/) on the first instance's twin,
// as a worker does once it is idle after INIT, and reports its CPU as walk 0.
//
//   node dist/bench/erofs-cold-walk.js [--build DIR] [--runs N] [--warm-up]

import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ensureDataset, QUICK } from './lib/data.js';
import { loadRequestPath, type InProcessServer } from './lib/in-process-erofs.js';
import { BUILD_ROOT } from './lib/paths.js';
import { fmt, median, range } from './lib/stats.js';

const a = process.argv.slice(2);
const val = (k: string): string | undefined => (a.includes(k) ? a[a.indexOf(k) + 1] : undefined);
const root = val('--build') ?? BUILD_ROOT;
const runs = Number(val('--runs') ?? 0);
const warmUp = a.includes('--warm-up');
const ds = await ensureDataset(QUICK, (s) => process.stderr.write(s + '\n'));


interface Walks {
  cpuMs: number[];
  requests: number;
}

/** One process's three walks (the child side). */
async function walks(): Promise<Walks> {
  const rp = await loadRequestPath(root);
  // what the image server negotiates for listings
  const initFlags = rp.InitFlags.of('DO_READDIRPLUS', 'READDIRPLUS_AUTO') as number;
  const { READDIR, READDIRPLUS } = rp.Opcode;
  const w = new rp.WireBuffer(4096);
  const fresh = (): Promise<InProcessServer> => rp.serve(ds.erofs, 86400, initFlags);
  let requests = 0;
  /** One request; returns its reply. */
  const call = (d: InProcessServer, op: number, nodeid: number, offset: number): Buffer => {
    const b = w.buf as Buffer;
    b.fill(0, 0, 80);
    b.writeUInt32LE(80, 0);
    b.writeUInt32LE(op, 4);
    b.writeUInt32LE(++requests, 8);
    b.writeUInt32LE(nodeid, 16);
    b.writeUInt32LE(offset, 48); // fuse_read_in.offset (directory offsets of this image fit 32 bits)
    b.writeUInt32LE(32768, 56); // glibc's getdents buffer
    return d.dispatch(w, 80);
  };
  const walk = (d: InProcessServer): void => {
    const dirs = [1];
    while (dirs.length > 0) {
      const dir = dirs.pop()!;
      let r = call(d, READDIRPLUS, dir, 0);
      let off = 0;
      for (let p = 16, end = r.readUInt32LE(0); p < end; ) {
        const de = p + 128;
        const namelen = r.readUInt32LE(de + 16);
        off = r.readUInt32LE(de + 8);
        // a linked directory other than "." and ".." (their names start with a dot; the tree's others do not)
        if (r.readUInt32LE(de + 20) === 4 && r.readUInt32LE(p) !== 0 && r[de + 24] !== 0x2e) dirs.push(r.readUInt32LE(p));
        p = de + ((24 + namelen + 7) & ~7);
      }
      for (;;) {
        r = call(d, READDIR, dir, off);
        const end = r.readUInt32LE(0);
        if (end <= 16) break;
        for (let p = 16; p < end; p += (24 + r.readUInt32LE(p + 16) + 7) & ~7) off = r.readUInt32LE(p + 8);
      }
    }
  };
  const timed = (d: InProcessServer): number => {
    const c0 = process.cpuUsage();
    walk(d);
    const c = process.cpuUsage(c0);
    return (c.user + c.system) / 1000;
  };
  const first = await fresh();
  let w0 = 0;
  if (warmUp) {
    const walkModule = await import(join(root, 'src/server/warm-up/walk.js'));
    const { InterruptTable } = await import(join(root, 'src/server/interrupts.js'));
    const c0 = process.cpuUsage();
    const twin = first.fs.warmUpTwin();
    await twin.init({ minor: 45, flags: initFlags, maxWrite: 1 << 20, maxReadahead: 0, passthrough: false });
    const log = (m: string): void => void process.stderr.write(m + '\n');
    const dispatchOpts = { entryTimeout: 86400, attrTimeout: 86400, negativeTimeout: 0, debug: false, setxattrExt: true, log };
    // trees before the write walk have WarmUpWalk; since, a TwinLink drives treeWalk
    let walk: { step(n: number): boolean };
    if (walkModule.WarmUpWalk) walk = new walkModule.WarmUpWalk(twin, dispatchOpts, new InterruptTable(), (1 << 20) + 4096);
    else {
      const { TwinLink } = await import(join(root, 'src/server/warm-up/twin-link.js'));
      const link = new TwinLink(twin, dispatchOpts, new InterruptTable(), (1 << 20) + 4096);
      walk = link.start(walkModule.treeWalk(link));
    }
    while (walk.step(32));
    const c = process.cpuUsage(c0);
    w0 = (c.user + c.system) / 1000;
  }
  const w1 = timed(first);
  // until the code is compiled: V8 optimizes the hot functions over the next few walks
  for (let i = 0; i < 5; i++) walk(first);
  requests = 0;
  const second = await fresh();
  const w2 = timed(second);
  const w3 = timed(second);
  return { cpuMs: [w1, w2, w3, w0], requests: requests / 2 };
}

if (runs === 0) {
  process.stdout.write(JSON.stringify(await walks()) + '\n');
} else {
  const all: Walks[] = [];
  for (let i = 0; i < runs; i++) {
    const args = [fileURLToPath(import.meta.url), ...(val('--build') ? ['--build', root] : []), ...(warmUp ? ['--warm-up'] : [])];
    const r = spawnSync(process.execPath, args, { encoding: 'utf8', timeout: 120_000 });
    if (r.status !== 0) throw new Error(`walk process failed: ${r.stderr}`);
    all.push(JSON.parse(r.stdout) as Walks);
  }
  const cell = (i: number): string => {
    const xs = all.map((x) => x.cpuMs[i]!);
    const [lo, hi] = range(xs);
    return `${fmt(median(xs))} (${fmt(lo)}–${fmt(hi)})`;
  };
  console.log(`build ${root}: ${runs} processes, ${all[0]!.requests} requests a walk; CPU ms, median (range)`);
  if (warmUp) console.log(`  walk 0, the warm-up itself: ${cell(3)}`);
  console.log(`  walk 1, ${warmUp ? 'after the warm-up' : 'cold code'}, cold caches: ${cell(0)}`);
  console.log(`  walk 2, warm code, cold caches: ${cell(1)}`);
  console.log(`  walk 3, warm code, warm caches: ${cell(2)}`);
}
