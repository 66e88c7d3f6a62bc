// A ByteSource over a remote object: reads are served from a small in-memory block set and the persistent block
// cache; a read that needs a block that is in neither throws BytesPending with the fetch under way, so the image
// reader stays synchronous and the operation is run again once the bytes are local (src/remote/await-bytes.ts).
// Sequential misses grow a read-ahead window (doubling up to `maxReadAheadBlocks`), which is what `tar` and
// `cat` of a large file need; scattered metadata reads fetch single blocks.

import { BytesPending, type ByteSource } from '../erofs/bytesource.js';
import type { BlockCache } from './block-cache.js';
import { keyHash, type SharedInflight } from './shared-inflight.js';
import type { RemoteStats } from './stats.js';

/** The remote side: a pinned object read by ranges (HttpObject, or any equivalent). */
export interface RangeReader {
  readonly size: number;
  getRange(offset: number, length: number): Promise<Uint8Array>;
}

export interface RemoteByteSourceOptions {
  /** Names the object's blocks in the cache: a digest, or a hash of URL + ETag + size. */
  key: string;
  cache?: BlockCache;
  /** Fetch and cache unit (default 256 KiB). */
  blockSize?: number;
  /** Blocks kept in memory per source (default 32). */
  memoryBlocks?: number;
  /** Largest read-ahead window in blocks (default 16: 4 MiB). */
  maxReadAheadBlocks?: number;
  /** Checks a fetched range before it is used or cached (e.g. a whole-object digest); throws to refuse it. */
  verify?: (offset: number, bytes: Uint8Array) => void;
  /** Where a failed fetch is reported (once per distinct reason); the read that needed it answers EIO. */
  log?: (message: string) => void;
  /** Shared counters (all workers of a mount add to the same ones). */
  stats?: RemoteStats;
  /** Log every fetch (range, size, time). */
  debug?: boolean;
  /** Claims shared by the mount's workers, so one fetches what several miss (only with a cache they share). */
  shared?: SharedInflight;
}

export class RemoteByteSource implements ByteSource {
  readonly size: number;
  readonly key: string;
  readonly blockSize: number;
  private readonly stats: RemoteStats | undefined;
  private readonly debug: boolean;
  private readonly remote: RangeReader;
  private readonly cache: BlockCache | undefined;
  private readonly memoryBlocks: number;
  private readonly maxReadAhead: number;
  private readonly verify: RemoteByteSourceOptions['verify'];
  private readonly log: ((message: string) => void) | undefined;
  private readonly logged = new Set<string>();
  /** Recently used blocks, oldest first. */
  private readonly memory = new Map<number, Uint8Array>();
  /** Blocks being fetched: every reader that misses one waits for the same fetch. */
  private readonly inflight = new Map<number, Promise<void>>();
  /** Where the last miss ended and how far ahead the next sequential miss may fetch. */
  private nextSequential = -1;
  private window = 1;
  private readonly shared: SharedInflight | undefined;
  private readonly sharedKey: number;

  constructor(remote: RangeReader, options: RemoteByteSourceOptions) {
    this.remote = remote;
    this.size = remote.size;
    this.key = options.key;
    this.cache = options.cache;
    this.blockSize = options.blockSize ?? 256 * 1024;
    this.memoryBlocks = Math.max(2, options.memoryBlocks ?? 32);
    this.maxReadAhead = Math.max(1, options.maxReadAheadBlocks ?? 16);
    this.verify = options.verify;
    this.log = options.log;
    this.stats = options.stats;
    this.debug = options.debug ?? false;
    // Another worker's fetch reaches this one only through the disk cache.
    this.shared = this.cache ? options.shared : undefined;
    this.sharedKey = keyHash(`${this.key}/${this.blockSize}`);
  }

  private blockLength(index: number): number {
    return Math.min(this.blockSize, this.size - index * this.blockSize);
  }

  /** The block if it is local (memory, then disk), else undefined. */
  private local(index: number): Uint8Array | undefined {
    const m = this.memory.get(index);
    if (m) {
      this.stats?.add('memoryHits');
      return m;
    }
    const d = this.cache?.get(this.key, this.blockSize, index);
    if (d && d.length === this.blockLength(index)) {
      this.stats?.add('diskHits');
      this.keep(index, d);
      return d;
    }
    return undefined;
  }

  private keep(index: number, bytes: Uint8Array): void {
    this.memory.delete(index);
    this.memory.set(index, bytes);
    if (this.memory.size > this.memoryBlocks) this.memory.delete(this.memory.keys().next().value!);
  }

  readInto(dst: Uint8Array, dstOffset: number, offset: number, length: number, aheadEnd?: number): void {
    if (!(offset >= 0 && length >= 0 && offset + length <= this.size && dstOffset >= 0 && dstOffset + length <= dst.length)) {
      throw new RangeError(`RemoteByteSource: read [${offset}, +${length}) outside [0, ${this.size}) or buffer`);
    }
    if (length === 0) return;
    const bs = this.blockSize;
    const first = Math.floor(offset / bs);
    const last = Math.floor((offset + length - 1) / bs);
    let missing = -1;
    for (let b = first; b <= last; b++) {
      if (!this.local(b)) {
        missing = b;
        break;
      }
    }
    if (missing >= 0) {
      this.stats?.add('pendingReads');
      throw new BytesPending(this.fetchFrom(missing, last, aheadEnd));
    }
    // Every block is local now (and in memory: local() keeps what it found).
    let done = 0;
    for (let b = first; b <= last; b++) {
      const block = this.memory.get(b)!;
      const from = b === first ? offset - b * bs : 0;
      const n = Math.min(block.length - from, length - done);
      dst.set(block.subarray(from, from + n), dstOffset + done);
      done += n;
    }
  }

  /**
   * Fetches blocks [first, last] that are not local, plus read-ahead when the misses are sequential; read-ahead
   * stops at the block holding byte aheadEnd - 1 (the end of the extent being read), if given.
   */
  private fetchFrom(first: number, last: number, aheadEnd?: number): Promise<void> {
    const blocks = Math.ceil(this.size / this.blockSize);
    if (first === this.nextSequential) this.window = Math.min(this.window * 2, this.maxReadAhead);
    else this.window = 1;
    const limit = aheadEnd === undefined ? blocks - 1 : Math.min(blocks - 1, Math.floor((Math.max(1, aheadEnd) - 1) / this.blockSize));
    const end = Math.max(last, Math.min(limit, first + this.window - 1));
    this.nextSequential = end + 1;
    const waits: Promise<void>[] = [];
    let runStart = -1;
    const flush = (endExclusive: number): void => {
      if (runStart < 0) return;
      const p = this.fetchRun(runStart, endExclusive);
      for (let b = runStart; b < endExclusive; b++) this.inflight.set(b, p);
      waits.push(p);
      runStart = -1;
    };
    for (let b = first; b <= end; b++) {
      const busy = this.inflight.get(b);
      // Blocks before `first` were checked by the read; later ones may be local already (a second mount).
      const have = busy === undefined && b > first && (this.memory.has(b) || this.cache?.has(this.key, this.blockSize, b) === true);
      if (busy) {
        flush(b);
        waits.push(busy);
      } else if (have) {
        flush(b);
      } else if (this.shared && this.shared.claim(this.shared.tag(this.sharedKey, b)) === 'theirs') {
        // Another worker is fetching it: wait for that, then the read finds it in the cache (or, if that fetch
        // failed, misses again and fetches it itself).
        flush(b);
        if (b <= last) waits.push(this.shared.settled(this.shared.tag(this.sharedKey, b)));
      } else if (runStart < 0) {
        runStart = b;
      }
    }
    flush(end + 1);
    return Promise.all(waits).then(() => undefined);
  }

  /** One ranged GET for blocks [a, b), split into blocks, checked, cached. */
  private async fetchRun(a: number, b: number): Promise<void> {
    const bs = this.blockSize;
    const offset = a * bs;
    const length = Math.min(this.size, b * bs) - offset;
    const t0 = performance.now();
    try {
      const bytes = await this.remote.getRange(offset, length);
      this.verify?.(offset, bytes);
      this.stats?.add('fetches');
      this.stats?.add('fetchedKiB', Math.ceil(length / 1024));
      if (this.debug) this.log?.(`tsfuse remote: fetched bytes ${offset}-${offset + length - 1} (${Math.ceil(length / 1024)} KiB) in ${(performance.now() - t0).toFixed(1)} ms`);
      for (let i = a; i < b; i++) {
        const block = bytes.subarray((i - a) * bs, Math.min(bytes.length, (i - a + 1) * bs));
        this.cache?.put(this.key, bs, i, block);
        this.keep(i, block);
      }
    } catch (e) {
      this.stats?.add('errors');
      const reason = (e as Error).message;
      if (this.log && !this.logged.has(reason)) {
        if (this.logged.size < 1000) this.logged.add(reason);
        this.log(`tsfuse remote: bytes ${offset}-${offset + length - 1}: ${reason}`);
      }
      throw e;
    } finally {
      for (let i = a; i < b; i++) {
        this.inflight.delete(i);
        // Only after the blocks are in the cache: a worker woken by this reads them from there.
        this.shared?.release(this.shared.tag(this.sharedKey, i));
      }
    }
  }

  /** Fetches [offset, offset + length) ahead of use (start-up: superblock and root). */
  async prefetch(offset: number, length: number): Promise<void> {
    for (;;) {
      try {
        this.readInto(new Uint8Array(length), 0, offset, length);
        return;
      } catch (e) {
        if (!(e instanceof BytesPending)) throw e;
        await e.ready;
      }
    }
  }
}
