// The EROFS reader reads through this interface, so it is testable on a Buffer and can serve a file via
// pread (page cache shared by every worker) or a SharedArrayBuffer.

export interface ByteSource {
  /** Total size in bytes. */
  readonly size: number;
  /**
   * Reads exactly `length` bytes at `offset` into `dst` at `dstOffset`. The caller has already checked
   * offset + length <= size; an implementation must still never read outside [0, size).
   */
  readInto(dst: Uint8Array, dstOffset: number, offset: number, length: number): void;
  close?(): void;
}
