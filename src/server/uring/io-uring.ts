// One io_uring instance seen from JS: the SQ and CQ rings and the SQE array are mmapped and read and
// written in place through typed arrays. SQEs are 128 bytes (IORING_SETUP_SQE128: the FUSE command needs the
// 80-byte command area). Submissions are gathered and handed to the kernel by the next enter(), together with
// the wait for completions, so one system call covers a whole batch of replies and the next requests.

import { IORING_ENTER_GETEVENTS, IORING_SETUP, uringClose, uringEnter, uringSetup, UringError, type UringSetup } from '../../kernel/uring-sys.js';
import { ERRNO } from '../../protocol/errno.js';

export const SQE_SIZE = 128;
const SQE_WORDS = SQE_SIZE / 4;

/** struct io_uring_sqe fields (byte offsets). */
export const SQE = {
  opcode: 0, flags: 1, fd: 4, off: 8, cmdOp: 8, addr: 16, len: 24, opFlags: 28, userData: 32, cmd: 48,
} as const;
export const IORING_OP = { TIMEOUT: 11, READ: 22, URING_CMD: 46 } as const;
/** IOSQE_ASYNC: always run the request from the kernel's worker pool (a blocking read never runs inline). */
export const IOSQE_ASYNC = 1 << 4;


export class IoUring {
  private readonly setup: UringSetup;
  private readonly ring: Uint32Array;
  private readonly sqes: Uint32Array;
  /** Word indexes into `ring`. */
  private readonly sqHead: number;
  private readonly sqTail: number;
  private readonly sqArray: number;
  private readonly sqMask: number;
  private readonly cqHead: number;
  private readonly cqTail: number;
  private readonly cqMask: number;
  private readonly cqes: number;
  readonly entries: number;
  /** SQEs written since the last enter(). */
  private pending = 0;
  private closed = false;

  constructor(entries: number) {
    // DEFER_TASKRUN: the kernel's completion work for our commands runs when this thread enters the ring to
    // wait, never as an interruption of JS; it needs SINGLE_ISSUER (only this thread submits). Older kernels
    // (before 6.1) refuse it; then plain SQE128 with cooperative task running.
    let s: UringSetup;
    try {
      s = uringSetup(entries, IORING_SETUP.SQE128 | IORING_SETUP.SINGLE_ISSUER | IORING_SETUP.DEFER_TASKRUN, SQE_SIZE);
    } catch (err) {
      if (!(err instanceof UringError) || err.errno !== ERRNO.EINVAL) throw err;
      s = uringSetup(entries, IORING_SETUP.SQE128 | IORING_SETUP.COOP_TASKRUN, SQE_SIZE);
    }
    this.setup = s;
    this.entries = s.sqEntries;
    this.ring = new Uint32Array(s.rings.memory);
    this.sqes = new Uint32Array(s.sqes.memory);
    const w = (off: number): number => off >>> 2;
    this.sqHead = w(s.sqOff.head);
    this.sqTail = w(s.sqOff.tail);
    this.sqArray = w(s.sqOff.array);
    this.sqMask = this.ring[w(s.sqOff.mask)];
    this.cqHead = w(s.cqOff.head);
    this.cqTail = w(s.cqOff.tail);
    this.cqMask = this.ring[w(s.cqOff.mask)];
    this.cqes = w(s.cqOff.cqes);
  }

  /**
   * A zeroed SQE (as a word index into `sqeWords`), queued for the next enter(). The caller keeps at most
   * `entries` operations in flight, so the queue never overflows.
   */
  nextSqe(): number {
    const tail = this.ring[this.sqTail];
    if (tail - Atomics.load(this.ring, this.sqHead) >= this.entries) throw new Error('io_uring submission queue full');
    const slot = tail & this.sqMask;
    const base = slot * SQE_WORDS;
    this.sqes.fill(0, base, base + SQE_WORDS);
    this.ring[this.sqArray + slot] = slot;
    Atomics.store(this.ring, this.sqTail, tail + 1);
    this.pending++;
    return base;
  }

  /** The SQE array as words (write fields at nextSqe() + byte offset / 4). */
  get sqeWords(): Uint32Array {
    return this.sqes;
  }

  /**
   * Submits what was queued and, when `wait`, blocks until at least one completion is there. Always with
   * GETEVENTS: under DEFER_TASKRUN that is when the kernel hands over the requests waiting for our entries,
   * so a poll (wait false) still picks them up. Returns 0, or -errno (EINTR: a signal; the caller retries).
   */
  enter(wait: boolean): number {
    const n = this.pending;
    const r = uringEnter(this.setup.fd, n, wait ? 1 : 0, IORING_ENTER_GETEVENTS);
    if (r < 0) {
      // EBUSY/EAGAIN: the completion queue is full; submit nothing more until it is drained
      if (-r === ERRNO.EBUSY || -r === ERRNO.EAGAIN || -r === ERRNO.EINTR) return r;
      throw new UringError(`io_uring_enter failed: errno ${-r}`, -r);
    }
    this.pending -= Math.min(r, n);
    return 0;
  }

  /**
   * Moves every completion that is there into `userData`/`res` (user_data's low word, and the result) and
   * frees their slots; returns how many.
   */
  reap(userData: Uint32Array, res: Int32Array): number {
    const head = this.ring[this.cqHead];
    const tail = Atomics.load(this.ring, this.cqTail);
    let n = 0;
    for (let h = head; h !== tail && n < userData.length; h = (h + 1) >>> 0) {
      const c = this.cqes + (h & this.cqMask) * 4;
      userData[n] = this.ring[c];
      res[n] = this.ring[c + 2] | 0;
      n++;
    }
    Atomics.store(this.ring, this.cqHead, (head + n) >>> 0);
    return n;
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    uringClose(this.setup);
  }
}
