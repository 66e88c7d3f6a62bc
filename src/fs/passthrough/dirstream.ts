// An open directory of the passthrough filesystem, read with getdents64 (one FFI call per 32 KiB, so the
// per-entry cost stays in JS). node:fs's Dir/readdir do not report d_ino, and READDIR must carry the source's
// inode numbers.
//
// Offsets. The kernel hands back the `nextOffset` of the last entry it consumed to continue, and
// telldir/seekdir cookies travel the same way. The source's own d_off values cannot be used directly:
// ext4's htree cookies are 64-bit hashes (up to 2^63) and offsets are plain numbers here (exact to 2^53).
// So the offsets given to the kernel are entry indices of this open stream (1, 2, 3...), and the stream
// remembers, for every index it handed out, the source cookie to lseek to when the kernel asks to continue
// anywhere other than where the stream already is (rewinddir -> 0, seekdir to an earlier telldir value).
// Sequential reading never seeks. Offsets stay valid for the life of the handle; a cookie costs 8 bytes.

import { getdents64, seekDirCookie } from '../../kernel/fsops.js';
import type { Inode } from './inodes.js';

const BUF_SIZE = 32 * 1024;

export class DirStream {
  private readonly buf = Buffer.allocUnsafe(BUF_SIZE);
  // the batch parsed from the last getdents64
  private names: string[] = [];
  private inos: number[] = [];
  private types: number[] = [];
  private offLo: number[] = [];
  private offHi: number[] = [];
  private n = 0;
  private i = 0;
  /** Offset (index) of the next entry this stream returns. */
  pos = 0;
  /** cookies[k] (lo, hi) = source d_off to lseek to for offset k; known for 0..known. */
  private cookieLo = new Uint32Array(64);
  private cookieHi = new Int32Array(64);
  private known = 0;

  constructor(
    readonly fd: number,
    readonly inode: Inode,
    /** The '..' entry of the root reports the root itself (nothing above SOURCE is shown). */
    private readonly dotdotIno: number | undefined,
  ) {}

  /** Positions the stream at `offset`; false when the offset was never handed out (answer end of dir). */
  seek(offset: number): boolean {
    if (offset === this.pos) return true;
    if (!(offset >= 0 && offset <= this.known && Number.isInteger(offset))) return false;
    const cookie = offset === 0 ? 0n : (BigInt(this.cookieHi[offset]) << 32n) | BigInt(this.cookieLo[offset]);
    seekDirCookie(this.fd, cookie);
    this.n = 0;
    this.i = 0;
    this.pos = offset;
    return true;
  }

  /** True when there is a current entry (reading the next batch if needed); false at end of directory. */
  more(): boolean {
    if (this.i < this.n) return true;
    return this.fill();
  }

  get name(): string {
    return this.names[this.i];
  }
  get ino(): number {
    return this.inos[this.i];
  }
  /** S_IFMT bits from d_type (0 when the source reports DT_UNKNOWN). */
  get mode(): number {
    return this.types[this.i] << 12;
  }
  /** The offset that continues after the current entry. */
  get next(): number {
    return this.pos + 1;
  }

  /** Moves past the current entry. */
  consume(): void {
    const k = this.pos + 1;
    if (k >= this.cookieLo.length) this.grow(k);
    this.cookieLo[k] = this.offLo[this.i];
    this.cookieHi[k] = this.offHi[this.i];
    if (k > this.known) this.known = k;
    this.pos = k;
    this.i++;
  }

  private grow(k: number): void {
    let len = this.cookieLo.length;
    while (len <= k) len *= 2;
    const lo = new Uint32Array(len);
    lo.set(this.cookieLo);
    const hi = new Int32Array(len);
    hi.set(this.cookieHi);
    this.cookieLo = lo;
    this.cookieHi = hi;
  }

  private fill(): boolean {
    const len = getdents64(this.fd, this.buf);
    this.i = 0;
    this.n = 0;
    if (len <= 0) return false;
    const b = this.buf;
    const names = this.names;
    const inos = this.inos;
    const types = this.types;
    const offLo = this.offLo;
    const offHi = this.offHi;
    let off = 0;
    let k = 0;
    while (off < len) {
      // struct linux_dirent64 { u64 d_ino; s64 d_off; u16 d_reclen; u8 d_type; char d_name[]; }
      const reclen = b.readUInt16LE(off + 16);
      if (reclen === 0) break;
      let end = b.indexOf(0, off + 19);
      if (end < 0 || end > off + reclen) end = off + reclen;
      const name = b.toString('utf8', off + 19, end);
      let ino = b.readUInt32LE(off + 4) * 0x100000000 + b.readUInt32LE(off);
      if (this.dotdotIno !== undefined && name === '..') ino = this.dotdotIno;
      names[k] = name;
      inos[k] = ino;
      types[k] = b[off + 18];
      offLo[k] = b.readUInt32LE(off + 8);
      offHi[k] = b.readInt32LE(off + 12);
      k++;
      off += reclen;
    }
    this.n = k;
    return k > 0;
  }
}
