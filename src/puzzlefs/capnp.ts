// A Cap'n Proto reader for one message in the standard stream framing (capnp/encoding.html): segment table,
// struct/list/far pointers, fields read in place from the buffer. Written for the PuzzleFS schema (no
// capabilities, no packing), so it is small: no generated code, no objects per field access.
//
// Safety: every pointer is bounds-checked against its segment before anything is read; a message that points
// outside itself, uses a wrong list encoding, or asks for more words than the traversal budget is
// CorruptPuzzleError (EIO). The schema has a fixed depth, so nothing here recurses; far pointers resolve in at
// most two hops (a double-far landing pad may not point to another far pointer), so no loop is possible.
// The budget counts the words of every struct and list a decode touches, like capnp's traversalLimitInWords:
// a message whose pointers alias one big list cannot make one decode do unbounded work.

import { corrupt } from './errors.js';

const MAX_SEGMENTS = 512;
/** Default traversal budget per decode, in words (capnp's default: 8 Mi words = 64 MiB). */
export const DEFAULT_TRAVERSAL_WORDS = 8 * 1024 * 1024;

/** List element sizes (the 3-bit field of a list pointer). */
export const ELEM = { VOID: 0, BIT: 1, BYTE: 2, TWO: 3, FOUR: 4, EIGHT: 5, POINTER: 6, COMPOSITE: 7 } as const;

const TWO32 = 0x1_0000_0000;

export class CapnpMessage {
  readonly buf: Uint8Array;
  private readonly view: DataView;
  /** Byte offset of each segment's first word, and of the word after its last. */
  private readonly segStart: number[] = [];
  private readonly segEnd: number[] = [];
  private budget = DEFAULT_TRAVERSAL_WORDS;

  constructor(buf: Uint8Array) {
    this.buf = buf;
    this.view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
    if (buf.length < 8) corrupt(`capnp message of ${buf.length} bytes (truncated)`);
    const count = this.view.getUint32(0, true) + 1;
    if (count > MAX_SEGMENTS) corrupt(`capnp message claims ${count} segments`);
    const header = (4 * (1 + count) + 7) & ~7;
    if (header > buf.length) corrupt('capnp segment table truncated');
    let pos = header;
    for (let i = 0; i < count; i++) {
      const words = this.view.getUint32(4 + 4 * i, true);
      this.segStart.push(pos);
      pos += words * 8;
      if (pos > buf.length) corrupt(`capnp segment ${i} ends at ${pos}, message has ${buf.length} bytes (truncated)`);
      this.segEnd.push(pos);
    }
    if (pos !== buf.length) corrupt(`capnp message has ${buf.length - pos} bytes after its last segment`);
    if (this.segEnd[0] - this.segStart[0] < 8) corrupt('capnp message has no root pointer');
  }

  /** Starts a new decode with a fresh traversal budget (one per top-level object read). */
  resetBudget(words = DEFAULT_TRAVERSAL_WORDS): void {
    this.budget = words;
  }

  private spend(words: number): void {
    this.budget -= words;
    if (this.budget < 0) corrupt('capnp traversal limit exceeded (pointers alias or the message is too big)');
  }

  u8(off: number): number {
    return this.buf[off]!;
  }
  u16(off: number): number {
    return this.view.getUint16(off, true);
  }
  u32(off: number): number {
    return this.view.getUint32(off, true);
  }
  /** A UInt64 that must fit a JS number (inode numbers, sizes, offsets). */
  u64(off: number, what: string): number {
    const hi = this.view.getUint32(off + 4, true);
    if (hi > 0x1fffff) corrupt(`${what} exceeds 2^53`);
    return hi * TWO32 + this.view.getUint32(off, true);
  }

  root(): CapStruct {
    this.resetBudget();
    const s = this.structAt(0, this.segStart[0], 'root');
    if (!s) corrupt('capnp root pointer is null');
    return s;
  }

  /**
   * Follows the pointer at byte `at` (in segment `seg`) to where its content starts. Returns the segment, the
   * content's byte offset and the pointer word that describes it (the tag for a double-far), or null for a
   * null pointer.
   */
  private resolve(seg: number, at: number, what: string): { seg: number; pos: number; lo: number; hi: number } | null {
    let lo = this.view.getUint32(at, true);
    let hi = this.view.getUint32(at + 4, true);
    if (lo === 0 && hi === 0) return null;
    const kind = lo & 3;
    if (kind === 3) corrupt(`${what}: capability pointer in a PuzzleFS message`);
    if (kind !== 2) {
      const pos = at + 8 + (lo >> 2) * 8; // signed word offset from the end of the pointer
      return { seg, pos, lo, hi };
    }
    // far pointer: the landing pad sits at word (lo >>> 3) of segment hi
    const double = (lo & 4) !== 0;
    const padSeg = hi;
    if (padSeg >= this.segStart.length) corrupt(`${what}: far pointer to segment ${padSeg} of ${this.segStart.length}`);
    const pad = this.segStart[padSeg] + (lo >>> 3) * 8;
    if (pad + (double ? 16 : 8) > this.segEnd[padSeg]) corrupt(`${what}: far pointer landing pad outside its segment`);
    if (!double) {
      lo = this.view.getUint32(pad, true);
      hi = this.view.getUint32(pad + 4, true);
      const k = lo & 3;
      if (k === 2 || k === 3) corrupt(`${what}: single-far landing pad is not a struct or list pointer`);
      if (lo === 0 && hi === 0) return null;
      return { seg: padSeg, pos: pad + 8 + (lo >> 2) * 8, lo, hi };
    }
    const farLo = this.view.getUint32(pad, true);
    const farSeg = this.view.getUint32(pad + 4, true);
    if ((farLo & 7) !== 2) corrupt(`${what}: double-far landing pad does not start with a single far pointer`);
    if (farSeg >= this.segStart.length) corrupt(`${what}: double-far to segment ${farSeg} of ${this.segStart.length}`);
    lo = this.view.getUint32(pad + 8, true);
    hi = this.view.getUint32(pad + 12, true);
    const k = lo & 3;
    if (k === 2 || k === 3 || lo >> 2 !== 0) corrupt(`${what}: double-far tag is not a struct or list pointer with offset 0`);
    return { seg: farSeg, pos: this.segStart[farSeg] + (farLo >>> 3) * 8, lo, hi };
  }

  private checkRange(seg: number, pos: number, words: number, what: string): void {
    if (pos < this.segStart[seg] || pos + words * 8 > this.segEnd[seg]) corrupt(`${what}: pointer outside its segment`);
    this.spend(words);
  }

  /** The struct the pointer at byte `at` points to (null pointer: null). */
  structAt(seg: number, at: number, what: string): CapStruct | null {
    const r = this.resolve(seg, at, what);
    if (!r) return null;
    if ((r.lo & 3) !== 0) corrupt(`${what}: expected a struct pointer`);
    const dataWords = r.hi & 0xffff;
    const ptrWords = r.hi >>> 16;
    this.checkRange(r.seg, r.pos, dataWords + ptrWords, what);
    return new CapStruct(this, r.seg, r.pos, dataWords * 8, ptrWords);
  }

  /** A list of structs (always composite in a well-formed message). */
  structListAt(seg: number, at: number, what: string): CapStructList | null {
    const r = this.resolve(seg, at, what);
    if (!r) return null;
    if ((r.lo & 3) !== 1) corrupt(`${what}: expected a list pointer`);
    const elem = r.hi & 7;
    if (elem !== ELEM.COMPOSITE) corrupt(`${what}: expected a list of structs (element size ${elem})`);
    const words = r.hi >>> 3;
    this.checkRange(r.seg, r.pos, words + 1, what);
    const tagLo = this.view.getUint32(r.pos, true);
    const tagHi = this.view.getUint32(r.pos + 4, true);
    if ((tagLo & 3) !== 0) corrupt(`${what}: composite list tag is not a struct word`);
    const count = tagLo >>> 2;
    const dataWords = tagHi & 0xffff;
    const ptrWords = tagHi >>> 16;
    const stride = dataWords + ptrWords;
    if (count * stride > words) corrupt(`${what}: ${count} elements of ${stride} words do not fit a list of ${words} words`);
    // A list of zero-sized structs costs nothing to store but each element still costs a visit.
    if (stride === 0) this.spend(count);
    return new CapStructList(this, r.seg, r.pos + 8, count, dataWords * 8, ptrWords);
  }

  /** A Data (List(UInt8)) field as a view into the message; null pointer: null. */
  dataAt(seg: number, at: number, what: string): Uint8Array | null {
    const r = this.resolve(seg, at, what);
    if (!r) return null;
    if ((r.lo & 3) !== 1) corrupt(`${what}: expected a list pointer`);
    if ((r.hi & 7) !== ELEM.BYTE) corrupt(`${what}: expected a list of bytes (element size ${r.hi & 7})`);
    const n = r.hi >>> 3;
    this.checkRange(r.seg, r.pos, Math.ceil(n / 8), what);
    return this.buf.subarray(r.pos, r.pos + n);
  }
}

/** A struct in place: data section [data, data + dataBytes), then ptrCount pointers. */
export class CapStruct {
  constructor(
    readonly msg: CapnpMessage,
    readonly seg: number,
    readonly data: number,
    readonly dataBytes: number,
    readonly ptrCount: number,
  ) {}

  // Fields past the end of a (shorter, older) struct read as their default, zero.
  u16(byteOff: number): number {
    return byteOff + 2 <= this.dataBytes ? this.msg.u16(this.data + byteOff) : 0;
  }
  u32(byteOff: number): number {
    return byteOff + 4 <= this.dataBytes ? this.msg.u32(this.data + byteOff) : 0;
  }
  u64(byteOff: number, what: string): number {
    return byteOff + 8 <= this.dataBytes ? this.msg.u64(this.data + byteOff, what) : 0;
  }
  bool(bit: number): boolean {
    const byte = bit >> 3;
    return byte < this.dataBytes ? (this.msg.u8(this.data + byte) & (1 << (bit & 7))) !== 0 : false;
  }
  private ptr(i: number): number {
    return this.data + this.dataBytes + i * 8;
  }
  struct(i: number, what: string): CapStruct | null {
    return i < this.ptrCount ? this.msg.structAt(this.seg, this.ptr(i), what) : null;
  }
  structList(i: number, what: string): CapStructList | null {
    return i < this.ptrCount ? this.msg.structListAt(this.seg, this.ptr(i), what) : null;
  }
  bytes(i: number, what: string): Uint8Array | null {
    return i < this.ptrCount ? this.msg.dataAt(this.seg, this.ptr(i), what) : null;
  }
}

export class CapStructList {
  private readonly stride: number;
  constructor(
    readonly msg: CapnpMessage,
    readonly seg: number,
    /** Byte offset of the first element (after the tag word). */
    readonly first: number,
    readonly length: number,
    readonly dataBytes: number,
    readonly ptrCount: number,
  ) {
    this.stride = dataBytes + ptrCount * 8;
  }

  /** Byte offset of element i's data section (for reading one field without making a CapStruct). */
  offsetOf(i: number): number {
    return this.first + i * this.stride;
  }

  get(i: number): CapStruct {
    if (!(i >= 0 && i < this.length)) throw new RangeError(`list index ${i} of ${this.length}`);
    return new CapStruct(this.msg, this.seg, this.first + i * this.stride, this.dataBytes, this.ptrCount);
  }
}
