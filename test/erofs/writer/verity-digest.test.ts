// The writer's streaming fs-verity digest against the reference tool (`fsverity digest`), at sizes around
// the Merkle tree's block and level boundaries, fed in odd-sized pieces.

import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { VerityHasher } from '../../../src/verity/digest.js';
import { run } from '../kit/index.js';

const base = fs.mkdtempSync(path.join(os.tmpdir(), 'tsfuse-verity-'));
test.after(() => fs.rmSync(base, { recursive: true, force: true }));

const SIZES = [0, 1, 4095, 4096, 4097, 128 * 4096, 128 * 4096 + 1, 128 * 128 * 4096, 128 * 128 * 4096 + 4097, 3_000_001];

test('digests equal fsverity digest --hash-alg=sha256 --block-size=4096', async () => {
  for (const size of SIZES) {
    const data = Buffer.alloc(size);
    for (let i = 0; i < size; i++) data[i] = (i * 131 + (i >> 12)) & 0xff;
    const file = path.join(base, `f${size}`);
    fs.writeFileSync(file, data);
    const h = new VerityHasher();
    for (let off = 0; off < size; off += 10_007) h.update(data.subarray(off, Math.min(size, off + 10_007)));
    const ours = h.digest().toString('hex');
    const r = await run('fsverity', ['digest', '--hash-alg=sha256', '--block-size=4096', file]);
    assert.is(`sha256:${ours}`, r.stdout.toString().split(' ')[0], `size ${size}`);
    fs.unlinkSync(file);
  }
});

test.run();
