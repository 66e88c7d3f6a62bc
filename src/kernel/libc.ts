// The one place ffi-rs is opened. ffi-rs's library table is not thread-safe: openLibc() must run in the main
// thread before any worker starts, and workers must never open it themselves (see DESIGN.md, FFI).
// ffi-rs costs 3-12 µs a call: use it for setup and per-open calls, never on the per-request path.

import { createRequire } from 'node:module';
import { isMainThread } from 'node:worker_threads';
import { Errno, errnoName } from '../protocol/errno.js';

const require = createRequire(import.meta.url);
type FfiRs = typeof import('ffi-rs');

let ffi: FfiRs | undefined;
export const LIBC = 'tsfuse_libc';

/** Loads ffi-rs and opens libc once. Call from the main thread (it refuses to run first in a worker). */
export function openLibc(): FfiRs {
  if (ffi) return ffi;
  if (!isMainThread && !(globalThis as { __tsfuseAllowWorkerFfi?: boolean }).__tsfuseAllowWorkerFfi) {
    throw new Error('ffi-rs must be opened in the main thread before workers start');
  }
  const mod = require('ffi-rs') as FfiRs;
  mod.open({ library: LIBC, path: '' });
  ffi = mod;
  return mod;
}

export function ffiTypes(): FfiRs['DataType'] {
  return openLibc().DataType;
}

/**
 * Calls a libc function that returns an int (or ssize_t as I64) and sets errno on failure; throws an Errno
 * naming the call when the result is negative.
 */
export function callLibc(funcName: string, retType: number, paramsType: unknown[], paramsValue: unknown[]): number {
  const f = openLibc();
  const r = f.load({
    library: LIBC,
    funcName,
    retType: retType as never,
    paramsType: paramsType as never,
    paramsValue,
    errno: true,
  }) as unknown as { value: number; errnoCode: number };
  if (typeof r.value === 'number' && r.value < 0) {
    throw new Errno(r.errnoCode || 5, `${funcName} failed (${errnoName(r.errnoCode)})`);
  }
  return r.value;
}
