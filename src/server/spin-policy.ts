// When a worker polls for the next request before it sleeps (SessionOptions.spinUs), and when it does not.
//
// Opt-in (off by default; src/cli/command.ts has the figures). Why poll at all: in a VM whose idle vCPUs halt
// at once, a client in a loop of metadata calls (rm -r, tar, mv, chmod -R) pays two cross-CPU wake-ups per
// request: the server woken from read(2), the client woken by the reply. A worker that is still awake when the
// next request comes saves the first (bench/results/passthrough-writes.md, round 9). Why back off: a client
// that thinks between calls, or stopped, would make every answer cost a whole window of polling. One window
// that finds nothing is let go (a loop's client misses now and then: the answer that ends its operation, a
// request with no reply before a pause); after the second in a row the next answer goes straight to read(2),
// after the third the next 3, then 7 ... MAX_SKIPPED; one window that finds a request resets it. A loop keeps
// polling on, an idle server never polls (polling follows an answer only), and a client whose requests come
// sparsely costs at most one window per MAX_SKIPPED + 1 requests.

import { readableWithin, yieldCpu } from '../kernel/poll-in.js';

/** The answers that skip polling after windows kept finding nothing (2^6 - 1). */
export const MAX_SKIPPED = 63;

export class SpinPolicy {
  private skip = 0;
  private missedRun = 0;

  /** Whether to poll after this answer (false: the window is skipped, and counted). */
  shouldSpin(): boolean {
    if (this.skip === 0) return true;
    this.skip--;
    return false;
  }

  /** What the window found: a request (true) or nothing before its end (false). */
  record(found: boolean): void {
    if (found) this.missedRun = 0;
    else {
      this.skip = this.missedRun;
      this.missedRun = Math.min(this.missedRun * 2 + 1, MAX_SKIPPED);
    }
  }
}

/**
 * Polls `fd` with no timeout until a request waits (true) or `ms` have passed (false). Between polls the CPU
 * is offered to any task waiting for it (sched_yield): when the client shares this CPU it then runs and
 * sends its request, instead of waiting for the window to end.
 */
export function pollWindow(fd: number, ms: number): boolean {
  const end = performance.now() + ms;
  for (;;) {
    if (readableWithin(fd, 0)) return true;
    if (performance.now() >= end) return false;
    yieldCpu();
  }
}
