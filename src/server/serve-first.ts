// The owning thread's first answers. The mount is usable once INIT is answered, but a serving thread (an
// embedded-mode reader, a worker-mode worker) takes tens of ms to boot; until the first one is up, this
// thread polls a non-blocking clone of the connection every millisecond and serves what it finds, through
// the same dispatcher, so the first requests wait for a timer, not for a thread.
// Non-blocking on purpose: no thread is ever parked in read(2) here (see read-request.ts), so the hand-over
// is exact: after handOver() nothing more is read here, and every request read here is answered here. The
// clone is closed only once every request read from it is answered (closing a clone fails the requests
// still on it); a request the filesystem never answers keeps it open, as it keeps its caller.

import { closeSync } from 'node:fs';
import { cloneFuseDevice } from '../kernel/device.js';
import { WireBuffer } from '../protocol/wire.js';
import type { Dispatcher } from './dispatch.js';
import { Lane } from './lane.js';
import { READ_AGAIN, READ_GONE, readRequest } from './read-request.js';

const POLL_MS = 1;

interface Slot {
  input: WireBuffer;
  lane: Lane;
}

/**
 * Serves `sessionFd`'s connection from this thread, first poll at once, until handOver() or the mount is
 * gone; `ended` resolves then, `drained` once every request read here is answered and the clone closed.
 */
export class ServeFirst {
  readonly ended: Promise<void>;
  readonly drained: Promise<void>;
  /** The non-blocking clone; -1 once closed. */
  private fd: number;
  private readonly bufSize: number;
  private readonly dispatcher: Dispatcher;
  private readonly free: Slot[] = [];
  private pending = 0;
  private handedOver = false;
  private stopped = false;
  private timer: NodeJS.Timeout | undefined;
  private resolveEnded: () => void = () => undefined;
  private resolveDrained: () => void = () => undefined;

  constructor(sessionFd: number, bufSize: number, dispatcher: Dispatcher) {
    this.fd = cloneFuseDevice(sessionFd, { nonblocking: true });
    this.bufSize = bufSize;
    this.dispatcher = dispatcher;
    this.ended = new Promise<void>((resolve) => (this.resolveEnded = resolve));
    this.drained = new Promise<void>((resolve) => (this.resolveDrained = resolve));
    this.poll();
  }

  /** Reads nothing more (another thread serves now); requests read already are still answered. */
  handOver(): void {
    if (this.handedOver) return;
    this.handedOver = true;
    // A poll is always scheduled while serving: it sees the flag at its next turn; stop at once instead.
    if (!this.stopped) this.stop();
  }

  private readonly poll = (): void => {
    while (!this.handedOver) {
      const slot = this.free.pop() ?? { input: new WireBuffer(this.bufSize), lane: new Lane(this.bufSize) };
      const n = readRequest(this.fd, slot.input.buf, this.bufSize);
      if (n === READ_GONE || n === READ_AGAIN) {
        this.free.push(slot);
        if (n === READ_GONE) break;
        this.timer = setTimeout(this.poll, POLL_MS);
        return;
      }
      let p: Promise<void> | undefined;
      try {
        p = this.dispatcher.dispatch(slot.lane, this.fd, slot.input, n);
      } catch (err) {
        this.dispatcher.log(`tsfuse: dispatch failed: ${String(err)}`);
      }
      if (p === undefined) this.free.push(slot);
      else {
        this.pending++;
        const done = (): void => {
          this.pending--;
          this.free.push(slot);
          this.closeWhenIdle();
        };
        p.then(done, done);
      }
    }
    if (!this.stopped) this.stop();
  };

  private stop(): void {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    this.closeWhenIdle();
    this.resolveEnded();
  }

  private closeWhenIdle(): void {
    if (!this.stopped || this.pending !== 0 || this.fd < 0) return;
    closeSync(this.fd);
    this.fd = -1;
    this.resolveDrained();
  }
}
