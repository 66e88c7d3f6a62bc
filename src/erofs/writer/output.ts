// The image file being written: a temporary name beside the final one (renamed into place only when the image
// is complete, so a failure never leaves a partial image under the final name), buffered writes, an offset
// that the layout's promises are checked against, and an optional fs-verity hasher over every byte.

import * as fs from 'node:fs';
import * as path from 'node:path';
import { VerityHasher } from '../../verity/digest.js';

const BUF = 1 << 20;

export class ImageOutput {
  /** Bytes written so far (the image offset of the next byte). */
  offset = 0;
  private readonly buf = Buffer.alloc(BUF);
  private fill = 0;
  private fd: number | undefined;
  private readonly tmp: string | undefined;
  readonly hasher: VerityHasher | undefined;

  /**
   * `target`: the final path, '-' for stdout, or undefined to only count (and hash) the bytes.
   */
  constructor(
    private readonly target: string | undefined,
    opts: { digest?: boolean } = {},
  ) {
    if (opts.digest) this.hasher = new VerityHasher();
    if (target === '-') this.fd = 1;
    else if (target !== undefined) {
      const dir = path.dirname(path.resolve(target));
      this.tmp = path.join(dir, `.${path.basename(target)}.tmp-${process.pid}-${Date.now().toString(36)}`);
      this.fd = fs.openSync(this.tmp, fs.constants.O_WRONLY | fs.constants.O_CREAT | fs.constants.O_EXCL, 0o644);
    }
  }

  private flush(): void {
    if (this.fill === 0) return;
    const b = this.buf.subarray(0, this.fill);
    this.hasher?.update(b);
    if (this.fd !== undefined) {
      let off = 0;
      while (off < b.length) off += fs.writeSync(this.fd, b, off, b.length - off);
    }
    this.fill = 0;
  }

  write(data: Uint8Array): void {
    this.offset += data.length;
    if (data.length >= BUF) {
      this.flush();
      this.hasher?.update(data);
      if (this.fd !== undefined) {
        let off = 0;
        while (off < data.length) off += fs.writeSync(this.fd, data, off, data.length - off);
      }
      return;
    }
    if (this.fill + data.length > BUF) this.flush();
    this.buf.set(data, this.fill);
    this.fill += data.length;
  }

  /** `n` zero bytes. */
  pad(n: number): void {
    this.offset += n;
    while (n > 0) {
      if (this.fill === BUF) this.flush();
      const k = Math.min(n, BUF - this.fill);
      this.buf.fill(0, this.fill, this.fill + k);
      this.fill += k;
      n -= k;
    }
  }

  align(to: number): void {
    const r = this.offset % to;
    if (r) this.pad(to - r);
  }

  /** Flushes, syncs and renames the temporary file into place. */
  commit(): void {
    this.flush();
    if (this.fd !== undefined && this.fd !== 1) {
      fs.fsyncSync(this.fd);
      fs.closeSync(this.fd);
      this.fd = undefined;
      fs.renameSync(this.tmp!, this.target!);
    }
  }

  /** Drops the temporary file (after a failure). */
  abort(): void {
    if (this.fd !== undefined && this.fd !== 1) {
      try {
        fs.closeSync(this.fd);
      } catch {
        // already closed
      }
      this.fd = undefined;
      try {
        fs.unlinkSync(this.tmp!);
      } catch {
        // gone already
      }
    }
  }
}
