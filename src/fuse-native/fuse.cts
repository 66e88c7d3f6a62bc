// tsfuse/fuse-native: the fuse-native 2.x API (`new Fuse(mnt, ops, opts)`, mount(cb), unmount(cb), Fuse.unmount,
// the errno constants) on top of tsfuse's path layer. This file is CommonJS so `require('tsfuse/fuse-native')`
// works on Node 20; it loads the ESM implementation (adapter.js) with import() when mounting.
//
// Where it differs from fuse-native 2.2.6, and why:
//  - No libfuse, no native addon: tsfuse speaks /dev/fuse itself. Mounting as root uses mount(2); otherwise
//    fusermount3. Fuse.unmount is a lazy umount2 (fuse-native: `fusermount -uz`).
//  - Handlers still run on the calling thread (as fuse-native). Reader threads wait on /dev/fuse.
//  - defaultPermissions is off unless asked, as in fuse-native (tsfuse's own servers default to on), so
//    programs keep working that return uid 0 or no permission bits.
//  - Errors: besides negative numbers, an Error with .code/.errno maps to its errno; a handler that throws or a
//    positive status where none is expected answers EIO (fuse-native crashes or sends an invalid error).
//  - fgetattr: the handler is called when an open file is fstat'ed (fuse-native called getattr instead).
//  - utimens: mtime is the real mtime (fuse-native passed atime twice), and a time left unchanged is the
//    current value from getattr (fuse-native passed a garbage value for UTIME_OMIT).
//  - opendir gets the open flags (fuse-native passed 0).
//  - readdir: "." and ".." are added when the handler leaves them out. Plain READDIR by default, as libfuse 2
//    (each name listed is looked up when used); `readdirplus: true` answers READDIRPLUS, and then stats given
//    with the names fill the kernel's caches without a LOOKUP and getattr each (libfuse 2 could not).
//  - stat.ino is shown in stat when given (fuse-native always showed libfuse's node id).
//  - Open files that are unlinked or renamed over are renamed to .fuse_hidden* and unlinked at the last release
//    (libfuse's default, as with fuse-native), but hidden names are left out of readdir. `hardRemove: true` is
//    libfuse's hard_remove.
//  - umask: a number is the mask itself (0o022); a string is octal ('022'). fuse-native passed the number's
//    decimal digits to libfuse, which read them as octal.
//  - allowRoot is accepted only when mounting as root (then the mount is root's only, which is what allow_root
//    means there); autoUnmount unmounts on process exit, not when the process is killed (no fusermount helper).
//  - Ignored: displayFolder/name (macOS), blkdev/blksize/fd/userId, noforget/remember/modules/acAttrTimeout.
//  - The mount callback runs after ops.init has answered (fuse-native: when INIT arrives, before ops.init).
//  - isConfigured answers whether /dev/fuse can be opened; configure fails with a one-line reason if not;
//    unconfigure, beforeMount and beforeUnmount do nothing on Linux.

import fs = require('node:fs');
import path = require('node:path');

type Cb = (err: Error | null, ...rest: unknown[]) => void;
type Session = { unmount(): Promise<void> };
type Adapter = typeof import('./adapter.js');

const ERRNO_NAMES = [
  'EPERM', 'ENOENT', 'ESRCH', 'EINTR', 'EIO', 'ENXIO', 'E2BIG', 'ENOEXEC', 'EBADF', 'ECHILD', 'EAGAIN', 'ENOMEM',
  'EACCES', 'EFAULT', 'ENOTBLK', 'EBUSY', 'EEXIST', 'EXDEV', 'ENODEV', 'ENOTDIR', 'EISDIR', 'EINVAL', 'ENFILE',
  'EMFILE', 'ENOTTY', 'ETXTBSY', 'EFBIG', 'ENOSPC', 'ESPIPE', 'EROFS', 'EMLINK', 'EPIPE', 'EDOM', 'ERANGE',
  'EDEADLK', 'ENAMETOOLONG', 'ENOLCK', 'ENOSYS', 'ENOTEMPTY', 'ELOOP', '', 'ENOMSG', 'EIDRM', 'ECHRNG',
  'EL2NSYNC', 'EL3HLT', 'EL3RST', 'ELNRNG', 'EUNATCH', 'ENOCSI', 'EL2HLT', 'EBADE', 'EBADR', 'EXFULL', 'ENOANO',
  'EBADRQC', 'EBADSLT', '', 'EBFONT', 'ENOSTR', 'ENODATA', 'ETIME', 'ENOSR', 'ENONET', 'ENOPKG', 'EREMOTE',
  'ENOLINK', 'EADV', 'ESRMNT', 'ECOMM', 'EPROTO', 'EMULTIHOP', 'EDOTDOT', 'EBADMSG', 'EOVERFLOW', 'ENOTUNIQ',
  'EBADFD', 'EREMCHG', 'ELIBACC', 'ELIBBAD', 'ELIBSCN', 'ELIBMAX', 'ELIBEXEC', 'EILSEQ', 'ERESTART', 'ESTRPIPE',
  'EUSERS', 'ENOTSOCK', 'EDESTADDRREQ', 'EMSGSIZE', 'EPROTOTYPE', 'ENOPROTOOPT', 'EPROTONOSUPPORT',
  'ESOCKTNOSUPPORT', 'EOPNOTSUPP', 'EPFNOSUPPORT', 'EAFNOSUPPORT', 'EADDRINUSE', 'EADDRNOTAVAIL', 'ENETDOWN',
  'ENETUNREACH', 'ENETRESET', 'ECONNABORTED', 'ECONNRESET', 'ENOBUFS', 'EISCONN', 'ENOTCONN', 'ESHUTDOWN',
  'ETOOMANYREFS', 'ETIMEDOUT', 'ECONNREFUSED', 'EHOSTDOWN', 'EHOSTUNREACH', 'EALREADY', 'EINPROGRESS', 'ESTALE',
  'EUCLEAN', 'ENOTNAM', 'ENAVAIL', 'EISNAM', 'EREMOTEIO', 'EDQUOT', 'ENOMEDIUM', 'EMEDIUMTYPE',
];
const ENOTCONN = -107;
const ENXIO = -6;

// dynamic import() stays import() in this CommonJS output (module NodeNext), so the ESM implementation loads
const loadAdapter = (): Promise<Adapter> => import('./adapter.js');

class Fuse {
  [errno: string]: unknown;
  readonly mnt: string;
  readonly ops: Record<string, any>;
  readonly opts: Record<string, any>;
  private _session: Session | null = null;
  private _mounting = false;

  constructor(mnt: string, ops: Record<string, any>, opts: Record<string, any> = {}) {
    this.mnt = path.resolve(mnt);
    this.ops = ops ?? {};
    this.opts = opts ?? {};
  }

  get opened(): boolean {
    return this._session !== null;
  }

  mount(cb: Cb = () => {}): void {
    if (this._session) return void process.nextTick(cb, null);
    if (this._mounting) return void process.nextTick(cb, new Error('Already mounting'));
    this._mounting = true;
    const done: Cb = (err) => {
      this._mounting = false;
      cb(err);
    };
    const open = (): void => {
      fs.stat(this.mnt, (err, st) => {
        if (err && err.errno !== -2) return done(err);
        if (err) {
          if (!this.opts.mkdir) return done(new Error('Mountpoint does not exist'));
          return fs.mkdir(this.mnt, { recursive: true }, (err2) => {
            if (err2) return done(err2);
            fs.stat(this.mnt, (err3, st3) => (err3 ? done(err3) : onexists(st3)));
          });
        }
        if (!st.isDirectory()) return done(new Error('Mountpoint is not a directory'));
        onexists(st);
      });
    };
    const onexists = (st: fs.Stats): void => {
      fs.stat(path.join(this.mnt, '..'), (_e, parent) => {
        if (parent && parent.dev !== st.dev) return done(new Error('Mountpoint in use'));
        loadAdapter()
          .then((a) => a.startSession(this.mnt, this.ops, this.opts))
          .then((s) => {
            this._session = s;
            done(null);
          }, (e: Error) => done(e));
      });
    };
    if (this.opts.force) {
      // a dead FUSE mount (its server gone) answers ENOTCONN: unmount it, then mount over the directory
      fs.stat(path.join(this.mnt, 'test'), (err) => {
        if (err && (err.errno === ENOTCONN || err.errno === ENXIO)) return Fuse.unmount(this.mnt, () => open());
        open();
      });
      return;
    }
    open();
  }

  unmount(cb: Cb = () => {}): void {
    const s = this._session;
    if (!s) return void process.nextTick(cb, null);
    s.unmount().then(() => {
      this._session = null;
      cb(null);
    }, (err: Error & { unmountFailure?: boolean }) => {
      err.unmountFailure = true;
      cb(err);
    });
  }

  errno(code: string): number {
    return (code && (Fuse as unknown as Record<string, number>)[code.toUpperCase()]) || -1;
  }

  static unmount(mnt: string, cb: Cb = () => {}): void {
    loadAdapter().then((a) => {
      try {
        a.unmountPath(path.resolve(mnt));
      } catch (err) {
        return cb(err as Error);
      }
      cb(null);
    }, (e: Error) => cb(e));
  }

  static isConfigured(cb: Cb): void {
    fs.access('/dev/fuse', fs.constants.R_OK | fs.constants.W_OK, (err) => cb(null, !err));
  }

  static configure(cb: Cb = () => {}): void {
    Fuse.isConfigured((_e, ok) => cb(ok ? null : new Error('FUSE is not available: /dev/fuse cannot be opened (load the fuse module: modprobe fuse)')));
  }

  static unconfigure(cb: Cb = () => {}): void {
    process.nextTick(cb, null);
  }

  static beforeMount(cb: Cb = () => {}): void {
    process.nextTick(cb, null);
  }

  static beforeUnmount(cb: Cb = () => {}): void {
    process.nextTick(cb, null);
  }
}

const table = Fuse as unknown as Record<string, number>;
ERRNO_NAMES.forEach((name, i) => {
  if (name) table[name] = -(i + 1);
});
table.EWOULDBLOCK = table.EAGAIN!;
table.EDEADLOCK = table.EDEADLK!;

export = Fuse;
