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
  _ZSTD_createCCtx(): number;
  _ZSTD_freeCCtx(cctx: number): number;
  _ZSTD_compressBound(n: number): number;
  _ZSTD_compress_usingDict(cctx: number, dst: number, dstCap: number, src: number, srcSize: number, dict: number, dictSize: number, level: number): number;
  HEAPU8: Uint8Array;
}

const require = createRequire(import.meta.url);

export class ZstdError extends Error {}

let wasm: ZstdWasm | undefined;
let module: EmscriptenModule | undefined;
let loading: Promise<void> | undefined;

function load(): Promise<void> {
  loading ??= (async () => {
    const w = require('@bokuweb/zstd-wasm') as ZstdWasm;
    await w.init();
    // The package exports only its simple API; the raw module (for bounded decodes) sits beside its entry point.
    module = (require(join(dirname(require.resolve('@bokuweb/zstd-wasm')), 'module.js')) as { Module: EmscriptenModule }).Module;
    wasm = w;
  })();
  return loading;
}

/**
 * Resolves once the WebAssembly module is instantiated; every other function needs it first. The package is
 * loaded and instantiated on the first `await` (or then), not when this module is imported: every worker and
 * the CLI import it through the EROFS reader, and most images have no zstd (10-18 ms a thread here).
 */
export const zstdReady: PromiseLike<void> = { then: (onReady, onError) => load().then(onReady, onError) };

function mod(): EmscriptenModule {
  if (!module) throw new ZstdError('zstd used before zstdReady resolved');
  return module;
}

/** Compresses `src` into one zstd frame (content size recorded) at `level` (1..19, default 3). */
export function zstdCompress(src: Uint8Array, level = 3): Uint8Array {
  mod();
  return wasm!.compress(src, level);
}

/**
 * A compression context kept for many small frames (EROFS pclusters, compressed again and again while the
 * writer searches for the input that fits): one zstd CCtx and its input/output buffers in the WebAssembly
 * heap, grown as needed, instead of zstdCompress' fresh context and copies per call (about 2.4x faster on
 * 13 KB inputs). Each frame is the same as zstdCompress' (content size recorded, window fitted to the input).
 */
export class ZstdCompressor {
  private readonly m = mod();
  private cctx = 0;
  private src = 0;
  private srcCap = 0;
  private dst = 0;
  private dstCap = 0;

  constructor(readonly level = 3) {}

  /** The frame of `src`: a view into the WebAssembly heap, valid until the next call (copy what you keep). */
  compress(src: Uint8Array): Uint8Array {
    const m = this.m;
    if (!this.cctx) this.cctx = m._ZSTD_createCCtx();
    if (src.length > this.srcCap) {
      m._free(this.src);
      m._free(this.dst);
      this.srcCap = Math.max(src.length, 1 << 16);
      this.dstCap = m._ZSTD_compressBound(this.srcCap);
      this.src = m._malloc(this.srcCap);
      this.dst = m._malloc(this.dstCap);
    }
    if (!this.cctx || !this.src || !this.dst) throw new ZstdError(`zstd: cannot allocate a context for ${src.length} bytes`);
    m.HEAPU8.set(src, this.src);
    const n = m._ZSTD_compress_usingDict(this.cctx, this.dst, this.dstCap, this.src, src.length, 0, 0, this.level);
    if (m._ZSTD_isError(n)) throw new ZstdError(`zstd: compression failed (code ${n >>> 0})`);
    return m.HEAPU8.subarray(this.dst, this.dst + n);
  }

  /** Frees the context and buffers (the object can be used again: they are made anew). */
  close(): void {
    if (this.cctx) this.m._ZSTD_freeCCtx(this.cctx);
    this.m._free(this.src);
    this.m._free(this.dst);
    this.cctx = this.src = this.dst = this.srcCap = this.dstCap = 0;
  }
}

/**
 * Decodes the zstd frame(s) in `src` into at most `maxOutput` bytes and returns them (a fresh array).
 * Throws ZstdError when the stream is malformed or would decode to more than `maxOutput`.
 */
export function zstdDecompress(src: Uint8Array, maxOutput: number): Uint8Array {
  return decodeInHeap(src, maxOutput, undefined, 0, 0) as Uint8Array;
}

/**
 * zstdDecompress, but the first min(`want`, decoded) bytes are copied to dst[at...] instead of into a new
 * array (an EROFS READ decodes into its reply). Returns how many bytes the frames decoded to.
 */
export function zstdDecompressInto(src: Uint8Array, maxOutput: number, dst: Uint8Array, at: number, want: number): number {
  return decodeInHeap(src, maxOutput, dst, at, want) as number;
}

/** Decodes `src` in the WebAssembly heap; the output is copied to dst (returns its length) or to a new array. */
function decodeInHeap(src: Uint8Array, maxOutput: number, dst: Uint8Array | undefined, at: number, want: number): Uint8Array | number {
  const m = mod();
  const srcPtr = m._malloc(src.length || 1);
  const dstPtr = m._malloc(maxOutput || 1);
  try {
    if (!srcPtr || !dstPtr) throw new ZstdError(`zstd: cannot allocate ${src.length} + ${maxOutput} bytes`);
    m.HEAPU8.set(src, srcPtr);
    const n = m._ZSTD_decompress(dstPtr, maxOutput, srcPtr, src.length);
    if (m._ZSTD_isError(n)) throw new ZstdError(`zstd: malformed stream (code ${n >>> 0})`);
    if (!dst) return m.HEAPU8.slice(dstPtr, dstPtr + n);
    dst.set(m.HEAPU8.subarray(dstPtr, dstPtr + Math.min(n, want)), at);
    return n;
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

