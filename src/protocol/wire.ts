// A byte buffer with aligned 32-bit views: every FUSE struct field sits at a 4-byte aligned offset, so
// reads and writes go through Uint32Array/Int32Array indexes (the fastest path in V8) instead of DataView.
// 64-bit fields are read as two words and combined into a Number (exact below 2^53; the request path never
// builds a BigInt).

import { decodeName } from './names.js';

const TWO32 = 4294967296;

/**
 * A u64 from its 32-bit halves, as a Number. Below 2^32 it is the low word itself: `0 * TWO32 + lo` is a
 * double (a HeapNumber), and V8 code compiled for the small integers that inode numbers and uniques are
 * almost always is thrown away the first time a HeapNumber of the same value reaches it ("not a Smi").
 */
export function u64FromWords(hi: number, lo: number): number {
  return hi === 0 ? lo : hi * TWO32 + lo;
}

export class WireBuffer {
  readonly buf: Buffer;
  readonly u32: Uint32Array;
  readonly i32: Int32Array;
  readonly length: number;
  /**
   * The same bytes as a plain Uint8Array: its fill() is V8's builtin, where Buffer's fill() is Node JavaScript
   * (argument checks, then the binding) that a worker had to compile during its first listings.
   */
  private readonly bytes: Uint8Array;

  constructor(memory: ArrayBufferLike | number, byteOffset = 0, length?: number) {
    const ab = typeof memory === 'number' ? new ArrayBuffer(memory) : memory;
    const len = length ?? ab.byteLength - byteOffset;
    if (byteOffset % 8 !== 0) throw new RangeError('WireBuffer must start 8-byte aligned');
    this.length = len;
    this.buf = Buffer.from(ab as ArrayBuffer, byteOffset, len);
    this.u32 = new Uint32Array(ab as ArrayBuffer, byteOffset, len >>> 2);
    this.i32 = new Int32Array(ab as ArrayBuffer, byteOffset, len >>> 2);
    this.bytes = new Uint8Array(ab as ArrayBuffer, byteOffset, len);
  }

  static from(bytes: Uint8Array): WireBuffer {
    const w = new WireBuffer((bytes.length + 7) & ~7);
    w.buf.set(bytes, 0);
    return w;
  }

  getU32(off: number): number {
    return this.u32[off >>> 2];
  }
  getI32(off: number): number {
    return this.i32[off >>> 2];
  }
  getU16(off: number): number {
    const w = this.u32[off >>> 2];
    return (off & 2) === 0 ? w & 0xffff : w >>> 16;
  }
  /** u64 as a Number (exact below 2^53). */
  getU64(off: number): number {
    const i = off >>> 2;
    return u64FromWords(this.u32[i + 1], this.u32[i]);
  }
  /** i64 as a Number (exact within ±2^53). */
  getI64(off: number): number {
    const i = off >>> 2;
    return this.i32[i + 1] * TWO32 + this.u32[i];
  }
  setU32(off: number, v: number): void {
    this.u32[off >>> 2] = v;
  }
  setI32(off: number, v: number): void {
    this.i32[off >>> 2] = v;
  }
  setU16(off: number, v: number): void {
    this.buf.writeUInt16LE(v & 0xffff, off);
  }
  /** Writes a non-negative Number as u64. */
  setU64(off: number, v: number): void {
    const i = off >>> 2;
    if (v < TWO32 && v >= 0) {
      this.u32[i] = v;
      this.u32[i + 1] = 0;
    } else {
      this.u32[i] = v % TWO32;
      this.u32[i + 1] = Math.floor(v / TWO32);
    }
  }
  /** Writes a Number (possibly negative) as i64 two's complement. */
  setI64(off: number, v: number): void {
    const i = off >>> 2;
    const hi = Math.floor(v / TWO32);
    this.u32[i] = v - hi * TWO32;
    this.i32[i + 1] = hi;
  }
  /** Zeroes [off, off+len). */
  zero(off: number, len: number): void {
    this.bytes.fill(0, off, off + len);
  }
  /** Reads a NUL-terminated name (UTF-8; invalid bytes escaped, see names.ts) starting at off, not beyond end. Returns the string; sets lastEnd. */
  cstring(off: number, end: number): string {
    let i = this.buf.indexOf(0, off);
    if (i < 0 || i > end) i = end;
    this.lastEnd = i + 1;
    return decodeName(this.buf, off, i);
  }
  /** Offset just past the NUL of the last cstring() read. */
  lastEnd = 0;
}
