// Typed flag sets: a set of named bits (up to bit 52, so a value stays an exact JS number) that can test,
// combine and name its members for debug output. JS bitwise operators work on 32 bits, so values are split
// into low and high words here instead.

const TWO32 = 4294967296;

export interface FlagSpec<N extends string> {
  readonly name: string;
  readonly bits: Readonly<Record<N, number>>;
  /** Bit values by name, derived from `bits` (for `value & spec.mask.X` on hot paths). */
  readonly mask: Readonly<Record<N, number>>;
  /** Bit value (as a number) of one flag. */
  value(flag: N): number;
  /** A value with the given flags set. */
  of(...flags: N[]): number;
  has(value: number, flag: N): boolean;
  /** Union of two values. */
  union(a: number, b: number): number;
  /** Intersection of two values. */
  intersect(a: number, b: number): number;
  /** a without the bits of b. */
  without(a: number, b: number): number;
  /** The names of the set bits; unknown bits appear as `bit<N>`. */
  names(value: number): string[];
  /** "A|B|bit40" or "0". */
  format(value: number): string;
  set(value: number): FlagSet<N>;
}

export function lo32(v: number): number {
  return v % TWO32 >>> 0;
}
export function hi32(v: number): number {
  return Math.floor(v / TWO32) >>> 0;
}
export function join64(lo: number, hi: number): number {
  return (hi >>> 0) * TWO32 + (lo >>> 0);
}

function bitValue(bit: number): number {
  return bit < 31 ? 1 << bit : 2 ** bit;
}

function bitwise(a: number, b: number, op: (x: number, y: number) => number): number {
  return join64(op(lo32(a), lo32(b)) >>> 0, op(hi32(a), hi32(b)) >>> 0);
}

export function defineFlags<N extends string>(name: string, bits: Record<N, number>): FlagSpec<N> {
  const entries = Object.entries(bits) as [N, number][];
  for (const [flag, bit] of entries) {
    if (!Number.isInteger(bit) || bit < 0 || bit > 52) throw new RangeError(`${name}.${flag}: bit ${bit} out of range`);
  }
  const mask = Object.freeze(Object.fromEntries(entries.map(([flag, bit]) => [flag, bitValue(bit)]))) as Record<N, number>;
  const spec: FlagSpec<N> = {
    name,
    bits,
    mask,
    value: (flag) => bitValue(bits[flag]),
    of: (...flags) => flags.reduce((acc, f) => bitwise(acc, bitValue(bits[f]), (x, y) => x | y), 0),
    has(value, flag) {
      const bit = bits[flag];
      return bit < 32 ? ((lo32(value) >>> bit) & 1) === 1 : ((hi32(value) >>> (bit - 32)) & 1) === 1;
    },
    union: (a, b) => bitwise(a, b, (x, y) => x | y),
    intersect: (a, b) => bitwise(a, b, (x, y) => x & y),
    without: (a, b) => bitwise(a, b, (x, y) => x & ~y),
    names(value) {
      const out: string[] = [];
      let rest = value;
      for (const [flag, bit] of entries) {
        if (spec.has(value, flag)) {
          out.push(flag);
          rest = spec.without(rest, bitValue(bit));
        }
      }
      for (let bit = 0; bit < 53 && rest > 0; bit++) {
        const v = bitValue(bit);
        if (spec.intersect(rest, v) !== 0) {
          out.push(`bit${bit}`);
          rest = spec.without(rest, v);
        }
      }
      return out;
    },
    format: (value) => (value === 0 ? '0' : spec.names(value).join('|')),
    set: (value) => new FlagSet(spec, value),
  };
  return spec;
}

/** An immutable value of a flag spec, for interfaces that want a typed object instead of a number. */
export class FlagSet<N extends string> {
  constructor(readonly spec: FlagSpec<N>, readonly value: number) {}
  has(flag: N): boolean {
    return this.spec.has(this.value, flag);
  }
  with(...flags: N[]): FlagSet<N> {
    return new FlagSet(this.spec, this.spec.union(this.value, this.spec.of(...flags)));
  }
  without(...flags: N[]): FlagSet<N> {
    return new FlagSet(this.spec, this.spec.without(this.value, this.spec.of(...flags)));
  }
  names(): string[] {
    return this.spec.names(this.value);
  }
  toString(): string {
    return this.spec.format(this.value);
  }
}
