// What a remote EROFS image costs to read, counted by the Range server that serves it: reading one file fetches
// that file's blocks and no more (read-ahead stops at the end of the file's extent instead of running into the
// next file's blocks), and a cold `tar` of the whole tree fetches the image about once. Needs root.

import * as fs from 'node:fs';
import * as path from 'node:path';
import { randomBytes } from 'node:crypto';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { buildImage, generateTree } from '../erofs/kit/index.js';
import { Timings, withErofsMount } from '../erofs/conformance/mount.js';
import { run } from '../helpers/client.js';
import { startRangeServer, tempDir } from './servers/index.js';

/** RemoteByteSource's default block: the unit a fetch is rounded to. */
const BLOCK = 256 * 1024;
const FILE = 4 << 20;

const work = tempDir('tsfuse-remote-ra-');
const served = path.join(work, 'served');
const image = path.join(served, 'image.erofs');
const timings = new Timings('remote read-ahead');
let http: Awaited<ReturnType<typeof startRangeServer>>;

test.before(async () => {
  const tree = path.join(work, 'tree');
  generateTree(tree, { scale: 'small', seed: 'readahead' });
  fs.mkdirSync(path.join(tree, 'big'));
  for (let i = 0; i < 6; i++) fs.writeFileSync(path.join(tree, 'big', `blob-${i}`), randomBytes(FILE));
  fs.mkdirSync(served);
  await buildImage(tree, image);
  http = await startRangeServer(served);
});

test.after(async () => {
  await http?.stop();
  fs.rmSync(work, { recursive: true, force: true });
  timings.print();
});

async function served_(): Promise<number> {
  return (await http.stats()).bytes;
}

for (const workers of [1, 2]) {
  test(`${workers} worker(s): one 4 MiB file costs its own blocks; a cold tar costs the image about once`, async () => {
    const cacheDir = tempDir('tsfuse-cache-');
    const size = fs.statSync(image).size;
    const start = await served_();
    try {
      await withErofsMount({ image: `${http.url}/image.erofs`, workers, remote: { cacheDir } }, async (h) => {
        assert.is((await run('ls', ['-l', h.mnt, path.join(h.mnt, 'big')])).code, 0);
        const before = await served_();
        const cat = await run('sh', ['-c', `cat '${h.mnt}/big/blob-3' | wc -c`]);
        assert.is(cat.stdout.trim(), String(FILE));
        const one = (await served_()) - before;
        timings.note(`${workers} worker(s): cat of a ${FILE >> 20} MiB file fetched ${(one / 1048576).toFixed(2)} MiB`);
        // The file's blocks, one more when it does not start on a block boundary.
        assert.ok(one <= FILE + BLOCK, `one file cost ${one} bytes`);
        const tar = await run('sh', ['-c', `tar -cf - -C '${h.mnt}' . | cat > /dev/null`], { timeoutMs: 300_000 });
        assert.is(tar.code, 0, tar.stderr);
        const all = (await served_()) - start;
        timings.note(`${workers} worker(s): mount, ls, cat and a cold tar fetched ${(all / 1048576).toFixed(1)} MiB of a ${(size / 1048576).toFixed(1)} MiB image (client: ${h.m.remoteStats?.()})`);
        assert.ok(all <= size * 1.02, `the tree cost ${all} bytes of a ${size}-byte image`);
      });
    } finally {
      fs.rmSync(cacheDir, { recursive: true, force: true });
    }
  });
}

test.run();
