// Turns one physical cluster into its decoded bytes. LZ4 and LZMA (MicroLZMA) are decoded in TypeScript
// (lz4.ts, src/compress/lzma.ts), DEFLATE by node:zlib, zstd by libzstd as WebAssembly (src/compress/zstd.ts,
// which needs `decodersReady` awaited once before the first zstd pcluster).

import { zlib } from '../../kernel/builtins.js';
import { LzmaError, microLzmaDecodeInto } from '../../compress/lzma.js';
import { ZstdError, zstdDecompressInto, zstdFrameContentSize, zstdReady } from '../../compress/zstd.js';
import { corrupt } from './errors.js';
import * as F from './format.js';
import { decodeLz4Into } from './extent-decode.js';
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

function decodeZstdInto(frame: Uint8Array, n: number, dst: Uint8Array, at: number): void {
  try {
    // ZSTD_decompress needs room for the whole frame; a deduplicated extent may want only a prefix of it.
    const declared = zstdFrameContentSize(frame);
    if (declared !== undefined && (declared < n || declared > F.PCLUSTER_MAX_DSIZE)) {
      corrupt(`zstd frame declares ${declared} bytes, the extent needs ${n}`);
    }
    const got = zstdDecompressInto(frame, declared ?? F.PCLUSTER_MAX_DSIZE, dst, at, n);
    if (got < n) corrupt(`zstd pcluster decoded to ${got} bytes, expected ${n}`);
  } catch (e) {
    if (e instanceof ZstdError) corrupt(`zstd pcluster: ${e.message}`);
    throw e;
  }
}

function decodeLzmaInto(input: Uint8Array, start: number, n: number, dst: Uint8Array, at: number): void {
  // The output is the dictionary: a view of exactly the extent, so matches cannot reach bytes before it.
  const out = at === 0 && dst.length === n ? dst : dst.subarray(at, at + n);
  try {
    // Match distances are bounded by the largest dictionary EROFS allows, as the kernel's shared decoder
    // streams are (sized for the largest dict_size of any mounted image); the superblock's value is checked at open.
    microLzmaDecodeInto(input, start, input.length, out, n, F.LZMA_MAX_DICT_SIZE);
  } catch (e) {
    if (e instanceof LzmaError) corrupt(`lzma pcluster: ${e.message}`);
    throw e;
  }
}

/** The extent's decoded bytes in a new array (decompressInto writes them where the caller wants them). */
export function decompress(req: DecompressRequest): Uint8Array {
  const out = new Uint8Array(Math.max(0, req.outputLength));
  decompressInto(req, out, 0);
  return out;
}

/**
 * Decodes the extent into dst[at, at + outputLength): every byte of it is written, or it throws (corrupt
 * data -> CorruptImageError). Nothing is allocated for stored (plain) pclusters, LZ4 or LZMA, so a READ
 * that decodes straight into its reply leaves no garbage behind: a decoded array per pcluster pinned tens
 * of MiB of malloc'd memory in every worker between collections (bench/results/findings.md, "Memory").
 */
export function decompressInto(req: DecompressRequest, dst: Uint8Array, at: number): void {
  const { input, outputLength: n } = req;
  if (n > F.PCLUSTER_MAX_DSIZE) corrupt(`extent decodes to ${n} bytes, more than the ${F.PCLUSTER_MAX_DSIZE} limit`);
  if (at < 0 || at + n > dst.length) throw new RangeError(`decompressInto: ${n} bytes at ${at} do not fit ${dst.length}`);
  switch (req.algorithm) {
    case F.COMPRESSION_SHIFTED: {
      // Stored uncompressed, starting at the pcluster's first byte.
      if (n > input.length) corrupt(`plain pcluster of ${input.length} bytes cannot hold ${n}`);
      dst.set(input.subarray(0, n), at);
      return;
    }
    case F.COMPRESSION_INTERLACED: {
      // Stored uncompressed but rotated so each byte keeps its in-block offset (kernel z_erofs_transform_plain).
      const plen = input.length;
      if (n > plen) corrupt(`interlaced pcluster of ${plen} bytes cannot hold ${n}`);
      const cur = req.blockSize - (req.interlacedOffset % req.blockSize);
      const start = plen - cur;
      if (start < 0) corrupt('interlaced pcluster smaller than its first block part');
      const first = Math.min(cur, n);
      dst.set(input.subarray(start, start + first), at);
      if (n > first) dst.set(input.subarray(0, n - first), at + first);
      return;
    }
    case F.COMPRESSION_LZ4: {
      // With zero padding the stream ends exactly at the pcluster end; partial mode all the same: the extent
      // may cover only a prefix of what the pcluster holds (dedupe, trims).
      const out = at === 0 && dst.length === n ? dst : dst.subarray(at, at + n);
      decodeLz4Into(input, out, n, req.blockSize, req.lz4ZeroPadding);
      return;
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
      dst.set(out.subarray(0, n), at);
      return;
    }
    case F.COMPRESSION_ZSTD:
      // One frame ending at the pcluster end; zero padding (always on for zstd) fills the front.
      decodeZstdInto(input.subarray(paddingEnd(input, req.blockSize)), n, dst, at);
      return;
    case F.COMPRESSION_LZMA:
      // MicroLZMA, zero padded in front like zstd (kernel z_erofs_lzma_decompress).
      decodeLzmaInto(input, paddingEnd(input, req.blockSize), n, dst, at);
      return;
    default:
      corrupt(`unknown compression algorithm ${req.algorithm}`);
  }
}
