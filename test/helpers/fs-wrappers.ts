// Wrapping a Filesystem object for tests (embedded mode, where the object lives in the test's thread):
// count calls by method name, or replace single methods while the rest still reach the real filesystem.

import type { Filesystem, RequestContext } from '../../src/fs/types.js';

export interface Counted<F extends Filesystem> {
  fs: F;
  /** Calls so far, by method name. */
  calls: Record<string, number>;
}

/**
 * A view of `inner` that counts every method call and runs `overrides` (plain functions with the method's
 * arguments; close over `inner` to delegate) instead of the inner method where given. Methods neither has
 * stay absent, so the server still answers ENOSYS for them.
 */
export function wrapFs<F extends Filesystem>(inner: F, overrides: Partial<Record<keyof Filesystem, (...args: any[]) => unknown>> = {}): Counted<F> {
  const calls: Record<string, number> = {};
  const fs = new Proxy(inner, {
    get(target, prop, receiver) {
      const own = typeof prop === 'string' ? overrides[prop as keyof Filesystem] : undefined;
      const v = own ?? Reflect.get(target, prop, receiver);
      if (typeof v !== 'function' || typeof prop !== 'string') return v;
      return (...args: unknown[]) => {
        calls[prop] = (calls[prop] ?? 0) + 1;
        return own ? own(...args) : (v as (...a: unknown[]) => unknown).apply(target, args);
      };
    },
    has(target, prop) {
      return (typeof prop === 'string' && prop in overrides) || Reflect.has(target, prop);
    },
  });
  return { fs, calls };
}

/** A RequestContext for calling a filesystem directly (behind the kernel's back). */
export function rootCtx(opcode = 0): RequestContext {
  return { uid: 0, gid: 0, pid: process.pid, opcode, interrupted: false };
}

/** Resolves when `cond()` holds (polled), rejects after timeoutMs. */
export async function waitFor(cond: () => boolean, timeoutMs = 10_000, what = 'condition', stepMs = 20): Promise<void> {
  const t0 = Date.now();
  while (!cond()) {
    if (Date.now() - t0 > timeoutMs) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, stepMs));
  }
}

/** `p`, or a rejection naming `what` if it has not settled within `ms`. */
export function within<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([
    p.finally(() => clearTimeout(timer)),
    new Promise<T>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`${what} did not happen within ${ms} ms`)), ms);
    }),
  ]);
}
