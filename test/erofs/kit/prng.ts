// Seeded, deterministic pseudo-random numbers for the EROFS test kit (xorshift128, fast enough to fill 8 MiB).
// Same seed -> same sequence on every machine and Node version.

export class Prng {
  private x: number;
  private y: number;
  private z: number;
  private w: number;

  constructor(seed: number | string) {
    // splitmix-style seeding from a 32-bit hash of the seed so that small seeds give unrelated streams
    let h = typeof seed === 'number' ? seed >>> 0 : hashString(seed);
    const next = (): number => {
      h = (h + 0x9e3779b9) >>> 0;
      let t = h;
      t = Math.imul(t ^ (t >>> 16), 0x21f0aaad) >>> 0;
      t = Math.imul(t ^ (t >>> 15), 0x735a2d97) >>> 0;
      return (t ^ (t >>> 15)) >>> 0;
    };
    this.x = next() || 1;
    this.y = next();
    this.z = next();
    this.w = next();
  }

  /** A uniformly distributed unsigned 32-bit integer. */
  u32(): number {
    const t = this.x ^ (this.x << 11);
    this.x = this.y;
    this.y = this.z;
    this.z = this.w;
    this.w = (this.w ^ (this.w >>> 19) ^ (t ^ (t >>> 8))) >>> 0;
    return this.w;
  }

  /** An integer in [0, n). */
  int(n: number): number {
    if (n <= 0) return 0;
    if (n <= 0x1_0000_0000) return Math.floor((this.u32() / 0x1_0000_0000) * n);
    return Math.floor((this.u32() * 0x1_0000_0000 + this.u32()) / 2 ** 64 * n);
  }

  /** An integer in [lo, hi] (inclusive). */
  range(lo: number, hi: number): number {
    return lo + this.int(hi - lo + 1);
  }

  pick<T>(items: readonly T[]): T {
    return items[this.int(items.length)]!;
  }

  /** `len` pseudo-random bytes (incompressible). */
  bytes(len: number): Buffer {
    const words = new Uint32Array(Math.ceil(len / 4));
    for (let i = 0; i < words.length; i++) words[i] = this.u32();
    return Buffer.from(words.buffer, 0, len);
  }

  /** `len` bytes of compressible text made of words (ends exactly at `len`). */
  text(len: number): Buffer {
    const out = Buffer.alloc(len);
    let off = 0;
    while (off < len) {
      const w = WORDS[this.int(WORDS.length)]!;
      const sep = this.int(12) === 0 ? '\n' : ' ';
      off += out.write(w + sep, off, 'latin1');
    }
    return out;
  }
}

const WORDS = [
  'erofs', 'fuse', 'inode', 'dirent', 'xattr', 'block', 'chunk', 'extent', 'lz4', 'superblock', 'composefs',
  'overlay', 'redirect', 'metacopy', 'whiteout', 'the', 'a', 'of', 'and', 'kernel', 'read', 'only', 'image',
  'lorem', 'ipsum', 'dolor', 'sit', 'amet', 'consectetur', 'adipiscing', 'elit', '0123456789', 'tsfuse',
];

export function hashString(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h >>> 0;
}
