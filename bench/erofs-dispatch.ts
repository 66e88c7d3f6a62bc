// The image server's request path without the kernel: the quick bench image served by an ErofsFilesystem
// through the Dispatcher, requests built by hand, replies written to /dev/null. Prints server CPU (user +
// system of this process, so other load on the machine counts little) per request for LOOKUP and GETATTR
// over the whole tree (the uncached stat loop's pattern: more inodes than a small cache holds) and over 500
// hot entries, and for 32 KiB READDIR/READDIRPLUS replies of the big directory. `--build DIR` loads the
// filesystem and dispatcher from another compiled tree (before/after in one run).
//
//   node dist/bench/erofs-dispatch.js [--build DIR]

import { readFileSync } from 'node:fs';
import { ensureDataset, QUICK } from './lib/data.js';
import { loadRequestPath } from './lib/in-process-erofs.js';
import { BUILD_ROOT } from './lib/paths.js';

const a = process.argv.slice(2);
const root = a.includes('--build') ? a[a.indexOf('--build') + 1]! : BUILD_ROOT;
const ds = await ensureDataset(QUICK, (s) => process.stderr.write(s + '\n'));
const rp = await loadRequestPath(root);
const server = await rp.serve(ds.erofs, 0);
const fs = server.fs;
type Req = [w: unknown, len: number];

function req(op: number, nodeid: number, body: Buffer): Req {
  const w = new rp.WireBuffer(4096 + body.length);
  const len = 40 + body.length;
  w.buf.writeUInt32LE(len, 0);
  w.buf.writeUInt32LE(op, 4);
  w.buf.writeBigUInt64LE(7n, 8);
  w.buf.writeBigUInt64LE(BigInt(nodeid), 16);
  body.copy(w.buf, 40);
  return [w, len];
}

const ctx = { uid: 0, gid: 0, pid: 0, opcode: 0, interrupted: false };
const leaves: Array<[parent: number, name: string, ino: number]> = [];
for (const line of readFileSync(ds.listFile, 'utf8').split('\n').filter(Boolean)) {
  let p = 1;
  const parts = line.split('/');
  for (const [i, part] of parts.entries()) {
    const ino = fs.lookup(ctx, p, part).ino as number;
    if (i === parts.length - 1) leaves.push([p, part, ino]);
    p = ino;
  }
}
const lookups = leaves.map(([p, n]) => req(1, p, Buffer.from(n + '\0')));
const getattrs = leaves.map(([, , ino]) => req(3, ino, Buffer.alloc(16)));
const bigdir = fs.lookup(ctx, 1, ds.bigDir).ino as number;

/** Every 32 KiB reply of one pass over the big directory, chained by the offsets the replies carry. */
function listing(op: number, plus: boolean): Req[] {
  const out: Req[] = [];
  for (let off = 0; out.length < 1000; ) {
    const body = Buffer.alloc(40);
    body.writeBigUInt64LE(BigInt(off), 8);
    body.writeUInt32LE(32768, 16);
    const r = req(op, bigdir, body);
    const b = server.dispatch(r[0], r[1]);
    const end = b.readUInt32LE(0);
    if (end <= 16) break;
    out.push(r);
    for (let p = 16; p < end; ) {
      const d0 = p + (plus ? 128 : 0);
      off = Number(b.readBigUInt64LE(d0 + 8));
      p = d0 + ((24 + b.readUInt32LE(d0 + 16) + 7) & ~7);
    }
  }
  return out;
}

function cpuPerRequest(name: string, list: Req[], rounds: number): void {
  // steady state: at least 200 requests first (a loop the first requests only interpreted is compiled by then)
  for (let r = 0; r < Math.max(2, Math.ceil(200 / list.length)); r++) for (const [w, n] of list) server.dispatch(w, n);
  const c0 = process.cpuUsage();
  for (let r = 0; r < rounds; r++) for (const [w, n] of list) server.dispatch(w, n);
  const c = process.cpuUsage(c0);
  console.log(`${name.padEnd(40)} ${((c.user + c.system) / (rounds * list.length)).toFixed(2).padStart(8)} µs CPU/request`);
}

console.log(`build ${root}`);
cpuPerRequest(`LOOKUP, all ${leaves.length} leaves in turn`, lookups, 5);
cpuPerRequest(`GETATTR, all ${leaves.length} leaves in turn`, getattrs, 5);
cpuPerRequest('LOOKUP, 500 hot leaves', lookups.slice(0, 500), 50);
cpuPerRequest('GETATTR, 500 hot leaves', getattrs.slice(0, 500), 50);
const rdp = listing(44, true);
const rd = listing(28, false);
cpuPerRequest(`READDIRPLUS 32 KiB (${rdp.length} per pass)`, rdp, 30);
cpuPerRequest(`READDIR 32 KiB (${rd.length} per pass)`, rd, 30);
