// Embedded mode's poll transport (src/server/poll-fd.ts): this thread's event loop reads /dev/fuse itself.
// Async handlers overlap up to slotsPerReader (then reading pauses until one finishes, and resumes); many
// client processes at once get the right answers with sync and async handlers mixed; the transport's own fd
// is closed when the session ends. Needs root.

import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { readdirSync, readlinkSync } from 'node:fs';
import { withMount } from '../helpers/mount.js';
import { inPython } from '../helpers/python.js';
import { run } from '../helpers/client.js';
import { wrapFs } from '../helpers/fs-wrappers.js';
import { createMemFs } from '../../src/fs/memfs.js';
import type { RequestContext } from '../../src/fs/types.js';
import { createFilesystem, PENDING_MAX, READS_DONE, readAllAtOnce } from './fixtures/sleepy-fs.js';

const READERS = 50;
const DELAY_MS = 200;

const READ_ALL = readAllAtOnce(READERS);

async function slowReads(slots: number): Promise<{ max: number; done: number; ms: number; contents: string[] }> {
  const state = new SharedArrayBuffer(16);
  const fs = createFilesystem({ state, delayMs: DELAY_MS });
  return withMount(fs, { slotsPerReader: slots, entryTimeout: 60, attrTimeout: 60, timeoutMs: 60_000 }, async ({ mnt }) => {
    const r = await inPython<{ contents: string[]; ms: number }>(mnt, READ_ALL, { timeoutMs: 60_000 });
    const s = new Int32Array(state);
    return { max: Atomics.load(s, PENDING_MAX), done: Atomics.load(s, READS_DONE), ...r };
  });
}

const expected = Array.from({ length: READERS }, (_, i) => `file ${i}\n`);

test('polled: 50 slow async reads are pending at once with 64 slots', async () => {
  const r = await slowReads(64);
  assert.equal(r.contents, expected, 'every reader got its own file');
  assert.ok(r.max >= READERS * 0.8, `${r.max} READs were pending at once`);
  assert.ok(r.ms < (READERS * DELAY_MS) / 3, `50 reads took ${r.ms.toFixed(0)} ms`);
});

test('polled: with 4 slots at most 4 are pending (reading pauses), and reading resumes until all are served', async () => {
  const r = await slowReads(4);
  assert.equal(r.contents, expected);
  assert.ok(r.max <= 4, `at most 4 pending, saw ${r.max}`);
  assert.ok(r.max >= 2, `several pending, saw ${r.max}`);
  assert.ok(r.done >= READERS, `${r.done} reads done`);
});

// 8 client processes stat 300 files of distinct sizes 5 times each (timeouts 0: every stat reaches the
// server), while every third LOOKUP or GETATTR answers through a Promise, so sync and async lanes interleave.
const STAT_ALL = `
sizes = []
for _ in range(5):
    sizes.append([os.lstat(P("d", "f%d" % i)).st_size for i in range(300)])
return sizes
`;

test('polled: 8 client processes at once, sync and async handlers mixed, every answer right', async () => {
  const mem = createMemFs({ entryTimeout: 0, attrTimeout: 0 });
  let calls = 0;
  const { fs } = wrapFs(mem, {
    lookup: (ctx: RequestContext, parent: number, name: string) => {
      const e = mem.lookup(ctx, parent, name);
      return ++calls % 3 === 0 ? Promise.resolve(e) : e;
    },
    getattr: (ctx: RequestContext, ino: number, fh?: number) => {
      const a = mem.getattr(ctx, ino, fh);
      return ++calls % 3 === 0 ? Promise.resolve(a) : a;
    },
  });
  await withMount(fs, { slotsPerReader: 4, entryTimeout: 0, attrTimeout: 0, timeoutMs: 90_000 }, async ({ mnt }) => {
    await inPython(mnt, `
      os.mkdir(P("d"))
      for i in range(300):
          with open(P("d", "f%d" % i), "wb") as f:
              f.write(b"x" * i)
    `);
    const results = await Promise.all(Array.from({ length: 8 }, () => inPython<number[][]>(mnt, STAT_ALL, { timeoutMs: 60_000 })));
    const want = Array.from({ length: 300 }, (_, i) => i);
    for (const r of results) for (const pass of r) assert.equal(pass, want);
    assert.ok(calls >= 8 * 5 * 300, `${calls} LOOKUPs and GETATTRs reached the filesystem`);
  });
});

test('polled: the transport adds no thread and its fd is closed when the session ends', async () => {
  // libuv's threadpool and the python helper's pipes come and go: count /dev/fuse fds only
  const fuseFds = (): number => readdirSync('/proc/self/fd').filter((f) => {
    try {
      return readlinkSync(`/proc/self/fd/${f}`) === '/dev/fuse';
    } catch {
      return false;
    }
  }).length;
  const before = fuseFds();
  await withMount(createMemFs(), { workers: 1, timeoutMs: 30_000 }, async ({ mnt }) => {
    assert.is(fuseFds(), before + 2, 'the session fd and the polled clone');
    const r = await run('stat', ['-c', '%F', mnt], { timeoutMs: 10_000 });
    assert.is(r.stdout.trim(), 'directory');
  });
  assert.is(fuseFds(), before);
});

test.run();
