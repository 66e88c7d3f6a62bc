// Runs damaged images through every reader entry point (and the Filesystem), in a worker so the test can
// kill it when a case takes too long. Anything thrown that is not an Errno (CorruptImageError and
// UnsupportedFeatureError are Errnos) is reported as a failure.

import { parentPort, workerData } from 'node:worker_threads';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { Errno } from '../../../src/protocol/errno.js';
import { ErofsReader } from '../../../src/erofs/reader/reader.js';
import { BufferByteSource } from '../../../src/erofs/buffer-byte-source.js';
import { dumpComposefs } from '../../../src/erofs/dump.js';
import { describeImage } from '../../../src/erofs/describe.js';
import { createErofsFilesystem } from '../../../src/erofs/filesystem.js';
import type { ErofsInode } from '../../../src/erofs/reader/inode.js';
import { flips, truncations, type Mutation } from './mutate.js';
import { zstdReady } from '../../../src/compress/zstd.js';
import type { DirentPlusSink, RequestContext } from '../../../src/fs/types.js';

interface Job {
  fixtures: string[];
  dir: string;
  seed: number;
  flipsPerImage: number;
  truncationsPerImage: number;
}

const job = workerData as Job;
const ctx: RequestContext = { uid: 0, gid: 0, pid: 1, opcode: 0, interrupted: false };

function check(failures: string[], where: string, e: unknown): void {
  if (e instanceof Errno) return;
  failures.push(`${where}: ${(e as Error)?.stack ?? String(e)}`);
}

function attempt(failures: string[], where: string, fn: () => void): void {
  try {
    fn();
  } catch (e) {
    check(failures, where, e);
  }
}

function exerciseReader(image: Uint8Array, failures: string[]): void {
  let r: ErofsReader;
  try {
    r = new ErofsReader(new BufferByteSource(image), { extentCacheBytes: 1 << 20 });
  } catch (e) {
    check(failures, 'open', e);
    return;
  }
  const seen = new Set<number>();
  const stack = [r.rootNid];
  let budget = 3000;
  while (stack.length && budget-- > 0) {
    const nid = stack.pop()!;
    if (seen.has(nid)) continue;
    seen.add(nid);
    let ino: ErofsInode;
    try {
      ino = r.inode(nid);
    } catch (e) {
      check(failures, `inode ${nid}`, e);
      continue;
    }
    attempt(failures, `xattrs ${nid}`, () => {
      for (const n of r.listXattrNames(ino)) r.getXattr(ino, n);
      r.getXattr(ino, 'user.missing');
      r.getXattr(ino, 'security.capability');
    });
    const type = ino.mode & 0o170000;
    if (type === 0o040000) {
      attempt(failures, `readdir ${nid}`, () => {
        let n = 0;
        for (const e of r.entries(ino)) {
          if (n++ > 5000) break;
          stack.push(e.nid);
          if (n < 40) r.lookup(ino, e.name);
        }
        r.lookup(ino, 'no-such-name');
      });
    } else if (type === 0o100000) {
      attempt(failures, `read ${nid}`, () => {
        r.read(ino, 0, 256 * 1024);
        if (ino.size > 4096) r.read(ino, ino.size - 4097, 8192);
      });
    } else if (type === 0o120000) {
      attempt(failures, `readlink ${nid}`, () => r.readlink(ino));
    }
  }
  attempt(failures, 'dump', () => {
    let total = 0;
    dumpComposefs(r, (c) => {
      total += c.length;
      if (total > 64 << 20) throw new Errno(27, 'dump too large'); // EFBIG: a bound, not a failure
    });
  });
  attempt(failures, 'describe', () => void describeImage(r, { maxInodes: 5000 }));
}

function exerciseFilesystem(image: Uint8Array, failures: string[]): void {
  let f: ReturnType<typeof createErofsFilesystem>;
  try {
    f = createErofsFilesystem({ image, log: () => undefined });
  } catch (e) {
    check(failures, 'fs open', e);
    return;
  }
  const queue = [1];
  const seen = new Set<number>();
  let budget = 500;
  while (queue.length && budget-- > 0) {
    const ino = queue.shift()!;
    if (seen.has(ino)) continue;
    seen.add(ino);
    attempt(failures, `fs getattr ${ino}`, () => void f.getattr(ctx, ino));
    attempt(failures, `fs listxattr ${ino}`, () => void f.listxattr(ctx, ino));
    attempt(failures, `fs readdirplus ${ino}`, () => {
      let offset = 0;
      for (let calls = 0; calls < 200; calls++) {
        let last = -1;
        const sink: DirentPlusSink = {
          add(name, entry, next) {
            if (last !== -1 && next === offset) throw new Error('offset did not advance');
            last = next;
            if (entry.ino && name !== '.' && name !== '..') queue.push(entry.ino);
            return true;
          },
        };
        f.readdirplus(ctx, ino, 0, offset, sink);
        if (last === -1) break;
        offset = last;
      }
    });
    attempt(failures, `fs read ${ino}`, () => {
      const o = f.open(ctx, ino, 0);
      f.read(ctx, ino, o.fh ?? 0, 0, 65536);
    });
  }
}

const port = parentPort!;
// zstd pclusters need the WebAssembly decoder (the Filesystem awaits it in init; the bare reader cannot).
await zstdReady;
for (const name of job.fixtures) {
  const image = new Uint8Array(fs.readFileSync(path.join(job.dir, name)));
  const cases: Mutation[] = [
    ...truncations(name, image, job.seed, job.truncationsPerImage),
    ...flips(name, image, job.seed, job.flipsPerImage),
  ];
  for (const c of cases) {
    port.postMessage({ type: 'start', id: c.id });
    const t0 = performance.now();
    const failures: string[] = [];
    exerciseReader(c.image, failures);
    exerciseFilesystem(c.image, failures);
    port.postMessage({ type: 'done', id: c.id, ms: performance.now() - t0, failures });
  }
}
port.postMessage({ type: 'end' });
