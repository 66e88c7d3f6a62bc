// FORGET / BATCH_FORGET: every lookup the filesystem hands out (LOOKUP, CREATE, MKDIR, READDIRPLUS entries)
// comes back through forget once the kernel drops its inodes (here: drop_caches), and the server never answers
// a FORGET (the debug trace shows no reply for their uniques, and nothing is logged as failed).

import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { withMount } from '../helpers/mount.js';
import { sh } from '../helpers/client.js';
import { inPython } from '../helpers/python.js';
import { waitFor, wrapFs } from '../helpers/fs-wrappers.js';
import { createMemFs } from '../../src/fs/memfs.js';
import { lookupCounters } from './fixtures/counting-memfs.js';

const N = 300;

const dropCaches = () => sh('sh', ['-c', 'sync; echo 2 > /proc/sys/vm/drop_caches'], { timeoutMs: 30_000 });

/** drop_caches until `done()` (dentries go leaves first, so a parent may need another pass). */
async function dropUntil(done: () => boolean, what: string, timeoutMs = 20_000): Promise<void> {
  const t0 = Date.now();
  while (!done()) {
    if (Date.now() - t0 > timeoutMs) throw new Error(`timed out waiting for ${what}`);
    await dropCaches();
    await waitFor(done, 500, what).catch(() => undefined);
  }
}

for (const readers of [1, 2]) {
  test(`embedded, ${readers} reader(s): forget gives back exactly the lookups handed out, unanswered`, async () => {
    const memfs = createMemFs({ entryTimeout: 3600, attrTimeout: 3600 });
    let handed = 0;
    let forgotten = 0;
    let forgetCalls = 0;
    const { fs } = wrapFs(memfs, lookupCounters(memfs, () => handed++, (n) => {
      forgetCalls++;
      forgotten += n;
    }));
    const logs: string[] = [];
    await withMount(fs, { workers: readers, debug: true, log: (m) => logs.push(m), entryTimeout: 3600, attrTimeout: 3600, timeoutMs: 90_000 }, async ({ mnt }) => {
      // CREATE x N and MKDIR: N + 1 lookups
      await inPython(mnt, `
        os.mkdir(P('d'))
        for i in range(${N}):
            os.close(os.open(P('d', 'f%03d' % i), os.O_CREAT | os.O_WRONLY, 0o644))
      `);
      // (more if someone else's drop_caches evicted /d meanwhile and it was looked up again)
      assert.ok(handed >= N + 1, `handed ${handed}`);
      await dropUntil(() => forgotten === handed, `forgets summing to ${handed} (have ${forgotten})`);

      // LOOKUP x (N + 1) from a cold cache
      const h1 = handed;
      const sizes = await inPython<number>(mnt, `return sum(os.stat(P('d', 'f%03d' % i)).st_size + 1 for i in range(${N}))`);
      assert.is(sizes, N);
      assert.ok(handed - h1 >= N + 1, `handed ${handed - h1}`);
      await dropUntil(() => forgotten === handed, `forgets summing to ${handed} (have ${forgotten})`);
      assert.is(forgotten, handed);

      // READDIRPLUS entries count as lookups too (memfs keeps the count; the wrapper above does not see them)
      const listed = await inPython<number>(mnt, `return len([e for e in os.scandir(P('d')) if e.stat().st_size == 0])`);
      assert.is(listed, N);
      const allZero = () => {
        for (let ino = 2; ino < N + 10; ino++) if (memfs.lookupCount(ino) !== 0) return false;
        return true;
      };
      await dropUntil(allZero, 'every lookup count back to 0');
      assert.ok(forgetCalls > 0);
    });

    // never answered: no reply line for any FORGET/BATCH_FORGET unique
    const forgetUniques = new Set<string>();
    let batches = 0;
    for (const l of logs) {
      const m = /^tsfuse: unique (\d+) (BATCH_FORGET|FORGET) /.exec(l);
      if (m) forgetUniques.add(m[1]!);
      if (m?.[2] === 'BATCH_FORGET') batches++;
    }
    assert.ok(forgetUniques.size > 0, 'the trace shows FORGET/BATCH_FORGET requests');
    assert.ok(batches > 0, 'hundreds of forgets at once travel as BATCH_FORGET');
    const replied = logs.filter((l) => {
      const m = /^ {3}unique (\d+): /.exec(l);
      return m !== null && forgetUniques.has(m[1]!);
    });
    assert.equal(replied, []);
    assert.not.ok(logs.some((l) => /failed|malformed/.test(l)), logs.filter((l) => /failed|malformed/.test(l)).join('\n'));
  });
}

test.run();
