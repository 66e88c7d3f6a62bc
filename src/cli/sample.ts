// `tsfuse sample`: the main job on a built-in sample. Builds a small tree, makes an EROFS image of it with
// tsfuse's own writer (erofs build), serves the image with tsfuse (worker mode) and mounts it with the kernel's EROFS driver, then
// compares the two trees entry by entry and prints what it found.

import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface SampleOptions {
  dir?: string;
  keep?: boolean;
  workers?: number;
  entries?: number;
}

function buildTree(root: string, entries: number): void {
  fs.mkdirSync(root, { recursive: true });
  fs.writeFileSync(join(root, 'README.txt'), 'This tree was served by tsfuse from an EROFS image.\n');
  fs.mkdirSync(join(root, 'docs/nested/deeper'), { recursive: true });
  fs.writeFileSync(join(root, 'docs/nested/deeper/leaf.txt'), 'leaf\n');
  const big = Buffer.alloc(3 * 1024 * 1024 + 123);
  for (let i = 0; i < big.length; i++) big[i] = (i * 2654435761) >>> 24;
  fs.writeFileSync(join(root, 'big.bin'), big);
  for (const size of [0, 1, 4095, 4096, 4097]) fs.writeFileSync(join(root, `size-${size}`), Buffer.alloc(size, 0x61 + (size % 26)));
  fs.mkdirSync(join(root, 'many'));
  for (let i = 0; i < entries; i++) fs.writeFileSync(join(root, 'many', `file-${String(i).padStart(5, '0')}`), `entry ${i}\n`);
  fs.symlinkSync('docs/nested/deeper/leaf.txt', join(root, 'link-to-leaf'));
  fs.linkSync(join(root, 'README.txt'), join(root, 'hardlink-to-readme'));
  fs.writeFileSync(join(root, 'ünïcode name with spaces'), 'utf-8\n');
  fs.chmodSync(join(root, 'size-1'), 0o4755);
  fs.utimesSync(join(root, 'README.txt'), 1700000000.123456, 1700000000.123456);
  spawnSync('setfattr', ['-n', 'user.sample', '-v', 'hello', join(root, 'README.txt')]);
}

/** One line per entry, sorted: what both mounts must agree on. */
export function dumpTree(root: string): string[] {
  const lines: string[] = [];
  const walk = (rel: string): void => {
    const p = rel ? join(root, rel) : root;
    const st = fs.lstatSync(p, { bigint: true });
    const mode = Number(st.mode);
    let extra = '';
    if (st.isSymbolicLink()) extra = `-> ${fs.readlinkSync(p)}`;
    else if (st.isFile()) extra = `sha256=${createHash('sha256').update(fs.readFileSync(p)).digest('hex')} size=${st.size}`;
    lines.push(`${rel || '.'} mode=${mode.toString(8)} uid=${st.uid} gid=${st.gid} nlink=${st.isDirectory() ? '-' : st.nlink} mtime=${st.mtimeNs} ${extra}`);
    if (st.isDirectory()) for (const name of fs.readdirSync(p).sort()) walk(rel ? `${rel}/${name}` : name);
  };
  walk('');
  return lines;
}

export async function runSample(o: SampleOptions): Promise<number> {
  const base = o.dir ?? fs.mkdtempSync(join(tmpdir(), 'tsfuse-sample-'));
  fs.mkdirSync(base, { recursive: true });
  const src = join(base, 'tree');
  const image = join(base, 'sample.erofs');
  const viaFuse = join(base, 'tsfuse');
  const viaKernel = join(base, 'kernel');
  fs.rmSync(src, { recursive: true, force: true });
  buildTree(src, o.entries ?? 2000);
  const { buildErofs } = await import('../erofs/writer/build.js');
  try {
    buildErofs({ source: src, image });
  } catch (e) {
    process.stderr.write(`tsfuse sample: building the image failed: ${(e as Error).message}\n`);
    return 1;
  }
  fs.mkdirSync(viaFuse, { recursive: true });
  fs.mkdirSync(viaKernel, { recursive: true });
  const { mountErofs } = await import('../erofs/mount.js');
  const t0 = process.hrtime.bigint();
  const mounted = await mountErofs({ image, mountpoint: viaFuse, workers: o.workers });
  const tReady = Number(process.hrtime.bigint() - t0) / 1e6;
  let kernelMounted = false;
  try {
    const km = spawnSync('mount', ['-t', 'erofs', '-o', 'ro', image, viaKernel], { encoding: 'utf8' });
    kernelMounted = km.status === 0;
    const t1 = process.hrtime.bigint();
    const ours = dumpTree(viaFuse);
    const tDump = Number(process.hrtime.bigint() - t1) / 1e6;
    console.log(`image    ${image} (${fs.statSync(image).size} bytes)`);
    console.log(`tsfuse   mounted at ${viaFuse} in ${tReady.toFixed(1)} ms with ${mounted.session.threads} worker(s)`);
    console.log(`         ${ours.length} entries read, hashed and dumped in ${tDump.toFixed(0)} ms`);
    console.log(`         ${fs.readFileSync(join(viaFuse, 'README.txt'), 'utf8').trim()}`);
    if (!kernelMounted) {
      console.log(`kernel   mount -t erofs failed (${km.stderr.trim()}); nothing to compare against`);
      return 1;
    }
    const theirs = dumpTree(viaKernel);
    const differ = ours.filter((l, i) => l !== theirs[i]);
    if (ours.length === theirs.length && differ.length === 0) {
      console.log(`kernel   ${theirs.length} entries: identical to the kernel's EROFS mount`);
      return 0;
    }
    console.log(`kernel   MISMATCH: ${differ.length} differing lines; first:`);
    for (let i = 0; i < Math.max(ours.length, theirs.length) && i < 2000; i++) {
      if (ours[i] !== theirs[i]) {
        console.log(`  tsfuse: ${ours[i]}\n  kernel: ${theirs[i]}`);
        break;
      }
    }
    return 1;
  } finally {
    if (kernelMounted) spawnSync('umount', [viaKernel]);
    await mounted.unmount();
    if (!o.keep && !o.dir) fs.rmSync(base, { recursive: true, force: true });
  }
}
