// fuse-native handlers (callbacks, negative errno) -> a PathFilesystem (promises, thrown Errno), and the
// mount itself. Loaded by fuse.cjs at mount time (this file is ESM; the CommonJS class only holds state).
//
// Callback rules, as fuse-native: cb(0 | null | undefined, ...values) is success; cb(-errno) an error; read and
// write answer cb(bytes) (a count >= 0, or a negative errno); getxattr's null value is ENODATA. Beyond
// fuse-native: an Error with .code/.errno is mapped to its errno, a positive status where none is expected
// answers EIO, a handler that throws answers EIO (fuse-native's process would crash), a second call of the
// same callback is ignored. Each call times out after opts.timeout (default 15 s, per op as fuse-native) with
// ETIMEDOUT.

import { Errno, errnoOf } from '../protocol/errno.js';
import { FOPEN } from '../protocol/abi.js';
import { Session, type SessionOptions } from '../server/session.js';
import { unmountFuse } from '../kernel/mount.js';
import type { OpenReply, StatFs, Timespec } from '../fs/types.js';
import { PathLayer, type PathAttr, type PathFilesystem } from '../fs/path/index.js';
import { toAttr, toStatfs, type FuseNativeStat, type StatOverrides } from './stat.js';

type Cb = (...a: unknown[]) => void;
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

/** The PathFilesystem that calls fuse-native handlers. */
export function adaptOps(ops: Ops, opts: FuseNativeOptions): PathFilesystem {
  const over: StatOverrides = { uid: opts.uid || undefined, gid: opts.gid || undefined, umask: parseUmask(opts.umask) };
  const timeouts = new Map<string, number>();
  const call = <T>(name: string, args: unknown[], done: (a: unknown, b: unknown, c: unknown) => T): Promise<T> =>
    new Promise<T>((resolve, reject) => {
      let called = false;
      let timer: NodeJS.Timeout | undefined;
      let to = timeouts.get(name);
      if (to === undefined) timeouts.set(name, (to = timeoutFor(opts.timeout, name)));
      if (to > 0) {
        timer = setTimeout(() => {
          called = true;
          reject(new Errno('ETIMEDOUT'));
        }, to);
      }
      const cb: Cb = (a, b, c) => {
        if (called) return;
        called = true;
        if (timer) clearTimeout(timer);
        try {
          resolve(done(a, b, c));
        } catch (e) {
          reject(e);
        }
      };
      try {
        ops[name]!.apply(ops, [...args, cb]);
      } catch (e) {
        if (timer) clearTimeout(timer);
        called = true;
        reject(e); // the dispatcher answers EIO and logs it once (or maps a Node error's .code)
      }
    });
  const status = (a: unknown): void => check(a);
  const has = (name: string): boolean => typeof ops[name] === 'function';
  const attr = (a: unknown, st: unknown): PathAttr => {
    check(a);
    return toAttr(st as FuseNativeStat, over);
  };
  const getattr = (path: string): Promise<PathAttr> => {
    if (!has('getattr')) {
      if (path === '/') return Promise.resolve(toAttr({ mode: 0o40755, size: 4096, atime: 0, mtime: 0, ctime: 0 }, over));
      return Promise.reject(new Errno('EPERM'));
    }
    return call('getattr', [path], attr);
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
      if (fh !== undefined && has('fgetattr')) return call('fgetattr', [p(path), fh], attr);
      return getattr(p(path));
    },
  };
  if (has('init')) fs.init = () => call('init', [], status);
  if (has('access')) fs.access = (_c, path, mask) => call('access', [path, mask], status);
  if (has('statfs')) fs.statfs = (_c, path) => call('statfs', [path], (a, s): StatFs => (check(a), toStatfs(s as never)));
  if (has('readdir')) {
    fs.readdir = (_c, path) => call('readdir', [path], (a, names, stats) => {
      check(a);
      const list = (names as string[] | undefined) ?? [];
      const st = stats as FuseNativeStat[] | undefined;
      if (!st || st.length !== list.length) return list.map(String);
      return list.map((name, i) => ({ name: String(name), attr: toAttr(st[i], over) }));
    });
  }
  if (has('readlink')) {
    fs.readlink = (_c, path) => call('readlink', [path], (a, link) => {
      check(a);
      return String(link ?? '');
    });
  }
  if (has('mknod')) fs.mknod = (_c, path, mode, rdev) => call('mknod', [path, mode, rdev], status);
  if (has('mkdir')) fs.mkdir = (_c, path, mode) => call('mkdir', [path, mode], status);
  if (has('unlink')) fs.unlink = (_c, path) => call('unlink', [path], status);
  if (has('rmdir')) fs.rmdir = (_c, path) => call('rmdir', [path], status);
  if (has('symlink')) fs.symlink = (_c, target, path) => call('symlink', [target, path], status);
  if (has('link')) fs.link = (_c, from, to) => call('link', [from, to], status);
  if (has('rename')) {
    // libfuse 2 has no rename flags: renameat2 with flags gets EINVAL, as with fuse-native
    fs.rename = (_c, from, to, flags) => (flags !== 0 ? Promise.reject(new Errno('EINVAL')) : call('rename', [from, to], status));
  }
  if (has('chmod')) fs.chmod = (_c, path, mode) => call('chmod', [p(path), mode], status);
  if (has('chown')) fs.chown = (_c, path, uid, gid) => call('chown', [p(path), uid >>> 0, gid >>> 0], status);
  if (has('truncate') || has('ftruncate')) {
    fs.truncate = (_c, path, size, fh) =>
      fh !== undefined && has('ftruncate') ? call('ftruncate', [p(path), fh, size], status) : call('truncate', [p(path), size], status);
  }
  if (has('utimens')) {
    fs.utimens = async (_c, path, atime, mtime) => {
      // fuse-native passes milliseconds; a time left unchanged (UTIME_OMIT) is passed as its current value
      let cur: PathAttr | undefined;
      if (atime === undefined || mtime === undefined) cur = await getattr(p(path));
      const a = ms(atime, cur ? cur.atime * 1000 + Math.floor((cur.atimeNsec ?? 0) / 1e6) : 0);
      const m = ms(mtime, cur ? cur.mtime * 1000 + Math.floor((cur.mtimeNsec ?? 0) / 1e6) : 0);
      return call('utimens', [p(path), a, m], status);
    };
  }
  if (has('open')) fs.open = async (_c, path, flags) => withCache(path, await call('open', [path, flags], fhOf));
  else if (opts.autoCache || opts.kernelCache) fs.open = (_c, path) => withCache(path, {});
  if (has('create')) fs.create = (_c, path, mode) => call('create', [path, mode], fhOf);
  if (has('opendir')) fs.opendir = (_c, path, flags) => call('opendir', [path, flags], fhOf);
  if (has('read')) {
    fs.read = (_c, path, fh, offset, size) => {
      const buf = Buffer.alloc(size);
      return call('read', [p(path), fh, buf, size, offset], (a, b) => buf.subarray(0, Math.min(size, count(a, b))));
    };
  }
  if (has('write')) {
    fs.write = (_c, path, fh, offset, data) => {
      const buf = Buffer.from(data.buffer, data.byteOffset, data.byteLength);
      return call('write', [p(path), fh, buf, buf.length, offset], count);
    };
  }
  if (has('flush')) fs.flush = (_c, path, fh) => call('flush', [p(path), fh], status);
  if (has('release')) fs.release = (_c, path, fh) => call('release', [p(path), fh], status);
  if (has('releasedir')) fs.releasedir = (_c, path, fh) => call('releasedir', [p(path), fh], status);
  if (has('fsync')) fs.fsync = (_c, path, fh, datasync) => call('fsync', [p(path), datasync ? 1 : 0, fh], status);
  if (has('fsyncdir')) fs.fsyncdir = (_c, path, fh, datasync) => call('fsyncdir', [p(path), datasync ? 1 : 0, fh], status);
  if (has('setxattr')) fs.setxattr = (_c, path, name, value, flags) => call('setxattr', [path, name, Buffer.from(value), 0, flags], status);
  if (has('getxattr')) {
    fs.getxattr = (_c, path, name) => call('getxattr', [path, name, 0], (a, v) => {
      check(a);
      if (!v) throw new Errno('ENODATA');
      return v as Uint8Array;
    });
  }
  if (has('listxattr')) fs.listxattr = (_c, path) => call('listxattr', [path], (a, list) => (check(a), ((list as string[]) ?? []).map(String)));
  if (has('removexattr')) fs.removexattr = (_c, path, name) => call('removexattr', [path, name], status);
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
    readdirplus: 'auto',
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
