// buildImage: EROFS images from a source tree with Debian's mkfs.erofs 1.5, in named variants; buildSquashfs
// for benchmarks.
//
// What mkfs.erofs 1.5 does (checked on this machine):
// - No -b option: the block size is always 4096, so 'b1024' and 'b2048' cannot be built here (see
//   IMAGE_VARIANTS; the fixtures in shared/fixtures/erofs have a b1024 image made by mkfs.erofs 1.9.3).
// - -T N sets *every* inode's mtime to N, even with --preserve-mtime, so only the 'compact' variant uses it
//   (compact inodes have no mtime of their own; 1.5 only makes an inode compact when its mtime equals the
//   build time, and -Eforce-inode-compact does not change that). Instead
//   SOURCE_DATE_EPOCH (timestamp *clamping*) fixes the superblock build time; every mtime below it is kept
//   with its nanoseconds (inodes get the extended layout because their mtime differs from the build time).
//   With -U and SOURCE_DATE_EPOCH the image is byte-for-byte reproducible.
// - Compressors: lz4 and lz4hc only. Extended options: noinline_data, force-inode-compact,
//   force-inode-extended, force-inode-blockmap, force-chunk-indexes, ztailpacking, legacy-compress.
//   Unknown -E options are silently ignored (so 'fragments'/'dedupe' would be a no-op, not a variant).
// - Holes are not detected: a sparse file is stored as zeros; with --chunksize identical chunks (zeros) are
//   deduplicated, which keeps sparse and composefs stub files cheap.

import * as fs from 'node:fs';
import * as path from 'node:path';
import { run } from '../../helpers/proc.js';
import { TREE_MAX_MTIME_SEC } from './tree.js';

export type ImageVariant =
  | 'default'
  | 'noinline'
  | 'chunk4k'
  | 'chunkidx'
  | 'compact'
  | 'b1024'
  | 'b2048'
  | 'lz4'
  | 'lz4hc'
  | 'lz4hc-ztail'
  | 'lz4-legacy'
  | 'lz4hc-c64k';

export interface VariantSpec {
  /** mkfs.erofs arguments (before OUT and SRC). */
  args: string[];
  /** Whether the installed mkfs.erofs (1.5) can build it. */
  supported: boolean;
  /** What the variant exercises, and known differences from the source tree. */
  note: string;
  /** dumpTree options that make dump(kernel mount) equal dump(source tree) for this variant. */
  dumpCompat?: { mtime?: boolean };
}

export const IMAGE_VARIANTS: Readonly<Record<ImageVariant, VariantSpec>> = {
  default: { args: [], supported: true, note: 'uncompressed, inline (tail-packed) data, extended inodes' },
  noinline: { args: ['-Enoinline_data'], supported: true, note: 'uncompressed, no inline data (FLAT_PLAIN)' },
  chunk4k: { args: ['--chunksize=4096'], supported: true, note: 'chunk-based files, 4-byte block map, zero chunks deduplicated' },
  chunkidx: {
    args: ['--chunksize=4096', '-Eforce-chunk-indexes'],
    supported: true,
    note: 'chunk-based files with 8-byte chunk indexes',
  },
  compact: {
    // -Eforce-inode-compact alone does nothing here (an inode whose mtime differs from the build time stays
    // extended) and fails on uid/gid > 65535; -T makes every mtime the build time, so inodes are compact
    // wherever uid, gid, nlink and size fit (the rest stay extended).
    args: ['-T1700000000'],
    supported: true,
    note: 'compact (32-byte) inodes wherever they fit: every mtime becomes 1700000000.000000000',
    dumpCompat: { mtime: false },
  },
  b1024: { args: ['-b', '1024'], supported: false, note: 'mkfs.erofs 1.5 has no -b (block size is 4096)' },
  b2048: { args: ['-b', '2048'], supported: false, note: 'mkfs.erofs 1.5 has no -b (block size is 4096)' },
  lz4: { args: ['-zlz4'], supported: true, note: 'lz4, compact compressed indexes' },
  lz4hc: { args: ['-zlz4hc'], supported: true, note: 'lz4hc (default level 9)' },
  'lz4hc-ztail': { args: ['-zlz4hc', '-Eztailpacking'], supported: true, note: 'lz4hc with inline compressed tails' },
  'lz4-legacy': { args: ['-zlz4', '-Elegacy-compress'], supported: true, note: 'lz4 with legacy (full) compression indexes' },
  'lz4hc-c64k': { args: ['-zlz4hc', '-C65536'], supported: true, note: 'lz4hc with big (64 KiB) physical clusters' },
};

export const ALL_VARIANTS = Object.keys(IMAGE_VARIANTS) as ImageVariant[];
export const SUPPORTED_VARIANTS = ALL_VARIANTS.filter((v) => IMAGE_VARIANTS[v].supported);

/** Superblock build time of every image (above every mtime of a generated tree, see tree.ts). */
export const BUILD_EPOCH = 2 ** 34;
/** Fixed filesystem UUID of every image. */
export const IMAGE_UUID = '7473667a-6b69-7400-8000-000000000001';

export class UnsupportedVariantError extends Error {
  constructor(readonly variant: string, reason: string) {
    super(`image variant ${variant} is not supported here: ${reason}`);
  }
}

export function variantSupported(v: ImageVariant): boolean {
  return IMAGE_VARIANTS[v]?.supported ?? false;
}

export interface BuildResult {
  file: string;
  variant: string;
  /** The full command line. */
  command: string[];
  bytes: number;
  ms: number;
}

export interface BuildOptions {
  /** Extra mkfs.erofs arguments after the variant's. */
  extraArgs?: string[];
  /** Timeout (default 5 minutes). */
  timeoutMs?: number;
}

/** Builds an EROFS image of srcDir with mkfs.erofs; throws UnsupportedVariantError for b1024/b2048 here. */
export async function buildImage(srcDir: string, outFile: string, variant: ImageVariant = 'default', opts: BuildOptions = {}): Promise<BuildResult> {
  const spec = IMAGE_VARIANTS[variant];
  if (!spec) throw new Error(`unknown image variant ${variant}`);
  if (!spec.supported) throw new UnsupportedVariantError(variant, spec.note);
  if (BUILD_EPOCH <= TREE_MAX_MTIME_SEC) throw new Error('BUILD_EPOCH must exceed every tree mtime');
  fs.mkdirSync(path.dirname(path.resolve(outFile)), { recursive: true });
  fs.rmSync(outFile, { force: true });
  const args = ['--quiet', `-U${IMAGE_UUID}`, ...spec.args, ...(opts.extraArgs ?? []), path.resolve(outFile), path.resolve(srcDir)];
  // -T (compact variant) fixes the build time itself; otherwise SOURCE_DATE_EPOCH does, keeping mtimes
  const fixedTime = spec.args.some((a) => a.startsWith('-T'));
  const env: NodeJS.ProcessEnv = { ...process.env, LC_ALL: 'C' };
  if (fixedTime) delete env.SOURCE_DATE_EPOCH;
  else env.SOURCE_DATE_EPOCH = String(BUILD_EPOCH);
  const r = await run('mkfs.erofs', args, {
    env,
    timeoutMs: opts.timeoutMs ?? 300_000,
  });
  return { file: outFile, variant, command: ['mkfs.erofs', ...args], bytes: fs.statSync(outFile).size, ms: r.ms };
}

export interface SquashfsOptions {
  /** Compressor (default gzip, squashfs-tools 4.5 also has lzo, lz4, xz, zstd). */
  comp?: 'gzip' | 'lzo' | 'lz4' | 'xz' | 'zstd';
  /** Block size in bytes (default 131072). */
  blockSize?: number;
  /** Store data uncompressed (-noD -noF). */
  uncompressedData?: boolean;
  timeoutMs?: number;
}

/** Builds a squashfs image with mksquashfs (owners, mtimes and xattrs kept; fixed mkfs time). */
export async function buildSquashfs(src: string, out: string, opts: SquashfsOptions = {}): Promise<BuildResult> {
  fs.rmSync(out, { force: true });
  const args = [
    path.resolve(src),
    path.resolve(out),
    '-noappend',
    '-no-progress',
    '-quiet',
    '-xattrs',
    '-mkfs-time',
    '1700000000',
    '-comp',
    opts.comp ?? 'gzip',
    ...(opts.blockSize ? ['-b', String(opts.blockSize)] : []),
    ...(opts.uncompressedData ? ['-noD', '-noF'] : []),
  ];
  const r = await run('mksquashfs', args, { timeoutMs: opts.timeoutMs ?? 300_000 });
  return { file: out, variant: `squashfs-${opts.comp ?? 'gzip'}`, command: ['mksquashfs', ...args], bytes: fs.statSync(out).size, ms: r.ms };
}
