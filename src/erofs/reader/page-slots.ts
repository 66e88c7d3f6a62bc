// Metadata pages (inodes, zmap indexes, xattrs, inline tails), kept in fixed-size slots of one buffer
// allocated once per reader, with second-chance (CLOCK) eviction over the slots. One ArrayBuffer instead of
// one per page: no malloc per miss, and nothing waits for V8 to collect a wrapper before its memory is free
// (bench/results/findings.md, "Memory"). A page's bytes are a view into its slot, so they hold only until
// the next page is loaded: the reader's callers decode what they read before reading more (context.ts).

export class PageSlots {
  readonly bytes: Uint8Array;
  readonly slotSize: number;
  readonly slots: number;
  /** page index -> slot */
  private readonly index = new Map<number, number>();
  /** slot -> page index held (-1: free) */
  private readonly pageOf: Float64Array;
  private readonly lenOf: Int32Array;
  private readonly referenced: Uint8Array;
  private hand = 0;
  private used = 0;

  constructor(slotSize: number, slots: number) {
    this.slotSize = slotSize;
    this.slots = Math.max(1, Math.floor(slots));
    // Zero-filled (calloc: slots never used cost no memory). A plain Uint8Array, as every page was before:
    // the decoders then see one kind of array.
    this.bytes = new Uint8Array(this.slotSize * this.slots);
    this.pageOf = new Float64Array(this.slots).fill(-1);
    this.lenOf = new Int32Array(this.slots);
    this.referenced = new Uint8Array(this.slots);
  }

  /** Bytes of the pages held now. */
  get weight(): number {
    return this.used * this.slotSize;
  }

  /** Whether page `page` is held, without counting as a use. */
  holds(page: number): boolean {
    return this.index.has(page);
  }

  /** The slot holding page `page`, or -1. */
  lookup(page: number): number {
    const s = this.index.get(page);
    if (s === undefined) return -1;
    this.referenced[s] = 1;
    return s;
  }

  /** Length of the page in slot s (the image's last page may be short). */
  length(s: number): number {
    return this.lenOf[s]!;
  }

  /**
   * A slot for page `page` (not yet indexed: fill it, then publish it). The slot chosen is one not referenced
   * since the hand last passed it; the page it held is forgotten first.
   */
  claim(): number {
    for (let steps = 0; ; steps++) {
      const s = this.hand;
      this.hand = (s + 1) % this.slots;
      // After one full turn every flag is clear, so this ends within 2 * slots steps.
      if (this.referenced[s] && steps < this.slots) {
        this.referenced[s] = 0;
        continue;
      }
      const old = this.pageOf[s]!;
      if (old >= 0) {
        this.index.delete(old);
        this.used--;
      }
      this.pageOf[s] = -1;
      this.referenced[s] = 0;
      return s;
    }
  }

  /** Makes slot s (filled with `len` bytes of page `page`) findable. */
  publish(s: number, page: number, len: number): void {
    this.pageOf[s] = page;
    this.lenOf[s] = len;
    this.index.set(page, s);
    this.used++;
  }

  /** The view of slot s's page. */
  view(s: number): Uint8Array {
    const at = s * this.slotSize;
    return this.bytes.subarray(at, at + this.lenOf[s]!);
  }

  clear(): void {
    this.index.clear();
    this.pageOf.fill(-1);
    this.referenced.fill(0);
    this.used = 0;
  }
}
