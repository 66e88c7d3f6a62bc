// Calling a fuse-native handler: its callback becomes a value, or a Promise only when the handler answers later.
//
// A handler that calls back before it returns (most in-memory programs do) costs no Promise, no timer and no
// microtask: the answer goes back as a plain value and the dispatcher replies at once. A handler that answers
// later gets a Promise and a deadline (opts.timeout, as fuse-native's per-op timeouts); the deadlines of all
// calls in flight share one timer (Deadlines below), not a setTimeout each.
//
// A second call of the same callback is ignored, as is a call after the deadline passed (ETIMEDOUT answered).

import { Errno } from '../protocol/errno.js';

/** Turns the callback's arguments into the answer (throws the errno for an error). */
export type Done<T> = (a: unknown, b: unknown, c: unknown) => T;
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type Handler = (...a: any[]) => unknown;

const RUNNING = 0; // the handler has not returned yet
const ANSWERED = 1; // called back (or timed out, or threw): later callbacks are ignored
const WAITING = 2; // the handler returned without calling back: a Promise is out

/** One call in flight; also its node in the deadline list of its timeout. */
class Call<T> {
  state = RUNNING;
  a: unknown;
  b: unknown;
  c: unknown;
  resolve: ((v: T) => void) | undefined;
  reject: ((e: unknown) => void) | undefined;
  deadline = 0;
  list: DeadlineList | undefined;
  prev: Call<unknown> | undefined;
  next: Call<unknown> | undefined;
  readonly cb: (a?: unknown, b?: unknown, c?: unknown) => void;

  constructor(
    readonly done: Done<T>,
    private readonly deadlines: Deadlines,
  ) {
    this.cb = (a, b, c) => this.answer(a, b, c);
  }

  private answer(a: unknown, b: unknown, c: unknown): void {
    if (this.state === RUNNING) {
      this.state = ANSWERED;
      this.a = a;
      this.b = b;
      this.c = c;
      return;
    }
    if (this.state !== WAITING) return;
    this.state = ANSWERED;
    this.deadlines.remove(this as Call<unknown>);
    try {
      this.resolve!(this.done(a, b, c));
    } catch (e) {
      this.reject!(e);
    }
  }

  /** The deadline passed: ETIMEDOUT, and the handler's late answer is ignored. */
  expire(): void {
    if (this.state !== WAITING) return;
    this.state = ANSWERED;
    this.reject!(new Errno('ETIMEDOUT'));
  }
}

/** Calls with the same timeout, oldest first (so sorted by deadline). */
interface DeadlineList {
  head: Call<unknown> | undefined;
  tail: Call<unknown> | undefined;
}

/**
 * The deadlines of every call in flight, with one timer set for the earliest. A call that is answered leaves
 * its list at once; the timer is only moved when a call with an earlier deadline than the one it waits for
 * arrives (a shorter per-op timeout), so a steady stream of slow calls costs about one timer per timeout.
 */
class Deadlines {
  private readonly lists = new Map<number, DeadlineList>();
  private timer: NodeJS.Timeout | undefined;
  private timerAt = Infinity;

  add(call: Call<unknown>, timeoutMs: number): void {
    let list = this.lists.get(timeoutMs);
    if (!list) this.lists.set(timeoutMs, (list = { head: undefined, tail: undefined }));
    call.deadline = Date.now() + timeoutMs;
    call.list = list;
    call.prev = list.tail;
    call.next = undefined;
    if (list.tail) list.tail.next = call;
    else list.head = call;
    list.tail = call;
    if (call.deadline < this.timerAt) this.arm(call.deadline);
  }

  remove(call: Call<unknown>): void {
    const list = call.list;
    if (!list) return;
    if (call.prev) call.prev.next = call.next;
    else list.head = call.next;
    if (call.next) call.next.prev = call.prev;
    else list.tail = call.prev;
    call.list = call.prev = call.next = undefined;
  }

  /** Calls in flight with a deadline (for tests). */
  get size(): number {
    let n = 0;
    for (const l of this.lists.values()) for (let c = l.head; c; c = c.next) n++;
    return n;
  }

  private arm(at: number): void {
    if (this.timer) clearTimeout(this.timer);
    this.timerAt = at;
    // ref'd, as fuse-native's timer per call: a call in flight keeps the process alive until its deadline
    this.timer = setTimeout(() => this.sweep(), Math.max(0, at - Date.now()));
  }

  private sweep(): void {
    this.timer = undefined;
    this.timerAt = Infinity;
    const now = Date.now();
    let next = Infinity;
    for (const list of this.lists.values()) {
      let c = list.head;
      while (c && c.deadline <= now) {
        const after = c.next;
        this.remove(c);
        c.expire();
        c = after;
      }
      if (c && c.deadline < next) next = c.deadline;
    }
    if (next !== Infinity) this.arm(next);
  }
}

/** Runs handlers with fuse-native's callback convention; one per mount. */
export class Caller {
  readonly deadlines = new Deadlines();

  /** `timeoutOf(op)`: ms before a call of that op answers ETIMEDOUT (0: never). */
  constructor(
    private readonly self: unknown,
    private readonly timeoutOf: (op: string) => number,
  ) {}

  /**
   * Calls fn(...args, cb) with `n` arguments before the callback (fuse-native's handlers are positional, so
   * the callback must come right after the last argument). The answer (done's result) is returned as is when
   * the handler called back before returning, otherwise as a Promise.
   */
  run<T>(op: string, fn: Handler, done: Done<T>, n: number, a?: unknown, b?: unknown, c?: unknown, d?: unknown, e?: unknown): T | Promise<T> {
    const call = new Call<T>(done, this.deadlines);
    const cb = call.cb;
    try {
      switch (n) {
        case 0: fn.call(this.self, cb); break;
        case 1: fn.call(this.self, a, cb); break;
        case 2: fn.call(this.self, a, b, cb); break;
        case 3: fn.call(this.self, a, b, c, cb); break;
        case 4: fn.call(this.self, a, b, c, d, cb); break;
        default: fn.call(this.self, a, b, c, d, e, cb);
      }
    } catch (err) {
      // an answer given before the throw stands (as when the callback resolved first); otherwise the
      // dispatcher answers EIO and logs it once (or maps a Node error's .code)
      if (call.state === RUNNING) {
        call.state = ANSWERED;
        throw err;
      }
    }
    if (call.state === ANSWERED) return done(call.a, call.b, call.c);
    call.state = WAITING;
    const promise = new Promise<T>((resolve, reject) => {
      call.resolve = resolve;
      call.reject = reject;
    });
    const ms = this.timeoutOf(op);
    if (ms > 0) this.deadlines.add(call as Call<unknown>, ms);
    return promise;
  }
}
