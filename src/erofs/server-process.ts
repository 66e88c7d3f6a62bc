// Process-wide settings of an image server process (the CLI's `erofs mount` server, foreground or the one a
// background mount hands over to), applied in its main thread before the session starts any worker. They
// are process-wide, so they are the process owner's choice, not the library's: mountErofs() alone leaves
// them as they are.
//
// V8's --optimize-for-size: an isolate then lets its old generation grow 2 MiB past the live size before the
// next full GC instead of 8 MiB (V8's minimum allocation-limit step), and no resourceLimits setting of a
// Worker reaches that step. An image worker's live heap is ~6-10 MiB (its module graph and the objects of its
// bounded caches), so the step was most of each worker's V8 heap: on a tar of /usr with two workers the
// server's peak RSS went from ~133 to ~120 MiB, for a few more full GCs of a few ms each and no CPU cost we
// could tell from the noise (bench/results/findings.md, "Memory").

import { setFlagsFromString } from 'node:v8';

/** V8 flags of an image server process (set at run time, before the first worker isolate exists). */
export const IMAGE_SERVER_V8_FLAGS = ['--optimize-for-size'] as const;

/** Applies the image server's process-wide settings; call once from the main thread before mounting. */
export function tuneImageServerProcess(): void {
  for (const f of IMAGE_SERVER_V8_FLAGS) setFlagsFromString(f);
}
