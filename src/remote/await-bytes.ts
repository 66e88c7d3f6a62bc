// Serves a filesystem whose byte source may answer BytesPending (a remote image): each method runs as usual, and
// when it needs bytes that are still being fetched it is run again once they are local. Image filesystems are
// read-only and their operations have no side effects before their reads, so running one again is safe; what a
// readdir already wrote is kept and the rerun skips that many entries (the listing of an immutable image is the
// same each time). A local image never pays for this: the wrapper only acts on a thrown BytesPending.

import { BytesPending } from '../erofs/bytesource.js';
import type { DirentPlusSink, DirentSink, Filesystem } from '../fs/types.js';
import { Errno, ERRNO } from '../protocol/errno.js';

/** Reruns of one request before it gives up (each rerun follows a completed fetch, so this only stops loops). */
const MAX_RERUNS = 1000;

type Method = (...args: unknown[]) => unknown;

/** A sink that lets the first `skip` entries through without writing them again (they were written before). */
class ResumingSink {
  accepted = 0;
  constructor(private readonly inner: DirentSink | DirentPlusSink, private skip: number) {}
  add(...record: unknown[]): boolean {
    if (this.skip > 0) {
      this.skip--;
      this.accepted++;
      return true;
    }
    const ok = (this.inner.add as (...x: unknown[]) => boolean).apply(this.inner, record);
    if (ok) this.accepted++;
    return ok;
  }
}

function isPromise(v: unknown): v is Promise<unknown> {
  return typeof (v as Promise<unknown> | undefined)?.then === 'function';
}

/** Copies a reused reply buffer: by the time a rerun's result is written another request may have reused it. */
function detach(v: unknown): unknown {
  // new Uint8Array(view) copies; Buffer#slice would not (it is a view, like subarray).
  return v instanceof Uint8Array ? new Uint8Array(v) : v;
}

function wrapPlain(fs: Filesystem, fn: Method): Method {
  const rerun = async (args: unknown[], first: BytesPending): Promise<unknown> => {
    let pending: BytesPending = first;
    for (let i = 0; i < MAX_RERUNS; i++) {
      await pending.ready;
      try {
        // Copy before any await: another rerun woken by the same fetch may reuse the buffer in between.
        const r = fn.apply(fs, args);
        return isPromise(r) ? await r : detach(r);
      } catch (e) {
        if (!(e instanceof BytesPending)) throw e;
        pending = e;
      }
    }
    throw new Errno(ERRNO.EIO, 'bytes never became available');
  };
  return (...args: unknown[]) => {
    try {
      const r = fn.apply(fs, args);
      if (isPromise(r)) return r.catch((e: unknown) => (e instanceof BytesPending ? rerun(args, e) : Promise.reject(e)));
      return r;
    } catch (e) {
      if (e instanceof BytesPending) return rerun(args, e);
      throw e;
    }
  };
}

/** readdir/readdirplus: the sink is the 5th argument (ctx, ino, fh, offset, out). */
function wrapListing(fs: Filesystem, fn: Method): Method {
  const SINK = 4;
  const rerun = async (args: unknown[], sink: ResumingSink, first: BytesPending): Promise<unknown> => {
    let pending = first;
    for (let i = 0; i < MAX_RERUNS; i++) {
      await pending.ready;
      const again = new ResumingSink(args[SINK] as DirentSink | DirentPlusSink, sink.accepted);
      const a = args.slice();
      a[SINK] = again;
      try {
        return await fn.apply(fs, a);
      } catch (e) {
        if (!(e instanceof BytesPending)) throw e;
        pending = e;
        sink = again;
      }
    }
    throw new Errno(ERRNO.EIO, 'bytes never became available');
  };
  return (...args: unknown[]) => {
    const sink = new ResumingSink(args[SINK] as DirentSink | DirentPlusSink, 0);
    const a = args.slice();
    a[SINK] = sink;
    try {
      const r = fn.apply(fs, a);
      if (isPromise(r)) return r.catch((e: unknown) => (e instanceof BytesPending ? rerun(args, sink, e) : Promise.reject(e)));
      return r;
    } catch (e) {
      if (e instanceof BytesPending) return rerun(args, sink, e);
      throw e;
    }
  };
}

/** Methods that never read image bytes (or must not be rerun): passed through as they are. */
const AS_IS = new Set(['init', 'destroy', 'forget']);

/**
 * A Filesystem with the same methods as `fs` (no more: missing ones still answer ENOSYS) that reruns a method
 * whose byte source answered BytesPending once the bytes are local.
 */
export function awaitingBytes(fs: Filesystem): Filesystem {
  const out: Record<string, unknown> = {};
  const seen = new Set<string>();
  for (let proto: object | null = fs; proto && proto !== Object.prototype; proto = Object.getPrototypeOf(proto)) {
    for (const name of Object.getOwnPropertyNames(proto)) {
      if (name === 'constructor' || seen.has(name)) continue;
      seen.add(name);
      const fn = (fs as unknown as Record<string, unknown>)[name];
      if (typeof fn !== 'function') continue;
      if (AS_IS.has(name)) out[name] = (fn as Method).bind(fs);
      else if (name === 'readdir' || name === 'readdirplus') out[name] = wrapListing(fs, fn as Method);
      else out[name] = wrapPlain(fs, fn as Method);
    }
  }
  return out as Filesystem;
}

/** Runs a synchronous job over a remote source until it no longer needs bytes in flight (start-up, `info`). */
export async function untilBytes<T>(job: () => T): Promise<T> {
  for (let i = 0; ; i++) {
    try {
      return job();
    } catch (e) {
      if (!(e instanceof BytesPending) || i >= MAX_RERUNS) throw e;
      await e.ready;
    }
  }
}
