// Worker mode's serve-first: the owning thread answers the first requests while the first worker boots, and
// Session.mount() resolves only once a worker serves, so a program may call fs.statSync on its own mount right
// after `await mount()` (that thread serving alone then would deadlock). Each case runs the mount in a child
// process (fixtures/stat-after-mount.ts) and keeps the watchdog here: a thread blocked in statSync cannot run
// its own timer.

import { mkdtempSync, readFileSync, rmdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { startWatchdog } from '../helpers/mount.js';
import { run } from '../helpers/client.js';
import { abortConnection, ensureFusectl } from '../../src/kernel/fusectl.js';
import { unmountFuse } from '../../src/kernel/mount.js';
import { OWNER_SIZE, WORKER_SIZE } from './fixtures/thread-sized-fs.js';

const MOUNTER = fileURLToPath(new URL('./fixtures/stat-after-mount.js', import.meta.url));
/** A worker's filesystem is built this much later than the owner's, so who answers first is not a race. */
const WORKER_DELAY_MS = 300;

interface Outcome {
  afterMount: number | string;
  polled: (number | string)[];
}

async function mountInChild(cfg: { workers: number; serveFirst?: boolean; embedded?: boolean }): Promise<Outcome> {
  const mnt = mkdtempSync(join(tmpdir(), 'tsfuse-serve-first-'));
  const embeddedAt = cfg.embedded ? mkdtempSync(join(tmpdir(), 'tsfuse-serve-first-embedded-')) : undefined;
  try {
    ensureFusectl();
  } catch {
    // the watchdog falls back to a lazy unmount
  }
  const watchdog = startWatchdog(mnt, 30_000, () => {
    abortConnection(mnt);
    if (embeddedAt) abortConnection(embeddedAt);
  }, embeddedAt ? [embeddedAt] : []);
  try {
    const r = await run(process.execPath, [MOUNTER, JSON.stringify({ mnt, ...cfg, embeddedAt, workerDelayMs: WORKER_DELAY_MS })], { timeoutMs: 40_000 });
    watchdog.check();
    assert.is(r.code, 0, `the mounting process failed: ${r.stderr}`);
    return JSON.parse(r.stdout.trim().split('\n').pop()!) as Outcome;
  } finally {
    watchdog.stop();
    for (const dir of [mnt, embeddedAt]) {
      if (dir === undefined) continue;
      if (readFileSync('/proc/mounts', 'utf8').split('\n').some((l) => l.split(' ')[1] === dir)) {
        abortConnection(dir);
        unmountFuse(dir, { lazy: true });
      }
      rmdirSync(dir);
    }
  }
}

test('2 workers: the owning thread answers first, a worker takes over, statSync right after mount() answers', async () => {
  const o = await mountInChild({ workers: 2 });
  assert.is(o.polled[0], OWNER_SIZE, `first answers: ${o.polled.slice(0, 5).join(',')}`);
  assert.is(o.polled[o.polled.length - 1], WORKER_SIZE);
  // every stat from the first answer on succeeded: nothing failed or got lost at the hand-over
  assert.equal(o.polled.filter((x) => typeof x !== 'number'), []);
  assert.is(o.afterMount, WORKER_SIZE);
});

test('1 worker: no serve-first unless asked (instances may not be interchangeable); statSync right after mount() answers', async () => {
  const o = await mountInChild({ workers: 1 });
  assert.is(o.polled[0], WORKER_SIZE, `first answers: ${o.polled.slice(0, 5).join(',')}`);
  assert.is(o.afterMount, WORKER_SIZE);
});

test('1 worker with serveFirst: the owning thread answers first; statSync right after mount() answers', async () => {
  const o = await mountInChild({ workers: 1, serveFirst: true });
  assert.is(o.polled[0], OWNER_SIZE, `first answers: ${o.polled.slice(0, 5).join(',')}`);
  assert.equal(o.polled.filter((x) => typeof x !== 'number'), []);
  assert.is(o.afterMount, WORKER_SIZE);
});

test('no serve-first while this thread serves an embedded mount (the filesystem code could call into it)', async () => {
  const o = await mountInChild({ workers: 2, embedded: true });
  assert.is(o.polled[0], WORKER_SIZE, `first answers: ${o.polled.slice(0, 5).join(',')}`);
  assert.is(o.afterMount, WORKER_SIZE);
});

test.run();
