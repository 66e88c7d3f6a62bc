// composefs with a remote object store (--basedir URL-PREFIX): the objects (XX/REST) are fetched lazily by name
// from the Range HTTP server and from s3rver, through the same remote byte sources and block cache as remote
// images; the image itself is remote too, or a local file. The oracle is the kernel's composefs view (overlayfs
// over the kernel's EROFS mount with the local object store as data-only layer). Reading one file fetches that
// object, not the store. Needs root.

import * as fs from 'node:fs';
import * as path from 'node:path';
import { randomBytes } from 'node:crypto';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { buildComposefsImage, generateTree } from '../erofs/kit/index.js';
import { diffDumps, dumpTreeInChild } from '../helpers/tree-dump.js';
import { kernelComposefsDump } from '../erofs/conformance/composefs-oracle.js';
import { withErofsMount } from '../erofs/conformance/mount.js';
import { inChild } from '../helpers/client.js';
import { s3Upload, s3UploadTree, useS3Credentials, startRangeServer, startS3, tempDir, type RunningServer } from './servers/index.js';

const work = tempDir('tsfuse-remote-cfs-');
const served = path.join(work, 'served');
const image = path.join(served, 'cfs.erofs');
const objects = path.join(served, 'objects');
const BIG = 4 << 20;
const BUCKET = 'cfs';
let kernelView: string;
let storeBytes = 0;
let s3: RunningServer;
let restoreEnv = (): void => {};

function treeBytes(dir: string): number {
  let n = 0;
  for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, e.name);
    n += e.isDirectory() ? treeBytes(p) : fs.statSync(p).size;
  }
  return n;
}

test.before(async () => {
  const tree = path.join(work, 'tree');
  generateTree(tree, { scale: 'small', seed: 5 });
  fs.mkdirSync(path.join(tree, 'big'));
  for (let i = 0; i < 4; i++) fs.writeFileSync(path.join(tree, 'big', `blob-${i}`), randomBytes(BIG));
  fs.mkdirSync(served);
  await buildComposefsImage(tree, image, objects);
  kernelView = await kernelComposefsDump(image, objects);
  storeBytes = fs.statSync(image).size + treeBytes(objects);
  s3 = await startS3(path.join(work, 's3'), BUCKET);
  await s3Upload(s3.url, BUCKET, 'img/cfs.erofs', image);
  await s3UploadTree(s3.url, BUCKET, 'img/objects', objects);
  restoreEnv = useS3Credentials();
});

test.after(async () => {
  restoreEnv();
  await s3?.stop();
  fs.rmSync(work, { recursive: true, force: true });
});

async function assertKernelView(img: string, basedir: string, remote: object, label: string): Promise<void> {
  const cacheDir = tempDir('tsfuse-cache-');
  try {
    await withErofsMount({ image: img, basedir, workers: 2, remote: { cacheDir, ...remote } }, async (h) => {
      const dump = await dumpTreeInChild(h.mnt, 120_000);
      const d = diffDumps(kernelView, dump, 20, ['kernel composefs view', label]);
      assert.ok(d === '', `${label} differs from the kernel's composefs view\n${d}`);
      assert.ok(kernelView.split('\n').length > 30, 'a substantial tree');
      assert.equal(h.threadEvents, []);
    });
  } finally {
    fs.rmSync(cacheDir, { recursive: true, force: true });
  }
}

test('http: remote image and remote object store give the kernel composefs view (2 workers)', async () => {
  const server = await startRangeServer(served);
  try {
    await assertKernelView(`${server.url}/cfs.erofs`, `${server.url}/objects`, {}, 'tsfuse http image + http objects');
  } finally {
    await server.stop();
  }
});

test('http: a local image with a remote object store', async () => {
  const server = await startRangeServer(served);
  try {
    await assertKernelView(image, `${server.url}/objects/`, {}, 'tsfuse local image + http objects');
  } finally {
    await server.stop();
  }
});

test('s3: remote image and object store (SigV4, path style)', async () => {
  await assertKernelView(`s3://${BUCKET}/img/cfs.erofs`, `s3://${BUCKET}/img/objects`, { s3Endpoint: s3.url }, 'tsfuse s3 image + s3 objects');
});

test('http: reading one file fetches its object, not the store', async () => {
  const server = await startRangeServer(served);
  const cacheDir = tempDir('tsfuse-cache-');
  try {
    await withErofsMount({ image: `${server.url}/cfs.erofs`, basedir: `${server.url}/objects`, workers: 1, remote: { cacheDir } }, async (h) => {
      const len = await inChild<number>(h.mnt, `return fs.readFileSync(path.join(mnt, 'big', 'blob-0')).length;`);
      assert.is(len, BIG);
      const { bytes } = await server.stats();
      process.stdout.write(`  remote composefs: ${bytes} of ${storeBytes} bytes (image + objects) fetched to read one ${BIG}-byte file\n`);
      assert.ok(bytes >= BIG, `the object was fetched (${bytes} bytes)`);
      assert.ok(bytes < storeBytes / 3, `fetched ${bytes} of ${storeBytes} bytes for one file`);
      // the statistics count the object fetches too
      assert.match(h.m.remoteStats!(), /fetched/);
    });
  } finally {
    await server.stop();
    fs.rmSync(cacheDir, { recursive: true, force: true });
  }
});

test.run();
