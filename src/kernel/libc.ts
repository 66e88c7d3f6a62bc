// The one place ffi-rs is opened. ffi-rs's library table is not thread-safe: openLibc() must run in the main
// thread before any worker starts, and workers must never open it themselves (see DESIGN.md, FFI).
// ffi-rs costs 3-12 µs a call: use it for setup and per-open calls, never on the per-request path.
//
// How ffi-rs passes memory (measured with probes on ffi-rs 1.3.7, Node 20, x86_64):
// - A Buffer passed as DataType.U8Array reaches C as a pointer to the Buffer's own memory (no copy; the same
//   address on every call; a subarray passes base + byteOffset), so C can fill it as an output buffer.
// - DataType.I32Array is a copy: C's writes to it are lost. Use a Buffer for every output parameter.
// - DataType.BigInt is passed as a 64-bit integer, which is how a NULL or a raw address goes in as a pointer.
// - `errno: true` makes load() return {value, errnoCode, errnoMessage}; errnoCode is only meaningful when
//   value reports failure.

import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { isMainThread } from 'node:worker_threads';
import { Errno, errnoName } from '../protocol/errno.js';

const require = createRequire(import.meta.url);
type FfiRs = typeof import('ffi-rs');

let ffi: FfiRs | undefined;
export const LIBC = 'tsfuse_libc';

/**
 * ffi-rs's index.js picks its glibc or its musl binary by process.report.getReport().header.glibcVersionRuntime:
 * a whole diagnostic report (heap, handles, network interfaces), 5-10 ms on the way to every mount's first
 * answer. It reads nothing else of it, and whether glibc is loaded is in this process's memory map; without
 * /proc the real report answers.
 */
function requireFfiRs(): FfiRs {
  let maps: string;
  try {
    maps = readFileSync('/proc/self/maps', 'latin1');
  } catch {
    return require('ffi-rs') as FfiRs;
  }
  const report = process.report;
  const full = report.getReport;
  const glibcVersionRuntime = /\/libc\.so\.6$/m.test(maps) ? 'glibc' : undefined;
  report.getReport = (() => ({ header: { glibcVersionRuntime } })) as unknown as typeof full;
  try {
    return require('ffi-rs') as FfiRs;
  } finally {
    report.getReport = full;
  }
}

/** Loads ffi-rs and opens libc once. The main thread must call this before any worker uses FFI. */
export function openLibc(): FfiRs {
  if (ffi) return ffi;
  const mod = requireFfiRs();
  // In a worker the library table was filled by the main thread (the session opens libc before it starts
  // any worker); opening it again from several workers at once is what crashes.
  if (isMainThread) mod.open({ library: LIBC, path: '' });
  ffi = mod;
  return mod;
}

export function ffiTypes(): FfiRs['DataType'] {
  return openLibc().DataType;
}

/** A libc call's raw outcome: the return value and errno (0 when the call did not fail). */
export interface LibcResult {
  value: number;
  errno: number;
}

/**
 * Calls a libc function that returns an int (or ssize_t as I64) without throwing: for callers that want to
 * turn a specific errno into their own message, or retry on EINTR.
 */
export function callLibcRaw(funcName: string, retType: number, paramsType: unknown[], paramsValue: unknown[]): LibcResult {
  const f = openLibc();
  const r = f.load({
    library: LIBC,
    funcName,
    retType: retType as never,
    paramsType: paramsType as never,
    paramsValue,
    errno: true,
  }) as unknown as { value: number; errnoCode: number };
  const failed = typeof r.value === 'number' && r.value < 0;
  return { value: r.value, errno: failed ? r.errnoCode || 5 : 0 };
}

/**
 * Calls a libc function that returns an int (or ssize_t as I64) and sets errno on failure; throws an Errno
 * naming the call when the result is negative.
 */
export function callLibc(funcName: string, retType: number, paramsType: unknown[], paramsValue: unknown[]): number {
  const r = callLibcRaw(funcName, retType, paramsType, paramsValue);
  if (r.errno !== 0) {
    throw new Errno(r.errno, `${funcName} failed (${errnoName(r.errno)})`);
  }
  return r.value;
}

/** A NUL-terminated UTF-8 copy of `s`, to pass as a `const char *` through DataType.U8Array. */
export function cString(s: string): Buffer {
  if (s.includes('\0')) throw new Error(`string contains a NUL byte: ${JSON.stringify(s)}`);
  return Buffer.from(s + '\0', 'utf8');
}

/**
 * The address of a Buffer's memory, for structs that hold pointers (msghdr, iovec). memcpy(p, p, 0) returns p,
 * and ffi-rs passes a U8Array as a pointer to the Buffer's own memory, so this is that pointer.
 *
 * The address stays valid while the Buffer is alive: V8 never moves an ArrayBuffer's backing store once it is
 * off the JS heap, and N-API's buffer access moves small on-heap typed arrays off the heap for good. Keep the
 * Buffer referenced (pass it to the call that uses the address) so the GC cannot free it meanwhile.
 */
export function addressOf(buf: Uint8Array): bigint {
  if (buf.byteLength === 0) throw new Error('addressOf: empty buffer has no stable address');
  const f = openLibc();
  const T = f.DataType;
  const p = f.load({
    library: LIBC,
    funcName: 'memcpy',
    retType: T.BigInt,
    paramsType: [T.U8Array, T.U8Array, T.U64],
    paramsValue: [buf, buf, 0],
  }) as unknown as bigint;
  return BigInt(p as unknown as bigint);
}

/**
 * ioctl(fd, request, arg) where arg points to `arg`'s memory (the kernel reads and may write it in place).
 * Returns ioctl's non-negative result; throws an Errno naming `what` on failure.
 */
export function ioctlBuffer(fd: number, request: number, arg: Buffer, what = `ioctl 0x${request.toString(16)}`): number {
  const r = ioctlBufferRaw(fd, request, arg);
  if (r.errno !== 0) throw new Errno(r.errno, `${what} failed (${errnoName(r.errno)})`);
  return r.value;
}

/** ioctlBuffer without throwing. */
export function ioctlBufferRaw(fd: number, request: number, arg: Buffer): LibcResult {
  const T = ffiTypes();
  // request is unsigned long in glibc's prototype; the kernel uses its low 32 bits.
  return callLibcRaw('ioctl', T.I32, [T.I32, T.U64, T.U8Array], [fd, request, arg]);
}
