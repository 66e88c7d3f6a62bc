// PuzzleFS beside EROFS on the same tree (the test kit's tree plus a 20000-entry directory, a 24 MiB file and a
// 64 MiB sparse one): image sizes of two versions (the second with --base) against two EROFS images
// (mkfs.erofs, plain and lz4hc) and the chunk dedupe ratio; then, served by tsfuse (2 workers each), start-up,
// cold and warm `find` (lstat of every entry) and cold and warm sequential read of the 24 MiB file, median of
// ROUNDS rounds. Every access is a child process. Run as root: node dist/bench/puzzlefs.js [ROUNDS]

import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { zstdReady } from '../src/compress/zstd.js';
import { buildImage } from '../src/puzzlefs/builder.js';
import { PuzzleImage } from '../src/puzzlefs/image.js';
import { MEDIA_ROOTFS } from '../src/puzzlefs/oci.js';
import type { FilesystemModule } from '../src/fs/types.js';
import { withMount } from '../test/helpers/mount.js';
import { FS_MODULE, makeTree, runChild, tempDir, withTmpfs } from '../test/puzzlefs/helpers.js';
import { dropCaches } from './lib/mounts.js';

const ROUNDS = Number(process.argv[2] ?? 3);
const EROFS_MODULE = fileURLToPath(new URL('../src/erofs/filesystem.js', import.meta.url));

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const mib = (n: number): string => (n / 1048576).toFixed(1);

/** mkfs.erofs 1.5 cannot take 255-byte names: shorten them (for both formats, so the trees stay equal). */
function shortenLongNames(dir: Buffer): void {
  for (const n of fs.readdirSync(dir, { encoding: 'buffer' }) as Buffer[]) {
    let p = Buffer.concat([dir, Buffer.from('/'), n]);
    if (n.length >= 255) {
      const q = Buffer.concat([dir, Buffer.from('/'), n.subarray(0, 200)]);
      fs.renameSync(p, q);
      p = q;
    }
    if (fs.lstatSync(p).isDirectory()) shortenLongNames(p);
  }
}

/** Blob bytes an image references (rootfs and file data), by digest. */
function blobBytes(dir: string, tag: string): Map<string, number> {
  const img = PuzzleImage.open(dir, { tag });
  return new Map(img.manifest.layers.map((l) => [l.digest, l.size]));
}

async function serveFigures(label: string, fsm: FilesystemModule, subtype: string): Promise<string> {
  const start: number[] = [];
  const find: Record<'cold' | 'warm', number[]> = { cold: [], warm: [] };
  const read: Record<'cold' | 'warm', number[]> = { cold: [], warm: [] };
  for (let r = 0; r < ROUNDS; r++) {
    await dropCaches();
    const t0 = performance.now();
    await withMount(fsm, { workers: 2, options: ['ro'], subtype, entryTimeout: 86400, attrTimeout: 86400, readdirplus: 'auto', timeoutMs: 300_000 }, async ({ mnt }) => {
      await runChild('stat', [mnt]);
      start.push(performance.now() - t0);
      for (const k of ['cold', 'warm'] as const) {
        let t = performance.now();
        await runChild('sh', ['-c', `find ${mnt} -printf '%s\\n' > /dev/null`], 300_000);
        find[k].push(performance.now() - t);
        t = performance.now();
        await runChild('sh', ['-c', `cat ${mnt}/pz/large > /dev/null`]);
        read[k].push(performance.now() - t);
      }
    });
  }
  const ms = (xs: number[]) => `${Math.round(median(xs))} ms`;
  const mbps = (xs: number[]) => `${Math.round(24 / (median(xs) / 1000))} MiB/s`;
  return `| ${label} | ${ms(start)} | ${ms(find.cold)} | ${ms(find.warm)} | ${mbps(read.cold)} | ${mbps(read.warm)} |`;
}

async function main(): Promise<void> {
  await zstdReady;
  const work = tempDir('tsfuse-pzbench-');
  const oci = path.join(work, 'oci');
  const lines: string[] = [];
  try {
    await withTmpfs(async (src) => {
      makeTree(src);
      shortenLongNames(Buffer.from(src));
      let t = performance.now();
      const v1 = await buildImage({ source: src, dir: oci, tag: 'v1' });
      const build1 = performance.now() - t;
      execFileSync('mkfs.erofs', [path.join(work, 'v1.erofs'), src], { stdio: 'ignore' });
      execFileSync('mkfs.erofs', ['-zlz4hc', path.join(work, 'v1z.erofs'), src], { stdio: 'ignore' });
      // v2: a line appended to the large file, a new 100 kB file, one directory entry gone
      fs.appendFileSync(path.join(src, 'pz', 'large'), 'appended in v2\n');
      fs.writeFileSync(path.join(src, 'pz', 'new'), 'x'.repeat(100_000));
      fs.rmSync(path.join(src, 'pz', 'dir-20k', 'entry-00010'));
      t = performance.now();
      const v2 = await buildImage({ source: src, dir: oci, tag: 'v2', base: { dir: oci, tag: 'v1' } });
      const build2 = performance.now() - t;
      execFileSync('mkfs.erofs', [path.join(work, 'v2.erofs'), src], { stdio: 'ignore' });
      execFileSync('mkfs.erofs', ['-zlz4hc', path.join(work, 'v2z.erofs'), src], { stdio: 'ignore' });

      const b1 = blobBytes(oci, 'v1');
      const b2 = blobBytes(oci, 'v2');
      const union = new Map([...b1, ...b2]);
      const sum = (m: Map<string, number>) => [...m.values()].reduce((a, b) => a + b, 0);
      const shared = [...b1.keys()].filter((d) => b2.has(d));
      const size = (f: string) => fs.statSync(path.join(work, f)).size;
      const rootfs2 = PuzzleImage.open(oci, { tag: 'v2' }).manifest.layers.find((l) => l.mediaType === MEDIA_ROOTFS)!.size;
      lines.push(
        `tree: ${v1.inodes} inodes; build v1 ${Math.round(build1)} ms (${v1.chunkStats.chunks} chunks), v2 --base ${Math.round(build2)} ms (${v2.layerInodes} inodes in the new layer)`,
        '',
        '| image | v1 | v2 | both stored |',
        '|---|---|---|---|',
        `| puzzlefs (one OCI layout) | ${mib(sum(b1))} MiB | ${mib(sum(b2))} MiB | ${mib(sum(union))} MiB (v2 rootfs ${mib(rootfs2)} MiB) |`,
        `| erofs plain | ${mib(size('v1.erofs'))} MiB | ${mib(size('v2.erofs'))} MiB | ${mib(size('v1.erofs') + size('v2.erofs'))} MiB |`,
        `| erofs lz4hc | ${mib(size('v1z.erofs'))} MiB | ${mib(size('v2z.erofs'))} MiB | ${mib(size('v1z.erofs') + size('v2z.erofs'))} MiB |`,
        '',
        `chunk dedupe between versions: ${shared.length} of ${b2.size} v2 blobs are v1's; ` +
          `(v1 + v2 blob bytes) / stored bytes = ${((sum(b1) + sum(b2)) / sum(union)).toFixed(2)}`,
        '',
        `| served by tsfuse, 2 workers (median of ${ROUNDS}) | start-up | find cold | find warm | read cold | read warm |`,
        '|---|---|---|---|---|---|',
      );
      lines.push(await serveFigures('puzzlefs v2', { module: FS_MODULE, export: 'createFilesystem', options: { dir: oci, tag: 'v2' } }, 'puzzlefs'));
      lines.push(await serveFigures('erofs v2 (plain)', { module: EROFS_MODULE, export: 'createFilesystem', options: { image: path.join(work, 'v2.erofs') } }, 'erofs'));
    });
  } finally {
    fs.rmSync(work, { recursive: true, force: true });
  }
  process.stdout.write(lines.join('\n') + '\n');
}

await main();
