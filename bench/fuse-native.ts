// tsfuse/fuse-native against fuse-native itself: the same fuse-native program (a path-based in-memory
// filesystem, callbacks on the main thread) loaded with require('fuse-native') or require('tsfuse/fuse-native'),
// measured by a Python client in its own process. Uncached (attr/entry timeout ~0), rounds interleaved,
// medians. fuse-native comes from FUSE_NATIVE_DIR (a directory whose node_modules has fuse-native).
//
//   npm run build && FUSE_NATIVE_DIR=/path/to/peers node dist/bench/fuse-native.js [--rounds 3] [--baseline ROOT] [--trace]
//
// --trace: count each contender's FUSE requests per figure in its first round (bench/lib/fuse-trace.ts).
// --baseline ROOT: a third contender, tsfuse/fuse-native from another built checkout (ROOT has package.json and
// dist/), for before/after tables measured in the same run.
//
// bench/run.ts runs the same as its fuse-native section (`--section fuse-native`, or after the others), with
// fuse-native from bench/data/peers, and writes fuse-native.md beside latest.md.

import { spawn, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { RequestCounter } from './lib/fuse-trace.js';

const REPO = fileURLToPath(new URL('../../', import.meta.url));

const PROGRAM = (req: string) => String.raw`
const Fuse = require(${JSON.stringify(req)})
const files = new Map()
const t = new Date()
const dir = (m) => ({ mode: 16877, size: 4096, nlink: 2, mtime: t, atime: t, ctime: t })
files.set('/', dir()); files.set('/d', dir()); files.set('/w', dir())
for (let i = 0; i < 1000; i++) files.set('/d/f' + i, { mode: 33188, buf: Buffer.alloc(0), size: 0, mtime: t })
files.set('/big', { mode: 33188, buf: Buffer.alloc(64 << 20, 7), size: 64 << 20, mtime: t })
const st = (f) => f.buf ? { mode: f.mode, size: f.size, nlink: 1, mtime: f.mtime, atime: f.mtime, ctime: f.mtime } : f
// a file's buffer grows by doubling (its capacity), its size is the bytes written: appends cost O(1) each
const reserve = (f, n) => { if (n > f.buf.length) { const nb = Buffer.alloc(Math.max(n, f.buf.length * 2)); f.buf.copy(nb, 0, 0, f.size); f.buf = nb } }
const ops = {
  getattr (p, cb) { const f = files.get(p); if (!f) return cb(Fuse.ENOENT); cb(0, st(f)) },
  readdir (p, cb) {
    const pre = p === '/' ? '/' : p + '/'
    const out = []
    for (const k of files.keys()) if (k.startsWith(pre) && k.length > pre.length && k.indexOf('/', pre.length) < 0) out.push(k.slice(pre.length))
    cb(0, out)
  },
  open (p, flags, cb) { files.has(p) ? cb(0, 1) : cb(Fuse.ENOENT) },
  create (p, mode, cb) { files.set(p, { mode, buf: Buffer.alloc(0), size: 0, mtime: new Date() }); cb(0, 1) },
  read (p, fd, buf, len, pos, cb) { const f = files.get(p); const n = Math.max(0, Math.min(len, f.size - pos)); f.buf.copy(buf, 0, pos, pos + n); cb(n) },
  write (p, fd, buf, len, pos, cb) {
    const f = files.get(p)
    reserve(f, pos + len)
    if (pos > f.size) f.buf.fill(0, f.size, pos)
    buf.copy(f.buf, pos, 0, len); f.size = Math.max(f.size, pos + len); cb(len)
  },
  truncate (p, size, cb) { const f = files.get(p); reserve(f, size); if (size > f.size) f.buf.fill(0, f.size, size); f.size = size; cb(0) },
  ftruncate (p, fd, size, cb) { ops.truncate(p, size, cb) },
  unlink (p, cb) { files.delete(p) ? cb(0) : cb(Fuse.ENOENT) },
  // an unlink can reach the server before the RELEASE of the close just before it; libfuse then hides the
  // open file by renaming it (its hard_remove is off), which needs rename
  rename (src, dst, cb) { const f = files.get(src); if (!f) return cb(Fuse.ENOENT); files.delete(src); files.set(dst, f); cb(0) },
  release (p, fd, cb) { cb(0) },
  utimens (p, a, m, cb) { cb(0) },
  chmod (p, m, cb) { cb(0) }
}
const fuse = new Fuse(process.argv[2], ops, { attrTimeout: 0.000001, entryTimeout: 0.000001 })
fuse.mount((err) => { if (err) { console.log('ERR ' + err.message); process.exit(1) } console.log('mounted') })
process.stdin.on('data', () => fuse.unmount(() => process.exit(0)))
`;

const CLIENT = String.raw`
import os, sys, time, json
from multiprocessing import Process, Queue
mnt, what = sys.argv[1], sys.argv[2]
def lstats(q, seconds):
    n, t0 = 0, time.perf_counter()
    while time.perf_counter() - t0 < seconds:
        for i in range(0, 1000, 7):
            os.lstat(os.path.join(mnt, 'd', 'f%d' % i)); n += 1
    q.put(n / (time.perf_counter() - t0))
if what.startswith('lstat'):
    k = int(what[-1]); q = Queue(); ps = [Process(target=lstats, args=(q, 2.0)) for _ in range(k)]
    [p.start() for p in ps]; [p.join() for p in ps]
    print(sum(q.get() for _ in ps))
elif what == 'readdir':
    t0 = time.perf_counter(); n = 0
    while time.perf_counter() - t0 < 2.0:
        assert len(os.listdir(os.path.join(mnt, 'd'))) == 1000; n += 1
    print((time.perf_counter() - t0) / n * 1000)
elif what == 'read':
    fd = os.open(os.path.join(mnt, 'big'), os.O_RDONLY); t0 = time.perf_counter(); total = 0
    while True:
        b = os.read(fd, 1 << 20)
        if not b: break
        total += len(b)
    os.close(fd); print(total / (1 << 20) / (time.perf_counter() - t0))
elif what == 'write':
    fd = os.open(os.path.join(mnt, 'w', 'out'), os.O_WRONLY | os.O_CREAT | os.O_TRUNC); buf = b'x' * (1 << 20); t0 = time.perf_counter()
    for _ in range(32): os.write(fd, buf)
    os.close(fd); print(32 / (time.perf_counter() - t0)); os.unlink(os.path.join(mnt, 'w', 'out'))
elif what == 'create':
    t0 = time.perf_counter()
    for i in range(500):
        p = os.path.join(mnt, 'w', 'c%d' % i); os.close(os.open(p, os.O_WRONLY | os.O_CREAT, 0o644)); os.unlink(p)
    print(500 / (time.perf_counter() - t0))
`;

const FIGURES: [string, string][] = [
  ['lstat1', 'uncached lstat, 1 client (lstat/s ↑)'], ['lstat2', 'uncached lstat, 2 clients (lstat/s ↑)'],
  ['readdir', 'readdir of 1000 names (ms ↓)'], ['read', 'sequential read, 64 MiB (MiB/s ↑)'],
  ['write', 'sequential write, 32 MiB (MiB/s ↑)'], ['create', 'create + unlink (pairs/s ↑)'],
];

/** Request mixes per contender and figure (FUSE_LOOKUP: n, ...), filled by measure() when tracing. */
type Mix = Record<string, Record<string, number>>;

async function measure(req: string, cwd: string, mix?: Mix): Promise<Record<string, number>> {
  const mnt = mkdtempSync(join(tmpdir(), 'tsfuse-fnb-'));
  writeFileSync(join(cwd, 'prog.cjs'), PROGRAM(req));
  const child = spawn(process.execPath, ['prog.cjs', mnt], { cwd, stdio: ['pipe', 'pipe', 'inherit'] });
  const killer = setTimeout(() => {
    spawnSync('umount', ['-l', mnt]);
    child.kill('SIGKILL');
  }, 120_000);
  try {
    await new Promise<void>((resolve, reject) => {
      child.stdout!.on('data', (d) => (String(d).includes('mounted') ? resolve() : reject(new Error(String(d)))));
      child.on('exit', () => reject(new Error(`${req} exited before mounting`)));
    });
    const out: Record<string, number> = {};
    const counter = mix ? RequestCounter.open(mnt, 'fnb') : undefined;
    for (const [id] of FIGURES) {
      counter?.start();
      const r = spawnSync('/usr/bin/python3', ['-c', CLIENT, mnt, id], { encoding: 'utf8', timeout: 60_000 });
      if (counter && mix) mix[id] = counter.stop().byOpcode;
      out[id] = r.status === 0 ? Number(r.stdout.trim()) : NaN;
      if (r.status !== 0) process.stderr.write(`${req} ${id}: ${r.stderr.trim().split('\n').pop()}\n`);
    }
    counter?.close();
    return out;
  } finally {
    clearTimeout(killer);
    child.stdin!.write('q\n');
    await new Promise((r) => setTimeout(r, 500));
    if (readFileSync('/proc/mounts', 'utf8').includes(mnt)) spawnSync('umount', ['-l', mnt]);
    child.kill('SIGKILL');
    rmSync(mnt, { recursive: true, force: true });
  }
}

const median = (xs: number[]): number => {
  const ok = xs.filter((x) => Number.isFinite(x)).sort((a, b) => a - b);
  return ok.length ? ok[ok.length >> 1]! : NaN;
};

/**
 * Runs every figure for both contenders, `rounds` times alternating (tsfuse/fuse-native, fuse-native, ...), and
 * returns the table of medians (markdown). `peers`: a directory whose node_modules has fuse-native.
 */
export async function runFuseNativeComparison(peers: string, rounds: number, baseline?: string, trace = false): Promise<string> {
  const dirs: string[] = [];
  const packageDir = (root: string): string => {
    const d = mkdtempSync(join(tmpdir(), 'tsfuse-fnb-pkg-'));
    dirs.push(d);
    mkdirSync(join(d, 'node_modules'));
    symlinkSync(root, join(d, 'node_modules', 'tsfuse'));
    return d;
  };
  const contenders: [string, string, string][] = [['tsfuse/fuse-native', 'tsfuse/fuse-native', packageDir(REPO)]];
  if (baseline) contenders.push(['baseline', 'tsfuse/fuse-native', packageDir(baseline)]);
  contenders.push(['fuse-native', 'fuse-native', peers]);
  const runs: Record<string, Record<string, number>[]> = {};
  const mixes: Record<string, Mix> = {};
  try {
    for (let r = 0; r < rounds; r++) {
      // the first round of each contender counts requests when tracing (the tracepoint costs the client a little)
      for (const [label, req, cwd] of contenders) (runs[label] ??= []).push(await measure(req, cwd, trace && r === 0 ? (mixes[label] = {}) : undefined));
    }
  } finally {
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
  }
  // readdir is a fraction of a millisecond: two decimals tell the contenders apart
  const f = (x: number, id?: string): string => (Number.isFinite(x) ? x.toFixed(id === 'readdir' ? 2 : 1) : 'failed');
  const ratioOf = (id: string, a: number, b: number): string => {
    const r = id === 'readdir' ? b / a : a / b;
    return Number.isFinite(r) ? r.toFixed(2) + '×' : '';
  };
  const base = baseline ? ' tsfuse/fuse-native (baseline) | baseline vs fuse-native |' : '';
  const lines = [`| figure (median of ${rounds}) | tsfuse/fuse-native | fuse-native | ratio |${base}`, `|---|---:|---:|---:|${baseline ? '---:|---:|' : ''}`];
  for (const [id, name] of FIGURES) {
    const med = (label: string): number => median(runs[label]!.map((x) => x[id]!));
    const a = med('tsfuse/fuse-native');
    const b = med('fuse-native');
    let row = `| ${name} | ${f(a, id)} | ${f(b, id)} | ${ratioOf(id, a, b)} |`;
    if (baseline) row += ` ${f(med('baseline'), id)} | ${ratioOf(id, med('baseline'), b)} |`;
    lines.push(row);
  }
  if (trace) {
    lines.push('', '| figure | contender | requests in the first round (kernel tracepoint) |', '|---|---|---|');
    for (const [id, name] of FIGURES) {
      for (const [label] of contenders) {
        const m = mixes[label]?.[id];
        const text = m ? Object.entries(m).sort((a, b) => b[1] - a[1]).map(([op, n]) => `${op.slice(5)} ${n}`).join(', ') : 'no counter';
        lines.push(`| ${name} | ${label} | ${text} |`);
      }
    }
  }
  return lines.join('\n');
}

async function main(): Promise<void> {
  const peers = process.env.FUSE_NATIVE_DIR;
  if (!peers) throw new Error('set FUSE_NATIVE_DIR to a directory with node_modules/fuse-native');
  const arg = (k: string): string | undefined => (process.argv.includes(k) ? process.argv[process.argv.indexOf(k) + 1] : undefined);
  console.log(await runFuseNativeComparison(peers, Number(arg('--rounds')) || 3, arg('--baseline'), process.argv.includes('--trace')));
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  main().catch((e) => {
    console.error(String(e));
    process.exit(1);
  });
}
