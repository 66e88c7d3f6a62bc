import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { withMount } from '../helpers/mount.js';
import { inChild } from '../helpers/client.js';
import { createMemFs } from '../../src/fs/memfs.js';

test('memfs embedded: write then read back from another process', async () => {
  await withMount(createMemFs(), { workers: 2, fsname: 'memfs', subtype: 'memfs', timeoutMs: 30_000 }, async ({ mnt }) => {
    const r = await inChild<string>(mnt, `
      fs.writeFileSync(path.join(mnt, 'a.txt'), 'hello');
      fs.mkdirSync(path.join(mnt, 'd'));
      return fs.readFileSync(path.join(mnt, 'a.txt'), 'utf8') + ':' + fs.readdirSync(mnt).sort().join(',');
    `);
    assert.is(r, 'hello:a.txt,d');
  });
});

test.run();
