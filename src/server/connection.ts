// The steps both hosting modes share once their filesystem is ready to be mounted: mount, the INIT handshake
// (in the calling thread, before any request can be served), one fd per serving thread, and what every
// dispatcher and the filesystem's init() are told. And the way back when a later start-up step fails.

import { closeSync, readSync } from 'node:fs';
import { IN_HEADER_SIZE, Opcode, OUT_HEADER_SIZE, type InitFlag, InitFlags } from '../protocol/abi.js';
import { errnoName } from '../protocol/errno.js';
import { negotiateInit, type InitWants } from '../protocol/init.js';
import { encodeInitOut, writeOutHeader } from '../protocol/replies.js';
import { decodeInHeader, decodeInit, newInHeader } from '../protocol/requests.js';
import { WireBuffer } from '../protocol/wire.js';
import type { ConnectionInfo, Filesystem } from '../fs/types.js';
import { backingClose, backingOpen } from '../kernel/backing.js';
import { cloneFuseDevice } from '../kernel/device.js';
import { mountFuse, unmountFuse, type MountMethod } from '../kernel/mount.js';
import type { Channel } from './channel.js';
import type { DispatchOptions } from './dispatch.js';
import type { SessionOptions } from './session.js';

export interface NegotiatedInit {
  minor: number;
  flags: number;
  maxWrite: number;
  maxReadahead: number;
}

/** ConnectionInfo without the backing-file functions, which each thread binds itself (they cannot be cloned). */
export type WireConnectionInfo = Omit<ConnectionInfo, 'backingOpen' | 'backingClose'>;

export interface Connection {
  mountpoint: string;
  method: MountMethod;
  /** The session fd (notifications, BACKING_OPEN), also fds[0]. */
  fd: number;
  /** One fd per serving thread: the session fd, then clones. */
  fds: number[];
  init: NegotiatedInit;
  /** Request buffer size: the largest WRITE plus headers. */
  bufSize: number;
  dispatch: Omit<DispatchOptions, 'log'>;
  conn: WireConnectionInfo;
}

/** Capabilities a filesystem's methods make sensible (fs undefined: worker mode, assumed to implement them). */
function wantedFlags(fs: Filesystem | undefined, opts: SessionOptions): InitFlag[] {
  const want: InitFlag[] = [
    'ASYNC_READ', 'ATOMIC_O_TRUNC', 'BIG_WRITES', 'MAX_PAGES', 'PARALLEL_DIROPS', 'ASYNC_DIO', 'ABORT_ERROR',
    'CACHE_SYMLINKS', 'SETXATTR_EXT', 'HAS_IOCTL_DIR', 'INIT_EXT',
  ];
  const rdp = opts.readdirplus ?? 'always';
  const has = (m: keyof Filesystem): boolean => fs === undefined || typeof fs[m] === 'function';
  if (rdp !== 'never' && has('readdirplus')) {
    want.push('DO_READDIRPLUS');
    if (rdp === 'auto') want.push('READDIRPLUS_AUTO');
  }
  if (fs !== undefined && typeof fs.setlk === 'function') want.push('POSIX_LOCKS', 'FLOCK_LOCKS');
  if (opts.passthrough) want.push('PASSTHROUGH');
  if (opts.writebackCache && !opts.passthrough) want.push('WRITEBACK_CACHE');
  for (const f of opts.want ?? []) if (!want.includes(f)) want.push(f);
  const exclude = new Set(opts.exclude ?? []);
  return want.filter((f) => !exclude.has(f));
}

/**
 * A connection another process mounted and answered INIT on, whose session fd this process inherited (the
 * CLI's hand-over, src/cli/hand-over.ts): what the session needs to serve it without mounting.
 */
export interface AdoptedConnection {
  fd: number;
  init: NegotiatedInit;
  method: MountMethod;
}

/**
 * Mounts, answers INIT and opens `threads` fds. `fs` is the filesystem object in embedded mode (its methods
 * decide some capabilities), undefined in worker mode. Throws with nothing left mounted.
 */
export function openConnection(opts: SessionOptions, fs: Filesystem | undefined, threads: number, channel: Channel, log: (m: string) => void): Connection {
  const options = [...(opts.options ?? [])];
  if (opts.defaultPermissions !== false && !options.includes('default_permissions')) options.push('default_permissions');
  const mounted = mountFuse({ mountpoint: opts.mountpoint, fsname: opts.fsname, subtype: opts.subtype, options, method: opts.mountMethod });
  try {
    const init = handshake(mounted.fd, { flags: wantedFlags(fs, opts), maxWrite: opts.maxWrite ?? 1 << 20 }, channel, log, opts.debug ?? false);
    if (opts.passthrough && !InitFlags.has(init.flags, 'PASSTHROUGH')) log('tsfuse: the kernel did not accept FUSE_PASSTHROUGH; serving reads and writes in user space');
    return connectionOf(opts, { fd: mounted.fd, init, method: mounted.method }, threads);
  } catch (err) {
    closeConnection({ mountpoint: opts.mountpoint, fds: [mounted.fd] });
    throw err;
  }
}

/** The Connection of a mounted, initialised session fd, with `threads` fds (the session fd, then clones). */
export function connectionOf(opts: SessionOptions, a: AdoptedConnection, threads: number): Connection {
  const { fd, init } = a;
  const fds = [fd];
  try {
    for (let i = 1; i < threads; i++) fds.push(cloneFuseDevice(fd));
  } catch (err) {
    for (const f of fds.slice(1)) closeSync(f);
    throw err;
  }
  return {
    mountpoint: opts.mountpoint,
    method: a.method,
    fd,
    fds,
    init,
    bufSize: init.maxWrite + 4096,
    dispatch: {
      entryTimeout: opts.entryTimeout ?? 1,
      attrTimeout: opts.attrTimeout ?? 1,
      negativeTimeout: opts.negativeTimeout ?? 0,
      debug: opts.debug ?? false,
      setxattrExt: InitFlags.has(init.flags, 'SETXATTR_EXT'),
    },
    conn: { minor: init.minor, flags: init.flags, maxWrite: init.maxWrite, maxReadahead: init.maxReadahead, passthrough: InitFlags.has(init.flags, 'PASSTHROUGH') },
  };
}

/** The ConnectionInfo for a filesystem served in this thread, with backing files opened on `sessionFd`. */
export function connectionInfo(conn: WireConnectionInfo, sessionFd: number): ConnectionInfo {
  const full: ConnectionInfo = { ...conn };
  if (conn.passthrough) {
    full.backingOpen = (f) => backingOpen(sessionFd, f);
    full.backingClose = (id) => backingClose(sessionFd, id);
  }
  return full;
}

/** After a failed start-up: unmount (lazily) and close every fd of the connection. */
export function closeConnection(c: Pick<Connection, 'mountpoint' | 'fds'>): void {
  try {
    unmountFuse(c.mountpoint, { lazy: true });
  } catch {
    // nothing mounted any more
  }
  for (const f of c.fds) {
    try {
      closeSync(f);
    } catch {
      // ignore
    }
  }
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
