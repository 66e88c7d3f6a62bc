// The contenders: how each one serves the bench tree (with cache timeouts 0 where it can be told, and with
// its usual long timeouts for the read-only image), and how it is launched for the start-up figure.

import { existsSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import type { Dataset } from './data.js';
import { BENCH_DATA, built, MNT_ROOT } from './paths.js';
import { tryRunSync } from './proc.js';
import { uringImageTwin, withUringTwins } from './uring.js';

export type Variant = 'uncached' | 'cached';

export interface Launch {
  cmd: string;
  args: string[];
  kind: 'fuse' | 'kernel';
  /** Absolute path of a file inside the mount that the start-up probe stats. */
  probe: string;
  env?: NodeJS.ProcessEnv;
  /** For servers that keep running after the unmount. */
  stopSignal?: NodeJS.Signals;
  /** Asks for FUSE over io_uring: the mount fails unless the server then holds io_uring instances. */
  uring?: boolean;
}

export interface Ctx {
  ds: Dataset;
  cpus: number;
  /** Extra node flags for tsfuse servers (profiling). */
  nodeFlags: string[];
}

export interface ImageContender {
  id: string;
  label: string;
  /** tsfuse's own contenders (ratios are taken against the default one). */
  tsfuse: boolean;
  /** Why it cannot run here, or undefined. */
  unavailable(ctx: Ctx): string | undefined;
  /** Entry/attr timeouts can be set to 0. If not, the stat passes start from dropped caches instead. */
  uncachedPossible: boolean;
  /** drop_caches level before each stat pass when uncachedPossible is false. */
  dropLevel: 2 | 3;
  serve(ctx: Ctx, v: Variant, mnt: string): Launch;
  startup(ctx: Ctx, which: 'small' | 'big', mnt: string): Launch;
  note?: string;
  /** A tsfuse contender without an io_uring twin: why (the report says so). */
  noUring?: string;
}

const node = process.execPath;
const CACHED = '86400';

function which(cmd: string): string | undefined {
  for (const d of (process.env.PATH ?? '/usr/bin:/bin').split(':')) {
    const p = join(d, cmd);
    if (existsSync(p)) return p;
  }
  return undefined;
}

function erofsFsMissing(): string | undefined {
  return existsSync(built('src/erofs/filesystem.js')) ? undefined : 'src/erofs/filesystem.ts is not written yet (no dist/src/erofs/filesystem.js)';
}

function cliErofs(ctx: Ctx, image: string, mnt: string, extra: string[], root: string | undefined): string[] {
  return [...ctx.nodeFlags, from(root, 'src/cli/main.js'), 'erofs', 'mount', image, mnt, ...extra, '--foreground'];
}

/** A compiled file of this build, or of another compiled tsfuse tree (--baseline: before/after in one run). */
function from(root: string | undefined, rel: string): string {
  return root === undefined ? built(rel) : join(root, rel);
}

function tsfuseErofs(id: string, label: string, workers: (ctx: Ctx) => number, pt: boolean, root?: string): ImageContender {
  return {
    id,
    label,
    tsfuse: true,
    uncachedPossible: true,
    dropLevel: 2,
    unavailable(ctx) {
      if (pt && !ctx.ds.cfs) return `no composefs image: ${ctx.ds.cfsError ?? 'not built'}`;
      return erofsFsMissing();
    },
    serve(ctx, v, mnt) {
      const image = pt ? ctx.ds.cfs!.image : ctx.ds.erofs;
      const args = [...ctx.nodeFlags, from(root, 'bench/servers/tsfuse-erofs.js'), '--image', image, '--mnt', mnt, '--workers', String(workers(ctx))];
      if (pt) args.push('--basedir', ctx.ds.cfs!.objects, '--passthrough');
      if (v === 'uncached') args.push('--timeout', '0');
      return { cmd: node, args, kind: 'fuse', probe: join(mnt, ctx.ds.probe) };
    },
    startup(ctx, w, mnt) {
      const small = w === 'small';
      const image = pt ? (small ? ctx.ds.small.cfs!.image : ctx.ds.cfs!.image) : small ? ctx.ds.small.erofs : ctx.ds.erofs;
      const extra = ['--workers', String(workers(ctx))];
      if (pt) extra.push('--passthrough', '--basedir', small ? ctx.ds.small.cfs!.objects : ctx.ds.cfs!.objects);
      return { cmd: node, args: cliErofs(ctx, image, mnt, extra, root), kind: 'fuse', probe: join(mnt, small ? ctx.ds.small.probe : ctx.ds.probe) };
    },
  };
}

/** The tsfuse erofs contenders of another build (`--baseline DIR`, DIR = its compiled tree, e.g. .../dist). */
function baselineContenders(root: string): ImageContender[] {
  const n = availableParallelism();
  return [
    tsfuseErofs('tsfuse-erofs-base', `tsfuse erofs, ${n} workers, baseline build`, (c) => c.cpus, false, root),
    tsfuseErofs('tsfuse-erofs-1w-base', 'tsfuse erofs, 1 worker, baseline build', () => 1, false, root),
  ].map((c) => ({ ...c, note: `the build in ${root}`, noUring: 'baseline build: compared over /dev/fuse reads only', unavailable: () => (existsSync(join(root, 'src/erofs/filesystem.js')) ? undefined : `no build in ${root}`) }));
}

export function imageContenders(baseline?: string): ImageContender[] {
  const n = availableParallelism();
  return [
    ...(baseline ? baselineContenders(baseline) : []),
    {
      id: 'kernel-erofs',
      label: 'kernel EROFS (the limit)',
      tsfuse: false,
      uncachedPossible: false,
      dropLevel: 3,
      unavailable: () => undefined,
      serve: (ctx, _v, mnt) => ({ cmd: 'mount', args: ['-t', 'erofs', '-o', 'ro', ctx.ds.erofs, mnt], kind: 'kernel', probe: join(mnt, ctx.ds.probe) }),
      startup: (ctx, w, mnt) => ({
        cmd: 'mount',
        args: ['-t', 'erofs', '-o', 'ro', w === 'small' ? ctx.ds.small.erofs : ctx.ds.erofs, mnt],
        kind: 'kernel',
        probe: join(mnt, w === 'small' ? ctx.ds.small.probe : ctx.ds.probe),
      }),
      note: 'in-kernel driver, file-backed mount; no server process, no timeouts: caches dropped (echo 3) before each stat pass',
    },
    // worker mode: each one followed by its io_uring twin (bench/lib/uring.ts)
    ...withUringTwins([
      tsfuseErofs('tsfuse-erofs', `tsfuse erofs, ${n} workers (1/CPU)`, (c) => c.cpus, false),
      tsfuseErofs('tsfuse-erofs-1w', 'tsfuse erofs, 1 worker', () => 1, false),
      tsfuseErofs('tsfuse-cfs-pt', `tsfuse composefs + passthrough, ${n} workers`, (c) => c.cpus, true),
    ], uringImageTwin),
    {
      id: 'squashfuse',
      label: 'squashfuse (libfuse3 high-level)',
      tsfuse: false,
      uncachedPossible: true,
      dropLevel: 2,
      unavailable: () => (which('squashfuse') ? undefined : 'squashfuse is not installed'),
      serve: (ctx, v, mnt) => {
        const t = v === 'uncached' ? '0' : CACHED;
        return { cmd: 'squashfuse', args: ['-f', '-o', `entry_timeout=${t},attr_timeout=${t},negative_timeout=0`, ctx.ds.squashfs, mnt], kind: 'fuse', probe: join(mnt, ctx.ds.probe) };
      },
      startup: (ctx, w, mnt) => ({
        cmd: 'squashfuse',
        args: ['-f', w === 'small' ? ctx.ds.small.squashfs : ctx.ds.squashfs, mnt],
        kind: 'fuse',
        probe: join(mnt, w === 'small' ? ctx.ds.small.probe : ctx.ds.probe),
      }),
    },
    {
      id: 'squashfuse_ll',
      label: 'squashfuse_ll (libfuse3 low-level)',
      tsfuse: false,
      uncachedPossible: false,
      dropLevel: 2,
      unavailable: () => (which('squashfuse_ll') ? undefined : 'squashfuse_ll is not installed'),
      serve: (ctx, _v, mnt) => ({ cmd: 'squashfuse_ll', args: ['-f', ctx.ds.squashfs, mnt], kind: 'fuse', probe: join(mnt, ctx.ds.probe) }),
      startup: (ctx, w, mnt) => ({
        cmd: 'squashfuse_ll',
        args: ['-f', w === 'small' ? ctx.ds.small.squashfs : ctx.ds.squashfs, mnt],
        kind: 'fuse',
        probe: join(mnt, w === 'small' ? ctx.ds.small.probe : ctx.ds.probe),
      }),
      note: 'answers every entry with an infinite timeout and has no option for it (its -o timeout= is an idle unmount); dentries and inodes dropped (echo 2) before each stat pass',
    },
    {
      id: 'fuse-native',
      label: 'fuse-native (Node, libfuse2 path API)',
      tsfuse: false,
      uncachedPossible: true,
      dropLevel: 2,
      unavailable: () => fuseNativeMissing(),
      serve: (ctx, v, mnt) => ({
        cmd: node,
        args: [built('bench/servers/fuse-native.js'), '--src', ctx.ds.tree, '--mnt', mnt, '--timeout', v === 'uncached' ? '0' : CACHED],
        kind: 'fuse',
        stopSignal: 'SIGTERM',
        probe: join(mnt, ctx.ds.probe),
      }),
      startup: (ctx, w, mnt) => ({
        cmd: node,
        args: [built('bench/servers/fuse-native.js'), '--src', w === 'small' ? ctx.ds.small.tree : ctx.ds.tree, '--mnt', mnt],
        kind: 'fuse',
        stopSignal: 'SIGTERM',
        probe: join(mnt, w === 'small' ? ctx.ds.small.probe : ctx.ds.probe),
      }),
      note: 'serves the source directory of the images through node:fs (it has no image reader)',
    },
  ];
}

let fuseNativeWhy: string | undefined | null = null;

/** Installs fuse-native into bench/data/peers if needed, and checks that it loads. */
export function fuseNativeMissing(): string | undefined {
  if (fuseNativeWhy !== null) return fuseNativeWhy;
  const peers = join(BENCH_DATA, 'peers');
  const req = createRequire(join(peers, 'package.json'));
  const load = (): string | undefined => {
    try {
      req('fuse-native');
      return undefined;
    } catch (e) {
      return `fuse-native does not load: ${(e as Error).message.split('\n')[0]}`;
    }
  };
  if (!existsSync(join(peers, 'node_modules', 'fuse-native'))) {
    tryRunSync('mkdir', ['-p', peers]);
    if (!existsSync(join(peers, 'package.json'))) {
      tryRunSync('sh', ['-c', `echo '{"name":"tsfuse-bench-peers","private":true}' > '${join(peers, 'package.json')}'`]);
    }
    // its own package.json keeps npm from walking up into the repository's node_modules
    const out = tryRunSync('sh', ['-c', `cd '${peers}' && npm install --no-save --no-audit --no-fund fuse-native 2>&1 | tail -5`], 300_000);
    if (!existsSync(join(peers, 'node_modules', 'fuse-native'))) {
      fuseNativeWhy = `npm install fuse-native into bench/data/peers failed: ${(out ?? '').slice(0, 300)}`;
      return fuseNativeWhy;
    }
  }
  fuseNativeWhy = load();
  return fuseNativeWhy;
}

export interface PtContender {
  id: string;
  label: string;
  tsfuse: boolean;
  unavailable(): string | undefined;
  /** undefined = the native directory itself (no mount). */
  serve?(src: string, mnt: string, ctx: Ctx): Launch;
}

function passthroughMissing(): string | undefined {
  return existsSync(built('src/fs/passthrough/index.js')) ? undefined : 'src/fs/passthrough is not written yet';
}

export function ptContenders(): PtContender[] {
  return [
    { id: 'native', label: 'native directory (ext4)', tsfuse: false, unavailable: () => undefined },
    {
      id: 'tsfuse-pt',
      label: 'tsfuse passthrough (kernel passthrough)',
      tsfuse: true,
      unavailable: passthroughMissing,
      serve: (src, mnt, ctx) => ({ cmd: node, args: [...ctx.nodeFlags, built('src/cli/main.js'), 'passthrough', src, mnt, '--foreground'], kind: 'fuse', probe: join(mnt, 'big.bin') }),
    },
    {
      id: 'tsfuse-pt-nopt',
      label: 'tsfuse passthrough, --nopassthrough',
      tsfuse: true,
      unavailable: passthroughMissing,
      serve: (src, mnt, ctx) => ({ cmd: node, args: [...ctx.nodeFlags, built('src/cli/main.js'), 'passthrough', src, mnt, '--nopassthrough', '--foreground'], kind: 'fuse', probe: join(mnt, 'big.bin') }),
    },
  ];
}

export function mntFor(id: string): string {
  return join(MNT_ROOT, id);
}
