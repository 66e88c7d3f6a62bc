// Directories: blocks of dirents (nid, nameoff, file_type) followed by their names, sorted by name bytes.
// Lookup is a binary search over blocks (by each block's first name) and then within the block. Every
// nameoff and name length is checked against the block before use.

import { le16, le32 } from './bytes.js';
import type { ReaderContext } from './context.js';
import { corrupt } from './errors.js';
import * as F from './format.js';
import type { ErofsInode } from './inode.js';
import { encodeNid, formatNid } from './superblock.js';

export interface DirEntry {
  name: Uint8Array;
  /** Encoded nid. */
  nid: number;
  /** EROFS_FT_* */
  fileType: number;
}

export interface DirEntryAt extends DirEntry {
  /** Byte position of this dirent in the directory (block * blockSize + index * 12). */
  pos: number;
}

/** One directory block, read and validated enough to index into. */
export class DirBlock {
  readonly count: number;
  constructor(
    readonly data: Uint8Array,
    /** Index of the block in the directory. */
    readonly index: number,
    private readonly where: string,
    private readonly metaboxAllowed: boolean,
  ) {
    if (data.length < F.DIRENT_SIZE) corrupt(`${where}: directory block ${index} is only ${data.length} bytes`);
    const nameoff0 = le16(data, F.DE_NAMEOFF);
    if (nameoff0 < F.DIRENT_SIZE || nameoff0 >= data.length || nameoff0 % F.DIRENT_SIZE !== 0) {
      corrupt(`${where}: directory block ${index} has invalid de[0].nameoff ${nameoff0}`);
    }
    this.count = nameoff0 / F.DIRENT_SIZE;
  }

  /** The name of dirent `i` as a view into the block. */
  name(i: number): Uint8Array {
    const end = this.nameEnd(i);
    return this.data.subarray(end - this.nameLength, end);
  }

  /** Length of the name that name(), nameStart() or compareName() checked last. */
  nameLength = 0;

  /** Where the name of dirent `i` starts in `data` (its length is then in nameLength). */
  nameStart(i: number): number {
    return this.nameEnd(i) - this.nameLength;
  }

  /**
   * Compares name[0, len) with the name of dirent `i` in place (memcmp, then length: the order EROFS sorts
   * dirents in). Lookup's binary search runs this a dozen times per request: no view is made.
   */
  compareName(i: number, name: Uint8Array, len: number): number {
    const end = this.nameEnd(i);
    const n = this.nameLength;
    const d = this.data;
    const start = end - n;
    const m = n < len ? n : len;
    for (let k = 0; k < m; k++) {
      const diff = name[k]! - d[start + k]!;
      if (diff !== 0) return diff;
    }
    return len - n;
  }

  /** Where the name of dirent `i` ends (its length in nameLength), after checking it against the block. */
  private nameEnd(i: number): number {
    const d = this.data;
    const nameoff = le16(d, i * F.DIRENT_SIZE + F.DE_NAMEOFF);
    let end: number;
    if (i + 1 < this.count) {
      end = le16(d, (i + 1) * F.DIRENT_SIZE + F.DE_NAMEOFF);
    } else {
      // The last name runs to the first NUL or the end of the (possibly short, inline) block.
      if (nameoff >= d.length) corrupt(`${this.where}: trailing dirent name offset ${nameoff} past block ${this.index}`);
      const nul = d.indexOf(0, nameoff);
      end = nul < 0 ? d.length : nul;
    }
    const len = end - nameoff;
    if (nameoff < this.count * F.DIRENT_SIZE || end > d.length || len < 1 || len > F.NAME_LEN) {
      corrupt(`${this.where}: bogus dirent ${i} in block ${this.index} (name at ${nameoff}, length ${len})`);
    }
    this.nameLength = len;
    return end;
  }

  nid(i: number): number {
    const d = this.data;
    const o = i * F.DIRENT_SIZE + F.DE_NID;
    const hi = le32(d, o + 4);
    // the common nid (below 2^32, outside a metabox) without building encodeNid's error label per call
    if (hi === 0) return le32(d, o);
    if (hi & 0x8000_0000 && !this.metaboxAllowed) corrupt(`${this.where}: dirent ${i} points into a metabox the image does not have`);
    return encodeNid(hi, le32(d, o), `${this.where} dirent ${i}`);
  }

  fileType(i: number): number {
    return this.data[i * F.DIRENT_SIZE + F.DE_FILE_TYPE]!;
  }

  entry(i: number): DirEntry {
    return { name: this.name(i), nid: this.nid(i), fileType: this.fileType(i) };
  }
}

export function blockCount(ctx: ReaderContext, dir: ErofsInode): number {
  return Math.ceil(dir.size / ctx.sb.blockSize);
}

/** Reads block `index` of `dir` (the last one may be shorter, e.g. an inline tail). */
export function readDirBlock(ctx: ReaderContext, dir: ErofsInode, index: number): DirBlock {
  const bs = ctx.sb.blockSize;
  const start = index * bs;
  const len = Math.min(bs, dir.size - start);
  if (len <= 0) corrupt(`inode ${formatNid(dir.nid)}: directory block ${index} past the end`);
  const buf = new Uint8Array(len);
  const got = ctx.readDataInto(dir, start, len, buf, 0);
  if (got !== len) corrupt(`inode ${formatNid(dir.nid)}: short directory block ${index}`);
  return new DirBlock(buf, index, `directory ${formatNid(dir.nid)}`, ctx.sb.metaboxNid !== undefined);
}

/**
 * Finds `name` in the directory: binary search on the first name of each block to pick the block, then
 * binary search inside it. A corrupt (unsorted) directory can make this miss, never loop.
 */
export function lookupName(
  ctx: ReaderContext,
  dir: ErofsInode,
  name: Uint8Array,
  readBlock: (index: number) => DirBlock = (i) => readDirBlock(ctx, dir, i),
  nameLen = name.length,
): DirEntry | undefined {
  let head = 0;
  let back = blockCount(ctx, dir) - 1;
  let candidate: DirBlock | undefined;
  while (head <= back) {
    const mid = head + Math.floor((back - head) / 2);
    const blk = readBlock(mid);
    const diff = blk.compareName(0, name, nameLen);
    if (diff === 0) return blk.entry(0);
    if (diff < 0) {
      back = mid - 1;
    } else {
      candidate = blk;
      head = mid + 1;
    }
  }
  if (!candidate) return undefined;
  let lo = 1;
  let hi = candidate.count - 1;
  while (lo <= hi) {
    const mid = lo + Math.floor((hi - lo) / 2);
    const diff = candidate.compareName(mid, name, nameLen);
    if (diff === 0) return candidate.entry(mid);
    if (diff < 0) hi = mid - 1;
    else lo = mid + 1;
  }
  return undefined;
}

/**
 * Dirents from byte position `from` on (a position a previous call returned as `pos + 12`, or 0). Positions
 * are stable: they are where the dirent sits in the directory, so a reader can resume anywhere.
 */
export function* iterateDir(
  ctx: ReaderContext,
  dir: ErofsInode,
  from = 0,
  readBlock: (index: number) => DirBlock = (i) => readDirBlock(ctx, dir, i),
): Generator<DirEntryAt> {
  const bs = ctx.sb.blockSize;
  const nblocks = blockCount(ctx, dir);
  let b = Math.floor(from / bs);
  let i = Math.ceil((from - b * bs) / F.DIRENT_SIZE);
  for (; b < nblocks; b++, i = 0) {
    const blk = readBlock(b);
    for (; i < blk.count; i++) {
      const e = blk.entry(i) as DirEntryAt;
      e.pos = b * bs + i * F.DIRENT_SIZE;
      yield e;
    }
  }
}

export function fileTypeToMode(ft: number): number {
  switch (ft) {
    case F.FT_REG_FILE: return F.S_IFREG;
    case F.FT_DIR: return F.S_IFDIR;
    case F.FT_CHRDEV: return F.S_IFCHR;
    case F.FT_BLKDEV: return F.S_IFBLK;
    case F.FT_FIFO: return F.S_IFIFO;
    case F.FT_SOCK: return F.S_IFSOCK;
    case F.FT_SYMLINK: return F.S_IFLNK;
    default: return 0;
  }
}

export function modeToFileType(mode: number): number {
  switch (mode & F.S_IFMT) {
    case F.S_IFREG: return F.FT_REG_FILE;
    case F.S_IFDIR: return F.FT_DIR;
    case F.S_IFCHR: return F.FT_CHRDEV;
    case F.S_IFBLK: return F.FT_BLKDEV;
    case F.S_IFIFO: return F.FT_FIFO;
    case F.S_IFSOCK: return F.FT_SOCK;
    case F.S_IFLNK: return F.FT_SYMLINK;
    default: return F.FT_UNKNOWN;
  }
}
