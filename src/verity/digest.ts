// The fs-verity file digest (SHA-256 by default, or SHA-512; 4096-byte Merkle tree blocks, no salt) computed in
// user space, equal to what the kernel's FS_IOC_MEASURE_VERITY reports and `fsverity digest` prints. One
// implementation for every user: composefs names objects by it (XX/REST) and records it in
// trusted.overlay.metacopy (and checks objects against it, src/erofs/verity-check.ts); PuzzleFS records one per
// blob. Streaming: memory is one block per tree level, whatever the size.
//
// The tree: hashes of the data blocks (the last one zero-padded), then hashes of blocks of 128 (SHA-512: 64)
// such hashes, up to a single hash: the root (a file of one block has the data block's hash as its root). The
// digest is the hash of the 256-byte fsverity_descriptor holding the root and the size.

import { createRequire } from 'node:module';

type Crypto = typeof import('node:crypto');
type OneShot = (alg: string, data: Uint8Array, enc: 'buffer') => Buffer;

/**
 * node:crypto, required on the first hash: the EROFS reader imports this module in every worker, and most
 * mounts never hash (node:crypto costs 3-10 ms of start-up a thread here).
 */
let crypto: Crypto | undefined;
/**
 * One-shot crypto.hash (Node 20.12+) where there is one: a 4 KiB block hashed without a Hash object each time,
 * 10-30% faster on a 64 MiB object here (A/B of the two in one process; a loaded machine, so a rough figure);
 * createHash otherwise.
 */
let oneShot: OneShot | undefined;

function loadCrypto(): Crypto {
  if (!crypto) {
    crypto = createRequire(import.meta.url)('node:crypto') as Crypto;
    oneShot = (crypto as { hash?: OneShot }).hash;
  }
  return crypto;
}

const BLOCK = 4096;

/** FS_VERITY_HASH_ALG_*: the number the descriptor (and trusted.overlay.metacopy) records, and the hash size. */
export const VERITY_HASH_ALGORITHMS = {
  sha256: { id: 1, size: 32 },
  sha512: { id: 2, size: 64 },
} as const;
export type VerityHashName = keyof typeof VERITY_HASH_ALGORITHMS;

/** The hash name of an FS_VERITY_HASH_ALG_* number, or undefined for one this module does not compute. */
export function verityHashName(id: number): VerityHashName | undefined {
  return id === 1 ? 'sha256' : id === 2 ? 'sha512' : undefined;
}

class Level {
  readonly buf = Buffer.alloc(BLOCK);
  fill = 0;
  received = 0;
}

export class VerityHasher {
  private readonly data = Buffer.alloc(BLOCK);
  private dataFill = 0;
  private size = 0;
  private readonly levels: Level[] = [];
  private readonly hashSize: number;
  private readonly algorithmId: number;

  constructor(private readonly algorithm: VerityHashName = 'sha256') {
    this.hashSize = VERITY_HASH_ALGORITHMS[algorithm].size;
    this.algorithmId = VERITY_HASH_ALGORITHMS[algorithm].id;
  }

  private hash(b: Uint8Array): Buffer {
    const c = crypto ?? loadCrypto();
    return oneShot ? oneShot(this.algorithm, b, 'buffer') : c.createHash(this.algorithm).update(b).digest();
  }

  /** Bytes hashed so far. */
  get length(): number {
    return this.size;
  }

  private push(level: number, hash: Uint8Array): void {
    let l = this.levels[level];
    if (!l) l = this.levels[level] = new Level();
    l.buf.set(hash, l.fill);
    l.fill += this.hashSize;
    l.received++;
    if (l.fill === BLOCK) {
      const h = this.hash(l.buf);
      l.buf.fill(0);
      l.fill = 0;
      this.push(level + 1, h);
    }
  }

  update(chunk: Uint8Array): this {
    this.size += chunk.length;
    let off = 0;
    if (this.dataFill > 0) {
      const n = Math.min(BLOCK - this.dataFill, chunk.length);
      this.data.set(chunk.subarray(0, n), this.dataFill);
      this.dataFill += n;
      off = n;
      if (this.dataFill < BLOCK) return this;
      this.push(0, this.hash(this.data));
      this.dataFill = 0;
    }
    for (; off + BLOCK <= chunk.length; off += BLOCK) this.push(0, this.hash(chunk.subarray(off, off + BLOCK)));
    if (off < chunk.length) {
      this.data.fill(0);
      this.data.set(chunk.subarray(off), 0);
      this.dataFill = chunk.length - off;
    }
    return this;
  }

  /** The digest, 32 bytes (SHA-512: 64); the hasher is spent afterwards. */
  digest(): Buffer {
    const root = Buffer.alloc(this.hashSize);
    if (this.size > 0) {
      if (this.dataFill > 0) {
        this.data.fill(0, this.dataFill);
        this.push(0, this.hash(this.data));
        this.dataFill = 0;
      }
      for (let i = 0; ; i++) {
        const l = this.levels[i]!;
        if (l.received === 1 && this.levels[i + 1] === undefined) {
          l.buf.copy(root, 0, 0, this.hashSize);
          break;
        }
        if (l.fill > 0) {
          const h = this.hash(l.buf);
          l.fill = 0;
          this.push(i + 1, h);
        }
      }
    }
    const desc = Buffer.alloc(256);
    desc[0] = 1; // version
    desc[1] = this.algorithmId; // FS_VERITY_HASH_ALG_*
    desc[2] = 12; // log2 of the block size
    desc.writeUInt32LE(this.size % 0x1_0000_0000, 8);
    desc.writeUInt32LE(Math.floor(this.size / 0x1_0000_0000), 12);
    root.copy(desc, 16);
    return this.hash(desc);
  }
}

/** The digest of bytes already in memory. */
export function fsverityDigest(data: Uint8Array): Buffer {
  return new VerityHasher().update(data).digest();
}

/** Hex "XX/REST" path of a digest in a composefs object store. */
export function digestObjectPath(digest: Uint8Array): string {
  const hex = Buffer.from(digest).toString('hex');
  return `${hex.slice(0, 2)}/${hex.slice(2)}`;
}
