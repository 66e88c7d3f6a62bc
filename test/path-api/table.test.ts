// The inode<->path table: hardlinks share an inode number (use_ino), lookup counts return to zero after the
// kernel forgets (drop_caches), READDIRPLUS entries count as lookups, and node ids stay stable across renames.

import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { withMount } from '../helpers/mount.js';
import { sh } from '../helpers/client.js';
import { inPython } from '../helpers/python.js';
import { waitFor } from '../helpers/fs-wrappers.js';
import { PathLayer } from '../../src/fs/path/index.js';
import { MemTree } from './memtree.js';

const dropCaches = () => sh('sh', ['-c', 'sync; echo 2 > /proc/sys/vm/drop_caches'], { timeoutMs: 30_000 });

async function dropUntil(done: () => boolean, what: string): Promise<void> {
  const t0 = Date.now();
  while (!done()) {
    if (Date.now() - t0 > 20_000) throw new Error(`timed out waiting for ${what}`);
    await dropCaches();
    await waitFor(done, 500, what).catch(() => undefined);
  }
}

test('hardlinks share an inode number and a link count', async () => {
  const tree = new MemTree();
  await withMount(new PathLayer(tree), { workers: 1, timeoutMs: 60_000, attrTimeout: 0 }, async ({ mnt }) => {
    const r = await inPython<Record<string, unknown>>(mnt, `
      with open(P('a'), 'w') as f: f.write('shared')
      os.link(P('a'), P('b'))
      sa, sb = os.stat(P('a')), os.stat(P('b'))
      with open(P('b'), 'a') as f: f.write('!')
      return {'same': sa.st_ino == sb.st_ino, 'nlink': sb.st_nlink, 'text': open(P('a')).read()}
    `);
    assert.equal(r, { same: true, nlink: 2, text: 'shared!' });
  });
});

for (const withAttrs of [false, true]) {
  test(`lookup counts return to zero after FORGET (readdir ${withAttrs ? 'with attributes: READDIRPLUS' : 'names only'})`, async () => {
    const tree = new MemTree({ withAttrs });
    const layer = new PathLayer(tree);
    await withMount(layer, { workers: 1, timeoutMs: 90_000, entryTimeout: 3600, attrTimeout: 3600 }, async ({ mnt }) => {
      const n = await inPython<number>(mnt, `
        os.mkdir(P('d'))
        for i in range(100):
            open(P('d', 'f%03d' % i), 'w').close()
        os.rename(P('d', 'f000'), P('d', 'g000'))
        return len([e for e in os.scandir(P('d')) if e.stat().st_size == 0])
      `);
      assert.is(n, 100);
      assert.ok(layer.nodeCount >= 101, `nodes ${layer.nodeCount}`);
      assert.ok(layer.lookupCount('/d/g000') > 0);
      await dropUntil(() => layer.nodeCount === 0, `an empty table (have ${layer.nodeCount})`);
      assert.is(layer.lookupCount('/d'), 0);
    });
  });
}

test.run();
