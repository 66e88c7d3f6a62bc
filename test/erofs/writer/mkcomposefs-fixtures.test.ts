// tsfuse mkcomposefs against images the real mkcomposefs 1.0.8 made (test/fixtures/erofs/composefs*):
// --from-file with each image's dumpfile (file and stdin) must give the same bytes, and so must a directory
// rebuilt from the dumpfile (nanosecond mtimes, owners, xattrs, devices, whiteouts), with the object store
// filled exactly like the fixture's. --print-digest prints what `fsverity digest` says of the image.

import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { EROFS_FIXTURES } from '../../helpers/fixtures.js';
import { run } from '../kit/index.js';
import { tsfuse } from './helpers.js';
import { materializeDump } from './materialize.js';

const base = fs.mkdtempSync(path.join(os.tmpdir(), 'tsfuse-mkcfs-fix-'));
const CFS = path.join(EROFS_FIXTURES, 'composefs');
const WH = path.join(EROFS_FIXTURES, 'composefs-whiteouts');

// [image, dumpfile, mkcomposefs options the fixture was made with, the directory-mode source's dump]
const CASES: Array<[string, string, string[], string]> = [
  [path.join(CFS, 'image.cfs'), path.join(CFS, 'image.dump'), [], path.join(CFS, 'image.dump')],
  [path.join(WH, 'image-v0.cfs'), path.join(WH, 'image-v0.dump'), ['--max-version=0'], path.join(WH, 'image-v0.dump')],
  [path.join(WH, 'image-v1.cfs'), path.join(WH, 'image-v1.dump'), ['--min-version=1'], path.join(WH, 'image-v0.dump')],
  [path.join(WH, 'image-user.cfs'), path.join(WH, 'image-user.dump'), ['--user-xattrs'], path.join(WH, 'image-v0.dump')],
];

test.after(() => fs.rmSync(base, { recursive: true, force: true }));

function sameBytes(a: string, b: string): void {
  const x = fs.readFileSync(a);
  const y = fs.readFileSync(b);
  let first = -1;
  for (let i = 0; i < Math.min(x.length, y.length); i++) if (x[i] !== y[i]) { first = i; break; }
  assert.ok(x.equals(y), `${path.basename(a)} differs from ${b}: sizes ${x.length}/${y.length}, first differing byte ${first}`);
}

test('--from-file reproduces every fixture image byte for byte', async () => {
  for (const [image, dump, opts] of CASES) {
    const out = path.join(base, `ff-${path.basename(image)}`);
    // --user-xattrs only concerns directories: the dumpfile already holds what was kept
    const r = await tsfuse(['mkcomposefs', '--from-file', ...opts.filter((o) => o !== '--user-xattrs'), dump, out]);
    assert.is(r.status, 0, r.stderr);
    sameBytes(out, image);
  }
});

test('--from-file - reads the dumpfile from stdin', async () => {
  const out = path.join(base, 'stdin.cfs');
  const r = await tsfuse(['mkcomposefs', '--from-file', '-', out], { input: fs.readFileSync(path.join(CFS, 'image.dump')) });
  assert.is(r.status, 0, r.stderr);
  sameBytes(out, path.join(CFS, 'image.cfs'));
});

test('IMAGE - writes the image to stdout', async () => {
  const r = await tsfuse(['mkcomposefs', '--from-file', path.join(CFS, 'image.dump'), '-']);
  assert.is(r.status, 0, r.stderr);
  assert.ok(r.stdout.equals(fs.readFileSync(path.join(CFS, 'image.cfs'))), 'stdout holds the image');
});

test('--print-digest / --print-digest-only print the fs-verity digest of the image', async () => {
  const out = path.join(base, 'digest.cfs');
  const r = await tsfuse(['mkcomposefs', '--from-file', '--print-digest', path.join(CFS, 'image.dump'), out]);
  assert.is(r.status, 0, r.stderr);
  const fsv = await run('fsverity', ['digest', '--hash-alg=sha256', '--block-size=4096', out]);
  const want = fsv.stdout.toString().split(' ')[0]!.replace('sha256:', '');
  assert.is(r.stdout.toString(), `${want}\n`);
  const only = await tsfuse(['mkcomposefs', '--from-file', '--print-digest-only', path.join(CFS, 'image.dump')]);
  assert.is(only.status, 0, only.stderr);
  assert.is(only.stdout.toString(), `${want}\n`);
});

test('a directory rebuilt from each dumpfile gives the fixture image, and the same object store', async () => {
  const trees = new Map<string, string>();
  for (const [image, , opts, srcDump] of CASES) {
    let src = trees.get(srcDump);
    if (!src) {
      src = materializeDump(srcDump, path.join(path.dirname(srcDump), 'objects'), path.join(base, `src-${trees.size}`));
      trees.set(srcDump, src);
    }
    const store = path.join(base, `store-${path.basename(path.dirname(image))}`);
    const out = path.join(base, `dir-${path.basename(image)}`);
    const r = await tsfuse(['mkcomposefs', `--digest-store=${store}`, ...opts, src, out]);
    assert.is(r.status, 0, r.stderr);
    sameBytes(out, image);
    const diff = await run('diff', ['-r', store, path.join(path.dirname(image), 'objects')], { check: false });
    assert.is(diff.status, 0, `object store differs: ${diff.stdout.toString().slice(0, 500)}`);
  }
});

test.run();
