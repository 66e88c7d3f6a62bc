// INIT negotiation as a pure function: what this machine's kernel offers (7.45, flags 0x73fffffb, flags2 0x5fd)
// times what a filesystem wants gives the intersection plus INIT_EXT, flags2 in the high word, max_write /
// max_pages, time_gran, max_stack_depth only with passthrough, passthrough winning over writeback cache, and
// the version cases: major > 7 (version-only reply), major < 7 (EPROTO), old minors (short replies, no flags2).

import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { ERRNO } from '../../src/protocol/errno.js';
import { FUSE_KERNEL_MINOR_VERSION, InitFlags, LAYOUT as L, type InitFlag } from '../../src/protocol/abi.js';
import { negotiateInit, type InitResult, type InitWants } from '../../src/protocol/init.js';
import { encodeInitOut } from '../../src/protocol/replies.js';
import type { InitIn } from '../../src/protocol/requests.js';
import { WireBuffer } from '../../src/protocol/wire.js';

const FLAGS = 0x73fffffb;
const FLAGS2 = 0x5fd;
const K745: InitIn = { major: 7, minor: 45, maxReadahead: 131072, flags: FLAGS2 * 2 ** 32 + FLAGS };
const KERNEL_BITS = (BigInt(FLAGS2) << 32n) | BigInt(FLAGS);
const ALL = Object.keys(InitFlags.bits) as InitFlag[];

function reply(r: InitResult): Extract<InitResult, { kind: 'reply' }> {
  if (r.kind !== 'reply') throw new Error(`expected a reply, got ${r.kind}`);
  return r;
}

const bit = (f: InitFlag) => 1n << BigInt(InitFlags.bits[f]);
const big = (v: number) => BigInt(v);

/** The expected reply flags, computed with BigInt independently of FlagSpec. */
function expected(kernel: bigint, wants: InitFlag[], ext = true): bigint {
  let want = bit('INIT_EXT');
  for (const f of wants) want |= bit(f);
  let out = kernel & want;
  if (!ext) out &= 0xffffffffn;
  if (out & bit('PASSTHROUGH')) out &= ~bit('WRITEBACK_CACHE');
  return out;
}

test('kernel flags of this machine decode to the expected capability names', () => {
  const names = InitFlags.names(K745.flags);
  for (const f of ['INIT_EXT', 'PASSTHROUGH', 'REQUEST_TIMEOUT', 'ALLOW_IDMAP', 'HAS_RESEND', 'SECURITY_CTX', 'WRITEBACK_CACHE', 'MAX_PAGES']) {
    assert.ok(names.includes(f), f);
  }
  for (const f of ['FILE_OPS', 'MAP_ALIGNMENT', 'SUBMOUNTS', 'HAS_INODE_DAX', 'OVER_IO_URING', 'INIT_RESERVED']) assert.not.ok(names.includes(f), f);
});

test('reply flags are the intersection of kernel and wants, plus INIT_EXT', () => {
  const cases: InitFlag[][] = [
    [],
    ['ASYNC_READ'],
    ['ASYNC_READ', 'PARALLEL_DIROPS', 'DO_READDIRPLUS', 'READDIRPLUS_AUTO', 'MAX_PAGES', 'CACHE_SYMLINKS'],
    ['FILE_OPS', 'MAP_ALIGNMENT', 'SUBMOUNTS', 'HAS_INODE_DAX', 'OVER_IO_URING'], // the kernel offers none of these
    ['SECURITY_CTX', 'CREATE_SUPP_GROUP', 'HAS_EXPIRE_ONLY', 'ALLOW_IDMAP', 'REQUEST_TIMEOUT'],
    ALL,
  ];
  for (const wants of cases) {
    const r = reply(negotiateInit(K745, { flags: wants }));
    assert.is(big(r.out.flags), expected(KERNEL_BITS, wants), wants.join(','));
    assert.is(r.negotiated, r.out.flags);
    assert.ok(InitFlags.has(r.out.flags, 'INIT_EXT'));
  }
  assert.is(reply(negotiateInit(K745, { flags: [] })).out.flags, 2 ** 30, 'only INIT_EXT');
});

test('reply flags: 300 pseudo-random wants sets match the BigInt intersection', () => {
  let seed = 12345;
  const rnd = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
  for (let k = 0; k < 300; k++) {
    const wants = ALL.filter(() => rnd() < 0.4);
    const r = reply(negotiateInit(K745, { flags: wants }));
    assert.is(big(r.out.flags), expected(KERNEL_BITS, wants), wants.join(','));
  }
});

test('flags2 travels in the high word: encodeInitOut writes flags (low) and flags2 (high)', () => {
  const wants: InitFlag[] = ['ASYNC_READ', 'MAX_PAGES', 'PASSTHROUGH', 'HAS_RESEND', 'ALLOW_IDMAP', 'OVER_IO_URING'];
  const r = reply(negotiateInit(K745, { flags: wants }));
  const w = new WireBuffer(128);
  const n = encodeInitOut(w, 16, r.out, r.size);
  assert.is(n, 64);
  const lo = w.buf.readUInt32LE(16 + L.fuse_init_out.flags);
  const hi = w.buf.readUInt32LE(16 + L.fuse_init_out.flags2);
  const exp = expected(KERNEL_BITS, wants);
  assert.is(big(lo), exp & 0xffffffffn);
  assert.is(big(hi), exp >> 32n);
  assert.is(hi, (1 << 5) | (1 << 7) | (1 << 8), 'PASSTHROUGH | HAS_RESEND | ALLOW_IDMAP (no io_uring offered)');
  assert.is(w.buf.readUInt32LE(16 + L.fuse_init_out.major), 7);
  assert.is(w.buf.readUInt32LE(16 + L.fuse_init_out.minor), 45);
});

test('max_write 1 MiB with MAX_PAGES -> 256 pages', () => {
  const r = reply(negotiateInit(K745, { flags: ['MAX_PAGES'], maxWrite: 1 << 20 }));
  assert.is(r.out.maxWrite, 1 << 20);
  assert.is(r.out.maxPages, 256);
  const d = reply(negotiateInit(K745, { flags: ['MAX_PAGES'] }));
  assert.is(d.out.maxWrite, 1 << 20, 'default max_write is 1 MiB');
  assert.is(d.out.maxPages, 256);
});

test('max_write above 256 pages is capped to 1 MiB; odd sizes round the page count up', () => {
  const r = reply(negotiateInit(K745, { flags: ['MAX_PAGES'], maxWrite: 4 << 20 }));
  assert.is(r.out.maxPages, 256);
  assert.is(r.out.maxWrite, 1 << 20);
  const odd = reply(negotiateInit(K745, { flags: ['MAX_PAGES'], maxWrite: 200_000 }));
  assert.is(odd.out.maxPages, 49);
  assert.is(odd.out.maxWrite, 200_000);
  const big16k = reply(negotiateInit(K745, { flags: ['MAX_PAGES'], maxWrite: 1 << 20, pageSize: 16384 }));
  assert.is(big16k.out.maxPages, 64);
});

test('without MAX_PAGES max_write is capped at 32 pages (128 KiB) and max_pages is 0', () => {
  const r = reply(negotiateInit(K745, { flags: [], maxWrite: 1 << 20 }));
  assert.is(r.out.maxWrite, 128 * 1024);
  assert.is(r.out.maxPages, 0);
  // MAX_PAGES wanted but not offered by the kernel
  const k: InitIn = { ...K745, flags: InitFlags.without(K745.flags, InitFlags.of('MAX_PAGES')) };
  const r2 = reply(negotiateInit(k, { flags: ['MAX_PAGES'], maxWrite: 1 << 20 }));
  assert.is(r2.out.maxWrite, 128 * 1024);
  assert.is(r2.out.maxPages, 0);
});

test('max_write is at least 4096', () => {
  assert.is(reply(negotiateInit(K745, { flags: ['MAX_PAGES'], maxWrite: 100 })).out.maxWrite, 4096);
});

test('time_gran defaults to 1 ns; max_readahead is min(kernel, wanted); background defaults', () => {
  const r = reply(negotiateInit(K745, { flags: [] }));
  assert.is(r.out.timeGran, 1);
  assert.is(r.out.maxReadahead, 131072);
  assert.is(r.out.maxBackground, 64);
  assert.is(r.out.congestionThreshold, 48);
  assert.is(r.out.mapAlignment, 0);
  const r2 = reply(negotiateInit(K745, { flags: [], timeGran: 1000, maxReadahead: 4096, maxBackground: 12, congestionThreshold: 9 }));
  assert.is(r2.out.timeGran, 1000);
  assert.is(r2.out.maxReadahead, 4096);
  assert.is(r2.out.maxBackground, 12);
  assert.is(r2.out.congestionThreshold, 9);
  assert.is(reply(negotiateInit(K745, { flags: [], maxReadahead: 1 << 30 })).out.maxReadahead, 131072);
});

test('max_stack_depth >= 1 only when PASSTHROUGH is negotiated', () => {
  assert.is(reply(negotiateInit(K745, { flags: ['PASSTHROUGH'] })).out.maxStackDepth, 1);
  assert.is(reply(negotiateInit(K745, { flags: ['PASSTHROUGH'], maxStackDepth: 2 })).out.maxStackDepth, 2);
  assert.is(reply(negotiateInit(K745, { flags: ['PASSTHROUGH'], maxStackDepth: 0 })).out.maxStackDepth, 1);
  assert.is(reply(negotiateInit(K745, { flags: [], maxStackDepth: 2 })).out.maxStackDepth, 0);
  const noPt: InitIn = { ...K745, flags: InitFlags.without(K745.flags, InitFlags.of('PASSTHROUGH')) };
  const r = reply(negotiateInit(noPt, { flags: ['PASSTHROUGH'], maxStackDepth: 2 }));
  assert.not.ok(InitFlags.has(r.out.flags, 'PASSTHROUGH'));
  assert.is(r.out.maxStackDepth, 0);
});

test('PASSTHROUGH drops WRITEBACK_CACHE; a kernel without passthrough keeps writeback', () => {
  const r = reply(negotiateInit(K745, { flags: ['PASSTHROUGH', 'WRITEBACK_CACHE'] }));
  assert.ok(InitFlags.has(r.out.flags, 'PASSTHROUGH'));
  assert.not.ok(InitFlags.has(r.out.flags, 'WRITEBACK_CACHE'));
  assert.ok(InitFlags.has(reply(negotiateInit(K745, { flags: ['WRITEBACK_CACHE'] })).out.flags, 'WRITEBACK_CACHE'));
  const noPt: InitIn = { ...K745, flags: InitFlags.without(K745.flags, InitFlags.of('PASSTHROUGH')) };
  const r2 = reply(negotiateInit(noPt, { flags: ['PASSTHROUGH', 'WRITEBACK_CACHE'] }));
  assert.not.ok(InitFlags.has(r2.out.flags, 'PASSTHROUGH'));
  assert.ok(InitFlags.has(r2.out.flags, 'WRITEBACK_CACHE'));
});

test('request_timeout only with REQUEST_TIMEOUT negotiated', () => {
  assert.is(reply(negotiateInit(K745, { flags: ['REQUEST_TIMEOUT'], requestTimeout: 30 })).out.requestTimeout, 30);
  assert.is(reply(negotiateInit(K745, { flags: [], requestTimeout: 30 })).out.requestTimeout, 0);
});

test('major > 7: a version-only reply of 8 bytes (7.45), the kernel then retries', () => {
  const r = negotiateInit({ major: 8, minor: 0, maxReadahead: 0, flags: 0 }, { flags: ['ASYNC_READ'] });
  assert.is(r.kind, 'version');
  if (r.kind !== 'version') return;
  assert.is(r.size, 8);
  assert.is(r.out.major, 7);
  assert.is(r.out.minor, FUSE_KERNEL_MINOR_VERSION);
  const w = new WireBuffer(128);
  assert.is(encodeInitOut(w, 16, r.out, r.size), 8);
  assert.is(w.buf.readUInt32LE(16), 7);
  assert.is(w.buf.readUInt32LE(20), 45);
});

test('major < 7: EPROTO error', () => {
  const r = negotiateInit({ major: 6, minor: 99, maxReadahead: 0, flags: 0 }, { flags: [] });
  assert.is(r.kind, 'error');
  if (r.kind === 'error') assert.is(r.errno, ERRNO.EPROTO);
});

test('minor below 12 is refused with EPROTO', () => {
  const r = negotiateInit({ major: 7, minor: 11, maxReadahead: 0, flags: 0 }, { flags: [] });
  assert.is(r.kind, 'error');
  if (r.kind === 'error') assert.is(r.errno, 71);
});

test('old minor 7.22: 24-byte reply, minor 22, 32-bit flags only', () => {
  const k: InitIn = { major: 7, minor: 22, maxReadahead: 32768, flags: 0x0000fffb };
  const r = reply(negotiateInit(k, { flags: ['ASYNC_READ', 'BIG_WRITES', 'WRITEBACK_CACHE', 'MAX_PAGES'] }));
  assert.is(r.size, 24);
  assert.is(r.minor, 22);
  assert.is(r.out.minor, 22);
  assert.is(big(r.out.flags), (1n << 0n) | (1n << 5n), 'ASYNC_READ | BIG_WRITES: writeback (7.23) and max_pages (7.28) not offered');
  const w = new WireBuffer(128);
  w.buf.fill(0xee);
  assert.is(encodeInitOut(w, 16, r.out, r.size), 24);
  assert.is(w.buf.readUInt32LE(16 + 4), 22);
  assert.is(w.buf.readUInt32LE(16 + L.fuse_init_out.max_write), 128 * 1024);
});

test('old minor 7.31 without INIT_EXT: no flags2 even if high bits are wanted, 64-byte reply', () => {
  const k: InitIn = { major: 7, minor: 31, maxReadahead: 131072, flags: 0x3ffffffb + 2 ** 37 }; // stray high bit
  const r = reply(negotiateInit(k, { flags: ALL }));
  assert.is(r.size, 64);
  assert.is(r.out.minor, 31);
  assert.ok(r.out.flags < 2 ** 32, 'no flags2');
  assert.not.ok(InitFlags.has(r.out.flags, 'INIT_EXT'));
  assert.not.ok(InitFlags.has(r.out.flags, 'PASSTHROUGH'));
  assert.is(r.out.maxStackDepth, 0);
  const w = new WireBuffer(128);
  encodeInitOut(w, 16, r.out, r.size);
  assert.is(w.buf.readUInt32LE(16 + L.fuse_init_out.flags2), 0);
});

test('minor = min(kernel, 45)', () => {
  for (const [km, exp] of [[45, 45], [50, 45], [40, 40], [36, 36], [23, 23]]) {
    const r = reply(negotiateInit({ ...K745, minor: km }, { flags: [] }));
    assert.is(r.minor, exp);
    assert.is(r.out.minor, exp);
    assert.is(r.size, 64);
  }
});

test('pure: same input, same output; inputs not mutated', () => {
  const wants: InitWants = { flags: ['ASYNC_READ', 'PASSTHROUGH', 'WRITEBACK_CACHE'], maxWrite: 1 << 20 };
  const copy = JSON.parse(JSON.stringify(wants));
  const kernel = { ...K745 };
  assert.equal(negotiateInit(kernel, wants), negotiateInit(kernel, wants));
  assert.equal(wants, copy);
  assert.equal(kernel, K745);
});

test.run();
