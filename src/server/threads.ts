// The threads of one session: spawning them on the session's entry points, their log lines, waiting for a
// thread's start-up messages, and knowing when every serving loop has ended.

import { type ResourceLimits, Worker } from 'node:worker_threads';
import { readerScript, workerScript } from './bundled.js';
import type { ReaderWorkerData, ServeWorkerData, WorkerMessage } from './worker.js';

const WORKER = new URL('./worker.js', import.meta.url);
/** Readers load nothing but the ring filler (a smaller module graph boots faster). */
const READER_PATH = readerScript(new URL('./reader-thread.js', import.meta.url));

export class SessionThreads {
  /** Every thread spawned so far, in spawn order (index = the thread's fd index). */
  readonly workers: Worker[] = [];
  private readonly loops: Promise<unknown>[] = [];
  private readonly log: (msg: string) => void;

  constructor(log: (msg: string) => void) {
    this.log = log;
  }

  spawn(data: ServeWorkerData | ReaderWorkerData, resourceLimits?: ResourceLimits): Worker {
    const script = data.role === 'reader' ? READER_PATH : workerScript(WORKER, data.module.module);
    // trackUnmanagedFds off: filesystems open fds through koffi too (passthrough's openat of one name in a
    // directory fd, sys.ts), which node:fs never saw; closing those with fs.closeSync would print a warning
    // per fd. A worker's filesystem closes its own fds in destroy, as it must in embedded mode, where Node
    // tracks nothing either.
    const w = new Worker(script, { workerData: data, resourceLimits, trackUnmanagedFds: false });
    this.workers.push(w);
    this.loops.push(new Promise<void>((resolve) => w.once('exit', () => resolve())));
    w.on('message', (m: WorkerMessage) => {
      if (m.type === 'log') this.log(m.message);
    });
    w.on('error', (err) => this.log(`tsfuse: worker ${data.index} failed: ${err instanceof Error ? err.stack : String(err)}`));
    return w;
  }

  /** A serving loop outside the spawned threads (embedded mode's owner side) that `ended` waits for too. */
  addLoop(loop: Promise<unknown>): void {
    this.loops.push(loop);
  }

  /** Settles when every thread has exited and every loop has returned, including those added meanwhile. */
  async ended(): Promise<void> {
    for (let i = 0; i < this.loops.length; i++) await this.loops[i];
  }

  async terminateAll(): Promise<void> {
    for (const w of this.workers) await w.terminate();
  }
}

/** Resolves when worker `w` posts `type`; rejects on its error message, an error, or its exit. */
export function untilMessage(w: Worker, index: number, type: 'loaded' | 'ready'): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    const onMessage = (m: WorkerMessage): void => {
      if (m.type === type) done(resolve);
      // Every worker builds the same filesystem, so a load error is the filesystem's, not one worker's.
      else if (m.type === 'error') done(() => reject(new Error(type === 'loaded' ? m.message : `worker ${index}: ${m.message}`)));
    };
    const onError = (err: unknown): void => done(() => reject(err));
    const onExit = (code: number): void => done(() => reject(new Error(`worker ${index} exited (${code}) before it was ${type}`)));
    const done = (f: () => void): void => {
      w.off('message', onMessage);
      w.off('error', onError);
      w.off('exit', onExit);
      f();
    };
    w.on('message', onMessage);
    w.on('error', onError);
    w.on('exit', onExit);
  });
}
