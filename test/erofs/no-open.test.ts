// The read-only image mount answers OPEN and OPENDIR with ENOSYS (NO_OPEN_SUPPORT / NO_OPENDIR_SUPPORT), so
// the kernel opens files and directories itself: seen from separate processes through the debug trace, one
// OPEN and one OPENDIR reach the server for the whole mount, no RELEASE or RELEASEDIR at all, and every file
// still reads back exactly (compressed extents, whole-file READs that span many extents, tails).

import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { withErofsMount } from './conformance/mount.js';
import { haveMkfs, mkfs, tempDir } from './unit/mkfs.js';
import { inPython } from '../helpers/python.js';

const requestLine = /^(?:\[worker \d+\] )?tsfuse: unique \d+ ([A-Z_0-9]+) nodeid /;

function opcodes(logs: string[]): Map<string, number> {
  const by = new Map<string, number>();
  for (const l of logs) {
    const m = requestLine.exec(l);
    if (m) by.set(m[1]!, (by.get(m[1]!) ?? 0) + 1);
  }
  return by;
}

/** Compressible text (many extents per file), incompressible bytes (plain pclusters) and small files. */
function buildTree(src: string): Map<string, string> {
  const files = new Map<string, Buffer>();
  const lines: string[] = [];
  for (let i = 0, n = 0; n < 3 << 20; i++) {
    lines.push(`line ${i} of a compressible file ${(i * 7919) % 1000}\n`);
    n += lines[i]!.length;
  }
  files.set('text/big.txt', Buffer.from(lines.join('')));
  let x = 12345;
  const noise = Buffer.alloc(300_000);
  for (let i = 0; i < noise.length; i++) noise[i] = (x = (x * 1103515245 + 12345) >>> 0) >>> 24;
  files.set('noise.bin', noise);
  for (let i = 0; i < 40; i++) files.set(`small/f${i}`, Buffer.from(`small file ${i} `.repeat(i * 13)));
  const digests = new Map<string, string>();
  for (const [rel, data] of files) {
    fs.mkdirSync(path.dirname(path.join(src, rel)), { recursive: true });
    fs.writeFileSync(path.join(src, rel), data);
    digests.set(rel, createHash('sha256').update(data).digest('hex'));
  }
  return digests;
}

const skip = !haveMkfs() || process.getuid?.() !== 0;

test('read-only image mount: no OPEN/RELEASE per file, reads identical to the source', async () => {
  if (skip) return console.log('  (skipped: needs mkfs.erofs and root)');
  const dir = tempDir('noopen');
  try {
    const src = path.join(dir, 'src');
    const want = buildTree(src);
    const image = mkfs(dir, 'lz4hc.erofs', src, ['-zlz4hc']);
    await withErofsMount({ image, workers: 2, debug: true }, async (h) => {
      assert.ok(h.logs.some((l) => /INIT reply .*NO_OPEN_SUPPORT/.test(l)), 'NO_OPEN_SUPPORT negotiated');
      assert.ok(h.logs.some((l) => /INIT reply .*NO_OPENDIR_SUPPORT/.test(l)), 'NO_OPENDIR_SUPPORT negotiated');
      // Whole files in one read() each (READs of up to max_pages, each spanning many 4 KiB-lcluster extents),
      // then the big text again in odd-sized pieces (READs that cut extents).
      const got = await inPython<Record<string, string>>(h.mnt, [
        'import hashlib',
        'out = {}',
        'for root, dirs, files in os.walk(P(".")):',
        '    dirs.sort()',
        '    for f in sorted(files):',
        '        p = os.path.join(root, f)',
        '        with open(p, "rb") as fh: out[os.path.relpath(p, P("."))] = hashlib.sha256(fh.read()).hexdigest()',
        'h = hashlib.sha256()',
        'with open(P("text/big.txt"), "rb", buffering=0) as fh:',
        '    while True:',
        '        b = fh.read(10007)',
        '        if not b: break',
        '        h.update(b)',
        'out["pieces"] = h.hexdigest()',
        'return out',
      ].join('\n'));
      assert.is(got.pieces, want.get('text/big.txt'));
      delete got.pieces;
      assert.equal(got, Object.fromEntries(want));
      const ops = opcodes(h.logs);
      // The first OPEN/OPENDIR is answered ENOSYS and ends them for the connection.
      assert.is(ops.get('OPEN'), 1, `OPEN requests: ${ops.get('OPEN')}`);
      assert.is(ops.get('OPENDIR'), 1, `OPENDIR requests: ${ops.get('OPENDIR')}`);
      assert.is(ops.get('RELEASE') ?? 0, 0, 'no RELEASE');
      assert.is(ops.get('RELEASEDIR') ?? 0, 0, 'no RELEASEDIR');
      assert.ok((ops.get('READ') ?? 0) > want.size, 'files were read through the server');
      assert.equal(h.threadEvents, []);
    });
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('a read-write mount option keeps OPEN (a write open must reach the server and fail there)', async () => {
  if (skip) return console.log('  (skipped: needs mkfs.erofs and root)');
  const dir = tempDir('noopen-rw');
  try {
    const src = path.join(dir, 'src');
    fs.mkdirSync(src);
    fs.writeFileSync(path.join(src, 'a'), 'hello');
    const image = mkfs(dir, 'plain.erofs', src, []);
    await withErofsMount({ image, workers: 1, debug: true, options: ['rw'] }, async (h) => {
      assert.not.ok(h.logs.some((l) => /INIT reply .*NO_OPEN_SUPPORT/.test(l)), 'NO_OPEN_SUPPORT not asked for');
      const r = await inPython<{ read: string; write: string }>(h.mnt, [
        'res = {"read": open(P("a")).read()}',
        'try:',
        '    open(P("a"), "r+")',
        '    res["write"] = "opened"',
        'except OSError as e:',
        '    res["write"] = errno.errorcode[e.errno]',
        'return res',
      ].join('\n'));
      assert.equal(r, { read: 'hello', write: 'EROFS' });
      assert.ok((opcodes(h.logs).get('OPEN') ?? 0) >= 2, 'OPENs reach the server');
    });
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test.run();
