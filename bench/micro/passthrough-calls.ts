// Server-side CPU of the passthrough filesystem's methods called in this process (no FUSE, no kernel round
// trip): CREATE+RELEASE, MKDIR, SETATTR(mode) on files never touched since their CREATE and again,
// GETATTR of the root, RMDIR, and the FORGET of the removed directories (which closes their cached fds):
//
//   node dist/bench/micro/passthrough-calls.js [--count 1000] [--baseline DIST] [--rounds 2]
//
// With --baseline (another build's dist, e.g. main's copied to /tmp/NAME-base/dist) both builds run in
// turn, interleaved, each in a fresh child process on its own fresh SOURCE under /var/tmp (ext4). Prints
// µs of CPU (user+system, process.cpuUsage) per call. One pass, not a loop: the machine is shared.

import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { RequestContext } from '../../src/fs/types.js';

const O_RDWR_CREAT = 0o102;

async function measure(dist: string, count: number): Promise<Record<string, number>> {
  const { createPassthroughFs } = (await import(path.join(dist, 'src/fs/passthrough/index.js'))) as typeof import('../../src/fs/passthrough/index.js');
  const src = fs.mkdtempSync('/var/tmp/tsfuse-ptcalls-');
  const pt = createPassthroughFs({ source: src, nocache: false, passthrough: false, log: () => {} });
  const ctx: RequestContext = { uid: 0, gid: 0, pid: process.pid, opcode: 0, interrupted: false };
  const out: Record<string, number> = {};
  const cpu = (name: string, fn: () => void): void => {
    const a = process.cpuUsage();
    fn();
    const b = process.cpuUsage(a);
    out[name] = (b.user + b.system) / count;
  };
  const files: number[] = [];
  const dirs: number[] = [];
  try {
    cpu('create+release', () => {
      for (let i = 0; i < count; i++) {
        const r = pt.create(ctx, 1, `f${i}`, 0o100644, 0, O_RDWR_CREAT);
        files.push(r.entry.ino);
        pt.release(ctx, r.entry.ino, r.fh ?? -1, 0, 0, 0);
      }
    });
    cpu('mkdir', () => {
      for (let i = 0; i < count; i++) dirs.push(pt.mkdir(ctx, 1, `d${i}`, 0o755, 0).ino);
    });
    cpu('chmod (first)', () => {
      for (const ino of files) pt.setattr(ctx, ino, { mode: 0o600 });
    });
    cpu('chmod (again)', () => {
      for (const ino of files) pt.setattr(ctx, ino, { mode: 0o640 });
    });
    cpu('getattr root', () => {
      for (let i = 0; i < count; i++) pt.getattr(ctx, 1, undefined);
    });
    cpu('rmdir', () => {
      for (let i = 0; i < count; i++) pt.rmdir(ctx, 1, `d${i}`);
    });
    cpu('forget dirs', () => {
      for (const ino of dirs) pt.forget(ino, 1);
    });
  } finally {
    pt.destroy?.();
    fs.rmSync(src, { recursive: true, force: true });
  }
  return out;
}

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  const opt = (name: string): string | undefined => {
    const i = args.indexOf(name);
    return i >= 0 ? args[i + 1] : undefined;
  };
  const count = Number(opt('--count') ?? 1000);
  const child = opt('--child');
  if (child) {
    process.stdout.write(JSON.stringify(await measure(child, count)));
    return;
  }
  const here = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
  const builds: [string, string][] = [['this build', here]];
  const base = opt('--baseline');
  if (base) builds.push(['baseline', path.resolve(base)]);
  const rounds = Number(opt('--rounds') ?? 2);
  const rows = new Map<string, Map<string, number[]>>();
  for (let r = 0; r < rounds; r++) {
    for (const [label, dist] of r % 2 ? [...builds].reverse() : builds) {
      const p = spawnSync(process.execPath, [fileURLToPath(import.meta.url), '--child', dist, '--count', String(count)], { encoding: 'utf8' });
      if (p.status !== 0) throw new Error(`${label}: ${p.stderr}`);
      for (const [k, v] of Object.entries(JSON.parse(p.stdout) as Record<string, number>)) {
        if (!rows.has(k)) rows.set(k, new Map());
        const m = rows.get(k)!;
        m.set(label, [...(m.get(label) ?? []), v]);
      }
    }
  }
  const labels = builds.map((b) => b[0]);
  console.log(`${count} calls each, ${rounds} rounds, load average ${fs.readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ')}`);
  console.log(`| call | ${labels.join(' | ')} |\n|---|${labels.map(() => '---:').join('|')}|`);
  for (const [k, m] of rows) console.log(`| ${k} | ${labels.map((l) => (m.get(l) ?? []).map((v) => v.toFixed(1)).join(' / ')).join(' | ')} |`);
}

await main();
