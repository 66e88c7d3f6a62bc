// The path-API examples run as programs (examples/hello-path.mjs, examples/mirror.mjs, importing 'tsfuse'
// through a linked node_modules), checked from another process, stopped with SIGINT.

import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdtempSync, readFileSync, rmSync, writeFileSync, mkdirSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { inChild } from '../helpers/client.js';
import { REPO, isMounted, withProgram } from '../fuse-native/harness.js';

const source = (name: string) => readFileSync(join(REPO, 'examples', name), 'utf8');

test('hello-path.mjs', async () => {
  await withProgram('hello.mjs', source('hello-path.mjs'), async (p, mnt) => {
    await p.line(/^mounted on /);
    const r = await inChild(mnt, `return { ls: fs.readdirSync(mnt), text: fs.readFileSync(path.join(mnt, 'hello.txt'), 'utf8') }`);
    assert.equal(r, { ls: ['hello.txt'], text: 'Hello, world!\n' });
    p.child.kill('SIGINT');
    assert.is((await p.exited).code, 0);
    assert.not.ok(isMounted(mnt));
  }, { args: ['mnt'] });
});

test('mirror.mjs: reads, writes, renames, links and symlinks reach the mirrored directory', async () => {
  const src = mkdtempSync(join(tmpdir(), 'tsfuse-mirror-src-'));
  try {
    writeFileSync(join(src, 'a.txt'), 'alpha');
    mkdirSync(join(src, 'sub'));
    symlinkSync('a.txt', join(src, 'link'));
    await withProgram('mirror.mjs', source('mirror.mjs'), async (p, mnt) => {
      await p.line(/^mirroring /);
      const r = await inChild<Record<string, unknown>>(mnt, `
        const P = (n) => path.join(mnt, n);
        fs.writeFileSync(P('sub/new'), 'written through the mirror');
        fs.renameSync(P('sub/new'), P('moved'));
        fs.linkSync(P('moved'), P('hard'));
        fs.appendFileSync(P('a.txt'), '+');
        return { ls: fs.readdirSync(mnt).sort(), a: fs.readFileSync(P('a.txt'), 'utf8'), link: fs.readlinkSync(P('link')),
          viaLink: fs.readFileSync(P('link'), 'utf8'), sameIno: fs.statSync(P('moved')).ino === fs.statSync(P('hard')).ino };
      `);
      assert.equal(r, { ls: ['a.txt', 'hard', 'link', 'moved', 'sub'], a: 'alpha+', link: 'a.txt', viaLink: 'alpha+', sameIno: true });
      assert.is(readFileSync(join(src, 'moved'), 'utf8'), 'written through the mirror');
      p.child.kill('SIGINT');
      assert.is((await p.exited).code, 0);
    }, { args: [src, 'mnt'] });
  } finally {
    rmSync(src, { recursive: true, force: true });
  }
});

test.run();
