// The zstd seekable format (facebook/zstd contrib/seekable_format/zstd_seekable_compression_format.md):
// independent zstd frames, then a skippable frame holding the seek table:
//   magic 0x184D2A5E, frame size (u32), entries {compressed size u32, decompressed size u32[, checksum u32]},
//   footer {number of frames u32, descriptor u8 (bit 7: checksums present, bits 2..6 reserved = 0),
//   seekable magic 0x8F92EAB1}.
// PuzzleFS stores each compressed chunk blob this way, so a read can decode only the frames it needs.
// zstd goes through src/compress/zstd.ts; every decode is bounded by the size the seek table promises.

import { zstdCompress, zstdDecompress } from '../compress/zstd.js';
import { corrupt } from './errors.js';

export const SKIPPABLE_MAGIC = 0x184d2a5e;
export const SEEKABLE_MAGIC = 0x8f92eab1;
const FOOTER = 9;
const HEADER = 8;
const MAX_FRAMES = 1 << 20;

export interface SeekFrame {
  /** Byte offset of the compressed frame in the blob. */
  cOffset: number;
  cSize: number;
  /** Offset of the frame's first decoded byte. */
  dOffset: number;
  dSize: number;
}

export interface SeekTable {
  frames: SeekFrame[];
  /** Total decompressed size. */
  size: number;
}

/**
 * Reads the seek table at the end of `blob`. Every frame must lie inside the blob before the table, frames
 * must be contiguous from offset 0, and no frame may promise more than `maxFrame` decoded bytes.
 */
export function readSeekTable(blob: Uint8Array, maxFrame: number): SeekTable {
  if (blob.length < HEADER + FOOTER) corrupt(`seekable zstd blob of ${blob.length} bytes has no seek table`);
  const v = new DataView(blob.buffer, blob.byteOffset, blob.byteLength);
  const end = blob.length;
  if (v.getUint32(end - 4, true) !== SEEKABLE_MAGIC) corrupt('seekable zstd: no seek table magic at the end of the blob');
  const count = v.getUint32(end - FOOTER, true);
  const desc = blob[end - 5]!;
  if (desc & 0x7c) corrupt(`seekable zstd: reserved descriptor bits set (0x${desc.toString(16)})`);
  if (count > MAX_FRAMES) corrupt(`seekable zstd: ${count} frames`);
  const entry = desc & 0x80 ? 12 : 8;
  const tableBytes = count * entry + FOOTER;
  const start = end - tableBytes - HEADER;
  if (start < 0) corrupt('seekable zstd: seek table larger than the blob');
  if (v.getUint32(start, true) !== SKIPPABLE_MAGIC) corrupt('seekable zstd: seek table is not in a skippable frame');
  if (v.getUint32(start + 4, true) !== tableBytes) corrupt(`seekable zstd: skippable frame size ${v.getUint32(start + 4, true)}, table needs ${tableBytes}`);
  const frames: SeekFrame[] = [];
  let c = 0;
  let d = 0;
  for (let i = 0; i < count; i++) {
    const at = start + HEADER + i * entry;
    const cSize = v.getUint32(at, true);
    const dSize = v.getUint32(at + 4, true);
    if (dSize > maxFrame) corrupt(`seekable zstd: frame ${i} decodes to ${dSize} bytes (limit ${maxFrame})`);
    if (cSize === 0 && dSize > 0) corrupt(`seekable zstd: frame ${i} is empty but promises ${dSize} bytes`);
    frames.push({ cOffset: c, cSize, dOffset: d, dSize });
    c += cSize;
    d += dSize;
    if (c > start) corrupt(`seekable zstd: frame ${i} runs into the seek table`);
  }
  if (c !== start) corrupt(`seekable zstd: frames end at ${c}, seek table starts at ${start}`);
  return { frames, size: d };
}

/** Index of the frame holding decoded offset `pos` (binary search). */
export function frameAt(t: SeekTable, pos: number): number {
  let lo = 0;
  let hi = t.frames.length - 1;
  while (lo < hi) {
    const mid = (lo + hi + 1) >>> 1;
    if (t.frames[mid]!.dOffset <= pos) lo = mid;
    else hi = mid - 1;
  }
  return lo;
}

/** Decodes frame i; its size must be exactly what the table says. */
export function decodeFrame(blob: Uint8Array, t: SeekTable, i: number): Uint8Array {
  const f = t.frames[i]!;
  if (f.dSize === 0) return new Uint8Array(0);
  let out: Uint8Array;
  try {
    out = zstdDecompress(blob.subarray(f.cOffset, f.cOffset + f.cSize), f.dSize);
  } catch (e) {
    corrupt(`seekable zstd frame ${i}: ${(e as Error).message}`);
  }
  if (out.length !== f.dSize) corrupt(`seekable zstd frame ${i} decoded to ${out.length} bytes, table says ${f.dSize}`);
  return out;
}

/** Decodes [pos, pos + len) of the blob's content, touching only the frames that hold it. */
export function readRange(blob: Uint8Array, t: SeekTable, pos: number, len: number): Uint8Array {
  if (pos < 0 || len < 0 || pos + len > t.size) corrupt(`seekable zstd: read [${pos}, +${len}) past the decoded size ${t.size}`);
  const out = new Uint8Array(len);
  let done = 0;
  for (let i = len > 0 ? frameAt(t, pos) : t.frames.length; done < len && i < t.frames.length; i++) {
    const f = t.frames[i]!;
    const frame = decodeFrame(blob, t, i);
    const from = pos + done - f.dOffset;
    const n = Math.min(f.dSize - from, len - done);
    out.set(frame.subarray(from, from + n), done);
    done += n;
  }
  return out;
}

/** Decodes the whole blob (every frame, in order). */
export function decodeAll(blob: Uint8Array, t: SeekTable): Uint8Array {
  return readRange(blob, t, 0, t.size);
}

/**
 * Frame size our builder writes: 4 KiB at level 3, as the reference builder (puzzlefs-lib
 * zstd_seekable_wrapper.rs) does, so a page-sized read decodes one frame and equal chunks can compress to equal
 * blobs in images made by either.
 */
export const WRITE_FRAME_SIZE = 4096;

/** Encodes `data` as seekable zstd: frames of `frameSize` bytes, then the seek table (no checksums). */
export function encodeSeekable(data: Uint8Array, frameSize = WRITE_FRAME_SIZE, level = 3): Uint8Array {
  const frames: Uint8Array[] = [];
  for (let off = 0; off < data.length; off += frameSize) frames.push(zstdCompress(data.subarray(off, Math.min(off + frameSize, data.length)), level));
  return appendSeekTable(frames, frames.map((_, i) => Math.min(frameSize, data.length - i * frameSize)));
}

/** Concatenates already-compressed frames and writes the seek table for them. */
export function appendSeekTable(frames: Uint8Array[], decodedSizes: number[]): Uint8Array {
  const cTotal = frames.reduce((n, f) => n + f.length, 0);
  const table = HEADER + frames.length * 8 + FOOTER;
  const out = new Uint8Array(cTotal + table);
  const v = new DataView(out.buffer);
  let at = 0;
  for (const f of frames) {
    out.set(f, at);
    at += f.length;
  }
  v.setUint32(at, SKIPPABLE_MAGIC, true);
  v.setUint32(at + 4, table - HEADER, true);
  at += HEADER;
  frames.forEach((f, i) => {
    v.setUint32(at, f.length, true);
    v.setUint32(at + 4, decodedSizes[i]!, true);
    at += 8;
  });
  v.setUint32(at, frames.length, true);
  out[at + 4] = 0;
  v.setUint32(at + 5, SEEKABLE_MAGIC, true);
  return out;
}
