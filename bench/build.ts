// Image builders side by side: `tsfuse erofs build` against Debian's `mkfs.erofs` on the same trees, plain,
// lz4 and lz4hc, and `tsfuse mkcomposefs` (with and without --digest-store) on the same trees, each build a child process under /usr/bin/time (wall time, CPU time, peak RSS), alternating
// the two tools so that load on the machine hits both alike; then the image sizes, and the LZ4 compressor
// alone (in this process, CPU time) on the regular files of the real tree. Trees: the bench's generated tree
// (lib/data.ts, quick or full parameters) and a real one (/usr/lib/python3 with --quick, /usr without, or
// --tree DIR). Run as root: node dist/bench/build.js [--quick] [--tree DIR] [--out FILE]

import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { Lz4Compressor, lz4Depth } from '../src/erofs/writer/lz4-compress.js';
import { windowFor } from '../src/erofs/writer/compress-file.js';
import { FULL, QUICK, ensureDataset } from './lib/data.js';
import { built, RESULTS, SCRATCH } from './lib/paths.js';
import { run } from './lib/proc.js';

const argv = process.argv.slice(2);
const quick = argv.includes('--quick');
const opt = (name: string): string | undefined => {
  const i = argv.indexOf(name);
  return i >= 0 ? argv[i + 1] : undefined;
};
const realTree = opt('--tree') ?? (quick ? '/usr/lib/python3' : '/usr');
const outFile = opt('--out') ?? path.join(RESULTS, 'build.md');
const CLI = built('src/cli/main.js');

interface Measure {
  wallS: number;
  cpuS: number;
  rssMiB: number;
  bytes: number;
}

/** One build under /usr/bin/time; the image is removed afterwards, its size kept. */
async function measure(cmd: string, args: string[], image: string): Promise<Measure> {
  const stats = path.join(path.dirname(image), 'time.txt');
  fs.rmSync(image, { force: true });
  await run('/usr/bin/time', ['-o', stats, '-f', '%e %U %S %M', cmd, ...args], { timeoutMs: 3_600_000 });
  const [wall, user, sys, rssKb] = fs.readFileSync(stats, 'utf8').trim().split(/\s+/).slice(-4).map(Number) as [number, number, number, number];
  const bytes = fs.statSync(image).size;
  fs.rmSync(image, { force: true });
  return { wallS: wall, cpuS: user + sys, rssMiB: rssKb / 1024, bytes };
}

const MODES = ['none', 'lz4', 'lz4hc'] as const;

function tsfuseArgs(mode: string, src: string, image: string): string[] {
  return [CLI, 'erofs', 'build', src, image, ...(mode === 'none' ? [] : ['--compress', mode])];
}

function mkfsArgs(mode: string, src: string, image: string): string[] {
  return [...(mode === 'none' ? [] : [`-z${mode}`]), image, src];
}

/** Bytes and count of the regular files under `dir`. */
function treeStats(dir: string): { files: number; bytes: number; entries: number } {
  let files = 0;
  let bytes = 0;
  let entries = 0;
  const walk = (d: string): void => {
    for (const e of fs.readdirSync(d, { withFileTypes: true })) {
      entries++;
      const p = path.join(d, e.name);
      if (e.isDirectory()) walk(p);
      else if (e.isFile()) {
        files++;
        bytes += fs.lstatSync(p).size;
      }
    }
  };
  walk(dir);
  return { files, bytes, entries };
}

const mib = (n: number): string => (n / 1048576).toFixed(1);

async function treeRows(label: string, src: string, work: string): Promise<string[]> {
  const st = treeStats(src);
  const lines = [
    `### ${label}: ${src} (${st.entries} entries, ${st.files} files, ${mib(st.bytes)} MiB of file data)`,
    '',
    '| build | wall | CPU | peak RSS | image | vs mkfs.erofs |',
    '|---|---|---|---|---|---|',
  ];
  const image = path.join(work, 'image.erofs');
  for (const mode of MODES) {
    // alternate the order per mode so neither tool always runs on a warmer page cache
    const order = mode === 'lz4' ? (['mkfs', 'tsfuse'] as const) : (['tsfuse', 'mkfs'] as const);
    const got: Record<string, Measure> = {};
    for (const tool of order) {
      got[tool] = tool === 'tsfuse' ? await measure(process.execPath, tsfuseArgs(mode, src, image), image) : await measure('mkfs.erofs', mkfsArgs(mode, src, image), image);
    }
    for (const tool of ['tsfuse', 'mkfs'] as const) {
      const m = got[tool]!;
      const name = tool === 'tsfuse' ? `tsfuse erofs build${mode === 'none' ? '' : ` --compress ${mode}`}` : `mkfs.erofs${mode === 'none' ? '' : ` -z${mode}`}`;
      const rel = tool === 'tsfuse' ? `${(m.bytes / got.mkfs!.bytes).toFixed(3)}x size, ${(m.wallS / got.mkfs!.wallS).toFixed(1)}x time` : '';
      lines.push(`| ${name} | ${m.wallS.toFixed(1)} s | ${m.cpuS.toFixed(1)} s | ${m.rssMiB.toFixed(0)} MiB | ${mib(m.bytes)} MiB | ${rel} |`);
    }
  }
  // mkcomposefs is not packaged here, so ours stands alone: the image alone, and with the object store filled
  const store = path.join(work, 'objects');
  const cfs = await measure(process.execPath, [CLI, 'mkcomposefs', src, image], image);
  lines.push(`| tsfuse mkcomposefs | ${cfs.wallS.toFixed(1)} s | ${cfs.cpuS.toFixed(1)} s | ${cfs.rssMiB.toFixed(0)} MiB | ${mib(cfs.bytes)} MiB | (no C mkcomposefs here) |`);
  const withStore = await measure(process.execPath, [CLI, 'mkcomposefs', `--digest-store=${store}`, src, image], image);
  fs.rmSync(store, { recursive: true, force: true });
  lines.push(`| tsfuse mkcomposefs --digest-store | ${withStore.wallS.toFixed(1)} s | ${withStore.cpuS.toFixed(1)} s | ${withStore.rssMiB.toFixed(0)} MiB | ${mib(withStore.bytes)} MiB | objects copied |`);
  lines.push('');
  return lines;
}

/** The compressor alone on up to `limit` bytes of the tree's regular files: MB/s of input (CPU time) and ratio. */
function compressorRows(src: string, limit: number): string[] {
  const chunks: Buffer[] = [];
  let total = 0;
  const walk = (d: string): void => {
    for (const e of fs.readdirSync(d, { withFileTypes: true }).sort((a, b) => (a.name < b.name ? -1 : 1))) {
      if (total >= limit) return;
      const p = path.join(d, e.name);
      if (e.isDirectory()) walk(p);
      else if (e.isFile() && fs.lstatSync(p).size > 4096) {
        const b = fs.readFileSync(p);
        chunks.push(b);
        total += b.length;
      }
    }
  };
  walk(src);
  const lines = [`Compressor alone (one-block pclusters, input window ${windowFor(4096) >> 10} KiB) on ${mib(total)} MiB of ${src}'s files over 4 KiB:`, '', '| mode | MB/s (CPU) | input / output |', '|---|---|---|'];
  const dst = new Uint8Array(4096);
  for (const mode of ['lz4', 'lz4hc'] as const) {
    const c = new Lz4Compressor(lz4Depth(mode));
    // a warm-up pass over the first file so the figure is the compiled code's
    for (let off = 0; off < Math.min(chunks[0]!.length, 1 << 20); ) off += Math.max(4096, c.compress(chunks[0]!.subarray(off), chunks[0]!.length - off, dst, 4096).consumed);
    const t = process.cpuUsage();
    let blocks = 0;
    for (const b of chunks) {
      for (let off = 0; off < b.length; blocks++) {
        const n = Math.min(windowFor(4096), b.length - off);
        const r = c.compress(b.subarray(off, off + n), n, dst, 4096);
        off += r.consumed > 4096 ? r.consumed : Math.min(4096, n);
      }
    }
    const u = process.cpuUsage(t);
    lines.push(`| ${mode} | ${(total / ((u.user + u.system) / 1e6) / 1e6).toFixed(1)} | ${(total / (blocks * 4096)).toFixed(3)} |`);
  }
  lines.push('');
  return lines;
}

async function main(): Promise<void> {
  const ds = await ensureDataset(quick ? QUICK : FULL, (s) => process.stderr.write(`${s}\n`));
  const work = fs.mkdtempSync(path.join(SCRATCH, 'build-bench-'));
  const lines = [
    `# Image build: tsfuse erofs build vs mkfs.erofs (${quick ? 'quick' : 'full'} run)`,
    '',
    `${new Date().toISOString()}, ${os.cpus().length} CPUs (${os.cpus()[0]?.model ?? '?'}), load average ${os.loadavg()[0]!.toFixed(1)} at the start, ` +
      `mkfs.erofs ${execOut('dpkg-query', ['-W', '-f', '${Version}', 'erofs-utils']) ?? '?'} (Debian), node ${process.version}. One build each; wall and CPU time and peak RSS from /usr/bin/time; ` +
      'images on the same disk as the trees. "vs mkfs.erofs": our image size and wall time over mkfs.erofs\'s in the same mode.',
    '',
  ];
  try {
    lines.push(...(await treeRows('bench tree', ds.tree, work)));
    lines.push(...(await treeRows('real tree', realTree, work)));
    lines.push(...compressorRows(realTree, quick ? 64 << 20 : 256 << 20));
  } finally {
    fs.rmSync(work, { recursive: true, force: true });
  }
  lines.push(`load average ${os.loadavg()[0]!.toFixed(1)} at the end.`, '');
  fs.writeFileSync(outFile, lines.join('\n'));
  process.stdout.write(lines.join('\n'));
}

/** First line a tool prints (its version), if it runs. */
function execOut(cmd: string, args: string[]): string | undefined {
  try {
    return execFileSync(cmd, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] }).split('\n')[0]?.trim();
  } catch {
    return undefined;
  }
}

await main();
