// One regular file compressed the way mkfs.erofs does it without big pclusters: every physical cluster is
// one block; a compressed one holds the stream (LZ4 block, zstd frame or raw DEFLATE, pcluster-codecs.ts) at
// its end (zero padding first, the 0PADDING rule the kernel relies on) and decodes to exactly the input it
// covers, which is more than one block; input that would not shrink below one block is stored as a PLAIN block instead (a whole block's
// worth of input, or the rest of the file). The blocks go to a spill file (the image's data area is written
// after the inodes, whose index sizes depend on this), so memory stays fixed by the window, not the file.
// If compression does not save space overall (mkfs.erofs' test: blocks + full index >= file size) the spill
// is rewound and the caller stores the file flat.

import * as fs from 'node:fs';
import * as F from '../reader/format.js';
import { LO_BITS, NONHEAD_ENTRY, type LclusterTypes } from './compact-index.js';
import { openSource, readFully } from './file-copy.js';
import type { PclusterEncoder } from './pcluster-codecs.js';

/** Where a file's compressed blocks are in the spill file, and its lcluster entries. */
export interface CompressedFile {
  spillOffset: number;
  blocks: number;
  types: LclusterTypes;
  /** Z_EROFS_COMPRESSION_* of its compressed pclusters. */
  algorithm: number;
}

/** An unlinked temporary file the compressed blocks are appended to, then copied into the image. */
export class Spill {
  readonly fd: number;
  size = 0;

  constructor(readonly path: string) {
    this.fd = fs.openSync(path, fs.constants.O_RDWR | fs.constants.O_CREAT | fs.constants.O_EXCL, 0o600);
    // unlinked at once: nothing is left behind even if the process dies
    fs.unlinkSync(path);
  }

  append(b: Uint8Array): void {
    let off = 0;
    while (off < b.length) off += fs.writeSync(this.fd, b, off, b.length - off, this.size + off);
    this.size += b.length;
  }

  rewind(to: number): void {
    this.size = to;
  }

  close(): void {
    fs.closeSync(this.fd);
  }
}

/** The most input one pcluster may cover: big enough for mkfs.erofs-like ratios, small enough that a compact
 * index's distances (11 bits) always fit, 1024 lclusters at most. */
export function windowFor(blockSize: number): number {
  return Math.min(1 << 20, 1024 * blockSize);
}

/** Reusable buffers for compressing files one after another. */
export class FileCompressor {
  private readonly window: Uint8Array;
  private readonly block: Uint8Array;
  private readonly dst: Uint8Array;

  constructor(
    private readonly encoder: PclusterEncoder,
    private readonly blockSize: number,
    private readonly spill: Spill,
  ) {
    const w = windowFor(blockSize);
    // twice the window: refilled when less than one window is left ahead of the cursor
    this.window = Buffer.alloc(2 * w);
    this.block = new Uint8Array(blockSize);
    this.dst = new Uint8Array(blockSize);
  }

  /** Compresses `path` (`size` bytes); undefined when it is better stored flat. */
  compress(path: Buffer, size: number): CompressedFile | undefined {
    const bs = this.blockSize;
    const w = windowFor(bs);
    const total = Math.ceil(size / bs);
    const types: LclusterTypes = new Uint16Array(total).fill(NONHEAD_ENTRY);
    const spillOffset = this.spill.size;
    const fd = openSource(path);
    let blocks = 0;
    try {
      let bufStart = 0; // file offset of window[0]
      let bufEnd = 0; // file offset just past the bytes in the window
      let pos = 0;
      while (pos < size) {
        if (bufEnd < size && bufEnd - pos < w) {
          // slide: keep what is ahead of the cursor, fill up to two windows
          this.window.copyWithin(0, pos - bufStart, bufEnd - bufStart);
          bufStart = pos;
          const n = Math.min(this.window.length - (bufEnd - bufStart), size - bufEnd);
          readFully(fd, path, this.window as Buffer, n, bufEnd, bufEnd - bufStart);
          bufEnd += n;
        }
        const at = pos - bufStart;
        const avail = Math.min(bufEnd - pos, w);
        const src = this.window.subarray(at, at + avail);
        const r = this.encoder.compress(src, avail, this.dst, bs);
        let type: number;
        let covered: number;
        this.block.fill(0);
        if (r.consumed > bs) {
          type = F.LCLUSTER_TYPE_HEAD1;
          covered = r.consumed;
          this.block.set(this.dst.subarray(0, r.written), bs - r.written);
        } else {
          // not worth a compressed block: one block of input as it is (PLAIN)
          type = F.LCLUSTER_TYPE_PLAIN;
          covered = Math.min(bs, size - pos);
          this.block.set(src.subarray(0, covered));
        }
        types[Math.floor(pos / bs)] = (type << LO_BITS) | pos % bs;
        this.spill.append(this.block);
        blocks++;
        pos += covered;
      }
    } catch (e) {
      this.spill.rewind(spillOffset);
      throw e;
    } finally {
      fs.closeSync(fd);
    }
    // the lcluster holding EOF needs a head of its own when no extent starts in it (mkfs.erofs'
    // z_erofs_write_indexes_final): a PLAIN entry at the EOF offset that nothing reads from
    if (size % bs && types[total - 1] === NONHEAD_ENTRY) types[total - 1] = (F.LCLUSTER_TYPE_PLAIN << LO_BITS) | size % bs;
    const fullIndex = F.MAP_HEADER_SIZE + 8 + total * F.LCLUSTER_INDEX_SIZE;
    if (blocks * bs + fullIndex >= size) {
      this.spill.rewind(spillOffset);
      return undefined;
    }
    return { spillOffset, blocks, types, algorithm: this.encoder.algorithm };
  }
}
