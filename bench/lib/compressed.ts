// The compressed-image section: the bench tree as compressed EROFS images (Debian's mkfs.erofs 1.5 writes
// lz4 and lz4hc only; deflate/zstd/lzma need mkfs.erofs >= 1.7) and as compressed squashfs images (lz4hc,
// lz4, zstd, xz, gzip), served by tsfuse, squashfuse_ll and the kernel's erofs driver. Figures per contender:
// cold `tar` of the whole tree (wall), cold sequential read of the big file (MiB/s), server CPU seconds of
// each, and the peak RSS of the whole server process (VmHWM) over the mount's life. Images are built once
// next to the dataset (cached by name).

import { existsSync, readFileSync, renameSync, rmSync } from 'node:fs';
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
  /** mkfs.erofs -z value or mksquashfs -comp arguments. */
  args: string[];
}

export const EROFS_COMPRESSORS: Array<{ comp: string; z: string }> = [
  { comp: 'lz4hc', z: 'lz4hc' },
  { comp: 'lz4', z: 'lz4' },
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
  for (const s of SQUASHFS_COMPRESSORS) out.push({ id: `sqfs-${s.comp}`, kind: 'squashfs', comp: s.comp, path: join(ds.dir, `tree-${s.comp}.sqfs`), args: s.args });
  return out;
}

/** Builds whatever image is missing (mkfs.erofs / mksquashfs of ds.tree). */
export function ensureCompressedImages(ds: Dataset, log: (s: string) => void): CompressedImage[] {
  const imgs = compressedImages(ds);
  for (const im of imgs) {
    if (existsSync(im.path)) continue;
    const t = Date.now();
    const tmp = im.path + '.tmp';
    rmSync(tmp, { force: true });
    if (im.kind === 'erofs') {
      runSync('mkfs.erofs', ['--quiet', ...im.args, '-T', String(MTIME), '-U', UUID, tmp, ds.tree], { timeoutMs: 3_600_000 });
    } else {
      runSync('mksquashfs', [ds.tree, tmp, '-noappend', '-no-progress', '-quiet', ...im.args, '-mkfs-time', String(MTIME)], { timeoutMs: 3_600_000 });
    }
    renameSync(tmp, im.path);
    log(`  built ${im.path} in ${((Date.now() - t) / 1000).toFixed(1)} s`);
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
        id: `kernel-${im.comp}`, label: `kernel erofs, ${im.comp}`, kind: 'limit', image: im, cmd: 'mount', fuse: false,
        args: (mnt) => ['-t', 'erofs', '-o', 'ro', im.path, mnt],
      });
      for (const w of [cpus, 1]) {
        out.push({
          id: `tsfuse-${im.comp}-${w}w`, label: `tsfuse erofs ${im.comp}, ${w} worker${w > 1 ? 's' : ''}`, kind: 'tsfuse', image: im, cmd: process.execPath, fuse: true,
          args: (mnt) => [...nodeFlags, cli, 'erofs', 'mount', im.path, mnt, '--workers', String(w), ...extra, '--foreground'],
        });
      }
      if (baseline) {
        out.push({
          id: `baseline-${im.comp}-${cpus}w`, label: `tsfuse erofs ${im.comp}, ${cpus} workers, baseline build`, kind: 'tsfuse', image: im, cmd: process.execPath, fuse: true,
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
