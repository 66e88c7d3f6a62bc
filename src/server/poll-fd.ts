// Embedded mode without a hand-off: the owning thread's own event loop watches a /dev/fuse fd (libuv polls it
// with epoll like any pipe, non-blocking), and each request is read straight into a free lane's buffer and
// served in the same callback. A request then costs one wake-up of one thread (the kernel's, as in a C
// server) instead of a reader thread's wake-up plus the reader waking this thread; nothing is copied and
// nothing is allocated per request.
//
// Node has no public way to poll a character device (net.Socket refuses an fd that is not a pipe or a socket),
// so this uses the pipe handle that net.Socket is built on (process.binding('pipe_wrap'), allow-listed) with a
// user buffer: libuv reads into memory we own and calls `onread` with the byte count, and the buffer `onread`
// returns is where the next request goes. `pollBindings()` says whether this Node has them; without them the
// session falls back to reader threads (pump-rings.ts).
//
// Lanes: `slots` + 1. The installed buffer always belongs to a free lane; a request whose handler returns a
// Promise keeps its lane (its input may still be referenced) and the next free lane is installed. With `slots`
// lanes busy reading stops until one is freed: that is the back-pressure, as the ring's.

import { Dispatcher } from './dispatch.js';
import { Lane } from './lane.js';
import { WireBuffer } from '../protocol/wire.js';
import { ERRNO } from '../protocol/errno.js';

interface PipeHandle {
  onread: (ab?: ArrayBuffer) => Uint8Array | undefined;
  open(fd: number): void;
  readStart(): number;
  readStop(): number;
  useUserBuffer(buf: Uint8Array): void;
  close(cb?: () => void): void;
}

export interface PollBindings {
  Pipe: new (type: number) => PipeHandle;
  socketType: number;
  /** streamBaseState: where the C++ side leaves the byte count (or negative uv error) of the read. */
  state: Int32Array;
  readBytesIndex: number;
}

let cached: PollBindings | null | undefined;

/** The pipe handle and stream state of this Node, or undefined when it does not expose them. */
export function pollBindings(): PollBindings | undefined {
  if (cached !== undefined) return cached ?? undefined;
  cached = null;
  try {
    const binding = (process as unknown as { binding(name: string): Record<string, unknown> }).binding;
    const pw = binding('pipe_wrap') as { Pipe?: PollBindings['Pipe']; constants?: { SOCKET?: number } };
    const sw = binding('stream_wrap') as { streamBaseState?: Int32Array; kReadBytesOrError?: number };
    if (typeof pw.Pipe === 'function' && typeof pw.constants?.SOCKET === 'number' && sw.streamBaseState instanceof Int32Array && typeof sw.kReadBytesOrError === 'number') {
      cached = { Pipe: pw.Pipe, socketType: pw.constants.SOCKET, state: sw.streamBaseState, readBytesIndex: sw.kReadBytesOrError };
    }
  } catch {
    // no process.binding (a future Node, or --no-deprecation-style policies): reader threads then
  }
  return cached ?? undefined;
}

/** uv error numbers (negative errno on Linux) that end serving the fd. */
const UV_EOF = -4095;
const UV_ENOENT = -ERRNO.ENOENT;
// libuv reports errors as -errno: ENODEV once unmounted, ECONNABORTED once aborted
const GONE = new Set([UV_EOF, -ERRNO.ENODEV, -ERRNO.ECONNABORTED, -ERRNO.EBADF, -ERRNO.EPERM]);

export interface PollOptions {
  bufSize: number;
  /** Requests that may be in flight at once (handlers that returned a Promise). */
  slots: number;
  /**
   * A new fd for the same connection when a read fails in a way that only means "try again" (libuv stops a
   * handle after any read error, so the handle cannot simply read again): ENOENT, a request aborted while it
   * was copied out. Replies for requests read from the old fd still go there; it is closed at the end.
   */
  reopen: () => number;
}

/** Why a round of serving ended: the connection is gone, or `until` settled and every request was answered. */
export type PollEnd = 'gone' | 'idle';

/** A polled fd that serves in rounds (worker mode's lock waits, serve-fd.ts): the handle stays between them. */
export interface PolledFd {
  /**
   * Reads and serves until the connection ends, or, given `until`, until that has settled and every request
   * read here was answered: then reading stops, and the requests not read yet stay queued for the
   * connection's other fds. Once 'gone', the fd is closed.
   */
  serve(until?: Promise<void>): Promise<PollEnd>;
  /** Closes the fd between rounds (after a round ended 'idle'); late replies of nothing are left then. */
  close(): Promise<void>;
}

/**
 * Serves `fd` from this thread's event loop until the connection ends. The handle owns `fd` (closes it at the
 * end), so pass an fd nobody else closes. Resolves once every request read was answered and the fd closed.
 */
export function servePolled(b: PollBindings, fd: number, dispatcher: Dispatcher, o: PollOptions): Promise<void> {
  return pollFd(b, fd, dispatcher, o).serve().then(() => undefined);
}

/**
 * `fd` polled by this thread's event loop, read only during `serve` rounds. One handle for the fd's whole life:
 * Node warns when a pipe handle is opened on an fd number that an earlier handle had (a clone closed and made
 * again would get the same number).
 */
export function pollFd(b: PollBindings, fd: number, dispatcher: Dispatcher, o: PollOptions): PolledFd {
  const n = o.slots + 1;
  const lanes: Lane[] = [];
  const inputs: WireBuffer[] = [];
  const free = new Int32Array(n); // stack of free lane indexes
  let freeTop = 0;
  for (let k = 0; k < n; k++) {
    lanes.push(new Lane(o.bufSize));
    inputs.push(new WireBuffer(o.bufSize));
    free[freeTop++] = n - 1 - k;
  }
  let current = free[--freeTop]!; // the lane whose buffer is installed (always free)
  let busy = 0;
  let paused = false;
  let reading = false; // a round is on
  let ended = false;
  let handle: PipeHandle;
  let handleFd = fd;
  const oldHandles: PipeHandle[] = [];
  let untilSettled = false;
  let endRound: (end: PollEnd) => void = () => undefined;
  let closedAll: Promise<void> | undefined;

  // At the end nobody waits for the requests still running: their late replies are dropped (a write to a
  // closed fd could reach whatever file took its number), and the fds are closed now.
  const closeHandles = (): Promise<void> => {
    if (closedAll) return closedAll;
    for (const lane of lanes) lane.replied = true;
    closedAll = new Promise<void>((resolve) => {
      let open = oldHandles.length + 1;
      const closed = (): void => {
        if (--open === 0) resolve();
      };
      for (const h of oldHandles) h.close(closed);
      handle.close(closed);
    });
    return closedAll;
  };
  const gone = (): void => {
    ended = true;
    reading = false;
    void closeHandles().then(() => endRound('gone'));
  };
  const stopIfIdle = (): void => {
    if (!reading || !untilSettled || busy !== 0) return;
    reading = false;
    paused = false;
    handle.readStop();
    endRound('idle');
  };
  // One callback per lane, made once: freeing a lane allocates nothing.
  const release: (() => void)[] = [];
  for (let k = 0; k < n; k++) {
    release.push(() => {
      free[freeTop++] = k;
      busy--;
      stopIfIdle();
      if (paused && reading) {
        paused = false;
        handle.readStart();
      }
    });
  }

  const onread = (): Uint8Array | undefined => {
    const len = b.state[b.readBytesIndex]!;
    if (len <= 0) {
      if (len === 0) return undefined; // EAGAIN: another fd took the request
      if (len === UV_ENOENT) {
        // the handle is stopped for good after an error: go on with a fresh fd
        oldHandles.push(handle);
        try {
          open(o.reopen());
          if (reading && !paused) startReading();
          return undefined;
        } catch (err) {
          dispatcher.log(`tsfuse: reopening /dev/fuse failed: ${String(err)}`);
        }
      } else if (!GONE.has(len)) {
        dispatcher.log(`tsfuse: reading /dev/fuse failed (uv error ${len})`);
      }
      gone();
      return undefined;
    }
    const k = current;
    let pending: Promise<void> | undefined;
    try {
      pending = dispatcher.dispatch(lanes[k]!, handleFd, inputs[k]!, len);
    } catch (err) {
      dispatcher.log(`tsfuse: dispatch failed: ${String(err)}`);
    }
    if (pending === undefined) return undefined; // the same buffer takes the next request
    busy++;
    const r = release[k]!;
    pending.then(r, r);
    current = free[--freeTop]!;
    if (busy === o.slots) {
      paused = true;
      handle.readStop();
    }
    return inputs[current]!.buf;
  };

  const open = (f: number): void => {
    const h = new b.Pipe(b.socketType);
    h.open(f);
    h.onread = onread;
    h.useUserBuffer(inputs[current]!.buf);
    handle = h;
    handleFd = f;
  };
  const startReading = (): void => {
    const err = handle.readStart();
    if (err !== 0) throw new Error(`uv_read_start on /dev/fuse failed (${err})`);
  };
  open(fd);

  return {
    serve(until?: Promise<void>): Promise<PollEnd> {
      if (ended) return Promise.resolve('gone');
      if (reading) throw new Error('tsfuse: a polled fd serves one round at a time');
      const round = new Promise<PollEnd>((resolve) => (endRound = resolve));
      reading = true;
      untilSettled = false;
      startReading();
      until?.then(() => {
        untilSettled = true;
        stopIfIdle();
      });
      return round;
    },
    close(): Promise<void> {
      ended = true;
      return closeHandles();
    },
  };
}
