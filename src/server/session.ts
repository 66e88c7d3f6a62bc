// A mounted filesystem: its two hosting modes over shared start-up steps, and unmount, abort and notifications.
// Worker mode when given a FilesystemModule (each worker builds its own filesystem), embedded mode when given
// a Filesystem object (it stays in this thread; reader threads hand requests over). Both mount and answer
// INIT in this thread (connection.ts) before any thread serves.

import { closeSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import type { ResourceLimits, Worker } from 'node:worker_threads';
import { InvalEntryFlags, type InitFlag } from '../protocol/abi.js';
import * as notify from '../protocol/notify.js';
import { WireBuffer } from '../protocol/wire.js';
import type { Filesystem, FilesystemModule } from '../fs/types.js';
import { openLibc } from '../kernel/libc.js';
import { abortConnection, connectionIdFor, ensureFusectl } from '../kernel/fusectl.js';
import { unmountFuse, type MountMethod } from '../kernel/mount.js';
import { DeviceChannel, type Channel } from './channel.js';
import {
  closeConnection, connectionInfo, connectionOf, openConnection, type AdoptedConnection, type Connection, type NegotiatedInit,
} from './connection.js';
import { cloneFuseDevice } from '../kernel/device.js';
import { InterruptTable, INTERRUPT_SLOT_WORDS } from './interrupts.js';
import { SessionThreads, untilMessage } from './threads.js';
import type { ServeStart } from './worker.js';
import { loadFilesystem } from './load-filesystem.js';
import type { ServeFirst } from './serve-first.js';
import { confirmUring, planUring, takeUringOptions, uringCounts, uringStartFor, type UringPlan } from './uring/plan.js';

export type { AdoptedConnection, NegotiatedInit } from './connection.js';

export interface SessionOptions {
  mountpoint: string;
  /** Shown as the mount's source (df, /proc/mounts). */
  fsname?: string;
  /** The mount type becomes fuse.SUBTYPE. */
  subtype?: string;
  /** The usual -o mount options (allow_other, ro, max_read=N, ...). default_permissions is added unless defaultPermissions is false. */
  options?: string[];
  /** The kernel checks permissions from the attributes (default true). */
  defaultPermissions?: boolean;
  /** Threads serving the mount, each with its own fd (default: one per CPU, at most a module's maxWorkers). */
  workers?: number;
  /** Trace every request and reply by opcode name on stderr. */
  debug?: boolean;
  /** Default cache timeouts in seconds (default 1). */
  entryTimeout?: number;
  attrTimeout?: number;
  /** Cache a failed lookup (ENOENT) for this many seconds (default 0 = not at all). */
  negativeTimeout?: number;
  /** Largest WRITE the kernel may send (default 1 MiB). */
  maxWrite?: number;
  /** Negotiate kernel passthrough (FUSE_PASSTHROUGH) so opens may return FOPEN_PASSTHROUGH. */
  passthrough?: boolean;
  /** READDIRPLUS policy when the filesystem implements readdirplus: 'always' (default), 'auto', or 'never'. */
  readdirplus?: 'always' | 'auto' | 'never';
  /** Use the kernel's writeback cache (not with passthrough). */
  writebackCache?: boolean;
  /** Extra INIT capabilities to ask for. */
  want?: InitFlag[];
  /** Capabilities never to ask for. */
  exclude?: InitFlag[];
  /** How to mount (default: mount(2) as root, fusermount3 otherwise). */
  mountMethod?: MountMethod;
  /** Embedded mode: request slots per reader thread (default 16). */
  slotsPerReader?: number;
  /**
   * Embedded mode: 'poll' (default where Node allows it) serves from this thread's event loop polling the fd,
   * with no reader threads (`workers` then does not matter); 'threads' hands requests over from reader threads.
   */
  embeddedTransport?: 'poll' | 'threads';
  /** Where log lines go (default stderr). */
  log?: (msg: string) => void;
  /** Serve over FUSE io_uring when the kernel offers it (worker mode; also the `io_uring` mount option). */
  ioUring?: boolean;
  /** io_uring entries per queue (default 8; also `io_uring_q_depth=N`). */
  ioUringDepth?: number;
  /**
   * Worker mode: this thread builds an instance of the filesystem too and answers the first requests itself
   * while the first worker boots (default: when more than one worker serves, since the module's instances
   * are then interchangeable already, and the module has no `inFlight`; pass true for one worker only if
   * they are). mount() still resolves once
   * a worker serves. Never while this thread serves another mount (an embedded one): the filesystem's code
   * runs here then, and a synchronous call of it into that mount would wait for this thread.
   */
  serveFirst?: boolean;
  /**
   * Worker mode: serve a connection another process mounted and answered INIT on, whose session fd this
   * process inherited, instead of mounting (the CLI's hand-over). The options must be those it mounted with.
   */
  adopt?: AdoptedConnection;
  /** V8 heap limits of each serving worker (worker mode): a small young generation keeps a worker's RSS small. */
  workerLimits?: ResourceLimits;
  /**
   * Worker mode over /dev/fuse reads: once its fd has been quiet for a moment after INIT, each worker walks a
   * throw-away twin of its filesystem (Filesystem.warmUpTwin) so that its request path is compiled before the
   * first real requests (src/server/warm-up/). Real requests always go first. Default false; a filesystem
   * without warmUpTwin ignores it.
   */
  warmUp?: boolean;
  /**
   * Worker mode over /dev/fuse reads: after answering a request, a worker polls its fd for up to this many µs
   * before it blocks in read(2) again. A client's next request usually comes within a few µs (a RENAME right
   * after its LOOKUP, a loop of metadata calls), and catching it awake saves the sleep and the wake-up, which
   * in a VM whose idle vCPUs halt at once cost more than the request (bench/results/passthrough-writes.md,
   * round 8). The price is CPU: a busy client keeps the worker polling between its requests. Default 0
   * (never polls); with several workers each one polls, so keep it for single-worker mounts.
   */
  spinUs?: number;
}

/**
 * The io_uring mount options (`io_uring`, `io_uring_q_depth=N`) taken out of the options the kernel sees, and
 * the queues planned when io_uring is asked for and available (FUSE_OVER_IO_URING then wanted at INIT).
 */
async function withUringPlan(opts: SessionOptions, embedded: boolean, log: (m: string) => void, inFlight: number): Promise<{ opts: SessionOptions; plan: UringPlan | undefined }> {
  const options = [...(opts.options ?? [])];
  const ask = takeUringOptions(options);
  const plan = await planUring({ enabled: ask.enabled || opts.ioUring === true, depth: opts.ioUringDepth ?? ask.depth }, embedded, log, inFlight);
  const want = plan ? [...(opts.want ?? []), 'OVER_IO_URING' as const] : opts.want;
  return { opts: { ...opts, options, want }, plan };
}

/**
 * Sessions this thread serves requests of right now: embedded ones for their lifetime, worker-mode ones while
 * this thread serves first. Serve-first runs the filesystem's code here, and a synchronous call of it into a
 * mount this thread serves (an object store on an embedded passthrough mount) would wait for this very
 * thread: so no serve-first while any is.
 */
let servedByThisThread = 0;

function defaultLog(msg: string): void {
  process.stderr.write(msg.endsWith('\n') ? msg : msg + '\n');
}

/** A start-up step after which nothing may stay behind: on failure the threads end, and the mount once it exists. */
async function orUndo<T>(threads: SessionThreads, c: Connection | undefined, step: () => T | Promise<T>): Promise<T> {
  try {
    return await step();
  } catch (err) {
    await threads.terminateAll();
    if (c) closeConnection(c);
    throw err;
  }
}

export class Session {
  readonly mountpoint: string;
  readonly fd: number;
  readonly init: NegotiatedInit;
  readonly mountMethod: MountMethod;
  /** Settles when every serving thread has ended (unmounted or aborted). */
  readonly closed: Promise<void>;
  private readonly workers: Worker[];
  private readonly fds: number[];
  private readonly log: (msg: string) => void;
  private readonly channel: Channel;
  private readonly notifyBuf = new WireBuffer(64 * 1024 + 4096);
  private unmounting: Promise<void> | undefined;
  private connId: number | undefined;
  private ended = false;
  private uringPlan: UringPlan | undefined;

  /** `closed`: when the threads and serving loops have ended and the filesystem is done with. */
  private constructor(c: Connection, threads: SessionThreads, closed: Promise<void>, channel: Channel, log: (m: string) => void) {
    this.mountpoint = c.mountpoint;
    this.fd = c.fd;
    this.init = c.init;
    this.mountMethod = c.method;
    this.log = log;
    this.channel = channel;
    this.workers = threads.workers;
    this.fds = c.fds;
    this.closed = closed.finally(() => {
      this.ended = true;
      for (const f of this.fds) {
        try {
          closeSync(f);
        } catch {
          // already closed
        }
      }
    });
    this.connId = connectionIdFor(c.mountpoint);
  }

  get threads(): number {
    return this.workers.length;
  }

  /** True while the serving threads run. */
  get alive(): boolean {
    return !this.ended;
  }

  /** How requests reach the server: 'io_uring' when the kernel took FUSE_OVER_IO_URING, else 'device'. */
  get transport(): 'io_uring' | 'device' {
    return this.uringPlan ? 'io_uring' : 'device';
  }

  /** Requests served so far over the io_uring entries and over /dev/fuse reads (counted in io_uring mode only). */
  uringCounts(): { ring: number; device: number; registerFailed: number } {
    return uringCounts(this.uringPlan);
  }

  /** fusectl connection id of this mount (for abort and waiting counts). */
  get connectionId(): number | undefined {
    return this.connId;
  }

  /**
   * Mounts `fs` at opts.mountpoint and starts serving; resolves once the mount is ready. A Filesystem object
   * is served in embedded mode (it stays in this thread); a FilesystemModule in worker mode.
   */
  static mount(fs: Filesystem | FilesystemModule, opts: SessionOptions): Promise<Session> {
    openLibc(); // ffi-rs must be opened here, before any worker exists
    return isModule(fs) ? Session.mountWorkers(fs, opts) : Session.mountEmbedded(fs, opts);
  }

  /**
   * Worker mode: the first worker boots and builds its filesystem; a filesystem that cannot be built (a bad
   * image, a wrong module path) fails before anything is mounted. With serveFirst this thread builds its own
   * instance meanwhile, mounts as soon as that is built and answers requests itself (serve-first.ts) until the
   * first worker serves; else it waits for the worker's filesystem and mounts then. The session resolves once
   * the first worker serves and this thread has answered every request it read, so a program may then call
   * synchronous fs functions on its own mount from this thread. Only then are the other workers spawned (on
   * a small machine, booting them all at once delays the first); each serves from when it is up.
   */
  private static async mountWorkers(mod: FilesystemModule, opts: SessionOptions): Promise<Session> {
    // Several workers mean several interchangeable instances already, so one more here is as good as any. Not
    // for a module with requests in flight (a remote image): those wait on fetches, which this one would repeat.
    const serveFirst = (opts.serveFirst ?? (workerCount(mod, opts) > 1 && (mod.inFlight ?? 1) <= 1)) && servedByThisThread === 0;
    if (serveFirst) servedByThisThread++;
    try {
      return await Session.startWorkers(mod, opts, serveFirst);
    } finally {
      if (serveFirst) servedByThisThread--;
    }
  }

  private static async startWorkers(mod: FilesystemModule, opts: SessionOptions, serveFirst: boolean): Promise<Session> {
    const log = opts.log ?? defaultLog;
    const channel = new DeviceChannel(log);
    const n = workerCount(mod, opts);
    if (mod.maxWorkers !== undefined && n > mod.maxWorkers) {
      const most = mod.maxWorkers === 1 ? 'one worker' : `${mod.maxWorkers} workers`;
      throw new Error(`tsfuse: this filesystem module is served by ${most} at most (workers: ${n} asked)`);
    }
    const adopted = opts.adopt;
    if (adopted && (opts.ioUring || takeUringOptions([...(opts.options ?? [])]).enabled)) {
      throw new Error('tsfuse: an adopted connection cannot move to io_uring (that is negotiated at INIT)');
    }
    const threads = new SessionThreads(log);
    const spawn = (i: number): { worker: Worker; loaded: Promise<void> } => {
      const worker = threads.spawn({ role: 'serve', index: i, module: mod }, opts.workerLimits);
      return { worker, loaded: untilMessage(worker, i, 'loaded') };
    };
    const first = spawn(0);
    // Settled here even when the owner's parts fail first, so that a rejection is never left unhandled.
    const firstLoaded = first.loaded.then(() => undefined, (err: unknown) => err);
    const perWorker = Math.max(1, Math.floor(mod.inFlight ?? 1));
    // over io_uring a worker's pending handlers are bounded by one count: serveWhileWaiting's go on top
    const uringInFlight = perWorker + Math.max(0, Math.floor(mod.serveWhileWaiting ?? 0));
    const { opts: mountOpts, plan: asked } = adopted ? { opts, plan: undefined } : await orUndo(threads, undefined, () => withUringPlan(opts, false, log, uringInFlight));
    // Over io_uring the kernel answers nothing until every worker has its entries (below): this thread
    // serving first would gain nothing, so it does not load the filesystem for that, and all workers boot
    // at once, while the mount is made, instead of one after the other.
    const ownerParts = serveFirst && !asked
      ? orUndo(threads, undefined, () => Promise.all([loadFilesystem(mod), import('./dispatch.js'), import('./serve-first.js')]))
      : undefined;
    const early = asked ? Array.from({ length: n - 1 }, (_, k) => spawn(k + 1)) : [];
    for (const w of early) w.loaded.catch(() => undefined); // handled where it is started (below)
    if (ownerParts) await ownerParts;
    else if (!asked) {
      // (over io_uring the mount is made while the workers load; one that fails then undoes it, below)
      const err = await firstLoaded;
      if (err !== undefined) return orUndo(threads, undefined, () => Promise.reject(err));
    }
    const c = await orUndo(threads, undefined, () => (adopted ? connectionOf(opts, adopted, n) : openConnection(mountOpts, undefined, n, channel, log)));
    const plan = confirmUring(asked, c.init.flags, log);
    const interrupts = new SharedArrayBuffer(n * perWorker * INTERRUPT_SLOT_WORDS * 4);
    const start = (worker: Worker, i: number): Promise<void> => {
      const ready = untilMessage(worker, i, 'ready');
      const msg: ServeStart = {
        type: 'start', fd: c.fds[i], sessionFd: c.fd, bufSize: c.bufSize, conn: c.conn, dispatch: c.dispatch, interrupts,
        uring: plan && uringStartFor(plan, c.init, i, n, uringInFlight), warmUp: opts.warmUp ?? false, spinUs: Math.max(0, opts.spinUs ?? 0),
      };
      worker.postMessage(msg);
      return ready;
    };
    let undone = false; // the start-up failed as a whole: the other workers are ended on purpose
    const startOthers = (): Promise<void>[] => {
      const all: Promise<void>[] = [];
      for (let i = 1; i < n; i++) {
        const other = early[i - 1] ?? spawn(i);
        const started = other.loaded.then(() => start(other.worker, i));
        all.push(started);
        started.catch((err) => {
          if (!undone && !plan) log(`tsfuse: worker ${i} did not start: ${err instanceof Error ? err.message : String(err)}`);
        });
      }
      return all;
    };
    const rest = plan ? startOthers() : undefined;
    const firstReady = firstLoaded.then((err) => {
      if (err !== undefined) throw err;
      return start(first.worker, 0);
    }).catch((err) => {
      undone = true;
      throw err;
    });
    let owner: ServeFirst | undefined;
    let ownerFs: Filesystem | undefined;
    if (ownerParts) {
      const [fs, { Dispatcher }, { ServeFirst }] = await ownerParts;
      ownerFs = fs;
      owner = await orUndo(threads, c, async () => {
        if (fs.init) await fs.init(connectionInfo(c.conn, c.fd));
        return new ServeFirst(c.fd, c.bufSize, new Dispatcher(fs, { ...c.dispatch, log }, new InterruptTable(), channel));
      });
    }
    try {
      await orUndo(threads, c, () => firstReady);
    } finally {
      owner?.handOver();
    }
    if (owner) {
      await owner.drained;
      if (ownerFs?.destroy) await ownerFs.destroy();
    }
    // Over /dev/fuse reads spawned once the first one serves: each Worker constructor holds this thread for
    // milliseconds. A later worker that fails leaves the mount with fewer threads, not without a server.
    const others = rest ?? startOthers();
    // Over io_uring the kernel holds every request until each queue has registered entries (fuse_block_alloc),
    // and a worker owns its queues from the start: until all workers are up the mount answers nothing, and this
    // thread must not be told it is ready (a caller that then blocks it, e.g. in mount(2) of an overlay on top,
    // would keep the last workers from being started). A worker that cannot start fails the mount: its queues
    // would never be served.
    if (plan) await orUndo(threads, c, () => Promise.all(others));
    const session = new Session(c, threads, threads.ended(), channel, log);
    session.uringPlan = plan;
    return session;
  }

  /**
   * Embedded mode: the filesystem object is initialised and served in this thread; one reader thread per fd
   * reads requests into its ring, and pumpRings dispatches them here. Until the first reader is up, this
   * thread answers requests itself (serve-first.ts): the session is ready once INIT is answered.
   */
  private static async mountEmbedded(fs: Filesystem, opts: SessionOptions): Promise<Session> {
    if (opts.adopt) throw new Error('tsfuse: only worker mode serves an adopted connection');
    servedByThisThread++;
    try {
      const session = await Session.startEmbedded(fs, opts);
      const served = (): void => void servedByThisThread--;
      session.closed.then(served, served);
      return session;
    } catch (err) {
      servedByThisThread--;
      throw err;
    }
  }

  private static async startEmbedded(fs: Filesystem, opts: SessionOptions): Promise<Session> {
    const log = opts.log ?? defaultLog;
    const channel = new DeviceChannel(log);
    const threads = new SessionThreads(log);
    // Loaded on the first embedded mount: a worker-mode server (the CLI) does not compile the dispatcher here.
    const [{ Dispatcher }, { pollBindings, servePolled }] = await Promise.all([import('./dispatch.js'), import('./poll-fd.js')]);
    // 'poll' (the default where Node has the binding): this thread's event loop reads a clone of the fd itself,
    // so a request wakes one thread once, and there are no reader threads (nor fds for them) to set up.
    const poll = opts.embeddedTransport === 'threads' ? undefined : pollBindings();
    // io_uring asked for here only logs that embedded mode serves /dev/fuse reads; its mount options are taken out
    const { opts: mountOpts } = await withUringPlan(opts, true, log, 1);
    const c = await orUndo(threads, undefined, () => openConnection(mountOpts, fs, poll ? 1 : threadCount(opts), channel, log));
    await orUndo(threads, c, async () => {
      if (fs.init) await fs.init(connectionInfo(c.conn, c.fd));
      const dispatcher = new Dispatcher(fs, { ...c.dispatch, log }, new InterruptTable(), channel);
      const slots = opts.slotsPerReader ?? 16;
      if (poll) {
        threads.addLoop(servePolled(poll, cloneFuseDevice(c.fd), dispatcher, { bufSize: c.bufSize, slots, reopen: () => cloneFuseDevice(c.fd) }));
        return;
      }
      const [{ pumpRings }, { createRing }, { ServeFirst }] = await Promise.all([
        import('./pump-rings.js'), import('./ring.js'), import('./serve-first.js'),
      ]);
      const doorbell = new SharedArrayBuffer(4);
      const readers = c.fds.map((fd) => ({ fd, ring: createRing({ slots, slotSize: c.bufSize }) }));
      // This thread answers what is queued already before the readers' Worker constructors (milliseconds each
      // on this thread) run, and polls until the first reader is up.
      const first = new ServeFirst(c.fd, c.bufSize, dispatcher);
      threads.addLoop(first.ended);
      Promise.any(readers.map(({ fd, ring }, i) => untilMessage(threads.spawn({ role: 'reader', index: i, fd, ring, doorbell }), i, 'ready'))).then(
        () => first.handOver(),
        () => log('tsfuse: no reader thread started; this thread keeps serving the mount, polling'),
      );
      threads.addLoop(pumpRings(readers, new Int32Array(doorbell), dispatcher));
    });
    const closed = threads.ended().then(async () => {
      if (fs.destroy) await fs.destroy();
    });
    return new Session(c, threads, closed, channel, log);
  }

  /**
   * Unmounts and resolves when every serving thread is gone. If threads are still running after
   * `abortAfterMs` (files held open on the mount keep it alive), the connection is aborted through fusectl.
   */
  unmount(opts: { abortAfterMs?: number } = {}): Promise<void> {
    if (this.unmounting) return this.unmounting;
    const abortAfter = opts.abortAfterMs ?? 10_000;
    this.unmounting = (async () => {
      // After an abort the threads are gone but the (dead) mount stays until unmounted: unmount it too, as long
      // as the mount there is still this connection.
      if (!this.ended || (this.connId !== undefined && connectionIdFor(this.mountpoint) === this.connId)) {
        try {
          unmountFuse(this.mountpoint, { lazy: true });
        } catch (err) {
          // EINVAL: unmounted already (umount -l from outside, or a watchdog); the readers are on their way out
          if (!this.ended && (err as { code?: string }).code !== 'EINVAL') this.log(`tsfuse: unmount ${this.mountpoint}: ${String(err)}`);
        }
      }
      let timer: NodeJS.Timeout | undefined;
      const aborted = new Promise<void>((resolve) => {
        timer = setTimeout(() => {
          if (!this.ended) this.abort();
          resolve();
        }, abortAfter);
        timer.unref();
      });
      await Promise.race([this.closed, aborted.then(() => this.closed)]);
      if (timer) clearTimeout(timer);
    })();
    return this.unmounting;
  }

  /** Ends the connection at once through fusectl: every pending and future request fails with ENOTCONN. */
  abort(): boolean {
    try {
      ensureFusectl();
    } catch {
      // fusectl may be mounted already or unavailable
    }
    const ok = this.connId !== undefined ? abortConnection(this.connId) : abortConnection(this.mountpoint);
    // Aborted readers get ENODEV/ECONNABORTED and leave; terminate any thread that does not.
    setTimeout(() => {
      if (!this.ended) for (const w of this.workers) void w.terminate();
    }, 2000).unref();
    return ok;
  }

  /**
   * Notifications: tell the kernel to drop cached data or names. Each returns whether the kernel took it:
   * false when it no longer knows the inode or entry (which is what was wanted anyway) or the mount is gone.
   */
  invalInode(ino: number, off = 0, len = 0): boolean {
    return this.sendNotify(notify.encodeNotifyInvalInode(this.notifyBuf, ino, off, len));
  }
  invalEntry(parent: number, name: string, expireOnly = false): boolean {
    const flags = expireOnly ? InvalEntryFlags.of('EXPIRE_ONLY') : 0;
    return this.sendNotify(notify.encodeNotifyInvalEntry(this.notifyBuf, parent, name, flags));
  }
  notifyDelete(parent: number, child: number, name: string): boolean {
    return this.sendNotify(notify.encodeNotifyDelete(this.notifyBuf, parent, child, name));
  }
  notifyStore(ino: number, offset: number, data: Uint8Array): boolean {
    return this.sendNotify(notify.encodeNotifyStore(this.notifyBuf, ino, offset, data));
  }
  notifyPoll(kh: number): boolean {
    return this.sendNotify(notify.encodeNotifyPoll(this.notifyBuf, kh));
  }
  incEpoch(): boolean {
    return this.sendNotify(notify.encodeNotifyIncEpoch(this.notifyBuf));
  }
  prune(nodeids: number[]): boolean {
    return this.sendNotify(notify.encodeNotifyPrune(this.notifyBuf, nodeids));
  }

  private sendNotify(len: number): boolean {
    return this.channel.write(this.fd, this.notifyBuf.buf, len);
  }
}

/** Threads serving the mount: SessionOptions.workers, default one per CPU. */
function threadCount(opts: SessionOptions): number {
  return Math.max(1, opts.workers ?? availableParallelism());
}

/** Worker mode: SessionOptions.workers, default one per CPU but no more than the module's maxWorkers. */
function workerCount(mod: FilesystemModule, opts: SessionOptions): number {
  const n = threadCount(opts);
  return opts.workers === undefined && mod.maxWorkers !== undefined ? Math.max(1, Math.min(n, mod.maxWorkers)) : n;
}

function isModule(x: Filesystem | FilesystemModule): x is FilesystemModule {
  return 'module' in x && typeof x.module === 'string';
}

export { isModule };
