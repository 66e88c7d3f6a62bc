// The compressors `tsfuse erofs build --compress ALG[,LEVEL]` can write pclusters with, as mkfs.erofs
// (>= 1.8) writes them: lz4/lz4hc (our destSize LZ4, lz4-compress.ts), zstd (one frame per pcluster, through
// src/compress/zstd.ts' ZstdCompressor) and DEFLATE (one raw stream per pcluster, node:zlib), the last two fitted to the
// pcluster by prefix search (prefix-fit.ts). zstd and DEFLATE also need their configuration record after the
// superblock (z_erofs_zstd_cfgs / z_erofs_deflate_cfgs, announced by INCOMPAT_COMPR_CFGS and the
// available_compr_algs bitmap); lz4 images keep the pre-1.3 form mkfs.erofs 1.5 writes (no records).

import * as zlib from 'node:zlib';
import { ZstdCompressor } from '../../compress/zstd.js';
import * as F from '../reader/format.js';
import { Lz4Compressor, lz4Depth } from './lz4-compress.js';
import { PrefixFitter } from './prefix-fit.js';

export type CompressAlgorithm = 'lz4' | 'lz4hc' | 'zstd' | 'deflate';

export interface CompressSpec {
  algorithm: CompressAlgorithm;
  /** Compression level; undefined: the algorithm's default (lz4hc 9, zstd 3, deflate 1 as mkfs.erofs). */
  level?: number;
}

/** Levels each algorithm takes (lz4 has none). */
const LEVELS: Record<CompressAlgorithm, [number, number] | undefined> = {
  lz4: undefined,
  lz4hc: [1, 12],
  zstd: [1, 22],
  deflate: [1, 9],
};

export class CompressSpecError extends Error {}

/** Parses "zstd", "zstd,19", "deflate,9", "lz4hc,12", "lz4"; "none" is undefined. */
export function parseCompressSpec(s: string): CompressSpec | undefined {
  if (s === 'none') return undefined;
  const [name, level, ...rest] = s.split(',');
  if (!(name! in LEVELS) || rest.length) throw new CompressSpecError(`--compress ${s}: must be lz4, lz4hc[,1-12], zstd[,1-22], deflate[,1-9] or none`);
  const algorithm = name as CompressAlgorithm;
  if (level === undefined) return { algorithm };
  const range = LEVELS[algorithm];
  const n = /^\d+$/.test(level) ? Number(level) : NaN;
  if (!range) throw new CompressSpecError(`--compress ${s}: ${algorithm} takes no level`);
  if (!(n >= range[0] && n <= range[1])) throw new CompressSpecError(`--compress ${s}: ${algorithm} level must be ${range[0]}..${range[1]}`);
  return { algorithm, level: n };
}

/** Fills at most `dstCap` bytes of `dst` with a stream decoding to exactly `consumed` bytes of `src`. */
export interface PclusterEncoder {
  /** Z_EROFS_COMPRESSION_* of what it writes (the map header's h_algorithmtype). */
  readonly algorithm: number;
  compress(src: Uint8Array, srcLen: number, dst: Uint8Array, dstCap: number): { written: number; consumed: number };
}

export const COMPRESSION_OF: Record<CompressAlgorithm, number> = {
  lz4: F.COMPRESSION_LZ4,
  lz4hc: F.COMPRESSION_LZ4,
  zstd: F.COMPRESSION_ZSTD,
  deflate: F.COMPRESSION_DEFLATE,
};

class FittedEncoder implements PclusterEncoder {
  constructor(
    readonly algorithm: number,
    private readonly fitter: PrefixFitter,
  ) {}

  compress(src: Uint8Array, srcLen: number, dst: Uint8Array, dstCap: number): { written: number; consumed: number } {
    return this.fitter.fit(src, srcLen, dst, dstCap);
  }
}

/** DEFLATE window: 2^15, the most the format (and the kernel's inflate workspace) allows. */
const DEFLATE_WINDOW_BITS = 15;

/** An encoder for `spec`. zstd needs `zstdReady` (src/compress/zstd.ts) awaited first. */
export function pclusterEncoder(spec: CompressSpec): PclusterEncoder {
  const alg = COMPRESSION_OF[spec.algorithm];
  switch (spec.algorithm) {
    case 'lz4':
    case 'lz4hc':
      return new Lz4Compressor(lz4Depth(spec.algorithm, spec.level));
    case 'zstd': {
      const z = new ZstdCompressor(spec.level ?? 3);
      return new FittedEncoder(alg, new PrefixFitter((s) => z.compress(s)));
    }
    case 'deflate': {
      const opts = { level: spec.level ?? 1, windowBits: DEFLATE_WINDOW_BITS };
      // the zero padding in front of a pcluster's stream ends at its first non-zero byte, so a stream must not
      // start with 0 (a non-final stored block would)
      return new FittedEncoder(alg, new PrefixFitter((s) => zlib.deflateRawSync(s, opts), (out) => out[0] !== 0));
    }
  }
}

/**
 * The records after the superblock for `spec` (le16 length, payload; the first at offset 1024 + 128, already
 * 4-aligned), or undefined when the image needs none (lz4). `window` is the most input one pcluster covers:
 * every zstd frame is single-segment (its window is its content size), so the record announces that.
 */
export function comprConfigRecords(spec: CompressSpec, window: number): Uint8Array | undefined {
  const alg = COMPRESSION_OF[spec.algorithm];
  if (alg === F.COMPRESSION_LZ4) return undefined;
  const size = F.COMPR_CFG_SIZES[alg]!;
  const out = new Uint8Array(Math.ceil((2 + size) / 4) * 4);
  new DataView(out.buffer).setUint16(0, size, true);
  const rec = out.subarray(2);
  if (alg === F.COMPRESSION_ZSTD) {
    const log = Math.ceil(Math.log2(window));
    if (log < 10 || 2 ** log > F.PCLUSTER_MAX_SIZE) throw new RangeError(`zstd window of ${window} bytes`);
    rec[F.ZSTD_CFG_FORMAT] = 0;
    rec[F.ZSTD_CFG_WINDOWLOG] = log - 10;
  } else rec[F.DEFLATE_CFG_WINDOWBITS] = DEFLATE_WINDOW_BITS;
  return out;
}
