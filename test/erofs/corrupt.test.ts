// Corrupt images served by tsfuse (worker mode, 2 workers). A small tree of our own (about 280 inodes, one
// directory of 250 entries spanning several dirent blocks) is built uncompressed and with lz4; the kit makes
// damaged copies (truncations, superblock field edits with the checksum fixed, seeded byte flips in the
// superblock, root inode, inodes, dirents, xattrs and metadata), and this file adds the flips again with the
// superblock checksum recomputed (in a small image the inodes and dirents share block 0 with the
// superblock, so without that the checksum alone rejects them) and flips in lz4-compressed data.
//
// For every copy: the mount either fails cleanly (an error naming the problem, nothing left mounted), or a
// bounded walk in a child process (lstat, readdir, readlink, read, getfattr of everything) finishes within
// its timeout, the watchdog never fires, no serving thread dies, the root still answers afterwards, and
// every error is EIO. Where tsfuse answers something else (ENOENT for a dirent name that a corrupt order hides
// from lookup, EOPNOTSUPP for an unknown inode format, ENODATA for a mangled xattr name), the in-kernel
// EROFS driver must give that same answer for the same operation on the same copy. Reads outside the image
// cannot happen (every read of the reader is bounds-checked against the image size). Needs root.

import * as fs from 'node:fs';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { type CorruptCopy, Prng, buildImage, corruptCopies, fixSuperblockChecksum, mapImage, run, withKernelMount } from './kit/index.js';
import { diffDumps, dumpTreeInChild } from '../helpers/tree-dump.js';
import { Timings, isMounted, serverLines, tempDir, withErofsMount } from './conformance/mount.js';
import { tinyTree } from './conformance/trees.js';
import type { WalkResult } from './conformance/walk-child.js';

const WALKER = fileURLToPath(new URL('./conformance/walk-child.js', import.meta.url));
const WALK_TIMEOUT_MS = 20_000;
const WATCHDOG_MS = 60_000;
const base = tempDir('tsfuse-corrupt-');
const timings = new Timings('corrupt timings');

interface Copy extends Pick<CorruptCopy, 'file' | 'kind' | 'target' | 'description'> {
  image: 'plain' | 'lz4';
}

const state = { copies: [] as Copy[], intact: { plain: '', lz4: '' } };
let treeEntries = 0;
const outcomes: string[] = [];

/** The same flips, with the superblock checksum recomputed so they reach the inodes/dirents/xattrs. */
function withFixedChecksum(copies: CorruptCopy[], dir: string): Copy[] {
  const out: Copy[] = [];
  for (const c of copies) {
    if (c.kind !== 'flip' || c.target.startsWith('superblock')) continue;
    const b = fs.readFileSync(c.file);
    fixSuperblockChecksum(b);
    const file = path.join(dir, path.basename(c.file).replace(/\.erofs$/, '-csum.erofs'));
    fs.writeFileSync(file, b);
    out.push({ file, kind: 'flip', target: c.target, description: `${c.description} (checksum recomputed)`, image: 'plain' });
  }
  return out;
}

/** Byte flips in file data blocks (blocks holding no inode, dirent or xattr; mkfs.erofs 1.5 interleaves them). */
function dataFlips(image: string, kind: 'plain' | 'lz4', dir: string, seed: string, count: number): Copy[] {
  const img = fs.readFileSync(image);
  const map = mapImage(img);
  const bs = map.sb.blockSize;
  const meta = new Set([0]);
  for (const r of [...map.metadata, ...map.dirents, ...map.xattrs]) {
    for (let b = Math.floor(r.offset / bs); b <= Math.floor((r.offset + r.length - 1) / bs); b++) meta.add(b);
  }
  const data: number[] = [];
  for (let b = 0; b < img.length / bs; b++) if (!meta.has(b)) data.push(b);
  assert.ok(data.length > 0, `${kind}: no data blocks found`);
  const rng = new Prng(`data:${seed}`);
  const out: Copy[] = [];
  for (let k = 0; k < count; k++) {
    const b = Buffer.from(img);
    const parts: string[] = [];
    for (let f = 0; f < 1 + rng.int(6); f++) {
      const off = rng.pick(data) * bs + rng.int(bs);
      const x = 1 + rng.int(255);
      b[off] = b[off]! ^ x;
      parts.push(`@${off}^0x${x.toString(16)}`);
    }
    fixSuperblockChecksum(b);
    const file = path.join(dir, `${kind}-data-${k}.erofs`);
    fs.writeFileSync(file, b);
    out.push({ file, kind: 'flip', target: 'data', description: `${kind === 'lz4' ? 'compressed ' : ''}data: ${parts.join(' ')}`, image: kind });
  }
  return out;
}

test.before(async () => {
  const root = tinyTree(path.join(base, 'tree'), 250, 4);
  treeEntries = 1 + Number((await run('find', [root, '-mindepth', '1'], { timeoutMs: 10_000 })).stdout.toString().trim().split('\n').length);
  state.intact.plain = path.join(base, 'plain.erofs');
  state.intact.lz4 = path.join(base, 'lz4.erofs');
  await timings.time('build images', async () => {
    await buildImage(root, state.intact.plain, 'default');
    await buildImage(root, state.intact.lz4, 'lz4');
  });
  fs.rmSync(root, { recursive: true, force: true });
  const dir = path.join(base, 'copies');
  const plain = corruptCopies(state.intact.plain, path.join(dir, 'plain'), 'conformance-1', 8);
  const lz4 = corruptCopies(state.intact.lz4, path.join(dir, 'lz4'), 'conformance-2-2', 7).filter((c) => c.kind === 'flip');
  state.copies.push(
    ...plain.map((c) => ({ ...c, image: 'plain' as const })),
    ...withFixedChecksum(plain, path.join(dir, 'plain')),
    ...withFixedChecksum(lz4, path.join(dir, 'lz4')).map((c) => ({ ...c, image: 'lz4' as const })),
    ...dataFlips(state.intact.plain, 'plain', path.join(dir, 'plain'), 'conformance-3', 3),
    ...dataFlips(state.intact.lz4, 'lz4', path.join(dir, 'lz4'), 'conformance-4', 8),
  );
  const bytes = state.copies.reduce((n, c) => n + fs.statSync(c.file).size, 0);
  timings.note(`${state.copies.length} corrupt copies, ${(bytes / 1024).toFixed(0)} KiB on disk, tree of ${treeEntries} entries`);
});

test.after(() => {
  timings.print();
  console.log(`corrupt outcomes:\n  ${outcomes.join('\n  ')}`);
  fs.rmSync(base, { recursive: true, force: true });
});

async function walkInChild(root: string): Promise<WalkResult> {
  const r = await run(process.execPath, [WALKER, root], { timeoutMs: WALK_TIMEOUT_MS });
  return JSON.parse(r.stdout.toString('utf8')) as WalkResult;
}

/** What the kernel's EROFS driver answers for the same operations (undefined: it does not mount the copy). */
async function kernelAnswers(image: string, failures: WalkResult['failures']): Promise<string[] | undefined> {
  try {
    return await withKernelMount(image, async (dir) => {
      const r = await run(process.execPath, [WALKER, '--probe', dir, JSON.stringify(failures)], { timeoutMs: WALK_TIMEOUT_MS });
      return JSON.parse(r.stdout.toString('utf8')) as string[];
    }, { timeoutMs: 10_000 });
  } catch (e) {
    if (/mount .* exit/.test((e as Error).message)) return undefined;
    throw e;
  }
}

async function rootAnswers(mnt: string): Promise<string> {
  const r = await run('stat', ['-c', '%F', mnt], { timeoutMs: 5_000, check: false });
  return r.stdout.toString().trim() || r.stderr.trim();
}

interface Served {
  mounted: boolean;
  error?: string;
  walk?: WalkResult;
  logs: string[];
}

async function serve(image: string, extra?: (mnt: string) => Promise<void>): Promise<Served> {
  let mnt = '';
  try {
    return await withErofsMount({ image, workers: 2, timeoutMs: WATCHDOG_MS }, async (h) => {
      mnt = h.mnt;
      const t0 = performance.now();
      const walk = await walkInChild(h.mnt);
      const ms = performance.now() - t0;
      assert.ok(ms < WALK_TIMEOUT_MS, 'the walk finished in time');
      assert.is(await rootAnswers(h.mnt), 'directory', 'the root still answers after the walk');
      assert.equal(h.threadEvents, [], 'no serving thread ended');
      assert.ok(h.m.session.alive, 'the session is alive');
      assert.is(h.m.session.threads, 2);
      if (extra) await extra(h.mnt);
      return { mounted: true, walk, logs: h.logs };
    });
  } catch (e) {
    const msg = (e as Error).message;
    if (e instanceof assert.Assertion || /timed out|watchdog/.test(msg)) throw e;
    // the mount failed: cleanly, with a reason, and nothing stays mounted
    if (mnt) throw e; // failed after mounting: not a clean mount failure
    return { mounted: false, error: msg, logs: [] };
  }
}

test('control: the intact images walk without errors', async () => {
  for (const kind of ['plain', 'lz4'] as const) {
    const s = await serve(state.intact[kind]);
    assert.ok(s.mounted, s.error);
    assert.equal(s.walk!.errors, {}, `${kind}: ${JSON.stringify(s.walk!.failures.slice(0, 5))}`);
    assert.is(s.walk!.entries, treeEntries);
    assert.ok(s.walk!.xattrLines >= 10, 'xattrs were read');
    assert.equal(serverLines(s.logs), []);
  }
});

test('every corrupt copy: clean mount failure, or a walk that ends in time with EIO (or what the kernel answers)', async () => {
  assert.ok(state.copies.length >= 30, `${state.copies.length} copies`);
  const problems: string[] = [];
  let mountFailures = 0;
  let walkedWithErrors = 0;
  let dataErrors = 0;
  for (const c of state.copies) {
    const label = `${path.basename(c.file)} (${c.description})`;
    const t0 = performance.now();
    // Corrupt file data: the kernel is the oracle again. Both must show the same (garbage) content, or tsfuse
    // EIO where the kernel fails too (EUCLEAN from its lz4 decompressor).
    const oracle = c.target === 'data'
      ? async (mnt: string): Promise<void> => {
          const kernel = await withKernelMount(c.file, (d) => dumpTreeInChild(d, WALK_TIMEOUT_MS));
          const ours = await dumpTreeInChild(mnt, WALK_TIMEOUT_MS);
          const k = kernel.split('\n');
          const t = ours.split('\n');
          if (k.length !== t.length) problems.push(`${label}: dumps of ${k.length} and ${t.length} lines\n${diffDumps(kernel, ours, 5, ['kernel', 'tsfuse'])}`);
          for (let i = 0; i < Math.min(k.length, t.length); i++) {
            if (k[i] === t[i]) continue;
            const both = / sha256=!error:EIO$/.test(t[i]!) && / sha256=!error:/.test(k[i]!) && k[i]!.replace(/ sha256=.*/, '') === t[i]!.replace(/ sha256=.*/, '');
            if (both) dataErrors++;
            else problems.push(`${label}: kernel ${k[i]}\n  tsfuse ${t[i]}`);
          }
        }
      : undefined;
    let s: Served;
    try {
      s = await serve(c.file, oracle);
    } catch (e) {
      throw new Error(`${label}: ${(e as Error).message}`, { cause: e });
    }
    const ms = (performance.now() - t0).toFixed(0);
    if (!s.mounted) {
      mountFailures++;
      const first = s.error!.split('\n')[0]!;
      outcomes.push(`${ms} ms ${path.basename(c.file)}: mount refused: ${first.slice(0, 160)}`);
      if (!/corrupt EROFS image|unsupported EROFS feature/.test(first)) problems.push(`${label}: unclear mount error: ${first}`);
      continue;
    }
    const w = s.walk!;
    const errs = Object.entries(w.errors);
    if (errs.length > 0) walkedWithErrors++;
    outcomes.push(`${ms} ms ${path.basename(c.file)}: walked ${w.entries} entries, ${errs.length ? errs.map(([k, n]) => `${k} x${n}`).join(', ') : 'no errors'}`);
    if (w.truncated) problems.push(`${label}: the walk hit its entry/depth bound`);
    // EIO is the answer to corruption; anything else must be what the kernel answers too
    const other = w.failures.filter((f) => f.code !== 'EIO');
    const unlisted = Object.entries(w.errors).filter(([k]) => !k.endsWith(' EIO')).reduce((n, [, v]) => n + v, 0) - other.length;
    if (unlisted > 0) problems.push(`${label}: more non-EIO errors than recorded failures`);
    if (other.length > 0) {
      const kernel = await kernelAnswers(c.file, other);
      const mismatch = other.filter((f, i) => kernel?.[i] !== f.code);
      for (const f of mismatch) {
        problems.push(`${label}: ${f.op} ${JSON.stringify(f.path)} -> ${f.code}, kernel: ${kernel ? kernel[other.indexOf(f)] : 'does not mount the copy'}`);
      }
      outcomes.push(`    non-EIO answers, kernel agrees: ${other.filter((f) => !mismatch.includes(f)).map((f) => `${f.op} ${f.code}`).join(', ') || '-'}`);
    }
    // every EIO comes with a logged reason
    if (w.errors && Object.keys(w.errors).some((k) => k.endsWith(' EIO')) && !serverLines(s.logs).some((l) => /corrupt EROFS image/.test(l))) {
      problems.push(`${label}: EIO without a logged reason`);
    }
  }
  timings.note(`${mountFailures} copies refused at mount, ${walkedWithErrors} mounted with errors, ${state.copies.length - mountFailures - walkedWithErrors} walked cleanly`);
  timings.note(`data flips: ${dataErrors} files unreadable in both the kernel and tsfuse, every other file identical`);
  assert.equal(problems, []);
});

test('nothing stays mounted', () => {
  const left = fs.readFileSync('/proc/self/mountinfo', 'utf8').split('\n').filter((l) => l.includes('tsfuse-conf-') && / - fuse/.test(l));
  assert.equal(left, []);
  assert.not.ok(isMounted(base));
});

test.run();
