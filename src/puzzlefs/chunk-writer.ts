// The builder's content path: the regular files' bytes, concatenated in walk order, cut with FastCDC, each
// chunk stored as one blob (seekable zstd unless the raw bytes are no bigger), and each file given the list
// of chunk pieces that hold its bytes (a chunk can span files, a file can span chunks).

import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import { FastCdc, PUZZLEFS_AVG, PUZZLEFS_MAX, PUZZLEFS_MIN } from './fastcdc.js';
import type { OciLayout } from './oci.js';
import type { FileChunk } from './schema.js';
import { encodeSeekable } from './seekable-zstd.js';

export interface StoredBlob {
  hex: string;
  digest: Uint8Array;
  compressed: boolean;
  size: number;
}

export interface ChunkStats {
  chunks: number;
  /** Chunks whose blob was already in the layout (from an earlier image, or earlier in this build). */
  reused: number;
  bytesIn: number;
  bytesStored: number;
}

export class BlobWriter {
  /** sha256 of raw chunk -> stored blob, so repeated content (zeros of sparse files) is compressed once. */
  private readonly byContent = new Map<string, StoredBlob>();
  readonly stats: ChunkStats = { chunks: 0, reused: 0, bytesIn: 0, bytesStored: 0 };

  constructor(
    private readonly layout: OciLayout,
    private readonly compress: boolean,
  ) {}

  put(chunk: Uint8Array): StoredBlob {
    this.stats.chunks++;
    this.stats.bytesIn += chunk.length;
    const key = createHash('sha256').update(chunk).digest('hex');
    const known = this.byContent.get(key);
    if (known) {
      this.stats.reused++;
      return known;
    }
    let bytes = chunk;
    let compressed = false;
    if (this.compress) {
      const z = encodeSeekable(chunk);
      if (z.length < chunk.length) {
        bytes = z;
        compressed = true;
      }
    }
    const r = this.layout.putBlob(bytes);
    if (r.existed) this.stats.reused++;
    else this.stats.bytesStored += r.size;
    const blob = { hex: r.hex, digest: Buffer.from(r.hex, 'hex'), compressed, size: r.size };
    this.byContent.set(key, blob);
    return blob;
  }
}

export interface StreamFile {
  path: Buffer;
  size: number;
  chunks: FileChunk[];
}

/**
 * Chunks the files' bytes (in order) and fills each file's `chunks`. `progress` gets the bytes done so far.
 * A file whose size changed since it was listed fails the build.
 */
export function chunkFiles(files: StreamFile[], writer: BlobWriter, progress?: (done: number, total: number) => void): void {
  const cdc = new FastCdc({ min: PUZZLEFS_MIN, avg: PUZZLEFS_AVG, max: PUZZLEFS_MAX });
  const queue = files.filter((f) => f.size > 0);
  const total = queue.reduce((n, f) => n + f.size, 0);
  const buf = Buffer.allocUnsafe(4 * PUZZLEFS_MAX);
  let have = 0;
  // reading side
  let rFile = 0;
  let rOff = 0;
  let fd = -1;
  // assigning side
  let aFile = 0;
  let aUsed = 0;
  let done = 0;
  const fill = (): void => {
    while (have < buf.length && rFile < queue.length) {
      const f = queue[rFile]!;
      if (fd < 0) fd = fs.openSync(f.path, 'r');
      const want = Math.min(buf.length - have, f.size - rOff);
      const n = want > 0 ? fs.readSync(fd, buf, have, want, rOff) : 0;
      if (want > 0 && n <= 0) throw new Error(`${f.path.toString()}: file shrank during the build`);
      have += n;
      rOff += n;
      if (rOff === f.size) {
        fs.closeSync(fd);
        fd = -1;
        rFile++;
        rOff = 0;
      }
    }
  };
  try {
    for (;;) {
      fill();
      if (have === 0) break;
      const eof = rFile >= queue.length;
      let pos = 0;
      while (pos < have && (eof || have - pos >= PUZZLEFS_MAX)) {
        const len = cdc.cut(buf, pos, have).length;
        const blob = writer.put(buf.subarray(pos, pos + len));
        // hand the chunk's bytes to the files they belong to
        let used = 0;
        while (used < len) {
          const f = queue[aFile]!;
          const take = Math.min(f.size - aUsed, len - used);
          f.chunks.push({ blob: { digest: blob.digest, offset: used, compressed: blob.compressed }, len: take });
          used += take;
          aUsed += take;
          if (aUsed === f.size) {
            aFile++;
            aUsed = 0;
          }
        }
        pos += len;
        done += len;
        progress?.(done, total);
      }
      buf.copyWithin(0, pos, have);
      have -= pos;
    }
  } finally {
    if (fd >= 0) fs.closeSync(fd);
  }
}
