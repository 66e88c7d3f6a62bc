// The pieces under remote mounts, without a mount: the persistent block cache (atomic, checked, bounded), the
// HTTP object's retries and pinning against the real Range server, the byte source's read-ahead, and the rerun of
// an operation (and a half-written listing) after BytesPending.

import * as fs from 'node:fs';
import * as path from 'node:path';
import { randomBytes } from 'node:crypto';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { BlockCache } from '../../../src/remote/block-cache.js';
import { HttpObject, RemoteError } from '../../../src/remote/http-object.js';
import { RemoteByteSource } from '../../../src/remote/remote-byte-source.js';
import { awaitingBytes } from '../../../src/remote/await-bytes.js';
import { BytesPending } from '../../../src/erofs/bytesource.js';
import type { DirentSink, Filesystem, RequestContext } from '../../../src/fs/types.js';
import { startRangeServer, tempDir } from '../servers/index.js';

const ctx = { uid: 0, gid: 0, pid: 0, opcode: 0, interrupted: false } as RequestContext;

test('block cache: a block round-trips, is written under its final name only, and survives a new instance', () => {
  const dir = tempDir('tsfuse-bc-');
  try {
    const c = new BlockCache({ dir });
    const b = randomBytes(1000);
    c.put('k1', 4096, 7, b);
    assert.equal(Buffer.from(c.get('k1', 4096, 7)!), b);
    assert.equal(fs.readdirSync(path.join(dir, 'blocks', 'k1')), ['4096-7']);
    const again = new BlockCache({ dir });
    assert.equal(Buffer.from(again.get('k1', 4096, 7)!), b);
    assert.is(again.get('k1', 4096, 8), undefined);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('block cache: a damaged block file is not served (CRC and length trailer) and is removed', () => {
  const dir = tempDir('tsfuse-bc-');
  try {
    const c = new BlockCache({ dir });
    c.put('k', 4096, 0, randomBytes(4096));
    c.put('k', 4096, 1, randomBytes(4096));
    const f0 = path.join(dir, 'blocks', 'k', '4096-0');
    const bytes = fs.readFileSync(f0);
    bytes[100] ^= 1;
    fs.writeFileSync(f0, bytes);
    fs.truncateSync(path.join(dir, 'blocks', 'k', '4096-1'), 2000);
    assert.is(c.get('k', 4096, 0), undefined);
    assert.is(c.get('k', 4096, 1), undefined);
    assert.is(c.stats.corrupt, 2);
    assert.not.ok(fs.existsSync(f0));
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('block cache: stays within its bound, dropping the oldest blocks; leftovers of dead writers are removed', () => {
  const dir = tempDir('tsfuse-bc-');
  try {
    const c = new BlockCache({ dir, maxBytes: 3 * (1000 + 8) });
    for (let i = 0; i < 5; i++) c.put('k', 1000, i, randomBytes(1000));
    assert.ok(c.bytes <= c.maxBytes, `${c.bytes} <= ${c.maxBytes}`);
    assert.is(c.get('k', 1000, 0), undefined);
    assert.is(c.get('k', 1000, 1), undefined);
    assert.ok(c.get('k', 1000, 4));
    fs.writeFileSync(path.join(dir, 'blocks', 'k', '1000-9.123.abcd.tmp'), 'torn');
    const small = new BlockCache({ dir, maxBytes: 1008 });
    assert.ok(small.bytes <= 1008);
    assert.not.ok(fs.readdirSync(path.join(dir, 'blocks', 'k')).some((n) => n.endsWith('.tmp')));
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('http object: 503s are retried with backoff, then given up on with EIO; ranges are checked', async () => {
  const root = tempDir('tsfuse-served-');
  const data = randomBytes(100_000);
  fs.writeFileSync(path.join(root, 'obj'), data);
  const server = await startRangeServer(root);
  try {
    const o = await HttpObject.open(`${server.url}/obj`, { backoffMs: 10 });
    assert.is(o.size, data.length);
    assert.ok(o.etag, 'a strong ETag pins the object');
    await server.mode('fail=2');
    assert.equal(Buffer.from(await o.getRange(10, 1000)), data.subarray(10, 1010));
    assert.is(o.stats.retries, 2);
    await server.mode('fail=10');
    try {
      await o.getRange(0, 10);
      assert.unreachable('should fail');
    } catch (e) {
      assert.instance(e, RemoteError);
      assert.match((e as Error).message, /after 4 attempts/);
    }
    await server.mode('fail=0');
    try {
      await o.getRange(99_990, 20);
      assert.unreachable('should refuse');
    } catch (e) {
      assert.instance(e, RangeError);
    }
  } finally {
    await server.stop();
    fs.rmSync(root, { recursive: true, force: true });
  }
});

test('remote byte source: BytesPending until fetched, then served from memory; sequential misses read ahead', async () => {
  const data = randomBytes(64 * 1024);
  const asked: Array<[number, number]> = [];
  // A RangeReader over memory: what is tested here is the block logic, not a server.
  const reader = { size: data.length, getRange: async (o: number, n: number) => (asked.push([o, n]), data.subarray(o, o + n)) };
  const src = new RemoteByteSource(reader, { key: 'mem', blockSize: 4096, maxReadAheadBlocks: 4 });
  const out = new Uint8Array(100);
  let pending: unknown;
  try {
    src.readInto(out, 0, 5000, 100);
  } catch (e) {
    pending = e;
  }
  assert.instance(pending, BytesPending);
  await (pending as BytesPending).ready;
  src.readInto(out, 0, 5000, 100);
  assert.equal(Buffer.from(out), data.subarray(5000, 5100));
  // Sequential misses: block 2 (window 2: blocks 2-3), then block 4 (window 4: blocks 4-7).
  for (const off of [8192, 16384]) {
    try {
      src.readInto(out, 0, off, 100);
    } catch (e) {
      await (e as BytesPending).ready;
    }
  }
  assert.equal(asked, [[4096, 4096], [8192, 8192], [16384, 16384]]);
});

test('awaitingBytes: an operation is run again once bytes arrive; a listing resumes without repeating entries', async () => {
  let gate: Promise<void> | undefined = Promise.resolve();
  let calls = 0;
  const names = ['a', 'b', 'c', 'd', 'e'];
  const fs0: Filesystem = {
    getattr(_c, ino) {
      calls++;
      if (gate) {
        const g = gate;
        gate = undefined;
        throw new BytesPending(g);
      }
      return { ino, mode: 0o100644, nlink: 1, uid: 0, gid: 0, size: 1, atime: 0, mtime: 0, ctime: 0 };
    },
    readdir(_c, _ino, _fh, off, out) {
      for (let i = off; i < names.length; i++) {
        // The first listing needs bytes after three entries.
        if (i === 3 && calls++ < 2) throw new BytesPending(Promise.resolve());
        if (!out.add(i + 2, names[i]!, 0o100000, i + 1)) return;
      }
    },
  };
  const fs1 = awaitingBytes(fs0);
  assert.is(fs1.write, undefined, 'no methods are added');
  const attr = await fs1.getattr!(ctx, 5, undefined);
  assert.is(attr.ino, 5);
  const got: string[] = [];
  const sink: DirentSink = { add: (_ino, name) => (got.push(String(name)), true) };
  await fs1.readdir!(ctx, 1, 0, 0, sink);
  assert.equal(got, names);
});

test.run();
