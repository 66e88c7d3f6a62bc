// Logical-to-physical mapping for compressed inodes: the 8-byte map header, full (8-byte) and compact
// (4-byte/2-byte packed) lcluster indexes with HEAD1/HEAD2/PLAIN/NONHEAD clusters, big pclusters (CBLKCNT),
// ztailpacking (tail pcluster inline after the index), fragments (data in the packed inode), dedupe
// (PARTIAL_REF) and the extent-record format. A transcription of the kernel's fs/erofs/zmap.c, with every
// walk bounded so a corrupt index cannot loop or run for long.

import { le16, le32, le64Safe, roundUp } from './bytes.js';
import type { ReaderContext } from './context.js';
import { UnsupportedFeatureError, corrupt } from './errors.js';
import * as F from './format.js';
import type { ErofsInode, ZInfo } from './inode.js';
import { formatNid } from './superblock.js';

export const Z_MAPPED = 1;
export const Z_META = 2;
export const Z_ENCODED = 4;
export const Z_FULL_MAPPED = 8;
export const Z_FRAGMENT = 16;
export const Z_PARTIAL_REF = 32;

export interface ZMapping {
  la: number;
  llen: number;
  flags: number;
  /** Physical position: image offset, or (Z_META) position in the inode's metadata space. */
  pa: number;
  plen: number;
  algorithm: number;
}

interface Recorder {
  lcn: number;
  type: number;
  headtype: number;
  clusterofs: number;
  delta0: number;
  delta1: number;
  pblk: number;
  compressedblks: number;
  nextpackoff: number;
  partialref: boolean;
}

function newRecorder(): Recorder {
  return { lcn: 0, type: 0, headtype: 0, clusterofs: 0, delta0: 0, delta1: 0, pblk: 0, compressedblks: 0, nextpackoff: 0, partialref: false };
}

// mapFo runs for every READ of a compressed file: its recorder is reused, not allocated (before, a tar of /usr
// made ~1 GB of garbage here, which every worker carried as peak RSS). One per nesting level: reading an index
// that lives in the metabox maps the metabox inode from inside the outer mapFo.
const recorders: Recorder[] = [];
let mapDepth = 0;

function recorderAt(depth: number): Recorder {
  const m = (recorders[depth] ??= newRecorder());
  m.lcn = m.type = m.headtype = m.clusterofs = m.delta0 = m.delta1 = m.pblk = m.compressedblks = m.nextpackoff = 0;
  m.partialref = false;
  return m;
}

/** Resets `out` (a caller's scratch mapping) to [la, +llen) with flags and no physical part. */
function setMapping(out: ZMapping, la: number, llen: number, flags: number): ZMapping {
  out.la = la;
  out.llen = llen;
  out.flags = flags;
  out.pa = 0;
  out.plen = 0;
  out.algorithm = 0;
  return out;
}

/** A mapping to fill: what zMap's callers pass as `out` to reuse one. */
export function newMapping(): ZMapping {
  return { la: 0, llen: 0, flags: 0, pa: 0, plen: 0, algorithm: 0 };
}

/** The prefix of every corruption message, built only when one is thrown. */
function whereOf(inode: ErofsInode): string {
  return `inode ${formatNid(inode.nid)}`;
}

/** Reads the map header once per inode (kernel z_erofs_fill_inode_lazy). */
export function zInfo(ctx: ReaderContext, inode: ErofsInode): ZInfo {
  if (inode.z) return inode.z;
  const where = `inode ${formatNid(inode.nid)}`;
  const sb = ctx.sb;
  const pos = roundUp(inode.dataStart, F.MAP_HEADER_ALIGN);
  const h = ctx.readMeta(pos, F.MAP_HEADER_SIZE, inode.inMetabox);
  const z: ZInfo = {
    advise: 0,
    algorithms: [0, 0],
    lclusterBits: sb.blkszbits,
    lclusterSize: sb.blockSize,
    fragmentOff: 0,
    idataSize: 0,
    tailExtentHeadLcn: 0,
    extents: 0,
    wholeFragment: false,
  };
  if (h[F.MH_CLUSTERBITS]! >> F.FRAGMENT_INODE_BIT) {
    // The whole file lives in the packed inode; the other 63 bits of the header (read as one le64) are its
    // offset there.
    z.advise = F.ADVISE_FRAGMENT_PCLUSTER;
    const hi = le32(h, F.MH_FRAGMENTOFF + 4) & 0x7fff_ffff;
    if (hi >= 0x200000) corrupt(`${where}: fragment offset out of range`);
    z.fragmentOff = hi * 0x1_0000_0000 + le32(h, F.MH_FRAGMENTOFF);
    z.wholeFragment = true;
    inode.z = z;
    return z;
  }
  z.advise = le16(h, F.MH_ADVISE);
  z.lclusterBits = sb.blkszbits + (h[F.MH_CLUSTERBITS]! & 15);
  z.lclusterSize = 2 ** z.lclusterBits;
  if (inode.layout === F.LAYOUT_COMPRESSED_FULL && z.advise & F.ADVISE_EXTENTS) {
    z.extents = le32(h, F.MH_EXTENTS_LO) + le16(h, F.MH_EXTENTS_HI) * 0x1_0000_0000;
    inode.z = z;
    return z;
  }
  const algs = h[F.MH_ALGORITHMTYPE]!;
  z.algorithms = [algs & 15, algs >> 4];
  if (z.advise & F.ADVISE_FRAGMENT_PCLUSTER) z.fragmentOff = le32(h, F.MH_FRAGMENTOFF);
  else if (z.advise & F.ADVISE_INLINE_PCLUSTER) z.idataSize = le16(h, F.MH_IDATA_SIZE);

  for (const alg of z.algorithms) {
    if (alg >= F.COMPRESSION_MAX) throw new UnsupportedFeatureError(`${where}: compression format ${alg}`);
  }
  if (!(sb.featureIncompat & F.INCOMPAT_BIG_PCLUSTER) && z.advise & (F.ADVISE_BIG_PCLUSTER_1 | F.ADVISE_BIG_PCLUSTER_2)) {
    corrupt(`${where}: big pcluster without the superblock feature`);
  }
  if (
    inode.layout === F.LAYOUT_COMPRESSED_COMPACT &&
    !(z.advise & F.ADVISE_BIG_PCLUSTER_1) !== !(z.advise & F.ADVISE_BIG_PCLUSTER_2)
  ) {
    corrupt(`${where}: big pcluster head1/2 of compact indexes are inconsistent`);
  }
  if (z.lclusterBits > 30) corrupt(`${where}: lcluster size 2^${z.lclusterBits}`);
  inode.z = z; // set before the tail lookup, which needs it
  if (z.idataSize || z.advise & F.ADVISE_FRAGMENT_PCLUSTER) {
    try {
      mapFo(ctx, inode, z, 0, true, newMapping());
    } catch (e) {
      inode.z = undefined;
      throw e;
    }
  }
  return z;
}

function loadFull(ctx: ReaderContext, inode: ErofsInode, z: ZInfo, m: Recorder, lcn: number): void {
  const pos = roundUp(inode.dataStart, F.MAP_HEADER_ALIGN) + F.MAP_HEADER_SIZE + F.FULL_INDEX_GAP + lcn * F.LCLUSTER_INDEX_SIZE;
  const o = ctx.metaAt(pos, F.LCLUSTER_INDEX_SIZE, inode.inMetabox);
  const di = ctx.metaBuf;
  m.lcn = lcn;
  m.nextpackoff = pos + F.LCLUSTER_INDEX_SIZE;
  const advise = le16(di, o + F.LI_ADVISE);
  m.type = advise & 3;
  if (m.type === F.LCLUSTER_TYPE_NONHEAD) {
    m.clusterofs = z.lclusterSize;
    m.delta0 = le16(di, o + F.LI_DELTA);
    if (m.delta0 & F.LI_D0_CBLKCNT) {
      if (!(z.advise & (F.ADVISE_BIG_PCLUSTER_1 | F.ADVISE_BIG_PCLUSTER_2))) {
        corrupt(`inode ${formatNid(inode.nid)}: CBLKCNT without big pclusters`);
      }
      m.compressedblks = m.delta0 & ~F.LI_D0_CBLKCNT;
      m.delta0 = 1;
    }
    m.delta1 = le16(di, o + F.LI_DELTA + 2);
  } else {
    m.partialref = (advise & F.LI_PARTIAL_REF) !== 0;
    m.clusterofs = le16(di, o + F.LI_CLUSTEROFS);
    if (m.clusterofs >= z.lclusterSize) corrupt(`inode ${formatNid(inode.nid)}: clusterofs ${m.clusterofs} past the lcluster`);
    m.pblk = le32(di, o + F.LI_BLKADDR);
  }
}

/** The lcluster entry at bit `bitpos` of the pack at pack[po]: lo bits, then the 2-bit type above them. */
function entryBits(pack: Uint8Array, po: number, bitpos: number): number {
  return le32(pack, po + (bitpos >>> 3)) >>> (bitpos & 7);
}

function compactedLaDistance(lobits: number, encodebits: number, vcnt: number, pack: Uint8Array, po: number, i: number): number {
  const lomask = (1 << lobits) - 1;
  let d1 = 0;
  let lo = 0;
  do {
    const v = entryBits(pack, po, encodebits * i);
    lo = v & lomask;
    if (((v >>> lobits) & 3) !== F.LCLUSTER_TYPE_NONHEAD) return d1;
    ++d1;
  } while (++i < vcnt);
  if (!(lo & F.LI_D0_CBLKCNT)) d1 += lo - 1;
  return d1;
}

function loadCompact(ctx: ReaderContext, inode: ErofsInode, z: ZInfo, m: Recorder, lcnIn: number, lookahead: boolean): void {
  const ebase = roundUp(inode.dataStart, F.MAP_HEADER_ALIGN) + F.MAP_HEADER_SIZE;
  const lclusterbits = z.lclusterBits;
  const totalidx = Math.ceil(inode.size / ctx.sb.blockSize);
  if (lcnIn >= totalidx || lclusterbits > 14) corrupt(`${whereOf(inode)}: lcluster ${lcnIn} outside the compact index`);
  let lcn = lcnIn;
  m.lcn = lcn;
  const c4initial = ((32 - (ebase % 32)) >> 2) & 7;
  let c2b = 0;
  if (z.advise & F.ADVISE_COMPACTED_2B && c4initial < totalidx) c2b = Math.floor((totalidx - c4initial) / 16) * 16;
  let pos = ebase;
  let amortizedshift = 2;
  if (lcn >= c4initial) {
    pos += c4initial * 4;
    lcn -= c4initial;
    if (lcn < c2b) {
      amortizedshift = 1;
    } else {
      pos += c2b * 2;
      lcn -= c2b;
    }
  }
  pos += lcn * (1 << amortizedshift);
  let vcnt: number;
  if (amortizedshift === 2 && lclusterbits <= 14) vcnt = 2;
  else if (amortizedshift === 1 && lclusterbits <= 12) vcnt = 16;
  else throw new UnsupportedFeatureError(`${whereOf(inode)}: compact 2B index with lcluster size 2^${lclusterbits}`);

  const packSize = vcnt << amortizedshift;
  const packStart = pos - (pos % packSize);
  const po = ctx.metaAt(packStart, packSize, inode.inMetabox);
  const pack = ctx.metaBuf;
  m.nextpackoff = packStart + packSize;
  const lobits = Math.max(lclusterbits, 12);
  const lomask = (1 << lobits) - 1;
  const encodebits = Math.floor(((packSize - 4) * 8) / vcnt);
  let i = (pos - packStart) >> amortizedshift;
  const bigPcluster = (z.advise & F.ADVISE_BIG_PCLUSTER_1) !== 0;

  let v = entryBits(pack, po, encodebits * i);
  let lo = v & lomask;
  let type = (v >>> lobits) & 3;
  m.type = type;
  if (type === F.LCLUSTER_TYPE_NONHEAD) {
    m.clusterofs = z.lclusterSize;
    if (lookahead) m.delta1 = compactedLaDistance(lobits, encodebits, vcnt, pack, po, i);
    if (lo & F.LI_D0_CBLKCNT) {
      if (!bigPcluster) corrupt(`${whereOf(inode)}: CBLKCNT without big pclusters`);
      m.compressedblks = lo & ~F.LI_D0_CBLKCNT;
      m.delta0 = 1;
      return;
    } else if (i + 1 !== vcnt) {
      m.delta0 = lo;
      return;
    }
    // The last lcluster of a pack stores delta[1], not delta[0]: derive delta[0] from the one before.
    v = entryBits(pack, po, encodebits * (i - 1));
    lo = v & lomask;
    type = (v >>> lobits) & 3;
    if (type !== F.LCLUSTER_TYPE_NONHEAD) lo = 0;
    else if (lo & F.LI_D0_CBLKCNT) lo = 1;
    m.delta0 = lo + 1;
    return;
  }
  m.clusterofs = lo;
  m.delta0 = 0;
  // The pack stores one base block address; count the pclusters before this head to find its own.
  let nblk: number;
  if (!bigPcluster) {
    nblk = 1;
    while (i > 0) {
      --i;
      v = entryBits(pack, po, encodebits * i);
      lo = v & lomask;
      type = (v >>> lobits) & 3;
      if (type === F.LCLUSTER_TYPE_NONHEAD) i -= lo;
      if (i >= 0) ++nblk;
    }
  } else {
    nblk = 0;
    while (i > 0) {
      --i;
      v = entryBits(pack, po, encodebits * i);
      lo = v & lomask;
      type = (v >>> lobits) & 3;
      if (type === F.LCLUSTER_TYPE_NONHEAD) {
        if (lo & F.LI_D0_CBLKCNT) {
          --i;
          nblk += lo & ~F.LI_D0_CBLKCNT;
          continue;
        }
        if (lo <= 1) corrupt(`${whereOf(inode)}: big pcluster with plain delta[0] <= 1`);
        i -= lo - 2;
        continue;
      }
      ++nblk;
    }
  }
  m.pblk = le32(pack, po + packSize - 4) + nblk;
}

function loadLcluster(ctx: ReaderContext, inode: ErofsInode, z: ZInfo, m: Recorder, lcn: number, lookahead: boolean): void {
  if (inode.layout === F.LAYOUT_COMPRESSED_FULL) loadFull(ctx, inode, z, m, lcn);
  else if (inode.layout === F.LAYOUT_COMPRESSED_COMPACT) loadCompact(ctx, inode, z, m, lcn, lookahead);
  else corrupt(`inode ${formatNid(inode.nid)}: not a compressed layout`);
}

/** How many lclusters one extent may span: a pcluster never decodes to more than PCLUSTER_MAX_DSIZE. */
function maxSpan(z: ZInfo): number {
  return Math.ceil(F.PCLUSTER_MAX_DSIZE / z.lclusterSize) + 2;
}

function lookback(ctx: ReaderContext, inode: ErofsInode, z: ZInfo, m: Recorder, distance: number, out: ZMapping): void {
  const startLcn = m.lcn;
  const limit = maxSpan(z);
  while (m.lcn >= distance) {
    const lcn = m.lcn - distance;
    if (startLcn - lcn > limit) break;
    loadLcluster(ctx, inode, z, m, lcn, false);
    if (m.type === F.LCLUSTER_TYPE_NONHEAD) {
      distance = m.delta0;
      if (!distance) break;
      continue;
    }
    m.headtype = m.type;
    out.la = lcn * z.lclusterSize + m.clusterofs;
    return;
  }
  corrupt(`inode ${formatNid(inode.nid)}: bogus lookback distance ${distance} at lcluster ${m.lcn}`);
}

function compressedLength(ctx: ReaderContext, inode: ErofsInode, z: ZInfo, m: Recorder, out: ZMapping): void {
  const big1 = (z.advise & F.ADVISE_BIG_PCLUSTER_1) !== 0;
  const big2 = (z.advise & F.ADVISE_BIG_PCLUSTER_2) !== 0;
  const lcn = m.lcn + 1;
  if (
    (m.headtype === F.LCLUSTER_TYPE_HEAD1 && !big1) ||
    ((m.headtype === F.LCLUSTER_TYPE_PLAIN || m.headtype === F.LCLUSTER_TYPE_HEAD2) && !big2) ||
    lcn * z.lclusterSize >= inode.size
  ) {
    m.compressedblks = 1;
  }
  if (!m.compressedblks) {
    loadLcluster(ctx, inode, z, m, lcn, false);
    if (m.type === F.LCLUSTER_TYPE_NONHEAD && m.delta0 !== 1) corrupt(`inode ${formatNid(inode.nid)}: bogus CBLKCNT at lcluster ${lcn}`);
    if (m.type !== F.LCLUSTER_TYPE_NONHEAD || !m.compressedblks) m.compressedblks = 1;
  }
  out.plen = m.compressedblks * ctx.sb.blockSize;
}

/** The full decoded length of the extent that starts at out.la (the kernel's FIEMAP path). */
function decompressedLength(ctx: ReaderContext, inode: ErofsInode, z: ZInfo, m: Recorder, out: ZMapping): void {
  const unit = z.lclusterSize;
  const headlcn = Math.floor(out.la / unit);
  let lcn = m.lcn;
  const limit = headlcn + maxSpan(z);
  for (;;) {
    if (lcn * unit >= inode.size) {
      out.llen = inode.size - out.la;
      return;
    }
    if (lcn > limit) corrupt(`inode ${formatNid(inode.nid)}: extent at ${out.la} never ends`);
    loadLcluster(ctx, inode, z, m, lcn, true);
    if (m.type === F.LCLUSTER_TYPE_NONHEAD) {
      if (!m.delta1) m.delta1 = 1; // pre-1.0 mkfs wrote 0 here
    } else {
      if (lcn !== headlcn) break;
      m.delta1 = 1;
    }
    lcn += m.delta1;
  }
  out.llen = lcn * unit + m.clusterofs - out.la;
}

/** kernel z_erofs_map_blocks_fo; `findTail` = EROFS_GET_BLOCKS_FINDTAIL (records the tail extent's head). */
function mapFo(ctx: ReaderContext, inode: ErofsInode, z: ZInfo, la: number, findTail: boolean, out: ZMapping): ZMapping {
  const m = recorderAt(mapDepth++);
  try {
    return mapFoWith(ctx, inode, z, la, findTail, out, m);
  } finally {
    mapDepth--;
  }
}

function mapFoWith(ctx: ReaderContext, inode: ErofsInode, z: ZInfo, la: number, findTail: boolean, out: ZMapping, m: Recorder): ZMapping {
  const fragment = (z.advise & F.ADVISE_FRAGMENT_PCLUSTER) !== 0;
  const ztailpacking = z.idataSize > 0;
  const unit = z.lclusterSize;
  const ofs = findTail ? inode.size - 1 : la;
  if (fragment && !findTail && !z.tailExtentHeadLcn) return setMapping(out, 0, inode.size, Z_FRAGMENT);
  setMapping(out, la, 0, 0);
  const initialLcn = Math.floor(ofs / unit);
  const endoff = ofs - initialLcn * unit;
  loadLcluster(ctx, inode, z, m, initialLcn, false);
  if (findTail && ztailpacking) z.fragmentOff = m.nextpackoff;
  out.flags = Z_MAPPED | Z_ENCODED;
  let end = (m.lcn + 1) * unit;
  if (m.type !== F.LCLUSTER_TYPE_NONHEAD && endoff >= m.clusterofs) {
    m.headtype = m.type;
    out.la = m.lcn * unit + m.clusterofs;
    // ztailpacking allows a special EOF lcluster with up to three parts.
    if (ztailpacking && end > inode.size) end = inode.size;
  } else {
    if (m.type !== F.LCLUSTER_TYPE_NONHEAD) {
      if (!m.lcn) corrupt(`${whereOf(inode)}: invalid logical cluster 0`);
      end = m.lcn * unit + m.clusterofs;
      out.flags |= Z_FULL_MAPPED;
      m.delta0 = 1;
    }
    lookback(ctx, inode, z, m, m.delta0, out);
  }
  if (m.partialref) out.flags |= Z_PARTIAL_REF;
  out.llen = end - out.la;

  if (findTail) {
    z.tailExtentHeadLcn = m.lcn;
    // Non-compact indexes keep 64 bits of fragment offset: the high half is the tail head's blkaddr.
    if (fragment && inode.layout === F.LAYOUT_COMPRESSED_FULL) z.fragmentOff += m.pblk * 0x1_0000_0000;
    return out;
  }
  if (ztailpacking && m.lcn === z.tailExtentHeadLcn) {
    out.flags |= Z_META;
    out.pa = z.fragmentOff;
    out.plen = z.idataSize;
    if ((out.pa % ctx.sb.blockSize) + out.plen > ctx.sb.blockSize) corrupt(`${whereOf(inode)}: inline tail pcluster crosses a block`);
  } else if (fragment && m.lcn === z.tailExtentHeadLcn) {
    out.flags = Z_FRAGMENT;
    return out;
  } else {
    out.pa = m.pblk * ctx.sb.blockSize;
    compressedLength(ctx, inode, z, m, out);
  }

  if (m.headtype === F.LCLUSTER_TYPE_PLAIN) {
    out.algorithm = z.advise & F.ADVISE_INTERLACED_PCLUSTER ? F.COMPRESSION_INTERLACED : F.COMPRESSION_SHIFTED;
    const cur = ctx.sb.blockSize - (out.la % ctx.sb.blockSize);
    if (out.flags & Z_META && out.algorithm === F.COMPRESSION_INTERLACED && out.plen < cur) {
      // An inline interlaced tail shorter than its first block part: the kernel (z_erofs_transform_plain)
      // reads it from (inline end - cur) in the same block, so it starts before the inline data.
      if ((out.pa % ctx.sb.blockSize) + out.plen < cur) corrupt(`${whereOf(inode)}: inline interlaced tail starts before its block`);
      out.pa += out.plen - cur;
      out.plen = cur;
      out.algorithm = F.COMPRESSION_SHIFTED;
    }
  } else {
    out.algorithm = m.headtype === F.LCLUSTER_TYPE_HEAD2 ? z.algorithms[1] : z.algorithms[0];
    if (!(ctx.sb.compression.availableAlgorithms & (1 << out.algorithm))) {
      corrupt(`${whereOf(inode)}: algorithm ${out.algorithm} is not in the superblock's list`);
    }
  }
  // Always learn the whole extent, so it is decoded once and cached rather than once per lcluster.
  decompressedLength(ctx, inode, z, m, out);
  if (m.headtype === F.LCLUSTER_TYPE_PLAIN && out.llen > out.plen) corrupt(`${whereOf(inode)}: plain extent longer than its pcluster`);
  return out;
}

/** kernel z_erofs_map_blocks_ext: extent records instead of lcluster indexes. */
function mapExt(ctx: ReaderContext, inode: ErofsInode, z: ZInfo, la: number, out: ZMapping): ZMapping {
  const where = `inode ${formatNid(inode.nid)}`;
  const bs = ctx.sb.blockSize;
  const unit = z.lclusterSize;
  const interlaced = (z.advise & F.ADVISE_INTERLACED_PCLUSTER) !== 0;
  const recsz = 4 << ((z.advise >> F.ADVISE_EXTRECSZ_BIT) & F.ADVISE_EXTRECSZ_MASK);
  let pos = roundUp(roundUp(inode.dataStart, F.MAP_HEADER_ALIGN) + F.MAP_HEADER_SIZE, recsz);
  let lend = inode.size;
  let lstart: number;
  let last: boolean;
  let plen = 0;
  let mpa = 0;
  setMapping(out, la, 0, 0);

  if (recsz <= 8) {
    let pa = -1;
    if (recsz <= 4) {
      pa = le64Safe(ctx.readMeta(pos, 8, inode.inMetabox), 0, `${where} extent base`);
      pos += 8;
      lstart = 0;
    } else {
      lstart = Math.floor(la / unit) * unit;
      pos += (lstart / unit) * recsz;
    }
    if (((la - lstart) / unit) * recsz > ctx.imageSize) corrupt(`${where}: extent table larger than the image`);
    for (; lstart <= la; lstart += unit) {
      const ext = ctx.readMeta(pos, recsz, inode.inMetabox);
      plen = le32(ext, F.EXT_PLEN);
      if (pa >= 0) {
        mpa = pa;
        pa += plen & F.EXTENT_PLEN_MASK;
      } else {
        mpa = le32(ext, F.EXT_PSTART_LO);
      }
      pos += recsz;
    }
    last = lstart >= roundUp(lend, unit);
    lend = Math.min(lstart, lend);
    lstart -= unit;
  } else {
    lstart = lend;
    let l = 0;
    let r = z.extents;
    while (l < r) {
      const mid = l + Math.floor((r - l) / 2);
      const ext = ctx.readMeta(pos + mid * recsz, recsz, inode.inMetabox);
      let ela = le32(ext, F.EXT_LSTART_LO);
      const epa = le32(ext, F.EXT_PSTART_LO) + le32(ext, F.EXT_PSTART_HI) * 0x1_0000_0000;
      if (recsz > F.EXT_LSTART_HI) ela += le32(ext, F.EXT_LSTART_HI) * 0x1_0000_0000;
      if (ela > la) {
        r = mid;
        if (ela > lend) corrupt(`${where}: extent records out of order`);
        lend = ela;
      } else {
        l = mid + 1;
        if (la === ela) r = Math.min(l + 1, r);
        lstart = ela;
        plen = le32(ext, F.EXT_PLEN);
        mpa = epa;
      }
    }
    last = l >= z.extents;
  }

  if (lstart < lend) {
    out.la = lstart;
    if (last && z.advise & F.ADVISE_FRAGMENT_PCLUSTER) {
      out.flags = Z_FRAGMENT;
      z.fragmentOff = plen + (recsz > 4 ? mpa * 0x1_0000_0000 : 0);
    } else if (plen) {
      out.flags = Z_MAPPED | Z_FULL_MAPPED | Z_ENCODED;
      const fmt = plen >>> F.EXTENT_PLEN_FMT_BIT;
      if (fmt) out.algorithm = fmt - 1;
      else if (interlaced && mpa % bs === 0) out.algorithm = F.COMPRESSION_INTERLACED;
      else out.algorithm = F.COMPRESSION_SHIFTED;
      if (plen & F.EXTENT_PLEN_PARTIAL) out.flags |= Z_PARTIAL_REF;
      out.pa = mpa;
      out.plen = plen & F.EXTENT_PLEN_MASK;
    }
  }
  out.llen = lend - out.la;
  return out;
}

/**
 * Maps the compressed inode's logical offset `la` (< size) to the extent that contains it, into `out` when
 * given (the READ path passes a reused one; it holds until the next zMap with the same `out`).
 */
export function zMap(ctx: ReaderContext, inode: ErofsInode, la: number, out: ZMapping = newMapping()): ZMapping {
  const z = zInfo(ctx, inode);
  if (z.wholeFragment) setMapping(out, 0, inode.size, Z_FRAGMENT);
  else if (inode.layout === F.LAYOUT_COMPRESSED_FULL && z.advise & F.ADVISE_EXTENTS) mapExt(ctx, inode, z, la, out);
  else mapFo(ctx, inode, z, la, false, out);
  if (!(out.la <= la && la < out.la + out.llen)) corrupt(`${whereOf(inode)}: extent [${out.la}, +${out.llen}) does not cover offset ${la}`);
  if (out.flags & Z_ENCODED) {
    if (out.plen > F.PCLUSTER_MAX_SIZE || out.plen <= 0) corrupt(`${whereOf(inode)}: pcluster of ${out.plen} bytes`);
    if (out.llen > F.PCLUSTER_MAX_DSIZE) corrupt(`${whereOf(inode)}: extent decodes to ${out.llen} bytes`);
  }
  return out;
}
