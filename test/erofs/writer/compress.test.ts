// tsfuse erofs build --compress lz4|lz4hc, checked by the kernel and erofs-utils: the generated tree (every
// inode type, odd names, xattrs, sparse and 8 MiB files) plus files at the block-size edges, incompressible
// and highly compressible data and a 20 MiB file. `mount -t erofs` must dump exactly like the source,
// fsck.erofs (1.5) must find nothing wrong and extract the same bytes, tsfuse's own reader must dump like the
// kernel, and the same input must give the same image bytes. Which files ended up compressed is read back
// with our reader (compressed-compact layout; flat for data that does not shrink).

import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { openImage } from '../../../src/erofs/index.js';
import * as F from '../../../src/erofs/reader/format.js';
import { assertSameDump, kernelDump, tsfuseDump } from '../conformance/oracle.js';
import { Prng, diffDumps, dumpTreeInChild, generateTree, run } from '../kit/index.js';
import { tsfuse } from './helpers.js';

const base = fs.mkdtempSync(path.join(os.tmpdir(), 'tsfuse-compress-'));
let src: string;
let srcDump: string;

const MIB = 1 << 20;
/** Text-like bytes (words from a small vocabulary): compresses about 2-3x, like source code. */
function wordy(n: number, seed: number): Buffer {
  const p = new Prng(seed);
  const words = ['erofs', 'lz4', 'cluster', 'block', 'inode', 'the', 'of', 'a', 'kernel', 'mount', '\n', 'index', '0x1f'];
  const out = Buffer.alloc(n);
  let o = 0;
  while (o < n) {
    const w = words[p.int(words.length)]! + (p.int(4) === 0 ? String(p.int(100000)) : '') + ' ';
    o += out.write(w, o);
  }
  return out;
}

function random(n: number, seed: number): Buffer {
  const p = new Prng(seed);
  const out = Buffer.alloc(n);
  for (let i = 0; i + 4 <= n; i += 4) out.writeUInt32LE(p.u32(), i);
  for (let i = n - (n % 4); i < n; i++) out[i] = p.int(256);
  return out;
}

test.before(async () => {
  await run('mount', ['-t', 'tmpfs', '-o', 'size=1g,mode=0755', 'tsfuse-compress-test', base]);
  src = generateTree(path.join(base, 'tree'), { seed: 11, maxNameLength: 255 }).root;
  const edge = path.join(src, 'edges');
  fs.mkdirSync(edge);
  for (const n of [0, 1, 4095, 4096, 4097, 8191, 8193, MIB + 1]) fs.writeFileSync(path.join(edge, `text-${n}`), wordy(n, n));
  for (const n of [4097, 5000, 3 * MIB + 7]) fs.writeFileSync(path.join(edge, `zeros-${n}`), Buffer.alloc(n));
  fs.writeFileSync(path.join(edge, 'random-300k'), random(300_000, 1));
  // compressible and incompressible stretches in one file: PLAIN blocks between compressed ones
  fs.writeFileSync(path.join(edge, 'mixed'), Buffer.concat([wordy(70_000, 2), random(50_001, 3), wordy(40_000, 4), Buffer.alloc(9000, 'a'), random(5000, 5)]));
  fs.writeFileSync(path.join(edge, 'big-20m'), Buffer.concat([wordy(12 * MIB, 6), random(3 * MIB, 7), Buffer.alloc(5 * MIB + 123, 7)]));
  srcDump = await dumpTreeInChild(src, 300_000);
});

test.after(async () => {
  await run('umount', [base], { check: false });
  fs.rmSync(base, { recursive: true, force: true });
});

const sha = (p: string): string => crypto.createHash('sha256').update(fs.readFileSync(p)).digest('hex');

async function build(args: string[], image: string): Promise<void> {
  const r = await tsfuse(['erofs', 'build', src, image, ...args], { timeoutMs: 600_000 });
  assert.is(r.status, 0, r.stderr);
}

/** Layout of each file under edges/, as our reader sees it. */
function layouts(image: string): Map<string, number> {
  const img = openImage(image);
  try {
    const dir = img.inode(img.lookup(img.root(), 'edges')!.nid);
    const out = new Map<string, number>();
    for (const e of img.entries(dir)) {
      const name = Buffer.from(e.name).toString();
      if (name !== '.' && name !== '..') out.set(name, img.inode(e.nid).layout);
    }
    return out;
  } finally {
    img.close();
  }
}

for (const [mode, extra] of [['lz4', []], ['lz4hc', ['-b', '4096']]] as const) {
  test(`--compress ${mode} ${extra.join(' ')}: kernel dump equals the source; fsck.erofs clean and extracts the same; tsfuse reads like the kernel`, async () => {
    const image = path.join(base, `${mode}.erofs`);
    await build(['--compress', mode, ...extra], image);
    const fsck = await run('fsck.erofs', [image], { check: false, timeoutMs: 300_000 });
    assert.is(fsck.status, 0, `fsck.erofs: ${fsck.stdout.toString()}${fsck.stderr}`);
    const out = path.join(base, `extract-${mode}`);
    const ex = await run('fsck.erofs', [`--extract=${out}`, image], { check: false, timeoutMs: 300_000 });
    assert.is(ex.status, 0, `fsck.erofs --extract: ${ex.stdout.toString()}${ex.stderr}`);
    for (const name of fs.readdirSync(path.join(src, 'edges'))) {
      assert.is(sha(path.join(out, 'edges', name)), sha(path.join(src, 'edges', name)), `extracted ${name}`);
    }
    fs.rmSync(out, { recursive: true, force: true });

    const k = await kernelDump(image, { content: true });
    const d = diffDumps(srcDump, k, 20, ['source', 'kernel']);
    assert.ok(d === '', `kernel mount differs from the source\n${d}`);
    const t = await tsfuseDump(image, { workers: 1 });
    assertSameDump(k, t.dump, `--compress ${mode}`);
    assert.equal(t.serverLog, [], 'the reader logged no complaint');

    const l = layouts(image);
    // (text-8193 may or may not save a block, depending on the mode)
    for (const name of [`text-${MIB + 1}`, 'zeros-5000', `zeros-${3 * MIB + 7}`, 'mixed', 'big-20m']) {
      assert.is(l.get(name), F.LAYOUT_COMPRESSED_COMPACT, `${name} is compressed`);
    }
    // nothing to gain: small files, 4097 zeros (one block + index > size), random data stay flat
    for (const name of ['text-1', 'text-4095', 'text-4096', 'zeros-4097', 'random-300k']) {
      assert.ok(l.get(name) === F.LAYOUT_FLAT_INLINE || l.get(name) === F.LAYOUT_FLAT_PLAIN, `${name} is flat (layout ${l.get(name)})`);
    }
    fs.unlinkSync(image);
  });
}

test('lz4hc: the same input twice gives the same bytes, smaller than lz4 and than no compression', async () => {
  const a = path.join(base, 'a.erofs');
  const b = path.join(base, 'b.erofs');
  const fast = path.join(base, 'fast.erofs');
  const plain = path.join(base, 'plain.erofs');
  await build(['--compress', 'lz4hc'], a);
  await build(['--compress', 'lz4hc'], b);
  await build(['--compress', 'lz4'], fast);
  await build([], plain);
  assert.ok(fs.readFileSync(a).equals(fs.readFileSync(b)), 'two lz4hc builds differ');
  const [sa, sf, sp] = [a, fast, plain].map((p) => fs.statSync(p).size) as [number, number, number];
  assert.ok(sa <= sf && sf < sp * 0.8, `lz4hc ${sa}, lz4 ${sf}, none ${sp}`);
  for (const p of [a, b, fast, plain]) fs.unlinkSync(p);
});

test('-b 1024 --compress lz4 (sub-page blocks): kernel dump equals the source', async () => {
  const image = path.join(base, 'b1024.erofs');
  await build(['-b', '1024', '--compress', 'lz4'], image);
  const k = await kernelDump(image, { content: true });
  const d = diffDumps(srcDump, k, 20, ['source', 'kernel']);
  assert.ok(d === '', `kernel mount differs from the source\n${d}`);
  fs.unlinkSync(image);
});

test('bad --compress arguments exit 2 with one line', async () => {
  for (const args of [['--compress', 'lzma'], ['--compress', 'lz4', '--chunksize', '8192']]) {
    const r = await tsfuse(['erofs', 'build', ...args, src, path.join(base, 'never.erofs')]);
    assert.is(r.status, 2, `${args.join(' ')}: ${r.stderr}`);
    assert.is(r.stderr.trim().split('\n').length, 1, r.stderr);
    assert.not.ok(fs.existsSync(path.join(base, 'never.erofs')));
  }
});

test.run();
