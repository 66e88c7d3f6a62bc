// Remote images from an OCI registry: Debian's docker-registry (the CNCF distribution registry) started on
// 127.0.0.1 by the test, an image pushed through its HTTP API whose layer is an EROFS image, mounted as
// docker://127.0.0.1:PORT/REPO:TAG and @DIGEST. The kernel's mount of the same image file is the oracle; the
// registry's own log counts the bytes it served. Needs root.

import * as fs from 'node:fs';
import * as path from 'node:path';
import { randomBytes } from 'node:crypto';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { buildImage, generateTree } from '../erofs/kit/index.js';
import { dumpTreeInChild } from '../helpers/tree-dump.js';
import { withErofsMount } from '../erofs/conformance/mount.js';
import { assertSameDump, assertSubstantial, kernelDump, tsfuseDump } from '../erofs/conformance/oracle.js';
import { inChild, run } from '../helpers/client.js';
import { REPO_ROOT } from '../helpers/fixtures.js';
import { pushImage, registryBytesServed, startRangeServer, startRegistry, tempDir, type RunningServer } from './servers/index.js';

const work = tempDir('tsfuse-remote-reg-');
const image = path.join(work, 'image.erofs');
const small = path.join(work, 'small.erofs');
const CLI = path.join(REPO_ROOT, 'dist', 'src', 'cli', 'main.js');
let registry: RunningServer;
let host: string;
let digest: string;

test.before(async () => {
  const tree = path.join(work, 'tree');
  generateTree(tree, { scale: 'small' });
  fs.mkdirSync(path.join(tree, 'big'));
  for (let i = 0; i < 3; i++) fs.writeFileSync(path.join(tree, 'big', `blob-${i}`), randomBytes(4 << 20));
  await buildImage(tree, image);
  const tiny = path.join(work, 'tiny');
  fs.mkdirSync(tiny);
  fs.writeFileSync(path.join(tiny, 'hello.txt'), 'hello from a small image\n');
  await buildImage(tiny, small);
  registry = await startRegistry(path.join(work, 'registry'));
  host = registry.url.replace(/^http:\/\//, '');
  digest = (await pushImage(registry.url, 'tsfuse/tree', 'v1', image)).manifestDigest;
  await pushImage(registry.url, 'tsfuse/small', 'v1', small, 'application/octet-stream');
});

test.after(async () => {
  await registry?.stop();
  fs.rmSync(work, { recursive: true, force: true });
});

test('registry image by tag and by digest: tree dumps equal the kernel mount of the layer', async () => {
  const kernel = await kernelDump(image);
  assertSubstantial(kernel, 30, 'kernel');
  for (const ref of [`docker://${host}/tsfuse/tree:v1`, `docker://${host}/tsfuse/tree@${digest}`]) {
    const cacheDir = tempDir('tsfuse-cache-');
    try {
      const t = await tsfuseDump(ref, { workers: 2, remote: { cacheDir } });
      assertSameDump(kernel, t.dump, ref);
    } finally {
      fs.rmSync(cacheDir, { recursive: true, force: true });
    }
  }
});

test('registry image: one small file costs a small part of the layer (counted by the registry)', async () => {
  const cacheDir = tempDir('tsfuse-cache-');
  const before = registryBytesServed(registry.output());
  try {
    await withErofsMount({ image: `docker://${host}/tsfuse/tree:v1`, workers: 1, remote: { cacheDir } }, async (h) => {
      const names = await inChild<string[]>(h.mnt, `return fs.readdirSync(mnt);`);
      assert.ok(names.length > 3);
    });
    // The registry logs a response when it is complete; give it a moment.
    await new Promise((r) => setTimeout(r, 300));
    const served = registryBytesServed(registry.output()) - before;
    const size = fs.statSync(image).size;
    assert.ok(served > 0, 'the registry log counts the blob bytes');
    assert.ok(served < size / 4, `a listing cost ${served} of ${size} bytes`);
  } finally {
    fs.rmSync(cacheDir, { recursive: true, force: true });
  }
});

test('registry image: a small layer (any media type, found by its magic) is checked against its digest', async () => {
  // The registry serves correct bytes; a registry-shaped server whose blob has one byte changed must be refused.
  const cacheDir = tempDir('tsfuse-cache-');
  try {
    const ok = await tsfuseDump(`docker://${host}/tsfuse/small:v1`, { workers: 1, remote: { cacheDir } });
    assert.match(ok.dump, /hello\.txt/);
  } finally {
    fs.rmSync(cacheDir, { recursive: true, force: true });
  }
  // Mirror the registry's blob layout on the Range server, with wrong bytes switched on.
  const mirror = tempDir('tsfuse-mirror-');
  const blobs = path.join(mirror, 'v2', 'tsfuse', 'small');
  fs.mkdirSync(path.join(blobs, 'blobs'), { recursive: true });
  fs.mkdirSync(path.join(blobs, 'manifests'), { recursive: true });
  const m = await fetch(`${registry.url}/v2/tsfuse/small/manifests/v1`, { headers: { accept: 'application/vnd.oci.image.manifest.v1+json' } });
  const manifest = Buffer.from(await m.arrayBuffer());
  fs.writeFileSync(path.join(blobs, 'manifests', 'v1'), manifest);
  const layer = (JSON.parse(manifest.toString()) as { layers: Array<{ digest: string }> }).layers[0]!.digest;
  fs.copyFileSync(small, path.join(blobs, 'blobs', layer));
  const proxy = await startRangeServer(mirror);
  const cacheDir2 = tempDir('tsfuse-cache-');
  try {
    // The mirror answers the manifest as the registry did, and the layer with one byte changed.
    const bad = Buffer.from(fs.readFileSync(small));
    bad[bad.length - 1] ^= 0xff;
    fs.writeFileSync(path.join(blobs, 'blobs', layer), bad);
    const r = await run(process.execPath, [CLI, 'erofs', 'info', `docker://${proxy.url.replace(/^http:\/\//, '')}/tsfuse/small:v1`, '--cache', cacheDir2], { timeoutMs: 60_000 });
    assert.is.not(r.code, 0, 'a blob whose bytes do not match its digest is refused');
    assert.match(r.stderr, /sha256/);
  } finally {
    await proxy.stop();
    fs.rmSync(mirror, { recursive: true, force: true });
    fs.rmSync(cacheDir2, { recursive: true, force: true });
  }
});

test('registry image: a second mount is served from the cache with the registry stopped', async () => {
  const cacheDir = tempDir('tsfuse-cache-');
  const ref = `docker://${host}/tsfuse/tree:v1`;
  try {
    const first = (await tsfuseDump(ref, { workers: 2, remote: { cacheDir } })).dump;
    await registry.stop();
    await withErofsMount({ image: ref, workers: 2, remote: { cacheDir, attempts: 1, timeoutMs: 2000 } }, async (h) => {
      assertSameDump(first, await dumpTreeInChild(h.mnt, 120_000), 'from the cache');
      assert.ok(h.logs.some((l) => /unreachable.*cache/.test(l)), h.logs.join(' | '));
    });
  } finally {
    registry = await startRegistry(path.join(work, 'registry'), registry.port);
    fs.rmSync(cacheDir, { recursive: true, force: true });
  }
});

test('registry: an unknown tag fails at mount time with one line', async () => {
  const r = await run(process.execPath, [CLI, 'erofs', 'info', `docker://${host}/tsfuse/tree:nope`, '--no-cache'], { timeoutMs: 30_000 });
  assert.is(r.code, 1, r.stderr);
  assert.is(r.stderr.trim().split('\n').length, 1, r.stderr);
  assert.match(r.stderr, /404/);
});

test.run();
