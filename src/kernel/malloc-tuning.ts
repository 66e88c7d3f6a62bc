// glibc malloc settings for a long-running server process, set once from the main thread before any worker
// starts (mallopt is process-wide). Node puts every ArrayBuffer's memory in malloc, and V8 its compiler zones.
//
// glibc raises its mmap threshold each time an mmap'd block is freed (up to 32 MiB), so after the first large
// buffer goes (the CLI's own reader caches, a grown READ buffer) later MiB-sized buffers come from the thread
// arenas instead, and what is freed there stays resident behind live neighbours. Setting the thresholds fixes
// them (glibc then stops adjusting): blocks from 128 KiB up are mmap'd and unmapped when freed, and an arena's
// free top goes back to the kernel beyond 128 KiB. On a tar of /usr through the image server (2 workers) this
// took the arenas from ~18 to ~10 MiB resident (bench/results/findings.md, "Memory").

import { callLibcRaw, ffiTypes } from './libc.js';

/** mallopt parameters (glibc malloc.h). */
const M_TRIM_THRESHOLD = -1;
const M_MMAP_THRESHOLD = -3;
/** glibc's own default for both, which it would otherwise raise as large blocks are freed. */
export const MALLOC_FIXED_THRESHOLD = 128 * 1024;

/**
 * Fixes glibc's mmap and trim thresholds at MALLOC_FIXED_THRESHOLD. Returns false where mallopt refused or
 * does not exist (another libc): memory then behaves as before, nothing else changes.
 */
export function fixMallocThresholds(): boolean {
  try {
    const t = ffiTypes();
    const ok = (p: number): boolean => callLibcRaw('mallopt', t.I32, [t.I32, t.I32], [p, MALLOC_FIXED_THRESHOLD]).value === 1;
    return ok(M_MMAP_THRESHOLD) && ok(M_TRIM_THRESHOLD);
  } catch {
    return false;
  }
}
