// A small LRU map bounded by entry count and by a caller-defined weight (bytes). Map iteration order is
// insertion order, so "touch" = delete + set, and the oldest entry is the first key.

export class LruCache<K, V> {
  private readonly map = new Map<K, V>();
  private weightSum = 0;

  constructor(
    private readonly maxEntries: number,
    private readonly maxWeight = Infinity,
    private readonly weigh: (v: V) => number = () => 0,
  ) {}

  get size(): number {
    return this.map.size;
  }

  get(key: K): V | undefined {
    const v = this.map.get(key);
    if (v !== undefined) {
      this.map.delete(key);
      this.map.set(key, v);
    }
    return v;
  }

  set(key: K, value: V): void {
    const old = this.map.get(key);
    if (old !== undefined) {
      this.weightSum -= this.weigh(old);
      this.map.delete(key);
    }
    const w = this.weigh(value);
    // Something heavier than the whole budget is not worth caching: it would evict everything else.
    if (w > this.maxWeight) return;
    this.map.set(key, value);
    this.weightSum += w;
    while (this.map.size > this.maxEntries || this.weightSum > this.maxWeight) {
      const first = this.map.keys().next();
      if (first.done) break;
      const v = this.map.get(first.value)!;
      this.weightSum -= this.weigh(v);
      this.map.delete(first.value);
    }
  }

  clear(): void {
    this.map.clear();
    this.weightSum = 0;
  }
}
