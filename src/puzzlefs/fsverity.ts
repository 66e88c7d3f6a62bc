// fs-verity file digests computed in user space (SHA-256, 4096-byte Merkle tree blocks, no salt), as the
// kernel's FS_IOC_MEASURE_VERITY reports them: PuzzleFS records one per blob in Rootfs.fsVerityData and the
// rootfs's own in a manifest annotation. `--verity` checks them on the bytes we read, so it works on any
// filesystem (the reference needs fs-verity enabled on every blob file).

import { createHash } from 'node:crypto';

const BLOCK = 4096;
const HASH = 32;
const ZERO_BLOCK = new Uint8Array(BLOCK);

function sha256(b: Uint8Array): Buffer {
  return createHash('sha256').update(b).digest();
}

/** Hashes of `data` cut into zero-padded blocks. */
function hashBlocks(data: Uint8Array): Buffer[] {
  const out: Buffer[] = [];
  for (let off = 0; off < data.length; off += BLOCK) {
    const n = Math.min(BLOCK, data.length - off);
    if (n === BLOCK) out.push(sha256(data.subarray(off, off + BLOCK)));
    else out.push(createHash('sha256').update(data.subarray(off, off + n)).update(ZERO_BLOCK.subarray(n)).digest());
  }
  return out;
}

export function fsverityDigest(data: Uint8Array): Buffer {
  let level = data.length === 0 ? [Buffer.alloc(HASH)] : hashBlocks(data);
  while (level.length > 1) level = hashBlocks(Buffer.concat(level));
  const desc = Buffer.alloc(256);
  desc[0] = 1; // version
  desc[1] = 1; // FS_VERITY_HASH_ALG_SHA256
  desc[2] = 12; // log2(block size)
  desc.writeUInt32LE(data.length % 0x1_0000_0000, 8);
  desc.writeUInt32LE(Math.floor(data.length / 0x1_0000_0000), 12);
  level[0]!.copy(desc, 16);
  return sha256(desc);
}
