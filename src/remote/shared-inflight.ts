// Which blocks some worker of the mount is fetching right now, in shared memory, so that two workers missing the
// same block fetch it once: the first claims it, the others wait for the claim to go and then read the block
// from the persistent cache (which the claimant fills before it lets go). Without it each worker fetched what
// another was already fetching (a cold `tar` with 2 workers cost 117-135% of the image; bench/results/remote.md).
//
// A fixed table of 32-bit slots: a block's tag (a hash of its source key and index, never 0) names its slot; a
// slot holding another tag is a collision, and that block is fetched without a claim (rare, and only costs what
// the table saves). A claim left behind (a fetch that hangs) is waited for at most `waitMs`, then ignored.

const SLOTS = 8192;

export type Claim = 'mine' | 'theirs' | 'unclaimed';

/** FNV-1a of a string: the per-source part of a tag, computed once per source. */
export function keyHash(key: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < key.length; i++) h = Math.imul(h ^ key.charCodeAt(i), 0x01000193);
  return h >>> 0;
}

export class SharedInflight {
  readonly words: Int32Array;
  constructor(readonly buffer: SharedArrayBuffer = new SharedArrayBuffer(SLOTS * 4), private readonly waitMs = 60_000) {
    this.words = new Int32Array(buffer);
  }

  /** A block's tag: nonzero, spread over the slots. */
  tag(sourceHash: number, block: number): number {
    let h = Math.imul(sourceHash ^ Math.imul(block + 1, 0x9e3779b1), 0x85ebca6b);
    h ^= h >>> 13;
    h = Math.imul(h, 0xc2b2ae35);
    h ^= h >>> 16;
    return h === 0 ? 1 : h | 0;
  }

  private slot(tag: number): number {
    return (tag >>> 0) % this.words.length;
  }

  claim(tag: number): Claim {
    const was = Atomics.compareExchange(this.words, this.slot(tag), 0, tag);
    return was === 0 ? 'mine' : was === tag ? 'theirs' : 'unclaimed';
  }

  /** Ends a claim this worker holds and wakes the workers waiting for it. */
  release(tag: number): void {
    const i = this.slot(tag);
    if (Atomics.compareExchange(this.words, i, tag, 0) === tag) Atomics.notify(this.words, i);
  }

  /** Settles once the claim on `tag` is gone (or after waitMs). */
  async settled(tag: number): Promise<void> {
    const r = Atomics.waitAsync(this.words, this.slot(tag), tag, this.waitMs);
    if (!r.async) return;
    // A pending waitAsync does not keep Node's event loop alive (a worker with nothing else to do would exit):
    // a timer does, for as long as the wait may last.
    const keep = setTimeout(() => {}, this.waitMs);
    try {
      await r.value;
    } finally {
      clearTimeout(keep);
    }
  }
}
