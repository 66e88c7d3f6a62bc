// The fs-verity digest of a source file and, for files of at most 64 bytes, its content (what mkcomposefs
// inlines), reading the file once in pieces. Used on the main thread and by the digest workers.

import * as fs from 'node:fs';
import { VerityHasher } from '../../verity/digest.js';

/** Files up to this size are stored in the image (LCFS_RECOMMENDED_INLINE_CONTENT_MAX). */
export const RECOMMENDED_INLINE_MAX = 64;

export class FileDigestError extends Error {}

const PIECE = 1 << 20;
const piece = Buffer.alloc(PIECE);

/** fs-verity digest and (for small files) the content, reading the file once, in pieces. */
export function digestFile(path: Buffer, rel: string, size: number): { digest: Uint8Array; content: Uint8Array | undefined } {
  let fd: number;
  try {
    fd = fs.openSync(path, fs.constants.O_RDONLY | fs.constants.O_NOFOLLOW);
  } catch (e) {
    throw new FileDigestError(`error computing digest of ${rel}: ${(e as NodeJS.ErrnoException).code ?? e}`);
  }
  try {
    const h = new VerityHasher();
    let total = 0;
    let content: Uint8Array | undefined;
    for (;;) {
      const n = fs.readSync(fd, piece, 0, PIECE, null);
      if (n === 0) break;
      if (total === 0 && n === size && size <= RECOMMENDED_INLINE_MAX) content = Uint8Array.from(piece.subarray(0, n));
      h.update(piece.subarray(0, n));
      total += n;
    }
    if (total !== size) throw new FileDigestError(`error computing digest of ${rel}: file changed size while read`);
    return { digest: h.digest(), content: size <= RECOMMENDED_INLINE_MAX ? (content ?? new Uint8Array(0)) : undefined };
  } catch (e) {
    if (e instanceof FileDigestError) throw e;
    throw new FileDigestError(`error computing digest of ${rel}: ${(e as NodeJS.ErrnoException).code ?? e}`);
  } finally {
    fs.closeSync(fd);
  }
}

