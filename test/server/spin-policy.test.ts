// When a worker polls for the next request after an answer (src/server/spin-policy.ts): always while the
// windows keep finding requests, and after a single window that found nothing; after 2, 3, 4 ... windows in a
// row that found nothing, 1, 3, 7 ... 63 answers skip polling; one window that finds a request turns polling
// back on for every answer. And the window itself: it sees a request that is already waiting at once, and
// with none it returns after its time, not before.

import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawnSync } from 'node:child_process';
import { closeSync, constants, mkdtempSync, openSync, rmSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MAX_SKIPPED, pollWindow, SpinPolicy } from '../../src/server/spin-policy.js';

/** The answers a policy lets poll, as a string: 'S' polled, '.' skipped, over `answers` answers, every window finding `found(i)`. */
function pattern(p: SpinPolicy, answers: number, found: (i: number) => boolean): string {
  let s = '';
  for (let i = 0; i < answers; i++) {
    if (p.shouldSpin()) {
      s += 'S';
      p.record(found(i));
    } else s += '.';
  }
  return s;
}

test('windows that find requests: every answer polls', () => {
  assert.is(pattern(new SpinPolicy(), 20, () => true), 'S'.repeat(20));
});

test('a single window that finds nothing now and then: every answer still polls', () => {
  assert.is(pattern(new SpinPolicy(), 30, (i) => i % 5 !== 4), 'S'.repeat(30));
});

test('windows that find nothing, in a row: the skips double up to MAX_SKIPPED, then stay there', () => {
  const want = ['S', 'S', '.', 'S', '...', 'S', '.'.repeat(7), 'S', '.'.repeat(15), 'S', '.'.repeat(31), 'S', '.'.repeat(63), 'S', '.'.repeat(63), 'S'].join('');
  assert.is(pattern(new SpinPolicy(), want.length, () => false), want);
  assert.is(MAX_SKIPPED, 63);
});

test('one window that finds a request turns polling back on for every answer', () => {
  const p = new SpinPolicy();
  pattern(p, 12, () => false); // S S . S ... S ...: ends inside a run of skips
  const after = pattern(p, 40, () => true);
  // the skips left run out, then the first window finds a request and every answer after it polls
  const first = after.indexOf('S');
  assert.ok(first >= 0 && first <= 7, after);
  assert.is(after.slice(first), 'S'.repeat(40 - first));
});

test('the window: a request already waiting is seen at once; with none, the window lasts its time', () => {
  const dir = mkdtempSync(join(tmpdir(), 'tsfuse-spin-'));
  const fifo = join(dir, 'fifo');
  assert.is(spawnSync('mkfifo', [fifo]).status, 0, 'mkfifo');
  // read-write, so the open needs no writer and the fd is never at end of file
  const fd = openSync(fifo, constants.O_RDWR | constants.O_NONBLOCK);
  try {
    let t0 = performance.now();
    assert.not.ok(pollWindow(fd, 5), 'nothing to read');
    assert.ok(performance.now() - t0 >= 5, 'waited the whole window');
    writeSync(fd, 'x');
    t0 = performance.now();
    assert.ok(pollWindow(fd, 2000), 'something to read');
    assert.ok(performance.now() - t0 < 1000, 'returned at once');
  } finally {
    closeSync(fd);
    rmSync(dir, { recursive: true, force: true });
  }
});

test.run();
