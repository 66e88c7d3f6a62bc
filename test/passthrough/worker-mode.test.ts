// The passthrough filesystem served in worker mode (passthroughModule, what `tsfuse passthrough` serves by
// default): one worker blocking in read(2), the filesystem in that worker. The rest of test/passthrough/ mounts
// the same class in embedded mode; these checks cover what the hosting changes: a lock wait (a Promise) must
// not hold up the requests that end it, an interrupted wait answers EINTR, FORGET closes the fds the worker
// cached, and an unlinked open file stays usable.

import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import fs from 'node:fs';
import path from 'node:path';
import { passthroughModule, PASSTHROUGH_MODULE_WANT } from '../../src/fs/passthrough/index.js';
import { withMount, type MountedTest } from '../helpers/mount.js';
import { inPython, startPython, type PyProcess } from '../helpers/python.js';
import { makeSource, removeSource } from '../helpers/passthrough.js';

const t = suite('passthrough in worker mode');

async function mountedWorker<T>(fn: (m: MountedTest & { src: string }) => Promise<T>): Promise<T> {
  const src = makeSource('tsfuse-ptw-');
  try {
    return await withMount(
      passthroughModule({ source: src }),
      { fsname: src, subtype: 'passthrough', options: ['allow_other'], passthrough: true, entryTimeout: 86400, attrTimeout: 86400, want: ['EXPORT_SUPPORT', 'HANDLE_KILLPRIV_V2', ...PASSTHROUGH_MODULE_WANT], timeoutMs: 60_000 },
      (m) => fn({ ...m, src }),
    );
  } finally {
    removeSource(src);
  }
}

/** This process's fds (the worker is a thread of it) that reach files under `dir`. */
function fdsUnder(dir: string): number {
  let n = 0;
  for (const f of fs.readdirSync('/proc/self/fd')) {
    try {
      if (fs.readlinkSync(`/proc/self/fd/${f}`).startsWith(dir + '/')) n++;
    } catch {
      // closed meanwhile (readdir's own fd)
    }
  }
  return n;
}

/** A process (through the mount) that takes an exclusive POSIX lock on `lockfile`, creates `held`, and sleeps. */
function holdLock(m: MountedTest & { src: string }): PyProcess<string> {
  fs.writeFileSync(path.join(m.src, 'lockfile'), '');
  return startPython<string>(m.mnt, `
    import fcntl, time
    a = open(P('lockfile'), 'r+')
    fcntl.lockf(a, fcntl.LOCK_EX)
    open(P('held'), 'w').close()
    time.sleep(30)
    return 'slept'
  `);
}

async function until(what: string, cond: () => boolean, ms = 10_000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out waiting until ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

t('a waiting POSIX lock and flock do not hold up the requests of the process that holds them', async () => {
  await mountedWorker(async (m) => {
    const r = await inPython<Record<string, unknown>>(m.mnt, `
      import fcntl, subprocess, time
      p = P('lockfile')
      open(p, 'w').close()
      a = open(p, 'r+')
      fcntl.lockf(a, fcntl.LOCK_EX)
      h = open(p, 'r')
      fcntl.flock(h, fcntl.LOCK_EX)
      child = '; '.join(['import fcntl, sys', 'f = open(sys.argv[1], "r+")', 'fcntl.lockf(f, fcntl.LOCK_EX)', 'print("posix", flush=True)',
                         'g = open(sys.argv[1], "r")', 'fcntl.flock(g, fcntl.LOCK_EX)', 'print("flock", flush=True)'])
      b = subprocess.Popen([sys.executable, '-c', child, p], stdout=subprocess.PIPE, text=True)
      time.sleep(0.3)
      # B waits in SETLKW; the holder keeps using the mount meanwhile, then lets go of one lock after the other
      for i in range(40):
          os.stat(P())
          os.listdir(P())
          open(P('x%d' % i), 'w').close()
      served = len(os.listdir(P()))
      fcntl.lockf(a, fcntl.LOCK_UN)
      first = b.stdout.readline().strip()
      time.sleep(0.2)
      waiting = b.poll() is None
      fcntl.flock(h, fcntl.LOCK_UN)
      second = b.stdout.readline().strip()
      return {'served': served, 'first': first, 'waitedForFlock': waiting, 'second': second, 'exit': b.wait(timeout=20)}
    `, { timeoutMs: 30_000 });
    assert.equal(r, { served: 41, first: 'posix', waitedForFlock: true, second: 'flock', exit: 0 });
  });
});

t('a lock wait interrupted by a signal fails with EINTR and the mount goes on', async () => {
  await mountedWorker(async (m) => {
    const holder = holdLock(m);
    try {
      await until('the holder has the lock', () => fs.existsSync(path.join(m.src, 'held')));
      const r = await inPython<Record<string, unknown>>(m.mnt, `
        import fcntl, signal, time
        class Alarm(Exception):
            pass
        def on_alarm(sig, frame):
            raise Alarm()
        signal.signal(signal.SIGALRM, on_alarm)
        f = open(P('lockfile'), 'r+')
        signal.setitimer(signal.ITIMER_REAL, 0.3)
        t0 = time.time()
        try:
            fcntl.lockf(f, fcntl.LOCK_EX)
            got = 'locked'
        except Alarm:
            got = 'interrupted'
        waited = time.time() - t0
        return {'got': got, 'waitedEnough': waited >= 0.25, 'afterwards': sorted(os.listdir(P()))}
      `, { timeoutMs: 20_000 });
      assert.equal(r, { got: 'interrupted', waitedEnough: true, afterwards: ['held', 'lockfile'] });
    } finally {
      holder.kill();
      await holder.result.catch(() => undefined);
    }
  });
});

t('an aborted connection with a lock wait pending: the worker ends', async () => {
  await mountedWorker(async (m) => {
    const holder = holdLock(m);
    const waiter = startPython<string>(m.mnt, `
      import fcntl
      while not os.path.exists(P('held')):
          time.sleep(0.02)
      f = open(P('lockfile'), 'r+')
      open(P('waiting'), 'w').close()
      fcntl.lockf(f, fcntl.LOCK_EX)
      return 'locked'
    `);
    // both fail once the connection is aborted: settled from the start
    const held = holder.result.catch(() => undefined);
    const waited = waiter.result.then(() => 'locked', (e: { code?: string }) => e.code);
    try {
      await until('the waiter waits', () => fs.existsSync(path.join(m.src, 'waiting')));
      await new Promise((r) => setTimeout(r, 200));
      assert.ok(m.session.abort(), 'aborted through fusectl');
      const ended = await Promise.race([m.session.closed.then(() => true), new Promise<boolean>((r) => setTimeout(() => r(false), 10_000))]);
      assert.ok(ended, 'the serving worker ended within 10 s of the abort');
      assert.is(await waited, 'ECONNABORTED', 'the waiting lock failed with the connection');
    } finally {
      holder.kill();
      waiter.kill();
      await Promise.all([held, waited]);
    }
  });
});

t('FORGET of unlinked files closes the fds the worker cached for them', async () => {
  await mountedWorker(async (m) => {
    const before = fdsUnder(m.src);
    // chmod by name caches an O_PATH fd per file (fd-cache.ts)
    await inPython(m.mnt, `
      for i in range(50):
          open(P('f%d' % i), 'w').close()
          os.chmod(P('f%d' % i), 0o600)
      return 0
    `);
    const cached = fdsUnder(m.src) - before;
    assert.ok(cached >= 50, `the worker holds an fd per changed file (${cached})`);
    await inPython(m.mnt, `
      for i in range(50):
          os.unlink(P('f%d' % i))
      return 0
    `);
    // the kernel sends FORGET once the unlinked inodes are evicted; a stat makes the worker read them
    await until('the fds are closed', () => {
      fs.statSync(m.mnt);
      return fdsUnder(m.src) - before <= 0;
    });
    assert.equal(fs.readdirSync(m.src), []);
  });
});

t('an unlinked open file stays readable, writable and changeable through its fd', async () => {
  await mountedWorker(async (m) => {
    const r = await inPython<unknown[]>(m.mnt, `
      fd = os.open(P('f'), os.O_RDWR | os.O_CREAT, 0o644)
      os.write(fd, b'before')
      os.chmod(P('f'), 0o640)
      os.unlink(P('f'))
      os.write(fd, b' after')
      os.fchmod(fd, 0o600)
      os.ftruncate(fd, 9)
      st = os.fstat(fd)
      out = [os.pread(fd, 100, 0).decode(), st.st_nlink, oct(st.st_mode), os.path.exists(P('f'))]
      os.close(fd)
      return out
    `);
    assert.equal(r, ['before af', 0, '0o100600', false]);
    assert.equal(fs.readdirSync(m.src), []);
  });
});

t.run();
