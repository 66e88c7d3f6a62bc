// What Session.mount() decides about FUSE over io_uring, kept out of session.ts: whether to ask for it
// (`ioUring` or the `-o io_uring` mount option, worker mode, io_uring usable here), which queues each worker
// owns, and the one log line when the fd path is used instead.

import { readFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { FUSE_MIN_READ_BUFFER, InitFlags } from '../../protocol/abi.js';
import { URING_COUNTER, type UringStart } from './serve.js';

export const DEFAULT_URING_DEPTH = 8;
const MAX_URING_DEPTH = 256;
const OPT_ENABLE = 'io_uring';
const OPT_DEPTH = 'io_uring_q_depth=';

export interface UringPlan {
  depth: number;
  /** The kernel's queue count: one per possible CPU, every one of which must get entries. */
  queues: number;
  counters: SharedArrayBuffer;
}

/**
 * Removes `io_uring` and `io_uring_q_depth=N` from the mount options (they are not the kernel's) and returns
 * what they asked for. Throws on a depth that is not an integer 1..256.
 */
export function takeUringOptions(options: string[]): { enabled: boolean; depth?: number } {
  let enabled = false;
  let depth: number | undefined;
  for (let i = options.length - 1; i >= 0; i--) {
    const o = options[i];
    if (o === OPT_ENABLE) enabled = true;
    else if (o.startsWith(OPT_DEPTH)) {
      const v = o.slice(OPT_DEPTH.length);
      depth = /^\d+$/.test(v) ? Number(v) : NaN;
      if (!(depth >= 1 && depth <= MAX_URING_DEPTH)) throw new Error(`mount option ${JSON.stringify(o)}: needs an integer from 1 to ${MAX_URING_DEPTH}`);
      enabled = true;
    } else continue;
    options.splice(i, 1);
  }
  return { enabled, depth };
}

/** num_possible_cpus(): the kernel makes one ring queue per possible CPU and waits for all of them. */
export function possibleCpus(): number {
  try {
    let n = 0;
    for (const part of readFileSync('/sys/devices/system/cpu/possible', 'utf8').trim().split(',')) {
      const [a, b] = part.split('-').map(Number);
      n += b === undefined ? 1 : b - a + 1;
    }
    if (n > 0) return n;
  } catch {
    // no sysfs: fall back to what Node sees
  }
  return availableParallelism();
}

/**
 * Whether to ask the kernel for FUSE over io_uring. Returns undefined (after one log line saying why) when
 * it cannot be served: embedded mode (the ring needs a thread that may block in io_uring_enter), or no
 * usable io_uring in this process.
 */
export async function planUring(ask: { enabled: boolean; depth?: number }, embedded: boolean, log: (m: string) => void, inFlight = 1): Promise<UringPlan | undefined> {
  if (!ask.enabled) return undefined;
  if (embedded) {
    log('tsfuse: io_uring is served in worker mode only (give a FilesystemModule); serving /dev/fuse reads');
    return undefined;
  }
  const { uringUnavailable } = await import('../../kernel/uring-sys.js');
  const why = uringUnavailable();
  if (why !== undefined) {
    log(`tsfuse: io_uring is not usable here (${why}); serving /dev/fuse reads`);
    return undefined;
  }
  // a module that keeps many requests waiting (inFlight) gets that many entries per queue unless told otherwise
  const depth = ask.depth ?? Math.min(MAX_URING_DEPTH, Math.max(DEFAULT_URING_DEPTH, Math.floor(inFlight)));
  return { depth, queues: possibleCpus(), counters: new SharedArrayBuffer(URING_COUNTER.WORDS * 4) };
}

/** After INIT: the plan if the kernel took the flag, else undefined with the fallback's log line. */
export function confirmUring(plan: UringPlan | undefined, negotiated: number, log: (m: string) => void): UringPlan | undefined {
  if (!plan) return undefined;
  if (InitFlags.has(negotiated, 'OVER_IO_URING')) return plan;
  log('tsfuse: the kernel does not offer FUSE over io_uring (fuse module parameter enable_uring is off?); serving /dev/fuse reads');
  return undefined;
}

/**
 * Worker `index` of `workers` owns the queues qid ≡ index (mod workers); a worker beyond the queue count owns
 * none. A worker owning some queues but not all is kept on their CPUs (qid = the CPU number, as the kernel
 * picks a request's queue by the asking task's CPU), as libfuse does with its one thread per queue.
 */
export function uringStartFor(plan: UringPlan, init: { flags: number; maxWrite: number }, index: number, workers: number, inFlight = 1): UringStart {
  const qids: number[] = [];
  for (let q = index; q < plan.queues; q += workers) qids.push(q);
  const page = 4096;
  // the kernel's max_payload_sz: max(FUSE_MIN_READ_BUFFER, max_write, max_pages * PAGE_SIZE); max_pages is
  // 32 without FUSE_MAX_PAGES and ceil(max_write / page) with it (src/protocol/init.ts)
  const maxPages = InitFlags.has(init.flags, 'MAX_PAGES') ? Math.ceil(init.maxWrite / page) : 32;
  const payloadSize = Math.max(FUSE_MIN_READ_BUFFER, init.maxWrite, maxPages * page);
  const pin = qids.length > 0 && qids.length < plan.queues ? qids : undefined;
  return { qids, depth: plan.depth, payloadSize, counters: plan.counters, worker: index, inFlight: Math.max(1, Math.floor(inFlight)), pin };
}

/** The session's view of the counters: requests that came over the ring and over /dev/fuse reads. */
export function uringCounts(plan: UringPlan | undefined): { ring: number; device: number; registerFailed: number } {
  if (!plan) return { ring: 0, device: 0, registerFailed: 0 };
  const c = new Int32Array(plan.counters);
  return { ring: Atomics.load(c, URING_COUNTER.RING_REQUESTS), device: Atomics.load(c, URING_COUNTER.DEVICE_REQUESTS), registerFailed: Atomics.load(c, URING_COUNTER.REGISTER_FAILED) };
}
