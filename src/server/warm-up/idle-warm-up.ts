// The warm-up as a worker's idle work (serve-fd.ts calls step() only when /dev/fuse has been quiet): the twin
// and the walk are made at the first step, not before the first real request, and any failure ends the
// warm-up with one log line; serving never depends on it.

import type { ConnectionInfo, Filesystem } from '../../fs/types.js';
import type { DispatchOptions } from '../dispatch.js';
import type { InterruptTable } from '../interrupts.js';
import type { Lane } from '../lane.js';
import { canPoll } from '../../kernel/poll-in.js';
import { lowerTierUpBudget } from './tier-up-budget.js';
import { TwinLink, type Walk } from './twin-link.js';
import { treeWalk } from './walk.js';
import { writeWalk } from './write-walk.js';

/** Work a serving loop does while its fd has nothing to read. */
export interface IdleWork {
  /**
   * Does a slice of it on the loop's `lane` (idle: no request of the loop is in progress); false once there is
   * no more. A Promise when it waits (the loop awaits it).
   */
  step(lane: Lane): boolean | Promise<boolean>;
  /** Drops what is left (the loop ends). */
  close(): void;
}

/** Walk steps per slice: a few hundred µs of compiled code, a few ms of cold code, between two looks at the fd. */
const REQUESTS_PER_SLICE = 32;
/**
 * A slice ends after this long too: a real request that comes during a slice waits for it, and 32 steps of
 * cold code (a big directory listed in V8's interpreter) took tens of ms, which a readdir that came while a
 * fresh server warmed up paid (the bench's 2000-entry readdir, 0.6 ms a pass in most rounds, 6.8 in some).
 */
const SLICE_MS = 1;

export function idleWarmUp(fs: Filesystem, conn: ConnectionInfo, opts: DispatchOptions, interrupts: InterruptTable): IdleWork | undefined {
  if (typeof fs.warmUpTwin !== 'function' || !canPoll()) return undefined;
  let link: TwinLink | undefined;
  let done = false;
  let restoreBudget = (): void => undefined;
  const started = process.cpuUsage();
  const fail = (err: unknown): false => {
    done = true;
    restoreBudget();
    opts.log(`tsfuse: warm-up stopped: ${err instanceof Error ? err.message : String(err)}`);
    return false;
  };
  return {
    step(lane: Lane): boolean | Promise<boolean> {
      if (done) return false;
      try {
        if (!link) {
          const twin = fs.warmUpTwin!();
          if (!twin) return (done = true) && false;
          // (measured for the write walk only: the image server's warm-up keeps V8's usual budget)
          if (twin.warmUpWrites?.()) restoreBudget = lowerTierUpBudget();
          link = new TwinLink(twin, opts, interrupts, lane);
          link.start(walkFor(twin, link));
          // the twin answers as the real one does only with the connection's flags (NO_OPEN_SUPPORT, READDIRPLUS_AUTO)
          const ready = twin.init?.(conn);
          // (a Promise settles only once the serving loop awaits it: it never turns the event loop by itself)
          if (ready instanceof Promise) return ready.then(() => true, (err: unknown) => { link?.close(); return fail(err); });
        }
        if (link.step(REQUESTS_PER_SLICE, performance.now() + SLICE_MS)) return true;
        done = true;
        restoreBudget();
        if (opts.debug) {
          const cpu = process.cpuUsage(started);
          opts.log(`tsfuse: warm-up done: ${link.requests} requests (${link.failures} failed), ${((cpu.user + cpu.system) / 1000).toFixed(1)} ms of the process's CPU meanwhile`);
        }
        // the serving loop is an async function, which V8 compiles only when it resumes after being marked
        // hot (it never loops back into compiled code): resumed here, it is compiled while the fd is quiet,
        // not at its next await, 1024 real requests later (13 ms of TurboFan in the bench's chmod phase)
        return new Promise((resolve) => setImmediate(resolve, false));
      } catch (err) {
        link?.close();
        return fail(err);
      }
    },
    close(): void {
      if (!done) link?.close();
      done = true;
      restoreBudget();
    },
  };
}

/** The walk `twin` asks for: the tree walk, after the write walk for a twin that takes writes. */
export function walkFor(twin: Filesystem, link: TwinLink): Walk {
  return twin.warmUpWrites?.() ? writesThenTree(link) : treeWalk(link);
}

function* writesThenTree(link: TwinLink): Walk {
  yield* writeWalk(link);
  yield* treeWalk(link);
}
