// Ending a session: session.unmount() (every serving thread gone afterwards), an external `umount -l`
// (session.closed resolves), and aborting through fusectl (session.abort(), and the test watchdog that uses
// it) when the filesystem hangs: a process stuck in stat(2) then fails with ENOTCONN instead of hanging.

import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { readdirSync, readFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { withMount } from '../helpers/mount.js';
import { run, inChild } from '../helpers/client.js';
import { waitFor, within, wrapFs } from '../helpers/fs-wrappers.js';
import { HelloFs } from '../../src/fs/hello.js';
import { createMemFs } from '../../src/fs/memfs.js';
import type { Filesystem, FilesystemModule, RequestContext } from '../../src/fs/types.js';
import type { Session, SessionOptions } from '../../src/server/session.js';

const HELLO = fileURLToPath(new URL('../../src/fs/hello.js', import.meta.url));

// Threads of this process, without io_uring's kernel workers (iou-wrk-N: in the io_uring pass the serving rings
// punt their /dev/fuse READ to one), which the kernel starts and ends on its own.
const threads = () =>
  readdirSync('/proc/self/task').filter((tid) => {
    try {
      return !readFileSync(`/proc/self/task/${tid}/comm`, 'utf8').startsWith('iou-');
    } catch {
      return false; // ended meanwhile
    }
  }).length;

// libuv's threadpool starts its threads on first use: start them now so they do not count as ours
await readFile('/proc/self/status');

// [name, filesystem, options, threads the session adds]: embedded mode over the poll transport serves from
// this thread (no thread of its own); over reader threads, one per `workers`.
const cases: [string, () => Filesystem | FilesystemModule, Partial<SessionOptions>, number][] = [
  ['embedded, polled', () => createMemFs(), { workers: 1 }, 0],
  ['embedded, 1 reader thread', () => createMemFs(), { workers: 1, embeddedTransport: 'threads' }, 1],
  ['embedded, 3 reader threads', () => createMemFs(), { workers: 3, embeddedTransport: 'threads' }, 3],
  ['worker mode, 2 workers', () => ({ module: HELLO }), { workers: 2 }, 2],
];

for (const [name, make, opts, added] of cases) {
  test(`${name}: session.unmount() resolves and every serving thread is gone`, async () => {
    const before = threads();
    let session!: Session;
    await withMount(make(), { ...opts, timeoutMs: 30_000 }, async (m) => {
      session = m.session;
      assert.is(threads(), before + added);
      await inChild(m.mnt, `return fs.readdirSync(mnt);`);
      const t0 = Date.now();
      await within(session.unmount(), 10_000, 'unmount');
      assert.ok(Date.now() - t0 < 5000, `unmount took ${Date.now() - t0} ms`);
      assert.is(session.alive, false);
      const mounts = await readFile('/proc/self/mountinfo', 'utf8');
      assert.not.ok(mounts.includes(` ${m.mnt} `), 'still in mountinfo');
    });
    await waitFor(() => threads() === before, 3000, `threads back to ${before} (now ${threads()})`);
  });
}

for (const [name, make, opts] of cases) {
  test(`${name}: an external umount -l ends the session (session.closed resolves)`, async () => {
    const before = threads();
    await withMount(make(), { ...opts, timeoutMs: 30_000 }, async ({ mnt, session }) => {
      assert.ok(Array.isArray(await inChild<string[]>(mnt, `return fs.readdirSync(mnt);`)), 'serving');
      const r = await run('umount', ['-l', mnt], { timeoutMs: 10_000 });
      assert.is(r.code, 0, r.stderr);
      await within(session.closed, 10_000, 'session.closed after umount -l');
      assert.is(session.alive, false);
    });
    await waitFor(() => threads() === before, 3000, `threads back to ${before} (now ${threads()})`);
  });
}

/** HelloFs whose GETATTR of /hang never answers (its entry has attr timeout 0, so stat must ask). */
function hangingFs() {
  const hello = new HelloFs({ files: { 'hello.txt': 'Hello, world!\n', hang: 'never\n' } });
  const hangIno = hello.lookup({} as RequestContext, 1, 'hang').ino;
  const stuck: number[] = [];
  const { fs } = wrapFs(hello, {
    lookup: (ctx: RequestContext, p: number, name: string) => {
      const e = hello.lookup(ctx, p, name);
      return e.ino === hangIno ? { ...e, attrTimeout: 0 } : e;
    },
    getattr: (ctx: RequestContext, ino: number) => {
      if (ino !== hangIno) return hello.getattr(ctx, ino);
      stuck.push(ctx.pid);
      return new Promise(() => {});
    },
  });
  return { fs, stuck };
}

// With FUSE_ABORT_ERROR negotiated the request pending at the abort fails with ECONNABORTED; everything after
// it with ENOTCONN.
const ABORTED = /Software caused connection abort|Transport endpoint is not connected/;

for (const transport of ['poll', 'threads'] as const) {
  test(`embedded (${transport}): session.abort() ends a session whose fs hangs: the stuck stat fails (ECONNABORTED), later calls ENOTCONN`, async () => {
    const { fs, stuck } = hangingFs();
    let mountpoint = '';
    await withMount(fs, { workers: 2, embeddedTransport: transport, timeoutMs: 30_000 }, async ({ mnt, session }) => {
      mountpoint = mnt;
      assert.is(await inChild<string>(mnt, `return fs.readFileSync(path.join(mnt, 'hello.txt'), 'utf8');`), 'Hello, world!\n');
      const t0 = Date.now();
      const child = run('stat', ['-c', '%s', `${mnt}/hang`], { timeoutMs: 20_000 });
      await waitFor(() => stuck.length > 0, 10_000, 'the GETATTR of /hang');
      await new Promise((r) => setTimeout(r, 200));
      assert.ok(session.abort(), 'abort found the connection');
      const r = await within(child, 10_000, 'the stuck stat to fail');
      assert.is.not(r.code, 0);
      assert.match(r.stderr, ABORTED);
      assert.ok(Date.now() - t0 < 10_000);
      await within(session.closed, 5000, 'session.closed after abort');
      // the aborted mount answers ENOTCONN until it is unmounted
      const after = await run('stat', [mnt], { timeoutMs: 10_000 });
      assert.match(after.stderr, /Transport endpoint is not connected/);
    });
    // and session.unmount() (withMount's finally) removed the dead mount
    const mounts = await readFile('/proc/self/mountinfo', 'utf8');
    assert.not.ok(mounts.includes(` ${mountpoint} `), 'the aborted mount was left behind');
});
}

test('the test watchdog aborts a hung mount, fails the test and cleans up', async () => {
  const { fs, stuck } = hangingFs();
  let mnt = '';
  const t0 = Date.now();
  let stat: Awaited<ReturnType<typeof run>> | undefined;
  const err = await withMount(fs, { workers: 1, timeoutMs: 1500 }, async (m) => {
    mnt = m.mnt;
    stat = await run('stat', [`${m.mnt}/hang`], { timeoutMs: 20_000 });
  }).then(
    () => undefined,
    (e: Error) => e,
  );
  assert.ok(err, 'withMount rejected');
  assert.match(err!.message, /timed out after 1500 ms/);
  assert.is(stuck.length, 1);
  assert.ok(stat && stat.code !== 0 && ABORTED.test(stat.stderr), JSON.stringify(stat));
  assert.ok(Date.now() - t0 < 10_000, `took ${Date.now() - t0} ms`);
  const mounts = await readFile('/proc/self/mountinfo', 'utf8');
  assert.not.ok(mounts.includes(` ${mnt} `), 'unmounted');
});

test.run();
