// ErofsReader: the public face of the image reader. It owns the byte source and the caches (metadata pages,
// decoded inodes, decoded compressed extents, directory blocks) and exposes inode/dir/xattr/data access.
// Opening reads the superblock only: nothing scans the image, so time to first stat does not grow with it.

import type { ByteSource } from '../bytesource.js';
import { BufferByteSource, isViewable } from '../buffer-byte-source.js';
import { FileByteSource } from '../file-byte-source.js';
import { toBytes } from './bytes.js';
import { DEFAULT_READER_CACHE_BYTES, DIR_BLOCK_OVERHEAD, INODE_WEIGHT, splitBudget } from './cache-budget.js';
import type { ReaderContext } from './context.js';
import { type DecompressRequest, decompressInto } from './decompress.js';
import { decodeLz4Into } from './extent-decode.js';
import { type DirBlock, type DirEntry, type DirEntryAt, blockCount, iterateDir, lookupName, readDirBlock } from './dir.js';
import { CorruptImageError, corrupt } from './errors.js';
import { Errno, ERRNO } from '../../protocol/errno.js';
import { hasEscapedBytes } from '../../protocol/names.js';
import { MapKind, mapFlat } from './flatmap.js';
import * as F from './format.js';
import { type ErofsInode, decodeInode, inodeLocation, isCompressedLayout } from './inode.js';
import { LruCache, UNBOUNDED } from './lru.js';
import { ExtentRing, extentKey } from './extent-ring.js';
import { PageSlots } from './page-slots.js';
import { WalkAhead } from './walk-ahead.js';
import { type Superblock, formatNid, nidInMetabox, parseSuperblock } from './superblock.js';
import { type LongPrefix, type XattrRecord, getXattr, loadLongPrefixes, readXattrs } from './xattr.js';
import { Z_ENCODED, Z_FRAGMENT, Z_MAPPED, Z_META, type ZMapping, newMapping, zInfo, zMap } from './zmap.js';

// The caches' weights: module-level functions, one for every reader (see LruCache's constructor).
function weighInode(): number {
  return INODE_WEIGHT;
}
function weighDirBlock(b: DirBlock): number {
  return b.data.length + DIR_BLOCK_OVERHEAD;
}

export interface ReaderOptions {
  /**
   * Bytes all of this reader's caches may hold together (--cache-size, per worker); default 16 MiB, split
   * by splitBudget (cache-budget.ts). The counts below, when given, bound a cache further.
   */
  cacheBytes?: number;
  /** Metadata pages (4 KiB or one block) kept in memory. */
  metaCachePages?: number;
  /** Bytes of decoded compressed extents kept in memory (at most the budget's share). */
  extentCacheBytes?: number;
  /** Decoded inodes kept. */
  inodeCacheEntries?: number;
  /** Directory blocks kept (decoded). */
  dirCacheBlocks?: number;
}

/** Bytes each cache of a reader holds right now (what --cache-size bounds). */
export interface CacheUsage {
  meta: number;
  inodes: number;
  dirs: number;
  extents: number;
  total: number;
}

export type ImageInput = string | ByteSource | Uint8Array | ArrayBuffer | SharedArrayBuffer;

/** Directory block cache keys nid * DIR_KEY_BLOCKS + index stay exact below these bounds. */
const DIR_KEY_BLOCKS = 8192;
const DIR_KEY_NID_LIMIT = 2 ** 40;
/** Most image bytes one pcluster read takes for the rest of its READ (a 128 KiB READ of lz4hc data needs less). */
const PCLUSTER_WINDOW = 256 * 1024;

const EMPTY = new Uint8Array(0);

/** Nested reads (metabox -> packed inode -> ...) deeper than this mean a loop in a corrupt image. */
const MAX_READ_DEPTH = 6;

/** Fewest metadata page slots, whatever the budget (a lookup touches a few pages in a row). */
const MIN_META_SLOTS = 16;

export class ErofsReader implements ReaderContext {
  readonly source: ByteSource;
  readonly sb: Superblock;
  readonly imageSize: number;
  private readonly ownsSource: boolean;
  private readonly pageSize: number;
  /** Metadata pages, in fixed slots of one buffer. */
  private readonly pages: PageSlots;
  private readonly inodes: LruCache<number, ErofsInode>;
  /** Decoded extents that a READ cut, in one ring buffer. */
  private readonly extents: ExtentRing;
  private readonly dirBlocks: LruCache<number | string, DirBlock>;
  /** Read-ahead of a tree walk's next reads, for a source that takes hints (walk-ahead.ts). */
  private readonly ahead: WalkAhead | undefined;
  private prefixes: LongPrefix[] | undefined;
  private depth = 0;
  /** One reused mapping per read nesting level (readCompressed holds its mapping across nested reads). */
  private readonly zScratch: ZMapping[] = [];
  /** The array metaAt's offsets index; see ReaderContext.metaAt. */
  metaBuf: Uint8Array = new Uint8Array(0);
  /** Compressed input of one pcluster, reused by every decode (grown to the largest plen seen). */
  private pclusterBuf = new Uint8Array(0);
  /** Image bytes [winStart, winEnd) in pclusterBuf: back-to-back pclusters of one READ come from one pread. */
  private winStart = 0;
  private winEnd = 0;

  constructor(source: ByteSource, options: ReaderOptions = {}, ownsSource = false) {
    this.source = source;
    this.ownsSource = ownsSource;
    this.imageSize = source.size;
    const headLen = Math.min(source.size, F.EROFS_SUPER_OFFSET + 65536);
    const head = new Uint8Array(headLen);
    source.readInto(head, 0, 0, headLen);
    this.sb = parseSuperblock(head, source.size);
    this.pageSize = Math.max(4096, this.sb.blockSize);
    const b = splitBudget(options.cacheBytes ?? DEFAULT_READER_CACHE_BYTES);
    // Both buffers are allocated once, here, at their full size (zero-filled: untouched pages cost nothing).
    this.pages = new PageSlots(this.pageSize, Math.max(MIN_META_SLOTS, Math.min(options.metaCachePages ?? Infinity, Math.floor(b.metaBytes / this.pageSize))));
    this.inodes = new LruCache(options.inodeCacheEntries ?? UNBOUNDED, b.inodeBytes, weighInode);
    this.extents = new ExtentRing(Math.min(b.extentBytes, options.extentCacheBytes ?? Infinity));
    this.dirBlocks = new LruCache(options.dirCacheBlocks ?? UNBOUNDED, b.dirBytes, weighDirBlock);
    this.ahead = WalkAhead.of(source, this.sb, this.pageSize, this.pages, this.inodes);
  }

  /** What the caches hold (bytes, by their weights), e.g. to check --cache-size. */
  cacheUsage(): CacheUsage {
    const u = { meta: this.pages.weight, inodes: this.inodes.weight, dirs: this.dirBlocks.weight, extents: this.extents.weight };
    return { ...u, total: u.meta + u.inodes + u.dirs + u.extents + this.pclusterBuf.length };
  }

  /** Opens an image from a path (pread), memory (Buffer, ArrayBuffer, SharedArrayBuffer) or a ByteSource. */
  static open(input: ImageInput, options: ReaderOptions = {}): ErofsReader {
    let src: ByteSource;
    let owns = true;
    if (typeof input === 'string') src = new FileByteSource(input);
    else if (input instanceof Uint8Array || input instanceof ArrayBuffer || input instanceof SharedArrayBuffer) {
      src = new BufferByteSource(input);
    } else {
      src = input;
      owns = false;
    }
    try {
      return new ErofsReader(src, options, owns);
    } catch (e) {
      if (owns) src.close?.();
      throw e;
    }
  }

  close(): void {
    if (this.ownsSource) this.source.close?.();
    this.pages.clear();
    this.inodes.clear();
    this.extents.clear();
    this.dirBlocks.clear();
  }

  get rootNid(): number {
    return this.sb.rootNid;
  }

  get blockSize(): number {
    return this.sb.blockSize;
  }

  /** True when the image carries the composefs header (made by mkcomposefs). */
  get isComposefs(): boolean {
    return this.sb.composefs !== undefined;
  }

  // ---- raw access -------------------------------------------------------------------------------------------

  readImage(pos: number, len: number): Uint8Array {
    if (!(pos >= 0 && len >= 0 && pos + len <= this.imageSize)) {
      corrupt(`read of [${pos}, +${len}) outside the ${this.imageSize}-byte image`);
    }
    if (isViewable(this.source)) return this.source.view(pos, len);
    const at = this.inOnePage(pos, len);
    if (at >= 0) return this.pages.bytes.subarray(at, at + len);
    const out = new Uint8Array(len);
    this.readImageInto(out, 0, pos, len);
    return out;
  }

  readImageInto(dst: Uint8Array, dstOffset: number, pos: number, len: number, aheadEnd?: number): void {
    if (!(pos >= 0 && len >= 0 && pos + len <= this.imageSize)) {
      corrupt(`read of [${pos}, +${len}) outside the ${this.imageSize}-byte image`);
    }
    this.source.readInto(dst, dstOffset, pos, len, aheadEnd);
  }

  /**
   * Where image bytes [pos, +len) are in `pages.bytes` when they lie in one page (read into a slot on a miss),
   * else -1. Valid until the next page is loaded.
   */
  private inOnePage(pos: number, len: number): number {
    const ps = this.pageSize;
    const first = Math.floor(pos / ps);
    if (len <= 0 || first !== Math.floor((pos + len - 1) / ps)) return -1;
    return this.pageSlot(first) * this.pages.slotSize + (pos - first * ps);
  }

  /** The slot holding page `index` (read into one on a miss). */
  private pageSlot(index: number): number {
    const pages = this.pages;
    let s = pages.lookup(index);
    if (s < 0) {
      const start = index * this.pageSize;
      const len = Math.min(this.pageSize, this.imageSize - start);
      s = pages.claim();
      // Published only once the read succeeded: a failed read leaves the slot free, never stale.
      this.source.readInto(pages.bytes, s * pages.slotSize, start, len);
      pages.publish(s, index, len);
    }
    return s;
  }

  metaAt(pos: number, len: number, inMetabox: boolean): number {
    // The common case, one page of the image: an offset into the slots, no view object made.
    if (!inMetabox && !isViewable(this.source) && pos >= 0 && pos + len <= this.imageSize) {
      const at = this.inOnePage(pos, len);
      if (at >= 0) {
        this.metaBuf = this.pages.bytes;
        return at;
      }
    }
    this.metaBuf = this.readMeta(pos, len, inMetabox);
    return 0;
  }

  readMeta(pos: number, len: number, inMetabox: boolean): Uint8Array {
    if (!inMetabox) return this.readImage(pos, len);
    const box = this.metabox();
    if (!(pos >= 0 && len >= 0 && pos + len <= box.size)) {
      corrupt(`metadata read [${pos}, +${len}) outside the ${box.size}-byte metabox`);
    }
    const out = new Uint8Array(len);
    this.readDataInto(box, pos, len, out, 0);
    return out;
  }

  private metabox(): ErofsInode {
    const nid = this.sb.metaboxNid;
    if (nid === undefined) corrupt('metabox access in an image without a metabox');
    return this.inode(nid);
  }

  // ---- inodes -----------------------------------------------------------------------------------------------

  inode(nid: number): ErofsInode {
    let ino = this.inodes.get(nid);
    if (ino) return ino;
    const iloc = inodeLocation(this.sb, nid);
    const inMetabox = nidInMetabox(nid);
    const spaceEnd = inMetabox ? this.metabox().size : this.imageSize;
    if (iloc + F.COMPACT_INODE_SIZE > spaceEnd) corrupt(`inode ${formatNid(nid)} lies past the end of its area`);
    const raw = this.readMeta(iloc, Math.min(F.EXTENDED_INODE_SIZE, spaceEnd - iloc), inMetabox);
    ino = decodeInode(this.sb, nid, iloc, raw);
    // Inline xattrs and (for non-compressed layouts) the inline tail must exist in the same area.
    if (ino.dataStart > spaceEnd) corrupt(`inode ${formatNid(nid)}: xattr body runs past the end of its area`);
    // Flat data is contiguous blocks of this image: a size that needs blocks past its end is impossible
    // (checked here, before anyone sizes a buffer by it).
    if (ino.layout === F.LAYOUT_FLAT_INLINE || (ino.layout === F.LAYOUT_FLAT_PLAIN && ino.startBlk >= 0)) {
      const bs = this.sb.blockSize;
      const blocks = Math.ceil(ino.size / bs) - (ino.layout === F.LAYOUT_FLAT_INLINE ? 1 : 0);
      if (blocks > 0 && (ino.startBlk + blocks) * bs > this.imageSize) {
        corrupt(`inode ${formatNid(nid)}: ${ino.size} bytes of data would run past the end of the image`);
      }
      if (ino.layout === F.LAYOUT_FLAT_INLINE && (ino.dataStart % bs) + (ino.size - Math.max(0, blocks) * bs) > bs) {
        corrupt(`inode ${formatNid(nid)}: inline data crosses a block boundary`);
      }
    }
    this.inodes.set(nid, ino);
    if (this.ahead !== undefined && (ino.mode & F.S_IFMT) === F.S_IFDIR) this.ahead.dirData(ino);
    return ino;
  }

  root(): ErofsInode {
    const r = this.inode(this.sb.rootNid);
    if ((r.mode & F.S_IFMT) !== F.S_IFDIR) corrupt(`root inode ${formatNid(r.nid)} is not a directory`);
    return r;
  }

  // ---- data -------------------------------------------------------------------------------------------------

  /** Reads up to `length` bytes at `offset` (fewer at EOF). */
  read(inode: ErofsInode, offset: number, length: number): Uint8Array {
    const n = Math.max(0, Math.min(length, inode.size - offset));
    if (n > 0x7fff_ffff) throw new Errno(ERRNO.EFBIG, `read of ${n} bytes in one piece`);
    // Not zero-filled: every byte is written below (holes are filled explicitly), and skipping the fill
    // makes large reads several times cheaper.
    const out = Buffer.allocUnsafe(n);
    if (n) this.readDataInto(inode, offset, n, out, 0);
    return out;
  }

  readDataInto(inode: ErofsInode, offset: number, length: number, dst: Uint8Array, dstOffset: number): number {
    if (!(offset >= 0 && length >= 0)) throw new RangeError(`bad read range ${offset} +${length}`);
    const n = Math.max(0, Math.min(length, inode.size - offset));
    if (!n) return 0;
    if (dstOffset + n > dst.length) throw new RangeError('read buffer too small');
    if (++this.depth > MAX_READ_DEPTH) {
      this.depth--;
      corrupt(`inode ${formatNid(inode.nid)}: data reads nest too deeply (a metabox/packed inode loop)`);
    }
    try {
      if (isCompressedLayout(inode.layout)) this.readCompressed(inode, offset, n, dst, dstOffset);
      else this.readFlat(inode, offset, n, dst, dstOffset);
    } finally {
      this.depth--;
    }
    return n;
  }

  private readFlat(inode: ErofsInode, offset: number, n: number, dst: Uint8Array, dstOffset: number): void {
    const flatWhole = inode.layout === F.LAYOUT_FLAT_PLAIN || inode.layout === F.LAYOUT_FLAT_INLINE;
    let pos = offset;
    const end = offset + n;
    while (pos < end) {
      const m = mapFlat(this, inode, pos);
      const segEnd = Math.min(end, m.la + m.llen);
      if (!(m.la <= pos && segEnd > pos)) corrupt(`inode ${formatNid(inode.nid)}: mapping makes no progress at ${pos}`);
      const len = segEnd - pos;
      const at = dstOffset + (pos - offset);
      if (m.kind === MapKind.Hole) {
        dst.fill(0, at, at + len);
      } else if (m.kind === MapKind.Image) {
        // A flat file's data is one extent: read-ahead past its end would fetch another file's blocks (remote
        // images). Chunk-based files map chunk by chunk, and their chunks are usually adjacent: no limit there.
        this.readImageInto(dst, at, m.pa + (pos - m.la), len, flatWhole ? m.pa + m.llen : undefined);
      } else {
        dst.set(this.readMeta(m.pa + (pos - m.la), len, inode.inMetabox), at);
      }
      pos = segEnd;
    }
  }

  private readCompressed(inode: ErofsInode, offset: number, n: number, dst: Uint8Array, dstOffset: number): void {
    let pos = offset;
    const end = offset + n;
    while (pos < end) {
      const m = zMap(this, inode, pos, (this.zScratch[this.depth] ??= newMapping()));
      const segEnd = Math.min(end, m.la + m.llen);
      const len = segEnd - pos;
      const at = dstOffset + (pos - offset);
      if (m.flags & Z_FRAGMENT) {
        this.readFragment(inode, zInfo(this, inode).fragmentOff + (pos - m.la), len, dst, at);
      } else if (!(m.flags & Z_MAPPED)) {
        dst.fill(0, at, at + len);
      } else if (pos === m.la && segEnd === m.la + m.llen) {
        // The READ covers the whole extent (tar, cp: sequential whole-file reads): decode straight into
        // the reply, nothing cached, nothing allocated.
        this.decodeExtentInto(inode, m, dst, at, end - m.la);
      } else {
        // Part of an extent: decode it once and keep it, the next READ usually wants the rest.
        const decoded = this.decodeExtent(inode, m, end - m.la);
        dst.set(decoded.subarray(pos - m.la, segEnd - m.la), at);
      }
      pos = segEnd;
    }
  }

  private readFragment(inode: ErofsInode, pos: number, len: number, dst: Uint8Array, at: number): void {
    const packedNid = this.sb.packedNid;
    if (!packedNid) corrupt(`inode ${formatNid(inode.nid)}: fragment data but no packed inode`);
    if (inode.nid === packedNid) corrupt('the packed inode refers to a fragment of itself');
    const packed = this.inode(packedNid);
    if (pos + len > packed.size) corrupt(`inode ${formatNid(inode.nid)}: fragment runs past the packed inode`);
    this.readDataInto(packed, pos, len, dst, at);
  }

  /** The whole decoded extent, from the ring (decoded into it on a miss), or a new array when it does not fit. */
  private decodeExtent(inode: ErofsInode, m: ZMapping, ahead = 0): Uint8Array {
    const ring = this.extents;
    const key = extentKey(inode.nid, m.la);
    let at = ring.lookup(key, m.llen);
    if (at >= 0) return ring.bytes.subarray(at, at + m.llen);
    // The input first: reading it may decode other extents (a metabox), which must not land on this claim.
    const input = this.pclusterInput(inode, m, ahead);
    const claim = ring.claim(m.llen);
    if (claim < 0) return this.decodeInput(inode, m, input, undefined, 0);
    at = ring.offsetOf(claim);
    this.decodeInput(inode, m, input, ring.bytes, at);
    ring.commit(key, claim);
    return ring.bytes.subarray(at, at + m.llen);
  }

  /**
   * The pcluster's bytes: from the metadata space, or read into the reused input buffer (not cached: the page
   * cache has them). `ahead`: decoded bytes the current READ still wants from this extent on. A file's
   * pclusters lie back to back in the image, so the read also takes what the rest of the READ will likely
   * need (capped at PCLUSTER_WINDOW): about one pread per READ instead of one per pcluster (a tar of /usr made
   * 658k preads for 175k READs).
   */
  private pclusterInput(inode: ErofsInode, m: ZMapping, ahead = 0): Uint8Array {
    if (!(m.flags & Z_ENCODED)) corrupt(`inode ${formatNid(inode.nid)}: mapped extent without encoding`);
    if (m.flags & Z_META) return this.readMeta(m.pa, m.plen, inode.inMetabox);
    if (isViewable(this.source)) return this.readImage(m.pa, m.plen);
    if (m.plen > F.PCLUSTER_MAX_DSIZE) corrupt(`inode ${formatNid(inode.nid)}: pcluster of ${m.plen} bytes`);
    if (m.pa >= this.winStart && m.pa + m.plen <= this.winEnd) {
      const from = m.pa - this.winStart;
      return this.pclusterBuf.subarray(from, from + m.plen);
    }
    // What the rest of the READ needs, guessed from this pcluster's ratio (over-reading copies bytes for nothing).
    const bs = this.sb.blockSize;
    const want = Math.min(PCLUSTER_WINDOW, Math.ceil((ahead * m.plen) / Math.max(1, m.llen) / bs) * bs + bs);
    const span = Math.max(m.plen, Math.min(want, this.imageSize - m.pa));
    if (this.pclusterBuf.length < span) this.pclusterBuf = new Uint8Array(Math.max(span, 2 * this.pclusterBuf.length, 65536));
    // Forgotten first: a failed read must not leave a window over bytes that were never read.
    this.winStart = this.winEnd = 0;
    this.readImageInto(this.pclusterBuf, 0, m.pa, span);
    this.winStart = m.pa;
    this.winEnd = m.pa + span;
    return this.pclusterBuf.subarray(0, m.plen);
  }

  /**
   * Decodes the extent into dst at `at` (LZ4 writes there directly; other algorithms are copied from the
   * decoder's output), or into a new array when dst is undefined. Returns the decoded bytes.
   */
  private decodeExtentInto(inode: ErofsInode, m: ZMapping, dst: Uint8Array | undefined, at: number, ahead = 0): Uint8Array {
    return this.decodeInput(inode, m, this.pclusterInput(inode, m, ahead), dst, at);
  }

  /** decodeExtentInto with the pcluster's bytes already read; every byte of dst[at, at + llen) is written or it throws. */
  private decodeInput(inode: ErofsInode, m: ZMapping, input: Uint8Array, dst: Uint8Array | undefined, at: number): Uint8Array {
    const zeroPadding = (this.sb.featureIncompat & F.INCOMPAT_LZ4_0PADDING) !== 0;
    // A plain Uint8Array view either way (not a Buffer subarray): the decoders' loops then see one kind of array.
    const out = dst ? new Uint8Array(dst.buffer, dst.byteOffset + at, m.llen) : new Uint8Array(m.llen);
    if (m.algorithm === F.COMPRESSION_LZ4) {
      decodeLz4Into(input, out, m.llen, this.sb.blockSize, zeroPadding);
      return out;
    }
    const req = this.decodeRequest;
    req.algorithm = m.algorithm;
    req.input = input;
    req.outputLength = m.llen;
    req.blockSize = this.sb.blockSize;
    req.lz4ZeroPadding = zeroPadding;
    req.interlacedOffset = m.la % this.sb.blockSize;
    try {
      decompressInto(req, out, 0);
    } finally {
      req.input = EMPTY; // the input buffer is reused: keep no view of it
    }
    return out;
  }

  /** Reused by decodeInput for every pcluster that is not LZ4. */
  private readonly decodeRequest: DecompressRequest = { algorithm: 0, input: EMPTY, outputLength: 0, blockSize: 0, lz4ZeroPadding: false, interlacedOffset: 0 };

  /** The compressed extent layout of an inode, for diagnostics (`erofs info`). */
  extentAt(inode: ErofsInode, offset: number): ZMapping {
    if (!isCompressedLayout(inode.layout)) throw new RangeError('not a compressed inode');
    return zMap(this, inode, offset);
  }

  readlink(inode: ErofsInode): Uint8Array {
    if ((inode.mode & F.S_IFMT) !== F.S_IFLNK) corrupt(`inode ${formatNid(inode.nid)} is not a symlink`);
    return this.read(inode, 0, inode.size);
  }

  // ---- directories ------------------------------------------------------------------------------------------

  private dirBlock(dir: ErofsInode, index: number): DirBlock {
    // A number key while nid and index fit together below 2^53 (every image seen in practice): a string
    // key costs a concatenation and a string hash on every probe of lookup's binary search.
    const key = dir.nid < DIR_KEY_NID_LIMIT && index < DIR_KEY_BLOCKS ? dir.nid * DIR_KEY_BLOCKS + index : `${dir.nid}:${index}`;
    let b = this.dirBlocks.get(key);
    if (!b) {
      b = readDirBlock(this, dir, index);
      this.dirBlocks.set(key, b);
      if (this.ahead !== undefined) this.ahead.subdirInodes(b);
    }
    return b;
  }

  private requireDir(dir: ErofsInode): void {
    if ((dir.mode & F.S_IFMT) !== F.S_IFDIR) throw new CorruptImageError(`inode ${formatNid(dir.nid)} is not a directory`);
  }

  lookup(dir: ErofsInode, name: string | Uint8Array): DirEntry | undefined {
    this.requireDir(dir);
    const read = (i: number): DirBlock => this.dirBlock(dir, i);
    // The common name (valid UTF-8, at most 255 bytes) is encoded into one reused buffer, not a new one.
    if (typeof name === 'string' && name.length <= F.NAME_LEN && !hasEscapedBytes(name)) {
      const len = this.nameBuf.write(name, 0, 'utf8');
      return lookupName(this, dir, this.nameBuf, read, len);
    }
    return lookupName(this, dir, toBytes(name), read);
  }

  /** A name being looked up, as UTF-8 (255 UTF-16 units take at most 765 bytes). */
  private readonly nameBuf = Buffer.alloc(4 * F.NAME_LEN);

  /** How many blocks the directory's dirents fill (the READDIR loops walk them with dirBlockAt). */
  dirBlockCount(dir: ErofsInode): number {
    this.requireDir(dir);
    return blockCount(this, dir);
  }

  /** Block `index` (below dirBlockCount) of a directory, decoded and cached. */
  dirBlockAt(dir: ErofsInode, index: number): DirBlock {
    return this.dirBlock(dir, index);
  }

  /** Dirents as stored (including "." and ".." when present), from byte position `from`. */
  entries(dir: ErofsInode, from = 0): Generator<DirEntryAt> {
    this.requireDir(dir);
    return iterateDir(this, dir, from, (i) => this.dirBlock(dir, i));
  }

  // ---- xattrs -----------------------------------------------------------------------------------------------

  longPrefixes(): LongPrefix[] {
    if (!this.prefixes) this.prefixes = loadLongPrefixes(this);
    return this.prefixes;
  }

  /** All xattr records of the inode, inline first then shared. */
  xattrs(inode: ErofsInode): XattrRecord[] {
    if (inode.xattrSize === 0) return [];
    return readXattrs(this, inode, this.longPrefixes());
  }

  getXattr(inode: ErofsInode, name: string | Uint8Array): Uint8Array | undefined {
    if (inode.xattrSize === 0) return undefined;
    return getXattr(this, inode, this.longPrefixes(), name);
  }

  /** Names as the kernel lists them: known prefixes only (lustre and raw index 0 are not listed). */
  listXattrNames(inode: ErofsInode): Uint8Array[] {
    const out: Uint8Array[] = [];
    for (const x of this.xattrs(inode)) if (x.name && x.baseIndex !== F.XATTR_INDEX_LUSTRE) out.push(x.name);
    return out;
  }
}
