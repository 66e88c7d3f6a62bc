// LZ4 block compression in "destSize" form (what mkfs.erofs gets from LZ4_compress_destSize): fill an
// output of at most `dstCap` bytes with as much of the input as fits, and say how much input was consumed.
// An EROFS pcluster must decompress to exactly the input it covers, so the caller takes `consumed` as the
// pcluster's length. One match finder, a hash chain over the input: `depth` 1 is the fast (lz4) mode, a
// deeper chain is the lz4hc mode. The block rules of the LZ4 format are kept: the last 5 bytes are
// literals and no match starts in the last 12 bytes of the consumed input.

import * as F from '../reader/format.js';

const MIN_MATCH = 4;
const LAST_LITERALS = 5;
const MF_LIMIT = 12;
const MAX_DISTANCE = 65535;
const HASH_BITS = 15;
const NICE_MATCH = 256;

export interface Lz4Result {
  /** Bytes of the output used. */
  written: number;
  /** Bytes of the input the output decompresses to. */
  consumed: number;
}

/** Reusable state: memory is fixed by the window, not by the file. */
export class Lz4Compressor {
  /** What the map header names (pcluster-codecs.ts' PclusterEncoder). */
  readonly algorithm = F.COMPRESSION_LZ4;
  /** Positions stamped with `gen`: an entry below `gen` was left by an earlier call (no clearing per call). */
  private readonly head = new Int32Array(1 << HASH_BITS).fill(-1);
  private chain = new Int32Array(0);
  private gen = 0;
  /** Where the match `find` last returned starts. */
  private matchPos = -1;

  constructor(readonly depth: number) {}

  /** Cost in bytes of a run of `n` literals with its token and length bytes. */
  private static literalCost(n: number): number {
    return 1 + n + (n >= 15 ? Math.floor((n - 15) / 255) + 1 : 0);
  }

  /** Puts `ip` into its hash chain and returns the longest match for it found there (matchPos says where). */
  private find(src: Uint8Array, ip: number, gen: number, matchLimit: number, depth: number): number {
    const h = Math.imul(src[ip]! | (src[ip + 1]! << 8) | (src[ip + 2]! << 16) | (src[ip + 3]! << 24), 2654435761) >>> (32 - HASH_BITS);
    const chain = this.chain;
    let cand = this.head[h]! - gen;
    chain[ip] = cand;
    this.head[h] = ip + gen;
    let bestLen = 0;
    for (let tries = depth; cand >= 0 && ip - cand <= MAX_DISTANCE && tries > 0; tries--, cand = chain[cand]!) {
      if (src[cand + bestLen] !== src[ip + bestLen] || src[cand] !== src[ip] || src[cand + 1] !== src[ip + 1]) continue;
      let len = 0;
      while (ip + len < matchLimit && src[cand + len] === src[ip + len]) len++;
      if (len > bestLen) {
        bestLen = len;
        this.matchPos = cand;
        // long enough: searching on would make runs of repeats quadratic
        if (len >= NICE_MATCH) break;
      }
    }
    return bestLen;
  }

  compress(src: Uint8Array, srcLen: number, dst: Uint8Array, dstCap: number): Lz4Result {
    if (this.chain.length < srcLen) this.chain = new Int32Array(srcLen);
    if (this.gen + srcLen >= 0x7fff_0000) {
      this.head.fill(-1);
      this.gen = 0;
    }
    const gen = this.gen;
    this.gen += srcLen + 1;
    // the fast mode skips ahead faster the longer it finds nothing (LZ4's acceleration), so data that does
    // not compress costs little; the hc mode looks at every position and defers a match by one byte when
    // the next position has a longer one (lazy evaluation)
    const fast = this.depth === 1;
    const lazyDepth = Math.max(1, this.depth >> 3);
    let op = 0;
    let anchor = 0;
    let ip = 0;
    let misses = 0;
    const matchLimit = srcLen - LAST_LITERALS;
    const mfLimit = srcLen - MF_LIMIT;
    const finalReserve = Lz4Compressor.literalCost(MF_LIMIT);
    while (ip <= mfLimit) {
      let bestLen = this.find(src, ip, gen, matchLimit, this.depth);
      if (bestLen < MIN_MATCH) {
        const litLen = ip - anchor + 1;
        // the literals alone fill the output: nothing further can be consumed
        if (op + 1 + litLen + (litLen >= 15 ? ((litLen - 15) / 255 | 0) + 1 : 0) > dstCap) break;
        ip += fast ? 1 + (misses++ >> 6) : 1;
        continue;
      }
      misses = 0;
      let bestPos = this.matchPos;
      let inserted = ip + 1;
      if (!fast) {
        while (bestLen < NICE_MATCH && ip + 1 <= mfLimit) {
          const next = this.find(src, ip + 1, gen, matchLimit, lazyDepth);
          inserted = ip + 2;
          if (next <= bestLen) break;
          ip++;
          bestLen = next;
          bestPos = this.matchPos;
        }
      }
      const litLen = ip - anchor;
      // keep room for a final run of at least MF_LIMIT literals, so the block rules hold wherever it ends;
      // a match too long for the room left is cut to what its length bytes can say (a run of zeros as
      // long as the window would otherwise not fit a block at all, and the block would be stored PLAIN)
      const room = dstCap - op - finalReserve - Lz4Compressor.literalCost(litLen) - 2;
      if (room < 0) break;
      bestLen = Math.min(bestLen, MIN_MATCH + 14 + 255 * room);
      const ml = bestLen - MIN_MATCH;
      op = this.emit(dst, op, src, anchor, litLen, ip - bestPos, ml);
      const end = ip + bestLen;
      // hc: every position of the match goes into the chains; fast: only the one near its end (as LZ4 does)
      for (let p = fast ? Math.max(inserted, end - 2) : inserted; p < end && p <= mfLimit; p++) {
        const hp = Math.imul(src[p]! | (src[p + 1]! << 8) | (src[p + 2]! << 16) | (src[p + 3]! << 24), 2654435761) >>> (32 - HASH_BITS);
        this.chain[p] = this.head[hp]! - gen;
        this.head[hp] = p + gen;
      }
      ip = end;
      anchor = ip;
    }
    // final literals: all that is left, or as many as fit
    let n = Math.min(srcLen - anchor, Math.max(0, dstCap - op - 1));
    while (n > 0 && op + Lz4Compressor.literalCost(n) > dstCap) n--;
    op = this.emit(dst, op, src, anchor, n, 0, -1);
    return { written: op, consumed: anchor + n };
  }

  private emit(dst: Uint8Array, op: number, src: Uint8Array, lit: number, litLen: number, offset: number, ml: number): number {
    const tokenAt = op++;
    let token = (litLen >= 15 ? 15 : litLen) << 4;
    if (litLen >= 15) {
      let r = litLen - 15;
      for (; r >= 255; r -= 255) dst[op++] = 255;
      dst[op++] = r;
    }
    dst.set(src.subarray(lit, lit + litLen), op);
    op += litLen;
    if (ml >= 0) {
      dst[op++] = offset & 0xff;
      dst[op++] = offset >>> 8;
      token |= ml >= 15 ? 15 : ml;
      if (ml >= 15) {
        let r = ml - 15;
        for (; r >= 255; r -= 255) dst[op++] = 255;
        dst[op++] = r;
      }
    }
    dst[tokenAt] = token;
    return op;
  }
}

/** Chain depth per mode: lz4 looks at one candidate, lz4hc at 2^(level-1) (levels 1..12, default 9). */
export function lz4Depth(mode: 'lz4' | 'lz4hc', level?: number): number {
  if (mode === 'lz4') return 1;
  const l = level ?? 9;
  return 2 ** Math.min(11, Math.max(0, l - 1));
}
