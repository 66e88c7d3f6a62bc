// A mounted filesystem: mount, INIT handshake (in this thread, before any worker starts), the threads that
// serve it, and unmount. Worker mode when given a FilesystemModule (each worker builds its own filesystem),
// embedded mode when given a Filesystem object (it stays in this thread; reader threads hand requests over).

import { closeSync, readSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import { fileURLToPath } from 'node:url';
import { IN_HEADER_SIZE, InvalEntryFlags, Opcode, OUT_HEADER_SIZE, type InitFlag, InitFlags } from '../protocol/abi.js';
import { errnoName } from '../protocol/errno.js';
import { negotiateInit, type InitWants } from '../protocol/init.js';
import { encodeInitOut, writeOutHeader } from '../protocol/replies.js';
import { decodeInHeader, decodeInit, newInHeader } from '../protocol/requests.js';
import * as notify from '../protocol/notify.js';
import { WireBuffer } from '../protocol/wire.js';
import type { ConnectionInfo, Filesystem, FilesystemModule } from '../fs/types.js';
import { openLibc } from '../kernel/libc.js';
import { backingClose, backingOpen } from '../kernel/backing.js';
import { cloneFuseDevice } from '../kernel/device.js';
import { abortConnection, connectionIdFor, ensureFusectl } from '../kernel/fusectl.js';
import { mountFuse, unmountFuse, type MountMethod } from '../kernel/mount.js';
import { DeviceChannel, type Channel } from './channel.js';
import { Dispatcher, type DispatchOptions } from './dispatch.js';
import { pumpRings } from './pump-rings.js';
import { pollBindings, servePolled } from './poll-fd.js';
import { InterruptTable, INTERRUPT_SLOT_WORDS } from './interrupts.js';
import { createRing } from './ring.js';
import type { ReaderWorkerData, ServeStart, ServeWorkerData, WorkerMessage } from './worker.js';

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
  /** Threads serving the mount, each with its own fd (default: one per CPU). */
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
}

export interface NegotiatedInit {
  minor: number;
  flags: number;
  maxWrite: number;
  maxReadahead: number;
}

const WORKER_URL = new URL('./worker.js', import.meta.url);

function defaultLog(msg: string): void {
  process.stderr.write(msg.endsWith('\n') ? msg : msg + '\n');
}

/** Capabilities a filesystem's methods make sensible. */
function wantedFlags(fs: Filesystem | undefined, opts: SessionOptions): InitFlag[] {
  const want: InitFlag[] = [
    'ASYNC_READ', 'ATOMIC_O_TRUNC', 'BIG_WRITES', 'MAX_PAGES', 'PARALLEL_DIROPS', 'ASYNC_DIO', 'ABORT_ERROR',
    'CACHE_SYMLINKS', 'SETXATTR_EXT', 'HAS_IOCTL_DIR', 'INIT_EXT',
  ];
  const rdp = opts.readdirplus ?? 'always';
  // In worker mode the filesystem lives in the workers; assume it implements what it is asked for.
  const has = (m: keyof Filesystem): boolean => fs === undefined || typeof fs[m] === 'function';
  if (rdp !== 'never' && has('readdirplus')) {
    want.push('DO_READDIRPLUS');
    if (rdp === 'auto') want.push('READDIRPLUS_AUTO');
  }
  if (fs !== undefined ? typeof fs.setlk === 'function' : false) want.push('POSIX_LOCKS', 'FLOCK_LOCKS');
  if (opts.passthrough) want.push('PASSTHROUGH');
  if (opts.writebackCache && !opts.passthrough) want.push('WRITEBACK_CACHE');
  for (const f of opts.want ?? []) if (!want.includes(f)) want.push(f);
  const exclude = new Set(opts.exclude ?? []);
  return want.filter((f) => !exclude.has(f));
}

export class Session {
  readonly mountpoint: string;
  readonly fd: number;
  readonly init: NegotiatedInit;
  readonly mountMethod: MountMethod;
  /** Settles when every serving thread has ended (unmounted or aborted). */
  readonly closed: Promise<void>;
  private readonly workers: Worker[] = [];
  private readonly fds: number[] = [];
  private readonly log: (msg: string) => void;
  private readonly channel: Channel;
  private readonly notifyBuf = new WireBuffer(64 * 1024 + 4096);
  private unmounting: Promise<void> | undefined;
  private connId: number | undefined;
  private ended = false;

  private constructor(mountpoint: string, fd: number, init: NegotiatedInit, method: MountMethod, log: (m: string) => void, closed: Promise<void>, workers: Worker[], fds: number[]) {
    this.mountpoint = mountpoint;
    this.fd = fd;
    this.init = init;
    this.mountMethod = method;
    this.log = log;
    this.channel = new DeviceChannel(log);
    this.workers = workers;
    this.fds = fds;
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
    this.connId = connectionIdFor(mountpoint);
  }

  get threads(): number {
    return this.workers.length;
  }

  /** True while the serving threads run. */
  get alive(): boolean {
    return !this.ended;
  }

  /** fusectl connection id of this mount (for abort and waiting counts). */
  get connectionId(): number | undefined {
    return this.connId;
  }

  /**
   * Mounts `fs` at opts.mountpoint and starts serving; resolves once the mount is ready. A Filesystem object
   * is served in embedded mode (it stays in this thread); a FilesystemModule in worker mode.
   */
  static async mount(fs: Filesystem | FilesystemModule, opts: SessionOptions): Promise<Session> {
    openLibc(); // ffi-rs must be opened here, before any worker exists
    const log = opts.log ?? defaultLog;
    const channel = new DeviceChannel(log);
    const embedded = !isModule(fs);
    const nWorkers = Math.max(1, opts.workers ?? availableParallelism());
    const workers: Worker[] = [];
    const exits: Promise<void>[] = [];
    const spawn = (data: ServeWorkerData | ReaderWorkerData): Worker => {
      const w = new Worker(fileURLToPath(WORKER_URL), { workerData: data });
      workers.push(w);
      exits.push(new Promise<void>((resolve) => w.once('exit', () => resolve())));
      w.on('message', (m: WorkerMessage) => {
        if (m.type === 'log') log(m.message);
      });
      w.on('error', (err) => log(`tsfuse: worker ${data.index} failed: ${err instanceof Error ? err.stack : String(err)}`));
      return w;
    };
    const terminateAll = async (): Promise<void> => {
      for (const w of workers) await w.terminate();
    };
    // Worker mode: the workers boot and build their filesystems while this thread mounts, and a filesystem
    // that cannot be built (a bad image, a wrong module path) fails before anything is mounted.
    if (!embedded) {
      const loads: Promise<void>[] = [];
      for (let i = 0; i < nWorkers; i++) {
        const w = spawn({ role: 'serve', index: i, module: fs as FilesystemModule });
        loads.push(untilMessage(w, i, 'loaded'));
      }
      try {
        await Promise.all(loads);
      } catch (err) {
        await terminateAll();
        throw err;
      }
    }
    const options = [...(opts.options ?? [])];
    if (opts.defaultPermissions !== false && !options.includes('default_permissions')) options.push('default_permissions');
    let mounted;
    try {
      mounted = mountFuse({ mountpoint: opts.mountpoint, fsname: opts.fsname, subtype: opts.subtype, options, method: opts.mountMethod });
    } catch (err) {
      await terminateAll();
      throw err;
    }
    const fd = mounted.fd;
    const fds = [fd];
    try {
      const init = handshake(fd, {
        flags: wantedFlags(embedded ? (fs as Filesystem) : undefined, opts),
        maxWrite: opts.maxWrite ?? 1 << 20,
      }, channel, log, opts.debug ?? false);
      const passthrough = InitFlags.has(init.flags, 'PASSTHROUGH');
      if (opts.passthrough && !passthrough) log('tsfuse: the kernel did not accept FUSE_PASSTHROUGH; serving reads and writes in user space');
      const bufSize = init.maxWrite + 4096;
      for (let i = 1; i < nWorkers; i++) fds.push(cloneFuseDevice(fd));
      const dispatchOpts: Omit<DispatchOptions, 'log'> = {
        entryTimeout: opts.entryTimeout ?? 1,
        attrTimeout: opts.attrTimeout ?? 1,
        negativeTimeout: opts.negativeTimeout ?? 0,
        debug: opts.debug ?? false,
        setxattrExt: InitFlags.has(init.flags, 'SETXATTR_EXT'),
      };
      const conn: Omit<ConnectionInfo, 'backingOpen' | 'backingClose'> = {
        minor: init.minor, flags: init.flags, maxWrite: init.maxWrite, maxReadahead: init.maxReadahead, passthrough,
      };
      const readies: Promise<void>[] = [];
      if (!embedded) {
        const perWorker = Math.max(1, Math.floor((fs as FilesystemModule).inFlight ?? 1));
        const interrupts = new SharedArrayBuffer(nWorkers * perWorker * INTERRUPT_SLOT_WORDS * 4);
        workers.forEach((w, i) => {
          readies.push(untilMessage(w, i, 'ready'));
          const start: ServeStart = { type: 'start', fd: fds[i], sessionFd: fd, bufSize, conn, dispatch: dispatchOpts, interrupts };
          w.postMessage(start);
        });
      } else {
        const fsObj = fs as Filesystem;
        const full: ConnectionInfo = { ...conn };
        if (passthrough) {
          full.backingOpen = (f) => backingOpen(fd, f);
          full.backingClose = (id) => backingClose(fd, id);
        }
        if (fsObj.init) await fsObj.init(full);
        const dispatcher = new Dispatcher(fsObj, { ...dispatchOpts, log }, new InterruptTable(), channel);
        const slots = opts.slotsPerReader ?? 16;
        const poll = opts.embeddedTransport === 'threads' ? undefined : pollBindings();
        if (poll) exits.push(servePolled(poll, cloneFuseDevice(fd), dispatcher, { bufSize, slots, reopen: () => cloneFuseDevice(fd) }));
        const doorbell = new SharedArrayBuffer(4);
        const readers = (poll ? [] : fds).map((f, i) => {
          const ring = createRing({ slots, slotSize: bufSize });
          readies.push(untilMessage(spawn({ role: 'reader', index: i, fd: f, ring, doorbell }), i, 'ready'));
          return { fd: f, ring };
        });
        if (!poll) exits.push(pumpRings(readers, new Int32Array(doorbell), dispatcher));
      }
      await Promise.all(readies).catch(async (err) => {
        await terminateAll();
        throw err;
      });
      const closed = Promise.all(exits).then(async () => {
        if (embedded && (fs as Filesystem).destroy) await (fs as Filesystem).destroy!();
      });
      return new Session(opts.mountpoint, fd, init, mounted.method, log, closed, workers, fds);
    } catch (err) {
      await terminateAll();
      try {
        unmountFuse(opts.mountpoint, { lazy: true });
      } catch {
        // nothing mounted any more
      }
      for (const f of fds) {
        try {
          closeSync(f);
        } catch {
          // ignore
        }
      }
      throw err;
    }
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

/** Resolves when worker `w` posts `type`; rejects on its error message, an error, or its exit. */
function untilMessage(w: Worker, index: number, type: 'loaded' | 'ready'): Promise<void> {
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

function isModule(x: Filesystem | FilesystemModule): x is FilesystemModule {
  return typeof (x as FilesystemModule).module === 'string';
}

/** Reads INIT from the fresh mount and answers it (twice if the kernel speaks a newer major first). */
function handshake(fd: number, wants: InitWants, channel: Channel, log: (m: string) => void, debug: boolean): NegotiatedInit {
  const w = new WireBuffer(1 << 16);
  const out = new WireBuffer(4096);
  const h = newInHeader();
  for (let round = 0; round < 4; round++) {
    let n: number;
    try {
      n = readSync(fd, w.buf, 0, w.length, null);
    } catch (err) {
      const code = (err as { code?: string }).code;
      if (code === 'EINTR' || code === 'EAGAIN' || code === 'ENOENT') continue;
      throw err;
    }
    decodeInHeader(w, 0, h);
    if (h.opcode !== Opcode.INIT) throw new Error(`expected INIT from the kernel, got opcode ${h.opcode}`);
    if (n < IN_HEADER_SIZE || h.len > n) throw new Error(`INIT from the kernel is truncated (${n} bytes read, header says ${h.len})`);
    const kin = decodeInit(w, IN_HEADER_SIZE, h.len);
    const r = negotiateInit(kin, wants);
    if (r.kind === 'error') {
      writeOutHeader(out, OUT_HEADER_SIZE, -r.errno, h.uniqueLo, h.uniqueHi);
      channel.write(fd, out.buf, OUT_HEADER_SIZE);
      throw new Error(`INIT failed: ${r.reason} (${errnoName(r.errno)})`);
    }
    const len = OUT_HEADER_SIZE + encodeInitOut(out, OUT_HEADER_SIZE, r.out, r.size);
    writeOutHeader(out, len, 0, h.uniqueLo, h.uniqueHi);
    if (!channel.write(fd, out.buf, len)) throw new Error('the kernel did not take the INIT reply');
    if (r.kind === 'version') continue;
    if (debug) {
      log(`tsfuse: INIT kernel 7.${kin.minor} flags ${InitFlags.format(kin.flags)}`);
      log(`tsfuse: INIT reply 7.${r.minor} flags ${InitFlags.format(r.negotiated)} max_write ${r.out.maxWrite} max_pages ${r.out.maxPages}`);
    }
    return { minor: r.minor, flags: r.negotiated, maxWrite: r.out.maxWrite, maxReadahead: r.out.maxReadahead };
  }
  throw new Error('INIT handshake did not complete');
}

export { isModule };
