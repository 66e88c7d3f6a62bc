// The dispatcher without a device: requests written byte by byte, replies recorded by a RecordingChannel.
// Covers the missing-method rule of every row of the opcode table, sync and async replies, errors, the
// interrupt path and the debug trace's flag names.

import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { LAYOUT as L, Opcode } from '../../src/protocol/abi.js';
import { OPCODES } from '../../src/protocol/opcodes.js';
import { WireBuffer } from '../../src/protocol/wire.js';
import { Errno } from '../../src/protocol/errno.js';
import type { Attr, Filesystem } from '../../src/fs/types.js';
import { RecordingChannel } from '../../src/server/channel.js';
import { Dispatcher } from '../../src/server/dispatch.js';
import { InterruptTable } from '../../src/server/interrupts.js';
import { Lane } from '../../src/server/lane.js';

const FD = 5;

function request(opcode: number, body: Buffer = Buffer.alloc(64), unique = 100, nodeid = 1): { w: WireBuffer; n: number } {
  const n = 40 + body.length;
  const b = Buffer.alloc(n);
  b.writeUInt32LE(n, 0);
  b.writeUInt32LE(opcode, 4);
  b.writeBigUInt64LE(BigInt(unique), 8);
  b.writeBigUInt64LE(BigInt(nodeid), 16);
  b.writeUInt32LE(1000, 24);
  b.writeUInt32LE(1000, 28);
  b.writeUInt32LE(4242, 32);
  body.copy(b, 40);
  return { w: WireBuffer.from(b), n };
}

function setup(fs: Filesystem, debug = false) {
  const channel = new RecordingChannel();
  const logs: string[] = [];
  const d = new Dispatcher(fs, { entryTimeout: 1, attrTimeout: 1, negativeTimeout: 0, debug, setxattrExt: false, log: (m) => logs.push(m) }, new InterruptTable(), channel);
  const lane = new Lane(1 << 16);
  const serve = (opcode: number, body?: Buffer, unique = 100) => {
    const { w, n } = request(opcode, body, unique);
    return d.dispatch(lane, FD, w, n);
  };
  return { d, channel, logs, lane, serve };
}

const ATTR: Attr = { ino: 1, mode: 0o40755, nlink: 2, uid: 0, gid: 0, size: 0, atime: 1, mtime: 2, ctime: 3 };

function header(m: { bytes: Buffer }) {
  return { len: m.bytes.readUInt32LE(0), error: m.bytes.readInt32LE(4), unique: m.bytes.readUInt32LE(8) };
}

test('a filesystem with no methods: every row answers its missing-method rule', () => {
  const { channel, serve } = setup({});
  for (const row of OPCODES) {
    const pending = serve(row.opcode);
    assert.is(pending, undefined, `${row.name} answered synchronously`);
    const msgs = channel.take();
    if (row.noReply || row.opcode === Opcode.INTERRUPT) {
      assert.equal(msgs, [], `${row.name} is never answered`);
      continue;
    }
    assert.is(msgs.length, 1, `${row.name}: one reply`);
    const h = header(msgs[0]);
    assert.is(msgs[0].fd, FD);
    assert.is(h.unique, 100);
    if (row.missing === 'success') assert.equal([h.error, h.len], [0, 16], `${row.name}: empty success`);
    else if (typeof row.missing === 'string') assert.is(h.error, -(row.missing === 'ENOSYS' ? 38 : 71), `${row.name}: ${row.missing}`);
    else assert.is(h.error, 0, `${row.name}: default reply`);
  }
});

test('default replies: OPEN and OPENDIR give fh 0, STATFS 255-byte names', () => {
  const { channel, serve } = setup({});
  serve(Opcode.OPEN);
  serve(Opcode.OPENDIR);
  serve(Opcode.STATFS);
  const [open, opendir, statfs] = channel.take();
  for (const m of [open, opendir]) {
    assert.is(header(m).len, 16 + L.fuse_open_out.size);
    assert.is(m.bytes.readBigUInt64LE(16), 0n);
  }
  assert.is(header(statfs).len, 16 + L.fuse_kstatfs.size);
  assert.is(statfs.bytes.readUInt32LE(16 + L.fuse_kstatfs.namelen), 255);
});

test('sync and async values are encoded the same; a rejection and a throw become their errno', async () => {
  const { d, channel, serve } = setup({
    getattr: (_c, ino) => (ino === 1 ? ATTR : Promise.resolve({ ...ATTR, ino })),
    access: () => {
      throw new Errno('EACCES');
    },
    unlink: () => Promise.reject(new Errno('ENOTEMPTY')),
  });
  assert.is(serve(Opcode.GETATTR, Buffer.alloc(16), 1), undefined);
  const { w, n } = request(Opcode.GETATTR, Buffer.alloc(16), 2, 7);
  const pending = d.dispatch(new Lane(1 << 16), FD, w, n);
  assert.ok(pending instanceof Promise);
  await pending;
  const [sync, async] = channel.take();
  assert.is(header(sync).len, 16 + L.fuse_attr_out.size);
  assert.is(header(async).len, 16 + L.fuse_attr_out.size);
  assert.is(header(async).unique, 2);
  assert.is(async.bytes.readBigUInt64LE(16 + L.fuse_attr_out.attr + L.fuse_attr.ino), 7n);
  serve(Opcode.ACCESS, Buffer.alloc(8), 3);
  await serve(Opcode.UNLINK, Buffer.from('x\0'), 4);
  const [access, unlink] = channel.take();
  assert.is(header(access).error, -13);
  assert.is(header(unlink).error, -39);
});

test('a plain Error is EIO with one log line naming the opcode', () => {
  const { channel, logs, serve } = setup({
    readlink: () => {
      throw new Error('boom');
    },
  });
  serve(Opcode.READLINK);
  serve(Opcode.READLINK, undefined, 101);
  assert.equal(channel.take().map((m) => header(m).error), [-5, -5]);
  assert.is(logs.filter((l) => l.includes('READLINK handler failed') && l.includes('boom')).length, 1);
});

test('GETXATTR: a size probe answers the length, a too-small buffer ERANGE', () => {
  const value = Buffer.from('0123456789');
  const { channel, serve } = setup({ getxattr: () => value });
  const body = (size: number) => Buffer.concat([Buffer.from([size, 0, 0, 0, 0, 0, 0, 0]), Buffer.from('user.x\0')]);
  serve(Opcode.GETXATTR, body(0));
  serve(Opcode.GETXATTR, body(4));
  serve(Opcode.GETXATTR, body(64));
  const [probe, small, whole] = channel.take();
  assert.is(probe.bytes.readUInt32LE(16), 10);
  assert.is(header(small).error, -34);
  assert.equal(whole.bytes.subarray(16), value);
});

test('INTERRUPT answers a pending request EINTR once; its late reply is dropped', async () => {
  let finish!: () => void;
  const { d, channel, serve } = setup({ fsync: () => new Promise<void>((resolve) => (finish = resolve)) });
  const pending = serve(Opcode.FSYNC, Buffer.alloc(16), 300);
  assert.ok(pending instanceof Promise);
  assert.equal(channel.take(), []);
  // the INTERRUPT comes in on another lane while FSYNC's lane is busy
  const intr = Buffer.alloc(8);
  intr.writeBigUInt64LE(300n, 0);
  const { w, n } = request(Opcode.INTERRUPT, intr, 301);
  assert.is(d.dispatch(new Lane(4096), FD, w, n), undefined);
  const [eintr, ...rest] = channel.take();
  assert.equal(rest, [], 'INTERRUPT itself is not answered');
  assert.equal([header(eintr).unique, header(eintr).error], [300, -4]);
  finish();
  await pending;
  assert.equal(channel.take(), [], 'the late reply is dropped');
});

test('debug trace spells flag fields by name from the flag sets', () => {
  const { logs, serve } = setup({ getattr: () => ATTR }, true);
  const body = Buffer.alloc(16);
  body.writeUInt32LE(1, 0); // FUSE_GETATTR_FH
  body.writeBigUInt64LE(9n, 8);
  serve(Opcode.GETATTR, body);
  const line = logs.find((l) => l.includes(' GETATTR '));
  assert.ok(line, logs.join('\n'));
  assert.match(line!, /"getattrFlags":"FH"/);
  assert.match(line!, /"fh":9/);
});

test.run();
