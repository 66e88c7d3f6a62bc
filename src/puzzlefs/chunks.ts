// File data: chunk blobs read from the blob store (a local or remote layout), checked (sha256 always, fs-verity when asked), decoded when
// compressed (seekable zstd), and kept in a cache bounded by bytes. A blob is read and checked whole the
// first time any byte of it is needed; reads after that are copies out of the cache.

import { LruCache } from '../erofs/reader/lru.js';
import { corrupt } from './errors.js';
import { fsverityDigest } from '../verity/digest.js';
import type { PuzzleBlobStore } from './blob-store.js';
import type { BlobRef } from './schema.js';
import { decodeAll, readSeekTable } from './seekable-zstd.js';

/** Largest chunk blob (file) and decoded chunk we accept: FastCDC's max is 256 KiB, foreign builders may differ. */
export const MAX_BLOB_BYTES = 64 * 1024 * 1024;
const MAX_FRAME_BYTES = 16 * 1024 * 1024;

export interface ChunkStoreOptions {
  /** blob hex digest -> expected fs-verity digest (hex); when given, every blob is checked against it. */
  verity?: Map<string, string>;
  /** Cache budget in bytes of decoded chunks (default 64 MiB). */
  cacheBytes?: number;
}

export class ChunkStore {
  private readonly cache: LruCache<string, Uint8Array>;
  private readonly verity: Map<string, string> | undefined;
  /** Blobs read (cache misses), for tests and statistics. */
  misses = 0;

  constructor(
    private readonly layout: PuzzleBlobStore,
    options: ChunkStoreOptions = {},
  ) {
    const budget = options.cacheBytes ?? 64 * 1024 * 1024;
    this.cache = new LruCache<string, Uint8Array>(1 << 16, budget, (v) => v.length);
    this.verity = options.verity;
  }

  static hex(digest: Uint8Array): string {
    return Buffer.from(digest.buffer, digest.byteOffset, digest.byteLength).toString('hex');
  }

  /** The decoded content of a blob. */
  content(ref: BlobRef): Uint8Array {
    const hex = ChunkStore.hex(ref.digest);
    const key = ref.compressed ? `z${hex}` : hex;
    let c = this.cache.get(key);
    if (c === undefined) {
      c = this.load(hex, ref.compressed);
      this.cache.set(key, c);
    }
    return c;
  }

  private load(hex: string, compressed: boolean): Uint8Array {
    this.misses++;
    const raw = this.layout.readBlobHex(hex, 'file data', MAX_BLOB_BYTES);
    if (this.verity) {
      const want = this.verity.get(hex);
      if (want === undefined) corrupt(`blob ${hex} has no fs-verity digest in the rootfs`);
      if (fsverityDigest(raw).toString('hex') !== want) corrupt(`blob ${hex} fails its fs-verity check`);
    }
    if (!compressed) return raw;
    const table = readSeekTable(raw, MAX_FRAME_BYTES);
    if (table.size > MAX_BLOB_BYTES) corrupt(`blob ${hex} decodes to ${table.size} bytes (limit ${MAX_BLOB_BYTES})`);
    return decodeAll(raw, table);
  }

  /** Whether blobs can be fetched ahead (a remote store). */
  get canPrefetch(): boolean {
    return this.layout.prefetch !== undefined;
  }

  /** Starts fetching a blob that is not cached yet (see PuzzleBlobStore.prefetch). */
  prefetch(ref: BlobRef): void {
    const hex = ChunkStore.hex(ref.digest);
    if (this.cache.get(ref.compressed ? `z${hex}` : hex) === undefined) this.layout.prefetch?.(hex);
  }

  /** Copies [offset, offset + len) of a blob's content into dst at dstOff. */
  copy(ref: BlobRef, offset: number, len: number, dst: Uint8Array, dstOff: number): void {
    const c = this.content(ref);
    if (offset + len > c.length) corrupt(`chunk [${offset}, +${len}) past the end of blob ${ChunkStore.hex(ref.digest)} (${c.length} bytes)`);
    dst.set(c.subarray(offset, offset + len), dstOff);
  }
}
