// Linux errno values (x86_64/generic). Handlers throw an Errno (or a Node error with `.code`);
// the server replies with -errno. The table is data so debug output can name errors.

export const ERRNO = {
  EPERM: 1, ENOENT: 2, ESRCH: 3, EINTR: 4, EIO: 5, ENXIO: 6, E2BIG: 7, ENOEXEC: 8, EBADF: 9,
  ECHILD: 10, EAGAIN: 11, ENOMEM: 12, EACCES: 13, EFAULT: 14, ENOTBLK: 15, EBUSY: 16, EEXIST: 17,
  EXDEV: 18, ENODEV: 19, ENOTDIR: 20, EISDIR: 21, EINVAL: 22, ENFILE: 23, EMFILE: 24, ENOTTY: 25,
  ETXTBSY: 26, EFBIG: 27, ENOSPC: 28, ESPIPE: 29, EROFS: 30, EMLINK: 31, EPIPE: 32, EDOM: 33,
  ERANGE: 34, EDEADLK: 35, ENAMETOOLONG: 36, ENOLCK: 37, ENOSYS: 38, ENOTEMPTY: 39, ELOOP: 40,
  ENOMSG: 42, EIDRM: 43, ENOSTR: 60, ENODATA: 61, ETIME: 62, ENOSR: 63, EREMOTE: 66, ENOLINK: 67,
  EPROTO: 71, EMULTIHOP: 72, EBADMSG: 74, EOVERFLOW: 75, EILSEQ: 84, EUSERS: 87, ENOTSOCK: 88,
  EDESTADDRREQ: 89, EMSGSIZE: 90, EPROTOTYPE: 91, ENOPROTOOPT: 92, EPROTONOSUPPORT: 93,
  EOPNOTSUPP: 95, EAFNOSUPPORT: 97, EADDRINUSE: 98, EADDRNOTAVAIL: 99, ENETDOWN: 100,
  ENETUNREACH: 101, ECONNABORTED: 103, ECONNRESET: 104, ENOBUFS: 105, EISCONN: 106,
  ENOTCONN: 107, ETIMEDOUT: 110, ECONNREFUSED: 111, EHOSTUNREACH: 113, EALREADY: 114,
  EINPROGRESS: 115, ESTALE: 116, EDQUOT: 122, ECANCELED: 125, EOWNERDEAD: 130,
  ENOTRECOVERABLE: 131,
} as const;

export type ErrnoName = keyof typeof ERRNO;
/** Aliases Node may report in `.code`. */
const ALIASES: Record<string, number> = { EWOULDBLOCK: 11, ENOTSUP: 95, EDEADLOCK: 35, ENOATTR: 61 };

const NAMES: string[] = [];
for (const [k, v] of Object.entries(ERRNO)) NAMES[v] = k;

export function errnoName(n: number): string {
  return NAMES[n] ?? `E#${n}`;
}

export function errnoFromCode(code: string): number | undefined {
  // own keys only: 'toString', 'constructor' or '__proto__' must not resolve to Object.prototype members
  if (Object.hasOwn(ERRNO, code)) return (ERRNO as Record<string, number>)[code];
  return Object.hasOwn(ALIASES, code) ? ALIASES[code] : undefined;
}

/** An error a Filesystem throws to answer a request with a specific errno. */
export class Errno extends Error {
  readonly errno: number;
  readonly code: string;
  constructor(errno: number | ErrnoName, message?: string) {
    const n = typeof errno === 'number' ? errno : ERRNO[errno];
    const name = errnoName(n);
    super(message ? `${name}: ${message}` : name);
    this.errno = n;
    this.code = name;
  }

  /**
   * One shared, message-less Errno per errno, for the answers a filesystem gives all the time (ENODATA for a
   * missing xattr, ENOENT): building an Error captures a stack trace, ~10 µs, more than the request itself.
   * The server reads only `.errno`, so sharing one object is safe.
   */
  static shared(errno: number | ErrnoName): Errno {
    const n = typeof errno === 'number' ? errno : ERRNO[errno];
    return (SHARED[n] ??= Object.freeze(new Errno(n)) as Errno);
  }
}

const SHARED: Errno[] = [];

/**
 * Maps anything a handler threw to a positive errno, or undefined when it is not an errno-carrying error
 * (the server then answers EIO and logs it).
 */
export function errnoOf(err: unknown): number | undefined {
  // fuse_dev_do_write rejects a reply whose error is out of range (<= -512 in recent kernels, <= -1000 in
  // older ones) with EINVAL and never ends the request, so only 1..511 count; anything else becomes EIO.
  if (err instanceof Errno) return Number.isInteger(err.errno) && err.errno > 0 && err.errno < 512 ? err.errno : undefined;
  if (err && typeof err === 'object') {
    const code = (err as { code?: unknown }).code;
    if (typeof code === 'string') {
      const n = errnoFromCode(code);
      if (n !== undefined) return n;
    }
    // Node's uv errors carry a negative errno
    const e = (err as { errno?: unknown }).errno;
    if (typeof e === 'number' && Number.isInteger(e) && e !== 0 && Math.abs(e) < 512 && typeof code === 'string') {
      return Math.abs(e);
    }
  }
  return undefined;
}
