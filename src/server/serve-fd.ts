// Worker mode's loop: one thread, one fd, requests served one at a time. A synchronous handler is answered
// without leaving the loop; when a handler returns a Promise the loop awaits it (the event loop then runs)
// before reading the next request.

import { Dispatcher } from './dispatch.js';
import { Lane } from './lane.js';
import { READ_AGAIN, READ_GONE, readRequest } from './read-request.js';
import { WireBuffer } from '../protocol/wire.js';

export async function serveFd(fd: number, dispatcher: Dispatcher, bufSize: number): Promise<void> {
  const input = new WireBuffer(bufSize);
  const lane = new Lane(bufSize);
  for (;;) {
    const n = readRequest(fd, input.buf, bufSize);
    if (n === READ_GONE) return;
    if (n === READ_AGAIN) continue;
    const pending = dispatcher.dispatch(lane, fd, input, n);
    if (pending !== undefined) await pending;
  }
}
