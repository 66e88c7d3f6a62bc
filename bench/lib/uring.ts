// Both transports side by side: every worker-mode tsfuse contender gets an io_uring twin (id + "-uring"),
// the same server with FUSE over io_uring asked for (`--uring` to the bench servers, `-o io_uring` to the
// CLI), run right after it in each round. Twins exist only where the kernel has FUSE over io_uring (the fuse
// module's enable_uring parameter); the bench sets that to Y for its run and puts it back (src/kernel/
// uring-param.ts, the code the test runner uses). A twin that got /dev/fuse reads instead (the kernel refused,
// or someone put the parameter back meanwhile) fails its mount rather than passing as io_uring.
// Embedded-mode contenders (memfs, the passthrough filesystem) have no twin: the ring needs a thread that
// may block in io_uring_enter, which an embedded session's thread (the application's) is not.

import { readFileSync } from 'node:fs';
import { enableUringParam, restoreUringParam, uringParamPresent, URING_PARAM } from '../../src/kernel/uring-param.js';
import type { ImageContender, Launch } from './contenders.js';
import type { ZContender } from './compressed.js';
import { fmt, median, range } from './stats.js';
import { uringInstances } from '../../src/kernel/uring-instances.js';

export const URING_SUFFIX = '-uring';
export const EMBEDDED_NOTE = 'embedded mode: /dev/fuse reads only (io_uring is served in worker mode)';

/** Why there are no io_uring twins on this machine, or undefined. */
export function uringMissing(): string | undefined {
  return uringParamPresent() ? undefined : `no FUSE over io_uring in this kernel (${URING_PARAM} is missing)`;
}

function withArgs(l: Launch, extra: string[]): Launch {
  return { ...l, args: [...l.args, ...extra], uring: true };
}

/** The io_uring twin of a worker-mode image contender. */
export function uringImageTwin(c: ImageContender): ImageContender {
  return {
    ...c,
    id: c.id + URING_SUFFIX,
    label: `${c.label}, over io_uring`,
    unavailable: (ctx) => uringMissing() ?? c.unavailable(ctx),
    serve: (ctx, v, mnt) => withArgs(c.serve(ctx, v, mnt), ['--uring']),
    startup: (ctx, w, mnt) => withArgs(c.startup(ctx, w, mnt), ['-o', 'io_uring']),
  };
}

/** Each contender, followed by its io_uring twin when `twin(c)` says it is a worker-mode one. */
export function withUringTwins<T extends { id: string }>(cs: T[], twin: (c: T) => T | undefined): T[] {
  const out: T[] = [];
  for (const c of cs) {
    out.push(c);
    const t = twin(c);
    if (t) out.push(t);
  }
  return out;
}

/** The io_uring twin of a compressed-section tsfuse contender (a `tsfuse erofs mount` command line). */
export function uringZTwin(c: ZContender): ZContender | undefined {
  if (c.kind !== 'tsfuse' || uringMissing()) return undefined;
  return { ...c, id: c.id + URING_SUFFIX, label: `${c.label}, over io_uring`, args: (mnt) => [...c.args(mnt), '-o', 'io_uring'], uring: true };
}

/** Sets enable_uring to Y when any of `ids` is a twin (put back by restoreUring() or at exit). */
export function enableUringFor(ids: Iterable<string>): void {
  for (const id of ids) {
    if (id.endsWith(URING_SUFFIX)) {
      enableUringParam();
      return;
    }
  }
}

export const restoreUring = restoreUringParam;

/**
 * Throws unless the server `pid` of twin `id` serves over io_uring within `ms`: its workers hold rings
 * (a worker sets its ring up after INIT, so right after the first stat it may not be there yet).
 */
export async function assertOverUring(id: string, pid: number | undefined, ms = 5000): Promise<void> {
  const end = Date.now() + ms;
  while (pid === undefined || uringInstances(pid) === 0) {
    if (Date.now() > end) throw new Error(`${id}: the server (pid ${pid ?? '?'}) holds no io_uring: it serves /dev/fuse reads (enable_uring is ${readParam()})`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

function readParam(): string {
  try {
    return readFileSync(URING_PARAM, 'utf8').trim();
  } catch {
    return '?';
  }
}

export interface PairFigure {
  id: string;
  label: string;
  unit: string;
  better: 'higher' | 'lower';
}

/**
 * "io_uring vs /dev/fuse": per figure, each device contender beside its twin, with io_uring ÷ device (of the
 * medians) and which one is better; then the tsfuse contenders that have no twin and why.
 */
export function uringPairsTable(figs: PairFigure[], samples: Record<string, Record<string, number[]>>, contenders: { id: string; label: string }[], noTwin: Record<string, string>): string[] {
  const ids = new Set(contenders.map((c) => c.id));
  const pairs = contenders.filter((c) => ids.has(c.id + URING_SUFFIX));
  if (!pairs.length && !Object.keys(noTwin).length) return [];
  const L: string[] = ['## io_uring vs /dev/fuse read/write (each worker-mode tsfuse contender and its `-uring` twin)', ''];
  L.push('Median [range] over rounds of the same run, twins interleaved with their device contender. **io_uring ÷ device** of the medians; **better** names the faster transport on that figure (ratios within 5% say "same").', '');
  L.push('| figure | contender | device | io_uring | io_uring ÷ device | better |', '|---|---|---:|---:|---:|---|');
  const cell = (v: number[] | undefined): string => {
    if (!v?.length) return '-';
    const [a, b] = range(v);
    return `${fmt(median(v))} [${fmt(a)}–${fmt(b)}]`;
  };
  const tally = { io_uring: 0, device: 0, same: 0 };
  // request counts do not depend on the transport (they are the kernel's): left out
  for (const f of figs.filter((x) => x.unit !== 'requests')) {
    for (const p of pairs) {
      const d = samples[f.id]?.[p.id];
      const u = samples[f.id]?.[p.id + URING_SUFFIX];
      if (!d?.length && !u?.length) continue;
      let ratio = '-';
      let better = '-';
      if (d?.length && u?.length && median(d) > 0) {
        const r = median(u) / median(d);
        ratio = r.toFixed(2);
        const gain = f.better === 'higher' ? r : 1 / r;
        better = gain > 1.05 ? 'io_uring' : gain < 1 / 1.05 ? 'device' : 'same';
        tally[better as keyof typeof tally]++;
      }
      L.push(`| ${f.label} (${f.unit}, ${f.better} is better) | ${p.id} | ${cell(d)} | ${cell(u)} | ${ratio} | ${better} |`);
    }
  }
  L.push('', `io_uring better on ${tally.io_uring}, device better on ${tally.device}, the same (±5%) on ${tally.same} of the figure/contender pairs.`);
  const nt = Object.entries(noTwin);
  if (nt.length) {
    L.push('', 'No io_uring twin:', '');
    for (const [id, why] of nt) L.push(`- ${id}: ${why}`);
  }
  L.push('');
  return L;
}
