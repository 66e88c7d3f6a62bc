// Entry point of worker mode's threads (role 'serve'): build the filesystem from its module and serve the fd.
// Embedded mode's readers (role 'reader') start from reader-thread.ts, which loads only the ring filler.

import { parentPort, workerData } from 'node:worker_threads';
import type { ConnectionInfo, Filesystem, FilesystemModule } from '../fs/types.js';
import { DeviceChannel, type Channel } from './channel.js';
import { Dispatcher, type DispatchOptions } from './dispatch.js';
import { InterruptTable } from './interrupts.js';
import { loadFilesystem } from './load-filesystem.js';
import type { RingBuffers } from './ring.js';
import { serveFd, type WhileWaiting } from './serve-fd.js';
import { pollBindings } from './poll-fd.js';
import { serveFdConcurrently } from './serve-fd-concurrent.js';
import type { UringStart } from './uring/serve.js';
import { idleWarmUp } from './warm-up/idle-warm-up.js';
import { endAfterLinger } from './linger.js';

export interface ServeWorkerData {
  role: 'serve';
  index: number;
  module: FilesystemModule;
}

/** Sent to a serve worker once the mount exists; until then it only builds its filesystem. */
export interface ServeStart {
  type: 'start';
  fd: number;
  /** The session fd (BACKING_OPEN goes to the connection, any of its fds works). */
  sessionFd: number;
  bufSize: number;
  conn: Omit<ConnectionInfo, 'backingOpen' | 'backingClose'>;
  dispatch: Omit<DispatchOptions, 'log'>;
  interrupts: SharedArrayBuffer;
  /** Serve over FUSE io_uring (the kernel took FUSE_OVER_IO_URING). */
  uring?: UringStart;
  /** SessionOptions.warmUp. */
  warmUp: boolean;
  /** SessionOptions.spinUs. */
  spinUs: number;
}

export interface ReaderWorkerData {
  role: 'reader';
  index: number;
  fd: number;
  ring: RingBuffers;
  /** One word every reader bumps after publishing; the owner sleeps on it. */
  doorbell: SharedArrayBuffer;
}

export type WorkerMessage = { type: 'loaded' } | { type: 'ready' } | { type: 'error'; message: string } | { type: 'log'; message: string };


/** The message a user sees when a worker cannot start: one line; the stack only for unexpected errors. */
function errorText(err: unknown): string {
  if (!(err instanceof Error)) return String(err);
  const expected = typeof (err as { code?: unknown }).code === 'string' || err.name !== 'Error' && err.name !== 'TypeError' && err.name !== 'RangeError';
  return expected ? err.message : err.stack ?? err.message;
}

async function serve(data: ServeWorkerData): Promise<void> {
  const port = parentPort!;
  let fs: Filesystem;
  try {
    fs = await loadFilesystem(data.module);
  } catch (err) {
    port.postMessage({ type: 'error', message: errorText(err) } satisfies WorkerMessage);
    return;
  }
  port.postMessage({ type: 'loaded' } satisfies WorkerMessage);
  const start = await new Promise<ServeStart | undefined>((resolve) => {
    port.once('message', (m: ServeStart | { type: 'cancel' }) => resolve(m.type === 'start' ? m : undefined));
  });
  if (!start) return;
  const conn: ConnectionInfo = { ...start.conn };
  try {
    if (start.conn.passthrough) {
      // The main thread opened ffi-rs before starting this worker; per-open FFI calls are fine here.
      const { backingOpen, backingClose } = await import('../kernel/backing.js');
      conn.backingOpen = (fd) => backingOpen(start.sessionFd, fd);
      conn.backingClose = (id) => backingClose(start.sessionFd, id);
    }
    if (fs.init) await fs.init(conn);
  } catch (err) {
    port.postMessage({ type: 'error', message: errorText(err) } satisfies WorkerMessage);
    return;
  }
  port.postMessage({ type: 'ready' } satisfies WorkerMessage);
  // Log lines go to the session's `log` (a function cannot be cloned into the worker).
  const log = (msg: string): void => {
    port.postMessage({ type: 'log', message: `[worker ${data.index}] ${msg}` } satisfies WorkerMessage);
  };
  const inFlight = Math.max(1, Math.floor(data.module.inFlight ?? 1));
  const interrupts = new InterruptTable(new Int32Array(start.interrupts), data.index, inFlight);
  const makeDispatcher = (channel: Channel): Dispatcher => new Dispatcher(fs, { ...start.dispatch, log }, interrupts, channel);
  const d = makeDispatcher(new DeviceChannel(log));
  if (start.uring) await (await import('./uring/serve.js')).serveUring(start.fd, makeDispatcher, start.bufSize, start.uring, log);
  else if (inFlight > 1) await serveFdConcurrently(start.fd, d, start.bufSize, inFlight, data.index);
  else {
    const idle = start.warmUp ? idleWarmUp(fs, conn, { ...start.dispatch, log }, interrupts) : undefined;
    await serveFd(start.fd, d, start.bufSize, whileWaiting(data.module, log), idle, start.spinUs);
  }
  if (fs.destroy) await fs.destroy();
  // the session waits for this thread's exit: a handle left open must not keep the mount's server up
  endAfterLinger(`worker ${data.index}`, log, () => process.exit());
}

/** FilesystemModule.serveWhileWaiting, when asked for and this Node can poll the fd. */
function whileWaiting(mod: FilesystemModule, log: (msg: string) => void): WhileWaiting | undefined {
  const slots = Math.floor(mod.serveWhileWaiting ?? 0);
  if (slots <= 0) return undefined;
  const poll = pollBindings();
  if (!poll) log('tsfuse: this Node cannot poll /dev/fuse: a waiting request holds up the others (serveWhileWaiting)');
  return poll && { poll, slots };
}

const data = workerData as ServeWorkerData | ReaderWorkerData | undefined;
if (data?.role === 'serve') {
  serve(data).catch((err) => {
    process.stderr.write(`tsfuse worker ${data.index}: ${err instanceof Error ? err.stack : String(err)}\n`);
    process.exitCode = 1;
  });
}
