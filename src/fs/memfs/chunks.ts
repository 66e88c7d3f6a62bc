// memfs's file data: a sparse map of fixed-size chunks per regular file (default 128 KiB). A chunk's Buffer
// grows by doubling up to the chunk size, so small files stay small; a write far past EOF allocates only the
// chunks it touches. Missing chunks are holes (read as zeros, reported by SEEK_HOLE at chunk granularity).
// The store also keeps the filesystem-wide byte count that statfs reports and ENOSPC enforces.

import { Errno } from '../../protocol/errno.js';
import { SEEK_DATA } from '../../protocol/posix.js';
import type { Node } from './node.js';

export class ChunkStore {
  /** Bytes of chunk storage held by all files. */
  usedBytes = 0;

  constructor(
    readonly chunkSize: number,
    readonly totalBytes: number,
    /** Return copies rather than views of the storage from read() (see MemFsOptions.copyReads). */
    private readonly copyReads: boolean,
  ) {}

  private grow(n: Node, idx: number, need: number): Buffer {
    const chunks = n.chunks!;
    const old = chunks.get(idx);
    const oldLen = old ? old.length : 0;
    if (oldLen >= need) return old!;
    let cap = Math.max(oldLen * 2, 64);
    while (cap < need) cap *= 2;
    if (cap > this.chunkSize) cap = this.chunkSize;
    if (this.usedBytes + cap - oldLen > this.totalBytes) throw new Errno('ENOSPC');
    const buf = Buffer.alloc(cap);
    if (old) old.copy(buf, 0, 0, oldLen);
    chunks.set(idx, buf);
    n.allocated += cap - oldLen;
    this.usedBytes += cap - oldLen;
    return buf;
  }

  private drop(n: Node, idx: number): void {
    const buf = n.chunks!.get(idx);
    if (!buf) return;
    n.chunks!.delete(idx);
    n.allocated -= buf.length;
    this.usedBytes -= buf.length;
  }

  /** Gives back all storage of a freed inode. */
  release(n: Node): void {
    this.usedBytes -= n.allocated;
    n.allocated = 0;
    n.chunks = null;
  }

  /** Copies data into the file at off; returns the bytes written (short only on ENOSPC after progress). */
  write(n: Node, off: number, data: Uint8Array): number {
    const cs = this.chunkSize;
    const len = data.length;
    let done = 0;
    while (done < len) {
      const pos = off + done;
      const idx = Math.floor(pos / cs);
      const inChunk = pos - idx * cs;
      const take = Math.min(len - done, cs - inChunk);
      let buf: Buffer;
      try {
        buf = this.grow(n, idx, inChunk + take);
      } catch (e) {
        if (done > 0) break;
        throw e;
      }
      buf.set(data.subarray(done, done + take), inChunk);
      done += take;
    }
    if (off + done > n.size) n.size = off + done;
    return done;
  }

  read(n: Node, off: number, size: number): Buffer {
    if (off >= n.size || size <= 0) return Buffer.alloc(0);
    const end = Math.min(n.size, off + size);
    const cs = this.chunkSize;
    const chunks = n.chunks!;
    const first = Math.floor(off / cs);
    // Fast path: the whole range lies in one stored chunk. The view is safe to return because the reply
    // is encoded before any other request can change this storage.
    if (Math.floor((end - 1) / cs) === first) {
      const buf = chunks.get(first);
      const s = off - first * cs;
      const e = end - first * cs;
      if (buf && buf.length >= e) return this.copyReads ? Buffer.from(buf.subarray(s, e)) : buf.subarray(s, e);
    }
    const out = Buffer.alloc(end - off);
    let pos = off;
    while (pos < end) {
      const idx = Math.floor(pos / cs);
      const inChunk = pos - idx * cs;
      const take = Math.min(end - pos, cs - inChunk);
      const buf = chunks.get(idx);
      if (buf && inChunk < buf.length) buf.copy(out, pos - off, inChunk, Math.min(buf.length, inChunk + take));
      pos += take;
    }
    return out;
  }

  /** Zeroes [off, off+len) within the stored chunks, dropping chunks wholly inside; never allocates. */
  zero(n: Node, off: number, len: number): void {
    const end = off + len;
    const cs = this.chunkSize;
    const chunks = n.chunks!;
    const first = Math.floor(off / cs);
    const last = Math.floor((end - 1) / cs);
    const visit = (idx: number) => {
      const buf = chunks.get(idx);
      if (!buf) return;
      const cStart = idx * cs;
      const s = Math.max(off, cStart) - cStart;
      const e = Math.min(end, cStart + cs) - cStart;
      if (s === 0 && e === cs) this.drop(n, idx);
      else if (s < buf.length) buf.fill(0, s, Math.min(e, buf.length));
    };
    if (last - first < chunks.size) {
      for (let idx = first; idx <= last; idx++) visit(idx);
    } else {
      for (const idx of [...chunks.keys()]) if (idx >= first && idx <= last) visit(idx);
    }
  }

  truncate(n: Node, size: number): void {
    if (size < n.size) {
      const cs = this.chunkSize;
      const keep = Math.ceil(size / cs); // chunks [0, keep) stay
      for (const idx of [...n.chunks!.keys()]) if (idx >= keep) this.drop(n, idx);
      const tailIdx = Math.floor(size / cs);
      const buf = n.chunks!.get(tailIdx);
      if (buf) {
        const s = size - tailIdx * cs;
        if (s < buf.length) buf.fill(0, s);
      }
    }
    n.size = size;
  }

  /** True when the chunk holding file offset `pos` is stored (not a hole). */
  stored(n: Node, pos: number): boolean {
    return n.chunks!.has(Math.floor(pos / this.chunkSize));
  }

  /** SEEK_DATA / SEEK_HOLE from `offset` (0 <= offset < size), at chunk granularity. */
  seek(n: Node, offset: number, whence: number): number {
    const cs = this.chunkSize;
    const chunks = n.chunks!;
    const startIdx = Math.floor(offset / cs);
    const lastIdx = Math.floor((n.size - 1) / cs);
    if (whence === SEEK_DATA) {
      let best = -1;
      if (chunks.has(startIdx)) best = startIdx;
      else for (const idx of chunks.keys()) if (idx >= startIdx && idx <= lastIdx && (best < 0 || idx < best)) best = idx;
      if (best < 0) throw new Errno('ENXIO');
      return Math.max(offset, best * cs);
    }
    let idx = startIdx;
    while (idx <= lastIdx && chunks.has(idx)) idx++;
    return Math.min(n.size, Math.max(offset, idx * cs));
  }
}
