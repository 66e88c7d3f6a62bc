// What the format modules need from the reader, as an interface so they do not import the reader class.

import type { ErofsInode } from './inode.js';
import type { Superblock } from './superblock.js';

export interface ReaderContext {
  readonly sb: Superblock;
  /** Image size in bytes. */
  readonly imageSize: number;
  /**
   * `len` bytes of metadata at `pos`, either in the image or (inMetabox) in the metabox inode's decoded data.
   * Out-of-range requests throw CorruptImageError. The result is read-only and may be a view into the
   * reader's page slots: it holds only until the next readMeta/readImage/readDataInto, so decode it (or copy
   * it) before reading anything else.
   */
  readMeta(pos: number, len: number, inMetabox: boolean): Uint8Array;
  /**
   * readMeta without a view object, for the per-READ index walks: the bytes are at the returned offset of
   * `metaBuf` (set by this call), with the same lifetime as readMeta's result.
   */
  metaAt(pos: number, len: number, inMetabox: boolean): number;
  readonly metaBuf: Uint8Array;
  /** Raw image bytes (data blocks, compressed input); range-checked like readMeta, and as short-lived. */
  readImage(pos: number, len: number): Uint8Array;
  /** Copies raw image bytes into `dst` (uncompressed data path, no intermediate buffer); aheadEnd: see ByteSource. */
  readImageInto(dst: Uint8Array, dstOffset: number, pos: number, len: number, aheadEnd?: number): void;
  inode(nid: number): ErofsInode;
  /** Decoded file data of `inode` in [offset, offset + length) clamped at EOF, into `dst` at `dstOffset`. */
  readDataInto(inode: ErofsInode, offset: number, length: number, dst: Uint8Array, dstOffset: number): number;
}
