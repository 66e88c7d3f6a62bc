// Decoder throughput for EROFS's lz4, lzma and zstd pclusters, against the C tools on the same bytes:
//
//   node dist/bench/micro/decoders.js [--mib 64] [--chunk 131072]
//
// Input: the first --mib MiB of regular files under /usr (text and binaries mixed, in `find` order). Each
// codec's data is cut into --chunk-sized pieces (EROFS's -C pcluster size) compressed one by one, as an
// image holds them; the decoders run over every piece. The C tools decode one stream of the whole input
// (`xz -d` of --format=raw --lzma1, `zstd -d`): the per-piece cost they are spared is small at 128 KiB.
// Prints MB/s of decoded output (best of 3). fzstd (pure JS) is measured when it is installed
// (`npm install --no-save fzstd`): on 64 MiB of /usr it decoded about 12x slower than libzstd-wasm, so
// src/compress/zstd.ts keeps libzstd-wasm for decoding. LZ4 is cut as mkfs.erofs -zlz4hc cuts it (4 KiB
// compressed pclusters filled from the input, our destSize compressor) and decoded by the WebAssembly decoder
// the reader uses and by the JavaScript one it falls back to; `lz4 -d` decodes 64 KiB blocks of one frame.

import { execFileSync, spawnSync } from 'node:child_process';
import { createRequire } from 'node:module';
import { readFileSync } from 'node:fs';
import { microLzmaDecompress } from '../../src/compress/lzma.js';
import { zstdDecompress, zstdReady } from '../../src/compress/zstd.js';
import { lz4DecompressBlock, lz4DecompressBlockJs } from '../../src/erofs/reader/lz4.js';
import { Lz4Compressor } from '../../src/erofs/writer/lz4-compress.js';

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

// lz4: 4 KiB pclusters filled by the destSize compressor (lz4hc depth), as an EROFS lz4hc image stores them.
const lz4c = new Lz4Compressor(16);
const lz4Blocks: Array<{ block: Uint8Array; n: number }> = [];
{
  const out = new Uint8Array(4096);
  for (let pos = 0; pos < data.length; ) {
    const win = data.subarray(pos, Math.min(data.length, pos + 65536));
    const r = lz4c.compress(win, win.length, out, 4096);
    lz4Blocks.push({ block: out.slice(0, r.written), n: r.consumed });
    pos += r.consumed;
  }
}
console.log(`lz4: ${lz4Blocks.length} pclusters of 4 KiB, ${(data.length / lz4Blocks.length / 1024).toFixed(1)} KiB each decoded`);
const lz4Out = new Uint8Array(1 << 20);
best('lz4   tsfuse WebAssembly (src/compress/lz4.wat)', data.length, () => {
  for (const b of lz4Blocks) lz4DecompressBlock(b.block, 0, b.block.length, lz4Out, b.n, false);
});
best('lz4   tsfuse JavaScript (fallback)', data.length, () => {
  for (const b of lz4Blocks) lz4DecompressBlockJs(b.block, 0, b.block.length, lz4Out, b.n, false);
});
const lz4Stream = new Uint8Array(execFileSync('lz4', ['-q', '-9', '-B4', '-BI', '-c'], { input: data, maxBuffer: 1 << 30 }));
tool('lz4   lz4 -d (one frame, 64 KiB blocks, C)', data.length, 'lz4', ['-q', '-dc'], lz4Stream);
