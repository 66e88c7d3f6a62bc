// The passthrough's warm-up (src/server/warm-up/write-walk.ts, PassthroughFs.warmUpTwin): the worker, once its
// fd has been quiet after INIT, plays creates, setattrs, renames, removals and a tree walk against a twin
// rooted in a scratch directory of its own. What it must never do: touch SOURCE, leave its scratch directory
// behind, or answer the kernel with the twin's data. Over io_uring the worker serves from the ring and does not
// warm up.

import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import fs from 'node:fs';
import path from 'node:path';
import { createPassthroughFs, passthroughModule, PASSTHROUGH_MODULE_WANT, PassthroughFs } from '../../src/fs/passthrough/index.js';
import { InitFlags } from '../../src/protocol/abi.js';
import { InterruptTable } from '../../src/server/interrupts.js';
import { walkFor } from '../../src/server/warm-up/idle-warm-up.js';
import { TwinLink } from '../../src/server/warm-up/twin-link.js';
import { waitFor } from '../helpers/fs-wrappers.js';
import { withMount } from '../helpers/mount.js';
import { makeSource, removeSource } from '../helpers/passthrough.js';
import { inPython } from '../helpers/python.js';
import { URING_PASS } from '../helpers/uring.js';

const t = suite('passthrough warm-up');
const DONE = /^\[worker (\d+)\] tsfuse: warm-up done: (\d+) requests \((\d+) failed\)/;
const SCRATCH_PREFIX = 'tsfuse-warm-pt-';

/** Every entry under `dir` with what a write would change (not atime: reads may set it). */
function snapshot(dir: string): string[] {
  const out: string[] = [];
  const visit = (p: string): void => {
    const st = fs.lstatSync(p, { bigint: true });
    out.push(`${path.relative(dir, p) || '.'} ${st.ino} ${st.mode} ${st.nlink} ${st.size} ${st.mtimeNs} ${st.ctimeNs}`);
    if (st.isDirectory()) for (const n of fs.readdirSync(p).sort()) visit(path.join(p, n));
  };
  visit(dir);
  return out;
}

/** Scratch directories of passthrough twins that exist now. */
function twinScratchDirs(): string[] {
  const out: string[] = [];
  for (const base of ['/dev/shm', '/tmp']) {
    try {
      for (const n of fs.readdirSync(base)) if (n.startsWith(SCRATCH_PREFIX)) out.push(path.join(base, n));
    } catch {
      // no such base
    }
  }
  return out;
}

function fill(src: string): void {
  fs.mkdirSync(path.join(src, 'sub'));
  fs.writeFileSync(path.join(src, 'sub', 'a'), 'alpha');
  fs.writeFileSync(path.join(src, 'b'), 'bravo');
  fs.symlinkSync('b', path.join(src, 'link'));
}

for (const nocache of [false, true]) {
  t(`${nocache ? 'nocache' : 'cache'}: the walk runs every request against a twin in its own scratch directory, which it removes`, async () => {
    const src = makeSource('tsfuse-ptwarm-');
    try {
      fill(src);
      const before = snapshot(src);
      const pt = createPassthroughFs({ source: src, nocache, log: () => undefined });
      const twin = pt.warmUpTwin();
      assert.ok(twin instanceof PassthroughFs);
      assert.ok(twin.warmUpWrites(), 'the twin takes the write walk');
      assert.not.ok(pt.warmUpWrites(), 'the real filesystem is not a twin');
      const scratch = twin.source;
      assert.ok(!scratch.startsWith(src) && !src.startsWith(scratch), `the twin's ${scratch} is apart from ${src}`);
      assert.equal(fs.readdirSync(scratch), [], 'the twin starts empty');
      twin.init({ minor: 45, flags: InitFlags.of('DO_READDIRPLUS', 'READDIRPLUS_AUTO', 'EXPORT_SUPPORT'), maxWrite: 1 << 20, maxReadahead: 0, passthrough: false });
      const link = new TwinLink(twin, { entryTimeout: twin.timeout, attrTimeout: twin.timeout, negativeTimeout: 0, debug: false, setxattrExt: true, log: () => undefined }, new InterruptTable(), (1 << 20) + 4096);
      link.start(walkFor(twin, link));
      let slices = 0;
      while (link.step(32)) {
        slices++;
        if (slices === 20) assert.ok(fs.readdirSync(scratch).length > 0, 'the walk works in the scratch directory');
      }
      assert.ok(link.requests > 5000, `${link.requests} requests`);
      assert.is(link.failures, 0, 'no request of the walk failed');
      assert.not.ok(fs.existsSync(scratch), 'the twin removed its scratch directory');
      assert.equal(snapshot(src), before, 'SOURCE untouched');
      assert.is(pt.stats().inodes, 1, 'the real inode table has only its root');
      pt.destroy();
    } finally {
      removeSource(src);
    }
  });
}

t('worker mode: the worker warms up once the mount is quiet, SOURCE stays untouched, the scratch directory goes', async () => {
  const src = makeSource('tsfuse-ptwarm-');
  const logs: string[] = [];
  try {
    fill(src);
    const before = snapshot(src);
    const scratchBefore = new Set(twinScratchDirs());
    await withMount(
      passthroughModule({ source: src }),
      {
        fsname: src, subtype: 'passthrough', options: ['allow_other'], passthrough: true, entryTimeout: 86400, attrTimeout: 86400,
        want: ['EXPORT_SUPPORT', 'HANDLE_KILLPRIV_V2', ...PASSTHROUGH_MODULE_WANT], warmUp: true, debug: true, log: (m) => logs.push(m), timeoutMs: 60_000,
      },
      async ({ mnt }) => {
        if (URING_PASS) {
          // the worker serves from the ring there: nothing to warm up, and nothing must claim it did
          await new Promise((r) => setTimeout(r, 300));
          assert.is(logs.filter((l) => DONE.test(l)).length, 0);
        } else {
          await waitFor(() => logs.some((l) => DONE.test(l)), 30_000, 'the worker warmed up');
          const m = DONE.exec(logs.find((l) => DONE.test(l))!)!;
          assert.ok(Number(m[2]) > 5000, `${m[2]} requests`);
          assert.is(m[3], '0', 'no request of the warm-up failed');
        }
        assert.equal(logs.filter((l) => /warm-up stopped|passthrough:/.test(l)), [], 'nothing went wrong or was warned about');
        assert.equal(snapshot(src), before, 'SOURCE untouched by the warm-up');
        const left = twinScratchDirs().filter((d) => !scratchBefore.has(d));
        assert.equal(left, [], 'no scratch directory left behind');
        // the mount still shows SOURCE and only SOURCE, and writes through it land there
        const seen = await inPython<string[]>(mnt, [
          "open(P('new'), 'w').write('x')",
          "os.chmod(P('new'), 0o600)",
          "os.rename(P('new'), P('newer'))",
          'return sorted(os.listdir(P(".")))',
        ].join('\n'));
        assert.equal(seen, ['b', 'link', 'newer', 'sub']);
        assert.is(fs.readFileSync(path.join(src, 'newer'), 'utf8'), 'x');
      },
    );
  } finally {
    removeSource(src);
  }
});

t('--no-warm-up (warmUp false) leaves the worker cold', async () => {
  const src = makeSource('tsfuse-ptwarm-');
  const logs: string[] = [];
  try {
    await withMount(
      passthroughModule({ source: src }),
      { fsname: src, subtype: 'passthrough', passthrough: true, want: [...PASSTHROUGH_MODULE_WANT], warmUp: false, debug: true, log: (m) => logs.push(m), timeoutMs: 60_000 },
      async ({ mnt }) => {
        await inPython(mnt, 'return len(os.listdir(P(".")))');
        await new Promise((r) => setTimeout(r, 500));
        assert.is(logs.filter((l) => DONE.test(l)).length, 0);
      },
    );
  } finally {
    removeSource(src);
  }
});

t.run();
