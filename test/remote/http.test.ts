// Remote images over plain HTTP: an EROFS image served by a real HTTP server with Range support (its own process
// on 127.0.0.1), mounted lazily by tsfuse. The kernel's mount of the same image file is the oracle.
// Checks: identical tree dumps; one small file costs a small part of the image; a second mount is served from
// the persistent cache with the server stopped; a server killed mid-read gives EIO within the timeout and the
// mount recovers when it is back; an object that changes under the mount gives EIO; a 404 fails the mount with
// one line. Needs root.

import * as fs from 'node:fs';
import * as path from 'node:path';
import { randomBytes } from 'node:crypto';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { buildImage, generateTree } from '../erofs/kit/index.js';
import { dumpTreeInChild } from '../helpers/tree-dump.js';
import { withErofsMount } from '../erofs/conformance/mount.js';
import { waitFor } from '../helpers/fs-wrappers.js';
import { assertSameDump, assertSubstantial, kernelDump, tsfuseDump } from '../erofs/conformance/oracle.js';
import { inChild, run } from '../helpers/client.js';
import { inPython } from '../helpers/python.js';
import { REPO_ROOT } from '../helpers/fixtures.js';
import { startRangeServer, tempDir } from './servers/index.js';
import { withForegroundMount } from './cli-mount.js';

const work = tempDir('tsfuse-remote-http-');
const served = path.join(work, 'served');
const image = path.join(served, 'image.erofs');
const BIG = 4 << 20;

test.before(async () => {
  const tree = path.join(work, 'tree');
  generateTree(tree, { scale: 'small' });
  // A few large random files so that one small file is a small part of the image.
  fs.mkdirSync(path.join(tree, 'big'));
  for (let i = 0; i < 4; i++) fs.writeFileSync(path.join(tree, 'big', `blob-${i}`), randomBytes(BIG));
  fs.mkdirSync(served);
  await buildImage(tree, image);
});

test.after(() => {
  fs.rmSync(work, { recursive: true, force: true });
});

const CLI = path.join(REPO_ROOT, 'dist', 'src', 'cli', 'main.js');

test('http image: the tree dump equals the kernel mount of the same image (1 and 2 workers)', async () => {
  const server = await startRangeServer(served);
  try {
    const kernel = await kernelDump(image);
    assertSubstantial(kernel, 30, 'kernel');
    for (const workers of [1, 2]) {
      const cacheDir = tempDir('tsfuse-cache-');
      try {
        const t = await tsfuseDump(`${server.url}/image.erofs`, { workers, remote: { cacheDir } });
        assertSameDump(kernel, t.dump, `http, ${workers} worker(s)`);
        assert.equal(t.serverLog, [], 'no problems logged');
      } finally {
        fs.rmSync(cacheDir, { recursive: true, force: true });
      }
    }
  } finally {
    await server.stop();
  }
});

test('http image: reading one small file fetches a small part of the image', async () => {
  const server = await startRangeServer(served);
  const cacheDir = tempDir('tsfuse-cache-');
  try {
    await withErofsMount({ image: `${server.url}/image.erofs`, workers: 1, remote: { cacheDir } }, async (h) => {
      const names = await inChild<string[]>(h.mnt, `return fs.readdirSync(mnt).sort();`);
      assert.ok(names.includes('big'), `the root lists the tree (${names.join(' ')})`);
      const len = await inChild<number>(h.mnt, `return fs.readFileSync(path.join(mnt, 'big', 'blob-0')).subarray(0, 10).length;`);
      assert.is(len, 10);
      const { bytes } = await server.stats();
      const size = fs.statSync(image).size;
      assert.ok(bytes < size / 2, `fetched ${bytes} of ${size} bytes for a listing and one file`);
      assert.ok(bytes >= BIG, `the file itself was fetched (${bytes} bytes)`);
    });
  } finally {
    await server.stop();
    fs.rmSync(cacheDir, { recursive: true, force: true });
  }
});

test('http image: one worker keeps serving while fetches are under way (reads of four files overlap)', async () => {
  const server = await startRangeServer(served);
  const cacheDir = tempDir('tsfuse-cache-');
  try {
    await withErofsMount({ image: `${server.url}/image.erofs`, workers: 1, remote: { cacheDir } }, async (h) => {
      await inChild(h.mnt, `return fs.readdirSync(path.join(mnt, 'big'));`);
      await server.mode('delay=400');
      const r = await inPython<number[]>(h.mnt, `
import threading
out = [0] * 4
def one(i):
    with open(P("big", "blob-%d" % i), "rb") as f:
        out[i] = len(f.read(100))
ts = [threading.Thread(target=one, args=(i,)) for i in range(4)]
for t in ts: t.start()
for t in ts: t.join()
return out`, { timeoutMs: 60_000 });
      assert.equal(r, [100, 100, 100, 100]);
      const { maxActive } = await server.stats();
      assert.ok(maxActive >= 3, `the server saw ${maxActive} requests at once from one worker`);
    });
  } finally {
    await server.stop();
    fs.rmSync(cacheDir, { recursive: true, force: true });
  }
});

test('http image: a second mount is served from the cache with the server stopped', async () => {
  const cacheDir = tempDir('tsfuse-cache-');
  try {
    const server = await startRangeServer(served);
    let first: string;
    try {
      first = (await tsfuseDump(`${server.url}/image.erofs`, { workers: 2, remote: { cacheDir } })).dump;
    } finally {
      await server.stop();
    }
    // Same URL, nothing listening on it now.
    await withErofsMount({ image: `${server.url}/image.erofs`, workers: 2, remote: { cacheDir, attempts: 1, timeoutMs: 2000 } }, async (h) => {
      const again = await dumpTreeInChild(h.mnt, 120_000);
      assertSameDump(first, again, 'from the cache');
      assert.ok(h.logs.some((l) => /unreachable.*cache/.test(l)), `says it serves from the cache: ${h.logs.join(' | ')}`);
    });
  } finally {
    fs.rmSync(cacheDir, { recursive: true, force: true });
  }
});

test('http image: a server killed mid-read gives EIO within the timeout, and reads work again once it is back', async () => {
  const cacheDir = tempDir('tsfuse-cache-');
  let server = await startRangeServer(served);
  const port = server.port;
  try {
    await withErofsMount({ image: `${server.url}/image.erofs`, workers: 2, remote: { cacheDir, attempts: 2, timeoutMs: 2000 } }, async (h) => {
      await inChild(h.mnt, `return fs.readdirSync(path.join(mnt, 'big'));`);
      await server.stop();
      const t0 = Date.now();
      const r = await inChild<{ error?: string }>(h.mnt, `try { fs.readFileSync(path.join(mnt, 'big', 'blob-1')); return {}; } catch (e) { return { error: e.code }; }`, { timeoutMs: 60_000 });
      const ms = Date.now() - t0;
      assert.is(r.error, 'EIO', 'a read the server cannot answer fails with EIO');
      assert.ok(ms < 30_000, `it fails within the timeout (${ms} ms)`);
      server = await startRangeServer(served, port);
      const n = await inChild<number>(h.mnt, `return fs.readFileSync(path.join(mnt, 'big', 'blob-1')).length;`);
      assert.is(n, BIG, 'the same read succeeds once the server is back');
    });
  } finally {
    await server.stop();
    fs.rmSync(cacheDir, { recursive: true, force: true });
  }
});

test('http image: an object that changes under the mount answers EIO, never mixed bytes', async () => {
  const dir = tempDir('tsfuse-served-');
  const copy = path.join(dir, 'image.erofs');
  fs.copyFileSync(image, copy);
  const server = await startRangeServer(dir);
  const cacheDir = tempDir('tsfuse-cache-');
  try {
    await withErofsMount({ image: `${server.url}/image.erofs`, workers: 1, remote: { cacheDir } }, async (h) => {
      await inChild(h.mnt, `return fs.readdirSync(path.join(mnt, 'big'));`);
      // A new version of the object (new ETag): same size, other bytes.
      const fd = fs.openSync(copy, 'r+');
      fs.writeSync(fd, Buffer.from('changed'), 0, 7, fs.statSync(copy).size - 4096);
      fs.closeSync(fd);
      fs.utimesSync(copy, new Date(), new Date(Date.now() + 5000));
      const r = await inChild<{ error?: string }>(h.mnt, `try { fs.readFileSync(path.join(mnt, 'big', 'blob-3')); return {}; } catch (e) { return { error: e.code }; }`);
      assert.is(r.error, 'EIO');
      assert.ok(h.logs.some((l) => /changed/.test(l)), `the reason is logged: ${h.logs.join(' | ')}`);
    });
  } finally {
    await server.stop();
    fs.rmSync(cacheDir, { recursive: true, force: true });
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('http image: a missing object fails the mount with one line (exit 1), bad flags exit 2', async () => {
  const server = await startRangeServer(served);
  const mnt = tempDir('tsfuse-mnt-');
  try {
    const r = await run(process.execPath, [CLI, 'erofs', 'mount', `${server.url}/missing.erofs`, mnt, '--no-cache', '--foreground'], { timeoutMs: 30_000 });
    assert.is(r.code, 1, `exit code (stderr: ${r.stderr})`);
    const lines = r.stderr.trim().split('\n');
    assert.is(lines.length, 1, `one line: ${r.stderr}`);
    assert.match(lines[0]!, /404/);
    const bad = await run(process.execPath, [CLI, 'erofs', 'mount', `${server.url}/image.erofs`, mnt, '--cache-limit', 'lots'], { timeoutMs: 30_000 });
    assert.is(bad.code, 2);
    assert.match(bad.stderr, /--cache-limit/);
  } finally {
    await server.stop();
    fs.rmdirSync(mnt);
  }
});

test('http image through the CLI: SIGUSR1 prints fetch statistics; --debug logs each fetch', async () => {
  const server = await startRangeServer(served);
  const cacheDir = tempDir('tsfuse-cache-');
  try {
    await withForegroundMount(['erofs', 'mount', `${server.url}/image.erofs`, '--cache', cacheDir, '--debug'], async (m) => {
      await inChild(m.mnt, `return fs.readFileSync(path.join(mnt, 'big', 'blob-2')).length;`);
      m.signal('SIGUSR1');
      await waitFor(() => /fetches \d+, fetched [\d.]+ MiB/.test(m.stderr()), 10_000, 'the statistics line');
      const line = m.stderr().split('\n').find((l) => /fetches \d+/.test(l))!;
      const fetched = Number(/fetched ([\d.]+) MiB/.exec(line)![1]);
      assert.ok(fetched >= 4, `at least the 4 MiB file was fetched: ${line}`);
      assert.match(m.stderr(), /tsfuse remote: fetched bytes \d+-\d+ \(\d+ KiB\) in [\d.]+ ms/);
    });
  } finally {
    fs.rmSync(cacheDir, { recursive: true, force: true });
    await server.stop();
  }
});

test.run();
