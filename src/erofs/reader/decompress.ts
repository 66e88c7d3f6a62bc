// Turns one physical cluster into its decoded bytes. LZ4 and LZMA (MicroLZMA) are decoded in TypeScript
// (lz4.ts, src/compress/lzma.ts), DEFLATE by node:zlib, zstd by libzstd as WebAssembly (src/compress/zstd.ts,
// which needs `decodersReady` awaited once before the first zstd pcluster).

import { zlib } from '../../kernel/builtins.js';
import { LzmaError, microLzmaDecodeInto } from '../../compress/lzma.js';
import { ZstdError, zstdDecompress, zstdFrameContentSize, zstdReady } from '../../compress/zstd.js';
import { corrupt } from './errors.js';
import * as F from './format.js';
import { lz4DecompressBlock } from './lz4.js';
import type { Superblock } from './superblock.js';

export interface DecompressRequest {
  algorithm: number;
  /** The pcluster bytes (plen of them). */
  input: Uint8Array;
  /** How many decoded bytes are wanted (the extent's length); the pcluster may decode to more. */
  outputLength: number;
  blockSize: number;
  /** INCOMPAT_LZ4_0PADDING: LZ4 data sits at the end of the pcluster after zero padding. */
  lz4ZeroPadding: boolean;
  /** In-block offset of the extent start, for interlaced plain pclusters. */
  interlacedOffset: number;
}

/**
 * Resolves when every decoder the image's superblock lists is usable: only zstd needs asynchronous set-up
 * (WebAssembly instantiation), so images without zstd resolve at once. Await it before serving requests.
 */
export function decodersReady(sb: Superblock): Promise<void> {
  return sb.compression.availableAlgorithms & (1 << F.COMPRESSION_ZSTD) ? Promise.resolve(zstdReady) : Promise.resolve();
}

/**
 * Skips the zero padding EROFS puts in front of compressed data. The kernel (z_erofs_fixup_insize) searches
 * only the first block: compressed data always starts there.
 */
function paddingEnd(input: Uint8Array, blockSize: number): number {
  const limit = Math.min(input.length, blockSize);
  for (let i = 0; i < limit; i++) if (input[i] !== 0) return i;
  corrupt('compressed pcluster is all zero padding');
}

function decodeZstd(frame: Uint8Array, n: number): Uint8Array {
  try {
    // ZSTD_decompress needs room for the whole frame; a deduplicated extent may want only a prefix of it.
    const declared = zstdFrameContentSize(frame);
    if (declared !== undefined && (declared < n || declared > F.PCLUSTER_MAX_DSIZE)) {
      corrupt(`zstd frame declares ${declared} bytes, the extent needs ${n}`);
    }
    const out = zstdDecompress(frame, declared ?? F.PCLUSTER_MAX_DSIZE);
    if (out.length < n) corrupt(`zstd pcluster decoded to ${out.length} bytes, expected ${n}`);
    return out.length === n ? out : out.subarray(0, n);
  } catch (e) {
    if (e instanceof ZstdError) corrupt(`zstd pcluster: ${e.message}`);
    throw e;
  }
}

function decodeLzma(input: Uint8Array, start: number, n: number): Uint8Array {
  const out = new Uint8Array(n);
  try {
    // Match distances are bounded by the largest dictionary EROFS allows, as the kernel's shared decoder
    // streams are (sized for the largest dict_size of any mounted image); the superblock's value is checked at open.
    microLzmaDecodeInto(input, start, input.length, out, n, F.LZMA_MAX_DICT_SIZE);
  } catch (e) {
    if (e instanceof LzmaError) corrupt(`lzma pcluster: ${e.message}`);
    throw e;
  }
  return out;
}

export function decompress(req: DecompressRequest): Uint8Array {
  const { input, outputLength: n } = req;
  if (n > F.PCLUSTER_MAX_DSIZE) corrupt(`extent decodes to ${n} bytes, more than the ${F.PCLUSTER_MAX_DSIZE} limit`);
  switch (req.algorithm) {
    case F.COMPRESSION_SHIFTED: {
      // Stored uncompressed, starting at the pcluster's first byte.
      if (n > input.length) corrupt(`plain pcluster of ${input.length} bytes cannot hold ${n}`);
      return input.slice(0, n);
    }
    case F.COMPRESSION_INTERLACED: {
      // Stored uncompressed but rotated so each byte keeps its in-block offset (kernel z_erofs_transform_plain).
      const plen = input.length;
      if (n > plen) corrupt(`interlaced pcluster of ${plen} bytes cannot hold ${n}`);
      const cur = req.blockSize - (req.interlacedOffset % req.blockSize);
      const start = plen - cur;
      if (start < 0) corrupt('interlaced pcluster smaller than its first block part');
      const out = new Uint8Array(n);
      const first = Math.min(cur, n);
      out.set(input.subarray(start, start + first), 0);
      if (n > first) out.set(input.subarray(0, n - first), first);
      return out;
    }
    case F.COMPRESSION_LZ4: {
      const out = new Uint8Array(n);
      let start = 0;
      let partial = true;
      if (req.lz4ZeroPadding) {
        start = paddingEnd(input, req.blockSize);
        // With zero padding the stream ends exactly at the pcluster end, so a full decode could be checked
        // strictly; partial mode is still used because the extent may cover only a prefix (dedupe, trims).
        partial = true;
      }
      const got = lz4DecompressBlock(input, start, input.length, out, n, partial);
      if (got !== n) corrupt(`lz4 pcluster decoded to ${got} bytes, expected ${n}`);
      return out;
    }
    case F.COMPRESSION_DEFLATE: {
      const start = paddingEnd(input, req.blockSize);
      const z = zlib();
      let out: Buffer;
      try {
        out = z.inflateRawSync(input.subarray(start), {
          finishFlush: z.constants.Z_SYNC_FLUSH,
          maxOutputLength: F.PCLUSTER_MAX_DSIZE,
        });
      } catch (e) {
        corrupt(`deflate pcluster: ${(e as Error).message}`);
      }
      if (out.length < n) corrupt(`deflate pcluster decoded to ${out.length} bytes, expected ${n}`);
      return new Uint8Array(out.buffer, out.byteOffset, n);
    }
    case F.COMPRESSION_ZSTD:
      // One frame ending at the pcluster end; zero padding (always on for zstd) fills the front.
      return decodeZstd(input.subarray(paddingEnd(input, req.blockSize)), n);
    case F.COMPRESSION_LZMA:
      // MicroLZMA, zero padded in front like zstd (kernel z_erofs_lzma_decompress).
      return decodeLzma(input, paddingEnd(input, req.blockSize), n);
    default:
      corrupt(`unknown compression algorithm ${req.algorithm}`);
  }
}
