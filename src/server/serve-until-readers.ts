// Embedded mode's first answers. The mount is usable once INIT is answered, but a reader thread takes tens
// of ms to boot; until the first one is up, this thread polls a non-blocking clone of the connection every
// millisecond and serves what it finds, so the first requests wait for a timer, not for a thread.
// Non-blocking on purpose: no thread is ever parked in read(2) here (see read-request.ts), so the hand-over
// is exact. The clone is closed only once every request read from it is answered (closing a clone fails
// the requests still on it); a request the filesystem never answers keeps it open, as it keeps its caller.

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
 * Serves `sessionFd`'s connection from this thread, first poll at once, until handOverWhen's promise resolves
 * or the mount is gone; `ended` resolves then. Requests still pending at that point finish on their own.
 */
export class ServeUntilReaders {
  readonly ended: Promise<void>;
  private readonly fd: number;
  private readonly bufSize: number;
  private readonly dispatcher: Dispatcher;
  private readonly free: Slot[] = [];
  private pending = 0;
  private handedOver = false;
  private stopped = false;
  private resolveEnded: () => void = () => undefined;

  constructor(sessionFd: number, bufSize: number, dispatcher: Dispatcher) {
    this.fd = cloneFuseDevice(sessionFd, { nonblocking: true });
    this.bufSize = bufSize;
    this.dispatcher = dispatcher;
    this.ended = new Promise<void>((resolve) => (this.resolveEnded = resolve));
    this.poll();
  }

  handOverWhen(readerUp: Promise<unknown>): void {
    readerUp.then(
      () => (this.handedOver = true),
      () => this.dispatcher.log('tsfuse: no reader thread started; this thread keeps serving the mount, polling'),
    );
  }

  private readonly poll = (): void => {
    while (!this.handedOver) {
      const slot = this.free.pop() ?? { input: new WireBuffer(this.bufSize), lane: new Lane(this.bufSize) };
      const n = readRequest(this.fd, slot.input.buf, this.bufSize);
      if (n === READ_GONE || n === READ_AGAIN) {
        this.free.push(slot);
        if (n === READ_GONE) break;
        setTimeout(this.poll, POLL_MS);
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
    this.stopped = true;
    this.closeWhenIdle();
    this.resolveEnded();
  };

  private closeWhenIdle(): void {
    if (this.stopped && this.pending === 0) closeSync(this.fd);
  }
}
