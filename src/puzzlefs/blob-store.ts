// Where a PuzzleFS image's blobs come from. The image reader (image.ts, chunks.ts) reads only through this, so a
// local OCI layout (oci.ts) and a remote one (src/remote/puzzle-store.ts: a layout at an HTTP(S) or S3 prefix, or
// a registry repository) share one reader. A remote store answers BytesPending (src/erofs/bytesource.ts) while
// a blob is being fetched; the reader is run again once it is local.

import type { Descriptor } from './oci.js';

export interface PuzzleBlobStore {
  /** The layout directory or the remote name, for messages and `info`. */
  readonly name: string;
  tags(): string[];
  /** The manifest descriptor of `tag`; with no tag, the only tagged manifest. */
  resolve(tag: string | undefined): Descriptor;
  /** A blob's bytes, checked against the descriptor's size and digest. */
  readBlob(d: Pick<Descriptor, 'digest' | 'size'>, what: string, maxSize: number): Buffer;
  /** A blob by hex digest, whole, checked against its sha256; refused (corrupt) if bigger than maxSize. */
  readBlobHex(hex: string, what: string, maxSize: number): Buffer;
  /** Starts fetching a blob about to be read (a remote store: many at once instead of one per rerun); never throws. */
  prefetch?(hex: string): void;
}
