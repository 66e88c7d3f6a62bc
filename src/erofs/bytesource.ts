// The EROFS reader reads through this interface, so it is testable on a Buffer and can serve a file via
// pread (page cache shared by every worker) or a SharedArrayBuffer.

export interface ByteSource {
  /** Total size in bytes. */
  readonly size: number;
  /**
   * Reads exactly `length` bytes at `offset` into `dst` at `dstOffset`. The caller has already checked
   * offset + length <= size; an implementation must still never read outside [0, size).
   * `aheadEnd`, when given, is where the extent this read belongs to ends (a file's data): a source that reads
   * ahead (a remote one) stops there, since what lies beyond belongs to something else.
   */
  readInto(dst: Uint8Array, dstOffset: number, offset: number, length: number, aheadEnd?: number): void;
  /**
   * A hint that [offset, +length) will be read soon: a source whose reads can wait (a file on a disk) starts
   * bringing the bytes in now and returns at once. It never throws and never changes what a read returns.
   * (Not RemoteByteSource.prefetch, which fetches, waits and can fail: a remote image takes no hints yet.)
   */
  willNeed?(offset: number, length: number): void;
  close?(): void;
}

/**
 * Thrown by a ByteSource whose bytes are not local yet (a remote image): `ready` settles once they are (or
 * rejects with the fetch's error). The read had no effect; the operation that needed it is run again after
 * `ready` (src/remote/await-bytes.ts does that for a whole Filesystem), so readers stay synchronous and a local
 * image never pays for a Promise.
 */
export class BytesPending extends Error {
  constructor(readonly ready: Promise<void>) {
    super('bytes are being fetched');
    this.name = 'BytesPending';
  }
}
