// The io_uring system calls (io_uring_setup, io_uring_enter) and the mmap calls that map its rings, through
// koffi rather than ffi-rs: io_uring_enter is on the request path (one call per batch of requests), and koffi's
// call costs ~150 ns here where ffi-rs costs 3-12 µs. koffi is loaded on first use, so a session that never
// asks for io_uring never loads it. Pointers stay Numbers (user-space addresses are below 2^47, exact in a
// double); koffi.view maps mmapped memory into an ArrayBuffer that JS reads and writes in place (no copies).

import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);

type Koffi = typeof import('koffi');

/** System call numbers (the generic table: x86_64 and arm64 agree on these). */
const SYS_IO_URING_SETUP = 425;
const SYS_IO_URING_ENTER = 426;

export const IORING_SETUP = {
  COOP_TASKRUN: 1 << 8,
  SQE128: 1 << 10,
  SINGLE_ISSUER: 1 << 12,
  DEFER_TASKRUN: 1 << 13,
} as const;
export const IORING_ENTER_GETEVENTS = 1;
export const IORING_FEAT_SINGLE_MMAP = 1;
const IORING_OFF_SQ_RING = 0;
const IORING_OFF_SQES = 0x10000000;

const PROT_READ_WRITE = 0x1 | 0x2;
const MAP_SHARED = 0x01;
const MAP_PRIVATE = 0x02;
const MAP_ANONYMOUS = 0x20;
const MAP_POPULATE = 0x8000;

interface Bindings {
  koffi: Koffi;
  setup: (nr: number, entries: number, params: Buffer) => number;
  enter: (nr: number, fd: number, toSubmit: number, minComplete: number, flags: number, sig: null, sigsz: number) => number;
  mmap: (addr: null, len: number, prot: number, flags: number, fd: number, off: number) => unknown;
  munmap: (addr: unknown, len: number) => number;
  close: (fd: number) => number;
  setAffinity: (pid: number, size: number, mask: Buffer) => number;
}

let bindings: Bindings | undefined;

function load(): Bindings {
  if (bindings) return bindings;
  const koffi = require('koffi') as Koffi;
  const libc = koffi.load('libc.so.6');
  // syscall(2) is variadic; declared with fixed integer/pointer arguments it is called like any function (the
  // integer registers are the same), and koffi does not parse types per call as it does for variadic calls.
  bindings = {
    koffi,
    setup: libc.func('long syscall(long nr, uint32_t entries, void *params)') as Bindings['setup'],
    enter: libc.func('long syscall(long nr, int fd, uint32_t toSubmit, uint32_t minComplete, uint32_t flags, void *sig, size_t sigsz)') as Bindings['enter'],
    mmap: libc.func('void *mmap(void *addr, size_t len, int prot, int flags, int fd, int64_t off)') as Bindings['mmap'],
    munmap: libc.func('int munmap(void *addr, size_t len)') as Bindings['munmap'],
    close: libc.func('int close(int fd)') as Bindings['close'],
    setAffinity: libc.func('int sched_setaffinity(int pid, size_t size, void *mask)') as Bindings['setAffinity'],
  };
  return bindings;
}

/** A mapping: where it is (for the kernel) and its bytes (for JS), the same memory. */
export interface Mapping {
  address: number;
  length: number;
  memory: ArrayBuffer;
  /** koffi's pointer value, for munmap. */
  ptr: unknown;
}

function mapped(b: Bindings, ptr: unknown, length: number, what: string): Mapping {
  const address = Number(b.koffi.address(ptr));
  if (address === 0 || address === 2 ** 64 - 1 || address < 0) throw new Error(`mmap of ${what} failed: errno ${b.koffi.errno()}`);
  return { address, length, memory: b.koffi.view(ptr, length), ptr };
}

/** Anonymous zeroed memory whose address can be handed to the kernel (the FUSE ring entries' buffers). */
export function mapAnonymous(length: number): Mapping {
  const b = load();
  return mapped(b, b.mmap(null, length, PROT_READ_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0), length, 'anonymous memory');
}

export function unmap(m: Mapping): void {
  load().munmap(m.ptr, m.length);
}

/** What io_uring_setup returned: the ring fd, and the offsets of the fields inside its mappings. */
export interface UringSetup {
  fd: number;
  sqEntries: number;
  cqEntries: number;
  features: number;
  /** io_sqring_offsets: head, tail, ring_mask, ring_entries, flags, dropped, array (bytes). */
  sqOff: { head: number; tail: number; mask: number; array: number };
  /** io_cqring_offsets: head, tail, ring_mask, ring_entries, overflow, cqes (bytes). */
  cqOff: { head: number; tail: number; mask: number; cqes: number };
  /** The SQ and CQ rings (one mapping: IORING_FEAT_SINGLE_MMAP, kernel 5.4+). */
  rings: Mapping;
  sqes: Mapping;
}

export class UringError extends Error {
  constructor(message: string, readonly errno: number) {
    super(message);
  }
}

/** io_uring_setup(2) and the mmaps of its rings; sqeSize is 128 with IORING_SETUP_SQE128. */
export function uringSetup(entries: number, flags: number, sqeSize: number): UringSetup {
  const b = load();
  const params = Buffer.alloc(120);
  params.writeUInt32LE(flags, 8);
  const fd = Number(b.setup(SYS_IO_URING_SETUP, entries, params));
  if (fd < 0) {
    const e = b.koffi.errno();
    throw new UringError(`io_uring_setup failed: errno ${e}`, e);
  }
  const u = (off: number): number => params.readUInt32LE(off);
  const sqEntries = u(0);
  const cqEntries = u(4);
  const features = u(20);
  const sqOff = { head: u(40), tail: u(44), mask: u(48), array: u(64) };
  const cqOff = { head: u(80), tail: u(84), mask: u(88), cqes: u(100) };
  try {
    if ((features & IORING_FEAT_SINGLE_MMAP) === 0) throw new UringError('io_uring without IORING_FEAT_SINGLE_MMAP (kernel older than 5.4)', 95);
    const ringLen = Math.max(sqOff.array + sqEntries * 4, cqOff.cqes + cqEntries * 16);
    const rings = mapped(b, b.mmap(null, ringLen, PROT_READ_WRITE, MAP_SHARED | MAP_POPULATE, fd, IORING_OFF_SQ_RING), ringLen, 'the io_uring rings');
    const sqes = mapped(b, b.mmap(null, sqEntries * sqeSize, PROT_READ_WRITE, MAP_SHARED | MAP_POPULATE, fd, IORING_OFF_SQES), sqEntries * sqeSize, 'the io_uring SQEs');
    return { fd, sqEntries, cqEntries, features, sqOff, cqOff, rings, sqes };
  } catch (err) {
    b.close(fd);
    throw err;
  }
}

/** io_uring_enter(2): returns the number of SQEs consumed, or -errno. */
export function uringEnter(fd: number, toSubmit: number, minComplete: number, flags: number): number {
  const b = load();
  const r = Number(b.enter(SYS_IO_URING_ENTER, fd, toSubmit, minComplete, flags, null, 0));
  return r < 0 ? -b.koffi.errno() : r;
}

/**
 * sched_setaffinity(0, ...): keeps the calling thread (the serving worker, not the whole process) on `cpus`.
 * Returns 0, or -errno (EINVAL when none of them is allowed here, e.g. outside this process's cpuset).
 */
export function pinThisThread(cpus: readonly number[]): number {
  const b = load();
  const mask = Buffer.alloc(Math.max(8, Math.ceil((Math.max(...cpus) + 1) / 64) * 8));
  for (const c of cpus) mask[c >>> 3] |= 1 << (c & 7);
  return b.setAffinity(0, mask.length, mask) === 0 ? 0 : -b.koffi.errno();
}

/** Unmaps the rings and closes the ring fd (the kernel then cancels what is still in flight on it). */
export function uringClose(s: UringSetup): void {
  const b = load();
  b.munmap(s.sqes.ptr, s.sqes.length);
  b.munmap(s.rings.ptr, s.rings.length);
  b.close(s.fd);
}

/**
 * Whether this process can use io_uring with 128-byte SQEs (koffi loads, io_uring is not disabled by
 * kernel.io_uring_disabled or a seccomp filter). Returns undefined when it can, else the reason.
 */
export function uringUnavailable(): string | undefined {
  let s: UringSetup;
  try {
    s = uringSetup(2, IORING_SETUP.SQE128, 128);
  } catch (err) {
    return err instanceof Error ? err.message : String(err);
  }
  uringClose(s);
  return undefined;
}
