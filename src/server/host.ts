// Embedded mode's owner side: runs in the thread that holds the Filesystem object. For each reader it
// drains published slots, serves them through the shared Dispatcher (many async handlers may be in flight),
// writes each reply on that reader's fd, and frees the slot. The owner's event loop is never blocked:
// it sleeps in Atomics.waitAsync.

import { Dispatcher } from './dispatch.js';
import { Lane } from './lane.js';
import { CTL_EXITED, CTL_FREE_GEN, CTL_HEAD, lenIndex, ringIndex, stateIndex, type RingBuffers } from './ring.js';
import { WireBuffer } from '../protocol/wire.js';

export async function pumpRing(fd: number, ring: RingBuffers, dispatcher: Dispatcher): Promise<void> {
  const { slots, slotSize } = ring.layout;
  const ctl = new Int32Array(ring.ctl);
  const wires: WireBuffer[] = [];
  const lanes: Lane[] = [];
  for (let s = 0; s < slots; s++) {
    wires.push(new WireBuffer(ring.data, s * slotSize, slotSize));
    lanes.push(new Lane(slotSize));
  }
  const free = (slot: number): void => {
    Atomics.store(ctl, stateIndex(slot), 0);
    Atomics.add(ctl, CTL_FREE_GEN, 1);
    Atomics.notify(ctl, CTL_FREE_GEN);
  };
  let tail = 0;
  for (;;) {
    const head = Atomics.load(ctl, CTL_HEAD);
    while (tail < head) {
      const slot = Atomics.load(ctl, ringIndex(slots, tail));
      tail++;
      const n = Atomics.load(ctl, lenIndex(slots, slot));
      let pending: Promise<void> | undefined;
      try {
        pending = dispatcher.dispatch(lanes[slot], fd, wires[slot], n);
      } catch (err) {
        dispatcher.log(`tsfuse: dispatch failed: ${String(err)}`);
      }
      if (pending === undefined) free(slot);
      else pending.then(() => free(slot), () => free(slot));
    }
    if (Atomics.load(ctl, CTL_EXITED) !== 0 && Atomics.load(ctl, CTL_HEAD) === tail) return;
    const r = Atomics.waitAsync(ctl, CTL_HEAD, head);
    if (r.async) await r.value;
  }
}
