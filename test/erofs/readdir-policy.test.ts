// What the image server negotiates for listings and caching, seen from separate processes through the debug
// trace (every request by opcode, nodeid and decoded body):
//  - READDIRPLUS_AUTO: a plain listing of a big directory gets READDIRPLUS for its first reply only, then
//    plain READDIR (the kernel switches when nobody looks entries up); listing while stat'ing every entry
//    keeps READDIRPLUS; both listings are complete and in the image's order, resumed at our offsets;
//  - a listing nobody stats sends the files without attributes (a later stat of each looks it up); once
//    listed files get stat'ed, the first replies carry them (plus-policy.ts);
//  - the image's long entry/attribute timeouts are applied: a second process stat'ing the same files and
//    listing the same directory again sends no request (the kernel answers from its caches).

import { test } from 'uvu';
import * as assert from 'uvu/assert';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { type ErofsMountHandle, withErofsMount } from './conformance/mount.js';
import { haveMkfs, mkfs, tempDir } from './unit/mkfs.js';
import { inPython } from '../helpers/python.js';

/** Enough entries for several 32 KiB READDIR replies (glibc's getdents buffer) and READDIRPLUS replies. */
const FILES = 3000;

/** Files of each small directory. */
const FEW = 50;

const requestLine = /^(?:\[worker \d+\] )?tsfuse: unique \d+ ([A-Z_0-9]+) nodeid (\d+) .*? (\{.*\})?$/;

interface Req {
  op: string;
  nodeid: number;
  body: { offset?: number; name?: string };
}

function requests(logs: string[]): Req[] {
  const out: Req[] = [];
  for (const l of logs) {
    const m = requestLine.exec(l);
    if (m) out.push({ op: m[1]!, nodeid: Number(m[2]), body: m[3] ? (JSON.parse(m[3]) as Req['body']) : {} });
  }
  return out;
}

function buildImage(dir: string): string {
  const src = path.join(dir, 'src');
  for (const d of ['plain', 'stated']) {
    fs.mkdirSync(path.join(src, d), { recursive: true });
    for (let i = 0; i < FILES; i++) fs.writeFileSync(path.join(src, d, `file-${String(i).padStart(5, '0')}`), i % 7 === 0 ? 'x'.repeat(i % 300) : '');
  }
  // small directories (one reply each) for the file-attribute policy
  for (const d of ['few-a', 'few-b']) {
    fs.mkdirSync(path.join(src, d));
    for (let i = 0; i < FEW; i++) fs.writeFileSync(path.join(src, d, `${d.slice(-1)}-${String(i).padStart(3, '0')}`), 'y'.repeat(i));
  }
  return mkfs(dir, 'dirs.erofs', src, []);
}

const skip = !haveMkfs() || process.getuid?.() !== 0;

/** The image above mounted with one worker and the debug trace, for the time of `fn`. */
async function withDirsMount(prefix: string, fn: (h: ErofsMountHandle) => Promise<void>): Promise<void> {
  const dir = tempDir(prefix);
  try {
    await withErofsMount({ image: buildImage(dir), workers: 1, debug: true }, fn);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

test('READDIRPLUS auto: plain READDIR after the first reply of a plain listing, READDIRPLUS while entries are stat\'ed', async () => {
  if (skip) return console.log('  (skipped: needs mkfs.erofs and root)');
  await withDirsMount('rdp', async (h) => {
    assert.ok(h.logs.some((l) => /INIT reply .*DO_READDIRPLUS\|READDIRPLUS_AUTO/.test(l)), 'READDIRPLUS_AUTO negotiated');
    const want = Array.from({ length: FILES }, (_, i) => `file-${String(i).padStart(5, '0')}`);
    // a plain listing, in another process
    const names = await inPython<string[]>(h.mnt, `return [e.name for e in os.scandir(P('plain'))]`);
    assert.equal(names, want);
    // a listing that stats each entry as it goes (ls -l, tar)
    const sizes = await inPython<number[]>(h.mnt, `return [e.stat(follow_symlinks=False).st_size for e in os.scandir(P('stated'))]`);
    assert.equal(sizes, want.map((_, i) => (i % 7 === 0 ? i % 300 : 0)));
    const reqs = requests(h.logs);
    const listings = (op: string): Map<number, number[]> => {
      const by = new Map<number, number[]>();
      for (const q of reqs) if (q.op === op) by.set(q.nodeid, [...(by.get(q.nodeid) ?? []), q.body.offset ?? -1]);
      return by;
    };
    const plus = listings('READDIRPLUS');
    const plain = listings('READDIR');
    // the two big directories are the ones listed more than once
    const dirs = [...new Set([...plus.keys(), ...plain.keys()])].filter((n) => (plus.get(n)?.length ?? 0) + (plain.get(n)?.length ?? 0) > 2);
    assert.is(dirs.length, 2, `two big directories listed: ${JSON.stringify([...plus], null, 0)} ${JSON.stringify([...plain])}`);
    const [first, second] = dirs.sort((a, b) => reqs.findIndex((q) => q.nodeid === a) - reqs.findIndex((q) => q.nodeid === b));
    // plain listing: READDIRPLUS at offset 0 only, the rest plain READDIR resumed at our offsets
    assert.equal(plus.get(first!), [0], `plain listing READDIRPLUS offsets ${plus.get(first!)}`);
    assert.ok((plain.get(first!)?.length ?? 0) >= 2, `plain listing went on with READDIR: ${plain.get(first!)}`);
    assert.ok(plain.get(first!)!.every((o) => o > 0), 'READDIR resumed after the first reply');
    // stat'ing listing: every reply is READDIRPLUS (the kernel keeps asking while entries are used)
    assert.ok((plus.get(second!)?.length ?? 0) >= 3, `stat'ing listing used READDIRPLUS throughout: ${plus.get(second!)}`);
    assert.is(plain.get(second!), undefined, `no plain READDIR while stat'ing: ${plain.get(second!)}`);
    assert.equal(h.threadEvents, []);
  });
});

test('file attributes: left out of a listing nobody stats, sent once listed files get stat\'ed', async () => {
  if (skip) return console.log('  (skipped: needs mkfs.erofs and root)');
  await withDirsMount('rdp-files', async (h) => {
    const lookups = (prefix: string): number => requests(h.logs).filter((q) => q.op === 'LOOKUP' && q.body.name?.startsWith(prefix)).length;
    const stats = (d: string): string => `return [os.lstat(P('${d}', n)).st_size for n in sorted(os.listdir(P('${d}')))]`;
    const sizes = Array.from({ length: FEW }, (_, i) => i);
    // names only (find, ls): the kernel instantiates no file inode; stat'ing them later (another process)
    // looks each one up
    assert.is((await inPython<string[]>(h.mnt, `return os.listdir(P('few-a'))`)).length, FEW);
    assert.equal(await inPython<number[]>(h.mnt, stats('few-a')), sizes);
    assert.is(lookups('a-'), FEW, 'each file of the names-only listing looked up');
    // the workload stats what it lists: the next directory's first reply carries the files' attributes (all
    // but a sample the server keeps measuring with)
    assert.equal(await inPython<number[]>(h.mnt, stats('few-b')), sizes);
    assert.ok(lookups('b-') <= FEW / 16, `few lookups after a listing with attributes: ${lookups('b-')}`);
    assert.equal(h.threadEvents, []);
  });
});

test('the image\'s timeouts are applied: stat and listing again from another process send no request', async () => {
  if (skip) return console.log('  (skipped: needs mkfs.erofs and root)');
  await withDirsMount('rdp-timeouts', async (h) => {
    const body = `
      st = [os.lstat(P('plain', 'file-%05d' % i)).st_size for i in range(0, ${FILES}, 97)]
      return [st, sorted(os.listdir(P('plain')))[:3]]`;
    const first = await inPython<[number[], string[]]>(h.mnt, body);
    const before = requests(h.logs).length;
    const again = await inPython<[number[], string[]]>(h.mnt, body);
    assert.equal(again, first);
    const after = requests(h.logs).slice(before).filter((q) => q.op !== 'FORGET' && q.op !== 'BATCH_FORGET');
    // a new process still opens the directory (OPENDIR/RELEASEDIR reach the server; its listing comes from the
    // kernel's cache: FOPEN_CACHE_DIR) but looks nothing up and asks for no attributes
    const asked = after.filter((q) => q.op !== 'OPENDIR' && q.op !== 'RELEASEDIR');
    assert.equal(asked.map((q) => `${q.op} ${q.nodeid} ${JSON.stringify(q.body)}`), [], 'served from the kernel caches');
  });
});

test.run();
