// memfs's time: a nanosecond wall clock, timestamp validation and the relatime rule.

import { Errno } from '../../protocol/errno.js';
import type { Timespec } from '../types.js';

/** Wall-clock time with nanoseconds: Date.now() as the base, process.hrtime() for the fraction. */
export class Clock {
  private baseSec = 0;
  private baseNsec = 0;
  private hr0: [number, number] = [0, 0];

  constructor() {
    this.rebase();
  }

  private rebase(): void {
    const ms = Date.now();
    this.baseSec = Math.floor(ms / 1000);
    this.baseNsec = (ms - this.baseSec * 1000) * 1e6;
    this.hr0 = process.hrtime();
  }

  now(): Timespec {
    const d = process.hrtime(this.hr0);
    let sec = this.baseSec + d[0];
    let nsec = this.baseNsec + d[1];
    if (nsec >= 1e9) {
      sec += 1;
      nsec -= 1e9;
    }
    // Follow wall-clock adjustments (NTP, suspend): resync when the monotonic estimate drifts.
    const wall = Date.now();
    const est = sec * 1000 + nsec / 1e6;
    if (est - wall > 5 || wall - est > 5) {
      this.rebase();
      return this.now();
    }
    return { sec, nsec };
  }
}

/** A copy of a timestamp a request sets, EINVAL when it is not one. */
export function checkTime(t: Timespec): Timespec {
  if (!Number.isFinite(t.sec) || !Number.isInteger(t.nsec) || t.nsec < 0 || t.nsec >= 1e9) {
    throw new Errno('EINVAL');
  }
  return { sec: t.sec, nsec: t.nsec };
}

/** relatime: whether an access at `now` updates atime (not newer than mtime/ctime, or older than a day). */
export function atimeDue(t: { atime: Timespec; mtime: Timespec; ctime: Timespec }, now: Timespec): boolean {
  const a = t.atime;
  const older = (x: Timespec) => a.sec < x.sec || (a.sec === x.sec && a.nsec <= x.nsec);
  return older(t.mtime) || older(t.ctime) || now.sec - a.sec >= 86400;
}
