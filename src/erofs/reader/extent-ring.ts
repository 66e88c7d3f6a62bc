// Decoded compressed extents, kept in one buffer allocated once per reader and used as a ring: a new extent
// goes after the newest one and overwrites the oldest (FIFO). What this cache is for is a READ that ends
// inside an extent (the next READ wants the rest): a short-lived, sequential use, which FIFO serves as well
// as any LRU. One ArrayBuffer instead of one per entry means no malloc per decode and nothing that waits
// for V8 to collect a wrapper before its memory is free again (bench/results/findings.md, "Memory").
//
// An extent is claimed (claim), decoded into place, then published (commit): a decode that fails leaves
// its space claimed by nobody, and a claim whose space was taken again before its commit is not published,
// so a lookup can never see a slot holding bytes of some other extent.

/** Most extents the ring indexes at once, whatever their sizes (bounds the index arrays). */
const MAX_RECORDS = 4096;

/** A cache key: a number while nid and offset fit together exactly, else a string. */
export type ExtentKey = number | string;

export function extentKey(nid: number, la: number): ExtentKey {
  return nid < 2 ** 20 && la < 2 ** 32 ? nid * 2 ** 32 + la : `${nid}:${la}`;
}

export class ExtentRing {
  /** The ring; extents live at the offsets lookup() returns. */
  readonly bytes: Uint8Array;
  /** Live records, oldest first: record `seq` is at index seq % MAX_RECORDS. */
  private readonly offs = new Int32Array(MAX_RECORDS);
  private readonly lens = new Int32Array(MAX_RECORDS);
  private readonly keys: (ExtentKey | undefined)[] = new Array<ExtentKey | undefined>(MAX_RECORDS).fill(undefined);
  /** key -> seq of the record that holds it. */
  private readonly index = new Map<ExtentKey, number>();
  private oldest = 0;
  private next = 0;
  /** Where the next extent goes (the end of the newest). */
  private writeAt = 0;
  private held = 0;

  constructor(capacity: number) {
    // Zero-filled (calloc: pages the ring never reaches cost no memory), so nothing here predates the reader;
    // a plain Uint8Array, the kind the LZ4 decoders are written for.
    this.bytes = new Uint8Array(Math.max(0, Math.floor(capacity)));
  }

  get capacity(): number {
    return this.bytes.length;
  }

  /** Bytes of the extents published and not yet overwritten. */
  get weight(): number {
    return this.held;
  }

  /** Offset in `bytes` of the extent cached under key with this length, or -1. */
  lookup(key: ExtentKey, len: number): number {
    const seq = this.index.get(key);
    if (seq === undefined) return -1;
    const i = seq % MAX_RECORDS;
    return this.lens[i] === len ? this.offs[i]! : -1;
  }

  /**
   * Claims `len` bytes for an extent, evicting the oldest extents in the way; returns the claim (its bytes
   * are at offsetOf(claim)), or -1 when the extent is larger than the ring. Not visible to lookup() until
   * commit().
   */
  claim(len: number): number {
    if (len > this.bytes.length || len <= 0) return -1;
    if (this.next - this.oldest === MAX_RECORDS) this.evictOldest();
    for (;;) {
      if (this.next === this.oldest) {
        this.writeAt = 0;
        break;
      }
      const front = this.offs[this.oldest % MAX_RECORDS]!;
      if (front >= this.writeAt) {
        // The oldest lies ahead: [writeAt, front) is free.
        if (this.writeAt + len <= front) break;
        this.evictOldest();
      } else if (this.writeAt + len <= this.bytes.length) {
        // Everything held lies behind: the rest of the buffer is free.
        break;
      } else {
        // Wrap: the newest extents are at the end, the next one starts over at 0 (the tail stays unused).
        this.writeAt = 0;
      }
    }
    const seq = this.next++;
    const i = seq % MAX_RECORDS;
    this.offs[i] = this.writeAt;
    this.lens[i] = len;
    this.keys[i] = undefined;
    this.writeAt += len;
    return seq;
  }

  /** Where the bytes of a live claim are. */
  offsetOf(claim: number): number {
    return this.offs[claim % MAX_RECORDS]!;
  }

  /** Publishes a claim (decoded completely) under key; a claim evicted meanwhile is dropped. */
  commit(key: ExtentKey, claim: number): void {
    if (claim < this.oldest || claim >= this.next) return;
    const seq = claim;
    const i = seq % MAX_RECORDS;
    if (this.keys[i] !== undefined) return; // published already
    const prev = this.index.get(key);
    if (prev !== undefined) this.unpublish(prev);
    this.keys[i] = key;
    this.index.set(key, seq);
    this.held += this.lens[i]!;
  }

  clear(): void {
    this.index.clear();
    this.keys.fill(undefined);
    this.oldest = this.next = this.writeAt = this.held = 0;
  }

  private evictOldest(): void {
    this.unpublish(this.oldest);
    this.oldest++;
  }

  private unpublish(seq: number): void {
    const i = seq % MAX_RECORDS;
    const key = this.keys[i];
    if (key === undefined) return;
    this.keys[i] = undefined;
    if (this.index.get(key) === seq) this.index.delete(key);
    this.held -= this.lens[i]!;
  }
}
