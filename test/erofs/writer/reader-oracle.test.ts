// Images from tsfuse erofs build served by tsfuse's own EROFS reader over FUSE must dump exactly like the
// kernel's mount of the same image (the reader is an independent decoder of what the writer wrote; the
// kernel stays the oracle).

import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { assertSameDump, assertSubstantial, kernelDump, tsfuseDump } from '../conformance/oracle.js';
import { generateTree } from '../kit/index.js';
import { tsfuse } from './helpers.js';

const base = fs.mkdtempSync(path.join(os.tmpdir(), 'tsfuse-writer-oracle-'));
const src = generateTree(path.join(base, 'tree'), { seed: 21 }).root;
test.after(() => fs.rmSync(base, { recursive: true, force: true }));

for (const args of [[], ['--chunksize', '8192'], ['-b', '1024']]) {
  test(`erofs build ${args.join(' ') || '(defaults)'}: tsfuse mount dumps like the kernel mount`, async () => {
    const image = path.join(base, `img${args.join('')}.erofs`);
    const r = await tsfuse(['erofs', 'build', src, image, ...args]);
    assert.is(r.status, 0, r.stderr);
    const k = await kernelDump(image);
    const t = await tsfuseDump(image, { workers: 1 });
    assertSubstantial(k, 500, 'kernel');
    assertSameDump(k, t.dump, `erofs build ${args.join(' ')}`);
    assert.equal(t.serverLog, [], 'the reader logged no complaint');
  });
}

test.run();
