// Start-up: the time from mountErofs() to the first answered stat must not grow with the image (nothing is
// read up front but the superblock and the root). A 10-entry image against the kit's big tree (6000+
// entries, 20 MiB): both are reported; only a generous bound is asserted (speed is measured in bench/).
// And `tsfuse erofs info` names the features of the shared fixtures. Needs root.

import * as fs from 'node:fs';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { buildImage, generateTree, run } from './kit/index.js';
import { Timings, tempDir, withErofsMount } from './conformance/mount.js';
import { EROFS_FIXTURES } from '../helpers/fixtures.js';

const FIXTURES = EROFS_FIXTURES;
const CLI = fileURLToPath(new URL('../../src/cli/main.js', import.meta.url));
const base = tempDir('tsfuse-startup-');
const timings = new Timings('startup timings');
const images: Record<'small' | 'big', { image: string; probe: string }> = {
  small: { image: path.join(base, 'small.erofs'), probe: 'file-7' },
  big: { image: path.join(base, 'big.erofs'), probe: '' },
};

test.before(async () => {
  const small = path.join(base, 'small');
  fs.mkdirSync(small);
  for (let i = 0; i < 9; i++) fs.writeFileSync(path.join(small, `file-${i}`), `file ${i}\n`);
  await buildImage(small, images.small.image, 'default');
  const tree = generateTree(path.join(base, 'big'), { scale: 'big', seed: 9 });
  await buildImage(tree.root, images.big.image, 'default');
  // the probe: a file in the big directory, so that the first stat also looks up a name among 5000+
  const names = fs.readdirSync(path.join(tree.root, tree.paths.bigDir)).filter((n) => fs.lstatSync(path.join(tree.root, tree.paths.bigDir, n)).isFile());
  images.big.probe = path.join(tree.paths.bigDir, names[Math.floor(names.length / 2)]!);
  timings.note(`images: small ${fs.statSync(images.small.image).size} bytes (10 entries), big ${fs.statSync(images.big.image).size} bytes (${tree.entries} entries)`);
  fs.rmSync(tree.root, { recursive: true, force: true });
});

test.after(() => {
  timings.print();
  fs.rmSync(base, { recursive: true, force: true });
});

/** ms from mountErofs() to a completed `stat` of the probe file (a child process), median of `runs`. */
async function timeToFirstStat(which: 'small' | 'big', runs = 3): Promise<{ median: number; mount: number[] }> {
  const all: number[] = [];
  const mount: number[] = [];
  for (let i = 0; i < runs; i++) {
    const t0 = performance.now();
    await withErofsMount({ image: images[which].image }, async (h) => {
      const r = await run('stat', ['-c', '%s', path.join(h.mnt, images[which].probe)], { timeoutMs: 10_000 });
      all.push(performance.now() - t0);
      mount.push(h.mountMs);
      assert.match(r.stdout.toString(), /^\d+\n$/);
    });
  }
  all.sort((a, b) => a - b);
  return { median: all[Math.floor(all.length / 2)]!, mount };
}

test('time to first stat does not grow with the image', async () => {
  await timeToFirstStat('small', 1); // warm-up: module loading, page cache
  const small = await timeToFirstStat('small');
  const big = await timeToFirstStat('big');
  timings.note(`time to first stat (default workers, median of 3): small ${small.median.toFixed(0)} ms (mount ${small.mount.map((m) => m.toFixed(0)).join('/')}), big ${big.median.toFixed(0)} ms (mount ${big.mount.map((m) => m.toFixed(0)).join('/')})`);
  assert.ok(big.median < 10 * small.median + 200, `big ${big.median.toFixed(0)} ms vs small ${small.median.toFixed(0)} ms`);
});

async function info(image: string): Promise<string> {
  const r = await run(process.execPath, [CLI, 'erofs', 'info', image], { timeoutMs: 20_000 });
  return r.stdout.toString();
}

const line = (text: string, label: string): string => text.split('\n').find((l) => l.startsWith(label)) ?? '';
const compressedFiles = (text: string): number => Number(/(\d+) compressed/.exec(text)?.[1] ?? NaN);

test('`tsfuse erofs info` names the features: 48bit', async () => {
  const t = await info(path.join(FIXTURES, '48bit.erofs'));
  assert.match(line(t, 'features (incompat)'), /\b48bit\b/);
  assert.match(line(t, 'block size'), /\b4096\b/);
  assert.match(t, /inodes \(walked\): +144/);
});

test('`tsfuse erofs info` names the features: long xattr prefixes', async () => {
  const t = await info(path.join(FIXTURES, 'xattr-prefix.erofs'));
  assert.match(line(t, 'features (incompat)'), /\bxattr_prefixes\b/);
  assert.match(t, /long xattr prefixes: "user\.sh"/);
});

test('`tsfuse erofs info` names the features: lz4 (lz4hc, ztailpacking + fragments), none for plain', async () => {
  const hc = await info(path.join(FIXTURES, 'lz4hc.erofs'));
  assert.match(line(hc, 'compression'), /^compression: +lz4\b/);
  assert.match(line(hc, 'features (incompat)'), /\b0padding\b/);
  assert.ok(compressedFiles(hc) > 0, hc);
  const frag = await info(path.join(FIXTURES, 'lz4-ztailpacking-fragments.erofs'));
  assert.match(line(frag, 'features (incompat)'), /\bztailpacking\b/);
  assert.match(line(frag, 'features (incompat)'), /\bfragments\b/);
  assert.match(frag, /packed inode: +nid \d+/);
  assert.ok(compressedFiles(frag) > 0);
  const plain = await info(path.join(FIXTURES, 'plain.erofs'));
  assert.match(line(plain, 'features (incompat)'), /: +-$/);
  assert.is(compressedFiles(plain), 0);
});

test('`tsfuse erofs info` names the other compressors, 1 KiB blocks, chunks, metabox and composefs', async () => {
  assert.match(line(await info(path.join(FIXTURES, 'lzma.erofs')), 'compression'), /lzma \(MicroLZMA, dictionary \d+ bytes\)/);
  assert.match(line(await info(path.join(FIXTURES, 'deflate.erofs')), 'compression'), /deflate/);
  assert.match(line(await info(path.join(FIXTURES, 'zstd.erofs')), 'compression'), /zstd \(window 2\^\d+\)/);
  assert.not.match(await info(path.join(FIXTURES, 'lzma.erofs')), /not decodable/);
  assert.match(line(await info(path.join(FIXTURES, 'b1024.erofs')), 'block size'), /\b1024\b/);
  assert.match(line(await info(path.join(FIXTURES, 'chunk-indexes.erofs')), 'features (incompat)'), /chunked_file/);
  assert.match(line(await info(path.join(FIXTURES, 'metazip.erofs')), 'features (incompat)'), /metabox/);
  assert.match(line(await info(path.join(FIXTURES, 'composefs/image.cfs')), 'format'), /composefs image/);
});

test.run();
