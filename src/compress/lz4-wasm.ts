// LZ4 block decompression through the WebAssembly decoder in lz4.wat (see there for why and for the rules).
// One instance per thread (each worker imports this module once); calls are synchronous and never overlap.
// Memory layout per call: the input at 0, SLACK bytes, the output, SLACK bytes; the memory grows to the largest
// call seen and stays there (bounded by the callers' limits: 1 MiB of input, 12 MiB of output for EROFS).

import { LZ4_WASM_BASE64 } from './lz4-wasm-module.js';

const SLACK = 32;
const PAGE = 65536;
/** Inputs above this go to the JavaScript decoder (lengths in the decoder then cannot wrap; see lz4.wat). */
export const LZ4_WASM_MAX_INPUT = 8 << 20;

const MESSAGES: Record<number, string> = {
  [-1]: 'lz4: input ends before a sequence',
  [-2]: 'lz4: input ends inside a literal length',
  [-3]: 'lz4: literals run past the input',
  [-4]: 'lz4: literals run past the output',
  [-5]: 'lz4: input ends inside a match offset',
  [-6]: 'lz4: match offset points before the output start',
  [-7]: 'lz4: input ends inside a match length',
  [-8]: 'lz4: match runs past the output',
  [-9]: 'lz4: stream ends before the output is filled',
};

/** What a negative result of lz4DecodeWasm means. */
export function lz4WasmError(code: number): string {
  return MESSAGES[code] ?? `lz4: decoder error ${code}`;
}

type Decode = (ip: number, iend: number, op: number, olen: number, partial: number) => number;
// The compiler's lib settings (ES2022, no DOM) do not declare WebAssembly: the little used here.
interface WasmMemory { readonly buffer: ArrayBuffer; grow(pages: number): number }
declare const WebAssembly: {
  Module: new (bytes: Uint8Array) => object;
  Instance: new (module: object, imports: object) => { exports: Record<string, unknown> };
};

let decode: Decode | undefined;
let memory: WasmMemory | undefined;
let bytes = new Uint8Array(0);

function instantiate(): boolean {
  if (memory) return true;
  if (typeof WebAssembly !== 'object') return false;
  const mod = new WebAssembly.Module(Buffer.from(LZ4_WASM_BASE64, 'base64'));
  const inst = new WebAssembly.Instance(mod, {});
  memory = inst.exports.memory as WasmMemory;
  decode = inst.exports.decode as Decode;
  bytes = new Uint8Array(memory.buffer);
  return true;
}

/** Whether the WebAssembly decoder can run here (it is compiled on first use, synchronously: 656 bytes). */
export function lz4WasmAvailable(): boolean {
  try {
    return instantiate();
  } catch {
    return false;
  }
}

/**
 * Decodes src[srcStart, srcEnd) into dst[0, dstLen) (partial: stop once dstLen bytes exist). Returns the bytes
 * written, or a negative code for lz4WasmError. The caller checks the ranges and the input limit.
 */
export function lz4DecodeWasm(src: Uint8Array, srcStart: number, srcEnd: number, dst: Uint8Array, dstLen: number, partial: boolean): number {
  const n = srcEnd - srcStart;
  const outAt = (n + SLACK + 7) & ~7;
  const need = outAt + dstLen + SLACK;
  if (need > bytes.length) {
    memory!.grow(Math.ceil((need - bytes.length) / PAGE));
    bytes = new Uint8Array(memory!.buffer);
  }
  bytes.set(src.subarray(srcStart, srcEnd), 0);
  const got = decode!(0, n, outAt, dstLen, partial ? 1 : 0);
  if (got > 0) dst.set(bytes.subarray(outAt, outAt + got), 0);
  return got;
}
