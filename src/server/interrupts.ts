// Which requests are still running (only those whose handler returned a Promise: a synchronous handler
// cannot be interrupted), so INTERRUPT can answer them with EINTR on their own fd. In embedded mode every
// request is served in one thread and a Map is enough; in worker mode an INTERRUPT may be read by another
// worker, so the in-flight uniques of each worker also sit in shared memory (one slot per request a worker may
// have in flight: FilesystemModule.inFlight).

import { OUT_HEADER_SIZE } from '../protocol/abi.js';
import { ERRNO } from '../protocol/errno.js';
import { writeOutHeader } from '../protocol/replies.js';
import { WireBuffer } from '../protocol/wire.js';
import type { InHeader } from '../protocol/requests.js';
import type { Channel } from './channel.js';
import type { Lane } from './lane.js';

/** Shared layout per in-flight slot: [uniqueLo, uniqueHi(masked), fd, interrupted]; `perWorker` slots per worker. */
export const INTERRUPT_SLOT_WORDS = 4;

export class InterruptTable {
  private readonly local = new Map<number, Lane>();
  private readonly errBuf = new WireBuffer(OUT_HEADER_SIZE);

  /**
   * `shared`: Int32Array over a SharedArrayBuffer with INTERRUPT_SLOT_WORDS × `perWorker` per worker; `self`:
   * this worker's index in it (worker mode only).
   */
  constructor(private readonly shared?: Int32Array, private readonly self = -1, private readonly perWorker = 1) {}

  /** A free shared slot of this worker (word index), or -1 when all are taken (then INTERRUPT is local only). */
  private freeSlot(s: Int32Array): number {
    const base = this.self * this.perWorker * INTERRUPT_SLOT_WORDS;
    for (let k = 0; k < this.perWorker; k++) {
      const i = base + k * INTERRUPT_SLOT_WORDS;
      if (Atomics.load(s, i) === 0 && Atomics.load(s, i + 1) === 0) return i;
    }
    return -1;
  }

  begin(lane: Lane, h: InHeader): void {
    this.local.set(h.unique, lane);
    const s = this.shared;
    const i = s && this.self >= 0 ? this.freeSlot(s) : -1;
    if (s && i >= 0) {
      Atomics.store(s, i + 3, 0);
      Atomics.store(s, i, h.uniqueLo | 0);
      Atomics.store(s, i + 1, (h.uniqueHi & 0x1fffff) | 0);
      Atomics.store(s, i + 2, lane.fd);
      lane.ctx.interruptWord = s;
      lane.ctx.interruptIndex = i + 3;
    }
  }

  end(lane: Lane): void {
    this.local.delete(lane.header.unique);
    const s = this.shared;
    if (s && lane.ctx.interruptWord === s) {
      const i = lane.ctx.interruptIndex - 3;
      // keep the fact once the slot is freed: over io_uring the owner answers EINTR after the handler ends
      if (Atomics.load(s, i + 3) !== 0) lane.ctx.interrupted = true;
      Atomics.store(s, i, 0);
      Atomics.store(s, i + 1, 0);
      lane.ctx.interruptWord = undefined;
    }
  }

  /** Marks the request interrupted and answers it with EINTR through `channel`. Returns whether it was found. */
  interrupt(unique: number, channel: Channel): boolean {
    const lane = this.local.get(unique);
    if (lane) {
      lane.ctx.interrupted = true;
      if (!lane.replied) {
        lane.replied = true;
        this.writeEintr(channel, lane.fd, lane.header.uniqueLo, lane.header.uniqueHi);
      }
      return true;
    }
    const s = this.shared;
    if (!s) return false;
    const lo = unique % 4294967296 | 0;
    const hi = Math.floor(unique / 4294967296) | 0;
    for (let i = 0; i + INTERRUPT_SLOT_WORDS <= s.length; i += INTERRUPT_SLOT_WORDS) {
      if (Atomics.load(s, i) === lo && Atomics.load(s, i + 1) === hi && (lo !== 0 || hi !== 0)) {
        // The owner skips its own reply once this word is set; a late duplicate would only get ENOENT.
        if (Atomics.compareExchange(s, i + 3, 0, 1) === 0) this.writeEintr(channel, Atomics.load(s, i + 2), lo >>> 0, hi >>> 0);
        return true;
      }
    }
    return false;
  }

  /** The request may be gone already: the channel treats that (ENOENT) as normal. */
  private writeEintr(channel: Channel, fd: number, lo: number, hi: number): void {
    writeOutHeader(this.errBuf, OUT_HEADER_SIZE, -ERRNO.EINTR, lo, hi);
    channel.write(fd, this.errBuf.buf, OUT_HEADER_SIZE);
  }
}
