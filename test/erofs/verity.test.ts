// fs-verity for composefs objects (--verity off|check|require, src/erofs/verity-check.ts), on real mounts:
//  - an image made by `tsfuse mkcomposefs --digest-store`, one byte of one object tampered with: opening that
//    file answers EIO (one log line naming the object) while the other files read as the source, in check and
//    require modes; off serves the tampered bytes;
//  - an image without digests (the same dumpfile with its digest fields '-'): require refuses every redirected
//    open, as the kernel's composefs view with verity=require does (the oracle), check serves them;
//  - a remote object store (HTTP): the digest is computed over the fetched object; a tampered one, or bytes
//    corrupted in transit, answer EIO;
//  - FS_IOC_MEASURE_VERITY through the kernel: the object store served by a tsfuse passthrough mount that answers
//    the ioctl, so the three ways a digest is found (measured and right, measured and wrong, no fs-verity:
//    computed) are each taken;
//  - real fs-verity: an ext4 made with -O verity, loop-mounted, `fsverity enable` on every object, measured by
//    the kernel. Only a kernel whose /proc/config.gz says `CONFIG_FS_VERITY is not set` (the 6.18 build here)
//    excuses a failing `fsverity enable`: the test then checks that the objects on that ext4 are hashed instead
//    and prints a NOTE; any other failure (no loop device, mkfs, mount) fails the test;
//  - passthrough mode (checked before the object goes to the kernel), and the remembered digests (by identity);
//  - --overlay mode: require becomes overlayfs' own verity=require;
//  - the software digest with SHA-512 against `fsverity digest --hash-alg=sha512`, and the CLI's --verity check.
// Image and stores live under /var/tmp (ext4). Needs root.

import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { gunzipSync } from 'node:zlib';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { readFilesInChild } from './conformance/child.js';
import { withKernelComposefs } from './conformance/composefs-oracle.js';
import { type ErofsMountHandle, serverLines, tempDir, withErofsMount } from './conformance/mount.js';
import type { ErofsMountOptions } from './conformance/mount.js';
import { tsfuse } from './writer/helpers.js';
import { run } from '../helpers/proc.js';
import { rootCtx } from '../helpers/fs-wrappers.js';
import { withPassthrough } from '../helpers/passthrough.js';
import { startRangeServer } from '../remote/servers/index.js';
import { FS_IOC_MEASURE_VERITY } from '../../src/kernel/ioctl-numbers.js';
import { Errno, ERRNO } from '../../src/protocol/errno.js';
import { ObjectVerifier, VerityError } from '../../src/erofs/verity-check.js';
import { VerityHasher } from '../../src/verity/digest.js';

const base = tempDir('tsfuse-verity-', '/var/tmp');
const tree = path.join(base, 'tree');
const objects = path.join(base, 'objects');
const image = path.join(base, 'image.cfs');
const noDigests = path.join(base, 'nodigest.cfs');

/** The tree's files: three in the object store, one inline in the image. */
const FILES: Record<string, Buffer> = {
  'a.bin': randomBytes(300_000),
  'sub/b.bin': randomBytes(65_536),
  'c.txt': Buffer.from('composefs object\n'.repeat(300)),
  'tiny.txt': Buffer.from('inline\n'),
};
/** Object path (XX/REST, as the redirect names it without its '/') of each stored file. */
const objectOf: Record<string, string> = {};

test.before(async () => {
  for (const [rel, data] of Object.entries(FILES)) {
    fs.mkdirSync(path.dirname(path.join(tree, rel)), { recursive: true });
    fs.writeFileSync(path.join(tree, rel), data);
  }
  const r = await tsfuse(['mkcomposefs', `--digest-store=${objects}`, tree, image]);
  assert.is(r.status, 0, r.stderr);
  // The dump names each file's object; the same dumpfile with '-' for every digest makes the image without them.
  const dump = await tsfuse(['erofs', 'dump', image]);
  assert.is(dump.status, 0, dump.stderr);
  const lines = dump.stdout.toString().split('\n').filter(Boolean);
  const stripped = lines.map((l) => {
    const f = l.split(' ');
    if (f.length >= 11 && f[8]!.includes('/')) {
      objectOf[f[0]!.slice(1)] = f[8]!;
      f[10] = '-';
    }
    return f.join(' ');
  });
  assert.equal(Object.keys(objectOf).sort(), ['a.bin', 'c.txt', 'sub/b.bin'], 'three files in the store, tiny.txt inline');
  const dumpfile = path.join(base, 'nodigest.dump');
  fs.writeFileSync(dumpfile, stripped.join('\n') + '\n');
  const n = await tsfuse(['mkcomposefs', '--from-file', dumpfile, noDigests]);
  assert.is(n.status, 0, n.stderr);
});

test.after(() => fs.rmSync(base, { recursive: true, force: true }));

/** A fresh copy of the object store, with one byte of a.bin's object flipped when `tamper`. */
function storeCopy(name: string, tamper: boolean, under = base): string {
  const dir = path.join(under, name);
  fs.cpSync(objects, dir, { recursive: true });
  if (tamper) {
    const p = path.join(dir, objectOf['a.bin']!);
    fs.chmodSync(p, 0o644);
    const fd = fs.openSync(p, 'r+');
    try {
      const b = Buffer.alloc(1);
      fs.readSync(fd, b, 0, 1, 5000);
      b[0] = b[0]! ^ 0x5a;
      fs.writeSync(fd, b, 0, 1, 5000);
    } finally {
      fs.closeSync(fd);
    }
  }
  return dir;
}

type Reads = Record<string, { data?: Buffer; error?: string }>;

/** Every file of the tree read through the mount in a child process (twice: the second open is remembered). */
async function readAll(mnt: string): Promise<Reads> {
  const paths = Object.keys(FILES).map((rel) => path.join(mnt, rel));
  const first = await readFilesInChild(paths);
  const again = await readFilesInChild(paths);
  const out: Reads = {};
  for (const rel of Object.keys(FILES)) {
    const a = first[path.join(mnt, rel)]!;
    const b = again[path.join(mnt, rel)]!;
    assert.equal(b, a, `${rel}: a second open answers as the first`);
    out[rel] = { data: a.data !== undefined ? Buffer.from(a.data, 'base64') : undefined, error: a.error };
  }
  return out;
}

function assertSource(reads: Reads, rel: string): void {
  assert.is(reads[rel]!.error, undefined, `${rel} reads`);
  assert.ok(reads[rel]!.data!.equals(FILES[rel]!), `${rel} reads as the source`);
}

/** The server's log lines that name `object` and match `what`. */
function linesAbout(h: ErofsMountHandle, object: string, reason: RegExp): string[] {
  return serverLines(h.logs).filter((l) => l.includes(object) && reason.test(l));
}

async function withImage<T>(opts: ErofsMountOptions, fn: (h: ErofsMountHandle) => Promise<T>): Promise<T> {
  return withErofsMount({ workers: 1, timeoutMs: 60_000, ...opts }, async (h) => {
    const r = await fn(h);
    assert.equal(h.threadEvents, []);
    return r;
  });
}

test('check (the default): the tampered object answers EIO, logged once with its name; the others read', async () => {
  const store = storeCopy('store-check', true);
  await withImage({ image, basedir: store }, async (h) => {
    const reads = await readAll(h.mnt);
    assert.is(reads['a.bin']!.error, 'EIO');
    for (const rel of ['sub/b.bin', 'c.txt', 'tiny.txt']) assertSource(reads, rel);
    const lines = linesAbout(h, objectOf['a.bin']!, /fs-verity digest mismatch/);
    assert.is(lines.length, 1, `one log line naming the object:\n${serverLines(h.logs).join('\n')}`);
    assert.match(lines[0]!, /open \/a\.bin: /);
  });
});

test('require: the tampered object answers EIO, the others read (2 workers)', async () => {
  const store = storeCopy('store-require', true);
  await withImage({ image, basedir: store, verity: 'require', workers: 2 }, async (h) => {
    const reads = await readAll(h.mnt);
    assert.is(reads['a.bin']!.error, 'EIO');
    for (const rel of ['sub/b.bin', 'c.txt', 'tiny.txt']) assertSource(reads, rel);
    const lines = linesAbout(h, objectOf['a.bin']!, /fs-verity digest mismatch/);
    // each worker checks on its own and logs once
    assert.ok(lines.length >= 1 && lines.length <= 2, serverLines(h.logs).join('\n'));
  });
});

test('passthrough: the check comes before the object is handed to the kernel', async () => {
  const store = storeCopy('store-pt', true);
  await withImage({ image, basedir: store, passthrough: true }, async (h) => {
    const reads = await readAll(h.mnt);
    assert.is(reads['a.bin']!.error, 'EIO');
    for (const rel of ['sub/b.bin', 'c.txt', 'tiny.txt']) assertSource(reads, rel);
    assert.is(linesAbout(h, objectOf['a.bin']!, /fs-verity digest mismatch/).length, 1, serverLines(h.logs).join('\n'));
  });
});

test('ObjectVerifier: a hashed object is remembered by its identity; rewritten in place it is hashed again', () => {
  const file = path.join(base, 'memo.bin');
  const data = randomBytes(100_000);
  fs.writeFileSync(file, data);
  const redirect = { path: '/xx/memo', digest: new VerityHasher().update(data).digest(), digestAlg: 1 };
  const v = new ObjectVerifier('check');
  const checkFile = (): void => {
    const fd = fs.openSync(file, 'r');
    try {
      v.check({ fd }, redirect);
    } finally {
      fs.closeSync(fd);
    }
  };
  checkFile();
  checkFile();
  assert.equal(v.counters, { measured: 0, computed: 1, remembered: 1, mismatches: 0 });
  const fd = fs.openSync(file, 'r+');
  fs.writeSync(fd, Buffer.from([data[70_000]! ^ 1]), 0, 1, 70_000);
  fs.closeSync(fd);
  assert.throws(checkFile, (e: Error) => e instanceof VerityError && /object \/xx\/memo: fs-verity digest mismatch/.test(e.message));
  assert.equal(v.counters, { measured: 0, computed: 2, remembered: 1, mismatches: 1 });
  // off checks nothing; require refuses an entry without a digest
  const fd2 = fs.openSync(file, 'r');
  try {
    new ObjectVerifier('off').check({ fd: fd2 }, redirect);
    new ObjectVerifier('check').check({ fd: fd2 }, { ...redirect, digest: undefined, digestAlg: 0 });
    assert.throws(() => new ObjectVerifier('require').check({ fd: fd2 }, { ...redirect, digest: undefined, digestAlg: 0 }), /carries no fs-verity digest/);
    assert.throws(() => new ObjectVerifier('check').check({ fd: fd2 }, { ...redirect, digestAlg: 9 }), /algorithm 9 is unknown/);
  } finally {
    fs.closeSync(fd2);
  }
});

test('off: the tampered bytes are served as they are', async () => {
  const store = storeCopy('store-off', true);
  await withImage({ image, basedir: store, verity: 'off' }, async (h) => {
    const reads = await readAll(h.mnt);
    const tampered = fs.readFileSync(path.join(store, objectOf['a.bin']!));
    assert.ok(!tampered.equals(FILES['a.bin']!), 'the object was tampered with');
    assert.ok(reads['a.bin']!.data?.equals(tampered), 'off serves the object as it is');
    for (const rel of ['sub/b.bin', 'c.txt', 'tiny.txt']) assertSource(reads, rel);
    assert.equal(serverLines(h.logs).filter((l) => /verity/.test(l)), []);
  });
});

test('require refuses redirected files of an image without digests, as the kernel\'s verity=require; check serves them', async () => {
  const store = storeCopy('store-nodigest', false);
  const kernel = await withKernelComposefs(noDigests, store, (view) => readAll(view), 'verity=require');
  await withImage({ image: noDigests, basedir: store, verity: 'require' }, async (h) => {
    const reads = await readAll(h.mnt);
    for (const rel of ['a.bin', 'sub/b.bin', 'c.txt']) assert.is(reads[rel]!.error, 'EIO', rel);
    assertSource(reads, 'tiny.txt');
    assert.equal(reads, kernel, 'the kernel composefs view with verity=require answers the same');
    assert.is(linesAbout(h, objectOf['c.txt']!, /carries no fs-verity digest/).length, 1, serverLines(h.logs).join('\n'));
  });
  await withImage({ image: noDigests, basedir: store }, async (h) => {
    const reads = await readAll(h.mnt);
    for (const rel of Object.keys(FILES)) assertSource(reads, rel);
  });
});

test('remote object store (HTTP): the digest is computed over the fetched object; a tampered one answers EIO', async () => {
  const served = tempDir('tsfuse-verity-http-', '/var/tmp');
  const cacheDir = tempDir('tsfuse-verity-cache-');
  const server = await startRangeServer(served);
  try {
    storeCopy('objects', true, served);
    await withImage({ image, basedir: `${server.url}/objects`, debug: true, remote: { cacheDir } }, async (h) => {
      const reads = await readAll(h.mnt);
      assert.is(reads['a.bin']!.error, 'EIO');
      for (const rel of ['sub/b.bin', 'c.txt', 'tiny.txt']) assertSource(reads, rel);
      assert.is(linesAbout(h, objectOf['a.bin']!, /fs-verity digest mismatch/).length, 1, serverLines(h.logs).join('\n'));
      assert.is(serverLines(h.logs).filter((l) => /digest computed over the fetched object/.test(l)).length, 3);
    });
  } finally {
    await server.stop();
    fs.rmSync(served, { recursive: true, force: true });
    fs.rmSync(cacheDir, { recursive: true, force: true });
  }
});

test('--overlay: require hands the check to overlayfs (verity=require); an object without fs-verity answers EIO', async () => {
  const store = storeCopy('store-overlay', false);
  const ov = tempDir('tsfuse-verity-ov-');
  try {
    await withImage({ image, basedir: store, overlay: ov, verity: 'require' }, async () => {
      const line = fs.readFileSync('/proc/self/mounts', 'utf8').split('\n').find((l) => l.split(' ')[1] === ov);
      assert.match(line ?? '', /[ ,]verity=require[ ,]/, `overlayfs mounted with verity=require: ${line}`);
      const reads = await readAll(ov);
      for (const [rel, object] of Object.entries(objectOf)) {
        // the kernel has no software fallback: only an object with fs-verity enabled can pass
        const measured = await run('fsverity', ['measure', path.join(store, object)], { check: false, timeoutMs: 30_000 });
        if (measured.status === 0) assertSource(reads, rel);
        else assert.is(reads[rel]!.error, 'EIO', `${rel}: an object without fs-verity`);
      }
      assertSource(reads, 'tiny.txt');
    });
  } finally {
    fs.rmSync(ov, { recursive: true, force: true });
  }
});

test('remote object store (HTTP): bytes corrupted in transit (the server flips a byte of every body) answer EIO', async () => {
  const served = tempDir('tsfuse-verity-http-', '/var/tmp');
  const cacheDir = tempDir('tsfuse-verity-cache-');
  const server = await startRangeServer(served);
  try {
    storeCopy('objects', false, served);
    await server.mode('wrong=1');
    await withImage({ image, basedir: `${server.url}/objects`, remote: { cacheDir } }, async (h) => {
      const reads = await readAll(h.mnt);
      for (const rel of ['a.bin', 'sub/b.bin', 'c.txt']) {
        assert.is(reads[rel]!.error, 'EIO', rel);
        assert.is(linesAbout(h, objectOf[rel]!, /fs-verity digest mismatch/).length, 1, serverLines(h.logs).join('\n'));
      }
      assertSource(reads, 'tiny.txt');
    });
  } finally {
    await server.stop();
    fs.rmSync(served, { recursive: true, force: true });
    fs.rmSync(cacheDir, { recursive: true, force: true });
  }
});

/** struct fsverity_digest as FS_IOC_MEASURE_VERITY fills it. */
function measureReply(alg: number, digest: Buffer): Buffer {
  const b = Buffer.alloc(4 + digest.length);
  b.writeUInt16LE(alg, 0);
  b.writeUInt16LE(digest.length, 2);
  digest.copy(b, 4);
  return b;
}

test('FS_IOC_MEASURE_VERITY through the kernel: measured digests are used, a wrong one refused, no fs-verity computed', async () => {
  const source = storeCopy('store-fuse', false);
  const digestOf = (rel: string): Buffer => Buffer.from(objectOf[rel]!.replace('/', ''), 'hex');
  // The store's answers, by the source file's inode: a.bin measured right, b.bin measured wrong, c.txt without
  // fs-verity (ENODATA, as a filesystem answers for a file that has none).
  const answers = new Map<number, Buffer | undefined>([
    [fs.statSync(path.join(source, objectOf['a.bin']!)).ino, measureReply(1, digestOf('a.bin'))],
    [fs.statSync(path.join(source, objectOf['sub/b.bin']!)).ino, measureReply(1, Buffer.alloc(32, 0x11))],
    [fs.statSync(path.join(source, objectOf['c.txt']!)).ino, undefined],
  ]);
  let measureCalls = 0;
  await withPassthrough({ nocache: false, passthrough: false }, async (store) => {
    await withImage({ image, basedir: store.mnt, debug: true, verity: 'require' }, async (h) => {
      const reads = await readAll(h.mnt);
      assertSource(reads, 'a.bin');
      assert.is(reads['sub/b.bin']!.error, 'EIO');
      assertSource(reads, 'c.txt');
      const lines = serverLines(h.logs);
      assert.ok(measureCalls >= 2, `the store answered ${measureCalls} FS_IOC_MEASURE_VERITY calls`);
      // measured at every open of the object (the kernel keeps checking its pages), hashed once and remembered
      assert.ok(linesAbout(h, objectOf['a.bin']!, /measured by the kernel/).length >= 1, lines.join('\n'));
      assert.is(linesAbout(h, objectOf['sub/b.bin']!, /digest mismatch .*object, fs-verity: alg 1 1111/).length, 1, lines.join('\n'));
      assert.is(linesAbout(h, objectOf['c.txt']!, /digest computed \(5100 bytes/).length, 1, lines.join('\n'));
      assert.equal(linesAbout(h, objectOf['a.bin']!, /digest computed/), [], 'a measured object is not hashed');
    });
  }, {
    source,
    overrides: (pt) => ({
      ioctl: (ctx, ino: number, _fh: number, _flags: number, cmd: number, _arg: number, _in: Uint8Array, outSize: number) => {
        if (cmd !== FS_IOC_MEASURE_VERITY) throw new Errno(ERRNO.ENOTTY);
        measureCalls++;
        const srcIno = pt.getattr(ctx ?? rootCtx(), ino, undefined).ino;
        if (!answers.has(srcIno)) throw new Errno(ERRNO.ENODATA);
        const reply = answers.get(srcIno);
        if (!reply) throw new Errno(ERRNO.ENODATA);
        if (reply.length > outSize) throw new Errno(ERRNO.EOVERFLOW);
        return { result: 0, data: reply };
      },
    }),
  });
});

/** The kernel's build configuration, when it publishes one. */
function kernelConfig(): string | undefined {
  try {
    return gunzipSync(fs.readFileSync('/proc/config.gz')).toString();
  } catch {
    return undefined;
  }
}

test('real fs-verity: objects on a loop-mounted ext4 -O verity with `fsverity enable` are measured, not hashed', async () => {
  const dir = tempDir('tsfuse-verity-ext4-', '/var/tmp');
  const img = path.join(dir, 'ext4.img');
  const mnt = path.join(dir, 'mnt');
  fs.mkdirSync(mnt);
  let loop: string | undefined;
  let mounted = false;
  try {
    fs.writeFileSync(img, '');
    fs.truncateSync(img, 64 << 20);
    await run('mkfs.ext4', ['-q', '-F', '-O', 'verity', '-b', '4096', img], { timeoutMs: 60_000 });
    const lo = await run('losetup', ['--find', '--show', img], { check: false, timeoutMs: 30_000 });
    if (lo.status !== 0) throw new Error(`cannot attach ${img} to a loop device (losetup: ${lo.stderr.trim()}): this test needs root and /dev/loop-control`);
    loop = lo.stdout.toString().trim();
    await run('mount', ['-t', 'ext4', loop, mnt], { timeoutMs: 30_000 });
    mounted = true;
    const store = storeCopy('objects', false, mnt);
    const enabled: string[] = [];
    for (const rel of Object.values(objectOf)) {
      const r = await run('fsverity', ['enable', path.join(store, rel)], { check: false, timeoutMs: 30_000 });
      if (r.status !== 0) {
        // Only a kernel built without fs-verity excuses this, and only when it says so in its own config.
        const noVerity = /# CONFIG_FS_VERITY is not set/.test(kernelConfig() ?? '');
        if (!(noVerity && /not supported/i.test(r.stderr))) throw new Error(`fsverity enable ${rel}: ${r.stderr.trim()}`);
        process.stdout.write(
          `  NOTE: this kernel is built without CONFIG_FS_VERITY (/proc/config.gz): fs-verity cannot be enabled on ${loop};\n` +
            '  checked instead that the objects there are hashed (the ioctl path is covered by the FUSE store test)\n',
        );
        break;
      }
      const m = await run('fsverity', ['measure', path.join(store, rel)], { timeoutMs: 30_000 });
      assert.is(m.stdout.toString().split(' ')[0], `sha256:${rel.replace('/', '')}`, 'the kernel measures the digest the object is named by');
      enabled.push(rel);
    }
    await withImage({ image, basedir: store, debug: true, verity: 'require' }, async (h) => {
      const reads = await readAll(h.mnt);
      for (const rel of Object.keys(FILES)) assertSource(reads, rel);
      for (const [rel, object] of Object.entries(objectOf)) {
        const how = enabled.includes(object) ? /measured by the kernel \(FS_IOC_MEASURE_VERITY\)/ : /digest computed/;
        assert.ok(linesAbout(h, object, how).length >= 1, `${rel}: ${how}\n${serverLines(h.logs).join('\n')}`);
      }
    });
  } finally {
    if (mounted) await run('umount', [mnt], { check: false, timeoutMs: 30_000 });
    if (loop) await run('losetup', ['--detach', loop], { check: false, timeoutMs: 30_000 });
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('the software digest with SHA-512, streamed in odd pieces, is what `fsverity digest --hash-alg=sha512` prints', async () => {
  const file = path.join(base, 'sha512.bin');
  const data = randomBytes(1_234_567);
  fs.writeFileSync(file, data);
  const h = new VerityHasher('sha512');
  for (let off = 0; off < data.length; off += 77_777) h.update(data.subarray(off, off + 77_777));
  const r = await run('fsverity', ['digest', '--hash-alg=sha512', file], { timeoutMs: 30_000 });
  assert.is(`sha512:${h.digest().toString('hex')}`, r.stdout.toString().split(' ')[0]);
});

test('tsfuse erofs mount --verity takes off, check or require (one-line message, exit 2)', async () => {
  const r = await tsfuse(['erofs', 'mount', image, base, '--verity', 'sometimes']);
  assert.is(r.status, 2);
  assert.match(r.stderr, /^tsfuse: --verity takes off, check or require/);
  assert.is(r.stderr.trim().split('\n').length, 1);
});

test.run();
