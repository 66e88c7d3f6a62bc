// fs-verity for composefs objects (--verity off|check|require): before a redirected file's object serves its
// first open, its fs-verity digest must equal the one the image records in trusted.overlay.metacopy, as the
// kernel's composefs mount (overlayfs verity=) insists. How the object's digest is found:
//  - a local object with fs-verity enabled: FS_IOC_MEASURE_VERITY (one ioctl per object open; the kernel then
//    checks every page read from the file against its Merkle tree, so later tampering cannot go unnoticed);
//  - any other local object: the Merkle tree computed here, streaming the file through one 1 MiB buffer, and
//    remembered (bounded) by the file's identity (device, inode, size, mtime, ctime): a file written after the
//    check has a new mtime/ctime and is hashed again at its next open. Reads between two opens are not checked;
//  - a remote object (src/remote/object-store.ts): the Merkle tree over the bytes fetched for it, computed by a
//    background job while the open waits on BytesPending, remembered by the object's pinned identity (URL, ETag,
//    size); later reads come from the same pinned object through the block cache, unchecked again.
// Modes: 'off' checks nothing; 'check' checks every object whose file carries a digest; 'require' also refuses
// (EIO) a file whose image entry carries none. A mismatch answers EIO. Each worker checks and remembers on its own.

import * as fs from 'node:fs';
import { BytesPending, type ByteSource } from './bytesource.js';
import type { Redirect } from './composefs.js';
import type { StoreObject } from './object-store.js';
import { LruCache } from './reader/lru.js';
import { measureVerity, type MeasuredVerity } from '../kernel/fsverity.js';
import { Errno, ERRNO } from '../protocol/errno.js';
import { VERITY_HASH_ALGORITHMS, VerityHasher, type VerityHashName, verityHashName } from '../verity/digest.js';

export type VerityMode = 'off' | 'check' | 'require';
export const VERITY_MODES: readonly VerityMode[] = ['off', 'check', 'require'];

/** Objects whose computed digest is remembered (per filesystem instance: per worker). */
const MAX_REMEMBERED = 4096;
/** Bytes read at a time while hashing. */
const CHUNK = 1 << 20;
/** Fetches awaited for one chunk of a remote object before its digest is given up. */
const MAX_WAITS_PER_CHUNK = 100;

/** A digest mismatch or an object that cannot be checked: EIO, with a message naming the object. */
export class VerityError extends Errno {
  constructor(message: string) {
    super(ERRNO.EIO, message);
  }
}

/** How objects were checked so far (this instance). */
export interface VerityCounters {
  /** Digests read with FS_IOC_MEASURE_VERITY. */
  measured: number;
  /** Digests computed by hashing the object. */
  computed: number;
  /** Checks answered from the remembered digests. */
  remembered: number;
  mismatches: number;
}

const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');

export class ObjectVerifier {
  readonly counters: VerityCounters = { measured: 0, computed: 0, remembered: 0, mismatches: 0 };
  private readonly memo = new LruCache<string, Buffer>(MAX_REMEMBERED);
  /** Remote digests being computed, by memo key. */
  private readonly jobs = new Map<string, Promise<void>>();
  /** Remote digests that could not be computed (fetch failed), reported once by the open that waited on them. */
  private readonly failures = new Map<string, string>();
  private buffer: Buffer | undefined;
  private noFfi = false;

  constructor(
    readonly mode: VerityMode,
    /** Debug lines (how each object was checked); undefined: none. */
    private readonly debug?: (message: string) => void,
  ) {}

  /**
   * Checks the object opened for `redirect`. Throws a VerityError (EIO) when it must not be served, BytesPending
   * while a remote object's digest is being computed (the open is run again once it is).
   */
  check(obj: StoreObject, redirect: Redirect): void {
    if (this.mode === 'off') return;
    const object = redirect.path;
    if (redirect.digestAlg === 0) {
      if (this.mode === 'require') throw new VerityError(`object ${object}: the image carries no fs-verity digest for it (--verity require)`);
      return;
    }
    const expected = redirect.digest ?? new Uint8Array(0);
    if (obj.fd !== undefined) {
      const measured = this.measure(obj.fd, object);
      if (measured) {
        this.counters.measured++;
        this.debug?.(`tsfuse erofs: verity: object ${object}: digest measured by the kernel (FS_IOC_MEASURE_VERITY)`);
        this.compare(object, redirect.digestAlg, expected, measured.algorithm, measured.digest, 'fs-verity');
        return;
      }
    }
    const name = verityHashName(redirect.digestAlg);
    if (!name) throw new VerityError(`object ${object}: fs-verity digest algorithm ${redirect.digestAlg} is unknown and the object has no fs-verity to measure`);
    if (expected.length !== VERITY_HASH_ALGORITHMS[name].size) {
      this.counters.mismatches++;
      throw new VerityError(`object ${object}: the image's ${name} fs-verity digest has ${expected.length} bytes`);
    }
    const actual = obj.fd !== undefined ? this.computeLocal(obj.fd, name, object) : this.computeRemote(obj.bytes, obj.identity ?? `${object}:${obj.bytes.size}`, name, object);
    this.compare(object, redirect.digestAlg, expected, redirect.digestAlg, actual, 'computed');
  }

  /**
   * FS_IOC_MEASURE_VERITY, or undefined when the object has no fs-verity. Without ffi (a thread whose libc was never
   * opened by the main thread) the object is hashed instead; a failing ioctl is an error (EIO).
   */
  private measure(fd: number, object: string): MeasuredVerity | undefined {
    if (this.noFfi) return undefined;
    try {
      return measureVerity(fd);
    } catch (e) {
      if (e instanceof Errno) throw new VerityError(`object ${object}: ${e.message}`);
      this.debug?.(`tsfuse erofs: verity: no ffi for FS_IOC_MEASURE_VERITY (${(e as Error)?.message}): objects are hashed`);
      this.noFfi = true;
      return undefined;
    }
  }

  private compare(object: string, wantAlg: number, want: Uint8Array, gotAlg: number, got: Uint8Array, how: string): void {
    if (wantAlg === gotAlg && Buffer.from(want).equals(got)) return;
    this.counters.mismatches++;
    throw new VerityError(`object ${object}: fs-verity digest mismatch (image: alg ${wantAlg} ${hex(want)}; object, ${how}: alg ${gotAlg} ${hex(got)})`);
  }

  private chunk(): Buffer {
    this.buffer ??= Buffer.allocUnsafe(CHUNK);
    return this.buffer;
  }

  private remembered(key: string): Buffer | undefined {
    const d = this.memo.get(key);
    if (d) this.counters.remembered++;
    return d;
  }

  /** The digest of a local file, hashed through one reused buffer (or remembered by the file's identity). */
  private computeLocal(fd: number, name: VerityHashName, object: string): Buffer {
    const st = fs.fstatSync(fd, { bigint: true });
    const key = `${name}:${st.dev}:${st.ino}:${st.size}:${st.mtimeNs}:${st.ctimeNs}`;
    const known = this.remembered(key);
    if (known) return known;
    const t0 = performance.now();
    const buf = this.chunk();
    const hasher = new VerityHasher(name);
    for (let pos = 0; ; ) {
      const n = fs.readSync(fd, buf, 0, CHUNK, pos);
      if (n <= 0) break;
      hasher.update(buf.subarray(0, n));
      pos += n;
    }
    const digest = hasher.digest();
    this.counters.computed++;
    this.debug?.(`tsfuse erofs: verity: object ${object}: digest computed (${hasher.length} bytes in ${(performance.now() - t0).toFixed(1)} ms)`);
    this.memo.set(key, digest);
    return digest;
  }

  /**
   * The digest of a remote object: remembered, or computed by a background job that reads the object through
   * its byte source (awaiting each fetch); the open waits for the job on BytesPending and finds the result here
   * when it is run again.
   */
  private computeRemote(bytes: ByteSource, identity: string, name: VerityHashName, object: string): Buffer {
    const key = `${name}:remote:${identity}`;
    const known = this.remembered(key);
    if (known) return known;
    const failed = this.failures.get(key);
    if (failed !== undefined) {
      this.failures.delete(key); // the next open tries again (the server may be back)
      throw new VerityError(`object ${object}: its fs-verity digest could not be computed: ${failed}`);
    }
    let job = this.jobs.get(key);
    if (!job) {
      job = this.hashRemote(bytes, name, object).then(
        (digest) => this.memo.set(key, digest),
        (e: unknown) => {
          if (this.failures.size < MAX_REMEMBERED) this.failures.set(key, (e as Error)?.message ?? String(e));
        },
      ).finally(() => this.jobs.delete(key));
      this.jobs.set(key, job);
    }
    throw new BytesPending(job);
  }

  private async hashRemote(bytes: ByteSource, name: VerityHashName, object: string): Promise<Buffer> {
    const t0 = performance.now();
    const buf = Buffer.allocUnsafe(CHUNK); // its own: several remote objects may be hashed at once
    const hasher = new VerityHasher(name);
    for (let pos = 0, waits = 0; pos < bytes.size; ) {
      const n = Math.min(CHUNK, bytes.size - pos);
      try {
        bytes.readInto(buf, 0, pos, n);
      } catch (e) {
        if (!(e instanceof BytesPending)) throw e;
        // each wait follows a completed fetch: only a source that never keeps its bytes gets this far
        if (++waits > MAX_WAITS_PER_CHUNK) throw new Error(`bytes ${pos}-${pos + n - 1} never became available`);
        await e.ready;
        continue;
      }
      hasher.update(buf.subarray(0, n));
      pos += n;
      waits = 0;
    }
    this.counters.computed++;
    this.debug?.(`tsfuse erofs: verity: object ${object}: digest computed over the fetched object (${bytes.size} bytes in ${(performance.now() - t0).toFixed(1)} ms)`);
    return hasher.digest();
  }
}
