// Embedded mode's owner side: runs in the thread that holds the Filesystem object. It drains every reader's
// published slots, serves them through the shared Dispatcher (many async handlers may be in flight), writes
// each reply on that reader's fd, and frees the slot.
//
// Waking up costs: a wake through Atomics.waitAsync takes ~20 µs here, as long as a whole FUSE request, so
// every wake drains all readers (batching under load). A synchronous Atomics.wait on this thread was
// measured slower still (V8 implements it with a condition variable: ~59 µs a round trip vs ~22 µs), so the
// owner never blocks. It yields to the event loop at least every YIELD_MS so timers and the application keep
// running under a constant stream of requests.

import { Dispatcher } from './dispatch.js';
import { Lane } from './lane.js';
import { CTL_EXITED, CTL_FREE_GEN, CTL_HEAD, lenIndex, ringIndex, stateIndex, type RingBuffers } from './ring.js';
import { WireBuffer } from '../protocol/wire.js';

const YIELD_MS = 4;

interface Reader {
  fd: number;
  ctl: Int32Array;
  slots: number;
  wires: WireBuffer[];
  lanes: Lane[];
  tail: number;
  exited: boolean;
}

export async function pumpRings(readers: { fd: number; ring: RingBuffers }[], doorbell: Int32Array, dispatcher: Dispatcher): Promise<void> {
  const rs: Reader[] = readers.map(({ fd, ring }) => {
    const { slots, slotSize } = ring.layout;
    const wires: WireBuffer[] = [];
    const lanes: Lane[] = [];
    for (let s = 0; s < slots; s++) {
      wires.push(new WireBuffer(ring.data, s * slotSize, slotSize));
      lanes.push(new Lane(slotSize));
    }
    return { fd, ctl: new Int32Array(ring.ctl), slots, wires, lanes, tail: 0, exited: false };
  });
  const free = (r: Reader, slot: number): void => {
    Atomics.store(r.ctl, stateIndex(slot), 0);
    Atomics.add(r.ctl, CTL_FREE_GEN, 1);
    Atomics.notify(r.ctl, CTL_FREE_GEN);
  };
  const drain = (r: Reader): number => {
    const ctl = r.ctl;
    const head = Atomics.load(ctl, CTL_HEAD);
    let n = 0;
    while (r.tail < head) {
      const slot = Atomics.load(ctl, ringIndex(r.slots, r.tail));
      r.tail++;
      n++;
      const len = Atomics.load(ctl, lenIndex(r.slots, slot));
      let pending: Promise<void> | undefined;
      try {
        pending = dispatcher.dispatch(r.lanes[slot], r.fd, r.wires[slot], len);
      } catch (err) {
        dispatcher.log(`tsfuse: dispatch failed: ${String(err)}`);
      }
      if (pending === undefined) free(r, slot);
      else {
        const done = (): void => free(r, slot);
        pending.then(done, done);
      }
    }
    if (Atomics.load(ctl, CTL_EXITED) !== 0 && Atomics.load(ctl, CTL_HEAD) === r.tail) r.exited = true;
    return n;
  };
  let lastYield = performance.now();
  for (;;) {
    const bell = Atomics.load(doorbell, 0);
    let served = 0;
    let alive = 0;
    for (const r of rs) {
      if (r.exited) continue;
      served += drain(r);
      if (!r.exited) alive++;
    }
    if (alive === 0) return;
    const now = performance.now();
    if (now - lastYield > YIELD_MS) {
      lastYield = now;
      await new Promise<void>((resolve) => setImmediate(resolve));
      continue;
    }
    if (served > 0) continue;
    const w = Atomics.waitAsync(doorbell, 0, bell);
    if (w.async) await w.value;
    lastYield = performance.now();
  }
}
