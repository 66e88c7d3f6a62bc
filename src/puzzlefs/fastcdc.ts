// FastCDC 2020 content-defined chunking, cut for cut as the `fastcdc` Rust crate 3.x (src/v2020) makes it,
// so images built here and by the reference builder (which chunks with that crate) share chunks.
//
// The gear table is the crate's: MD5 of 64 bytes all equal to i, first 8 bytes big-endian (its
// examples/table64.rs); the masks are its MASKS table; normalization level 1 (the crate's default): the
// small mask has bits(avg) + 1 bits, the large one bits(avg) - 1, and the "ls" variants (masks << 1 with
// gear << 1) let the loop consume two bytes per step. The 64-bit hash is kept as two 32-bit halves (no
// BigInt in the loop).

import { createHash } from 'node:crypto';

/** The crate's MASKS[bits], as [high 32, low 32]. */
const MASKS: Record<number, [number, number]> = {
  5: [0x00000000, 0x01804110], 6: [0x00000000, 0x01803110], 7: [0x00000000, 0x18035100], 8: [0x00000018, 0x00035300],
  9: [0x00000190, 0x00353000],
  10: [0x00005900, 0x03530000], 11: [0x0000d900, 0x03530000], 12: [0x0000d901, 0x03530000], 13: [0x0000d903, 0x03530000],
  14: [0x0000d903, 0x13530000], 15: [0x0000d90f, 0x03530000], 16: [0x0000d903, 0x03537000], 17: [0x0000d907, 0x03537000],
  18: [0x0000d907, 0x07537000], 19: [0x0000d917, 0x07537000], 20: [0x0000d917, 0x47537000], 21: [0x0000d917, 0x67537000],
  22: [0x0000d937, 0x67537000], 23: [0x0000d937, 0x77537000], 24: [0x0000d937, 0x77577000], 25: [0x0000db37, 0x77577000],
};

export const PUZZLEFS_MIN = 16 * 1024;
export const PUZZLEFS_AVG = 64 * 1024;
export const PUZZLEFS_MAX = 256 * 1024;

function gearTables(): { hi: Uint32Array; lo: Uint32Array; lsHi: Uint32Array; lsLo: Uint32Array } {
  const hi = new Uint32Array(256);
  const lo = new Uint32Array(256);
  const lsHi = new Uint32Array(256);
  const lsLo = new Uint32Array(256);
  for (let i = 0; i < 256; i++) {
    const d = createHash('md5').update(Buffer.alloc(64, i)).digest();
    hi[i] = d.readUInt32BE(0);
    lo[i] = d.readUInt32BE(4);
    lsHi[i] = ((hi[i]! << 1) | (lo[i]! >>> 31)) >>> 0;
    lsLo[i] = (lo[i]! << 1) >>> 0;
  }
  return { hi, lo, lsHi, lsLo };
}
const GEAR = gearTables();

/** The first gear value as a hex string (for the unit test: 0x3b5d3c7d207e37dc in the crate). */
export function gearValue(i: number): string {
  return GEAR.hi[i]!.toString(16).padStart(8, '0') + GEAR.lo[i]!.toString(16).padStart(8, '0');
}

export interface CdcParams {
  min: number;
  avg: number;
  max: number;
  /** Normalization level 0..3 (default 1, as the crate's FastCDC::new). */
  level?: number;
}

export interface Cut {
  /** Length of the chunk. */
  length: number;
  /** The gear hash at the cut (as the crate returns it), hex. */
  hash: string;
}

export class FastCdc {
  private readonly sHi: number;
  private readonly sLo: number;
  private readonly lHi: number;
  private readonly lLo: number;
  private readonly slsHi: number;
  private readonly slsLo: number;
  private readonly llsHi: number;
  private readonly llsLo: number;

  constructor(readonly p: CdcParams) {
    const bits = Math.round(Math.log2(p.avg));
    const level = p.level ?? 1;
    const s = MASKS[bits + level];
    const l = MASKS[bits - level];
    if (!s || !l || !(p.min <= p.avg && p.avg <= p.max)) throw new RangeError(`FastCDC: unsupported sizes ${p.min}/${p.avg}/${p.max}`);
    [this.sHi, this.sLo] = s;
    [this.lHi, this.lLo] = l;
    this.slsHi = ((s[0] << 1) | (s[1] >>> 31)) >>> 0;
    this.slsLo = (s[1] << 1) >>> 0;
    this.llsHi = ((l[0] << 1) | (l[1] >>> 31)) >>> 0;
    this.llsLo = (l[1] << 1) >>> 0;
  }

  /** The length of the next chunk of `src[start, end)` (the crate's cut_gear), and the hash at the cut. */
  cut(src: Uint8Array, start: number, end: number): Cut {
    let remaining = end - start;
    if (remaining <= this.p.min) return { length: remaining, hash: '0' };
    let center = this.p.avg;
    if (remaining > this.p.max) remaining = this.p.max;
    else if (remaining < center) center = remaining;
    const { hi: gHi, lo: gLo, lsHi, lsLo } = GEAR;
    let hHi = 0;
    let hLo = 0;
    let index = this.p.min >>> 1;
    const hex = (): string => hHi.toString(16).padStart(8, '0') + hLo.toString(16).padStart(8, '0');
    // hash = (hash << 2) + gear_ls[a]; then hash += gear[a + 1]: 64-bit arithmetic on two halves
    for (let phase = 0; phase < 2; phase++) {
      const limit = phase === 0 ? center >>> 1 : remaining >>> 1;
      const mHi1 = phase === 0 ? this.slsHi : this.llsHi;
      const mLo1 = phase === 0 ? this.slsLo : this.llsLo;
      const mHi2 = phase === 0 ? this.sHi : this.lHi;
      const mLo2 = phase === 0 ? this.sLo : this.lLo;
      for (; index < limit; index++) {
        const a = start + index * 2;
        let b = src[a]!;
        hHi = ((hHi << 2) | (hLo >>> 30)) >>> 0;
        hLo = (hLo << 2) >>> 0;
        let lo = hLo + lsLo[b]!;
        hHi = (hHi + lsHi[b]! + (lo > 0xffffffff ? 1 : 0)) >>> 0;
        hLo = lo >>> 0;
        if ((hHi & mHi1) === 0 && (hLo & mLo1) === 0) return { length: index * 2, hash: hex() };
        b = src[a + 1]!;
        lo = hLo + gLo[b]!;
        hHi = (hHi + gHi[b]! + (lo > 0xffffffff ? 1 : 0)) >>> 0;
        hLo = lo >>> 0;
        if ((hHi & mHi2) === 0 && (hLo & mLo2) === 0) return { length: index * 2 + 1, hash: hex() };
      }
    }
    return { length: remaining, hash: hex() };
  }

  /** Every chunk length of `src`, in order. */
  lengths(src: Uint8Array): number[] {
    const out: number[] = [];
    for (let pos = 0; pos < src.length; ) {
      const c = this.cut(src, pos, src.length);
      out.push(c.length);
      pos += c.length;
    }
    return out;
  }
}
