// INIT negotiation as a pure function: what the kernel offers x what the filesystem wants -> init_out.

import { FUSE_KERNEL_MINOR_VERSION, FUSE_KERNEL_VERSION, InitFlags, type InitFlag, LAYOUT } from './abi.js';
import { ERRNO } from './errno.js';
import type { InitIn } from './requests.js';
import type { InitOut } from './replies.js';

export interface InitWants {
  /** Capabilities to enable when the kernel offers them. */
  flags: InitFlag[];
  /** Largest WRITE payload we accept (bytes). Default 1 MiB. */
  maxWrite?: number;
  /** Readahead cap (bytes); default: what the kernel proposes. */
  maxReadahead?: number;
  maxBackground?: number;
  congestionThreshold?: number;
  /** Timestamp granularity in ns (1 = full ns). */
  timeGran?: number;
  /** For FUSE_PASSTHROUGH: the stacking depth of backing files (>= 1, or BACKING_OPEN fails with EPERM). */
  maxStackDepth?: number;
  /** Seconds (FUSE_REQUEST_TIMEOUT). */
  requestTimeout?: number;
  /** Host page size, for max_pages. */
  pageSize?: number;
}

export type InitResult =
  | { kind: 'reply'; out: InitOut; size: number; negotiated: number; minor: number }
  /** Kernel major > 7: answer with our version only; the kernel sends a second INIT. */
  | { kind: 'version'; out: InitOut; size: number }
  | { kind: 'error'; errno: number; reason: string };

const PAGE = 4096;
const MAX_PAGES_LIMIT = 256; // fs.fuse.max_pages_limit default; the kernel clamps anyway

export function negotiateInit(kernel: InitIn, wants: InitWants): InitResult {
  const blank: InitOut = {
    major: FUSE_KERNEL_VERSION, minor: FUSE_KERNEL_MINOR_VERSION, maxReadahead: 0, flags: 0, maxBackground: 0,
    congestionThreshold: 0, maxWrite: 0, timeGran: 0, maxPages: 0, mapAlignment: 0, maxStackDepth: 0, requestTimeout: 0,
  };
  if (kernel.major < 7) return { kind: 'error', errno: ERRNO.EPROTO, reason: `unsupported kernel protocol ${kernel.major}.${kernel.minor}` };
  if (kernel.major > 7) return { kind: 'version', out: blank, size: 8 };
  const minor = Math.min(kernel.minor, FUSE_KERNEL_MINOR_VERSION);
  if (minor < 12) return { kind: 'error', errno: ERRNO.EPROTO, reason: `kernel protocol 7.${kernel.minor} is older than 7.12` };

  let want = InitFlags.of(...wants.flags);
  // Flags >= 32 only count through FUSE_INIT_EXT; ask for it whenever the kernel has it.
  want = InitFlags.union(want, InitFlags.of('INIT_EXT'));
  let flags = InitFlags.intersect(kernel.flags, want);
  if (!InitFlags.has(kernel.flags, 'INIT_EXT')) flags = flags % 4294967296;
  // Passthrough and writeback cache exclude each other in the kernel: when passthrough is actually granted,
  // drop writeback (as libfuse does); a kernel without passthrough keeps the writeback cache.
  if (InitFlags.has(flags, 'PASSTHROUGH')) flags = InitFlags.without(flags, InitFlags.of('WRITEBACK_CACHE'));

  const page = wants.pageSize ?? PAGE;
  let maxWrite = Math.max(4096, wants.maxWrite ?? 1 << 20);
  let maxPages = 0;
  if (InitFlags.has(flags, 'MAX_PAGES')) {
    maxPages = Math.min(MAX_PAGES_LIMIT, Math.ceil(maxWrite / page));
    maxWrite = Math.min(maxWrite, maxPages * page);
  } else {
    maxWrite = Math.min(maxWrite, 32 * page);
  }
  const passthrough = InitFlags.has(flags, 'PASSTHROUGH');
  const out: InitOut = {
    major: FUSE_KERNEL_VERSION,
    minor,
    maxReadahead: Math.min(kernel.maxReadahead, wants.maxReadahead ?? kernel.maxReadahead),
    flags,
    maxBackground: wants.maxBackground ?? 64,
    congestionThreshold: wants.congestionThreshold ?? 48,
    maxWrite,
    timeGran: wants.timeGran ?? 1,
    maxPages,
    mapAlignment: 0,
    maxStackDepth: passthrough ? Math.max(1, wants.maxStackDepth ?? 1) : 0,
    requestTimeout: InitFlags.has(flags, 'REQUEST_TIMEOUT') ? (wants.requestTimeout ?? 0) : 0,
  };
  // Kernels before 7.23 read a shorter init_out; before 7.5 only 8 bytes.
  const size = minor < 5 ? 8 : minor < 23 ? 24 : LAYOUT.fuse_init_out.size;
  return { kind: 'reply', out, size, negotiated: flags, minor };
}
