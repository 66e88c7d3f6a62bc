// FUSE over io_uring (SessionOptions.ioUring, worker mode): real mounts with the fuse module's enable_uring
// switched on for the test (and put back after). Checked from separate processes: the file operations work,
// the session's counters show they came over the ring entries (not /dev/fuse reads), FORGET and INTERRUPT
// (which the kernel still sends through /dev/fuse) reach the filesystem, unmount and abort with a reader
// blocked in the filesystem do not hang, and with enable_uring off the session says so once and serves the
// fd path.

import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawn } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { withMount } from '../helpers/mount.js';
import { sh } from '../helpers/client.js';
import { inPython, startPython } from '../helpers/python.js';
import { waitFor, within } from '../helpers/fs-wrappers.js';
import { SLOW_INTERRUPTED, SLOW_STARTED, SLOW_WORDS } from './fixtures/slow-fs.js';
import { COUNT_FORGOTTEN, COUNT_HANDED, COUNT_WORDS } from './fixtures/counting-memfs.js';

const PARAM = '/sys/module/fuse/parameters/enable_uring';
const MEMFS = fileURLToPath(new URL('../../src/fs/memfs.js', import.meta.url));
const HELLO = fileURLToPath(new URL('../../src/fs/hello.js', import.meta.url));
const SLOW = fileURLToPath(new URL('./fixtures/slow-fs.js', import.meta.url));
const COUNTING = fileURLToPath(new URL('./fixtures/counting-memfs.js', import.meta.url));

/** Runs fn with the fuse module's enable_uring set to `value`, restoring what it was. */
async function withEnableUring<T>(value: 'Y' | 'N', fn: () => Promise<T>): Promise<T> {
  const before = readFileSync(PARAM, 'utf8').trim();
  writeFileSync(PARAM, value);
  try {
    return await fn();
  } finally {
    writeFileSync(PARAM, before);
  }
}

const ABORTED = /ECONNABORTED|ENOTCONN|connection abort|not connected/i;

if (!existsSync(PARAM)) {
  // A kernel without FUSE io_uring (before 6.14, or CONFIG_FUSE_IO_URING off): only the fallback applies.
  process.stdout.write(`io-uring.test: ${PARAM} is missing, this kernel has no FUSE over io_uring; testing the fallback only\n`);
} else {
  test('memfs over io_uring, 1 worker serving every queue: file operations from another process, all over the ring', async () => {
    await withEnableUring('Y', async () => {
      const logs: string[] = [];
      await withMount({ module: MEMFS, options: { entryTimeout: 0, attrTimeout: 0 } }, { workers: 1, ioUring: true, log: (m) => logs.push(m), timeoutMs: 60_000 }, async ({ mnt, session }) => {
        assert.is(session.transport, 'io_uring');
        const r = await inPython<Record<string, unknown>>(mnt, `
          data = bytes((i * 7) % 251 for i in range(3 * 1024 * 1024 + 123))
          os.mkdir(P('d'))
          with open(P('d', 'big'), 'wb') as f:
              f.write(data)
          with open(P('d', 'small'), 'w') as f:
              f.write('hello ring\\n')
          os.symlink('small', P('d', 'link'))
          with open(P('d', 'big'), 'rb') as f:
              back = f.read()
          names = sorted(os.listdir(P('d')))
          st = os.stat(P('d', 'big'))
          os.unlink(P('d', 'small'))
          after = sorted(os.listdir(P('d')))
          return {'same': back == data, 'names': names, 'size': st.st_size, 'after': after,
                  'link': os.readlink(P('d', 'link')), 'small': os.path.exists(P('d', 'small'))}
        `);
        assert.equal(r, { same: true, names: ['big', 'link', 'small'], size: 3 * 1024 * 1024 + 123, after: ['big', 'link'], link: 'small', small: false });
        // uncached: every stat asks the server (LOOKUP + GETATTR); every one of them must come over the ring
        const before = session.uringCounts();
        await inPython(mnt, `
          for i in range(200):
              os.stat(P('d', 'big'))
        `);
        const after = session.uringCounts();
        assert.ok(after.ring - before.ring >= 200, `ring requests ${before.ring} -> ${after.ring}`);
        assert.is(after.registerFailed, 0);
      });
      assert.equal(logs, []);
    });
  });

  test('two workers, one queue each (one per CPU): clients pinned to every CPU are answered over the ring', async () => {
    await withEnableUring('Y', async () => {
      await withMount({ module: HELLO }, { workers: 2, ioUring: true, ioUringDepth: 4, entryTimeout: 0, attrTimeout: 0, timeoutMs: 60_000 }, async ({ mnt, session }) => {
        assert.is(session.transport, 'io_uring');
        const cpus = (await sh('nproc', ['--all'])).trim();
        for (let cpu = 0; cpu < Number(cpus); cpu++) {
          const before = session.uringCounts().ring;
          const out = await sh('taskset', ['-c', String(cpu), 'sh', '-c', `for i in 1 2 3 4 5; do cat ${mnt}/hello.txt; done`]);
          assert.is(out, 'Hello, world!\n'.repeat(5));
          assert.ok(session.uringCounts().ring - before >= 5, `CPU ${cpu}: requests over the ring`);
        }
        // each worker is kept on its queues' CPUs (a request is served on the CPU that asked): worker i of 2
        // owns qid i, i+2, ... of the possible CPUs, and one of this process's threads is allowed exactly those
        const lists = readdirSync('/proc/self/task').map((t) => /Cpus_allowed_list:\s*(\S+)/.exec(readFileSync(`/proc/self/task/${t}/status`, 'utf8'))![1]);
        for (let w = 0; w < 2; w++) {
          const qids: number[] = [];
          for (let q = w; q < Number(cpus); q += 2) qids.push(q);
          if (qids.length) assert.ok(lists.includes(qids.join(',')), `a thread kept on CPU ${qids.join(',')}: ${lists.join(' ')}`);
        }
      });
    });
  });

  test('Session.mount with 3 workers returns once every worker serves: a blocking stat from this thread at once is answered', async () => {
    await withEnableUring('Y', async () => {
      await withMount({ module: HELLO }, { workers: 3, ioUring: true, entryTimeout: 0, attrTimeout: 0, timeoutMs: 60_000 }, async ({ mnt, session }) => {
        assert.is(session.transport, 'io_uring');
        // The kernel holds requests until every queue has entries. Were the session ready before its last
        // workers were started, this thread, blocked in the stat below, could never start them: a watchdog
        // in another process (this thread's timers cannot run) then aborts the connection and the stat fails.
        const abort = `/sys/fs/fuse/connections/${session.connectionId}/abort`;
        const watchdog = spawn('sh', ['-c', `sleep 15; echo 1 > ${abort}`], { stdio: 'ignore' });
        const t0 = Date.now();
        let got: string;
        try {
          got = statSync(join(mnt, 'hello.txt')).size === 14 ? 'answered' : 'wrong size';
        } catch (e) {
          got = (e as Error).message;
        } finally {
          watchdog.kill('SIGKILL');
        }
        assert.is(got, 'answered', `after ${Date.now() - t0} ms`);
      });
    });
  });

  test('FORGET (sent through /dev/fuse) reaches the filesystem of a session served over io_uring', async () => {
    await withEnableUring('Y', async () => {
      const state = new SharedArrayBuffer(COUNT_WORDS * 4);
      const words = new Int32Array(state);
      await withMount({ module: COUNTING, options: { state } }, { workers: 1, ioUring: true, timeoutMs: 90_000 }, async ({ mnt, session }) => {
        await inPython(mnt, `
          os.mkdir(P('d'))
          for i in range(100):
              os.close(os.open(P('d', 'f%03d' % i), os.O_CREAT | os.O_WRONLY, 0o644))
        `);
        assert.ok(Atomics.load(words, COUNT_HANDED) >= 101);
        const t0 = Date.now();
        while (Atomics.load(words, COUNT_FORGOTTEN) < Atomics.load(words, COUNT_HANDED)) {
          if (Date.now() - t0 > 30_000) throw new Error(`forgot ${Atomics.load(words, COUNT_FORGOTTEN)} of ${Atomics.load(words, COUNT_HANDED)}`);
          await sh('sh', ['-c', 'sync; echo 2 > /proc/sys/vm/drop_caches'], { timeoutMs: 30_000 });
          await waitFor(() => Atomics.load(words, COUNT_FORGOTTEN) >= Atomics.load(words, COUNT_HANDED), 500, 'forgets').catch(() => undefined);
        }
        assert.is(Atomics.load(words, COUNT_FORGOTTEN), Atomics.load(words, COUNT_HANDED));
        assert.ok(session.uringCounts().device > 0, 'FORGETs came through /dev/fuse');
        assert.is(await inPython<number>(mnt, `return len(os.listdir(P('d')))`), 100);
      });
    });
  });

  for (const workers of [1, 2]) {
    test(`INTERRUPT, ${workers} worker(s): a reader blocked in a ring request gets EINTR, the handler sees ctx.interrupted, the session goes on`, async () => {
      await withEnableUring('Y', async () => {
        const state = new SharedArrayBuffer(SLOW_WORDS * 4);
        const words = new Int32Array(state);
        // inFlight 4: the worker serves other requests while the READ's handler waits (1 = one at a time)
        await withMount({ module: SLOW, options: { state }, inFlight: 4 }, { workers, ioUring: true, timeoutMs: 60_000 }, async ({ mnt, session }) => {
          // with 2 workers the INTERRUPT is read by either worker's /dev/fuse read: by the one serving the
          // READ (answered at once) or by the other (it marks the request; the owner answers EINTR)
          const tries = workers === 1 ? 1 : 4;
          for (let k = 1; k <= tries; k++) {
            const raw = startPython<Record<string, unknown>>(mnt, `
              got = []
              signal.signal(signal.SIGUSR1, lambda s, f: got.append(s))
              libc = ctypes.CDLL(None, use_errno=True)
              fd = os.open(P('slow'), os.O_RDONLY)
              buf = ctypes.create_string_buffer(4096)
              r = libc.read(fd, buf, 4096)
              e = ctypes.get_errno()
              os.close(fd)
              return {'ret': r, 'errno': errno.errorcode.get(e) if r < 0 else None}
            `, { timeoutMs: 20_000 });
            await waitFor(() => Atomics.load(words, SLOW_STARTED) === k, 10_000, 'the READ of /slow');
            const ringBefore = session.uringCounts().ring;
            // other requests are served while the READ's handler waits
            assert.is(await inPython<string>(mnt, `return open(P('hello.txt')).read()`), 'Hello, world!\n');
            assert.ok(session.uringCounts().ring > ringBefore);
            raw.kill('SIGUSR1');
            assert.equal(await raw.result, { ret: -1, errno: 'EINTR' });
            await waitFor(() => Atomics.load(words, SLOW_INTERRUPTED) === k, 5000, 'ctx.interrupted in the handler');
          }
          const texts = await inPython<string[]>(mnt, `return list({open(P('hello.txt')).read() for _ in range(20)})`);
          assert.equal(texts, ['Hello, world!\n']);
        });
      });
    });
  }

  for (const how of ['unmount', 'abort'] as const) {
    test(`${how} with a reader blocked in a ring request does not hang`, async () => {
      await withEnableUring('Y', async () => {
        const state = new SharedArrayBuffer(SLOW_WORDS * 4);
        const words = new Int32Array(state);
        let mountpoint = '';
        await withMount({ module: SLOW, options: { state, giveUpMs: 60_000 } }, { workers: 1, ioUring: true, timeoutMs: 30_000 }, async ({ mnt, session }) => {
          mountpoint = mnt;
          const reader = startPython<string>(mnt, `return open(P('slow'), 'rb').read().decode()`, { timeoutMs: 20_000 });
          const failed = reader.result.then(
            () => 'read returned',
            (e: Error) => e.message,
          );
          await waitFor(() => Atomics.load(words, SLOW_STARTED) === 1, 10_000, 'the READ of /slow');
          const t0 = Date.now();
          if (how === 'unmount') await within(session.unmount({ abortAfterMs: 1000 }), 10_000, 'unmount');
          else {
            assert.ok(session.abort(), 'abort found the connection');
            await within(session.closed, 10_000, 'session.closed after abort');
          }
          assert.ok(Date.now() - t0 < 8000, `took ${Date.now() - t0} ms`);
          assert.is(session.alive, false);
          assert.match(await within(failed, 10_000, 'the blocked reader to fail'), ABORTED);
        });
        const mounts = await readFile('/proc/self/mountinfo', 'utf8');
        assert.not.ok(mounts.includes(` ${mountpoint} `), 'the mount was left behind');
      });
    });
  }
}

test('enable_uring off: the session logs one line and serves /dev/fuse reads', async () => {
  const run = async (): Promise<void> => {
    const logs: string[] = [];
    await withMount({ module: MEMFS }, { workers: 1, ioUring: true, log: (m) => logs.push(m), timeoutMs: 30_000 }, async ({ mnt, session }) => {
      assert.is(session.transport, 'device');
      const r = await inPython<string>(mnt, `
        with open(P('f'), 'w') as f:
            f.write('over the fd\\n')
        return open(P('f')).read()
      `);
      assert.is(r, 'over the fd\n');
      assert.is(session.uringCounts().ring, 0);
    });
    assert.is(logs.length, 1, logs.join('\n'));
    assert.match(logs[0], /does not offer FUSE over io_uring.*serving \/dev\/fuse reads/);
  };
  if (existsSync(PARAM)) await withEnableUring('N', run);
  else await run();
});

test('-o io_uring is taken from the mount options (not passed to the kernel); a bad io_uring_q_depth is refused', async () => {
  const { takeUringOptions } = await import('../../src/server/uring/plan.js');
  const opts = ['ro', 'io_uring', 'allow_other', 'io_uring_q_depth=16'];
  assert.equal(takeUringOptions(opts), { enabled: true, depth: 16 });
  assert.equal(opts, ['ro', 'allow_other']);
  assert.throws(() => takeUringOptions(['io_uring_q_depth=0']), /io_uring_q_depth=0.*1 to 256/);
  assert.throws(() => takeUringOptions(['io_uring_q_depth=x']), /1 to 256/);
});

test('the queues of each worker: one worker owns all (not pinned), N workers own qid ≡ index mod N and are kept on those CPUs', async () => {
  const { uringStartFor } = await import('../../src/server/uring/plan.js');
  const plan = { depth: 8, queues: 4, counters: new SharedArrayBuffer(12) };
  const init = { flags: 0, maxWrite: 128 * 1024 };
  const one = uringStartFor(plan, init, 0, 1);
  assert.equal([one.qids, one.pin], [[0, 1, 2, 3], undefined]);
  assert.equal([0, 1].map((i) => [uringStartFor(plan, init, i, 2).qids, uringStartFor(plan, init, i, 2).pin]), [[[0, 2], [0, 2]], [[1, 3], [1, 3]]]);
  // more workers than queues: the last owns none and is not pinned
  assert.equal([uringStartFor(plan, init, 3, 5).pin, uringStartFor(plan, init, 4, 5).qids, uringStartFor(plan, init, 4, 5).pin], [[3], [], undefined]);
});

test.run();
