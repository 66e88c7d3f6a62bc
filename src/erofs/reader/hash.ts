// The two small hashes EROFS uses: CRC32-C for the superblock checksum and xxHash32 for the per-inode xattr
// name bloom filter. Both work on 32-bit unsigned integers, kept unsigned with `>>> 0`.

const CRC32C_TABLE = (() => {
  const t = new Uint32Array(256);
  for (let i = 0; i < 256; i++) {
    let c = i;
    for (let k = 0; k < 8; k++) c = c & 1 ? (c >>> 1) ^ 0x82f63b78 : c >>> 1;
    t[i] = c >>> 0;
  }
  return t;
})();

/** Raw CRC32-C update as the kernel's crc32c(seed, data): no final inversion. */
export function crc32cRaw(seed: number, data: Uint8Array): number {
  let crc = seed >>> 0;
  for (let i = 0; i < data.length; i++) crc = CRC32C_TABLE[(crc ^ data[i]!) & 0xff]! ^ (crc >>> 8);
  return crc >>> 0;
}

const P1 = 2654435761;
const P2 = 2246822519;
const P3 = 3266489917;
const P4 = 668265263;
const P5 = 374761393;

function rotl(x: number, r: number): number {
  return ((x << r) | (x >>> (32 - r))) >>> 0;
}

function round(acc: number, input: number): number {
  acc = (acc + Math.imul(input, P2)) >>> 0;
  acc = rotl(acc, 13);
  return Math.imul(acc, P1) >>> 0;
}

function le32(b: Uint8Array, i: number): number {
  return (b[i]! | (b[i + 1]! << 8) | (b[i + 2]! << 16) | (b[i + 3]! << 24)) >>> 0;
}

/** xxHash32 (the kernel's lib/xxhash.c xxh32). */
export function xxh32(input: Uint8Array, seed: number): number {
  const len = input.length;
  let p = 0;
  let h: number;
  if (len >= 16) {
    const limit = len - 16;
    let v1 = (seed + P1 + P2) >>> 0;
    let v2 = (seed + P2) >>> 0;
    let v3 = seed >>> 0;
    let v4 = (seed - P1) >>> 0;
    do {
      v1 = round(v1, le32(input, p)); p += 4;
      v2 = round(v2, le32(input, p)); p += 4;
      v3 = round(v3, le32(input, p)); p += 4;
      v4 = round(v4, le32(input, p)); p += 4;
    } while (p <= limit);
    h = (rotl(v1, 1) + rotl(v2, 7) + rotl(v3, 12) + rotl(v4, 18)) >>> 0;
  } else {
    h = (seed + P5) >>> 0;
  }
  h = (h + len) >>> 0;
  while (p + 4 <= len) {
    h = (h + Math.imul(le32(input, p), P3)) >>> 0;
    h = Math.imul(rotl(h, 17), P4) >>> 0;
    p += 4;
  }
  while (p < len) {
    h = (h + Math.imul(input[p]!, P5)) >>> 0;
    h = Math.imul(rotl(h, 11), P1) >>> 0;
    p++;
  }
  h ^= h >>> 15;
  h = Math.imul(h, P2) >>> 0;
  h ^= h >>> 13;
  h = Math.imul(h, P3) >>> 0;
  h ^= h >>> 16;
  return h >>> 0;
}
