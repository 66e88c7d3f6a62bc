// Node's share of a passthrough GETATTR (round 4 of bench/results/passthrough-writes.md): the bigint
// fs.fstatSync that the passthrough calls, toAttr on its result, and for comparison a number fstatSync
// (not exact: its times are float ms) and statx(2) through koffi into one reused buffer, decoded into one
// reused object. Each in a loop over one file's fd on /var/tmp (ext4), after a warm-up loop of its own:
//
//   node dist/bench/micro/stat-attr.js [--calls 200000] [--rounds 3]
//
// Prints ns of the process's CPU (user+system) per call, per round, interleaved.

import fs from 'node:fs';
import koffi from 'koffi';
import { toAttr } from '../../src/fs/passthrough/attr.js';

const AT_EMPTY_PATH = 0x1000;
const STATX_BASIC_STATS = 0x7ff;
const STATX_SIZE = 256;

interface Attr6 { ino: number; mode: number; nlink: number; uid: number; gid: number; size: number; blocks: number; atime: number; atimeNsec: number; mtime: number; mtimeNsec: number; ctime: number; ctimeNsec: number }

function main(): void {
  const args = process.argv.slice(2);
  const opt = (name: string, d: number): number => (args.includes(name) ? Number(args[args.indexOf(name) + 1]) : d);
  const calls = opt('--calls', 200_000);
  const rounds = opt('--rounds', 3);
  const file = fs.mkdtempSync('/var/tmp/tsfuse-statattr-') + '/f';
  fs.writeFileSync(file, 'x');
  const fd = fs.openSync(file, 'r');
  const statx = koffi.load('libc.so.6').func('int statx(int dirfd, const char *path, int flags, unsigned int mask, _Out_ uint8_t *buf)') as (dirfd: number, path: string, flags: number, mask: number, buf: Buffer) => number;
  const buf = Buffer.alloc(STATX_SIZE);
  const u32 = new Uint32Array(buf.buffer, buf.byteOffset, STATX_SIZE / 4);
  const i32 = new Int32Array(buf.buffer, buf.byteOffset, STATX_SIZE / 4);
  const out: Attr6 = { ino: 0, mode: 0, nlink: 0, uid: 0, gid: 0, size: 0, blocks: 0, atime: 0, atimeNsec: 0, mtime: 0, mtimeNsec: 0, ctime: 0, ctimeNsec: 0 };
  let sink = 0;
  const cases: [string, () => void][] = [
    ['fstatSync bigint', () => { sink += Number(fs.fstatSync(fd, { bigint: true }).size); }],
    ['fstatSync bigint + toAttr', () => { sink += toAttr(fs.fstatSync(fd, { bigint: true }), 1).size; }],
    ['fstatSync number', () => { sink += fs.fstatSync(fd).size; }],
    ['statx koffi + decode', () => {
      if (statx(fd, '', AT_EMPTY_PATH, STATX_BASIC_STATS, buf) !== 0) throw new Error('statx failed');
      // struct statx: mask, blksize, attributes(8), nlink, uid, gid, mode(16)+pad, ino(8) at 32, size at 40, blocks at 48, atime at 64...
      out.nlink = u32[4]; out.uid = u32[5]; out.gid = u32[6]; out.mode = u32[7] & 0xffff;
      out.ino = u32[9] * 2 ** 32 + u32[8]; out.size = u32[11] * 2 ** 32 + u32[10]; out.blocks = u32[13] * 2 ** 32 + u32[12];
      out.atime = i32[17] * 2 ** 32 + u32[16]; out.atimeNsec = u32[18];
      out.ctime = i32[25] * 2 ** 32 + u32[24]; out.ctimeNsec = u32[26];
      out.mtime = i32[29] * 2 ** 32 + u32[28]; out.mtimeNsec = u32[30];
      sink += out.size;
    }],
  ];
  // the decode reads what toAttr gives, or the comparison is void
  cases[3][1]();
  const want = toAttr(fs.fstatSync(fd, { bigint: true }), 1);
  for (const k of Object.keys(out) as (keyof Attr6)[]) if (out[k] !== want[k]) throw new Error(`statx decode: ${k} ${out[k]} != ${want[k]}`);
  const results: Record<string, number[]> = {};
  for (const [, fn] of cases) for (let i = 0; i < 20_000; i++) fn();
  for (let r = 0; r < rounds; r++) {
    for (const [name, fn] of cases) {
      const a = process.cpuUsage();
      for (let i = 0; i < calls; i++) fn();
      const b = process.cpuUsage(a);
      (results[name] ??= []).push(Math.round(((b.user + b.system) * 1000) / calls));
    }
  }
  fs.closeSync(fd);
  fs.rmSync(file.slice(0, -2), { recursive: true, force: true });
  for (const [name, ns] of Object.entries(results)) console.log(`${name.padEnd(28)} ${ns.join(', ')} ns/call`);
  if (sink === -1) console.log(sink);
}

main();
