// Copying file content into the image in pieces (memory does not grow with the file), and reading the
// small pieces the layout needs up front (inline tails, which chunks are all zeros).

import * as fs from 'node:fs';
import type { ImageOutput } from './output.js';

const PIECE = 1 << 20;
const piece = Buffer.alloc(PIECE);

export class SourceFileError extends Error {}

function describe(p: Buffer | string): string {
  return Buffer.isBuffer(p) ? p.toString() : p;
}

export function openSource(p: Buffer | string): number {
  try {
    return fs.openSync(p, fs.constants.O_RDONLY | fs.constants.O_NOFOLLOW);
  } catch (e) {
    throw new SourceFileError(`${describe(p)}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
}

/** Reads `len` bytes at file offset `pos` into `buf` at `at`; a short file is an error (it shrank). */
export function readFully(fd: number, p: Buffer | string, buf: Buffer, len: number, pos: number, at = 0): void {
  let got = 0;
  while (got < len) {
    let n: number;
    try {
      n = fs.readSync(fd, buf, at + got, len - got, pos + got);
    } catch (e) {
      throw new SourceFileError(`${describe(p)}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
    }
    if (n === 0) throw new SourceFileError(`${describe(p)}: file shrank while the image was written`);
    got += n;
  }
}

/** Writes bytes [start, start + len) of the file at `p` into the image. */
export function copyFileRange(out: ImageOutput, p: Buffer | string, start: number, len: number): void {
  const fd = openSource(p);
  try {
    copyFdRange(out, fd, p, start, len);
  } finally {
    fs.closeSync(fd);
  }
}

/** The same from an open file (`p` names it in errors). */
export function copyFdRange(out: ImageOutput, fd: number, p: Buffer | string, start: number, len: number): void {
  for (let off = 0; off < len; off += PIECE) {
    const n = Math.min(PIECE, len - off);
    readFully(fd, p, piece, n, start + off);
    out.write(n === PIECE ? piece : piece.subarray(0, n));
  }
}

/** Bytes [start, start + len) of a file (for small reads: tails). */
export function readFileRange(p: Buffer | string, start: number, len: number): Buffer {
  const buf = Buffer.alloc(len);
  const fd = openSource(p);
  try {
    readFully(fd, p, buf, len, start);
  } finally {
    fs.closeSync(fd);
  }
  return buf;
}

/** For each chunk of `2^chunkBits` bytes: whether it is all zeros (a hole in a chunk-based file). */
export function zeroChunks(p: Buffer | string, size: number, chunkBits: number): boolean[] {
  const chunk = 2 ** chunkBits;
  const out: boolean[] = [];
  const fd = openSource(p);
  try {
    for (let c = 0; c * chunk < size; c++) {
      const end = Math.min(size, (c + 1) * chunk);
      let zero = true;
      for (let off = c * chunk; off < end && zero; off += PIECE) {
        const n = Math.min(PIECE, end - off);
        readFully(fd, p, piece, n, off);
        for (let i = 0; i < n; i++) {
          if (piece[i] !== 0) {
            zero = false;
            break;
          }
        }
      }
      out.push(zero);
    }
  } finally {
    fs.closeSync(fd);
  }
  return out;
}
