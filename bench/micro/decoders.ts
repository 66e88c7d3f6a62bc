// Decoder throughput for EROFS's lzma and zstd pclusters, against the C tools on the same bytes:
//
//   node dist/bench/micro/decoders.js [--mib 64] [--chunk 131072]
//
// Input: the first --mib MiB of regular files under /usr (text and binaries mixed, in `find` order). Each
// codec's data is cut into --chunk-sized pieces (EROFS's -C pcluster size) compressed one by one, as an
// image holds them; the decoders run over every piece. The C tools decode one stream of the whole input
// (`xz -d` of --format=raw --lzma1, `zstd -d`): the per-piece cost they are spared is small at 128 KiB.
// Prints MB/s of decoded output (best of 3). fzstd (pure JS) is measured when it is installed
// (`npm install --no-save fzstd`): on 64 MiB of /usr it decoded about 12x slower than libzstd-wasm, so
// src/compress/zstd.ts keeps libzstd-wasm for decoding.

import { execFileSync, spawnSync } from 'node:child_process';
import { createRequire } from 'node:module';
import { readFileSync } from 'node:fs';
import { microLzmaDecompress } from '../../src/compress/lzma.js';
import { zstdDecompress, zstdReady } from '../../src/compress/zstd.js';

function arg(name: string, dflt: number): number {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? Number(process.argv[i + 1]) : dflt;
}

const total = arg('mib', 64) << 20;
const chunk = arg('chunk', 128 << 10);

function corpus(): Uint8Array {
  const out = new Uint8Array(total);
  let at = 0;
  const files = execFileSync('find', ['/usr/share', '/usr/bin', '/usr/lib', '-xdev', '-type', 'f', '-size', '+8k'], { maxBuffer: 1 << 28 }).toString().split('\n');
  for (const f of files) {
    if (!f || at >= total) continue;
    try {
      const b = readFileSync(f);
      out.set(b.subarray(0, total - at), at);
      at += Math.min(b.length, total - at);
    } catch {
      // unreadable file: skip
    }
  }
  return out.subarray(0, at);
}

function best(label: string, bytes: number, fn: () => void): void {
  let ms = Infinity;
  for (let r = 0; r < 3; r++) {
    const t0 = performance.now();
    fn();
    ms = Math.min(ms, performance.now() - t0);
  }
  console.log(`${label.padEnd(44)} ${(bytes / 1e6 / (ms / 1e3)).toFixed(1).padStart(8)} MB/s`);
}

/** Wall time of a tool decoding `stream` to /dev/null (its start-up included: tens of ms against seconds). */
function tool(label: string, bytes: number, cmd: string, args: string[], stream: Uint8Array): void {
  best(label, bytes, () => {
    const r = spawnSync(cmd, args, { input: stream, stdio: ['pipe', 'ignore', 'inherit'], maxBuffer: 1 << 30 });
    if (r.status !== 0) throw new Error(`${cmd} failed`);
  });
}

await zstdReady;
const data = corpus();
console.log(`input: ${(data.length / 1048576).toFixed(0)} MiB from /usr, pieces of ${chunk} bytes`);
const pieces: Uint8Array[] = [];
for (let i = 0; i < data.length; i += chunk) pieces.push(data.subarray(i, Math.min(i + chunk, data.length)));

// lzma: per piece, raw LZMA1 from xz turned into MicroLZMA (first byte := ~props; lc3 lp0 pb2 = 93).
const lzmaPieces = pieces.map((p) => {
  const raw = new Uint8Array(execFileSync('xz', ['--format=raw', '--lzma1=preset=6', '-c'], { input: p }));
  raw[0] = ~93 & 0xff;
  return raw;
});
const lzmaIn = lzmaPieces.reduce((s, p) => s + p.length, 0);
console.log(`lzma: ${(lzmaIn / 1048576).toFixed(1)} MiB compressed`);
best('lzma  tsfuse (src/compress/lzma.ts)', data.length, () => {
  for (let i = 0; i < pieces.length; i++) microLzmaDecompress(lzmaPieces[i]!, pieces[i]!.length, 8 << 20);
});
const xzStream = new Uint8Array(execFileSync('xz', ['--format=raw', '--lzma1=preset=6', '-c'], { input: data, maxBuffer: 1 << 30 }));
tool('lzma  xz -d (one stream, C)', data.length, 'xz', ['--format=raw', '--lzma1=preset=6', '-dc'], xzStream);

// zstd: per piece, frames from the zstd command (level 3, content size recorded).
const zstdPieces = pieces.map((p) => new Uint8Array(execFileSync('zstd', ['-q', '-c', '-3', `--stream-size=${p.length}`], { input: p })));
const zstdIn = zstdPieces.reduce((s, p) => s + p.length, 0);
console.log(`zstd: ${(zstdIn / 1048576).toFixed(1)} MiB compressed`);
best('zstd  tsfuse (libzstd wasm, src/compress/zstd.ts)', data.length, () => {
  for (let i = 0; i < pieces.length; i++) zstdDecompress(zstdPieces[i]!, pieces[i]!.length);
});
let fzstd: { decompress(src: Uint8Array, out?: Uint8Array): Uint8Array } | undefined;
try {
  fzstd = createRequire(import.meta.url)('fzstd') as typeof fzstd;
} catch {
  console.log('zstd  fzstd: not installed (npm install --no-save fzstd to compare)');
}
if (fzstd) {
  const f = fzstd;
  best('zstd  fzstd (pure JS)', data.length, () => {
    for (let i = 0; i < pieces.length; i++) f.decompress(zstdPieces[i]!, new Uint8Array(pieces[i]!.length));
  });
}
const zstdStream = new Uint8Array(execFileSync('zstd', ['-q', '-c', '-3'], { input: data, maxBuffer: 1 << 30 }));
tool('zstd  zstd -d (one stream, C)', data.length, 'zstd', ['-q', '-dc'], zstdStream);
