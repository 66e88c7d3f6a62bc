// Block mapping for the uncompressed layouts: FLAT_PLAIN (contiguous blocks or none), FLAT_INLINE (blocks
// plus a tail stored right after the inode), CHUNK_BASED (a table of per-chunk block addresses, where a null
// address is a hole). Mirrors the kernel's erofs_map_blocks.

import { le16, le32 } from './bytes.js';
import type { ReaderContext } from './context.js';
import { UnsupportedFeatureError, corrupt } from './errors.js';
import * as F from './format.js';
import type { ErofsInode } from './inode.js';
import { formatNid } from './superblock.js';

export const enum MapKind {
  Hole = 0,
  Image = 1,
  /** Inline (tail) data in the metadata space of the inode. */
  Meta = 2,
}

export interface FlatMapping {
  /** Logical start of the mapped extent. */
  la: number;
  /** Logical length (may extend past EOF for the last block; callers clamp to the inode size). */
  llen: number;
  kind: MapKind;
  /** Physical position of `la` (image offset, or metadata position for Meta). */
  pa: number;
}

export function mapFlat(ctx: ReaderContext, inode: ErofsInode, la: number): FlatMapping {
  const bs = ctx.sb.blockSize;
  const size = inode.size;
  if (la >= size) return { la, llen: 0, kind: MapKind.Hole, pa: 0 };

  if (inode.layout === F.LAYOUT_FLAT_PLAIN || inode.layout === F.LAYOUT_FLAT_INLINE) {
    const tailpacking = inode.layout === F.LAYOUT_FLAT_INLINE;
    if (!tailpacking && inode.startBlk < 0) return { la, llen: size - la, kind: MapKind.Hole, pa: 0 };
    const nblocks = Math.ceil(size / bs);
    const tailStart = (nblocks - (tailpacking ? 1 : 0)) * bs;
    if (la < tailStart) {
      const pa = inode.startBlk * bs + la;
      return { la, llen: tailStart - la, kind: MapKind.Image, pa };
    }
    // The tail must sit in the same metadata block as the end of the inode: that is what makes it inline.
    const tailPos = inode.dataStart;
    const tailLen = size - tailStart;
    if ((tailPos % bs) + tailLen > bs) corrupt(`inode ${formatNid(inode.nid)}: inline data crosses a block boundary`);
    return { la, llen: size - la, kind: MapKind.Meta, pa: tailPos + (la - tailStart) };
  }

  if (inode.layout === F.LAYOUT_CHUNK_BASED) {
    const indexes = (inode.chunkFormat & F.CHUNK_FORMAT_INDEXES) !== 0;
    const unit = indexes ? F.CHUNK_INDEX_SIZE : F.BLOCK_MAP_ENTRY_SIZE;
    const chunkSize = 2 ** inode.chunkBits;
    const chunkNr = Math.floor(la / chunkSize);
    const pos = Math.ceil(inode.dataStart / unit) * unit + unit * chunkNr;
    const e = ctx.readMeta(pos, unit, inode.inMetabox);
    const start = chunkNr * chunkSize;
    const llen = Math.min(chunkSize, size - start);
    let blk: number;
    if (indexes) {
      const hi = le16(e, F.CI_STARTBLK_HI);
      const deviceId = le16(e, F.CI_DEVICE_ID);
      const lo = le32(e, F.CI_STARTBLK_LO);
      const wide = (inode.chunkFormat & F.CHUNK_FORMAT_48BIT) !== 0;
      blk = (wide ? hi : 0) * 0x1_0000_0000 + lo;
      if (blk === (wide ? 0xffff_ffff_ffff : 0xffff_ffff)) return { la: start, llen, kind: MapKind.Hole, pa: 0 };
      if (deviceId & deviceIdMask(ctx)) {
        throw new UnsupportedFeatureError(`inode ${formatNid(inode.nid)}: data on extra device ${deviceId}`);
      }
    } else {
      blk = le32(e, 0);
      if (blk === 0xffff_ffff) return { la: start, llen, kind: MapKind.Hole, pa: 0 };
    }
    return { la: start, llen, kind: MapKind.Image, pa: blk * ctx.sb.blockSize };
  }
  corrupt(`inode ${formatNid(inode.nid)}: layout ${inode.layout} is not a flat layout`);
}

function deviceIdMask(ctx: ReaderContext): number {
  const n = ctx.sb.extraDevices;
  if (!n) return 0;
  let m = 1;
  while (m < n + 1) m *= 2;
  return m - 1;
}
