// Embedded mode's hand-over between a reader thread and the thread that owns the filesystem: per reader, a
// SharedArrayBuffer of K request slots plus a control block. The reader fills a free slot straight from
// /dev/fuse and publishes its index; the owner drains every published slot per wake-up (batching under
// load), serves each (sync or async), writes the reply on the reader's fd itself, then frees the slot.

export const CTL_HEAD = 0; // requests published so far
export const CTL_EXITED = 1; // reader is gone (unmounted)
export const CTL_FREE_GEN = 2; // bumped whenever a slot is freed
const CTL_FIXED = 4;

export interface RingLayout {
  slots: number;
  slotSize: number;
}

export function ctlWords(slots: number): number {
  return CTL_FIXED + 3 * slots;
}
export function stateIndex(slot: number): number {
  return CTL_FIXED + slot;
}
export function ringIndex(slots: number, seq: number): number {
  return CTL_FIXED + slots + (seq % slots);
}
export function lenIndex(slots: number, slot: number): number {
  return CTL_FIXED + 2 * slots + slot;
}

export interface RingBuffers {
  ctl: SharedArrayBuffer;
  data: SharedArrayBuffer;
  layout: RingLayout;
}

export function createRing(layout: RingLayout): RingBuffers {
  return {
    ctl: new SharedArrayBuffer(ctlWords(layout.slots) * 4),
    data: new SharedArrayBuffer(layout.slots * layout.slotSize),
    layout,
  };
}
