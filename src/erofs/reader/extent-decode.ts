// LZ4 extents decoded straight into the caller's buffer (the READ reply, or a cache entry): the hot path of
// an lz4/lz4hc image, where decompress() would allocate an output per pcluster only to be copied again.
// Same rules as decompress()'s LZ4 case: zero padding in front of the stream when the image has
// INCOMPAT_LZ4_0PADDING, and a partial decode (the extent may be a prefix of what the pcluster holds).

import { corrupt } from './errors.js';
import * as F from './format.js';
import { lz4DecompressBlock } from './lz4.js';

export function decodeLz4Into(input: Uint8Array, out: Uint8Array, n: number, blockSize: number, zeroPadding: boolean): void {
  if (n > F.PCLUSTER_MAX_DSIZE) corrupt(`extent decodes to ${n} bytes, more than the ${F.PCLUSTER_MAX_DSIZE} limit`);
  let start = 0;
  if (zeroPadding) {
    const limit = Math.min(input.length, blockSize);
    while (start < limit && input[start] === 0) start++;
    if (start === limit) corrupt('compressed pcluster is all zero padding');
  }
  const got = lz4DecompressBlock(input, start, input.length, out, n, true);
  if (got !== n) corrupt(`lz4 pcluster decoded to ${got} bytes, expected ${n}`);
}
