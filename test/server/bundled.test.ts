// What code in the bundle loads by path (src/server/bundled.ts): outside the bundle every path is itself; a
// serving worker started from a bundle file (dist/bundle/erofs-worker.js, as `erofs mount` starts it) refuses a
// filesystem module its file does not hold, with one clear line, rather than loading a second copy of the
// server's code from dist/src. (That it serves the module it holds: test/erofs/cli-mount.test.ts.)

import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { bundledModule, readerScript, workerScript } from '../../src/server/bundled.js';
import type { WorkerMessage } from '../../src/server/worker.js';

const WORKER = new URL('../../src/server/worker.js', import.meta.url);
const READER = new URL('../../src/server/reader-thread.js', import.meta.url);
const HELLO = fileURLToPath(new URL('../../src/fs/hello.js', import.meta.url));
const EROFS_FS = fileURLToPath(new URL('../../src/erofs/filesystem.js', import.meta.url));
const EROFS_WORKER = fileURLToPath(new URL('../../bundle/erofs-worker.js', import.meta.url));

test('outside the bundle: threads start from dist/src and modules load from their own path', () => {
  assert.is(workerScript(WORKER, EROFS_FS), fileURLToPath(WORKER));
  assert.is(readerScript(READER), fileURLToPath(READER));
  assert.is(bundledModule(HELLO), undefined);
});

test('a worker started from a bundle file refuses a module its file does not hold', async () => {
  const w = new Worker(EROFS_WORKER, { workerData: { role: 'serve', index: 0, module: { module: HELLO } } });
  try {
    const first = await new Promise<WorkerMessage>((resolve, reject) => {
      w.once('message', resolve);
      w.once('error', reject);
    });
    assert.is(first.type, 'error');
    assert.match((first as { message: string }).message, /src\/fs\/hello\.js is not in the bundle file erofs-worker\.js/);
  } finally {
    await w.terminate();
  }
});

test.run();
