// Many requests in flight per worker (FilesystemModule.inFlight): a worker keeps reading and serving while earlier
// requests await I/O, bounded by inFlight (back-pressure beyond it); replies go out on the fd each request came
// from. A filesystem whose READs take 200 ms, 50 concurrent readers (threads of one python process, one file
// each, direct I/O): the pending READs are counted by the filesystem itself. Needs root.

import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { fileURLToPath } from 'node:url';
import { withMount } from '../helpers/mount.js';
import { inPython } from '../helpers/python.js';
import { PENDING_MAX, READS_DONE, readAllAtOnce } from './fixtures/sleepy-fs.js';

const MODULE = fileURLToPath(new URL('./fixtures/sleepy-fs.js', import.meta.url));
const READERS = 50;
const DELAY_MS = 200;

const READ_ALL = readAllAtOnce(READERS);

async function run(inFlight: number | undefined): Promise<{ max: number; done: number; ms: number; contents: string[] }> {
  const state = new SharedArrayBuffer(16);
  return withMount({ module: MODULE, options: { state, delayMs: DELAY_MS }, inFlight }, { workers: 1, entryTimeout: 60, attrTimeout: 60 }, async ({ mnt }) => {
    const r = await inPython<{ contents: string[]; ms: number }>(mnt, READ_ALL, { timeoutMs: 60_000 });
    const s = new Int32Array(state);
    return { max: Atomics.load(s, PENDING_MAX), done: Atomics.load(s, READS_DONE), ...r };
  });
}

test('one worker with inFlight 64: 50 slow reads are pending at once and finish in about one read time', async () => {
  const r = await run(64);
  assert.equal(r.contents, Array.from({ length: READERS }, (_, i) => `file ${i}\n`), 'every reader got its own file');
  assert.ok(r.max >= READERS * 0.8, `${r.max} READs were pending at once`);
  // Serially these would take 50 x 200 ms = 10 s.
  assert.ok(r.ms < (READERS * DELAY_MS) / 3, `50 reads took ${r.ms.toFixed(0)} ms`);
});

test('inFlight bounds the pending requests of a worker (back-pressure), and every read still completes', async () => {
  const r = await run(8);
  assert.ok(r.max <= 8, `at most 8 pending, saw ${r.max}`);
  assert.ok(r.max >= 4, `several pending, saw ${r.max}`);
  assert.ok(r.done >= READERS, `${r.done} reads done`);
});

test('without inFlight a worker serves one request at a time (the default, synchronous fast path)', async () => {
  const r = await run(undefined);
  assert.is(r.max, 1);
  assert.is(r.contents.length, READERS);
});

test.run();
