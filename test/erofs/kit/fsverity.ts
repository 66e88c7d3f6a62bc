// fs-verity file digests (SHA-256, 4096-byte Merkle tree blocks, no salt), as composefs uses them to name
// objects (objects/XX/REST where XXREST is the hex digest) and in trusted.overlay.metacopy.

import { createHash } from 'node:crypto';
import * as fs from 'node:fs';

const BLOCK = 4096;
const HASH = 32;

function sha256(b: Uint8Array): Buffer {
  return createHash('sha256').update(b).digest();
}

/** The Merkle tree root of `data` (all zeros for empty data). */
function merkleRoot(data: Buffer): Buffer {
  if (data.length === 0) return Buffer.alloc(HASH);
  let level: Buffer[] = [];
  const block = Buffer.alloc(BLOCK);
  for (let off = 0; off < data.length; off += BLOCK) {
    const n = Math.min(BLOCK, data.length - off);
    if (n === BLOCK) level.push(sha256(data.subarray(off, off + BLOCK)));
    else {
      block.fill(0);
      data.copy(block, 0, off, off + n);
      level.push(sha256(block));
    }
  }
  while (level.length > 1) {
    const per = BLOCK / HASH;
    const next: Buffer[] = [];
    for (let i = 0; i < level.length; i += per) {
      block.fill(0);
      for (let k = 0; k < per && i + k < level.length; k++) level[i + k]!.copy(block, k * HASH);
      next.push(sha256(block));
    }
    level = next;
  }
  return level[0]!;
}

/** The fs-verity digest (32 bytes) of `data`. */
export function fsverityDigest(data: Buffer): Buffer {
  const desc = Buffer.alloc(256);
  desc[0] = 1; // version
  desc[1] = 1; // FS_VERITY_HASH_ALG_SHA256
  desc[2] = 12; // log2(block size)
  desc[3] = 0; // salt size
  desc.writeBigUInt64LE(BigInt(data.length), 8);
  merkleRoot(data).copy(desc, 16);
  return sha256(desc);
}

export function fsverityDigestFile(file: string | Buffer): Buffer {
  return fsverityDigest(fs.readFileSync(file));
}

/** "XX/REST" object path of a digest, as composefs lays out its object store. */
export function objectPath(digest: Buffer): string {
  const hex = digest.toString('hex');
  return `${hex.slice(0, 2)}/${hex.slice(2)}`;
}
