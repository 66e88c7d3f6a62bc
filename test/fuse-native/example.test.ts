// fuse-native's example.js (examples/fuse-native-example.cjs: unchanged but for the require line) runs as a
// CommonJS program with require('tsfuse/fuse-native'): mounted, read from another process, unmounted on SIGINT.

import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { inChild } from '../helpers/client.js';
import { REPO, isMounted, withProgram } from './harness.js';

test('example.js: mount, ls and cat from another process, SIGINT unmounts', async () => {
  const source = readFileSync(join(REPO, 'examples', 'fuse-native-example.cjs'), 'utf8');
  await withProgram('example.js', source, async (p, mnt) => {
    await p.line(/^filesystem mounted on /);
    const r = await inChild<Record<string, unknown>>(mnt, `
      const st = fs.statSync(path.join(mnt, 'test'));
      return { ls: fs.readdirSync(mnt), text: fs.readFileSync(path.join(mnt, 'test'), 'utf8'), size: st.size, mode: st.mode.toString(8),
        missing: (() => { try { fs.statSync(path.join(mnt, 'nope')); return 'found'; } catch (e) { return e.code; } })() };
    `);
    assert.equal(r, { ls: ['test'], text: 'hello world\n', size: 12, mode: '100644', missing: 'ENOENT' });
    p.child.kill('SIGINT');
    await p.line(/unmounted$/);
    const { code, stdout } = await p.exited;
    assert.is(code, 0);
    assert.match(stdout, /read\(\/test, 42, \d+, 0\)/);
    assert.not.ok(isMounted(mnt));
  });
});

test.run();
