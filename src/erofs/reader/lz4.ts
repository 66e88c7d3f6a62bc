// LZ4 block-format decompression (no frame), as EROFS stores each physical cluster. Two modes mirror the
// kernel's use of liblz4: full (LZ4_decompress_safe: the input must end exactly after the last literals and
// fill the output exactly) and partial (LZ4_decompress_safe_partial: stop once `dstLen` bytes exist).
// Every read of the input and every write/back-reference of the output is bounds-checked; a malformed stream
// throws CorruptImageError, it never reads or writes outside the given ranges.
// The WebAssembly decoder (src/compress/lz4.wat) does the work where it can run; this JavaScript one is the
// fallback, and the reference the tests hold the WebAssembly one to.

import { LZ4_WASM_MAX_INPUT, lz4DecodeWasm, lz4WasmAvailable, lz4WasmError } from '../../compress/lz4-wasm.js';
import { corrupt } from './errors.js';

const useWasm = lz4WasmAvailable();

/**
 * Decodes src[srcStart, srcEnd) into dst[0, dstLen) and returns the bytes written (partial: stop once dstLen
 * bytes exist; full: the stream must fill dstLen exactly). Ranges outside the arrays throw RangeError.
 */
export type Lz4BlockDecoder = (src: Uint8Array, srcStart: number, srcEnd: number, dst: Uint8Array, dstLen: number, partial: boolean) => number;

function checkRanges(src: Uint8Array, srcStart: number, srcEnd: number, dst: Uint8Array, dstLen: number): void {
  if (srcStart < 0 || srcEnd > src.length || srcStart > srcEnd || dstLen > dst.length) {
    throw new RangeError('lz4: bad buffer ranges');
  }
}

/** The decoder the reader uses: WebAssembly, or JavaScript where WebAssembly cannot run or the input is huge. */
export const lz4DecompressBlock: Lz4BlockDecoder = (src, srcStart, srcEnd, dst, dstLen, partial) => {
  checkRanges(src, srcStart, srcEnd, dst, dstLen);
  if (!useWasm || srcEnd - srcStart > LZ4_WASM_MAX_INPUT) return decodeJs(src, srcStart, srcEnd, dst, dstLen, partial);
  const got = lz4DecodeWasm(src, srcStart, srcEnd, dst, dstLen, partial);
  if (got < 0) corrupt(lz4WasmError(got));
  return got;
};

/** The JavaScript decoder alone (the fallback, and the tests' reference). */
export const lz4DecompressBlockJs: Lz4BlockDecoder = (src, srcStart, srcEnd, dst, dstLen, partial) => {
  checkRanges(src, srcStart, srcEnd, dst, dstLen);
  return decodeJs(src, srcStart, srcEnd, dst, dstLen, partial);
};

function decodeJs(src: Uint8Array, srcStart: number, srcEnd: number, dst: Uint8Array, dstLen: number, partial: boolean): number {
  let ip = srcStart;
  let op = 0;
  if (dstLen === 0) return 0;
  for (;;) {
    if (ip >= srcEnd) corrupt('lz4: input ends before a sequence');
    const token = src[ip++]!;
    let litLen = token >>> 4;
    if (litLen === 15) {
      let b: number;
      do {
        if (ip >= srcEnd) corrupt('lz4: input ends inside a literal length');
        b = src[ip++]!;
        litLen += b;
      } while (b === 255);
    }
    if (litLen > srcEnd - ip) corrupt('lz4: literals run past the input');
    if (litLen > dstLen - op) {
      if (!partial) corrupt('lz4: literals run past the output');
      copyBytes(src, ip, dst, op, dstLen - op);
      return dstLen;
    }
    copyBytes(src, ip, dst, op, litLen);
    ip += litLen;
    op += litLen;
    if (ip === srcEnd) break; // the last sequence has literals only
    if (partial && op === dstLen) return dstLen;

    if (srcEnd - ip < 2) corrupt('lz4: input ends inside a match offset');
    const offset = src[ip]! | (src[ip + 1]! << 8);
    ip += 2;
    if (offset === 0 || offset > op) corrupt(`lz4: match offset ${offset} points before the output start`);
    let matchLen = token & 15;
    if (matchLen === 15) {
      let b: number;
      do {
        if (ip >= srcEnd) corrupt('lz4: input ends inside a match length');
        b = src[ip++]!;
        matchLen += b;
      } while (b === 255);
    }
    matchLen += 4;
    if (matchLen > dstLen - op) {
      if (!partial) corrupt('lz4: match runs past the output');
      matchLen = dstLen - op;
    }
    let from = op - offset;
    if (matchLen < 32) {
      // Short matches (the common case): a byte loop beats a native call, and handles overlap for free.
      const stop = op + matchLen;
      while (op < stop) dst[op++] = dst[from++]!;
    } else if (offset >= matchLen) {
      dst.copyWithin(op, from, from + matchLen);
      op += matchLen;
    } else {
      // Long overlapping match: the last `offset` bytes repeat. Copy what already exists, which doubles the
      // available pattern each round, so a 64 KiB run of one byte takes 17 native copies, not 64 Ki steps.
      let done = 0;
      while (done < matchLen) {
        const n = Math.min(matchLen - done, offset + done);
        dst.copyWithin(op + done, from, from + n);
        done += n;
      }
      op += matchLen;
    }
    if (partial && op === dstLen) return dstLen;
  }
  if (!partial && op !== dstLen) corrupt(`lz4: decoded ${op} bytes, expected ${dstLen}`);
  return op;
}

function copyBytes(src: Uint8Array, from: number, dst: Uint8Array, to: number, n: number): void {
  if (n < 32) {
    for (let i = 0; i < n; i++) dst[to + i] = src[from + i]!;
  } else {
    dst.set(src.subarray(from, from + n), to);
  }
}
