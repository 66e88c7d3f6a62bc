// `tsfuse erofs dump IMAGE | tsfuse mkcomposefs --from-file - OUT` gives back IMAGE byte for byte, for an
// image tsfuse mkcomposefs made from a generated tree (and the dumpfile mkcomposefs reads is the one
// composefs-info would print). --threads=1 and --threads=3 give the same bytes.

import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { generateTree, run } from '../kit/index.js';
import { CLI, tsfuse } from './helpers.js';

const base = fs.mkdtempSync(path.join(os.tmpdir(), 'tsfuse-cfsdump-rt-'));
test.after(() => fs.rmSync(base, { recursive: true, force: true }));

test('dump | mkcomposefs --from-file - reproduces the image built from the directory', async () => {
  const info = generateTree(path.join(base, 'tree'), { seed: 9, maxNameLength: 255 });
  const image = path.join(base, 'dir.cfs');
  const r = await tsfuse(['mkcomposefs', info.root, image]);
  assert.is(r.status, 0, r.stderr);
  const again = path.join(base, 'again.cfs');
  const node = process.execPath;
  const p = await run('sh', ['-c', `"${node}" "${CLI}" erofs dump "${image}" | "${node}" "${CLI}" mkcomposefs --from-file - "${again}"`], { check: false, timeoutMs: 300_000 });
  assert.is(p.status, 0, p.stderr);
  const a = fs.readFileSync(image);
  const b = fs.readFileSync(again);
  assert.ok(a.length > 100_000, 'a substantial image');
  assert.ok(a.equals(b), `images differ (${a.length} / ${b.length} bytes)`);
  // the digests are computed on several threads: the image must not depend on how many
  for (const t of ['1', '3']) {
    const out = path.join(base, `threads-${t}.cfs`);
    const r2 = await tsfuse(['mkcomposefs', `--threads=${t}`, info.root, out]);
    assert.is(r2.status, 0, r2.stderr);
    assert.ok(fs.readFileSync(out).equals(a), `--threads=${t} gives other bytes`);
  }
});

test.run();
