// Remote images over loopback against the same image as a local file: an EROFS image of the test kit's tree plus
// 24 MiB of random files, served by the Range file server (HTTP), Debian's docker-registry (OCI) and s3rver (S3),
// each mounted by tsfuse (2 workers) with an empty block cache. Figures: time from mount start to the first
// answered `ls`, cold `tar` of the whole tree (piped to /dev/null), bytes fetched (our counters), and the same `tar` from
// a second mount served from the warm block cache. Median of ROUNDS. Run as root: node dist/bench/remote.js [ROUNDS]

import * as fs from 'node:fs';
import * as path from 'node:path';
import { randomBytes } from 'node:crypto';
import { mountErofs, type MountErofsOptions } from '../src/erofs/mount.js';
import { buildImage, generateTree } from '../test/erofs/kit/index.js';
import { run } from '../test/helpers/client.js';
import { pushImage, S3_CREDENTIALS, s3Upload, startRangeServer, startRegistry, startS3, tempDir } from '../test/remote/servers/index.js';
import { dropCaches } from './lib/mounts.js';

const ROUNDS = Number(process.argv[2] ?? 3);
const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

interface Figures {
  firstLs: number[];
  tarCold: number[];
  tarCached: number[];
  fetchedMiB: number[];
}

async function measure(image: string, remote: boolean, work: string): Promise<Figures> {
  const f: Figures = { firstLs: [], tarCold: [], tarCached: [], fetchedMiB: [] };
  for (let r = 0; r < ROUNDS; r++) {
    const cacheDir = tempDir('tsfuse-bench-cache-');
    try {
      for (const pass of ['cold', 'cached'] as const) {
        await dropCaches();
        const mnt = fs.mkdtempSync(path.join(work, 'mnt-'));
        const o: MountErofsOptions = { image, mountpoint: mnt, workers: 2, log: () => {}, remote: remote ? { cacheDir } : undefined };
        const t0 = performance.now();
        const m = await mountErofs(o);
        try {
          await run('ls', [mnt]);
          if (pass === 'cold') f.firstLs.push(performance.now() - t0);
          const t = performance.now();
          // Through a pipe: GNU tar skips reading file contents when its archive is /dev/null itself.
          const tar = await run('sh', ['-c', `tar -cf - -C '${mnt}' . | cat > /dev/null`], { timeoutMs: 600_000 });
          if (tar.code !== 0) throw new Error(`tar failed: ${tar.stderr}`);
          (pass === 'cold' ? f.tarCold : f.tarCached).push(performance.now() - t);
          const stats = m.remoteStats?.();
          if (pass === 'cold' && stats) f.fetchedMiB.push(Number(/fetched ([\d.]+) MiB/.exec(stats)![1]));
        } finally {
          await m.unmount();
          fs.rmdirSync(mnt);
        }
        if (!remote) break;
      }
    } finally {
      fs.rmSync(cacheDir, { recursive: true, force: true });
    }
  }
  return f;
}

function row(label: string, f: Figures): string {
  const ms = (xs: number[]) => (xs.length ? `${Math.round(median(xs))} ms` : '');
  return `| ${label} | ${ms(f.firstLs)} | ${ms(f.tarCold)} | ${ms(f.tarCached)} | ${f.fetchedMiB.length ? median(f.fetchedMiB).toFixed(1) + ' MiB' : ''} |`;
}

async function main(): Promise<void> {
  const work = tempDir('tsfuse-remote-bench-');
  const served = path.join(work, 'served');
  const image = path.join(served, 'image.erofs');
  const stop: Array<() => Promise<void>> = [];
  try {
    const tree = path.join(work, 'tree');
    generateTree(tree, { scale: 'small' });
    fs.mkdirSync(path.join(tree, 'big'));
    for (let i = 0; i < 6; i++) fs.writeFileSync(path.join(tree, 'big', `blob-${i}`), randomBytes(4 << 20));
    fs.mkdirSync(served);
    await buildImage(tree, image);
    const http = await startRangeServer(served);
    stop.push(http.stop);
    const registry = await startRegistry(path.join(work, 'registry'));
    stop.push(registry.stop);
    await pushImage(registry.url, 'bench/tree', 'v1', image);
    const s3 = await startS3(path.join(work, 's3'), 'bench');
    stop.push(s3.stop);
    await s3Upload(s3.url, 'bench', 'image.erofs', image);
    Object.assign(process.env, S3_CREDENTIALS, { AWS_ENDPOINT_URL: s3.url });

    const size = fs.statSync(image).size;
    const lines = [
      `image: ${(size / 1048576).toFixed(1)} MiB, ${ROUNDS} rounds, medians; 2 workers; caches dropped before each mount`,
      '',
      '| source | mount -> first ls | tar, cold | tar, from the block cache | fetched (cold tar) |',
      '|---|---:|---:|---:|---:|',
    ];
    lines.push(row('local file', await measure(image, false, work)));
    lines.push(row('http (Range server)', await measure(`${http.url}/image.erofs`, true, work)));
    lines.push(row('OCI registry', await measure(`docker://${registry.url.replace(/^http:\/\//, '')}/bench/tree:v1`, true, work)));
    lines.push(row('S3 (s3rver)', await measure('s3://bench/image.erofs', true, work)));
    process.stdout.write(lines.join('\n') + '\n');
  } finally {
    for (const s of stop) await s();
    fs.rmSync(work, { recursive: true, force: true });
  }
}

await main();
