// READDIR and READDIRPLUS reply writers: records are 8-byte aligned (FUSE_DIRENT_ALIGN), and `add` reports
// false, writing nothing, when the next record would not fit in the size the kernel asked for.

import { LAYOUT as L } from './abi.js';
import { encodeEntryOut, type CacheDefaults } from './replies.js';
import type { DirentPlusSink, DirentSink, Entry } from './types.js';
import type { WireBuffer } from './wire.js';
import { encodeName, hasEscapedBytes, nameByteLength } from './names.js';

const DIRENT = L.fuse_dirent.size; // 24
const ENTRY_OUT = L.fuse_entry_out.size; // 128

/** Names up to this long are copied byte by byte: cheaper than TypedArray#set's call for a short run. */
const SHORT_NAME = 32;

/**
 * A short ASCII name's bytes are its char codes: a loop over them is cheaper than the escape regex,
 * Buffer.byteLength and Buffer#write that any other name takes (a listing of short names is mostly these).
 */
function isShortAscii(name: string): boolean {
  if (name.length > SHORT_NAME) return false;
  for (let k = 0; k < name.length; k++) if (name.charCodeAt(k) >= 0x80) return false;
  return true;
}

function nameLength(name: string | Uint8Array): number {
  if (typeof name !== 'string') return name.length;
  return isShortAscii(name) ? name.length : nameByteLength(name);
}

function writeName(w: WireBuffer, off: number, name: string, len: number): void {
  const buf = w.buf;
  if (len === name.length && len <= SHORT_NAME) {
    let k = 0;
    for (; k < len; k++) {
      const c = name.charCodeAt(k);
      if (c >= 0x80) break;
      buf[off + k] = c;
    }
    if (k === len) return;
  }
  if (hasEscapedBytes(name)) buf.set(encodeName(name), off);
  else buf.write(name, off, len, 'utf8');
}

function copyName(dst: Uint8Array, off: number, src: Uint8Array, start: number, len: number): void {
  if (len > SHORT_NAME) dst.set(src.subarray(start, start + len), off);
  else for (let k = 0; k < len; k++) dst[off + k] = src[start + k]!;
}

/** The dirent header at p and the padding after its name (the name itself is the caller's). */
function writeDirentHead(w: WireBuffer, p: number, ino: number, namelen: number, mode: number, next: number, recLen: number): void {
  w.setU64(p, ino);
  w.setU64(p + 8, next);
  w.setU32(p + 16, namelen);
  w.setU32(p + 20, (mode >>> 12) & 0xf);
  // zero the alignment padding so no stale bytes reach the kernel
  for (let k = p + DIRENT + namelen; k < p + recLen; k++) w.buf[k] = 0;
}


abstract class DirentWriterBase {
  protected w!: WireBuffer;
  protected start = 0;
  protected pos = 0;
  protected limit = 0;
  count = 0;
  /** Starts a reply body at `off` of at most `size` bytes. */
  reset(w: WireBuffer, off: number, size: number): this {
    this.w = w;
    this.start = off;
    this.pos = off;
    this.limit = off + Math.min(size, w.length - off);
    this.count = 0;
    return this;
  }
  /** Bytes written so far. */
  get length(): number {
    return this.pos - this.start;
  }
  get full(): boolean {
    return this.limit - this.pos < DIRENT + 8;
  }
}

export class DirentWriter extends DirentWriterBase implements DirentSink {
  add(ino: number, name: string | Uint8Array, mode: number, nextOffset: number): boolean {
    if (typeof name !== 'string') return this.addSlice(ino, name, 0, name.length, mode, nextOffset);
    const namelen = nameLength(name);
    const recLen = (DIRENT + namelen + 7) & ~7;
    if (this.pos + recLen > this.limit) return false;
    writeDirentHead(this.w, this.pos, ino, namelen, mode, nextOffset, recLen);
    writeName(this.w, this.pos + DIRENT, name, namelen);
    this.pos += recLen;
    this.count++;
    return true;
  }

  /** As add, with the name given as the bytes src[start, start + len) (an image's directory block, no view made). */
  addSlice(ino: number, src: Uint8Array, start: number, len: number, mode: number, nextOffset: number): boolean {
    const recLen = (DIRENT + len + 7) & ~7;
    if (this.pos + recLen > this.limit) return false;
    writeDirentHead(this.w, this.pos, ino, len, mode, nextOffset, recLen);
    copyName(this.w.buf, this.pos + DIRENT, src, start, len);
    this.pos += recLen;
    this.count++;
    return true;
  }
}

export class DirentPlusWriter extends DirentWriterBase implements DirentPlusSink {
  defaults: CacheDefaults = { entryTimeout: 1, attrTimeout: 1 };
  /** Called for each accepted entry that counts a lookup (not "." or "..", ino != 0). */
  onLookup: ((ino: number) => void) | undefined;

  add(name: string | Uint8Array, entry: Entry, nextOffset: number): boolean {
    if (typeof name !== 'string') return this.addSlice(name, 0, name.length, entry, nextOffset);
    const namelen = nameLength(name);
    const p = this.record(entry, namelen, nextOffset);
    if (p < 0) return false;
    writeName(this.w, p + ENTRY_OUT + DIRENT, name, namelen);
    if (this.onLookup && entry.ino !== 0 && !isDotOrDotDot(name)) this.onLookup(entry.ino);
    return true;
  }

  /** As add, with the name given as the bytes src[start, start + len) (an image's directory block, no view made). */
  addSlice(src: Uint8Array, start: number, len: number, entry: Entry, nextOffset: number): boolean {
    const p = this.record(entry, len, nextOffset);
    if (p < 0) return false;
    copyName(this.w.buf, p + ENTRY_OUT + DIRENT, src, start, len);
    if (this.onLookup && entry.ino !== 0 && !isDotOrDotDotAt(src, start, len)) this.onLookup(entry.ino);
    return true;
  }

  /**
   * A record without attributes (nodeid 0: the kernel lists the name and instantiates nothing), the name given
   * as src[start, start + len): what `addSlice` writes for an entry with ino 0, without an Entry to fill.
   * Counts no lookup.
   */
  addBare(src: Uint8Array, start: number, len: number, ino: number, mode: number, nextOffset: number): boolean {
    const recLen = (ENTRY_OUT + DIRENT + len + 7) & ~7;
    const p = this.pos;
    if (p + recLen > this.limit) return false;
    this.w.zero(p, ENTRY_OUT);
    writeDirentHead(this.w, p + ENTRY_OUT, ino, len, mode, nextOffset, recLen - ENTRY_OUT);
    copyName(this.w.buf, p + ENTRY_OUT + DIRENT, src, start, len);
    this.pos = p + recLen;
    this.count++;
    return true;
  }

  /** Writes a record's entry_out and dirent header (the name is the caller's): its position, or -1 if it does not fit. */
  private record(entry: Entry, namelen: number, nextOffset: number): number {
    const recLen = (ENTRY_OUT + DIRENT + namelen + 7) & ~7;
    if (this.pos + recLen > this.limit) return -1;
    const w = this.w;
    const p = this.pos;
    if (entry.ino === 0) w.zero(p, ENTRY_OUT);
    else encodeEntryOut(w, p, entry, this.defaults);
    writeDirentHead(w, p + ENTRY_OUT, entry.attr.ino || entry.ino, namelen, entry.attr.mode, nextOffset, recLen - ENTRY_OUT);
    this.pos += recLen;
    this.count++;
    return p;
  }
}

function isDotOrDotDotAt(src: Uint8Array, start: number, len: number): boolean {
  return (len === 1 && src[start] === 46) || (len === 2 && src[start] === 46 && src[start + 1] === 46);
}

export function isDotOrDotDot(name: string | Uint8Array): boolean {
  if (typeof name === 'string') return name === '.' || name === '..';
  return (name.length === 1 && name[0] === 46) || (name.length === 2 && name[0] === 46 && name[1] === 46);
}

/** Decodes a READDIR reply body (for tests and tools). */
export function parseDirents(buf: Uint8Array): { ino: number; off: number; type: number; name: string }[] {
  const b = Buffer.from(buf.buffer, buf.byteOffset, buf.length);
  const out: { ino: number; off: number; type: number; name: string }[] = [];
  let p = 0;
  while (p + DIRENT <= b.length) {
    const namelen = b.readUInt32LE(p + 16);
    out.push({
      ino: Number(b.readBigUInt64LE(p)),
      off: Number(b.readBigUInt64LE(p + 8)),
      type: b.readUInt32LE(p + 20),
      name: b.toString('utf8', p + DIRENT, p + DIRENT + namelen),
    });
    p += (DIRENT + namelen + 7) & ~7;
  }
  return out;
}

/** Decodes a READDIRPLUS reply body (for tests and tools). */
export function parseDirentPlus(buf: Uint8Array): { nodeid: number; attrIno: number; mode: number; ino: number; off: number; type: number; name: string }[] {
  const b = Buffer.from(buf.buffer, buf.byteOffset, buf.length);
  const out: { nodeid: number; attrIno: number; mode: number; ino: number; off: number; type: number; name: string }[] = [];
  let p = 0;
  while (p + ENTRY_OUT + DIRENT <= b.length) {
    const d = p + ENTRY_OUT;
    const namelen = b.readUInt32LE(d + 16);
    out.push({
      nodeid: Number(b.readBigUInt64LE(p)),
      attrIno: Number(b.readBigUInt64LE(p + 40)),
      mode: b.readUInt32LE(p + 40 + 60),
      ino: Number(b.readBigUInt64LE(d)),
      off: Number(b.readBigUInt64LE(d + 8)),
      type: b.readUInt32LE(d + 20),
      name: b.toString('utf8', d + DIRENT, d + DIRENT + namelen),
    });
    p += (ENTRY_OUT + DIRENT + namelen + 7) & ~7;
  }
  return out;
}
