// Embedded mode's reader side: block on the fd, fill a free ring slot, publish it, repeat.

import { READ_AGAIN, READ_GONE, readRequest } from './read-request.js';
import { CTL_EXITED, CTL_FREE_GEN, CTL_HEAD, lenIndex, ringIndex, stateIndex, type RingBuffers } from './ring.js';

export function runReader(fd: number, ring: RingBuffers, doorbell: Int32Array): void {
  const { slots, slotSize } = ring.layout;
  const ctl = new Int32Array(ring.ctl);
  const bufs: Buffer[] = [];
  for (let s = 0; s < slots; s++) bufs.push(Buffer.from(ring.data, s * slotSize, slotSize));
  let head = 0;
  let next = 0;
  try {
    for (;;) {
      let slot = -1;
      for (;;) {
        const gen = Atomics.load(ctl, CTL_FREE_GEN);
        for (let k = 0; k < slots; k++) {
          const s = (next + k) % slots;
          if (Atomics.load(ctl, stateIndex(s)) === 0) {
            slot = s;
            break;
          }
        }
        if (slot >= 0) break;
        Atomics.wait(ctl, CTL_FREE_GEN, gen);
      }
      const n = readRequest(fd, bufs[slot], slotSize);
      if (n === READ_GONE) return;
      if (n === READ_AGAIN) continue;
      next = (slot + 1) % slots;
      Atomics.store(ctl, stateIndex(slot), 1);
      Atomics.store(ctl, lenIndex(slots, slot), n);
      Atomics.store(ctl, ringIndex(slots, head), slot);
      head++;
      Atomics.store(ctl, CTL_HEAD, head);
      Atomics.add(doorbell, 0, 1);
      Atomics.notify(doorbell, 0);
    }
  } finally {
    Atomics.store(ctl, CTL_EXITED, 1);
    Atomics.add(doorbell, 0, 1);
    Atomics.notify(doorbell, 0);
  }
}
