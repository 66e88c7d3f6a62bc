// A thread or process whose serving is over must end: Node keeps it alive while any handle is open (a timer a
// filesystem forgot, a stream, work in libuv's pool), and a mount server that outlives its mount is a stray
// process holding the image open. Once the serving loop has ended, an unref'd timer gives such handles a
// moment; if it fires, something still held the loop: that is logged, and the thread or process ends anyway.

/** How long after the serving loop ended open handles may keep the thread or process up. */
export const LINGER_MS = 2000;

/**
 * Arms the check: after `ms`, if this thread is still up, logs what kept it (process.getActiveResourcesInfo)
 * and calls `exit`. The timer does not keep the thread up by itself.
 */
export function endAfterLinger(what: string, log: (msg: string) => void, exit: () => void, ms = LINGER_MS): void {
  const timer = setTimeout(() => {
    const held = process.getActiveResourcesInfo(); // (this check's own timer shows as one Timeout)
    log(`tsfuse: ${what} still up ${ms} ms after serving ended (held by: ${held.join(', ')}); ending it`);
    exit();
  }, ms);
  timer.unref();
}
