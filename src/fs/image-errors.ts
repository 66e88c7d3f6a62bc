// How an image filesystem (EROFS, PuzzleFS) answers when reading its image fails, written once for both:
// corrupt data is EIO for that request (the session goes on) with one log line per distinct reason; an errno
// passes through as it is; anything else is a bug, logged once with its stack, and EIO as well.

import { Errno, ERRNO, errnoOf } from '../protocol/errno.js';

/** The image contradicts itself or points outside itself. `reason` says what was wrong, for the log. */
export class CorruptDataError extends Errno {
  readonly reason: string;
  constructor(format: string, reason: string) {
    super(ERRNO.EIO, `corrupt ${format} image: ${reason}`);
    this.reason = reason;
  }
}

/** Logs each distinct message once (remembering at most 10 000 keys, so a fuzzed image cannot grow it). */
export class LogOnce {
  private readonly seen = new Set<string>();
  constructor(private readonly log: (message: string) => void) {}

  once(key: string, message: string): void {
    if (this.seen.has(key)) return;
    if (this.seen.size < 10_000) this.seen.add(key);
    this.log(message);
  }
}

/**
 * What a failed operation `op` answers. `where` names the object for the log line (called only when a line is
 * logged); `prefix` names the filesystem ("tsfuse erofs").
 */
export function imageFailure(logs: LogOnce, prefix: string, op: string, where: () => string, e: unknown): unknown {
  if (e instanceof CorruptDataError) {
    logs.once(`corrupt:${e.reason}`, `${prefix}: ${op} ${where()}: ${e.message}`);
    return new Errno(ERRNO.EIO, e.reason);
  }
  if (e instanceof Errno || errnoOf(e) !== undefined) return e;
  const message = String((e as Error)?.message ?? e);
  logs.once(`bug:${op}:${message}`, `${prefix}: ${op} ${where()}: unexpected ${(e as Error)?.stack ?? e}`);
  return new Errno(ERRNO.EIO, message);
}
