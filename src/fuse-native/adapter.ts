// fuse-native handlers (callbacks, negative errno) -> a PathFilesystem (promises, thrown Errno), and the
// mount itself. Loaded by fuse.cjs at mount time (this file is ESM; the CommonJS class only holds state).
//
// Callback rules, as fuse-native: cb(0 | null | undefined, ...values) is success; cb(-errno) an error; read and
// write answer cb(bytes) (a count >= 0, or a negative errno); getxattr's null value is ENODATA. Beyond
// fuse-native: an Error with .code/.errno is mapped to its errno, a positive status where none is expected
// answers EIO, a handler that throws answers EIO (fuse-native's process would crash), a second call of the
// same callback is ignored. A call not answered before its handler returns times out after opts.timeout (default
// 15 s, per op as fuse-native) with ETIMEDOUT (calls.ts: one timer for all of them).

import { Errno, errnoOf } from '../protocol/errno.js';
import { FOPEN } from '../protocol/abi.js';
import { Session, type SessionOptions } from '../server/session.js';
import { unmountFuse } from '../kernel/mount.js';
import type { OpenReply, StatFs, Timespec } from '../fs/types.js';
import { PathLayer, type PathAttr, type PathDirent, type PathFilesystem } from '../fs/path/index.js';
import type { MaybePromise } from '../fs/types.js';
import { isPromise } from '../protocol/opcodes.js';
import { Caller, type Done } from './calls.js';
import { toAttr, toStatfs, type FuseNativeStat, type StatOverrides } from './stat.js';

type Ops = Record<string, ((...a: any[]) => unknown) | undefined>;

export interface FuseNativeOptions {
  debug?: boolean;
  force?: boolean;
  mkdir?: boolean;
  allowOther?: boolean;
  allowRoot?: boolean;
  autoUnmount?: boolean;
  defaultPermissions?: boolean;
  uid?: number;
  gid?: number;
  umask?: number | string;
  autoCache?: boolean;
  kernelCache?: boolean;
  attrTimeout?: number;
  entryTimeout?: number;
  maxRead?: number;
  fsname?: string;
  subtype?: string;
  timeout?: number | false | Record<string, number | false>;
  /** tsfuse additions: libfuse's hard_remove, and how many reader threads serve the mount. */
  hardRemove?: boolean;
  workers?: number;
  /**
   * tsfuse addition: answer READDIRPLUS (the kernel's 'auto' policy), so that stats given with readdir's names
   * fill the kernel's caches without a LOOKUP each. Off by default, as libfuse 2 under fuse-native: a listing
   * of names only is then one READDIR, with no attribute records to send.
   */
  readdirplus?: boolean;
  [other: string]: unknown;
}

const DEFAULT_TIMEOUT = 15_000;
const EIO = new Errno('EIO');

/** Throws the errno a fuse-native status means; returns normally for success. */
function check(err: unknown): void {
  if (err === 0 || err === null || err === undefined || err === false) return;
  if (typeof err === 'number') {
    if (err < 0 && -err < 512 && Number.isInteger(err)) throw new Errno(-err);
    throw EIO;
  }
  const n = errnoOf(err);
  throw n !== undefined ? new Errno(n) : EIO;
}

/** read/write: cb(count) or cb(-errno); also cb(null, count). */
function count(res: unknown, second: unknown): number {
  if ((res === null || res === undefined) && typeof second === 'number') return second;
  if (typeof res === 'number') {
    if (res >= 0) return res;
    check(res);
  }
  if (res === null || res === undefined || res === false) return 0;
  check(res);
  return 0;
}

function timeoutFor(t: FuseNativeOptions['timeout'], name: string): number {
  if (t === false) return 0;
  if (typeof t === 'number') return t;
  if (t && typeof t === 'object') {
    const v = t[name];
    if (v === false) return 0;
    if (typeof v === 'number') return v;
    return typeof t.default === 'number' ? t.default : DEFAULT_TIMEOUT;
  }
  return DEFAULT_TIMEOUT;
}

function ms(t: Timespec | 'now' | undefined, fallback: number): number {
  if (t === 'now') return Date.now();
  if (t === undefined) return fallback;
  return t.sec * 1000 + Math.floor(t.nsec / 1e6);
}

function parseUmask(u: number | string | undefined): number | undefined {
  if (u === undefined || u === '' || u === 0) return undefined;
  return typeof u === 'string' ? parseInt(u, 8) : u;
}

/**
 * A reusable buffer for READ handlers that answer before they return (the reply is written before this thread
 * serves another request, so the next read may have it). Zeroed before each use, so bytes a handler counts but
 * does not write read as zeros, never as another request's data.
 */
class ReadBuffers {
  /** Given back, not lent: the largest buffer a read had. */
  private spare: Buffer | undefined;
  /** spare.subarray(0, size) for the last size asked (the kernel asks the same size again and again). */
  private view: Buffer | undefined;
  /** The whole buffer behind what take() returned last. */
  lent: Buffer | undefined;

  /** A zeroed buffer of exactly `size` bytes (fuse-native hands over buf.length === len). */
  take(size: number): Buffer {
    const spare = this.spare;
    if (spare === undefined || spare.length < size) return (this.lent = Buffer.alloc(size));
    this.spare = undefined;
    this.lent = spare;
    let v = this.view;
    if (v === undefined || v.length !== size || v.buffer !== spare.buffer) this.view = v = spare.length === size ? spare : spare.subarray(0, size);
    return v.fill(0);
  }

  /** `whole` (lent) is done with before the next request: it may serve that one. */
  giveBack(whole: Buffer): void {
    if (this.spare === undefined || whole.length > this.spare.length) this.spare = whole;
  }
}

/** The PathFilesystem that calls fuse-native handlers. */
export function adaptOps(ops: Ops, opts: FuseNativeOptions): PathFilesystem {
  const over: StatOverrides = { uid: opts.uid || undefined, gid: opts.gid || undefined, umask: parseUmask(opts.umask) };
  const timeouts = new Map<string, number>();
  const caller = new Caller(ops, (name) => {
    let to = timeouts.get(name);
    if (to === undefined) timeouts.set(name, (to = timeoutFor(opts.timeout, name)));
    return to;
  });
  // op(name, n args..., done): the handler called with fuse-native's arguments, then its callback
  const op = <T>(name: string, done: Done<T>, n: number, a?: unknown, b?: unknown, c?: unknown, d?: unknown, e?: unknown): T | Promise<T> =>
    caller.run(name, ops[name]!, done, n, a, b, c, d, e);
  const status = (a: unknown): void => check(a);
  const has = (name: string): boolean => typeof ops[name] === 'function';
  const attr = (a: unknown, st: unknown): PathAttr => {
    check(a);
    return toAttr(st as FuseNativeStat, over);
  };
  const getattr = (path: string): MaybePromise<PathAttr> => {
    if (!has('getattr')) {
      if (path === '/') return toAttr({ mode: 0o40755, size: 4096, atime: 0, mtime: 0, ctime: 0 }, over);
      throw new Errno('EPERM');
    }
    return op('getattr', attr, 1, path);
  };
  const fhOf = (a: unknown, fd: unknown): OpenReply => {
    check(a);
    return { fh: typeof fd === 'number' && fd > 0 ? fd : 0 };
  };
  const cacheSeen = new Map<string, string>();
  const withCache = async (path: string, r: OpenReply): Promise<OpenReply> => {
    if (opts.kernelCache) return { ...r, flags: (r.flags ?? 0) | FOPEN.KEEP_CACHE };
    if (!opts.autoCache) return r;
    // libfuse's auto_cache: keep the page cache when mtime and size did not change since the last open
    const a = await getattr(path);
    const stamp = `${a.mtime}.${a.mtimeNsec}:${a.size}`;
    const keep = cacheSeen.get(path) === stamp;
    cacheSeen.set(path, stamp);
    return keep ? { ...r, flags: (r.flags ?? 0) | FOPEN.KEEP_CACHE } : r;
  };
  const p = (path: string | null): string => path ?? '';

  const fs: PathFilesystem = {
    getattr: (_ctx, path, fh) => {
      if (fh !== undefined && has('fgetattr')) return op('fgetattr', attr, 2, p(path), fh);
      return getattr(p(path));
    },
  };
  if (has('init')) fs.init = () => op('init', status, 0);
  if (has('access')) fs.access = (_c, path, mask) => op('access', status, 2, path, mask);
  if (has('statfs')) fs.statfs = (_c, path) => op('statfs', (a, s): StatFs => (check(a), toStatfs(s as never)), 1, path);
  if (has('readdir')) {
    const names = (a: unknown, names: unknown, stats: unknown): PathDirent[] => {
      check(a);
      const list = (names as string[] | undefined) ?? [];
      const st = stats as FuseNativeStat[] | undefined;
      if (!st || st.length !== list.length) return list.every((x) => typeof x === 'string') ? list : list.map(String);
      return list.map((name, i) => ({ name: String(name), attr: toAttr(st[i], over) }));
    };
    fs.readdir = (_c, path) => op('readdir', names, 1, path);
  }
  if (has('readlink')) {
    const link = (a: unknown, link: unknown): string => {
      check(a);
      return String(link ?? '');
    };
    fs.readlink = (_c, path) => op('readlink', link, 1, path);
  }
  if (has('mknod')) fs.mknod = (_c, path, mode, rdev) => op('mknod', status, 3, path, mode, rdev);
  if (has('mkdir')) fs.mkdir = (_c, path, mode) => op('mkdir', status, 2, path, mode);
  if (has('unlink')) fs.unlink = (_c, path) => op('unlink', status, 1, path);
  if (has('rmdir')) fs.rmdir = (_c, path) => op('rmdir', status, 1, path);
  if (has('symlink')) fs.symlink = (_c, target, path) => op('symlink', status, 2, target, path);
  if (has('link')) fs.link = (_c, from, to) => op('link', status, 2, from, to);
  if (has('rename')) {
    // libfuse 2 has no rename flags: renameat2 with flags gets EINVAL, as with fuse-native
    fs.rename = (_c, from, to, flags) => {
      if (flags !== 0) throw new Errno('EINVAL');
      return op('rename', status, 2, from, to);
    };
  }
  if (has('chmod')) fs.chmod = (_c, path, mode) => op('chmod', status, 2, p(path), mode);
  if (has('chown')) fs.chown = (_c, path, uid, gid) => op('chown', status, 3, p(path), uid >>> 0, gid >>> 0);
  if (has('truncate') || has('ftruncate')) {
    fs.truncate = (_c, path, size, fh) =>
      fh !== undefined && has('ftruncate') ? op('ftruncate', status, 3, p(path), fh, size) : op('truncate', status, 2, p(path), size);
  }
  if (has('utimens')) {
    fs.utimens = async (_c, path, atime, mtime) => {
      // fuse-native passes milliseconds; a time left unchanged (UTIME_OMIT) is passed as its current value
      let cur: PathAttr | undefined;
      if (atime === undefined || mtime === undefined) cur = await getattr(p(path));
      const a = ms(atime, cur ? cur.atime * 1000 + Math.floor((cur.atimeNsec ?? 0) / 1e6) : 0);
      const m = ms(mtime, cur ? cur.mtime * 1000 + Math.floor((cur.mtimeNsec ?? 0) / 1e6) : 0);
      return op('utimens', status, 3, p(path), a, m);
    };
  }
  const cached = opts.autoCache || opts.kernelCache;
  if (has('open')) {
    fs.open = (_c, path, flags) => {
      const r = op('open', fhOf, 2, path, flags);
      if (!cached) return r;
      return isPromise(r) ? r.then((v) => withCache(path, v)) : withCache(path, r);
    };
  } else if (cached) fs.open = (_c, path) => withCache(path, {});
  if (has('create')) fs.create = (_c, path, mode) => op('create', fhOf, 2, path, mode);
  if (has('opendir')) fs.opendir = (_c, path, flags) => op('opendir', fhOf, 2, path, flags);
  if (has('read')) {
    const buffers = new ReadBuffers();
    fs.read = (_c, path, fh, offset, size) => {
      const buf = buffers.take(size);
      const whole = buffers.lent!;
      const r = op('read', (a, b) => buf.subarray(0, Math.min(size, count(a, b))), 5, p(path), fh, buf, size, offset);
      // answered already: the reply is written before the next request, which may reuse the buffer
      if (!isPromise(r)) buffers.giveBack(whole);
      return r;
    };
  }
  if (has('write')) {
    fs.write = (_c, path, fh, offset, data) => {
      const buf = Buffer.from(data.buffer, data.byteOffset, data.byteLength);
      return op('write', count, 5, p(path), fh, buf, buf.length, offset);
    };
  }
  if (has('flush')) fs.flush = (_c, path, fh) => op('flush', status, 2, p(path), fh);
  if (has('release')) fs.release = (_c, path, fh) => op('release', status, 2, p(path), fh);
  if (has('releasedir')) fs.releasedir = (_c, path, fh) => op('releasedir', status, 2, p(path), fh);
  if (has('fsync')) fs.fsync = (_c, path, fh, datasync) => op('fsync', status, 3, p(path), datasync ? 1 : 0, fh);
  if (has('fsyncdir')) fs.fsyncdir = (_c, path, fh, datasync) => op('fsyncdir', status, 3, p(path), datasync ? 1 : 0, fh);
  if (has('setxattr')) fs.setxattr = (_c, path, name, value, flags) => op('setxattr', status, 5, path, name, Buffer.from(value), 0, flags);
  if (has('getxattr')) {
    const value = (a: unknown, v: unknown): Uint8Array => {
      check(a);
      if (!v) throw Errno.shared('ENODATA');
      return v as Uint8Array;
    };
    fs.getxattr = (_c, path, name) => op('getxattr', value, 3, path, name, 0);
  }
  if (has('listxattr')) fs.listxattr = (_c, path) => op('listxattr', (a, list) => (check(a), ((list as string[]) ?? []).map(String)), 1, path);
  if (has('removexattr')) fs.removexattr = (_c, path, name) => op('removexattr', status, 2, path, name);
  return fs;
}


/** What fuse.cjs calls to mount. */
export async function startSession(mnt: string, ops: Ops, opts: FuseNativeOptions): Promise<Session> {
  const debug = opts.debug || /\*|(^|,)fuse-bindings(,|$)/.test(process.env.DEBUG ?? '');
  if (opts.allowRoot && !opts.allowOther && process.getuid?.() !== 0) {
    throw new Error('allowRoot: only supported when mounting as root (then only root can use the mount, as allow_root means)');
  }
  const options: string[] = [];
  if (opts.allowOther) options.push('allow_other');
  if (opts.maxRead) options.push('max_read=' + opts.maxRead);
  const sopts: SessionOptions = {
    mountpoint: mnt,
    fsname: opts.fsname,
    subtype: opts.subtype,
    options,
    defaultPermissions: !!opts.defaultPermissions,
    debug,
    workers: opts.workers ?? 1,
    readdirplus: opts.readdirplus ? 'auto' : 'never',
  };
  if (opts.attrTimeout !== undefined) sopts.attrTimeout = opts.attrTimeout;
  if (opts.entryTimeout !== undefined) sopts.entryTimeout = opts.entryTimeout;
  const layer = new PathLayer(adaptOps(ops ?? {}, opts), { hardRemove: !!opts.hardRemove });
  const session = await Session.mount(layer, sopts);
  if (opts.autoUnmount) {
    const onExit = (): void => {
      try {
        unmountFuse(mnt, { lazy: true });
      } catch {
        // gone already
      }
    };
    process.once('exit', onExit);
    void session.closed.then(() => process.removeListener('exit', onExit));
  }
  return session;
}

/** Fuse.unmount: a lazy unmount (fuse-native runs `fusermount -uz`). */
export function unmountPath(mnt: string): void {
  unmountFuse(mnt, { lazy: true });
}
