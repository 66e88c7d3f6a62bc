// A ByteSource over memory: a Buffer/Uint8Array, an ArrayBuffer, or a SharedArrayBuffer. In worker mode the
// image is loaded once into a SharedArrayBuffer and every worker reads the same memory, no copies.

import type { ByteSource } from './bytesource.js';

export class BufferByteSource implements ByteSource {
  readonly size: number;
  private readonly bytes: Uint8Array;

  constructor(data: Uint8Array | ArrayBuffer | SharedArrayBuffer) {
    this.bytes = data instanceof Uint8Array ? data : new Uint8Array(data);
    this.size = this.bytes.length;
  }

  readInto(dst: Uint8Array, dstOffset: number, offset: number, length: number): void {
    if (!(offset >= 0 && length >= 0 && offset + length <= this.size && dstOffset >= 0 && dstOffset + length <= dst.length)) {
      throw new RangeError(`BufferByteSource: read [${offset}, +${length}) outside [0, ${this.size}) or buffer`);
    }
    dst.set(this.bytes.subarray(offset, offset + length), dstOffset);
  }

  /**
   * A zero-copy view of [offset, offset + length). The reader uses it when present to skip a copy; callers
   * must treat it as read-only (it may be shared with other threads).
   */
  view(offset: number, length: number): Uint8Array {
    if (!(offset >= 0 && length >= 0 && offset + length <= this.size)) {
      throw new RangeError(`BufferByteSource: view [${offset}, +${length}) outside [0, ${this.size})`);
    }
    return this.bytes.subarray(offset, offset + length);
  }

  /** Copies a file into a new SharedArrayBuffer, ready to pass to workers. */
  static async sharedFromFile(path: string): Promise<SharedArrayBuffer> {
    const { open } = await import('node:fs/promises');
    const fh = await open(path, 'r');
    try {
      const { size } = await fh.stat();
      const sab = new SharedArrayBuffer(size);
      const view = new Uint8Array(sab);
      let done = 0;
      while (done < size) {
        const { bytesRead } = await fh.read(view, done, size - done, done);
        if (bytesRead <= 0) throw new Error(`${path}: ended early at ${done} of ${size}`);
        done += bytesRead;
      }
      return sab;
    } finally {
      await fh.close();
    }
  }
}

/** A ByteSource that can hand out views (memory-backed); checked structurally. */
export interface ViewableByteSource extends ByteSource {
  view(offset: number, length: number): Uint8Array;
}

export function isViewable(src: ByteSource): src is ViewableByteSource {
  return typeof (src as Partial<ViewableByteSource>).view === 'function';
}
