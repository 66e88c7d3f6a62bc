// mkcomposefs's directory options, seen through `tsfuse erofs dump` of the image (composefs-info's dump):
// --use-epoch (every mtime 0), --skip-devices (char and block devices, whiteouts included, left out, so the
// format version stays 0), --skip-xattrs (no xattrs of the source), --user-xattrs (only user.*), and that
// --from-file ignores them all, as mkcomposefs 1.0.8 does.

import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { tinyTree } from '../conformance/trees.js';
import { runSync } from '../kit/index.js';
import { tsfuse } from './helpers.js';

const base = fs.mkdtempSync(path.join(os.tmpdir(), 'tsfuse-mkcfs-opts-'));
const src = tinyTree(path.join(base, 'tree'), 12, 4);
runSync('mknod', [path.join(src, 'null'), 'c', '1', '3']);
runSync('mknod', [path.join(src, 'a', 'whiteout'), 'c', '0', '0']);
runSync('mknod', [path.join(src, 'disk'), 'b', '8', '0']);
runSync('setfattr', ['-n', 'trusted.t', '-v', 'x', path.join(src, 'a')]);
test.after(() => fs.rmSync(base, { recursive: true, force: true }));

async function imageDump(args: string[]): Promise<{ dump: string; version: number }> {
  const image = path.join(base, 'o.cfs');
  const r = await tsfuse(['mkcomposefs', ...args, src, image]);
  assert.is(r.status, 0, r.stderr);
  const d = await tsfuse(['erofs', 'dump', image]);
  assert.is(d.status, 0, d.stderr);
  return { dump: d.stdout.toString('latin1'), version: fs.readFileSync(image).readUInt32LE(12) };
}

const lines = (dump: string): string[] => dump.split('\n').filter(Boolean);

test('defaults: mtimes, devices, the whiteout (so version 1) and all xattrs are kept', async () => {
  const { dump, version } = await imageDump([]);
  assert.is(version, 1);
  assert.ok(lines(dump).some((l) => l.startsWith('/null 0 20644 ')));
  assert.ok(lines(dump).some((l) => l.startsWith('/a/whiteout 0 20644 ')));
  assert.ok(lines(dump).some((l) => l.startsWith('/disk 0 60644 ')));
  assert.match(dump, /trusted\.t=x/);
  assert.match(dump, /user\.root=root\\x20xattr/);
  assert.ok(lines(dump).some((l) => !/ 0\.0 /.test(l)), 'real mtimes');
});

test('--use-epoch: every mtime is 0.0', async () => {
  const { dump } = await imageDump(['--use-epoch']);
  for (const l of lines(dump)) assert.match(l, /^\S+ \d+ @?\d+ \d+ \d+ \d+ \d+ 0\.0 /, l);
});

test('--skip-devices: no devices, no whiteout, version 0', async () => {
  const { dump, version } = await imageDump(['--skip-devices']);
  assert.is(version, 0);
  assert.not.ok(lines(dump).some((l) => /^@?[26]0\d{3}$/.test(l.split(' ')[2]!)), dump);
  assert.ok(lines(dump).some((l) => l.startsWith('/hello ')));
});

test('--skip-xattrs: none of the source xattrs; --user-xattrs: only user.*', async () => {
  const none = await imageDump(['--skip-xattrs']);
  // what is left is composefs's own marking of the whiteout's directory
  assert.not.match(none.dump.replace(/ (trusted|user)\.overlay\.opaque=x/g, ''), /user\.|trusted\./);
  const user = await imageDump(['--user-xattrs']);
  assert.match(user.dump, /user\.root=/);
  assert.not.match(user.dump, /trusted\.t=/);
});

test('--from-file ignores the directory options', async () => {
  const image = path.join(base, 'a.cfs');
  assert.is((await tsfuse(['mkcomposefs', src, image])).status, 0);
  const dumpFile = path.join(base, 'a.dump');
  fs.writeFileSync(dumpFile, (await tsfuse(['erofs', 'dump', image])).stdout);
  const again = path.join(base, 'b.cfs');
  const r = await tsfuse(['mkcomposefs', '--from-file', '--use-epoch', '--skip-devices', '--skip-xattrs', dumpFile, again]);
  assert.is(r.status, 0, r.stderr);
  assert.ok(fs.readFileSync(image).equals(fs.readFileSync(again)));
});

test.run();
