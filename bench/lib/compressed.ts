// The compressed-image section: the bench tree as compressed EROFS images (Debian's mkfs.erofs 1.5 writes
// lz4 and lz4hc only; deflate/zstd/lzma need mkfs.erofs >= 1.7, so zstd and deflate images are also built by
// `tsfuse erofs build`, labelled "tsfuse-built") and as compressed squashfs images (lz4hc, lz4, zstd, xz,
// gzip), served by tsfuse, squashfuse_ll and the kernel's erofs driver. Figures per contender:
// cold `tar` of the whole tree (wall), cold sequential read of the big file (MiB/s), server CPU seconds of
// each, and the peak RSS of the whole server process (VmHWM) over the mount's life. Images are built once
// next to the dataset (cached by name), with their build time kept beside them (IMAGE.build.json); the
// tsfuse-built ones are rebuilt on every run, since they are what is under test.

import { existsSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Dataset } from './data.js';
import { built } from './paths.js';
import { runSync, tryRunSync } from './proc.js';

const MTIME = 1_700_000_000;
const UUID = '6d2b3a4c-1111-4222-8333-944455556666';

export interface CompressedImage {
  id: string;
  kind: 'erofs' | 'squashfs';
  /** The compressor as the table shows it. */
  comp: string;
  path: string;
  /** mkfs.erofs -z value, `tsfuse erofs build` or mksquashfs arguments. */
  args: string[];
  /** Who writes it (default: mkfs.erofs for erofs, mksquashfs for squashfs). */
  builder?: 'tsfuse';
  /** The squashfs compressor it is compared with, when not `comp` (DEFLATE against gzip). */
  peer?: string;
}

/** Table label of an image's compressor: "zstd (tsfuse-built)" for ours. */
export function compLabel(im: CompressedImage): string {
  return im.builder === 'tsfuse' ? `${im.comp} (tsfuse-built)` : im.comp;
}

/** Contender-id part for an image: "zstd-tb" for tsfuse-built ones (so a mkfs.erofs zstd image can sit beside). */
function compKey(im: CompressedImage): string {
  return im.builder === 'tsfuse' ? `${im.comp}-tb` : im.comp;
}

export const EROFS_COMPRESSORS: Array<{ comp: string; z: string }> = [
  { comp: 'lz4hc', z: 'lz4hc' },
  { comp: 'lz4', z: 'lz4' },
];

/** What `tsfuse erofs build --compress` writes beyond lz4/lz4hc, at mkfs.erofs' default levels. */
export const TSFUSE_COMPRESSORS: Array<{ comp: string; compress: string; peer: string }> = [
  { comp: 'zstd', compress: 'zstd', peer: 'zstd' },
  { comp: 'deflate', compress: 'deflate', peer: 'gzip' },
];

/** Compressors mkfs.erofs 1.5 (Debian 12) cannot write; listed in the table as missing. */
export const EROFS_MISSING = ['deflate', 'zstd', 'lzma'];

export const SQUASHFS_COMPRESSORS: Array<{ comp: string; args: string[] }> = [
  { comp: 'lz4hc', args: ['-comp', 'lz4', '-Xhc'] },
  { comp: 'lz4', args: ['-comp', 'lz4'] },
  { comp: 'zstd', args: ['-comp', 'zstd'] },
  { comp: 'xz', args: ['-comp', 'xz'] },
  { comp: 'gzip', args: ['-comp', 'gzip'] },
];

/** Which of EROFS_MISSING this machine's mkfs.erofs can write (>= 1.7 knows them all). */
export function erofsWritable(): string[] {
  const help = tryRunSync('mkfs.erofs', ['--help']) ?? '';
  return EROFS_MISSING.filter((c) => new RegExp(`\\b${c}\\b`).test(help.split('\n').filter((l) => /-z|compress/i.test(l)).join(' ')));
}

export function compressedImages(ds: Dataset): CompressedImage[] {
  const out: CompressedImage[] = [];
  const erofs = [...EROFS_COMPRESSORS, ...erofsWritable().map((c) => ({ comp: c, z: c }))];
  for (const e of erofs) out.push({ id: `erofs-${e.comp}`, kind: 'erofs', comp: e.comp, path: join(ds.dir, `tree-${e.comp}.erofs`), args: [`-z${e.z}`] });
  for (const t of TSFUSE_COMPRESSORS) {
    out.push({ id: `erofs-${t.comp}-tb`, kind: 'erofs', comp: t.comp, path: join(ds.dir, `tree-${t.comp}-tsfuse.erofs`), args: ['--compress', t.compress], builder: 'tsfuse', peer: t.peer });
  }
  for (const s of SQUASHFS_COMPRESSORS) out.push({ id: `sqfs-${s.comp}`, kind: 'squashfs', comp: s.comp, path: join(ds.dir, `tree-${s.comp}.sqfs`), args: s.args });
  return out;
}

export interface BuildRecord {
  /** Wall time of the build. */
  seconds: number;
  /** The builder's CPU seconds (user + sys, all its threads): mksquashfs uses every CPU, our builder one. */
  cpuSeconds: number;
  load: string;
  date: string;
}

/** The build time kept beside an image, if it was built by a run that recorded it. */
export function buildRecord(im: CompressedImage): BuildRecord | undefined {
  try {
    return JSON.parse(readFileSync(`${im.path}.build.json`, 'utf8')) as BuildRecord;
  } catch {
    return undefined;
  }
}

export function imageBytes(im: CompressedImage): number | undefined {
  try {
    return statSync(im.path).size;
  } catch {
    return undefined;
  }
}

/** CPU seconds of this process' waited-for children (cutime + cstime, /proc/self/stat fields 16 and 17). */
function childCpuSeconds(): number {
  // split after the command name, which may hold spaces: index 0 is then field 3 (state)
  const f = readFileSync('/proc/self/stat', 'utf8').split(') ')[1]!.split(' ');
  return (Number(f[13]) + Number(f[14])) / CLOCK_TICKS;
}

/** sysconf(_SC_CLK_TCK): 100 on every Linux architecture Node runs on. */
const CLOCK_TICKS = 100;

/** Builds whatever image is missing (mkfs.erofs / mksquashfs of ds.tree) and every tsfuse-built one. */
export function ensureCompressedImages(ds: Dataset, log: (s: string) => void): CompressedImage[] {
  const imgs = compressedImages(ds);
  for (const im of imgs) {
    if (existsSync(im.path) && im.builder !== 'tsfuse') continue;
    const t = Date.now();
    const cpu0 = childCpuSeconds();
    const load = readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ');
    const tmp = im.path + '.tmp';
    rmSync(tmp, { force: true });
    if (im.builder === 'tsfuse') {
      runSync(process.execPath, [built('src/cli/main.js'), 'erofs', 'build', ...im.args, ds.tree, tmp], { timeoutMs: 3_600_000 });
    } else if (im.kind === 'erofs') {
      runSync('mkfs.erofs', ['--quiet', ...im.args, '-T', String(MTIME), '-U', UUID, tmp, ds.tree], { timeoutMs: 3_600_000 });
    } else {
      runSync('mksquashfs', [ds.tree, tmp, '-noappend', '-no-progress', '-quiet', ...im.args, '-mkfs-time', String(MTIME)], { timeoutMs: 3_600_000 });
    }
    renameSync(tmp, im.path);
    const rec: BuildRecord = { seconds: (Date.now() - t) / 1000, cpuSeconds: childCpuSeconds() - cpu0, load, date: new Date().toISOString() };
    writeFileSync(`${im.path}.build.json`, JSON.stringify(rec));
    log(`  built ${im.path} in ${rec.seconds.toFixed(1)} s (${rec.cpuSeconds.toFixed(1)} s CPU, load ${load})`);
  }
  return imgs;
}

export interface ZContender {
  id: string;
  label: string;
  kind: 'tsfuse' | 'peer' | 'limit';
  image: CompressedImage;
  cmd: string;
  args(mnt: string): string[];
  fuse: boolean;
  /** Asks for FUSE over io_uring (an io_uring twin, bench/lib/uring.ts). */
  uring?: boolean;
}

/**
 * tsfuse (1 worker per CPU, and 1 worker), squashfuse_ll and the kernel, over the images that exist;
 * `baseline` (the root of another compiled tsfuse tree, e.g. an older commit's) adds that build's tsfuse
 * with one worker per CPU, for before/after figures in one interleaved run.
 */
export function zContenders(imgs: CompressedImage[], cpus: number, nodeFlags: string[], cacheSize?: string, baseline?: string): ZContender[] {
  const out: ZContender[] = [];
  const cli = built('src/cli/main.js');
  const extra = cacheSize ? ['--cache-size', cacheSize] : [];
  for (const im of imgs) {
    if (im.kind === 'erofs') {
      out.push({
        id: `kernel-${compKey(im)}`, label: `kernel erofs, ${compLabel(im)}`, kind: 'limit', image: im, cmd: 'mount', fuse: false,
        args: (mnt) => ['-t', 'erofs', '-o', 'ro', im.path, mnt],
      });
      for (const w of [cpus, 1]) {
        out.push({
          id: `tsfuse-${compKey(im)}-${w}w`, label: `tsfuse erofs ${compLabel(im)}, ${w} worker${w > 1 ? 's' : ''}`, kind: 'tsfuse', image: im, cmd: process.execPath, fuse: true,
          args: (mnt) => [...nodeFlags, cli, 'erofs', 'mount', im.path, mnt, '--workers', String(w), ...extra, '--foreground'],
        });
      }
      if (baseline) {
        out.push({
          id: `baseline-${compKey(im)}-${cpus}w`, label: `tsfuse erofs ${compLabel(im)}, ${cpus} workers, baseline build`, kind: 'tsfuse', image: im, cmd: process.execPath, fuse: true,
          args: (mnt) => [join(baseline, 'src/cli/main.js'), 'erofs', 'mount', im.path, mnt, '--workers', String(cpus), '--foreground'],
        });
      }
    } else {
      out.push({
        id: `squashfuse_ll-${im.comp}`, label: `squashfuse_ll, squashfs ${im.comp}`, kind: 'peer', image: im, cmd: 'squashfuse_ll', fuse: true,
        args: (mnt) => ['-f', im.path, mnt],
      });
    }
  }
  return out;
}

/** Peak resident set (VmHWM) of a process in bytes, or undefined. */
export function peakRss(pid: number): number | undefined {
  try {
    const m = /VmHWM:\s*(\d+)\s*kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) * 1024 : undefined;
  } catch {
    return undefined;
  }
}
