// A small cache bounded by entry count and by a caller-defined weight (bytes), with second-chance eviction
// (CLOCK): a hit only sets a flag, it never reorders the Map. Reordering on every hit (delete + set) made V8
// rehash the table and was the top user-space cost of an uncached stat loop (bench/results/findings.md).
// Eviction walks from the oldest entry: a flagged entry loses its flag and moves to the back; an unflagged
// one goes.

interface Slot<V> {
  value: V;
  weight: number;
  referenced: boolean;
}

/**
 * "No bound": a small integer, not Infinity. set()'s comparisons are compiled for the types they have seen, and
 * a warm-up twin with bounded caches (small integers) followed by a real reader with unbounded ones (Infinity,
 * a double) threw that code away at the real reader's first miss ("not a Smi").
 */
export const UNBOUNDED = 2 ** 30 - 1;

/** The default weight. One function for every cache (see the note on `weigh`). */
function weighNothing(): number {
  return 0;
}

export class LruCache<K, V> {
  private readonly map = new Map<K, Slot<V>>();
  private weightSum = 0;

  /**
   * `weigh` should be one module-level function, not a closure made per cache: V8 compiles set() (inlined
   * into its callers) for the function it has seen, and a second instance's closure throws that code away
   * (a worker's real filesystem after its warm-up twin: "wrong call target" in reader.inode).
   */
  constructor(
    private readonly maxEntries: number,
    private readonly maxWeight = UNBOUNDED,
    private readonly weigh: (v: V) => number = weighNothing,
  ) {}

  get size(): number {
    return this.map.size;
  }

  /** Sum of the weights of what is held now (never more than maxWeight after a set). */
  get weight(): number {
    return this.weightSum;
  }

  /** Whether `key` is held, without counting as a use. */
  has(key: K): boolean {
    return this.map.has(key);
  }

  get(key: K): V | undefined {
    const s = this.map.get(key);
    if (s === undefined) return undefined;
    s.referenced = true;
    return s.value;
  }

  set(key: K, value: V): void {
    const old = this.map.get(key);
    if (old !== undefined) {
      this.weightSum -= old.weight;
      this.map.delete(key);
    }
    const weight = this.weigh(value);
    // Something heavier than the whole budget is not worth caching: it would evict everything else.
    if (weight > this.maxWeight) return;
    this.map.set(key, { value, weight, referenced: false });
    this.weightSum += weight;
    // Each pass either evicts or clears one flag, so this ends within 2 * size steps.
    let budget = 2 * this.map.size + 2;
    while ((this.map.size > this.maxEntries || this.weightSum > this.maxWeight) && budget-- > 0) {
      const first = this.map.entries().next();
      if (first.done) break;
      const [k, s] = first.value;
      this.map.delete(k);
      if (s.referenced && k !== key) {
        s.referenced = false;
        this.map.set(k, s);
      } else {
        this.weightSum -= s.weight;
      }
    }
  }

  clear(): void {
    this.map.clear();
    this.weightSum = 0;
  }
}
