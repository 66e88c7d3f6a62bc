// zstd for every format that needs it (EROFS pclusters, PuzzleFS seekable-zstd chunks): one module, so the
// choice of codec is made once. Node 20's zlib has no zstd; @bokuweb/zstd-wasm is the reference libzstd built
// to WebAssembly (no native addon to build), with both directions.
//
// Bounds: a decode never allocates more than the caller's `maxOutput` (a corrupt frame header cannot ask for
// gigabytes) and a malformed stream throws ZstdError, which callers map to EIO.

import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';

interface ZstdWasm {
  init(): Promise<void>;
  compress(buf: Uint8Array, level?: number): Uint8Array;
}
interface EmscriptenModule {
  _malloc(n: number): number;
  _free(p: number): void;
  _ZSTD_decompress(dst: number, dstCap: number, src: number, srcSize: number): number;
  _ZSTD_isError(code: number): number;
  HEAPU8: Uint8Array;
}

const require = createRequire(import.meta.url);
const wasm = require('@bokuweb/zstd-wasm') as ZstdWasm;

export class ZstdError extends Error {}

let module: EmscriptenModule | undefined;
/** Resolves once the WebAssembly module is instantiated; every other function needs it first. */
export const zstdReady: Promise<void> = wasm.init().then(() => {
  // The package exports only its simple API; the raw module (for bounded decodes) sits beside its entry point.
  module = (require(join(dirname(require.resolve('@bokuweb/zstd-wasm')), 'module.js')) as { Module: EmscriptenModule }).Module;
});

function mod(): EmscriptenModule {
  if (!module) throw new ZstdError('zstd used before zstdReady resolved');
  return module;
}

/** Compresses `src` into one zstd frame (content size recorded) at `level` (1..19, default 3). */
export function zstdCompress(src: Uint8Array, level = 3): Uint8Array {
  mod();
  return wasm.compress(src, level);
}

/**
 * Decodes the zstd frame(s) in `src` into at most `maxOutput` bytes and returns them (a fresh array).
 * Throws ZstdError when the stream is malformed or would decode to more than `maxOutput`.
 */
export function zstdDecompress(src: Uint8Array, maxOutput: number): Uint8Array {
  const m = mod();
  const srcPtr = m._malloc(src.length || 1);
  const dstPtr = m._malloc(maxOutput || 1);
  try {
    if (!srcPtr || !dstPtr) throw new ZstdError(`zstd: cannot allocate ${src.length} + ${maxOutput} bytes`);
    m.HEAPU8.set(src, srcPtr);
    const n = m._ZSTD_decompress(dstPtr, maxOutput, srcPtr, src.length);
    if (m._ZSTD_isError(n)) throw new ZstdError(`zstd: malformed stream (code ${n >>> 0})`);
    return m.HEAPU8.slice(dstPtr, dstPtr + n);
  } finally {
    if (dstPtr) m._free(dstPtr);
    if (srcPtr) m._free(srcPtr);
  }
}

const ZSTD_MAGIC = 0xfd2fb528;

/**
 * The decoded size a zstd frame header declares (Frame_Content_Size, RFC 8878 3.1.1.1), or undefined when
 * the frame leaves it out. Throws ZstdError when `src` does not start with a complete frame header.
 */
export function zstdFrameContentSize(src: Uint8Array): number | undefined {
  if (src.length < 5) throw new ZstdError('zstd: input shorter than a frame header');
  const magic = (src[0]! | (src[1]! << 8) | (src[2]! << 16) | (src[3]! << 24)) >>> 0;
  if (magic !== ZSTD_MAGIC) throw new ZstdError(`zstd: bad frame magic 0x${magic.toString(16)}`);
  const fhd = src[4]!;
  const fcsFlag = fhd >>> 6;
  const singleSegment = (fhd >>> 5) & 1;
  const dictIdBytes = [0, 1, 2, 4][fhd & 3]!;
  const fcsBytes = fcsFlag === 0 ? singleSegment : 1 << fcsFlag;
  if (fcsBytes === 0) return undefined;
  const at = 5 + (singleSegment ? 0 : 1) + dictIdBytes;
  if (at + fcsBytes > src.length) throw new ZstdError('zstd: frame header truncated');
  let v = 0;
  for (let i = fcsBytes - 1; i >= 0; i--) v = v * 256 + src[at + i]!;
  return fcsBytes === 2 ? v + 256 : v;
}

