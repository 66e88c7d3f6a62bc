// Read-ahead for tree walks (find, du, ls -R, a cold READDIRPLUS of every directory): what a walk reads next
// is known one level early. A directory block read for the first time names its subdirectories, whose inodes
// the listing (READDIRPLUS attributes) and the walk read next; a directory inode read for the first time
// points at the blocks its own listing reads next. On an image whose pages are not in the page cache, each of
// those was one disk wait after another (a cold find of the bench tree: 180 reads of 4 KiB, one per
// directory, scattered over the last 20 MB of a mkfs.erofs image). Hinting them to the source
// (ByteSource.willNeed: posix_fadvise WILLNEED for a file) lets the disk serve them side by side while the
// server answers. Only misses are hinted: a warm cache costs nothing here, and nothing here reads or throws.

import type { ByteSource } from '../bytesource.js';
import type { DirBlock } from './dir.js';
import * as F from './format.js';
import { type ErofsInode, inodeLocation } from './inode.js';
import type { LruCache } from './lru.js';
import type { PageSlots } from './page-slots.js';
import { type Superblock, nidInMetabox } from './superblock.js';

/** Blocks of one directory's data hinted at most (a directory of thousands of names is listed in parts). */
const DIR_BLOCKS_AHEAD = 8;

export class WalkAhead {
  constructor(
    private readonly source: ByteSource & { willNeed(offset: number, length: number): void },
    private readonly sb: Superblock,
    private readonly pageSize: number,
    private readonly pages: PageSlots,
    private readonly inodes: LruCache<number, ErofsInode>,
  ) {}

  /** A walker for `source`, if it takes hints. */
  static of(source: ByteSource, sb: Superblock, pageSize: number, pages: PageSlots, inodes: LruCache<number, ErofsInode>): WalkAhead | undefined {
    if (typeof source.willNeed !== 'function') return undefined;
    return new WalkAhead(source as ByteSource & { willNeed(offset: number, length: number): void }, sb, pageSize, pages, inodes);
  }

  /** The pages of the inodes of `blk`'s subdirectories that are not held ("." and ".." always are). */
  subdirInodes(blk: DirBlock): void {
    const ps = this.pageSize;
    let last = -1;
    try {
      for (let i = 0; i < blk.count; i++) {
        if (blk.fileType(i) !== F.FT_DIR) continue;
        const nid = blk.nid(i);
        if (nidInMetabox(nid) || this.inodes.has(nid)) continue;
        const page = Math.floor(inodeLocation(this.sb, nid) / ps);
        // subdirectories' inodes often share a page (mkfs.erofs writes a directory's children together)
        if (page === last || this.pages.holds(page)) continue;
        last = page;
        this.source.willNeed(page * ps, Math.min(ps, this.source.size - page * ps));
      }
    } catch {
      // a corrupt dirent: the listing that reads it reports it
    }
  }

  /** The first blocks of a directory's listing that lie outside its inode (flat layouts; inline tails are read with it). */
  dirData(dir: ErofsInode): void {
    if (dir.startBlk < 0) return;
    const bs = this.sb.blockSize;
    let blocks: number;
    if (dir.layout === F.LAYOUT_FLAT_PLAIN) blocks = Math.ceil(dir.size / bs);
    else if (dir.layout === F.LAYOUT_FLAT_INLINE) blocks = Math.ceil(dir.size / bs) - 1;
    else return;
    if (blocks <= 0) return;
    const start = dir.startBlk * bs;
    const len = Math.min(blocks, DIR_BLOCKS_AHEAD) * bs;
    if (start + len <= this.source.size) this.source.willNeed(start, len);
  }
}
