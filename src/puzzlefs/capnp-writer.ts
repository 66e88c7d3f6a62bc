// A Cap'n Proto writer for one single-segment message in the standard stream framing: structs, composite
// lists of structs, and Data. Objects are laid out in the order they are initialised, so the same calls give
// the same bytes (images are reproducible).

import { ELEM } from './capnp.js';

export class CapnpBuilder {
  private buf = new Uint8Array(1 << 16);
  private view = new DataView(this.buf.buffer);
  /** Words used so far. */
  private words = 0;

  /** Allocates `n` zeroed words; returns the byte offset of the first. */
  alloc(n: number): number {
    const at = this.words * 8;
    const need = at + n * 8;
    if (need > this.buf.length) {
      let size = this.buf.length * 2;
      while (size < need) size *= 2;
      const next = new Uint8Array(size);
      next.set(this.buf.subarray(0, at));
      this.buf = next;
      this.view = new DataView(next.buffer);
    }
    this.words += n;
    return at;
  }

  initRoot(dataWords: number, ptrWords: number): StructBuilder {
    const ptr = this.alloc(1);
    return this.structAtPointer(ptr, dataWords, ptrWords);
  }

  /** Allocates a struct and writes the pointer at byte `ptr` to it. */
  structAtPointer(ptr: number, dataWords: number, ptrWords: number): StructBuilder {
    const at = this.alloc(dataWords + ptrWords);
    this.writePointer(ptr, at, 0, dataWords | (ptrWords << 16));
    return new StructBuilder(this, at, dataWords, ptrWords);
  }

  /** Allocates a composite list of `count` structs; returns element builders. */
  structListAtPointer(ptr: number, count: number, dataWords: number, ptrWords: number): StructBuilder[] {
    const stride = dataWords + ptrWords;
    const tag = this.alloc(1 + count * stride);
    this.writePointer(ptr, tag, 1, ELEM.COMPOSITE | ((count * stride) << 3));
    this.view.setUint32(tag, count << 2, true);
    this.view.setUint32(tag + 4, dataWords | (ptrWords << 16), true);
    const out: StructBuilder[] = [];
    for (let i = 0; i < count; i++) out.push(new StructBuilder(this, tag + 8 + i * stride * 8, dataWords, ptrWords));
    return out;
  }

  dataAtPointer(ptr: number, bytes: Uint8Array): void {
    const at = this.alloc(Math.ceil(bytes.length / 8));
    this.buf.set(bytes, at);
    this.writePointer(ptr, at, 1, ELEM.BYTE | (bytes.length << 3));
  }

  /** A struct or list pointer at byte `ptr` to content at byte `target` (same segment). */
  private writePointer(ptr: number, target: number, kind: 0 | 1, hi: number): void {
    const offset = (target - ptr - 8) / 8;
    this.view.setUint32(ptr, ((offset << 2) | kind) >>> 0, true);
    this.view.setUint32(ptr + 4, hi >>> 0, true);
  }

  setU16(at: number, v: number): void {
    this.view.setUint16(at, v, true);
  }
  setU32(at: number, v: number): void {
    this.view.setUint32(at, v >>> 0, true);
  }
  setU64(at: number, v: number): void {
    this.view.setUint32(at, v % 0x1_0000_0000, true);
    this.view.setUint32(at + 4, Math.floor(v / 0x1_0000_0000), true);
  }
  setBit(at: number, bit: number): void {
    this.buf[at + (bit >> 3)]! |= 1 << (bit & 7);
  }

  /** The framed message: segment count - 1 (0), the segment's size in words, padding, the segment. */
  toBytes(): Uint8Array {
    const out = new Uint8Array(8 + this.words * 8);
    const v = new DataView(out.buffer);
    v.setUint32(0, 0, true);
    v.setUint32(4, this.words, true);
    out.set(this.buf.subarray(0, this.words * 8), 8);
    return out;
  }
}

export class StructBuilder {
  constructor(
    private readonly b: CapnpBuilder,
    /** Byte offset of the data section. */
    private readonly at: number,
    private readonly dataWords: number,
    private readonly ptrWords: number,
  ) {}

  u16(byteOff: number, v: number): this {
    this.b.setU16(this.at + byteOff, v);
    return this;
  }
  u32(byteOff: number, v: number): this {
    this.b.setU32(this.at + byteOff, v);
    return this;
  }
  u64(byteOff: number, v: number): this {
    this.b.setU64(this.at + byteOff, v);
    return this;
  }
  bool(bit: number, v: boolean): this {
    if (v) this.b.setBit(this.at, bit);
    return this;
  }
  private ptr(i: number): number {
    if (i >= this.ptrWords) throw new RangeError(`pointer ${i} of a struct with ${this.ptrWords}`);
    return this.at + this.dataWords * 8 + i * 8;
  }
  struct(i: number, dataWords: number, ptrWords: number): StructBuilder {
    return this.b.structAtPointer(this.ptr(i), dataWords, ptrWords);
  }
  structList(i: number, count: number, dataWords: number, ptrWords: number): StructBuilder[] {
    return this.b.structListAtPointer(this.ptr(i), count, dataWords, ptrWords);
  }
  data(i: number, bytes: Uint8Array): this {
    this.b.dataAtPointer(this.ptr(i), bytes);
    return this;
  }
}
