// Damaged images never crash the reader or the filesystem, never hang, never read outside the image: every
// error is a CorruptImageError or another Errno. Cases run in a worker that is killed if one case stalls.

import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { Worker } from 'node:worker_threads';
import { fileURLToPath } from 'node:url';
import { ErofsReader } from '../../../src/erofs/reader/reader.js';
import { BufferByteSource } from '../../../src/erofs/buffer-byte-source.js';
import { CorruptImageError } from '../../../src/erofs/reader/errors.js';
import { FIXTURES } from './tree.js';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { buildImage, type BNode } from './builder.js';
import { tempDir } from './mkfs.js';

const CASE_TIMEOUT_MS = 20_000; // a watchdog for hangs, far above the slowest honest case
const SLOW_CASE_MS = 3_000;

interface Result {
  cases: number;
  failures: string[];
  slow: string[];
  maxMs: number;
}

function runWorker(fixtures: string[], seed: number, flipsPerImage: number, truncationsPerImage: number, dir = FIXTURES): Promise<Result> {
  return new Promise((resolve, reject) => {
    const w = new Worker(fileURLToPath(new URL('./fuzz-worker.js', import.meta.url)), {
      workerData: { fixtures, dir, seed, flipsPerImage, truncationsPerImage },
    });
    const res: Result = { cases: 0, failures: [], slow: [], maxMs: 0 };
    let current = '';
    let timer: NodeJS.Timeout | undefined;
    const arm = () => {
      if (timer) clearTimeout(timer);
      timer = setTimeout(() => {
        void w.terminate();
        reject(new Error(`case did not finish within ${CASE_TIMEOUT_MS} ms (a loop?): ${current}`));
      }, CASE_TIMEOUT_MS);
    };
    arm();
    w.on('message', (m: { type: string; id: string; ms: number; failures: string[] }) => {
      if (m.type === 'start') {
        current = m.id;
        arm();
      } else if (m.type === 'done') {
        res.cases++;
        res.maxMs = Math.max(res.maxMs, m.ms);
        if (m.ms > SLOW_CASE_MS) res.slow.push(`${m.id}: ${m.ms.toFixed(0)} ms`);
        for (const f of m.failures) res.failures.push(`${m.id}: ${f}`);
      } else if (m.type === 'end') {
        clearTimeout(timer);
        resolve(res);
      }
    });
    w.on('error', (e) => {
      clearTimeout(timer);
      reject(e);
    });
  });
}

test('a damaged superblock is a CorruptImageError with a reason', () => {
  const img = new Uint8Array(8192);
  assert.throws(() => new ErofsReader(new BufferByteSource(img)), (e: unknown) => e instanceof CorruptImageError && /magic/.test(e.reason));
  assert.throws(() => new ErofsReader(new BufferByteSource(new Uint8Array(100))), (e: unknown) => e instanceof CorruptImageError && /too small/.test(e.reason));
});

const GROUPS: Array<{ fixtures: string[]; seed: number }> = [
  { fixtures: ['plain.erofs', 'b1024.erofs', 'xattr-prefix.erofs'], seed: 1 },
  { fixtures: ['lz4-ztailpacking-fragments.erofs', 'lz4hc.erofs', 'deflate.erofs'], seed: 2 },
  { fixtures: ['metazip.erofs', '48bit.erofs', 'chunk-indexes.erofs'], seed: 3 },
  { fixtures: ['composefs/image.cfs', 'zstd.erofs', 'lzma.erofs'], seed: 4 },
  { fixtures: ['lzma-C128k-ztailpacking-fragments.erofs', 'zstd-C1m-fragments-dedupe.erofs', 'deflate-ztailpacking.erofs'], seed: 6 },
];

for (const g of GROUPS) {
  test(`damaged ${g.fixtures.join(', ')}: only Errno errors, bounded time`, async () => {
    const flipsN = Number(process.env.TSFUSE_FUZZ_FLIPS ?? 150);
    const seed = g.seed + 100 * Number(process.env.TSFUSE_FUZZ_SEED ?? 0);
    const res = await runWorker(g.fixtures, seed, flipsN, 30);
    console.log(`    ${res.cases} damaged images, slowest ${res.maxMs.toFixed(0)} ms`);
    assert.ok(res.cases >= g.fixtures.length * 30);
    assert.equal(res.failures, [], res.failures.slice(0, 5).join('\n\n'));
    assert.equal(res.slow, [], res.slow.join('\n'));
  });
}

test('damaged builder images (512/2048-byte blocks, compact, no "."): only Errno errors, bounded time', async () => {
  const dir = tempDir('fuzz');
  try {
    const variants = [
      { blkszbits: 9, compact: true, dotOmitted: true },
      { blkszbits: 11, checksum: true },
    ];
    const names = variants.map((v, i) => {
      const name = `built-${i}.erofs`;
      fs.writeFileSync(path.join(dir, name), buildImage(fuzzTree(), v));
      return name;
    });
    const res = await runWorker(names, 5 + 100 * Number(process.env.TSFUSE_FUZZ_SEED ?? 0), Number(process.env.TSFUSE_FUZZ_FLIPS ?? 150), 30, dir);
    console.log(`    ${res.cases} damaged images, slowest ${res.maxMs.toFixed(0)} ms`);
    assert.equal(res.failures, [], res.failures.slice(0, 5).join('\n\n'));
    assert.equal(res.slow, [], res.slow.join('\n'));
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

function fuzzTree(): BNode {
  const kids: BNode[] = [];
  for (let i = 0; i < 60; i++) kids.push({ name: `file-${i}`, type: 'file', mode: 0o644, data: new Uint8Array(i * 37).fill(i), xattrs: i % 5 ? [] : [[1, `a${i}`, 'v']] });
  return {
    name: '', type: 'dir', mode: 0o755,
    children: [
      { name: 'd', type: 'dir', mode: 0o755, children: kids },
      { name: 'l', type: 'link', mode: 0o777, target: 'd/file-1' },
      { name: 'big', type: 'file', mode: 0o644, data: new Uint8Array(9000).fill(7) },
    ],
  };
}

test.run();
