// The Cap'n Proto reader and writer against the reference tool (Debian's `capnp`, schema
// reference/puzzlefs-metadata.capnp): a fixture made by `capnp encode` from hand-written text is read field by
// field; what our writer produces decodes with `capnp decode` and survives a decode/encode round trip through
// the tool; far pointers (single and double) resolve; pointers out of range, truncations, aliasing past the
// traversal limit and a fuzz of mutated messages fail as CorruptPuzzleError and nothing else.

import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { CapnpMessage } from '../../src/puzzlefs/capnp.js';
import { CorruptPuzzleError } from '../../src/puzzlefs/errors.js';
import { type PuzzleInode, decodeInode, encodeRootfs, openRootfs } from '../../src/puzzlefs/schema.js';
import { FIXTURES_DIR, REFERENCE_DIR } from '../helpers/fixtures.js';
import { Prng } from '../erofs/kit/prng.js';

const SCHEMA = join(REFERENCE_DIR, 'puzzlefs-metadata.capnp');
const FIXTURE_TXT = join(FIXTURES_DIR, 'puzzlefs', 'rootfs.capnp.txt');
const FIXTURE_BIN = readFileSync(join(FIXTURES_DIR, 'puzzlefs', 'rootfs.capnp.bin'));

function capnp(mode: 'encode' | 'decode', input: Uint8Array): Buffer {
  const r = spawnSync('capnp', [mode, SCHEMA, 'Rootfs'], { input, maxBuffer: 1 << 28 });
  if (r.status !== 0) throw new Error(`capnp ${mode}: ${r.stderr.toString()}`);
  return r.stdout;
}

const s = (b: Uint8Array | null): string | null => (b ? Buffer.from(b).toString('latin1') : null);

function allInodes(buf: Uint8Array): PuzzleInode[][] {
  const r = openRootfs(buf);
  return r.layers.map((l) => Array.from({ length: l.length }, (_, i) => l.decode(i)));
}

/** A plain, comparable form of decoded layers. */
function plain(layers: PuzzleInode[][]): unknown {
  return JSON.parse(JSON.stringify(layers, (_k, v) => (v instanceof Uint8Array ? Buffer.from(v).toString('hex') : v)));
}

test('the capnp-encoded fixture is what its text says, and capnp re-encodes it to the same bytes', () => {
  assert.ok(capnp('encode', readFileSync(FIXTURE_TXT)).equals(FIXTURE_BIN), 'fixture bytes match `capnp encode` of the text');
  const r = openRootfs(FIXTURE_BIN);
  assert.is(r.manifestVersion, 3);
  assert.is(r.layers.length, 2);
  assert.equal(r.layers.map((l) => l.length), [5, 2]);
  const [top, low] = allInodes(FIXTURE_BIN);
  const [root, file, link, wht, chr] = top!;
  assert.is(root!.kind, 'dir');
  assert.is(root!.permissions, 0o755);
  assert.equal(root!.entries.map((e) => [e.ino, s(e.name)]), [[2, 'hello.txt'], [3, 'link'], [5, 'b\xffa']]);
  assert.is(file!.kind, 'file');
  assert.equal([file!.uid, file!.gid, file!.permissions], [1000, 100, 0o644]);
  assert.equal(file!.chunks.map((c) => [Buffer.from(c.blob.digest).toString('hex'), c.blob.offset, c.blob.compressed, c.len]), [
    [Buffer.from(Array.from({ length: 32 }, (_, i) => i)).toString('hex'), 7, true, 1000],
    [Buffer.from(Array.from({ length: 32 }, (_, i) => i)).toString('hex'), 0, false, 5],
  ]);
  assert.equal(file!.xattrs.map((x) => [s(x.key), s(x.val)]), [['user.greeting', 'hi'], ['trusted.empty', '']]);
  assert.is(link!.kind, 'lnk');
  assert.is(s(link!.symlinkTarget), 'hello.txt');
  assert.is(wht!.kind, 'wht');
  assert.equal([chr!.kind, chr!.major, chr!.minor, chr!.uid, chr!.gid, chr!.permissions], ['chr', 4095, 1048575, 4294967294, 7, 0o6000]);
  assert.equal(low!.map((n) => [n.ino, n.kind]), [[4, 'sock'], [9007199254740991, 'blk']]);
  assert.equal([low![1]!.major, low![1]!.minor], [8, 1]);
  assert.is(r.verity.length, 1);
  assert.is(r.verity[0]!.verity[0], 32);
  assert.is(r.layers[0]!.indexOf(5), 4);
  assert.is(r.layers[1]!.indexOf(3), -1);
});

test('what our writer encodes decodes with `capnp decode` and round-trips through the tool', () => {
  const layers = allInodes(FIXTURE_BIN);
  const ours = encodeRootfs(layers, openRootfs(FIXTURE_BIN).verity);
  const text = capnp('decode', ours).toString();
  assert.match(text, /manifestVersion = 3/);
  assert.match(text, /name = "b\\377a"/);
  assert.match(text, /symlinkTarget = "hello.txt"/);
  const again = capnp('encode', Buffer.from(text));
  assert.equal(plain(allInodes(again)), plain(layers));
  // the tool's own text of the fixture and of ours are the same message
  assert.is(text, capnp('decode', FIXTURE_BIN).toString());
});

/** A two-segment message: root (far pointer) in segment 0, the Rootfs (3 words) in segment 1. */
function farMessage(double: boolean): Uint8Array {
  const seg0 = new DataView(new ArrayBuffer(8));
  const seg1 = new DataView(new ArrayBuffer(8 * 7));
  const structHi = 1 | (2 << 16); // 1 data word, 2 pointers
  if (!double) {
    seg0.setUint32(0, (0 << 3) | 2, true); // single far: landing pad at word 0 of segment 1
    seg0.setUint32(4, 1, true);
    seg1.setUint32(0, 0, true); // pad: struct pointer, offset 0 -> content at word 1
    seg1.setUint32(4, structHi, true);
    seg1.setUint32(8, 3, true); // manifestVersion
  } else {
    seg0.setUint32(0, (2 << 3) | 4 | 2, true); // double far: pad at words 2-3 of segment 1
    seg0.setUint32(4, 1, true);
    seg1.setUint32(16, (4 << 3) | 2, true); // pad[0]: single far to word 4 of segment 1
    seg1.setUint32(20, 1, true);
    seg1.setUint32(24, 0, true); // pad[1]: the tag (struct pointer, offset 0)
    seg1.setUint32(28, structHi, true);
    seg1.setUint32(32, 3, true); // manifestVersion at word 4
  }
  const head = new DataView(new ArrayBuffer(16));
  head.setUint32(0, 1, true); // two segments
  head.setUint32(4, 1, true);
  head.setUint32(8, 7, true);
  return Buffer.concat([Buffer.from(head.buffer), Buffer.from(seg0.buffer), Buffer.from(seg1.buffer)]);
}

test('far pointers (single and double) resolve across segments', () => {
  for (const double of [false, true]) {
    const msg = new CapnpMessage(farMessage(double));
    const root = msg.root();
    assert.is(root.u64(0, 'version'), 3, `double=${double}`);
    assert.is(root.structList(0, 'metadatas'), null);
    assert.throws(() => openRootfs(farMessage(double)), (e: unknown) => e instanceof CorruptPuzzleError && /no metadata layers/.test(e.message));
  }
});

/** Root inode listing `n` entries whose names all alias one data list of `bytes` bytes. */
function aliasingMessage(n: number, bytes: number): Uint8Array {
  const dataWords = Math.ceil(bytes / 8);
  const words = 15 + 2 * n + dataWords;
  const v = new DataView(new ArrayBuffer(8 + words * 8));
  v.setUint32(0, 0, true);
  v.setUint32(4, words, true);
  const W = (w: number) => 8 + w * 8;
  const ptr = (at: number, target: number, kind: number, hi: number) => {
    v.setUint32(W(at), (((target - at - 1) << 2) | kind) >>> 0, true);
    v.setUint32(W(at) + 4, hi >>> 0, true);
  };
  ptr(0, 1, 0, 1 | (2 << 16)); // root -> Rootfs at 1
  v.setUint32(W(1), 3, true); // manifestVersion
  ptr(2, 4, 1, 7 | (1 << 3)); // metadatas: composite, 1 word
  v.setUint32(W(4), 1 << 2, true); // tag: 1 element, 0 data, 1 ptr
  v.setUint32(W(4) + 4, 1 << 16, true);
  ptr(5, 6, 1, 7 | (5 << 3)); // inodes: composite, 5 words
  v.setUint32(W(6), 1 << 2, true);
  v.setUint32(W(6) + 4, 3 | (2 << 16), true);
  v.setUint32(W(7), 1, true); // ino 1
  v.setUint16(W(8), 3, true); // dir
  ptr(10, 12, 0, 1 | (1 << 16)); // Dir at 12
  ptr(13, 14, 1, 7 | ((2 * n) << 3)); // entries
  v.setUint32(W(14), n << 2, true);
  v.setUint32(W(14) + 4, 1 | (1 << 16), true);
  const data = 15 + 2 * n;
  for (let i = 0; i < n; i++) {
    v.setUint32(W(15 + 2 * i), 2 + i, true);
    ptr(16 + 2 * i, data, 1, 2 | (bytes << 3));
  }
  for (let b = 0; b < bytes; b++) v.setUint8(W(data) + b, 0x61);
  return new Uint8Array(v.buffer);
}

test('bounds: truncation, pointers out of range, segment tables, aliasing past the traversal limit', () => {
  const isCorrupt = (fn: () => unknown, re: RegExp) => assert.throws(fn, (e: unknown) => e instanceof CorruptPuzzleError && re.test(e.message));
  isCorrupt(() => openRootfs(FIXTURE_BIN.subarray(0, FIXTURE_BIN.length - 8)), /truncated/);
  isCorrupt(() => openRootfs(FIXTURE_BIN.subarray(0, 4)), /truncated/);
  isCorrupt(() => openRootfs(Buffer.concat([FIXTURE_BIN, Buffer.alloc(8)])), /after its last segment/);
  const manySegs = Buffer.from(FIXTURE_BIN);
  manySegs.writeUInt32LE(100000, 0);
  isCorrupt(() => openRootfs(manySegs), /segments/);
  const outOfRange = Buffer.from(FIXTURE_BIN);
  outOfRange.writeUInt32LE(((1 << 20) << 2) >>> 0, 8); // root pointer a million words ahead
  isCorrupt(() => openRootfs(outOfRange), /outside its segment/);
  const backwards = Buffer.from(FIXTURE_BIN);
  backwards.writeInt32LE(-(5 << 2), 8);
  isCorrupt(() => openRootfs(backwards), /outside its segment/);
  // small aliasing is fine; 2000 names aliasing 64 KiB each is 16 Mi words of reading: refused
  const ok = openRootfs(aliasingMessage(10, 1024));
  assert.is(ok.layers[0]!.decode(0).entries.length, 10);
  const bomb = openRootfs(aliasingMessage(2000, 65536));
  isCorrupt(() => bomb.layers[0]!.decode(0), /traversal limit/);
  // a struct list read where a Data is expected, and the reverse
  const wrong = Buffer.from(aliasingMessage(1, 8));
  wrong.writeUInt32LE((wrong.readUInt32LE(8 + 16 * 8 + 4) & ~7) | 7, 8 + 16 * 8 + 4);
  isCorrupt(() => openRootfs(wrong).layers[0]!.decode(0), /expected a list of bytes/);
});

test('fuzz: 3000 mutated messages fail only as CorruptPuzzleError (or decode)', () => {
  const sample = encodeRootfs(allInodes(FIXTURE_BIN), openRootfs(FIXTURE_BIN).verity);
  const rng = new Prng('capnp-fuzz');
  const rnd = () => rng.int(1 << 30) / (1 << 30);
  let rejected = 0;
  let decoded = 0;
  for (let k = 0; k < 3000; k++) {
    const src = k % 2 ? sample : FIXTURE_BIN;
    let m: Uint8Array = Buffer.from(src);
    const kind = k % 5;
    if (kind === 0) m = m.subarray(0, Math.floor(rnd() * m.length));
    else {
      const flips = 1 + Math.floor(rnd() * 6);
      for (let f = 0; f < flips; f++) {
        const at = Math.floor(rnd() * m.length);
        if (kind === 4) m[at] = 0xff;
        else m[at] = m[at]! ^ (1 << Math.floor(rnd() * 8));
      }
    }
    try {
      const r = openRootfs(m);
      for (const l of r.layers) for (let i = 0; i < l.length; i++) decodeInode(l.list.get(i));
      decoded++;
    } catch (e) {
      if (!(e instanceof CorruptPuzzleError)) throw new Error(`mutation ${k} threw ${(e as Error).stack}`);
      rejected++;
    }
  }
  assert.ok(rejected > 1000 && decoded > 100, `${rejected} rejected, ${decoded} decoded`);
});

test.run();
