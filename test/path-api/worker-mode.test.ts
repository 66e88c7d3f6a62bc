// Worker mode: the path layer and the filesystem live in one worker thread (pathWorkerModule); a mount with
// more than one worker is refused before anything is mounted. Embedded mode is what the other tests use.

import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { fileURLToPath } from 'node:url';
import { mkdtempSync, readFileSync, rmdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { withMount } from '../helpers/mount.js';
import { inPython } from '../helpers/python.js';
import { Session } from '../../src/server/session.js';
import { pathWorkerModule } from '../../src/fs/path/index.js';

const MEMTREE = fileURLToPath(new URL('./memtree.js', import.meta.url));

test('worker mode, 1 worker: create, read, rename and unlink while open', async () => {
  const mod = pathWorkerModule({ module: MEMTREE, options: { files: { 'hello.txt': 'hi from a worker\n' } } });
  await withMount(mod, { workers: 1, timeoutMs: 60_000 }, async ({ mnt }) => {
    const r = await inPython<Record<string, unknown>>(mnt, `
      hello = open(P('hello.txt')).read()
      with open(P('x'), 'w') as f: f.write('x')
      fd = os.open(P('x'), os.O_RDONLY)
      os.rename(P('hello.txt'), P('x'))
      old = os.pread(fd, 10, 0).decode()
      os.close(fd)
      return {'hello': hello, 'old': old, 'x': open(P('x')).read(), 'ls': sorted(os.listdir(mnt))}
    `);
    assert.equal(r, { hello: 'hi from a worker\n', old: 'x', x: 'hi from a worker\n', ls: ['x'] });
  });
});

test('worker mode, 2 workers: refused before mounting', async () => {
  const mnt = mkdtempSync(join(tmpdir(), 'tsfuse-pathw-'));
  try {
    let msg = '';
    await Session.mount(pathWorkerModule({ module: MEMTREE }), { mountpoint: mnt, workers: 2 }).then(
      async (s) => { await s.unmount(); },
      (e: Error) => { msg = e.message; },
    );
    assert.match(msg, /one worker/);
    assert.not.ok(readFileSync('/proc/mounts', 'utf8').includes(mnt), 'nothing mounted');
  } finally {
    rmdirSync(mnt);
  }
});

test.run();
