// Notifications, byte by byte: each encoder writes a whole message (out header {len, error = notify code,
// unique 0} + body) into a buffer pre-filled with garbage; the message is compared with one built with Buffer
// writes at the LAYOUT offsets. The kernel checks most of these lengths exactly (e.g. inval_entry must be
// header + struct + namelen + 1), so the returned length is checked too.

import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { FUSE_EXPIRE_ONLY, InvalEntryFlags, LAYOUT as L, NotifyCode } from '../../src/protocol/abi.js';
import * as N from '../../src/protocol/notify.js';
import { WireBuffer } from '../../src/protocol/wire.js';

const H = L.fuse_out_header.size;
const BIG = 2 ** 40 + 0x77;

function dirty(): WireBuffer {
  const w = new WireBuffer(4096);
  w.buf.fill(0xaa);
  return w;
}

/** An expected message: header for `code` and `len`, body filled by `fill` at offset 16. */
function message(len: number, code: number, fill: (b: Buffer, at: number) => void = () => {}): Buffer {
  const b = Buffer.alloc(len);
  b.writeUInt32LE(len, L.fuse_out_header.len);
  b.writeInt32LE(code, L.fuse_out_header.error);
  b.writeBigUInt64LE(0n, L.fuse_out_header.unique);
  fill(b, H);
  return b;
}

function same(w: WireBuffer, n: number, expected: Buffer, what: string): void {
  assert.is(n, expected.length, `${what}: length`);
  const actual = w.buf.subarray(0, n);
  const diffs: string[] = [];
  for (let i = 0; i < n && diffs.length < 8; i++) if (actual[i] !== expected[i]) diffs.push(`@${i}: ${actual[i]} != ${expected[i]}`);
  assert.equal(diffs, [], what);
  // the header, read back field by field
  assert.is(w.buf.readUInt32LE(0), n, `${what}: len`);
  assert.is(w.buf.readBigUInt64LE(8), 0n, `${what}: unique 0`);
}

test('poll wakeup (code 1): kh above 2^32', () => {
  const w = dirty();
  const n = N.encodeNotifyPoll(w, BIG);
  same(w, n, message(H + 8, NotifyCode.POLL, (b, at) => b.writeBigUInt64LE(BigInt(BIG), at + L.fuse_notify_poll_wakeup_out.kh)), 'poll');
  assert.is(w.buf.readInt32LE(4), 1);
});

test('inval_inode (code 2): ino, off, len as signed 64-bit; off -1 = attributes only, len 0 = to the end', () => {
  const S = L.fuse_notify_inval_inode_out;
  const w = dirty();
  let n = N.encodeNotifyInvalInode(w, BIG, 2 ** 33, 4096);
  same(w, n, message(H + S.size, NotifyCode.INVAL_INODE, (b, at) => {
    b.writeBigUInt64LE(BigInt(BIG), at + S.ino);
    b.writeBigInt64LE(2n ** 33n, at + S.off);
    b.writeBigInt64LE(4096n, at + S.len);
  }), 'inval_inode range');
  n = N.encodeNotifyInvalInode(w, 5, -1, 0);
  same(w, n, message(H + S.size, NotifyCode.INVAL_INODE, (b, at) => {
    b.writeBigUInt64LE(5n, at + S.ino);
    b.writeBigInt64LE(-1n, at + S.off);
    b.writeBigInt64LE(0n, at + S.len);
  }), 'inval_inode attrs only');
  assert.is(w.buf.readBigInt64LE(H + S.off), -1n);
});

test('inval_entry (code 3): parent, namelen, flags 0, name + NUL; length is exact', () => {
  const S = L.fuse_notify_inval_entry_out;
  const name = 'ñame ✓';
  const nb = Buffer.from(name);
  const w = dirty();
  const n = N.encodeNotifyInvalEntry(w, BIG, name);
  same(w, n, message(H + S.size + nb.length + 1, NotifyCode.INVAL_ENTRY, (b, at) => {
    b.writeBigUInt64LE(BigInt(BIG), at + S.parent);
    b.writeUInt32LE(nb.length, at + S.namelen);
    b.writeUInt32LE(0, at + S.flags);
    nb.copy(b, at + S.size);
  }), 'inval_entry');
  assert.is(w.buf[n - 1], 0, 'NUL terminator');
});

test('inval_entry: the expire-only flag (FUSE_EXPIRE_ONLY) and Uint8Array names', () => {
  const S = L.fuse_notify_inval_entry_out;
  const raw = new Uint8Array([0x61, 0xff, 0x62]);
  const w = dirty();
  const n = N.encodeNotifyInvalEntry(w, 1, raw, InvalEntryFlags.of('EXPIRE_ONLY'));
  assert.is(InvalEntryFlags.of('EXPIRE_ONLY'), FUSE_EXPIRE_ONLY);
  same(w, n, message(H + S.size + 4, NotifyCode.INVAL_ENTRY, (b, at) => {
    b.writeBigUInt64LE(1n, at + S.parent);
    b.writeUInt32LE(3, at + S.namelen);
    b.writeUInt32LE(1, at + S.flags);
    Buffer.from(raw).copy(b, at + S.size);
  }), 'inval_entry expire-only');
});

test('delete (code 6): parent, child, namelen, zero padding, name + NUL', () => {
  const S = L.fuse_notify_delete_out;
  const nb = Buffer.from('gône');
  const w = dirty();
  const n = N.encodeNotifyDelete(w, 1, BIG, 'gône');
  same(w, n, message(H + S.size + nb.length + 1, NotifyCode.DELETE, (b, at) => {
    b.writeBigUInt64LE(1n, at + S.parent);
    b.writeBigUInt64LE(BigInt(BIG), at + S.child);
    b.writeUInt32LE(nb.length, at + S.namelen);
    nb.copy(b, at + S.size);
  }), 'delete');
});

test('store (code 4): nodeid, offset above 2^32, size, zero padding, then the data', () => {
  const S = L.fuse_notify_store_out;
  const data = Buffer.from('cached page data');
  const w = dirty();
  const n = N.encodeNotifyStore(w, BIG, 2 ** 35, data);
  same(w, n, message(H + S.size + data.length, NotifyCode.STORE, (b, at) => {
    b.writeBigUInt64LE(BigInt(BIG), at + S.nodeid);
    b.writeBigUInt64LE(2n ** 35n, at + S.offset);
    b.writeUInt32LE(data.length, at + S.size_);
    data.copy(b, at + S.size);
  }), 'store');
  // empty data
  const m = N.encodeNotifyStore(w, 2, 0, new Uint8Array(0));
  assert.is(m, H + S.size);
});

test('retrieve (code 5): notify_unique, nodeid, offset, size, zero padding', () => {
  const S = L.fuse_notify_retrieve_out;
  const w = dirty();
  const n = N.encodeNotifyRetrieve(w, 2 ** 34 + 1, BIG, 2 ** 33, 65536);
  same(w, n, message(H + S.size, NotifyCode.RETRIEVE, (b, at) => {
    b.writeBigUInt64LE(2n ** 34n + 1n, at + S.notify_unique);
    b.writeBigUInt64LE(BigInt(BIG), at + S.nodeid);
    b.writeBigUInt64LE(2n ** 33n, at + S.offset);
    b.writeUInt32LE(65536, at + S.size_);
  }), 'retrieve');
});

test('resend (code 7) and inc_epoch (code 8): header only', () => {
  const w = dirty();
  same(w, N.encodeNotifyResend(w), message(H, NotifyCode.RESEND), 'resend');
  assert.is(w.buf.readInt32LE(4), 7);
  same(w, N.encodeNotifyIncEpoch(w), message(H, NotifyCode.INC_EPOCH), 'inc_epoch');
  assert.is(w.buf.readInt32LE(4), 8);
});

test('prune (code 9): count, zero padding and spare, then one u64 nodeid each', () => {
  const S = L.fuse_notify_prune_out;
  const ids = [2, BIG, 2 ** 52 + 1];
  const w = dirty();
  const n = N.encodeNotifyPrune(w, ids);
  same(w, n, message(H + S.size + 8 * ids.length, NotifyCode.PRUNE, (b, at) => {
    b.writeUInt32LE(ids.length, at + S.count);
    ids.forEach((id, i) => b.writeBigUInt64LE(BigInt(id), at + S.size + 8 * i));
  }), 'prune');
  same(w, N.encodeNotifyPrune(w, []), message(H + S.size, NotifyCode.PRUNE), 'prune nothing');
});

test('every notify code has an encoder whose header carries it', () => {
  const w = dirty();
  const codes = new Set<number>();
  const run = (f: () => number) => {
    f();
    codes.add(w.buf.readInt32LE(4));
  };
  run(() => N.encodeNotifyPoll(w, 1));
  run(() => N.encodeNotifyInvalInode(w, 1, 0, 0));
  run(() => N.encodeNotifyInvalEntry(w, 1, 'a'));
  run(() => N.encodeNotifyStore(w, 1, 0, new Uint8Array(1)));
  run(() => N.encodeNotifyRetrieve(w, 1, 1, 0, 1));
  run(() => N.encodeNotifyDelete(w, 1, 2, 'a'));
  run(() => N.encodeNotifyResend(w));
  run(() => N.encodeNotifyIncEpoch(w));
  run(() => N.encodeNotifyPrune(w, [1]));
  assert.equal([...codes].sort((a, b) => a - b), Object.values(NotifyCode).sort((a, b) => a - b));
});

test.run();
