// Bad input to the writers: an unreadable file, a name longer than 255 bytes, a dumpfile line that does not
// parse, an object path that would leave the digest store. Each is one line on stderr naming the entry and
// exit code 1, with no image (and no temporary file) left under the final name (an older image there is kept
// as it was). Bad arguments exit 2.

import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { tsfuse } from './helpers.js';

const base = fs.mkdtempSync(path.join(os.tmpdir(), 'tsfuse-writer-bad-'));
fs.chmodSync(base, 0o777);
test.after(() => fs.rmSync(base, { recursive: true, force: true }));

function oneLine(stderr: string, mentions: string): void {
  const lines = stderr.trim().split('\n');
  assert.is(lines.length, 1, `one line expected, got: ${stderr}`);
  assert.ok(lines[0]!.includes(mentions), `"${lines[0]}" should name ${mentions}`);
}

function noLeftovers(dir: string, image: string, old?: string): void {
  if (old === undefined) assert.not.ok(fs.existsSync(image), 'no image under the final name');
  else assert.is(fs.readFileSync(image, 'utf8'), old, 'the old image is untouched');
  assert.equal(fs.readdirSync(dir).filter((n) => n.includes('.tmp')), [], 'no temporary file left');
}

test('an unreadable file: exit 1 naming it, no image (erofs build and mkcomposefs, run as nobody)', async () => {
  const src = path.join(base, 'unreadable');
  fs.mkdirSync(path.join(src, 'sub'), { recursive: true });
  fs.writeFileSync(path.join(src, 'sub', 'ok'), 'fine\n');
  fs.writeFileSync(path.join(src, 'sub', 'secret'), 'x'.repeat(5000));
  fs.chmodSync(path.join(src, 'sub', 'secret'), 0);
  const out = path.join(base, 'out');
  fs.mkdirSync(out, { mode: 0o777 });
  fs.chmodSync(out, 0o777);
  const img = path.join(out, 'u.erofs');
  fs.writeFileSync(img, 'old');
  fs.chmodSync(img, 0o666);
  const b = await tsfuse(['erofs', 'build', src, img], { asNobody: true });
  assert.is(b.status, 1, b.stderr);
  oneLine(b.stderr, 'sub/secret');
  noLeftovers(out, img, 'old');
  const cimg = path.join(out, 'u.cfs');
  const c = await tsfuse(['mkcomposefs', src, cimg], { asNobody: true });
  assert.is(c.status, 1, c.stderr);
  oneLine(c.stderr, 'sub/secret');
  noLeftovers(out, cimg);
});

test('a dumpfile name longer than 255 bytes, and lines that do not parse: exit 1 naming the line', async () => {
  const cases: Array<[string, string]> = [
    [`/ 0 40755 2 0 0 0 0.0 - - -\n/${'n'.repeat(256)} 0 100644 1 0 0 0 0.0 - - -\n`, 'longer than 255'],
    ['/ 0 40755 2 0 0 0 0.0 - - -\n/bad 0 1x0644 1 0 0 0 0.0 - - -\n', '/bad'],
    ['/ 0 40755 2 0 0 0 0.0 - - -\n/f 3 100644 1 0 0 0 0.0 - ab - \n', '/f'],
    ['/ 0 40755 2 0 0 0 0.0 - - -\n/x 0 100644 1 0 0 0 0.0 - - - novalue\n', '/x'],
    ['/ 0 40755 2 0 0 0 0.0 - - -\n/no/parent 0 100644 1 0 0 0 0.0 - - -\n', '/no/parent'],
    ['/ 0 40755 2 0 0 0 0.0 - - -\n/e 0 100644 1 0 0 0 0.0 \\q - -\n', '/e'],
  ];
  for (const [dump, mention] of cases) {
    const img = path.join(base, 'd.cfs');
    const r = await tsfuse(['mkcomposefs', '--from-file', '-', img], { input: Buffer.from(dump) });
    assert.is(r.status, 1, `${mention}: ${r.stderr}`);
    oneLine(r.stderr, mention);
    noLeftovers(base, img);
  }
});

test('an object path that would leave the digest store (a symlinked XX directory): exit 1, nothing written outside', async () => {
  const src = path.join(base, 'store-src');
  fs.mkdirSync(src);
  fs.writeFileSync(path.join(src, 'big'), 'y'.repeat(1000));
  const { VerityHasher, digestObjectPath } = await import('../../../src/verity/digest.js');
  const rel = digestObjectPath(new VerityHasher().update(Buffer.from('y'.repeat(1000))).digest());
  const store = path.join(base, 'store');
  const outside = path.join(base, 'outside');
  fs.mkdirSync(store);
  fs.mkdirSync(outside);
  fs.symlinkSync(outside, path.join(store, rel.slice(0, 2)));
  const img = path.join(base, 's.cfs');
  const r = await tsfuse(['mkcomposefs', `--digest-store=${store}`, src, img]);
  assert.is(r.status, 1, r.stderr);
  oneLine(r.stderr, rel);
  assert.equal(fs.readdirSync(outside), []);
  noLeftovers(base, img);
});

test('bad arguments exit 2 with one line', async () => {
  const src = path.join(base, 'store-src');
  for (const args of [
    ['mkcomposefs', '--bogus', src, 'x.cfs'],
    ['mkcomposefs', '--threads=0', src, 'x.cfs'],
    ['mkcomposefs', '--max-version=2', src, 'x.cfs'],
    ['mkcomposefs', src],
    ['mkcomposefs', '--print-digest-only', src, 'x.cfs'],
    ['mkcomposefs', '--min-version=x', src, 'x.cfs'],
    ['erofs', 'build', src],
    ['erofs', 'build', '-b', '3000', src, 'x.erofs'],
    ['erofs', 'build', '--chunksize', '1000', src, 'x.erofs'],
    ['erofs', 'build', '--compress', 'brotli', src, 'x.erofs'],
  ]) {
    const r = await tsfuse(args);
    assert.is(r.status, 2, `${args.join(' ')}: ${r.stderr}`);
    assert.is(r.stderr.trim().split('\n').length, 1, r.stderr);
  }
});

test.run();
