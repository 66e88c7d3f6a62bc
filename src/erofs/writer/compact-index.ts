// The compact lcluster index of a compressed inode (COMPRESSED_COMPACT, what the kernel's
// z_erofs_load_compact_lcluster and unpack_compacted_index read): after the inode and its xattrs, 8-aligned, the
// 8-byte map header, then one entry per logical cluster (lcluster = one block here). Entries come in packs
// that end in a 32-bit base block address: 4B packs of 2 entries (16 bits each), and with COMPACTED_2B, from a
// 32-byte boundary on, 2B packs of 16 entries (14 bits each). An entry is (type << 12 | lo): a HEAD or PLAIN
// lcluster keeps the in-cluster offset where its extent starts, a NONHEAD one the distance back to its head
// (the last entry of a pack: the distance forward to the next head instead). A head's block is the pack's base
// plus one plus the heads before it in the pack, so each pack's base is derived from the file's first block
// and the heads before the pack (every pcluster is one block, in file order).

import * as F from '../reader/format.js';

/** One entry per lcluster: (type << LO_BITS) | clusterofs for heads; NONHEAD entries carry only the type. */
export type LclusterTypes = Uint16Array;

export const LO_BITS = 12;
const LO_MASK = (1 << LO_BITS) - 1;
export const NONHEAD_ENTRY = F.LCLUSTER_TYPE_NONHEAD << LO_BITS;

export const entryType = (e: number): number => e >>> LO_BITS;

/** How the entries of an index of `total` lclusters split into the 4B head, 2B middle and 4B end. */
interface Split {
  /** Bytes before the map header (the 8-byte alignment after inode + xattrs). */
  pad: number;
  initial4b: number;
  middle2b: number;
  end4b: number;
}

function split(inodeAndXattrs: number, total: number): Split {
  const hdr = Math.ceil(inodeAndXattrs / 8) * 8;
  // the inode slot is 32-aligned, so the index base's position in a 32-byte line follows from the sizes alone
  const ebase = hdr + F.MAP_HEADER_SIZE;
  let initial4b = ((32 - (ebase % 32)) >> 2) & 7;
  const middle2b = initial4b < total ? Math.floor((total - initial4b) / 16) * 16 : 0;
  if (initial4b > total) initial4b = total;
  return { pad: hdr - inodeAndXattrs, initial4b, middle2b, end4b: total - initial4b - middle2b };
}

const packs4 = (n: number): number => Math.ceil(n / 2);

/** Bytes the index takes after the inode and its xattrs (`inodeAndXattrs` bytes), alignment included. */
export function compactIndexSize(inodeAndXattrs: number, total: number): number {
  const s = split(inodeAndXattrs, total);
  return s.pad + F.MAP_HEADER_SIZE + packs4(s.initial4b) * 8 + s.middle2b * 2 + packs4(s.end4b) * 8;
}

/** The map header: COMPACTED_2B advice (lclusters of at most 4 KiB), HEAD1's algorithm, lcluster = block. */
function mapHeader(out: Uint8Array, at: number, algorithm: number): void {
  new DataView(out.buffer, out.byteOffset).setUint16(at + F.MH_ADVISE, F.ADVISE_COMPACTED_2B, true);
  // low nibble: HEAD1 lclusters' algorithm (HEAD2, the high nibble, is not written)
  out[at + F.MH_ALGORITHMTYPE] = algorithm & 0xf;
}

/** The lo field of entry `n`: clusterofs, or a NONHEAD's distance back (or, last in its pack, forward). */
function loOf(types: LclusterTypes, n: number, lastInPack: boolean, prevHead: Int32Array, nextHead: Int32Array): number {
  const e = types[n]!;
  if (entryType(e) !== F.LCLUSTER_TYPE_NONHEAD) return e & LO_MASK;
  // a distance of 2048 or more would read as the CBLKCNT bit: the compressor's window keeps extents shorter
  const d = lastInPack ? nextHead[n]! - n : n - prevHead[n]!;
  if (d <= 0 || d >= F.LI_D0_CBLKCNT) throw new RangeError(`lcluster ${n}: delta ${d} does not fit a compact index`);
  return d;
}

function putBits(out: Uint8Array, at: number, bitpos: number, v: number): void {
  const p = at + (bitpos >>> 3);
  const rem = bitpos & 7;
  out[p] = (out[p]! & ((1 << rem) - 1)) | ((v << rem) & 0xff);
  out[p + 1] = (v >>> (8 - rem)) & 0xff;
  if (rem > 2) out[p + 2] = (v >>> (16 - rem)) & 0xff;
}

/**
 * The index bytes (padding, map header, packs) for a file whose `types` (one per lcluster) were recorded by
 * the compressor, whose pclusters start at block `blkaddr` and are compressed with `algorithm`.
 */
export function encodeCompactIndex(inodeAndXattrs: number, types: LclusterTypes, blkaddr: number, algorithm: number): Uint8Array {
  const total = types.length;
  const s = split(inodeAndXattrs, total);
  const out = new Uint8Array(compactIndexSize(inodeAndXattrs, total));
  const v = new DataView(out.buffer);
  mapHeader(out, s.pad, algorithm);
  // nearest head at or before / strictly after each lcluster, and the heads before each one
  const prevHead = new Int32Array(total);
  const nextHead = new Int32Array(total);
  const headsBefore = new Int32Array(total + 1);
  let last = -1;
  for (let n = 0; n < total; n++) {
    const head = entryType(types[n]!) !== F.LCLUSTER_TYPE_NONHEAD;
    headsBefore[n + 1] = headsBefore[n]! + (head ? 1 : 0);
    if (head) last = n;
    prevHead[n] = last;
  }
  last = total;
  for (let n = total - 1; n >= 0; n--) {
    nextHead[n] = last;
    if (entryType(types[n]!) !== F.LCLUSTER_TYPE_NONHEAD) last = n;
  }
  let pos = s.pad + F.MAP_HEADER_SIZE;
  const writePacks = (first: number, count: number, vcnt: number, bytesPer: number): void => {
    const packSize = vcnt * bytesPer;
    const encodebits = ((packSize - 4) * 8) / vcnt;
    for (let p = first; p < first + count; p += vcnt) {
      for (let i = 0; i < vcnt && p + i < first + count; i++) {
        const n = p + i;
        putBits(out, pos, i * encodebits, (entryType(types[n]!) << LO_BITS) | loOf(types, n, i === vcnt - 1, prevHead, nextHead));
      }
      // the kernel adds 1 + (heads before the entry in this pack) to the base
      v.setUint32(pos + packSize - 4, blkaddr + headsBefore[p]! - 1, true);
      pos += packSize;
    }
  };
  writePacks(0, s.initial4b, 2, 4);
  writePacks(s.initial4b, s.middle2b, 16, 2);
  writePacks(s.initial4b + s.middle2b, s.end4b, 2, 4);
  if (pos !== out.length) throw new Error(`internal error: compact index of ${pos} bytes, expected ${out.length}`);
  return out;
}
