// Turns one physical cluster into its decoded bytes. LZ4 is decoded in TypeScript (lz4.ts), DEFLATE by
// node:zlib; zstd only when the running Node has zlib.zstdDecompressSync (Node 22.15+/23.8+); LZMA never
// (Node has no decoder). Unsupported algorithms raise UnsupportedFeatureError (EOPNOTSUPP).

import * as zlib from 'node:zlib';
import { UnsupportedFeatureError, corrupt } from './errors.js';
import * as F from './format.js';
import { lz4DecompressBlock } from './lz4.js';

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

type ZstdSync = (buf: Uint8Array, opts?: object) => Buffer;
const zstdDecompressSync: ZstdSync | undefined = (zlib as unknown as { zstdDecompressSync?: ZstdSync }).zstdDecompressSync;

/** Skips the zero padding EROFS puts in front of compressed data (searched within the first block). */
function paddingEnd(input: Uint8Array, blockSize: number): number {
  const limit = Math.min(input.length, blockSize);
  for (let i = 0; i < limit; i++) if (input[i] !== 0) return i;
  corrupt('compressed pcluster is all zero padding');
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
      let out: Buffer;
      try {
        out = zlib.inflateRawSync(input.subarray(start), {
          finishFlush: zlib.constants.Z_SYNC_FLUSH,
          maxOutputLength: F.PCLUSTER_MAX_DSIZE,
        });
      } catch (e) {
        corrupt(`deflate pcluster: ${(e as Error).message}`);
      }
      if (out.length < n) corrupt(`deflate pcluster decoded to ${out.length} bytes, expected ${n}`);
      return new Uint8Array(out.buffer, out.byteOffset, n);
    }
    case F.COMPRESSION_ZSTD: {
      if (!zstdDecompressSync) throw new UnsupportedFeatureError('zstd compression (this Node has no zstd decoder)');
      const start = paddingEnd(input, req.blockSize);
      let out: Buffer;
      try {
        out = zstdDecompressSync(input.subarray(start), { maxOutputLength: F.PCLUSTER_MAX_DSIZE });
      } catch (e) {
        corrupt(`zstd pcluster: ${(e as Error).message}`);
      }
      if (out.length < n) corrupt(`zstd pcluster decoded to ${out.length} bytes, expected ${n}`);
      return new Uint8Array(out.buffer, out.byteOffset, n);
    }
    case F.COMPRESSION_LZMA:
      throw new UnsupportedFeatureError('lzma compression (Node has no lzma decoder)');
    default:
      corrupt(`unknown compression algorithm ${req.algorithm}`);
  }
}
