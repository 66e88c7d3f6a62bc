// Throughput of the software fs-verity digest a composefs object gets when it has no fs-verity of its own
// (src/erofs/verity-check.ts: 1 MiB preads into VerityHasher), against the C tool on the same file:
//
//   node dist/bench/micro/verity-digest.js [--mib 64] [--dir /var/tmp]
//
// Input: a file of --mib MiB of random bytes under --dir, read from the page cache (written just before), so
// this measures hashing, not the disk. Each round checks the file through a fresh ObjectVerifier (nothing
// remembered), as the first open of an object does. Baselines: `fsverity digest` (libfsverity, C) and one
// plain SHA-256 over the file (node:crypto: the data hashing every Merkle tree needs, 1/128 more on top).
// Prints MB/s (best of 3).

import { spawnSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { ObjectVerifier } from '../../src/erofs/verity-check.js';
import { VerityHasher } from '../../src/verity/digest.js';

function arg(name: string, dflt: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? process.argv[i + 1]! : dflt;
}

const size = Number(arg('mib', '64')) << 20;
const dir = fs.mkdtempSync(path.join(arg('dir', '/var/tmp'), 'tsfuse-verity-bench-'));
const file = path.join(dir, 'object');

function best(label: string, fn: () => void): void {
  let ms = Infinity;
  for (let r = 0; r < 3; r++) {
    const t0 = performance.now();
    fn();
    ms = Math.min(ms, performance.now() - t0);
  }
  console.log(`${label.padEnd(52)} ${(size / 1e6 / (ms / 1e3)).toFixed(1).padStart(8)} MB/s`);
}

try {
  const out = fs.openSync(file, 'w');
  for (let done = 0; done < size; done += 1 << 20) fs.writeSync(out, randomBytes(Math.min(1 << 20, size - done)));
  fs.closeSync(out);
  const digest = new VerityHasher().update(fs.readFileSync(file)).digest();
  console.log(`input: ${size >> 20} MiB of random bytes in ${file} (page cache)`);
  const fd = fs.openSync(file, 'r');
  try {
    best('tsfuse ObjectVerifier (software, SHA-256, 4 KiB)', () => {
      new ObjectVerifier('check').check({ fd }, { path: '/xx/object', digest, digestAlg: 1 });
    });
    best('node:crypto sha256 of the file (1 MiB preads)', () => {
      const h = createHash('sha256');
      const buf = Buffer.allocUnsafe(1 << 20);
      for (let pos = 0, n; (n = fs.readSync(fd, buf, 0, buf.length, pos)) > 0; pos += n) h.update(buf.subarray(0, n));
      h.digest();
    });
  } finally {
    fs.closeSync(fd);
  }
  best('fsverity digest (libfsverity, C; process start included)', () => {
    const r = spawnSync('fsverity', ['digest', file], { encoding: 'utf8' });
    if (r.status !== 0 || !r.stdout.startsWith(`sha256:${digest.toString('hex')}`)) throw new Error(`fsverity digest: ${r.stderr || r.stdout}`);
  });
} finally {
  fs.rmSync(dir, { recursive: true, force: true });
}
