// Remote PuzzleFS images: one image built with `tsfuse puzzlefs build`, published three ways — its OCI layout
// under a prefix of the Range HTTP server and of s3rver (uploaded with boto3), and pushed to Debian's
// docker-registry through its HTTP API — and mounted from each (real FUSE, worker mode). The oracle is the local
// layout's own mount: tree dumps (through the kernel, from a child process) must be equal. The servers count
// what they sent, so reading one small file is shown to fetch a small part of the image; wrong blob bytes give
// EIO (a chunk) or a one-line refusal naming the digest (the rootfs). Needs root.

import * as fs from 'node:fs';
import * as path from 'node:path';
import { randomBytes } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { diffDumps, dumpTreeInChild, generateTree } from '../erofs/kit/index.js';
import { inChild, run } from '../helpers/client.js';
import { REPO_ROOT } from '../helpers/fixtures.js';
import { withMount } from '../helpers/mount.js';
import { Timings } from '../erofs/conformance/mount.js';
import { waitFor } from '../helpers/fs-wrappers.js';
import { withForegroundMount } from './cli-mount.js';
import { PuzzleImage } from '../../src/puzzlefs/image.js';
import { zstdReady } from '../../src/compress/zstd.js';
import {
  pushLayout, registryBytesServed, s3UploadTree, startRangeServer, startRegistry, startS3, tempDir, useS3Credentials, type RunningServer,
} from './servers/index.js';

const CLI = path.join(REPO_ROOT, 'dist', 'src', 'cli', 'main.js');
const LOCAL_MODULE = fileURLToPath(new URL('../../src/puzzlefs/filesystem.js', import.meta.url));
const REMOTE_MODULE = fileURLToPath(new URL('../../src/remote/puzzlefs-remote.js', import.meta.url));
const NO_TIMES = { mtime: false };
const BUCKET = 'images';
const SMALL = 'small/hello.txt';

const work = tempDir('tsfuse-remote-pz-');
const served = path.join(work, 'served');
const layout = path.join(served, 'layouts', 'img');
const timings = new Timings('remote puzzlefs');
let http: Awaited<ReturnType<typeof startRangeServer>>;
let s3: RunningServer;
let registry: RunningServer;
let restoreEnv = (): void => {};
let localDump = '';
let imageBytes = 0;

type MountOpts = { dir: string; remote?: Record<string, unknown>; workers?: number };

/** A PuzzleFS mount through the shared helper: the local module for a directory, the remote one for a name. */
async function withPuzzle<T>(o: MountOpts, fn: (mnt: string, logs: string[]) => Promise<T>): Promise<T> {
  const logs: string[] = [];
  const remote = !fs.existsSync(o.dir);
  return withMount(
    { module: remote ? REMOTE_MODULE : LOCAL_MODULE, export: 'createFilesystem', inFlight: remote ? 16 : undefined, options: { dir: o.dir, remote: o.remote } },
    {
      workers: o.workers ?? 2, options: ['ro'], fsname: o.dir, subtype: 'puzzlefs', entryTimeout: 86400, attrTimeout: 86400,
      readdirplus: 'auto', log: (s) => logs.push(s), timeoutMs: 180_000,
    },
    (m) => fn(m.mnt, logs),
  );
}

function names(): Record<string, string> {
  return {
    http: `${http.url}/layouts/img:v1`,
    s3: `s3://${BUCKET}/layouts/img:v1`,
    registry: `docker://${registry.url.replace(/^http:\/\//, '')}/tsfuse/pz:v1`,
  };
}

test.before(async () => {
  const tree = path.join(work, 'tree');
  generateTree(tree, { scale: 'small', seed: 'remote-pz' });
  fs.mkdirSync(path.join(tree, 'small'));
  fs.writeFileSync(path.join(tree, SMALL), 'hello from a remote PuzzleFS image\n');
  fs.mkdirSync(path.join(tree, 'big'));
  fs.writeFileSync(path.join(tree, 'big', 'random'), randomBytes(4 << 20));
  fs.writeFileSync(path.join(tree, 'big', 'text'), Buffer.from('a compressible line of text\n'.repeat(100_000)));
  const b = await run(process.execPath, [CLI, 'puzzlefs', 'build', tree, `${layout}:v1`], { timeoutMs: 120_000 });
  assert.is(b.code, 0, b.stderr);
  for (const f of fs.readdirSync(path.join(layout, 'blobs', 'sha256'))) imageBytes += fs.statSync(path.join(layout, 'blobs', 'sha256', f)).size;
  http = await startRangeServer(served);
  s3 = await startS3(path.join(work, 's3'), BUCKET);
  await s3UploadTree(s3.url, BUCKET, 'layouts/img', layout);
  restoreEnv = useS3Credentials();
  registry = await startRegistry(path.join(work, 'registry'));
  await pushLayout(registry.url, 'tsfuse/pz', 'v1', layout);
  localDump = await timings.time('local layout: mount + tree dump', () => withPuzzle({ dir: layout }, (mnt) => dumpTreeInChild(mnt, 120_000, NO_TIMES)));
  assert.ok(localDump.split('\n').length > 30, 'the local mount shows the tree');
});

test.after(async () => {
  restoreEnv();
  await http?.stop();
  await s3?.stop();
  await registry?.stop();
  fs.rmSync(work, { recursive: true, force: true });
  timings.print();
});

test('HTTP, S3 and registry: the mounted tree dump equals the local layout mount', async () => {
  for (const [kind, name] of Object.entries(names())) {
    const cacheDir = tempDir('tsfuse-cache-');
    try {
      const dump = await timings.time(`${kind}: mount + tree dump, cold cache`, () =>
        withPuzzle({ dir: name, remote: { cacheDir, s3Endpoint: s3.url } }, async (mnt, logs) => {
          const d = await dumpTreeInChild(mnt, 120_000, NO_TIMES);
          assert.equal(logs.filter((l) => /corrupt|unexpected|tsfuse remote/.test(l)), [], kind);
          return d;
        }));
      assert.is(diffDumps(localDump, dump, 20, ['local layout', kind]), '', kind);
    } finally {
      fs.rmSync(cacheDir, { recursive: true, force: true });
    }
  }
});

test('`tsfuse puzzlefs dump` and `info` of a remote name: the local listing; a bad name is a usage error', async () => {
  const local = await run(process.execPath, [CLI, 'puzzlefs', 'dump', `${layout}:v1`], { timeoutMs: 60_000 });
  assert.is(local.code, 0, local.stderr);
  for (const [kind, name] of Object.entries(names())) {
    const r = await run(process.execPath, [CLI, 'puzzlefs', 'dump', name, '--no-cache', '--s3-endpoint', s3.url], { timeoutMs: 120_000 });
    assert.is(r.code, 0, `${kind}: ${r.stderr}`);
    assert.is(r.stdout.toString(), local.stdout.toString(), kind);
  }
  const info = await run(process.execPath, [CLI, 'puzzlefs', 'info', names().registry, '--no-cache'], { timeoutMs: 60_000 });
  assert.is(info.code, 0, info.stderr);
  assert.match(info.stdout.toString(), /tags +v1/);
  const bad = await run(process.execPath, [CLI, 'puzzlefs', 'info', `${http.url}/layouts/img:v1!`], { timeoutMs: 30_000 });
  const bad2 = await run(process.execPath, [CLI, 'puzzlefs', 'info', `${http.url}`], { timeoutMs: 30_000 });
  for (const r of [bad, bad2]) {
    assert.is(r.code, 2, r.stderr);
    assert.is(r.stderr.trim().split('\n').length, 1, r.stderr);
  }
  const missing = await run(process.execPath, [CLI, 'puzzlefs', 'info', `${http.url}/layouts/none:v1`, '--no-cache'], { timeoutMs: 30_000 });
  assert.is(missing.code, 1, missing.stderr);
  assert.is(missing.stderr.trim().split('\n').length, 1, missing.stderr);
  assert.match(missing.stderr, /404/);
});

test('reading one small file fetches a small part of the image (counted by the HTTP server and the registry)', async () => {
  const counts: Record<string, () => Promise<number>> = {
    http: async () => (await http.stats()).bytes,
    registry: async () => {
      await new Promise((r) => setTimeout(r, 300)); // the registry logs a response once it is complete
      return registryBytesServed(registry.output());
    },
  };
  for (const [kind, count] of Object.entries(counts)) {
    const cacheDir = tempDir('tsfuse-cache-');
    try {
      const before = await count();
      const text = await withPuzzle({ dir: names()[kind]!, remote: { cacheDir }, workers: 1 }, (mnt) =>
        inChild<string>(mnt, `return fs.readFileSync(path.join(mnt, ${JSON.stringify(SMALL)}), 'utf8');`));
      assert.is(text, 'hello from a remote PuzzleFS image\n');
      const fetched = (await count()) - before;
      timings.note(`${kind}: one small file: ${fetched} bytes fetched of ${imageBytes} in the image`);
      assert.ok(fetched > 0, `${kind}: the server counted the fetches`);
      assert.ok(fetched < imageBytes / 20, `${kind}: one small file cost ${fetched} of ${imageBytes} bytes`);
    } finally {
      fs.rmSync(cacheDir, { recursive: true, force: true });
    }
  }
});

test('a wrong byte in a chunk blob answers EIO naming the digest; in the rootfs, the mount is refused in one line', async () => {
  await zstdReady;
  const img = PuzzleImage.open(layout, { tag: 'v1' });
  const dir = img.inode(img.lookup(img.inode(1)!, 'small'))!;
  const file = img.inode(img.lookup(dir, 'hello.txt'))!;
  const blobHex = Buffer.from(file.chunks[0]!.blob.digest).toString('hex');
  const copy = path.join(served, 'layouts', 'bad');
  fs.cpSync(layout, copy, { recursive: true });
  const flip = (hex: string): void => {
    const p = path.join(copy, 'blobs', 'sha256', hex);
    const b = fs.readFileSync(p);
    b[b.length >> 1] ^= 0x01;
    fs.writeFileSync(p, b);
  };
  flip(blobHex);
  const cacheDir = tempDir('tsfuse-cache-');
  try {
    await withPuzzle({ dir: `${http.url}/layouts/bad:v1`, remote: { cacheDir }, workers: 1 }, async (mnt, logs) => {
      const r = await inChild<string>(mnt, `try { fs.readFileSync(path.join(mnt, ${JSON.stringify(SMALL)})); return 'read'; } catch (e) { return e.code; }`);
      assert.is(r, 'EIO');
      const other = await inChild<number>(mnt, `return fs.readFileSync(path.join(mnt, 'big', 'text')).length;`);
      assert.is(other, 2_800_000, 'the other files still read');
      assert.ok(logs.some((l) => l.includes(`sha256:${blobHex}`)), logs.join(' | '));
    });
    // A fresh cache: the one above holds the true rootfs under its digest, and would rightly serve it.
    flip(img.rootfsDescriptor.digest.slice(7));
    const r = await run(process.execPath, [CLI, 'puzzlefs', 'info', `${http.url}/layouts/bad:v1`, '--no-cache'], { timeoutMs: 60_000 });
    assert.is(r.code, 1, r.stderr);
    assert.is(r.stderr.trim().split('\n').length, 1, r.stderr);
    assert.ok(r.stderr.includes(img.rootfsDescriptor.digest), r.stderr);
  } finally {
    fs.rmSync(cacheDir, { recursive: true, force: true });
    fs.rmSync(copy, { recursive: true, force: true });
  }
});

test('`tsfuse puzzlefs mount docker://...` in the foreground with --verity: reads, SIGUSR1 statistics', async () => {
  const cacheDir = tempDir('tsfuse-cache-');
  try {
    await withForegroundMount(['puzzlefs', 'mount', names().registry, '--cache', cacheDir, '--verity', '--workers', '2'], async (m) => {
      const text = await inChild<string>(m.mnt, `return fs.readFileSync(path.join(mnt, ${JSON.stringify(SMALL)}), 'utf8');`);
      assert.is(text, 'hello from a remote PuzzleFS image\n');
      m.signal('SIGUSR1');
      await waitFor(() => /fetches \d+, fetched [\d.]+ MiB/.test(m.stderr()), 10_000, 'the statistics line');
      assert.match(m.stderr(), /tsfuse remote: docker:\/\/.*: fetches \d+/);
    });
  } finally {
    fs.rmSync(cacheDir, { recursive: true, force: true });
  }
});

test('a second mount with the server stopped is served from the block cache (HTTP layout, registry)', async () => {
  for (const kind of ['http', 'registry'] as const) {
    const cacheDir = tempDir('tsfuse-cache-');
    const name = names()[kind]!;
    try {
      const first = await withPuzzle({ dir: name, remote: { cacheDir } }, (mnt) => dumpTreeInChild(mnt, 120_000, NO_TIMES));
      if (kind === 'http') await http.stop();
      else await registry.stop();
      const again = await timings.time(`${kind}: mount + tree dump from the cache, server stopped`, () =>
        withPuzzle({ dir: name, remote: { cacheDir, attempts: 1, timeoutMs: 2000 } }, async (mnt, logs) => {
          const d = await dumpTreeInChild(mnt, 120_000, NO_TIMES);
          assert.ok(logs.some((l) => /unreachable.*from the cache/.test(l)), logs.join(' | '));
          return d;
        }));
      assert.is(diffDumps(first, again, 20, ['online', 'from the cache']), '', kind);
    } finally {
      if (kind === 'http') http = await startRangeServer(served, http.port);
      else registry = await startRegistry(path.join(work, 'registry'), registry.port);
      fs.rmSync(cacheDir, { recursive: true, force: true });
    }
  }
});

test.run();
