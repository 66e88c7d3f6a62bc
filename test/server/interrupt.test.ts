// INTERRUPT: a reader blocked in a READ that the filesystem never answers gets a signal; the kernel sends
// INTERRUPT for the request, the server answers it EINTR on the fd it came from, the reader's read(2) fails
// with EINTR, and the session keeps serving. The file is opened with FOPEN_DIRECT_IO so read(2) is one
// synchronous READ request (a page-cache read waits for readahead, which only a fatal signal interrupts).

import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { fileURLToPath } from 'node:url';
import { withMount } from '../helpers/mount.js';
import { startPython, inPython } from '../helpers/python.js';
import { waitFor, wrapFs } from '../helpers/fs-wrappers.js';
import { HelloFs } from '../../src/fs/hello.js';
import { FOPEN } from '../../src/protocol/abi.js';
import type { RequestContext } from '../../src/fs/types.js';
import { SLOW_INTERRUPTED, SLOW_PID, SLOW_STARTED, SLOW_WORDS } from './fixtures/slow-fs.js';

const SLOW_MODULE = fileURLToPath(new URL('./fixtures/slow-fs.js', import.meta.url));

// The child installs a SIGUSR1 handler and blocks in read(2) on /slow. `raw`: read through ctypes (no retry),
// so the syscall's own result shows: -1 with errno EINTR. Otherwise os.read with a handler that raises,
// which is how a Python program sees it (PEP 475 retries EINTR only when the handler returns).
const CHILD_RAW = `
  got = []
  signal.signal(signal.SIGUSR1, lambda s, f: got.append(s))
  libc = ctypes.CDLL(None, use_errno=True)
  fd = os.open(P('slow'), os.O_RDONLY)
  buf = ctypes.create_string_buffer(4096)
  t0 = time.monotonic()
  r = libc.read(fd, buf, 4096)
  e = ctypes.get_errno()
  os.close(fd)
  return {'ret': r, 'errno': errno.errorcode.get(e) if r < 0 else None, 'signals': got, 'secs': time.monotonic() - t0}
`;
const CHILD_RAISING = `
  class Interrupted(Exception):
      pass
  def handler(s, f):
      raise Interrupted()
  signal.signal(signal.SIGUSR1, handler)
  fd = os.open(P('slow'), os.O_RDONLY)
  try:
      os.read(fd, 4096)
      return 'read returned'
  except Interrupted:
      return 'interrupted'
  finally:
      os.close(fd)
`;

function slowEmbeddedFs() {
  const hello = new HelloFs({ files: { 'hello.txt': 'Hello, world!\n', slow: 'you should not read this\n' } });
  const slowIno = hello.lookup({} as RequestContext, 1, 'slow').ino;
  const pending: { ctx: RequestContext; pid: number; sawInterrupt: boolean }[] = [];
  const { fs } = wrapFs(hello, {
    open: (ctx: RequestContext, ino: number, flags: number) => ({ ...hello.open(ctx, ino, flags), flags: ino === slowIno ? FOPEN.DIRECT_IO : 0 }),
    read: (ctx: RequestContext, ino: number, fh: number, off: number, size: number) => {
      if (ino !== slowIno) return hello.read(ctx, ino, fh, off, size);
      const rec = { ctx, pid: ctx.pid, sawInterrupt: false };
      pending.push(rec);
      // never settles; only watches ctx.interrupted
      return new Promise<Uint8Array>(() => {
        const t = setInterval(() => {
          if (ctx.interrupted) {
            rec.sawInterrupt = true;
            clearInterval(t);
          }
        }, 5);
        t.unref();
      });
    },
  });
  return { fs, pending };
}

// embedded mode over the poll transport (the default), and over 1 and 2 reader threads
for (const [label, opts] of [
  ['polled', { workers: 1 }],
  ['1 reader thread', { workers: 1, embeddedTransport: 'threads' }],
  ['2 reader threads', { workers: 2, embeddedTransport: 'threads' }],
] as const) {
  test(`embedded mode, ${label}: SIGUSR1 during a never-answered READ gives EINTR`, async () => {
    const { fs, pending } = slowEmbeddedFs();
    const logs: string[] = [];
    await withMount(fs, { ...opts, log: (m) => logs.push(m), timeoutMs: 30_000 }, async ({ mnt }) => {
      // 1: the raw syscall result
      const raw = startPython<Record<string, unknown>>(mnt, CHILD_RAW, { timeoutMs: 20_000 });
      await waitFor(() => pending.length === 1, 10_000, 'the READ of /slow');
      assert.is(pending[0]!.pid, raw.pid);
      await new Promise((r) => setTimeout(r, 100)); // let it sit blocked a moment
      raw.kill('SIGUSR1');
      const r1 = await raw.result;
      assert.is(r1.ret, -1);
      assert.is(r1.errno, 'EINTR');
      assert.equal(r1.signals, [10]);
      assert.ok((r1.secs as number) < 10);
      await waitFor(() => pending[0]!.sawInterrupt, 5000, 'ctx.interrupted in the handler');
      assert.ok(pending[0]!.ctx.interrupted);

      // 2: a Python program whose handler raises
      const py = startPython<string>(mnt, CHILD_RAISING, { timeoutMs: 20_000 });
      await waitFor(() => pending.length === 2, 10_000, 'the second READ of /slow');
      py.kill('SIGUSR1');
      assert.is(await py.result, 'interrupted');
      await waitFor(() => pending[1]!.sawInterrupt, 5000, 'ctx.interrupted in the second handler');

      // the session still serves
      assert.is(await inPython<string>(mnt, `return open(P('hello.txt')).read()`), 'Hello, world!\n');
    });
    assert.not.ok(logs.some((l) => /fail|error/i.test(l)), logs.join('\n'));
  });
}

test('worker mode, 2 workers: the INTERRUPT read by one worker reaches the handler in the other', async () => {
  const state = new SharedArrayBuffer(SLOW_WORDS * 4);
  const words = new Int32Array(state);
  await withMount({ module: SLOW_MODULE, options: { state } }, { workers: 2, timeoutMs: 30_000 }, async ({ mnt }) => {
    const raw = startPython<Record<string, unknown>>(mnt, CHILD_RAW, { timeoutMs: 20_000 });
    await waitFor(() => Atomics.load(words, SLOW_STARTED) === 1, 10_000, 'the READ of /slow');
    assert.is(Atomics.load(words, SLOW_PID), raw.pid);
    await new Promise((r) => setTimeout(r, 100));
    raw.kill('SIGUSR1');
    const r1 = await raw.result;
    assert.equal([r1.ret, r1.errno], [-1, 'EINTR']);
    await waitFor(() => Atomics.load(words, SLOW_INTERRUPTED) === 1, 5000, 'ctx.interrupted in the worker');

    const py = startPython<string>(mnt, CHILD_RAISING, { timeoutMs: 20_000 });
    await waitFor(() => Atomics.load(words, SLOW_STARTED) === 2, 10_000, 'the second READ of /slow');
    py.kill('SIGUSR1');
    assert.is(await py.result, 'interrupted');
    await waitFor(() => Atomics.load(words, SLOW_INTERRUPTED) === 2, 5000, 'ctx.interrupted in the worker (2)');

    // both workers still serve (several reads so either may take them)
    const texts = await inPython<string[]>(mnt, `return list({open(P('hello.txt')).read() for _ in range(20)})`);
    assert.equal(texts, ['Hello, world!\n']);
  });
});

for (const workers of [1, 2]) {
  test(`worker mode with inFlight 4, ${workers} worker(s): an awaiting READ is interrupted while the worker keeps serving`, async () => {
    const state = new SharedArrayBuffer(SLOW_WORDS * 4);
    const words = new Int32Array(state);
    await withMount({ module: SLOW_MODULE, options: { state }, inFlight: 4 }, { workers, timeoutMs: 30_000 }, async ({ mnt }) => {
      const raw = startPython<Record<string, unknown>>(mnt, CHILD_RAW, { timeoutMs: 20_000 });
      await waitFor(() => Atomics.load(words, SLOW_STARTED) === 1, 10_000, 'the READ of /slow');
      // With one worker too: the pending READ does not hold it.
      assert.is(await inPython<string>(mnt, `return open(P('hello.txt')).read()`), 'Hello, world!\n');
      raw.kill('SIGUSR1');
      const r1 = await raw.result;
      assert.equal([r1.ret, r1.errno], [-1, 'EINTR']);
      await waitFor(() => Atomics.load(words, SLOW_INTERRUPTED) === 1, 5000, 'ctx.interrupted in the worker');
      assert.is(await inPython<string>(mnt, `return open(P('hello.txt')).read()`), 'Hello, world!\n');
    });
  });
}

test.run();
