// Worker mode's loop: one thread, one fd, requests served one at a time. A synchronous handler is answered
// without leaving the loop; when a handler returns a Promise the loop awaits it (the event loop then runs)
// before reading the next request. A filesystem whose Promise may wait for another request (a contended lock
// that another client's request releases: FilesystemModule.serveWhileWaiting) would hold that request up
// for good; for those the worker serves a clone of its fd from its event loop meanwhile (poll-fd.ts), until
// the waiting request and every request read there have been answered, then blocks in read(2) again.

import { Dispatcher } from './dispatch.js';
import { Lane } from './lane.js';
import { READ_AGAIN, READ_GONE, readRequest } from './read-request.js';
import { WireBuffer } from '../protocol/wire.js';
import { cloneFuseDevice } from '../kernel/device.js';
import { pollFd, type PollBindings, type PolledFd } from './poll-fd.js';
import { canPoll, readableWithin } from '../kernel/poll-in.js';
import { pollWindow, SpinPolicy } from './spin-policy.js';
import type { IdleWork } from './warm-up/idle-warm-up.js';

/** Serving others while a request waits: the poll bindings, and how many may be in flight meanwhile. */
export interface WhileWaiting {
  poll: PollBindings;
  slots: number;
}

const ignore = (): void => undefined;

/**
 * Requests between two turns of the event loop: work a handler gave libuv's pool (an fs.close in the
 * background) finishes only when its completion runs on this loop, so a worker whose handlers never return a
 * Promise must still let it run now and then.
 */
const REQUESTS_PER_LOOP_TURN = 1024;
const turnOfTheLoop = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

/**
 * How long the fd must stay quiet after a request before idle work starts: a client's next request usually
 * follows within a few ms (a walk, a start-up), and those are served first.
 */
const QUIET_MS = 20;

/**
 * `spinUs` (SessionOptions.spinUs): how long to poll the fd after a synchronous answer before blocking in
 * read(2), as spin-policy.ts decides.
 */
export async function serveFd(fd: number, dispatcher: Dispatcher, bufSize: number, whileWaiting?: WhileWaiting, idle?: IdleWork, spinUs = 0): Promise<void> {
  const spinMs = canPoll() ? spinUs / 1000 : 0;
  const input = new WireBuffer(bufSize);
  const lane = new Lane(bufSize);
  let polled: PolledFd | undefined; // made at the first wait, kept for the next ones
  let sinceTurn = 0;
  // between two slices of idle work the fd is only looked at; after a request it must stay quiet QUIET_MS.
  // (Another worker may take what poll saw: this one then blocks in read(2), and its idle work waits.)
  let quiet = QUIET_MS;
  const spin = spinMs > 0 ? new SpinPolicy() : undefined;
  try {
    for (;;) {
      if (idle !== undefined) {
        if (!readableWithin(fd, quiet)) {
          quiet = 0;
          let more = idle.step(lane);
          if (more !== true && more !== false) more = await more;
          if (!more) {
            idle.close();
            idle = undefined;
          }
          continue;
        }
        quiet = QUIET_MS;
      }
      const n = readRequest(fd, input.buf, bufSize);
      if (n === READ_GONE) return;
      if (n === READ_AGAIN) continue;
      const pending = dispatcher.dispatch(lane, fd, input, n);
      if (pending === undefined) {
        if (++sinceTurn === REQUESTS_PER_LOOP_TURN) {
          sinceTurn = 0;
          await turnOfTheLoop();
        }
        // read(2) then finds the request that came meanwhile, or blocks
        if (spin !== undefined && spin.shouldSpin()) spin.record(pollWindow(fd, spinMs));
        continue;
      }
      sinceTurn = 0;
      if (!whileWaiting) {
        await pending;
        continue;
      }
      // `lane` and `input` stay the waiting request's until it settles; the polled lanes are pollFd's own
      const settled = pending.then(ignore, ignore);
      if (!polled) {
        const clone = (): number => cloneFuseDevice(fd);
        polled = pollFd(whileWaiting.poll, clone(), dispatcher, { bufSize, slots: whileWaiting.slots, reopen: clone });
      }
      if ((await polled.serve(settled)) === 'gone') {
        // as in embedded mode nobody waits for it (an aborted connection sends no INTERRUPT): its late reply
        // is dropped, and the filesystem's destroy ends the wait
        lane.replied = true;
        return;
      }
      await settled;
    }
  } finally {
    idle?.close();
    await polled?.close();
  }
}
