// tsfuse erofs build --all-root, --uid-offset N and --ignore-mtime, checked on the kernel's mount: the dump
// is the source's with owners (or mtimes) rewritten as asked, nothing else changed. With --ignore-mtime every
// inode is compact (32 bytes, the image's build time as mtime); without it, nanosecond mtimes need extended
// inodes and keep their nanoseconds.

import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { openImage } from '../../../src/erofs/index.js';
import type { ErofsReader } from '../../../src/erofs/reader/reader.js';
import { tinyTree } from '../conformance/trees.js';
import { withKernelMount } from '../kit/index.js';
import { diffDumps, dumpTreeInChild } from '../../helpers/tree-dump.js';
import { tsfuse } from './helpers.js';

const base = fs.mkdtempSync(path.join(os.tmpdir(), 'tsfuse-build-opts-'));
const src = tinyTree(path.join(base, 'tree'), 40, 3);
test.after(() => fs.rmSync(base, { recursive: true, force: true }));

async function build(args: string[]): Promise<{ image: string; dump: string }> {
  const image = path.join(base, `img-${args.join('_') || 'default'}.erofs`);
  const r = await tsfuse(['erofs', 'build', ...args, src, image]);
  assert.is(r.status, 0, r.stderr);
  return { image, dump: await withKernelMount(image, (d) => dumpTreeInChild(d)) };
}

function inodeForms(image: string): { compact: number; extended: number } {
  const reader: ErofsReader = openImage(image);
  const seen = new Set<number>();
  const out = { compact: 0, extended: 0 };
  const walk = (nid: number): void => {
    if (seen.has(nid)) return;
    seen.add(nid);
    const ino = reader.inode(nid);
    if (ino.extended) out.extended++;
    else out.compact++;
    if ((ino.mode & 0o170000) !== 0o040000) return;
    for (const e of reader.entries(ino)) {
      const n = Buffer.from(e.name).toString('latin1');
      if (n !== '.' && n !== '..') walk(e.nid);
    }
  };
  walk(reader.root().nid);
  reader.close?.();
  return out;
}

test('default: owners and nanosecond mtimes as in the source (extended inodes where needed)', async () => {
  const want = await dumpTreeInChild(src);
  const { image, dump } = await build([]);
  assert.is(diffDumps(want, dump), '');
  assert.ok(inodeForms(image).extended > 0);
});

test('--all-root: every uid and gid 0', async () => {
  const want = (await dumpTreeInChild(src)).replace(/ uid=\d+ gid=\d+ /g, ' uid=0 gid=0 ');
  const { dump } = await build(['--all-root']);
  assert.is(diffDumps(want, dump), '');
});

test('--uid-offset 5000: every uid moved by 5000, gids kept', async () => {
  const want = (await dumpTreeInChild(src)).replace(/ uid=(\d+) /g, (_, u: string) => ` uid=${Number(u) + 5000} `);
  const { dump } = await build(['--uid-offset', '5000']);
  assert.is(diffDumps(want, dump), '');
});

test('--ignore-mtime: every mtime is the oldest one, every inode compact', async () => {
  const srcDump = await dumpTreeInChild(src);
  const mtimes = [...srcDump.matchAll(/ mtime=(\d+)\.(\d{9})/g)].map((m) => BigInt(m[1]!) * 1_000_000_000n + BigInt(m[2]!));
  const min = mtimes.reduce((a, b) => (b < a ? b : a));
  const minS = `${min / 1_000_000_000n}.${(min % 1_000_000_000n).toString().padStart(9, '0')}`;
  const want = srcDump.replace(/ mtime=\d+\.\d{9}/g, ` mtime=${minS}`);
  const { image, dump } = await build(['--ignore-mtime']);
  assert.is(diffDumps(want, dump), '');
  assert.equal(inodeForms(image).extended, 0);
});

test.run();
