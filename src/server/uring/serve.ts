// A worker's serving loop over FUSE io_uring. One io_uring per thread carries:
//   - a URING_CMD per ring entry (REGISTER once, then COMMIT_AND_FETCH with each reply), user_data = entry;
//   - one READ of the worker's /dev/fuse fd (the kernel still sends FORGET and INTERRUPT there, and every
//     request when it refused the ring), run by the kernel's worker pool so it never blocks this thread;
//   - after the device is gone, a TIMEOUT, so a ring entry the kernel never gives back cannot hang unmount.
// Each pass submits everything queued since the last one and waits for completions in one io_uring_enter,
// then serves the requests that arrived through the one dispatch table (src/server/dispatch.ts). A handler
// that returns a Promise keeps its entry while later requests are served on the other entries.

import { DeviceChannel, type Channel } from '../channel.js';
import type { Dispatcher } from '../dispatch.js';
import { Lane } from '../lane.js';
import { WireBuffer } from '../../protocol/wire.js';
import { mapAnonymous, pinThisThread, unmap } from '../../kernel/uring-sys.js';
import { entryToken, UringChannel } from './channel.js';
import { EntryState, RingEntries } from './entries.js';
import { ERRNO } from '../../protocol/errno.js';
import { IORING_OP, IoUring, IOSQE_ASYNC, SQE } from './io-uring.js';

/** What a serve worker needs to serve over the ring (from the session, in ServeStart). */
export interface UringStart {
  /** The queues (CPU numbers) this worker registers entries for. */
  qids: number[];
  /** Entries per queue. */
  depth: number;
  /** The kernel's payload size: max(8 KiB, max_write, max_pages pages). */
  payloadSize: number;
  /** Int32 counters shared with the session: URING_COUNTER indexes. */
  counters: SharedArrayBuffer;
  /** This worker's index (entry tokens are unique across workers). */
  worker: number;
  /** Handlers that may be pending at once (FilesystemModule.inFlight); requests beyond wait in their entries. */
  inFlight: number;
  /**
   * Keep this thread on these CPUs (its queues' CPUs, when it owns only some of them): a request is queued
   * on the queue of the CPU that asked, so its worker then runs there and neither wake-up (the worker's, the
   * asking task's) crosses CPUs. Unset when the worker owns every queue (one worker) or none.
   */
  pin?: number[];
}

/** Indexes into UringStart.counters. */
export const URING_COUNTER = { RING_REQUESTS: 0, DEVICE_REQUESTS: 1, REGISTER_FAILED: 2, WORDS: 3 } as const;

const READ_TAG = 0xffffffff;
const TIMEOUT_TAG = 0xfffffffe;
/** After the device is gone: how long entries still in the kernel may take to come back (TIMEOUTs of 1 s). */
const TEARDOWN_SECONDS = 5;
const ONE_SECOND = [1, 0, 0, 0];

// completions carry -errno
const { ENOENT, EINTR, EAGAIN, ENODEV, ENOTCONN, ECONNABORTED, ECANCELED, EBADF, ETIME } = ERRNO;

export async function serveUring(fd: number, makeDispatcher: (channel: Channel) => Dispatcher, bufSize: number, start: UringStart, log: (m: string) => void): Promise<void> {
  const counters = new Int32Array(start.counters);
  if (start.pin) {
    const r = pinThisThread(start.pin);
    if (r < 0) log(`tsfuse: could not keep the io_uring worker on CPU ${start.pin.join(',')} (errno ${-r}); it runs where the scheduler puts it`);
  }
  const entries = new RingEntries(start.qids, start.depth, start.payloadSize, bufSize);
  let size = 1;
  while (size < entries.count + 2) size *= 2;
  const ring = new IoUring(size);
  // The device read's buffer and the teardown timespec live in memory the kernel is given the address of.
  const devMap = mapAnonymous(4096 + bufSize);
  const devWire = new WireBuffer(devMap.memory, 4096, bufSize);
  const devLane = new Lane(bufSize);
  const timespec = new Uint32Array(devMap.memory, 0, 4);
  const d = makeDispatcher(new UringChannel(new DeviceChannel(log), ring, entries, fd, start.worker));
  const TWO32 = 4294967296;
  const putAddress = (s: number, address: number): void => {
    ring.sqeWords[s + (SQE.addr >>> 2)] = address % TWO32;
    ring.sqeWords[s + (SQE.addr >>> 2) + 1] = Math.floor(address / TWO32);
  };
  const queueRead = (): void => {
    const s = ring.nextSqe();
    const w = ring.sqeWords;
    w[s] = IORING_OP.READ | (IOSQE_ASYNC << 8);
    w[s + (SQE.fd >>> 2)] = fd;
    putAddress(s, devMap.address + 4096);
    w[s + (SQE.len >>> 2)] = bufSize;
    w[s + (SQE.userData >>> 2)] = READ_TAG;
  };
  const queueTimeout = (): void => {
    timespec.set(ONE_SECOND); // struct __kernel_timespec { tv_sec: 1, tv_nsec: 0 }
    const s = ring.nextSqe();
    const w = ring.sqeWords;
    w[s] = IORING_OP.TIMEOUT;
    w[s + (SQE.fd >>> 2)] = -1 >>> 0;
    putAddress(s, devMap.address);
    w[s + (SQE.len >>> 2)] = 1;
    w[s + (SQE.userData >>> 2)] = TIMEOUT_TAG;
  };

  for (let e = 0; e < entries.count; e++) entries.register(ring, fd, e);
  queueRead();
  let live = entries.count;
  let deviceOpen = true;
  let timeouts = 0;
  let loggedEntryError = false;
  // Handlers that returned a Promise: while any runs, the loop polls the ring (1 ms) instead of blocking in
  // the kernel, so the event loop can settle them and FORGET/INTERRUPT/other requests keep being served.
  let running = 0;
  /** Set when the loop has ended and the ring is closed: late handlers must not queue anything. */
  let stopped = false;
  let wake: (() => void) | undefined;
  // Entries holding a request that waits for a handler slot (more than inFlight pending), oldest first.
  const backlog = new Int32Array(entries.count);
  let backlogHead = 0;
  let backlogLen = 0;
  const drainBacklog = (): void => {
    while (backlogLen > 0 && running < start.inFlight && !stopped) {
      const e = backlog[backlogHead];
      backlogHead = (backlogHead + 1) % backlog.length;
      backlogLen--;
      dispatchEntry(e);
    }
  };
  const settled = (): void => {
    running--;
    drainBacklog();
    const w = wake;
    wake = undefined;
    w?.();
  };
  // Per entry: which request (a count) it holds, and whether a handler still runs for it. An entry whose
  // request was answered early (EINTR on INTERRUPT) is fetched again while that handler runs: the handler keeps
  // its Lane, the entry gets a fresh one, and the old handler's end no longer touches the entry.
  const generation = new Uint32Array(entries.count);
  const busy = new Uint8Array(entries.count);
  const userData = new Uint32Array(ring.entries * 2);
  const res = new Int32Array(ring.entries * 2);
  const req = { wire: devWire, n: 0 };

  const serveDevice = (r: number): void => {
    Atomics.add(counters, URING_COUNTER.DEVICE_REQUESTS, 1);
    const p = d.dispatch(devLane, fd, devWire, r);
    if (p === undefined) return queueRead();
    running++;
    // the device lane and its buffer are this request's until it is answered; then read the next
    void p.then(() => {
      if (deviceOpen && !stopped) queueRead();
      settled();
    });
  };

  const serveEntry = (e: number): void => {
    if (busy[e] === 1) entries.lanes[e] = new Lane(bufSize);
    entries.takeRequest(e, req);
    Atomics.add(counters, URING_COUNTER.RING_REQUESTS, 1);
    if (running < start.inFlight) return dispatchEntry(e);
    backlog[(backlogHead + backlogLen) % backlog.length] = e;
    backlogLen++;
  };

  const dispatchEntry = (e: number): void => {
    if (entries.state[e] !== EntryState.SERVING) return;
    entries.requestOf(e, req);
    const gen = ++generation[e];
    const p = d.dispatch(entries.lanes[e], entryToken(start.worker, e), req.wire, req.n);
    if (p === undefined) return finishEntry(e);
    busy[e] = 1;
    running++;
    void p.then(() => {
      if (generation[e] === gen) {
        busy[e] = 0;
        finishEntry(e);
      }
      settled();
    });
  };

  // An entry nobody answered: a no-reply opcode (empty success), or a request another worker's INTERRUPT
  // marked (the dispatcher then sends nothing itself): EINTR now that its handler is done.
  const finishEntry = (e: number): void => {
    entries.finish(ring, fd, e, entries.lanes[e].ctx.interrupted ? EINTR : 0);
    if (entries.overflowed > 0) {
      log(`tsfuse: a ${entries.overflowed}-byte reply does not fit the ${entries.payloadSize}-byte ring payload; answered EIO`);
      entries.overflowed = 0;
    }
  };

  const entryEnded = (e: number, r: number): void => {
    const wasRegister = entries.state[e] === EntryState.WAITING && generation[e] === 0;
    entries.state[e] = EntryState.DEAD;
    live--;
    if (-r !== ENOTCONN && -r !== ECONNABORTED && -r !== ECANCELED && !loggedEntryError) {
      loggedEntryError = true;
      if (wasRegister) Atomics.add(counters, URING_COUNTER.REGISTER_FAILED, 1);
      log(`tsfuse: FUSE io_uring ${wasRegister ? 'REGISTER' : 'COMMIT_AND_FETCH'} failed: errno ${-r}${wasRegister ? '; the kernel serves this mount through /dev/fuse reads' : ''}`);
    }
  };

  try {
    while (deviceOpen || live > 0) {
      if (!deviceOpen && live > 0 && timeouts === 0) {
        timeouts = 1;
        queueTimeout();
      }
      if (ring.enter(running === 0) < 0) continue;
      const n = ring.reap(userData, res);
      if (n === 0 && running > 0) {
        await new Promise<void>((resolve) => {
          wake = resolve;
          setTimeout(resolve, 1);
        });
        continue;
      }
      for (let i = 0; i < n; i++) {
        const tag = userData[i];
        const r = res[i];
        if (tag === READ_TAG) {
          if (r > 0) serveDevice(r);
          else if (r === 0 || -r === ENOENT || -r === EINTR || -r === EAGAIN) queueRead();
          else {
            if (-r !== ENODEV && -r !== ECONNABORTED && -r !== EBADF && -r !== ECANCELED) log(`tsfuse: reading /dev/fuse through io_uring failed: errno ${-r}`);
            deviceOpen = false;
            // The connection is gone: the kernel has released the entries it had handed to us (their commits
            // could only fail), so only the commands it still holds are waited for.
            for (let e = 0; e < entries.count; e++) {
              if (entries.state[e] === EntryState.SERVING) {
                entries.state[e] = EntryState.DEAD;
                live--;
              }
            }
          }
        } else if (tag === TIMEOUT_TAG) {
          if (live > 0 && r === -ETIME && timeouts < TEARDOWN_SECONDS) {
            timeouts++;
            queueTimeout();
          } else if (live > 0) {
            log(`tsfuse: ${live} io_uring entries still held by the kernel after unmount; closing the ring`);
            live = 0;
          }
        } else if (tag < entries.count && entries.state[tag] !== EntryState.DEAD) {
          if (r < 0) entryEnded(tag, r);
          else serveEntry(tag);
        }
      }
    }
  } finally {
    // A handler still running (a hung one at abort) may answer later: its entry is dead by then, so the
    // answer is dropped before it touches the ring; the buffers it may still read stay mapped.
    stopped = true;
    entries.state.fill(EntryState.DEAD);
    ring.close();
    if (running === 0) {
      entries.close();
      unmap(devMap);
    }
  }
}
