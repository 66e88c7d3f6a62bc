// `npm run bench:micro`: mitata micro-benchmarks of the request path without the kernel.
//
// - decode (header + op body) of the common requests: LOOKUP, GETATTR, READ, WRITE, READDIRPLUS, FORGET,
//   BATCH_FORGET, OPEN, RELEASE (src/protocol/requests.ts);
// - encode of an entry, an attr and a full 4 KiB READDIRPLUS reply (src/protocol/replies.ts, dirents.ts);
// - the whole dispatch of a GETATTR and a LOOKUP (src/server/dispatch.ts): decode, the Filesystem call,
//   encode and a real write(2), on an fd opened on /dev/null.
//
// Prints mitata's table, then one line per benchmark with the median ns/op.
//
//   node dist/bench/micro/index.js [--filter REGEX] [--json FILE]

import { closeSync, openSync, writeFileSync } from 'node:fs';
import { bench, do_not_optimize, group, run, summary } from 'mitata';
import { LAYOUT as L, Opcode } from '../../src/protocol/abi.js';
import { DirentPlusWriter } from '../../src/protocol/dirents.js';
import { encodeAttrOut, encodeEntryOut, type CacheDefaults } from '../../src/protocol/replies.js';
import * as Rq from '../../src/protocol/requests.js';
import type { Attr, Entry } from '../../src/protocol/types.js';
import { WireBuffer } from '../../src/protocol/wire.js';
import { DeviceChannel } from '../../src/server/channel.js';
import { Dispatcher } from '../../src/server/dispatch.js';
import { InterruptTable } from '../../src/server/interrupts.js';
import { Lane } from '../../src/server/lane.js';
import type { Filesystem } from '../../src/fs/types.js';

const HDR = L.fuse_in_header.size;

/** A request: 40-byte header + body, as the kernel would send it. */
function request(opcode: number, nodeid: number, body: Buffer): WireBuffer {
  const len = HDR + body.length;
  const w = new WireBuffer((len + 4096 + 7) & ~7);
  const b = w.buf;
  b.writeUInt32LE(len, 0);
  b.writeUInt32LE(opcode, 4);
  b.writeBigUInt64LE(0x1234n, 8);
  b.writeBigUInt64LE(BigInt(nodeid), 16);
  b.writeUInt32LE(1000, 24);
  b.writeUInt32LE(1000, 28);
  b.writeUInt32LE(4242, 32);
  b.writeUInt32LE(0, 36);
  body.copy(b, HDR);
  return w;
}

function readIn(fh: number, offset: number, size: number): Buffer {
  const b = Buffer.alloc(L.fuse_read_in.size);
  b.writeBigUInt64LE(BigInt(fh), 0);
  b.writeBigUInt64LE(BigInt(offset), 8);
  b.writeUInt32LE(size, 16);
  return b;
}

const reqs = {
  lookup: request(Opcode.LOOKUP, 1, Buffer.from('some-file-name.txt\0')),
  getattr: request(Opcode.GETATTR, 42, Buffer.alloc(L.fuse_getattr_in.size)),
  read: request(Opcode.READ, 42, readIn(7, 1 << 20, 128 << 10)),
  write: request(Opcode.WRITE, 42, Buffer.concat([readIn(7, 4096, 4096), Buffer.alloc(4096, 0x61)])),
  readdirplus: request(Opcode.READDIRPLUS, 1, readIn(3, 0, 4096)),
  forget: request(Opcode.FORGET, 42, (() => {
    const b = Buffer.alloc(8);
    b.writeBigUInt64LE(1n, 0);
    return b;
  })()),
  batchForget: request(Opcode.BATCH_FORGET, 0, (() => {
    const n = 32;
    const b = Buffer.alloc(8 + n * 16);
    b.writeUInt32LE(n, 0);
    for (let i = 0; i < n; i++) {
      b.writeBigUInt64LE(BigInt(100 + i), 8 + i * 16);
      b.writeBigUInt64LE(1n, 16 + i * 16);
    }
    return b;
  })()),
  open: request(Opcode.OPEN, 42, Buffer.alloc(L.fuse_open_in.size)),
  release: request(Opcode.RELEASE, 42, (() => {
    const b = Buffer.alloc(L.fuse_release_in.size);
    b.writeBigUInt64LE(7n, 0);
    return b;
  })()),
};

const h = Rq.newInHeader();
const attr: Attr = {
  ino: 42, mode: 0o100644, nlink: 1, uid: 1000, gid: 1000, size: 12345, blocks: 25, blksize: 4096,
  atime: 1_700_000_000, atimeNsec: 1, mtime: 1_700_000_000, mtimeNsec: 2, ctime: 1_700_000_000, ctimeNsec: 3,
};
const entry: Entry = { ino: 42, generation: 0, attr };
const defaults: CacheDefaults = { entryTimeout: 1, attrTimeout: 1 };
const out = new WireBuffer(1 << 17);
const names = Array.from({ length: 64 }, (_, i) => `file-${String(i).padStart(5, '0')}.dat`);
const entries: Entry[] = names.map((_, i) => ({ ino: 100 + i, attr: { ...attr, ino: 100 + i } }));

const scratch = {
  getattr: {} as Rq.GetattrIn,
  read: {} as Rq.ReadIn,
  write: {} as Rq.WriteIn,
  open: {} as Rq.OpenIn,
  release: {} as Rq.ReleaseIn,
  forget: {} as Rq.ForgetIn,
  name: {} as Rq.NameIn,
};

function body(w: WireBuffer): number {
  Rq.decodeInHeader(w, 0, h);
  return h.len - h.extLen;
}

group('decode (header + body)', () => {
  summary(() => {
    bench('decode LOOKUP', () => {
      const end = body(reqs.lookup);
      do_not_optimize(Rq.decodeName(reqs.lookup, HDR, end, scratch.name));
    });
    bench('decode GETATTR', () => {
      const end = body(reqs.getattr);
      do_not_optimize(Rq.decodeGetattr(reqs.getattr, HDR, end, scratch.getattr));
    });
    bench('decode READ', () => {
      const end = body(reqs.read);
      do_not_optimize(Rq.decodeRead(reqs.read, HDR, end, scratch.read));
    });
    bench('decode WRITE (4 KiB)', () => {
      const end = body(reqs.write);
      do_not_optimize(Rq.decodeWrite(reqs.write, HDR, end, scratch.write));
    });
    bench('decode READDIRPLUS', () => {
      const end = body(reqs.readdirplus);
      do_not_optimize(Rq.decodeRead(reqs.readdirplus, HDR, end, scratch.read));
    });
    bench('decode FORGET', () => {
      const end = body(reqs.forget);
      do_not_optimize(Rq.decodeForget(reqs.forget, HDR, end, scratch.forget));
    });
    let sum = 0;
    bench('decode BATCH_FORGET (32, forEach)', () => {
      const end = body(reqs.batchForget);
      Rq.forEachBatchForget(reqs.batchForget, HDR, end, (id, n) => {
        sum += id + n;
      });
      do_not_optimize(sum);
    });
    bench('decode BATCH_FORGET (32, objects)', () => {
      const end = body(reqs.batchForget);
      do_not_optimize(Rq.decodeBatchForget(reqs.batchForget, HDR, end));
    });
    bench('decode OPEN', () => {
      const end = body(reqs.open);
      do_not_optimize(Rq.decodeOpen(reqs.open, HDR, end, scratch.open));
    });
    bench('decode RELEASE', () => {
      const end = body(reqs.release);
      do_not_optimize(Rq.decodeRelease(reqs.release, HDR, end, scratch.release));
    });
  });
});

const rdp = new DirentPlusWriter();
rdp.defaults = defaults;
let rdpCount = 0;

group('encode', () => {
  summary(() => {
    bench('encode entry_out', () => do_not_optimize(encodeEntryOut(out, 16, entry, defaults)));
    bench('encode attr_out', () => do_not_optimize(encodeAttrOut(out, 16, attr, defaults)));
    bench('encode READDIRPLUS reply (4 KiB, full)', () => {
      rdp.reset(out, 16, 4096);
      let i = 0;
      while (i < names.length && rdp.add(names[i], entries[i], i + 1)) i++;
      rdpCount = rdp.count;
      do_not_optimize(rdp.length);
    });
  });
});

// dispatch through the real Dispatcher, replies written to /dev/null
const devnull = openSync('/dev/null', 'w');
const fsImpl: Filesystem = {
  getattr: () => attr,
  lookup: () => entry,
};
const dispatcher = new Dispatcher(
  fsImpl,
  { entryTimeout: 1, attrTimeout: 1, negativeTimeout: 0, debug: false, setxattrExt: false, log: (m) => process.stderr.write(m + '\n') },
  new InterruptTable(),
  new DeviceChannel((m) => process.stderr.write(m + '\n')),
);
const lane = new Lane(1 << 17);

group('dispatch (decode + fs call + encode + write(2) to /dev/null)', () => {
  summary(() => {
    bench('dispatch GETATTR', () => do_not_optimize(dispatcher.dispatch(lane, devnull, reqs.getattr, reqs.getattr.buf.readUInt32LE(0))));
    bench('dispatch LOOKUP', () => do_not_optimize(dispatcher.dispatch(lane, devnull, reqs.lookup, reqs.lookup.buf.readUInt32LE(0))));
  });
});

const argv = process.argv.slice(2);
const fi = argv.indexOf('--filter');
const ji = argv.indexOf('--json');
const res = await run({ filter: fi >= 0 ? new RegExp(argv[fi + 1]) : undefined, colors: !!process.stdout.isTTY });
closeSync(devnull);
process.stdout.write(`\nmedian ns/op (READDIRPLUS reply: ${rdpCount} entries in 4 KiB):\n`);
const summaryRows: Array<{ name: string; p50: number; avg: number }> = [];
for (const t of res.benchmarks) {
  for (const r of t.runs) {
    if (!r.stats) continue;
    summaryRows.push({ name: r.name, p50: r.stats.p50, avg: r.stats.avg });
    process.stdout.write(`  ${r.name.padEnd(42)} ${r.stats.p50.toFixed(1).padStart(9)} ns/op\n`);
  }
}
if (ji >= 0) writeFileSync(argv[ji + 1], JSON.stringify(summaryRows, null, 2) + '\n');
