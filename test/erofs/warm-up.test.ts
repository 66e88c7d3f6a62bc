// The image server's warm-up (src/server/warm-up/): each worker, once its fd has been quiet after INIT, walks a
// throw-away twin of its filesystem over the built-in image so that its request path is compiled before real
// requests come. What it must never do: answer anything the kernel asked with the twin's data, hold up real
// requests, or run when turned off. Over io_uring workers serve from the ring and do not warm up.

import { test } from 'uvu';
import * as assert from 'uvu/assert';
import * as path from 'node:path';
import { serverLines, withErofsMount } from './conformance/mount.js';
import { assertSameDump, kernelDump } from './conformance/oracle.js';
import { ErofsFilesystem } from '../../src/erofs/filesystem.js';
import { InitFlags } from '../../src/protocol/abi.js';
import { InterruptTable } from '../../src/server/interrupts.js';
import { TwinLink } from '../../src/server/warm-up/twin-link.js';
import { treeWalk } from '../../src/server/warm-up/walk.js';
import { EROFS_FIXTURES } from '../helpers/fixtures.js';
import { waitFor } from '../helpers/fs-wrappers.js';
import { dumpTreeInChild } from '../helpers/tree-dump.js';
import { inPython } from '../helpers/python.js';
import { URING_PASS } from '../helpers/uring.js';

const IMAGE = path.join(EROFS_FIXTURES, 'plain.erofs');
const DONE = /^\[worker (\d+)\] tsfuse: warm-up done: (\d+) requests \((\d+) failed\)/;
const skip = process.getuid?.() !== 0;

function warmUps(logs: string[]): { worker: number; requests: number; failed: number }[] {
  return logs.flatMap((l) => {
    const m = DONE.exec(l);
    return m ? [{ worker: Number(m[1]), requests: Number(m[2]), failed: Number(m[3]) }] : [];
  });
}

test('the walk plays a whole listing-and-lookup mix against the twin, every request answered', async () => {
  const fs = new ErofsFilesystem({ image: IMAGE });
  const twin = fs.warmUpTwin();
  assert.ok(twin instanceof ErofsFilesystem, 'an image read from a file has a twin');
  await twin.init({ minor: 45, flags: InitFlags.of('DO_READDIRPLUS', 'READDIRPLUS_AUTO', 'NO_OPEN_SUPPORT', 'NO_OPENDIR_SUPPORT'), maxWrite: 1 << 20, maxReadahead: 0, passthrough: false });
  const walk = new TwinLink(twin, { entryTimeout: 1, attrTimeout: 1, negativeTimeout: 0, debug: false, setxattrExt: true, log: () => undefined }, new InterruptTable(), (1 << 20) + 4096);
  walk.start(treeWalk(walk));
  let slices = 0;
  while (walk.step(32)) slices++;
  assert.ok(walk.requests > 500, `${walk.requests} requests`);
  assert.ok(slices > 10, 'done in slices');
  assert.is(walk.failures, 0, 'no request of the walk failed');
  // the real instance's caches were not touched: its first lookup of the root still works as on a new one
  assert.ok(fs.getattr({ uid: 0, gid: 0, pid: 0, opcode: 0, interrupted: false } as never, 1).mode > 0);
  fs.destroy();
});

test('each worker warms up once the mount is quiet, and the tree is still the kernel\'s', async () => {
  if (skip) return console.log('  (skipped: needs root)');
  const kernel = await kernelDump(IMAGE);
  await withErofsMount({ image: IMAGE, workers: 2, debug: true }, async (h) => {
    if (URING_PASS) {
      // the workers serve from the ring there: nothing to warm up, and nothing must claim it did
      await new Promise((r) => setTimeout(r, 300));
      assert.equal(warmUps(h.logs), []);
    } else {
      await waitFor(() => warmUps(h.logs).length === 2, 20_000, 'both workers warmed up');
      const done = warmUps(h.logs);
      assert.equal(done.map((d) => d.worker).sort(), [0, 1]);
      for (const d of done) {
        assert.ok(d.requests > 500, `worker ${d.worker}: ${d.requests} requests`);
        assert.is(d.failed, 0, `worker ${d.worker}: failed requests`);
      }
    }
    assertSameDump(kernel, await dumpTreeInChild(h.mnt, 60_000), 'after the warm-up');
    assert.equal(serverLines(h.logs).filter((l) => /warm-up stopped/.test(l)), []);
  });
});

test('requests that come while the workers warm up are answered, and answered right', async () => {
  if (skip) return console.log('  (skipped: needs root)');
  await withErofsMount({ image: IMAGE, workers: 2, debug: true }, async (h) => {
    // bursts with pauses longer than the quiet time, so warm-up slices run between them
    const rounds = await inPython<string[]>(h.mnt, [
      'import time',
      'out = []',
      'for i in range(60):',
      '    names = []',
      '    for root, dirs, files in os.walk(P(".")):',
      '        dirs.sort()',
      '        for f in sorted(files): names.append(os.path.relpath(os.path.join(root, f), P(".")) + ":" + str(os.lstat(os.path.join(root, f)).st_size))',
      '    out.append("\\n".join(names))',
      '    time.sleep(0.03)',
      'return out',
    ].join('\n'), { timeoutMs: 60_000 });
    assert.ok(rounds[0]!.split('\n').length > 50, 'a real tree was walked');
    for (let i = 1; i < rounds.length; i++) assert.is(rounds[i], rounds[0], `walk ${i} saw what walk 0 saw`);
    if (!URING_PASS) await waitFor(() => warmUps(h.logs).length === 2, 20_000, 'both workers warmed up meanwhile');
  });
});

test('warmUp: false leaves the workers cold', async () => {
  if (skip) return console.log('  (skipped: needs root)');
  await withErofsMount({ image: IMAGE, workers: 2, debug: true, warmUp: false }, async (h) => {
    await inPython(h.mnt, 'return len(os.listdir(P(".")))');
    await new Promise((r) => setTimeout(r, 500));
    assert.equal(warmUps(h.logs), []);
  });
});

test.run();
